"""The cache port: a tenant-scoped, JSON-only cache with O(1) invalidation.

Every entry lives in a ``(tenant_id, namespace)`` pair (e.g. ``"catalog"``, ``"availability"``).
Adapters keep a *generation* per tenant and per namespace; invalidating bumps a generation, which
makes every entry written under the old one invisible at once, whatever the number of entries.

A read returns a :class:`CacheLookup` carrying the :class:`GenerationToken` it observed. Writing
with that token stores the value under the observed generation, so a read-through that started
before an invalidation can never make its (stale) value visible after it: see :func:`read_through`.

Adapters never raise on backend failures (a dead Redis is a miss); they raise
:class:`booking_core.errors.ValidationError` only for bad input (a value that is not JSON, a
malformed namespace, a negative TTL).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias, TypeVar, cast, runtime_checkable

from booking_core.errors import ValidationError

__all__ = [
    "JSON",
    "UNKNOWN_GENERATION",
    "CacheLookup",
    "CachePort",
    "CacheStats",
    "EncodedJSON",
    "GenerationToken",
    "check_json",
    "check_namespace",
    "check_ttl",
    "read_through",
]

JSON: TypeAlias = bool | int | float | str | list["JSON"] | dict[str, "JSON"] | None
"""A JSON-compatible value: what a cache stores and returns (never pickled objects)."""


@dataclass(frozen=True, slots=True)
class EncodedJSON:
    """A value already encoded as strict JSON text (no NaN or Infinity), stored as it is.

    Services encode entities straight to text with msgspec; checking and encoding that value
    again would do the same work twice. Only pass text a strict JSON encoder produced: a cache
    stores it unchecked, and an entry that does not parse reads as a miss.
    """

    text: str


T = TypeVar("T")

_NAMESPACE_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.")
_MAX_NAMESPACE_LEN: Final = 64
_MAX_JSON_DEPTH: Final = 64


@dataclass(frozen=True, slots=True)
class GenerationToken:
    """The generations of a tenant and of one of its namespaces, as a read observed them.

    ``0`` means "no generation yet" and ``-1`` means "unknown" (the backend could not be read);
    a write with an unknown token is skipped, because it could not be proven fresh.
    """

    tenant: int
    namespace: int

    @property
    def known(self) -> bool:
        """Whether the generations were actually observed (a write with this token may happen)."""
        return self.tenant >= 0 and self.namespace >= 0


UNKNOWN_GENERATION: Final = GenerationToken(-1, -1)
"""The token of a read that could not reach the backend; writes with it are skipped."""


@dataclass(frozen=True, slots=True)
class CacheLookup:
    """The result of a cache read: a hit with its value, or a miss; both carry the token."""

    hit: bool
    value: JSON
    token: GenerationToken


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters since the adapter was created.

    ``errors`` counts operations that could not use the backend (and reads whose stored value had
    the wrong shape); a read that errs also counts as a miss.
    """

    hits: int = 0
    misses: int = 0
    errors: int = 0
    sets: int = 0

    @property
    def hit_rate(self) -> float:
        """``hits / (hits + misses)``, or ``0.0`` before any read."""
        reads = self.hits + self.misses
        return self.hits / reads if reads else 0.0


@runtime_checkable
class CachePort(Protocol):
    """A tenant-scoped JSON cache with versioned namespaces (see the module docstring)."""

    def get(self, tenant_id: uuid.UUID, namespace: str, key: str) -> CacheLookup:
        """Read one entry; the returned value is the caller's own copy."""
        ...

    def get_many(
        self, tenant_id: uuid.UUID, namespace: str, keys: Iterable[str]
    ) -> dict[str, CacheLookup]:
        """Read several entries of one namespace at once; every key is in the result."""
        ...

    def set(
        self,
        tenant_id: uuid.UUID,
        namespace: str,
        key: str,
        value: JSON | EncodedJSON,
        *,
        ttl: float,
        token: GenerationToken | None = None,
    ) -> bool:
        """Store ``value`` for ``ttl`` seconds; return whether it was stored.

        With a ``token`` the value is stored only if the generations are still the ones the token
        observed, so it can never outlive an invalidation that happened after the read.
        """
        ...

    def delete(self, tenant_id: uuid.UUID, namespace: str, key: str) -> None:
        """Remove one entry."""
        ...

    def invalidate_namespace(self, tenant_id: uuid.UUID, namespace: str) -> None:
        """Make every entry of one namespace of the tenant invisible, in O(1)."""
        ...

    def invalidate_tenant(self, tenant_id: uuid.UUID) -> None:
        """Make every entry of the tenant (all namespaces) invisible, in O(1)."""
        ...

    def ping(self) -> bool:
        """Whether the backend answers now."""
        ...

    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        ...

    def close(self) -> None:
        """Release connections; the cache must not be used afterwards."""
        ...


def read_through(
    cache: CachePort,
    tenant_id: uuid.UUID,
    namespace: str,
    key: str,
    loader: Callable[[], T],
    *,
    ttl: float,
    encode: Callable[[T], JSON | EncodedJSON] | None = None,
    decode: Callable[[JSON], T] | None = None,
) -> T:
    """Return the cached value for ``key`` or call ``loader``, cache its result and return it.

    The write carries the token of the read, so when an invalidation lands between the read and
    the write (the loader saw the data before a committed change), the loaded value is not
    cached. ``encode``/``decode`` convert between ``T`` and JSON (identity when omitted); a cached
    value that ``decode`` rejects with ``TypeError``, ``ValueError`` or ``KeyError`` is treated as
    a miss and overwritten.

    Args:
        cache: any :class:`CachePort`.
        tenant_id: the tenant the value belongs to.
        namespace: e.g. ``"catalog"``.
        key: the entry inside the namespace.
        loader: computes the value on a miss (typically a database query).
        ttl: seconds the loaded value stays cached.
        encode: ``T`` to JSON (or to :class:`EncodedJSON` text), applied before caching.
        decode: JSON to ``T``, applied to a hit.
    """
    lookup = cache.get(tenant_id, namespace, key)
    if lookup.hit:
        if decode is None:
            return cast("T", lookup.value)
        try:
            return decode(lookup.value)
        except (TypeError, ValueError, KeyError):
            pass  # an entry of an older shape: reload and overwrite it
    value = loader()
    if lookup.token.known:
        cache.set(
            tenant_id,
            namespace,
            key,
            encode(value) if encode is not None else cast("JSON", value),
            ttl=ttl,
            token=lookup.token,
        )
    return value


def check_namespace(namespace: str) -> str:
    """Return ``namespace`` if it is 1-64 chars of ``[a-z0-9_.-]``; else raise ValidationError."""
    if (
        not namespace
        or len(namespace) > _MAX_NAMESPACE_LEN
        or not _NAMESPACE_CHARS.issuperset(namespace)
    ):
        raise ValidationError("namespace", f"must be 1-64 chars of [a-z0-9_.-], got {namespace!r}")
    return namespace


def check_ttl(ttl: float) -> float:
    """Return ``ttl`` if it is a finite number of seconds > 0; else raise ValidationError."""
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl):
        raise ValidationError("ttl", f"must be a finite number of seconds, got {ttl!r}")
    if ttl <= 0:
        raise ValidationError("ttl", f"must be > 0, got {ttl!r}")
    return float(ttl)


def check_json(value: object, *, field: str = "value") -> JSON:
    """Return ``value`` if it is strictly JSON (str keys, lists not tuples, finite floats).

    Raises:
        ValidationError: naming ``field`` (dotted/indexed path to the offending part).
    """
    _check_json(value, field, 0)
    return cast("JSON", value)


def _check_json(value: object, path: str, depth: int) -> None:
    if depth > _MAX_JSON_DEPTH:
        raise ValidationError(path, f"nested deeper than {_MAX_JSON_DEPTH} levels")
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is str:
        return
    if kind is float:
        if not math.isfinite(cast("float", value)):
            raise ValidationError(path, "NaN and infinities are not JSON")
        return
    if kind is list:
        for index, item in enumerate(cast("list[object]", value)):
            _check_json(item, f"{path}[{index}]", depth + 1)
        return
    if kind is dict:
        for name, item in cast("dict[object, object]", value).items():
            if type(name) is not str:
                raise ValidationError(path, f"keys must be str, got {type(name).__name__}")
            _check_json(item, f"{path}.{name}", depth + 1)
        return
    raise ValidationError(path, f"{kind.__name__} is not JSON (never pickled)")
