"""In-memory cache adapter: bounded, per-entry TTL, LRU, thread-safe, copy-on-read."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Final

from cachetools import TLRUCache

from booking_core.adapters.cache._checks import Checks
from booking_core.adapters.cache._json import decode
from booking_core.ports.cache import (
    JSON,
    CacheLookup,
    CacheStats,
    EncodedJSON,
    GenerationToken,
)

__all__ = ["MemoryCache"]

# (ttl, the token of the generations it was written under, JSON text)
_Entry = tuple[float, GenerationToken, str]
# tenants are keyed by UUID.int: hashing a UUID runs Python code, hashing an int does not, and
# the cache hashes its key several times per lookup
_EntryKey = tuple[int, str, str]

_MISS: Final = None


def _time_to_use(_key: _EntryKey, entry: _Entry, now: float) -> float:
    return now + entry[0]


class MemoryCache:
    """A :class:`~booking_core.ports.cache.CachePort` kept in this process.

    Entries live in a :class:`cachetools.TLRUCache` (per-entry TTL, least recently used evicted
    first once ``maxsize`` entries are stored). Expired entries are dropped lazily on read and
    by a purge every ``purge_every`` operations (or :meth:`purge`). Values are stored as JSON text
    and parsed on every read, so callers always get their own copy and can never mutate what is
    cached. Invalidation bumps a generation: O(1) whatever the number of entries.

    Args:
        maxsize: the most entries kept.
        timer: the clock (seconds, monotonic); inject a fake one in tests.
        purge_every: run :meth:`purge` after this many operations.
    """

    def __init__(
        self,
        *,
        maxsize: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
        purge_every: int = 1_000,
    ) -> None:
        if maxsize < 1:
            msg = f"maxsize must be >= 1, got {maxsize}"
            raise ValueError(msg)
        self._entries: TLRUCache[_EntryKey, _Entry] = TLRUCache(
            maxsize, ttu=_time_to_use, timer=timer
        )
        self._lock = threading.Lock()
        # one counter for every generation ever handed out, so a generation is never reused
        self._generations = itertools.count(1)
        self._tenant_gen: dict[int, int] = {}
        self._namespace_gen: dict[tuple[int, str], int] = {}
        self._tokens: dict[tuple[int, str], GenerationToken] = {}
        self._checks = Checks()
        self._namespaces = self._checks.known  # for the inlined check on the hot path
        self._purge_every = max(1, purge_every)
        self._ops = 0
        self._hits = self._misses = self._sets = 0

    @property
    def maxsize(self) -> int:
        return int(self._entries.maxsize)

    def __len__(self) -> int:
        """Entries stored, including invalidated ones not yet evicted."""
        with self._lock:
            return len(self._entries)

    def _token(self, tenant: int, namespace: str) -> GenerationToken:
        """The current token of a namespace (caller holds the lock).

        Tokens are cached per namespace and entries keep the token they were written under, so
        a read validates an entry with one identity check; building a token per read would
        cost more than the rest of the lookup.
        """
        pair = (tenant, namespace)
        token = self._tokens.get(pair)
        tenant_gen = self._tenant_gen.get(tenant, 0)
        if token is None or token.tenant != tenant_gen:
            token = GenerationToken(tenant_gen, self._namespace_gen.get(pair, 0))
            self._tokens[pair] = token
        return token

    def _tick(self) -> None:
        # caller holds the lock
        self._ops += 1
        if self._ops >= self._purge_every:
            self._ops = 0
            self._entries.expire()

    def get(self, tenant_id: uuid.UUID, namespace: str, key: str) -> CacheLookup:
        """Read one entry (a parsed copy); see the port."""
        if namespace not in self._namespaces:
            self._checks.namespace(namespace)
        with self._lock:
            # inlined _tick and _token: this is the hot path measured in benchmarks/
            self._ops += 1
            if self._ops >= self._purge_every:
                self._ops = 0
                self._entries.expire()
            tenant = tenant_id.int
            token = self._tokens.get((tenant, namespace))
            if token is None or token.tenant != self._tenant_gen.get(tenant, 0):
                token = self._token(tenant, namespace)
            entry = self._entries.get((tenant, namespace, key))
            if entry is None or (entry[1] is not token and entry[1] != token):
                self._misses += 1
                return CacheLookup(False, None, token)
            self._hits += 1
        return CacheLookup(True, decode(entry[2]), token)

    def get_many(
        self, tenant_id: uuid.UUID, namespace: str, keys: Iterable[str]
    ) -> dict[str, CacheLookup]:
        """Read several entries of one namespace; see the port."""
        self._checks.namespace(namespace)
        found: dict[str, str | None] = {}
        with self._lock:
            self._tick()
            tenant = tenant_id.int
            token = self._token(tenant, namespace)
            for key in keys:
                entry = self._entries.get((tenant, namespace, key))
                if entry is None or (entry[1] is not token and entry[1] != token):
                    found[key] = _MISS
                    self._misses += 1
                else:
                    found[key] = entry[2]
                    self._hits += 1
        miss = CacheLookup(False, None, token)
        return {
            key: miss if text is None else CacheLookup(True, decode(text), token)
            for key, text in found.items()
        }

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
        """Store a value; with a stale or unknown ``token`` nothing is stored; see the port."""
        ttl, text = self._checks.write(namespace, value, ttl)
        with self._lock:
            self._tick()
            current = self._token(tenant_id.int, namespace)
            if token is not None and token != current:
                return False
            self._entries[(tenant_id.int, namespace, key)] = (ttl, current, text)
            self._sets += 1
        return True

    def delete(self, tenant_id: uuid.UUID, namespace: str, key: str) -> None:
        """Remove one entry."""
        self._checks.namespace(namespace)
        with self._lock:
            self._tick()
            self._entries.pop((tenant_id.int, namespace, key), None)

    def invalidate_namespace(self, tenant_id: uuid.UUID, namespace: str) -> None:
        """Hide every entry of the namespace: one generation bump."""
        self._checks.namespace(namespace)
        with self._lock:
            self._tick()
            self._namespace_gen[tenant_id.int, namespace] = next(self._generations)
            self._tokens.pop((tenant_id.int, namespace), None)

    def invalidate_tenant(self, tenant_id: uuid.UUID) -> None:
        """Hide every entry of the tenant: one generation bump."""
        with self._lock:
            self._tick()
            self._tenant_gen[tenant_id.int] = next(self._generations)

    def purge(self) -> int:
        """Drop expired entries now; return how many were dropped."""
        with self._lock:
            self._ops = 0
            return len(self._entries.expire())

    def clear(self) -> None:
        """Drop every entry (generations are kept, so tokens stay safe)."""
        with self._lock:
            self._entries.clear()

    def ping(self) -> bool:
        """Always ``True``: memory does not go away."""
        return True

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(hits=self._hits, misses=self._misses, errors=0, sets=self._sets)

    def close(self) -> None:
        self.clear()
