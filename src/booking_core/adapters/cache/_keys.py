"""The one place Redis keys are built.

Layout, with the tenant as a Redis Cluster hash tag so all of a tenant's keys share one slot
(multi-key commands and scripts then work on a cluster)::

    {prefix}:{<tenant>}:gen                  tenant generation
    {prefix}:{<tenant>}:ns:{namespace}:gen    namespace generation
    {prefix}:{<tenant>}:ns:{namespace}:k:{key}  an entry

Namespaces are ``[a-z0-9_.-]`` (no ``:``), so an entry key can never collide with a generation key.
"""

from __future__ import annotations

import uuid
from typing import Final

from booking_core.errors import ValidationError

__all__ = ["DEFAULT_PREFIX", "KeyBuilder"]

DEFAULT_PREFIX: Final = "booking_core"
_PREFIX_FORBIDDEN: Final = frozenset("{}*?[]\\ \t\r\n")


class KeyBuilder:
    """Builds every Redis key of the cache from a configurable ``prefix``."""

    __slots__ = ("_bases", "prefix")

    _MAX_BASES = 10_000

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        if not prefix or _PREFIX_FORBIDDEN.intersection(prefix):
            raise ValidationError(
                "prefix", f"must be non-empty without braces, glob chars or spaces: {prefix!r}"
            )
        self.prefix = prefix
        # formatting a UUID costs more than the rest of a key: remember recent tenants' bases
        self._bases: dict[int, str] = {}

    def tenant_base(self, tenant_id: uuid.UUID) -> str:
        """``{prefix}:{<tenant>}``: the common start of all of a tenant's keys."""
        base = self._bases.get(tenant_id.int)
        if base is None:
            if len(self._bases) >= self._MAX_BASES:
                self._bases.clear()
            base = self._bases[tenant_id.int] = f"{self.prefix}:{{{tenant_id}}}"
        return base

    def tenant_generation(self, tenant_id: uuid.UUID) -> str:
        return f"{self.prefix}:{{{tenant_id}}}:gen"

    def namespace_generation(self, tenant_id: uuid.UUID, namespace: str) -> str:
        return f"{self.prefix}:{{{tenant_id}}}:ns:{namespace}:gen"

    def entry(self, tenant_id: uuid.UUID, namespace: str, key: str) -> str:
        return f"{self.prefix}:{{{tenant_id}}}:ns:{namespace}:k:{key}"

    def triple(self, tenant_id: uuid.UUID, namespace: str, key: str) -> tuple[str, str, str]:
        """``(tenant generation, namespace generation, entry)``: what one read fetches.

        Same strings as the three methods above, built from one tenant base.
        """
        base = self.tenant_base(tenant_id)
        namespace_base = f"{base}:ns:{namespace}"
        return f"{base}:gen", f"{namespace_base}:gen", f"{namespace_base}:k:{key}"

    def many(self, tenant_id: uuid.UUID, namespace: str, keys: list[str]) -> list[str]:
        """The two generation keys, then one entry key per item of ``keys`` (for ``MGET``)."""
        base = self.tenant_base(tenant_id)
        namespace_base = f"{base}:ns:{namespace}"
        return [
            f"{base}:gen",
            f"{namespace_base}:gen",
            *(f"{namespace_base}:k:{key}" for key in keys),
        ]

    def tenant_pattern(self, tenant_id: uuid.UUID) -> str:
        """A SCAN ``MATCH`` pattern for all of a tenant's keys (tools and benchmarks only)."""
        # the tenant's braces are literal in a glob; prefix has no glob chars by construction
        return f"{self.prefix}:\\{{{tenant_id}\\}}:*"
