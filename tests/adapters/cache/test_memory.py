"""MemoryCache and NullCache specifics: fake-clock TTL, LRU bound, purge, threads."""

from __future__ import annotations

import threading
import uuid

import pytest

from booking_core.adapters.cache import MemoryCache, NullCache
from booking_core.errors import ValidationError
from booking_core.ports.cache import CachePort, CacheStats, read_through

from .helpers import FakeTimer

NS = "catalog"


def test_ttl_boundary_with_a_fake_timer() -> None:
    """An entry with ttl=10 is served at t+9.999 and gone at exactly t+10."""
    timer = FakeTimer()
    cache = MemoryCache(timer=timer)
    tenant = uuid.uuid4()
    cache.set(tenant, NS, "a", 1, ttl=10)
    timer.now += 9.999
    assert cache.get(tenant, NS, "a").value == 1
    timer.now += 0.001
    assert cache.get(tenant, NS, "a").hit is False


def test_maxsize_evicts_least_recently_used() -> None:
    """At maxsize the least recently *used* entry goes first."""
    cache = MemoryCache(maxsize=3)
    tenant = uuid.uuid4()
    for key in "abc":
        cache.set(tenant, NS, key, key, ttl=60)
    assert cache.get(tenant, NS, "a").hit is True  # a is now the most recent
    cache.set(tenant, NS, "d", "d", ttl=60)
    assert len(cache) == 3
    assert {key: cache.get(tenant, NS, key).hit for key in "abcd"} == {
        "a": True,
        "b": False,
        "c": True,
        "d": True,
    }


def test_expired_entries_are_purged_periodically() -> None:
    """Every purge_every operations expired entries are dropped, even if never read again."""
    timer = FakeTimer()
    cache = MemoryCache(timer=timer, purge_every=5)
    tenant = uuid.uuid4()
    for index in range(4):
        cache.set(tenant, NS, f"short{index}", index, ttl=1)
    cache.set(tenant, NS, "long", 0, ttl=100)  # 5th operation: purge runs, nothing expired yet
    assert len(cache) == 5
    timer.now += 2
    for _ in range(5):
        cache.get(tenant, NS, "long")
    assert len(cache) == 1


def test_purge_returns_the_number_dropped() -> None:
    """purge() drops expired entries at once and says how many."""
    timer = FakeTimer()
    cache = MemoryCache(timer=timer, purge_every=1_000_000)
    tenant = uuid.uuid4()
    for index in range(7):
        cache.set(tenant, NS, f"k{index}", index, ttl=1 if index < 4 else 50)
    timer.now += 5
    assert cache.purge() == 4
    assert len(cache) == 3


def test_bad_maxsize() -> None:
    """MemoryCache(maxsize=0) raises ValueError naming maxsize: the cache holds at least one entry.
    MemoryCache(maxsize=0) raises ValueError naming maxsize: the cache holds at least one entry."""
    with pytest.raises(ValueError, match="maxsize"):
        MemoryCache(maxsize=0)


def test_threads_never_see_torn_or_foreign_values() -> None:
    """Many threads setting, reading and invalidating concurrently: every hit is a value that
    was written for that exact key, and the counters add up."""
    cache = MemoryCache(maxsize=500)
    tenants = [uuid.uuid4() for _ in range(4)]
    reads_per_thread = 2_000
    errors: list[str] = []

    def worker(worker_id: int) -> None:
        tenant = tenants[worker_id % len(tenants)]
        for step in range(reads_per_thread):
            key = f"k{step % 50}"
            if step % 7 == 0:
                cache.set(
                    tenant, NS, key, {"key": key, "tenant": str(tenant), "w": worker_id}, ttl=60
                )
            if step % 97 == 0:
                cache.invalidate_namespace(tenant, NS)
            lookup = cache.get(tenant, NS, key)
            if lookup.hit:
                value = lookup.value
                if not (
                    isinstance(value, dict)
                    and value["key"] == key
                    and value["tenant"] == str(tenant)
                ):
                    errors.append(f"{key}: {value!r}")
                else:
                    value["key"] = "mutated by a reader"  # must not leak to other readers

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stats = cache.stats()
    assert stats.hits + stats.misses == 16 * reads_per_thread
    assert stats.hits > 0
    assert stats.errors == 0


def test_null_cache_caches_nothing() -> None:
    """NullCache: every read misses with an unknown token, writes return False, input checked."""
    cache: CachePort = NullCache()
    tenant = uuid.uuid4()
    assert cache.set(tenant, NS, "a", 1, ttl=5) is False
    lookup = cache.get(tenant, NS, "a")
    assert (lookup.hit, lookup.token.known) == (False, False)
    assert [v.hit for v in cache.get_many(tenant, NS, ["a", "b"]).values()] == [False, False]
    cache.delete(tenant, NS, "a")
    cache.invalidate_namespace(tenant, NS)
    cache.invalidate_tenant(tenant)
    calls: list[int] = []
    for _ in range(3):
        assert read_through(cache, tenant, NS, "a", lambda: calls.append(1) or 5, ttl=5) == 5
    assert len(calls) == 3
    assert cache.stats() == CacheStats(misses=6)
    assert cache.ping() is True
    with pytest.raises(ValidationError):
        cache.set(tenant, NS, "a", (1,), ttl=5)
    with pytest.raises(ValidationError):
        cache.get(tenant, "Bad:NS", "a")
    cache.close()


def test_adapters_satisfy_the_port() -> None:
    """The adapters are structural CachePorts (runtime_checkable protocol)."""
    assert isinstance(MemoryCache(), CachePort)
    assert isinstance(NullCache(), CachePort)
