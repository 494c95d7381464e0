"""The null cache: every read misses and every write is dropped (``cache_url=None``)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable

from booking_core.ports.cache import (
    JSON,
    UNKNOWN_GENERATION,
    CacheLookup,
    CacheStats,
    EncodedJSON,
    GenerationToken,
    check_json,
    check_namespace,
    check_ttl,
)

__all__ = ["NullCache"]

_MISS = CacheLookup(False, None, UNKNOWN_GENERATION)


class NullCache:
    """A :class:`~booking_core.ports.cache.CachePort` that caches nothing.

    Reads miss (and are counted as misses) with an unknown token, so read-throughs never even try
    to write. Input is still validated, so code that runs with no cache fails the same way it
    would with one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._misses = 0

    def get(self, tenant_id: uuid.UUID, namespace: str, key: str) -> CacheLookup:
        check_namespace(namespace)
        with self._lock:
            self._misses += 1
        return _MISS

    def get_many(
        self,
        tenant_id: uuid.UUID,
        namespace: str,
        keys: Iterable[str],
    ) -> dict[str, CacheLookup]:
        check_namespace(namespace)
        result = dict.fromkeys(keys, _MISS)
        with self._lock:
            self._misses += len(result)
        return result

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
        check_namespace(namespace)
        check_ttl(ttl)
        if not isinstance(value, EncodedJSON):
            check_json(value)
        return False

    def delete(self, tenant_id: uuid.UUID, namespace: str, key: str) -> None:
        check_namespace(namespace)

    def invalidate_namespace(self, tenant_id: uuid.UUID, namespace: str) -> None:
        check_namespace(namespace)

    def invalidate_tenant(self, tenant_id: uuid.UUID) -> None:
        """Nothing to invalidate."""

    def ping(self) -> bool:
        return True

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(misses=self._misses)

    def close(self) -> None:
        """Nothing to close."""
