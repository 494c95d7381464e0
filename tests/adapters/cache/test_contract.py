"""The public cache contract run against every cache adapter of booking_core.

``booking_core.testing.contracts.CacheContract`` holds the behaviour tests (one suite, also
shipped to adapter authors); each subclass here only provides the ``cache`` fixture and, for
MemoryCache, an ``advance(seconds)`` fixture that moves a fake timer (Redis keeps the default:
real sleeping). Run against MemoryCache, RedisCache on a real Redis and RedisCache on a real
3-node Redis Cluster. Adapter specifics (round trips, key layout, cluster slots, faults) live in
the other ``test_cache_*`` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from booking_core.adapters.cache import MemoryCache, RedisCache
from booking_core.ports.cache import CachePort
from booking_core.testing.contracts import CacheContract

from .helpers import FakeTimer, drop_prefix


class TestMemoryCache(CacheContract):
    @pytest.fixture
    def timer(self) -> FakeTimer:
        return FakeTimer()

    @pytest.fixture
    def cache(self, timer: FakeTimer) -> Iterator[CachePort]:
        cache = MemoryCache(maxsize=10_000, timer=timer)
        yield cache
        cache.close()

    @pytest.fixture
    def advance(self, timer: FakeTimer) -> Callable[[float], None]:
        def advance(seconds: float) -> None:
            timer.now += seconds

        return advance


@pytest.mark.redis
class TestRedisCache(CacheContract):
    @pytest.fixture
    def cache(self, redis_url: str, prefix: str) -> Iterator[CachePort]:
        cache = RedisCache.from_url(redis_url, prefix=prefix)
        yield cache
        cache.close()
        drop_prefix(redis_url, prefix)


@pytest.mark.redis
class TestRedisClusterCache(CacheContract):
    @pytest.fixture
    def cache(self, redis_cluster_url: str, prefix: str) -> Iterator[CachePort]:
        cache = RedisCache.from_url(redis_cluster_url, prefix=prefix, cluster=True)
        yield cache
        cache.close()
        drop_prefix(redis_cluster_url, prefix, cluster=True)
