"""The argument checks the storing caches share (memory, Redis), with namespaces memoized."""

from __future__ import annotations

from booking_core.adapters.cache._json import encode
from booking_core.ports.cache import JSON, EncodedJSON, check_namespace, check_ttl

__all__ = ["Checks"]


class Checks:
    """Validates arguments before any work; a namespace is checked once per cache, then known."""

    def __init__(self) -> None:
        #: the namespaces already checked; hot paths test membership inline before calling
        self.known: set[str] = set()

    def namespace(self, namespace: str) -> str:
        """``namespace``, or ValidationError when it is malformed."""
        if namespace not in self.known:
            self.known.add(check_namespace(namespace))
        return namespace

    def write(self, namespace: str, value: JSON | EncodedJSON, ttl: float) -> tuple[float, str]:
        """``(ttl, text)`` of a write: the namespace and TTL checked, the value encoded once."""
        self.namespace(namespace)
        return check_ttl(ttl), encode(value)
