"""A wrong cache option fails at ``connect()``; a broken cache never breaks a committed write.

Issue 13 §3: ``?socket_timout=0.1`` (a typo) used to be accepted, then every cache call raised a
raw ``TypeError`` from redis-py, and ``create_package`` saved the package and raised, so the
caller's retry got ``AlreadyExistsError``.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from booking_core.adapters.cache import MemoryCache, RedisCache, cache_from_url
from booking_core.adapters.cache.redis import from_url_options
from booking_core.adapters.sqlalchemy import SqlUnitOfWorkFactory, make_engine
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import BookingStatus, CustomerDetails
from booking_core.errors import ValidationError
from booking_core.ports.cache import CachePort
from booking_core.services.catalog import CatalogService
from booking_core.testing import ManualClock, in_memory_app

from .conftest import free_port
from .helpers import drop_prefix

START = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2030, 9, 3)
SEPTEMBER = (dt.date(2030, 9, 1), dt.date(2030, 9, 30))
TYPO = "redis://127.0.0.1:6379/9?socket_timout=0.1"
OUR_OPTIONS = [
    "prefix",
    "socket_timeout",
    "connect_timeout",
    "retries",
    "backoff_base",
    "backoff_cap",
    "max_connections",
    "cooldown",
    "generation_ttl",
]


# -- the URL is checked when the app is built --------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        TYPO,
        "rediss://127.0.0.1:6379/9?socket_timout=0.1",
        "redis+cluster://127.0.0.1:6379?socket_timout=0.1",
        "rediss+cluster://127.0.0.1:6379?socket_timout=0.1",
    ],
)
def test_a_typo_in_a_redis_option_names_it_and_lists_the_valid_ones(url: str) -> None:
    """A misspelt option in any Redis URL scheme is refused on cache_url with a message that
    suggests the right spelling and lists our options, then redis-py's."""
    with pytest.raises(ValidationError) as caught:
        cache_from_url(url)
    error = caught.value
    assert error.field == "cache_url"
    assert error.message.startswith(
        "unknown option 'socket_timout' (did you mean 'socket_timeout'?); valid options: "
        + ", ".join(OUR_OPTIONS)
        + "; redis-py options: "
    )
    assert "db" in error.message.rsplit("redis-py options: ", 1)[1].split(", ")


def test_connect_rejects_the_typo_before_touching_the_database(tmp_path: Path) -> None:
    """The cache URL is checked first: a bad one leaves no database file behind."""
    database = tmp_path / "booking.db"
    with pytest.raises(ValidationError, match=r"unknown option 'socket_timout'") as caught:
        connect(f"sqlite:///{database}", cache_url=TYPO, create_schema=True)
    assert caught.value.field == "cache_url"
    assert "valid options: prefix, socket_timeout, connect_timeout" in caught.value.message
    assert not database.exists()


def test_the_options_come_from_redis_cache_from_url() -> None:
    """One list: the URL accepts exactly the keyword options of ``RedisCache.from_url``."""
    parameters = inspect.signature(RedisCache.from_url).parameters.values()
    keywords = [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert list(from_url_options()) == [name for name in keywords if name != "cluster"]
    assert list(from_url_options()) == OUR_OPTIONS
    assert from_url_options()["retries"] is int
    assert from_url_options()["prefix"] is str


def test_a_typo_in_a_keyword_option_is_rejected_too() -> None:
    """A misspelt keyword option to cache_from_url is refused like one in the URL."""
    with pytest.raises(ValidationError, match=r"unknown option 'socket_timout'"):
        cache_from_url("redis://127.0.0.1:6379/0", socket_timout=0.1)


def test_tls_options_need_a_tls_scheme() -> None:
    """``ssl_*`` options are valid for ``rediss://`` only (redis-py would raise on connect)."""
    tls = cache_from_url("rediss://127.0.0.1:1/0?ssl_cert_reqs=none")
    try:
        assert isinstance(tls, RedisCache)
    finally:
        tls.close()
    with pytest.raises(ValidationError, match=r"unknown option 'ssl_cert_reqs'"):
        cache_from_url("redis://127.0.0.1:1/0?ssl_cert_reqs=none")


def test_an_unsupported_scheme_lists_every_supported_one() -> None:
    """An unsupported cache scheme is refused with a message listing every supported scheme."""
    with pytest.raises(ValidationError) as caught:
        cache_from_url("memcached://127.0.0.1:11211")
    assert caught.value.message == (
        "unsupported scheme 'memcached' "
        "(redis, rediss, redis+cluster, rediss+cluster, memory or None)"
    )


def test_redis_py_options_still_reach_redis_py(redis_url: str) -> None:
    """A valid redis-py option (here ``client_name``) is passed on, not rejected."""
    prefix = f"bc-test-{uuid.uuid4().hex[:12]}"
    cache = cache_from_url(f"{redis_url}?prefix={prefix}&client_name=bc-typo-test&db=0")
    try:
        assert isinstance(cache, RedisCache)
        assert cache.client.client_getname() == "bc-typo-test"
    finally:
        cache.close()
        drop_prefix(redis_url, prefix)


# -- a broken cache: writes commit once, reads come from the database ---------------------------


class RaisingCache:
    """A cache adapter whose every method but ``close`` raises ``error`` (a bad client)."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def close(self) -> None:
        """Closing is not a request: the app's ``close`` may report a broken adapter."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*_args: object, **_kwargs: object) -> Any:
            self.calls += 1
            raise self.error

        return fail


class FlakyCache(MemoryCache):
    """A MemoryCache that raises TypeError while ``broken`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False

    def __getattribute__(self, name: str) -> Any:
        if name in {"get", "get_many", "set", "delete", "invalidate_namespace"} and (
            object.__getattribute__(self, "broken")
        ):
            raise TypeError("unexpected keyword argument 'socket_timout'")
        return super().__getattribute__(name)


def misconfigured_redis() -> RedisCache:
    """A RedisCache whose pool passes a typo to redis-py: TypeError on the first connection."""
    pool = redis.ConnectionPool(host="127.0.0.1", port=free_port(), socket_timout=0.1)
    return RedisCache(redis.Redis(connection_pool=pool))


def dead_redis() -> CachePort:
    """A Redis URL to a closed port: every call is refused."""
    return cache_from_url(f"redis://127.0.0.1:{free_port()}/0?socket_timeout=0.1&cooldown=60")


BROKEN_CACHES: dict[str, Callable[[], CachePort]] = {
    "TypeError": lambda: RaisingCache(TypeError("unexpected keyword 'socket_timout'")),
    "RedisError": lambda: RaisingCache(redis.RedisError("NOAUTH Authentication required")),
    "OSError": lambda: RaisingCache(ConnectionRefusedError(111, "Connection refused")),
    "RuntimeError": lambda: RaisingCache(RuntimeError("adapter bug")),
    "misconfigured-redis-client": misconfigured_redis,
    "dead-redis-server": dead_redis,
}


@pytest.fixture(params=["memory", "sqlite"])
def make_app(
    request: pytest.FixtureRequest, tmp_sqlite_url: str
) -> Iterator[Callable[[CachePort], BookingApp]]:
    """Build an app on the in-memory adapter or on SQLite, with the given cache."""
    apps: list[BookingApp] = []

    def make(cache: CachePort) -> BookingApp:
        clock = ManualClock(START)
        if request.param == "memory":
            app = in_memory_app(clock=clock, cache=cache)
        else:
            uow = SqlUnitOfWorkFactory(make_engine(tmp_sqlite_url))
            app = BookingApp(uow=uow, clock=clock, cache=cache)
            app.create_schema()
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "booking_core.cache" and r.levelno >= logging.WARNING
    ]


@pytest.mark.parametrize("broken", BROKEN_CACHES.values(), ids=BROKEN_CACHES.keys())
def test_a_broken_cache_never_fails_a_call_and_each_write_commits_once(
    broken: Callable[[], CachePort],
    make_app: Callable[[CachePort], BookingApp],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a cache that is down or misbehaving, every service call still succeeds with fresh data
    from the database, each write commits once, and the outage is logged as a single warning."""
    caplog.set_level(logging.INFO, logger="booking_core.cache")
    app = make_app(broken())
    tenant = app.tenants.create(
        slug=f"t-{uuid.uuid4().hex[:10]}", name="Studio", timezone="Europe/Paris", currency="EUR"
    )
    tid = tenant.id
    package = app.catalog.create_package(tid, slug="gold", name="Gold", base_price=250_000)

    assert [p.id for p in app.catalog.list_packages(tid)] == [package.id]  # committed, once
    assert app.catalog.get_package(tid, "gold").package.id == package.id  # read from the DB
    booking = app.bookings.hold(
        tid, package_id=package.id, date=DAY, customer=CustomerDetails("Ada", "ada@example.com")
    )
    assert booking.status is BookingStatus.PENDING
    taken = app.availability.unavailable_dates(tid, *SEPTEMBER)
    assert [(d.date, d.reason) for d in taken] == [(DAY, "booked")]

    cancellation = app.bookings.cancel(tid, booking.id)
    assert cancellation.booking.status is BookingStatus.CANCELED
    assert app.availability.unavailable_dates(tid, *SEPTEMBER) == []
    assert app.catalog.update_package(tid, package.id, name="Platinum").name == "Platinum"
    assert app.catalog.get_package(tid, "gold").package.name == "Platinum"
    # one line for the whole outage, not one per call
    assert len(cache_warnings(caplog)) == 1, cache_warnings(caplog)


def test_a_raising_adapter_is_called_and_its_error_is_logged_once(
    make_app: Callable[[CachePort], BookingApp], caplog: pytest.LogCaptureFixture
) -> None:
    """An adapter that raises is still called on every invalidation and read (no circuit breaker),
    nothing is written back after its failed read, and one WARNING names the adapter and its
    error."""
    cache = RaisingCache(TypeError("unexpected keyword argument 'socket_timout'"))
    app = make_app(cache)
    tenant = app.tenants.create(
        slug=f"t-{uuid.uuid4().hex[:10]}", name="Studio", timezone="Europe/Paris", currency="EUR"
    )
    app.catalog.create_package(tenant.id, slug="gold", name="Gold", base_price=1_000)
    app.catalog.get_package(tenant.id, "gold")
    # the invalidation and the read: tried every time, so a fixed adapter is used again at once;
    # the loaded value is not written back (the failed read's token is unknown)
    assert cache.calls == 2
    [warning] = [r for r in caplog.records if r.name == "booking_core.cache"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        "cache adapter RaisingCache failed, degrading to misses: "
        "TypeError: unexpected keyword argument 'socket_timout'"
    )


def test_invalidations_that_raised_are_replayed_before_the_next_read(
    make_app: Callable[[CachePort], BookingApp], caplog: pytest.LogCaptureFixture
) -> None:
    """A write during the failure must not leave a stale entry to be served after it."""
    caplog.set_level(logging.INFO, logger="booking_core.cache")
    cache = FlakyCache()
    app = make_app(cache)
    tenant = app.tenants.create(
        slug=f"t-{uuid.uuid4().hex[:10]}", name="Studio", timezone="Europe/Paris", currency="EUR"
    )
    package = app.catalog.create_package(tenant.id, slug="gold", name="Gold", base_price=1_000)
    assert app.catalog.get_package(tenant.id, "gold").package.name == "Gold"  # now cached
    hits = cache.stats().hits
    assert app.catalog.get_package(tenant.id, "gold").package.name == "Gold"
    assert cache.stats().hits == hits + 1

    cache.broken = True
    app.catalog.update_package(tenant.id, package.id, name="Platinum")  # invalidation raises
    assert app.catalog.get_package(tenant.id, "gold").package.name == "Platinum"
    cache.broken = False

    assert app.catalog.get_package(tenant.id, "gold").package.name == "Platinum"
    assert app.catalog.get_package(tenant.id, "gold").package.name == "Platinum"
    assert cache.stats().hits == hits + 2  # cached again once the replay succeeded
    levels = [r.levelname for r in caplog.records if r.name == "booking_core.cache"]
    assert levels == ["WARNING", "INFO"]


def test_a_misconfigured_redis_client_degrades_like_a_dead_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """RedisCache counts a TypeError from its client as a failure, as it does an outage."""
    cache = misconfigured_redis()
    tenant = uuid.uuid4()
    lookup = cache.get(tenant, "catalog", "k")
    assert (lookup.hit, lookup.token.known) == (False, False)
    assert cache.set(tenant, "catalog", "k", 1, ttl=60) is False
    cache.invalidate_namespace(tenant, "catalog")
    assert cache.pending_invalidations == 1
    assert cache.stats().errors >= 1
    [warning] = [r for r in caplog.records if r.name == "booking_core.cache"]
    assert warning.getMessage().startswith("cache unavailable, degrading to misses: TypeError:")


def test_a_service_built_by_hand_still_returns_its_committed_write(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without BookingApp, the service guards its cache itself: a raising invalidation after the
    commit is logged once, the write returns, and a read falls back to the database."""
    app = in_memory_app(clock=ManualClock(START))
    tenant = app.tenants.create(
        slug=f"t-{uuid.uuid4().hex[:10]}", name="Studio", timezone="Europe/Paris", currency="EUR"
    )
    cache = RaisingCache(TypeError("unexpected keyword argument 'socket_timout'"))
    catalog = CatalogService(app.uow, app.clock, cache=cache)
    package = catalog.create_package(tenant.id, slug="gold", name="Gold", base_price=1_000)
    assert [p.id for p in app.catalog.list_packages(tenant.id)] == [package.id]
    assert cache.calls == 1
    assert cache_warnings(caplog) == [
        "cache adapter RaisingCache failed, degrading to misses: "
        "TypeError: unexpected keyword argument 'socket_timout'"
    ]
    assert catalog.get_package(tenant.id, "gold").package == package  # read from the database
