"""The services read through the cache and never serve stale data."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.adapters.cache import MemoryCache
from booking_core.adapters.memory import MemoryUnitOfWorkFactory
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import CustomerDetails
from booking_core.errors import BookingConflictError, BookingCoreError
from booking_core.testing import ManualClock, in_memory_app

from .conftest import START, make_shop

DAY = dt.date(2030, 9, 3)


class PausingReads(MemoryUnitOfWorkFactory):
    """Read transactions block at their end while ``gate`` is closed: a slow read-through."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.loaded = threading.Event()
        self.gate = threading.Event()

    @contextlib.contextmanager
    def _paused(self, uow: Any) -> Iterator[Any]:
        with uow:
            yield uow
        if self.armed:
            self.armed = False
            self.loaded.set()
            self.gate.wait(timeout=10)

    def __call__(self, *, read_only: bool = False) -> Any:
        uow = super().__call__(read_only=read_only)
        return self._paused(uow) if read_only else uow


def test_read_racing_a_write_cannot_cache_the_stale_value() -> None:
    """A read-through that loaded before a write committed must not store its value after it."""
    factory = PausingReads()
    cache = MemoryCache()
    app = BookingApp(uow=factory, clock=ManualClock(START), cache=cache)
    shop = make_shop(app)
    factory.armed = True
    seen: list[str] = []
    reader = threading.Thread(
        target=lambda: seen.append(app.catalog.get_package(shop.tenant.id, "gold").package.name)
    )
    reader.start()
    assert factory.loaded.wait(timeout=10)  # the reader holds the old row, not yet cached
    app.catalog.update_package(shop.tenant.id, shop.package.id, name="Platinum")
    factory.gate.set()  # now the reader tries to cache what it loaded
    reader.join(timeout=10)
    assert seen == ["Gold"]  # it started before the write: the old answer is fine for it
    assert app.catalog.get_package(shop.tenant.id, "gold").package.name == "Platinum"
    assert app.catalog.get_package(shop.tenant.id, "gold").package.name == "Platinum"


def test_reads_hit_the_cache_and_writes_invalidate_after_commit() -> None:
    """Repeated catalog and month reads are cache hits; a committed hold invalidates only its own
    month, a failed hold invalidates nothing, and a cancel makes the month read free again."""
    cache = MemoryCache()
    app = in_memory_app(clock=ManualClock(START), cache=cache)
    shop = make_shop(app)
    tid = shop.tenant.id
    app.catalog.get_package(tid, "gold")
    app.availability.unavailable_dates(tid, dt.date(2030, 9, 1), dt.date(2030, 9, 30))
    before = cache.stats()
    app.catalog.get_package(tid, "gold")
    app.availability.unavailable_dates(tid, dt.date(2030, 9, 1), dt.date(2030, 9, 30))
    after = cache.stats()
    assert after.hits - before.hits == 2
    booking = app.bookings.hold(
        tid, package_id=shop.package.id, date=DAY, customer=CustomerDetails("A", "a@example.com")
    )
    # a failed transaction invalidates nothing: the cached month stays a hit
    with pytest.raises(BookingConflictError):
        app.bookings.hold(
            tid, package_id=shop.package.id, date=DAY, customer=CustomerDetails("B", "b@x.io")
        )
    month = app.availability.unavailable_dates(tid, dt.date(2030, 9, 1), dt.date(2030, 9, 30))
    assert [(d.date, d.reason) for d in month] == [(DAY, "booked")]
    hits = cache.stats().hits
    app.availability.unavailable_dates(tid, dt.date(2030, 9, 1), dt.date(2030, 9, 30))
    assert cache.stats().hits == hits + 1
    # a hold in another month leaves September's entry alone
    app.bookings.hold(
        tid,
        package_id=shop.package.id,
        date=dt.date(2030, 10, 3),
        customer=CustomerDetails("C", "c@example.com"),
    )
    app.availability.unavailable_dates(tid, dt.date(2030, 9, 1), dt.date(2030, 9, 30))
    assert cache.stats().hits == hits + 2
    app.bookings.cancel(tid, booking.id)
    assert app.availability.unavailable_dates(tid, dt.date(2030, 9, 1), dt.date(2030, 9, 30)) == []


def test_lapsing_holds_need_no_invalidation(clock: ManualClock) -> None:
    """Cached facts carry expiries: a hold lapses in a cached answer without any write."""
    app = in_memory_app(clock=clock, cache=MemoryCache())
    shop = make_shop(app)
    app.bookings.hold(
        shop.tenant.id,
        package_id=shop.package.id,
        date=DAY,
        customer=CustomerDetails("A", "a@example.com"),
    )
    assert app.availability.check(shop.tenant.id, DAY).reason == "booked"
    clock.advance(dt.timedelta(minutes=15))
    assert app.availability.check(shop.tenant.id, DAY).available


def test_deactivating_a_tenant_drops_its_cached_reads() -> None:
    """After a tenant is deactivated, a catalog read that was cached fails with a BookingCoreError
    instead of answering from the cache."""
    cache = MemoryCache()
    app = in_memory_app(clock=ManualClock(START), cache=cache)
    shop = make_shop(app)
    assert app.catalog.list_packages(shop.tenant.id)
    app.tenants.deactivate(shop.tenant.id)
    with pytest.raises(BookingCoreError):
        app.catalog.list_packages(shop.tenant.id)


@pytest.mark.redis
@pytest.mark.postgres
def test_dead_redis_never_fails_a_service_call(pg_database_url: str) -> None:
    """Redis on a closed port: every read falls through to the database, writes still work."""
    app = connect(
        pg_database_url,
        clock=ManualClock(START),
        cache_url="redis://127.0.0.1:1/0?socket_timeout=0.05&connect_timeout=0.05",
    )
    with app:
        shop = make_shop(app)
        for _ in range(3):
            assert app.catalog.get_package(shop.tenant.id, "gold").package.slug == "gold"
        app.bookings.hold(
            shop.tenant.id,
            package_id=shop.package.id,
            date=DAY,
            customer=CustomerDetails("A", "a@example.com"),
        )
        assert app.availability.check(shop.tenant.id, DAY).reason == "booked"
        assert app.cache is not None
        stats = app.cache.stats()
        assert stats.hits == 0
        assert stats.errors >= 3


# --- cached == uncached, for random interleavings of writes and reads --------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("price"), st.integers(0, 10_000)),
        st.tuples(st.just("rename"), st.sampled_from(["Gold", "Or", "Oro"])),
        st.tuples(st.just("toggle"), st.booleans()),
        st.tuples(st.just("hold"), st.integers(0, 40)),
        st.tuples(st.just("cancel"), st.integers(0, 10)),
        st.tuples(st.just("confirm"), st.integers(0, 10)),
        st.tuples(st.just("blackout"), st.integers(0, 40)),
        st.tuples(st.just("unblackout"), st.integers(0, 40)),
        st.tuples(st.just("tick"), st.integers(1, 20)),
        st.tuples(st.just("read"), st.integers(0, 3)),
    ),
    max_size=30,
)


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except BookingCoreError as error:
        return ("error", type(error).__name__)


def _read(app: BookingApp, tid: uuid.UUID, which: int) -> Any:
    first, last = dt.date(2030, 8, 20), dt.date(2030, 9, 30)
    if which == 0:
        return [(p.slug, p.name, p.base_price) for p in app.catalog.list_packages(tid)]
    if which == 1:
        details = app.catalog.get_package(tid, "gold")
        return (details.package.name, details.package.base_price, len(details.add_ons))
    if which == 2:
        return [(d.date, d.reason) for d in app.availability.unavailable_dates(tid, first, last)]
    return app.availability.check(tid, DAY)


def _apply(app: BookingApp, shop: Any, booked: list[uuid.UUID], op: str, arg: Any) -> Any:
    """Run one operation on one app; returns a comparable outcome."""
    tid, pid = shop.tenant.id, shop.package.id
    day = dt.date(2030, 8, 25) + dt.timedelta(days=arg if type(arg) is int else 0)
    if op in {"cancel", "confirm"} and arg >= len(booked):
        return "skip"
    if op == "price":
        return _outcome(lambda: app.catalog.update_package(tid, pid, base_price=arg).base_price)
    if op == "rename":
        return _outcome(lambda: app.catalog.update_package(tid, pid, name=arg).name)
    if op == "toggle":
        return _outcome(lambda: app.catalog.update_package(tid, pid, active=arg).active)
    if op == "hold":
        customer = CustomerDetails("G", "g@example.com")
        outcome = _outcome(
            lambda: app.bookings.hold(tid, package_id=pid, date=day, customer=customer)
        )
        if outcome[0] == "ok":
            booked.append(outcome[1].id)
            return ("ok", outcome[1].event_date)
        return outcome
    if op == "cancel":
        return _outcome(lambda: app.bookings.cancel(tid, booked[arg]).booking.status)
    if op == "confirm":
        return _outcome(lambda: app.bookings.confirm(tid, booked[arg], payment_ref="p").status)
    if op == "blackout":
        return _outcome(lambda: app.availability.add_blackout(tid, day).date)
    if op == "unblackout":
        return _outcome(lambda: app.availability.remove_blackout(tid, day))
    if op == "read":
        return _outcome(lambda: _read(app, tid, arg))
    return None  # tick: the shared clock moves below


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_cached_answers_equal_uncached(ops: list[tuple[str, Any]]) -> None:
    """Random interleavings of writes and reads: memory+cache answers exactly like memory."""
    clock = ManualClock(START)
    apps = [in_memory_app(clock=clock), in_memory_app(clock=clock, cache=MemoryCache())]
    shops = [make_shop(app) for app in apps]
    booked: list[list[uuid.UUID]] = [[], []]
    for op, arg in ops:
        results = [_apply(apps[i], shops[i], booked[i], op, arg) for i in range(2)]
        assert results[0] == results[1], (op, arg, results)
        if op == "tick":
            clock.advance(dt.timedelta(minutes=arg))
    for which in range(4):
        final = [
            _outcome(lambda i=i, w=which: _read(apps[i], shops[i].tenant.id, w)) for i in range(2)
        ]
        assert final[0] == final[1]
