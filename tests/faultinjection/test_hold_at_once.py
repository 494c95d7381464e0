"""The hold in one statement on real PostgreSQL, behind a proxy that counts round trips.

A warm hold is one request on the wire; a lost reply to that request is found, not repeated;
terms that changed after they were cached never price or refuse a hold.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from booking_core import connect
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.adapters.sqlalchemy._engine import make_engine
from booking_core.adapters.sqlalchemy._hold_at_once import HoldConnections
from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    BookingPolicy,
    BookingStatus,
    CustomerDetails,
)
from booking_core.errors import BookingConflictError, DateUnavailableError
from booking_core.testing import ManualClock
from tests.faultinjection.lossy_proxy import LossyProxy

pytestmark = pytest.mark.postgres

START = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2030, 8, 20)
ANN = CustomerDetails("Ann Example", "ann@example.com", None)


@pytest.fixture
def apps(lossy_pg: tuple[str, LossyProxy]) -> Iterator[tuple[BookingApp, BookingApp, LossyProxy]]:
    """A cached app and an uncached one (another server, say) on one database, via the proxy.

    The second one's writes do not reach the first one's cache: its cached terms go stale.
    """
    url, proxy = lossy_pg
    clock = ManualClock(START)
    with (
        connect(url, clock=clock, cache_url="memory://") as cached,
        connect(url, clock=clock) as other,
    ):
        yield cached, other, proxy


def _shop(app: BookingApp, *, capacity: int = 1) -> tuple[Any, Any, Any]:
    tenant = app.tenants.create(
        slug=f"once-{uuid.uuid4().hex[:12]}",
        name="Studio",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
        policy=BookingPolicy(capacity_per_date=capacity),
    )
    package = app.catalog.create_package(tenant.id, slug="gold", name="Gold", base_price=100_000)
    add_on = app.catalog.create_add_on(tenant.id, slug="drone", name="Drone", price=20_000)
    app.catalog.offer_add_on(tenant.id, package.id, add_on.id)
    return tenant, package, add_on


def _requests(proxy: LossyProxy, call: Any) -> tuple[Any, int]:
    before = proxy.requests
    result = call()
    return result, proxy.requests - before


def _warm(app: BookingApp, tenant: Any, package: Any) -> None:
    """One hold caches the terms (and prepares the statement's plan on that connection)."""
    app.bookings.hold(tenant.id, package_id=package.id, date=DAY, customer=ANN)


def test_a_warm_hold_is_one_round_trip_in_every_variant(
    apps: tuple[BookingApp, BookingApp, LossyProxy],
) -> None:
    """With the terms cached, a hold is one request on the wire (no BEGIN, no COMMIT) with one
    seat, three seats, add-ons and an idempotency key, and stores what the transaction would:
    the booking at the cached price, its lines, its seat, its event with the stored customer's
    id, and its key."""
    cached, _, proxy = apps
    tenant, package, add_on = _shop(cached, capacity=3)
    _warm(cached, tenant, package)
    variants: list[dict[str, Any]] = [
        {},
        {"add_ons": {add_on.id: 2}},
        {"idempotency_key": f"k-{uuid.uuid4().hex}"},
    ]
    for offset, options in enumerate(variants, start=1):
        # the variant's first statement is prepared (parameters of other types: a new plan)
        warm = {**options}
        if "idempotency_key" in warm:
            warm["idempotency_key"] = f"warm-{uuid.uuid4().hex}"
        first = DAY + dt.timedelta(days=20 + offset)
        cached.bookings.hold(tenant.id, package_id=package.id, date=first, customer=ANN, **warm)
        day = DAY + dt.timedelta(days=offset)
        booking, trips = _requests(
            proxy,
            lambda d=day, o=options: cached.bookings.hold(
                tenant.id, package_id=package.id, date=d, customer=ANN, **o
            ),
        )
        assert trips == 1, (options, trips)
        lines = 2 * 20_000 if "add_ons" in options else 0
        assert (booking.status, booking.total) == (BookingStatus.PENDING, 100_000 + lines)
        assert cached.bookings.get(tenant.id, booking.id) == booking
        with cached.uow(read_only=True) as uow:
            events = uow.outbox.for_booking(tenant.id, booking.id)
            customer = uow.customers.find_by_email(tenant.id, ANN.email)
        assert customer is not None
        assert booking.customer_id == customer.id
        assert [(e.sequence, e.type, e.payload["customer_id"]) for e in events] == [
            (1, "booking.held", str(customer.id))
        ]
        if "add_ons" in options:
            assert [(line.add_on_id, line.quantity) for line in booking.add_ons] == [(add_on.id, 2)]
        if "idempotency_key" in options:
            replay = cached.bookings.hold(
                tenant.id, package_id=package.id, date=day, customer=ANN, **options
            )
            assert replay.id == booking.id
    # three seats: the same date takes three holds, each in one request, then refuses
    seat_day = DAY + dt.timedelta(days=10)
    trips = []
    for _ in range(3):
        _, count = _requests(
            proxy,
            lambda: cached.bookings.hold(
                tenant.id, package_id=package.id, date=seat_day, customer=ANN
            ),
        )
        trips.append(count)
    assert trips == [1, 1, 1]
    with pytest.raises(BookingConflictError):
        cached.bookings.hold(tenant.id, package_id=package.id, date=seat_day, customer=ANN)


def test_a_lapsed_claim_is_taken_over_in_one_round_trip(lossy_pg: tuple[str, LossyProxy]) -> None:
    """A hold that lapsed leaves its claim row until the sweep; the next hold of the date takes
    that row over inside the one statement (one request): the date then has one claim, the new
    booking's, live until the new expiry, and refuses a third hold."""
    url, proxy = lossy_pg
    clock = ManualClock(START)
    with connect(url, clock=clock, cache_url="memory://") as app:
        tenant, package, _ = _shop(app)
        _warm(app, tenant, package)
        day = DAY + dt.timedelta(days=40)
        lapsed = app.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN)
        clock.advance(dt.timedelta(minutes=16))  # past the 15-minute hold
        taker, trips = _requests(
            proxy,
            lambda: app.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN),
        )
        assert trips == 1
        assert taker.id != lapsed.id
        engine = app.uow.engine  # type: ignore[attr-defined]
        with engine.connect() as conn:
            claims = conn.execute(
                select(
                    t.booking_claims.c.seat,
                    t.booking_claims.c.booking_id,
                    t.booking_claims.c.expires_at,
                ).where(
                    t.booking_claims.c.tenant_id == tenant.id,
                    t.booking_claims.c.claim_date == day,
                )
            ).all()
        assert [tuple(row) for row in claims] == [(0, taker.id, taker.expires_at)]
        with pytest.raises(BookingConflictError):
            app.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN)


def test_a_lost_reply_is_found_and_never_booked_twice(
    apps: tuple[BookingApp, BookingApp, LossyProxy],
) -> None:
    """When the reply to the one statement is lost after the server ran it, the hold returns
    the booking that statement wrote (found by its id), with one seat and one event; when the
    request itself was lost, the transaction writes it. Neither reports a conflict against
    itself, on a date of one seat."""
    cached, _, proxy = apps
    tenant, package, _ = _shop(cached)
    _warm(cached, tenant, package)
    for offset, drop in ((1, False), (2, True)):
        day = DAY + dt.timedelta(days=offset)
        cuts = proxy.cuts
        proxy.lose_next_reply(drop_request=drop)
        booking = cached.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN)
        assert proxy.cuts == cuts + 1
        assert booking.status is BookingStatus.PENDING
        assert [b.id for b in cached.bookings.list_for_dates(tenant.id, day, day)] == [booking.id]
        seats = cached.availability.unavailable_dates(tenant.id, day, day)
        assert [(d.date, d.reason) for d in seats] == [(day, "booked")]


def test_stale_terms_never_price_or_refuse_a_hold(
    apps: tuple[BookingApp, BookingApp, LossyProxy],
) -> None:
    """Terms cached before another server changed the price, an add-on's price, the
    commission, the capacity or the blackouts are caught by the statement: the hold is priced
    and refused by the current data, never by the cache; stale terms are dropped and reloaded,
    after which a hold is one request again."""
    cached, other, proxy = apps
    tenant, package, add_on = _shop(cached, capacity=2)
    _warm(cached, tenant, package)
    other.catalog.update_package(tenant.id, package.id, base_price=150_000)
    other.catalog.update_add_on(tenant.id, add_on.id, price=30_000)
    other.tenants.update(tenant.id, commission_percent=20)
    day = DAY + dt.timedelta(days=1)
    repriced = cached.bookings.hold(
        tenant.id, package_id=package.id, date=day, customer=ANN, add_ons={add_on.id: 1}
    )
    assert (repriced.package_price, repriced.total, repriced.commission) == (
        150_000,
        180_000,
        36_000,
    )
    # the stale terms were dropped: the next hold reloads them, the one after is one request
    cached.bookings.hold(
        tenant.id, package_id=package.id, date=DAY + dt.timedelta(days=5), customer=ANN
    )
    again, trips = _requests(
        proxy,
        lambda: cached.bookings.hold(
            tenant.id, package_id=package.id, date=DAY + dt.timedelta(days=6), customer=ANN
        ),
    )
    assert (trips, again.total) == (1, 150_000)
    # capacity cut from 2 to 1 elsewhere: the date of one hold is full now
    other.tenants.update_policy(tenant.id, BookingPolicy(capacity_per_date=1))
    with pytest.raises(BookingConflictError):
        cached.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN)
    # a blackout added elsewhere (blackouts are checked as the statement writes)
    closed = DAY + dt.timedelta(days=2)
    other.availability.add_blackout(tenant.id, closed)
    with pytest.raises(DateUnavailableError) as refused:
        cached.bookings.hold(tenant.id, package_id=package.id, date=closed, customer=ANN)
    assert refused.value.reason == "blackout"
    # and a policy that opens a date the cache would refuse: the transaction decides
    other.tenants.update_policy(tenant.id, BookingPolicy(capacity_per_date=1, horizon_days=3000))
    far = START.date() + dt.timedelta(days=2500)
    held = cached.bookings.hold(tenant.id, package_id=package.id, date=far, customer=ANN)
    assert held.event_date == far


@pytest.mark.parametrize("path", ["one statement", "transaction"])
def test_a_lowered_capacity_is_never_overbooked(
    apps: tuple[BookingApp, BookingApp, LossyProxy], path: str
) -> None:
    """A live claim on a seat past a capacity since lowered still counts: with capacity 2 cut to
    1 while the booking on seat 1 lives (seat 0 freed), every further hold of that date is a
    conflict on both paths, and so is a reschedule onto it; the date keeps one live booking."""
    cached, other, _ = apps
    app = cached if path == "one statement" else other
    tenant, package, _ = _shop(app, capacity=2)
    _warm(app, tenant, package)
    day = DAY + dt.timedelta(days=40)
    first = app.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN)
    app.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN)  # seat 1
    app.bookings.cancel(tenant.id, first.id)  # seat 0 is free again
    other.tenants.update_policy(tenant.id, BookingPolicy(capacity_per_date=1))
    for _ in range(3):  # the first reloads the terms, the next ones run on them
        with pytest.raises(BookingConflictError):
            app.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN)
    elsewhere = app.bookings.hold(
        tenant.id, package_id=package.id, date=day + dt.timedelta(days=1), customer=ANN
    )
    with pytest.raises(BookingConflictError):
        app.bookings.reschedule(tenant.id, elsewhere.id, new_date=day)
    live = [
        b for b in app.bookings.list_for_dates(tenant.id, day, day) if b.status.value == "PENDING"
    ]
    assert len(live) == 1


def test_the_statements_connections_are_bounded(lossy_pg: tuple[str, LossyProxy]) -> None:
    """The one-statement holds open at most as many connections as the engine's pool keeps:
    with two in use a third hold is settled by the pooled transaction instead (RACED), a
    connection given back serves the next hold, and a discarded one frees its place."""

    url, _ = lossy_pg
    engine = make_engine(url)
    connections = HoldConnections(engine, limit=2)
    try:
        first, second = connections.take(), connections.take()
        assert first is not None
        assert second is not None
        assert connections.take() is None
        connections.give_back(first)
        assert connections.take() is first
        connections.discard(second)
        assert second.closed
        replacement = connections.take()
        assert replacement is not None
        assert replacement is not second
        assert replacement.autocommit
        assert replacement.execute("SHOW plan_cache_mode").fetchone() == ("force_generic_plan",)
        connections.give_back(first)
        connections.give_back(replacement)
    finally:
        connections.close()
        engine.dispose()
    assert first.closed
