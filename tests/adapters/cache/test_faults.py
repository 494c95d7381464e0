"""Graceful degradation against real Redis servers: dead, paused, busy, stopped and restarted.

Every call must return promptly (bounded by the timeouts and the circuit breaker), never raise,
count its failure, log once per outage, reconnect by itself, and never serve an entry that an
invalidation made during the outage should have hidden.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from booking_core.adapters.cache import RedisCache

from .conftest import RedisProcess, free_port
from .helpers import close_client

pytestmark = pytest.mark.redis

NS = "catalog"
OTHER_NS = "availability"
LOGGER = "booking_core.cache"


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == level]


def _wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def dead_cache() -> Iterator[RedisCache]:
    cache = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}/0", cooldown=0.5)
    yield cache
    cache.close()


def test_dead_redis_degrades_to_misses(
    dead_cache: RedisCache, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens: reads miss, writes are skipped, all counted, one warning, fast."""
    tenant = uuid.uuid4()
    caplog.set_level(logging.INFO, logger=LOGGER)
    started = time.perf_counter()
    lookups = [dead_cache.get(tenant, NS, f"k{i}") for i in range(100)]
    many = dead_cache.get_many(tenant, NS, ["a", "b"])
    stored = [dead_cache.set(tenant, NS, f"k{i}", i, ttl=60) for i in range(20)]
    dead_cache.invalidate_tenant(tenant)
    dead_cache.invalidate_namespace(tenant, NS)
    dead_cache.delete(tenant, OTHER_NS, "x")
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0
    assert all(not lookup.hit and not lookup.token.known for lookup in lookups)
    assert [lookup.hit for lookup in many.values()] == [False, False]
    assert stored == [False] * 20
    stats = dead_cache.stats()
    assert (stats.hits, stats.misses, stats.sets) == (0, 102, 0)
    assert stats.errors == 100 + 1 + 20 + 3
    assert dead_cache.pending_invalidations == 3
    warnings = _records(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "cache unavailable" in warnings[0].getMessage()


def test_dead_redis_each_call_is_bounded_without_breaker(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Even with the circuit breaker off (cooldown 0) every call is short and logged once."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    cache = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}/0", cooldown=0.0)
    try:
        durations = []
        for _ in range(10):
            started = time.perf_counter()
            assert cache.get(uuid.uuid4(), NS, "k").hit is False
            durations.append(time.perf_counter() - started)
        assert max(durations) < 0.5
        assert cache.stats().errors == 10
        assert cache.ping() is False
        assert len(_records(caplog, logging.WARNING)) == 1
    finally:
        cache.close()


def _pause(admin: redis.Redis) -> None:
    admin.execute_command("CLIENT", "PAUSE", 1200, "ALL")


def _debug_sleep(admin: redis.Redis) -> None:
    def sleep() -> None:
        admin.execute_command("DEBUG", "SLEEP", "1.0")

    threading.Thread(target=sleep, daemon=True).start()
    time.sleep(0.05)  # let the server enter the sleep


@pytest.mark.parametrize("block", [_pause, _debug_sleep], ids=["client-pause", "debug-sleep"])
def test_paused_or_busy_redis_is_bounded(
    redis_server_factory: Callable[..., RedisProcess],
    prefix: str,
    caplog: pytest.LogCaptureFixture,
    block: Callable[[redis.Redis], None],
) -> None:
    """A server that stops answering costs one timeout, then nothing; service resumes after."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    server = redis_server_factory()
    cache = RedisCache.from_url(server.url, prefix=prefix, socket_timeout=0.2, cooldown=0.3)
    admin = redis.Redis.from_url(server.url, socket_timeout=5)
    tenant = uuid.uuid4()
    try:
        assert cache.set(tenant, NS, "k", "v", ttl=60) is True
        assert cache.get(tenant, NS, "k").value == "v"
        block(admin)
        started = time.perf_counter()
        during = [cache.get(tenant, NS, "k") for _ in range(20)]
        written = cache.set(tenant, NS, "k2", "v2", ttl=60)
        elapsed = time.perf_counter() - started

        assert elapsed < 0.6  # one socket timeout (0.2 s), the rest skipped by the breaker
        assert [lookup.hit for lookup in during] == [False] * 20
        assert written is False
        assert cache.stats().errors >= 21
        assert len(_records(caplog, logging.WARNING)) == 1

        assert _wait_for(lambda: cache.get(tenant, NS, "k").hit, timeout=5)
        assert cache.get(tenant, NS, "k").value == "v"
        assert len(_records(caplog, logging.WARNING)) == 1
        recoveries = _records(caplog, logging.INFO)
        assert len(recoveries) == 1
        assert "available again" in recoveries[0].getMessage()
    finally:
        cache.close()
        close_client(admin)


def test_restart_reconnects_and_honours_outage_invalidations(
    redis_server_factory: Callable[..., RedisProcess],
    prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis stops and comes back with its data (AOF): the invalidation made while it was down
    is replayed before the first read, so the stale entry is never served."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    server = redis_server_factory("--appendonly", "yes", "--appendfsync", "always")
    cache = RedisCache.from_url(server.url, prefix=prefix, cooldown=0.2)
    tenant = uuid.uuid4()
    try:
        cache.set(tenant, NS, "pkg", {"price": 100}, ttl=60)
        cache.set(tenant, OTHER_NS, "day", "free", ttl=60)
        assert cache.get(tenant, NS, "pkg").hit is True

        server.stop()
        started = time.perf_counter()
        assert cache.get(tenant, NS, "pkg").hit is False
        cache.invalidate_namespace(tenant, NS)  # the price changed while Redis was down
        assert time.perf_counter() - started < 0.5
        assert cache.pending_invalidations == 1

        server.start()  # same port, same data: the stale entry is back in Redis
        admin = redis.Redis.from_url(server.url)
        try:
            assert admin.get(cache.keys.entry(tenant, NS, "pkg")) is not None
        finally:
            close_client(admin)

        assert _wait_for(lambda: cache.get(tenant, OTHER_NS, "day").hit, timeout=5)
        assert cache.pending_invalidations == 0
        assert cache.get(tenant, NS, "pkg").hit is False  # stale entry hidden
        assert cache.get(tenant, OTHER_NS, "day").value == "free"  # unrelated entry kept
        assert cache.set(tenant, NS, "pkg", {"price": 120}, ttl=60) is True
        assert cache.get(tenant, NS, "pkg").value == {"price": 120}
        assert cache.ping() is True
        assert len(_records(caplog, logging.WARNING)) == 1
        assert len(_records(caplog, logging.INFO)) == 1
    finally:
        cache.close()


def test_token_from_before_an_outage_cannot_write_stale(
    redis_server_factory: Callable[..., RedisProcess], prefix: str
) -> None:
    """A read-through that began before the outage, across an invalidation that failed, does
    not cache its value after recovery (the replay bumps the generation first)."""
    server = redis_server_factory("--appendonly", "yes", "--appendfsync", "always")
    cache = RedisCache.from_url(server.url, prefix=prefix, cooldown=0.1)
    tenant = uuid.uuid4()
    try:
        lookup = cache.get(tenant, NS, "pkg")
        assert lookup.token.known
        server.stop()
        cache.invalidate_namespace(tenant, NS)
        server.start()
        time.sleep(0.15)
        assert _wait_for(cache.ping, timeout=5)
        assert cache.set(tenant, NS, "pkg", "stale", ttl=60, token=lookup.token) is False
        assert cache.get(tenant, NS, "pkg").hit is False
    finally:
        cache.close()


def test_cluster_unreachable_at_start_degrades(caplog: pytest.LogCaptureFixture) -> None:
    """A cluster client that cannot even bootstrap is a degraded cache, not a crash."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    cache = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}", cluster=True, cooldown=0.5)
    try:
        started = time.perf_counter()
        assert cache.get(uuid.uuid4(), NS, "k").hit is False
        assert cache.set(uuid.uuid4(), NS, "k", 1, ttl=5) is False
        assert time.perf_counter() - started < 2.0
        assert cache.stats().errors == 2
        assert len(_records(caplog, logging.WARNING)) == 1
    finally:
        cache.close()
