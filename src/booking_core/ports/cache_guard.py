"""``guarded``: any cache adapter, with its failures turned into misses (what the services use).

A cache must never fail a request (docs/caching.md, "During and after an outage"). RedisCache
catches its own failures; a third-party adapter, or one whose client is misconfigured, may still
raise. Every service therefore uses its cache behind a :class:`GuardedCache` (``Service`` wraps
it; :class:`~booking_core.bootstrap.BookingApp` hands all its services one shared guard), so an
error raised after a commit cannot reach the caller (who would retry a write that landed) and a
read falls back to the database. It lives beside the port because it knows only the port.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Final, TypeVar

from booking_core.ports.cache import (
    JSON,
    UNKNOWN_GENERATION,
    CacheLookup,
    CachePort,
    CacheStats,
    EncodedJSON,
    GenerationToken,
)

__all__ = ["GuardedCache", "Outage", "guarded"]

R = TypeVar("R")

logger: Final = logging.getLogger("booking_core.cache")

_MISS: Final = CacheLookup(False, None, UNKNOWN_GENERATION)


class Outage:
    """The bookkeeping of a cache backend's outages, for the guard and for adapters that guard
    themselves (RedisCache): whether it is down, how many calls failed, one ``WARNING`` when an
    outage starts and one ``INFO`` when it ends (nothing per call), and the invalidations that
    could not reach the backend, to replay before anything else once it answers.

    Args:
        subject: how the warning names the failing cache (``"cache unavailable"``).
    """

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.down = False
        self.failures = 0
        self.pending: set[tuple[uuid.UUID, str | None]] = set()
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        """Count a failed call; the first of an outage logs the warning."""
        with self._lock:
            self.failures += 1
            was_down, self.down = self.down, True
        if not was_down:
            logger.warning(
                "%s, degrading to misses: %s: %s",
                self.subject,
                type(error).__name__,
                error,
                extra={"cache_error": type(error).__name__},
            )

    def recovered(self, what: str) -> None:
        """A call worked again: end the outage (logging how many calls it cost)."""
        with self._lock:
            was_down, self.down = self.down, False
            failures, self.failures = self.failures, 0
        if was_down:
            logger.info("%s available again after %d failed calls", what, failures)

    def remember(self, tenant_id: uuid.UUID, namespace: str | None) -> None:
        """An invalidation (namespace None: the whole tenant) that could not be applied."""
        with self._lock:
            self.pending.add((tenant_id, namespace))

    def replay(self, invalidate: Callable[[uuid.UUID, str | None], object]) -> None:
        """Apply the remembered invalidations; one that raises stays remembered."""
        with self._lock:
            pending = list(self.pending)
        for tenant_id, namespace in pending:
            invalidate(tenant_id, namespace)
            with self._lock:
                self.pending.discard((tenant_id, namespace))


def guarded(cache: CachePort) -> GuardedCache:
    """``cache`` behind a :class:`GuardedCache` (itself when it already is one).

    Give every service of an app the same guard: they then share its pending invalidations, so
    one service's failed invalidation hides the entries from all the others.
    """
    return cache if isinstance(cache, GuardedCache) else GuardedCache(cache)


class GuardedCache:
    """A :class:`~booking_core.ports.cache.CachePort` over another one that never raises.

    Any exception of the adapter makes a read a miss with an unknown token (so a read-through
    loads from the database and does not write back), a write is skipped, and an invalidation
    or delete is remembered and replayed before the next call that reaches the adapter, so an
    entry it should have hidden is never served. The first failure of an outage logs one
    ``WARNING`` on ``booking_core.cache``, the recovery one ``INFO``; nothing per call.

    Args:
        inner: the adapter to guard.
    """

    def __init__(self, inner: CachePort) -> None:
        self.inner = inner
        self._outage = Outage(f"cache adapter {type(inner).__name__} failed")

    def _call(self, operation: Callable[[CachePort], R], fallback: R) -> R:
        """Run ``operation`` on the adapter after any pending replay; ``fallback`` if it raises."""
        outage = self._outage
        try:
            if outage.pending:
                outage.replay(self._apply)
            result = operation(self.inner)
        except Exception as error:  # any: a cache never fails a request
            outage.failed(error)
            return fallback
        if outage.down:
            outage.recovered("cache adapter")
        return result

    def _apply(self, tenant_id: uuid.UUID, namespace: str | None) -> None:
        if namespace is None:
            self.inner.invalidate_tenant(tenant_id)
        else:
            self.inner.invalidate_namespace(tenant_id, namespace)

    def _invalidate(self, tenant_id: uuid.UUID, namespace: str | None) -> None:
        """Invalidate now, or remember it for the replay when the adapter raises."""

        def invalidate(_cache: CachePort) -> bool:
            self._apply(tenant_id, namespace)
            return True

        if not self._call(invalidate, False):
            self._outage.remember(tenant_id, namespace)

    @property
    def pending_invalidations(self) -> int:
        """Invalidations that raised and wait for the adapter to work again."""
        return len(self._outage.pending)

    def get(self, tenant_id: uuid.UUID, namespace: str, key: str) -> CacheLookup:
        return self._call(lambda cache: cache.get(tenant_id, namespace, key), _MISS)

    def get_many(
        self, tenant_id: uuid.UUID, namespace: str, keys: Iterable[str]
    ) -> dict[str, CacheLookup]:
        wanted = list(keys)
        misses = dict.fromkeys(wanted, _MISS)
        return self._call(lambda cache: cache.get_many(tenant_id, namespace, wanted), misses)

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
        return self._call(
            lambda cache: cache.set(tenant_id, namespace, key, value, ttl=ttl, token=token), False
        )

    def delete(self, tenant_id: uuid.UUID, namespace: str, key: str) -> None:
        """Remove one entry; if the adapter raises, its namespace is invalidated on recovery."""

        def delete(cache: CachePort) -> bool:
            cache.delete(tenant_id, namespace, key)
            return True

        if not self._call(delete, False):
            self._outage.remember(tenant_id, namespace)

    def invalidate_namespace(self, tenant_id: uuid.UUID, namespace: str) -> None:
        self._invalidate(tenant_id, namespace)

    def invalidate_tenant(self, tenant_id: uuid.UUID) -> None:
        self._invalidate(tenant_id, None)

    def ping(self) -> bool:
        return self._call(lambda cache: cache.ping(), False)

    def stats(self) -> CacheStats:
        return self._call(lambda cache: cache.stats(), CacheStats())

    def close(self) -> None:
        try:
            self.inner.close()
        except Exception:  # any: closing a broken adapter
            logger.debug("error while closing the cache adapter", exc_info=True)
