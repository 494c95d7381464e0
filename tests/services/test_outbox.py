"""The outbox: one event per state change, in the same transaction, delivered in order."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import defaultdict

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import CustomerDetails, OutboxEvent
from booking_core.testing import ManualClock

from .conftest import Shop, make_shop

DAY = dt.date(2030, 10, 10)


def _hold(app: BookingApp, shop: Shop, day: dt.date, who: str = "a") -> uuid.UUID:
    return app.bookings.hold(
        shop.tenant.id,
        package_id=shop.package.id,
        date=day,
        customer=CustomerDetails(who, f"{who}@example.com"),
    ).id


def test_every_state_change_writes_one_event(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """Hold, confirm, reschedule, cancel (with its refund request) and expiry each write exactly one
    outbox event, numbered in order per booking, and a second drain after acknowledging them
    delivers nothing."""
    tid = shop.tenant.id
    first = _hold(app, shop, DAY)
    app.bookings.confirm(tid, first, payment_ref="p1")
    app.bookings.reschedule(tid, first, new_date=DAY + dt.timedelta(days=1))
    app.bookings.cancel(tid, first)
    lapsing = _hold(app, shop, DAY + dt.timedelta(days=5), "b")
    clock.advance(dt.timedelta(minutes=16))
    app.bookings.expire_holds(tenant_id=tid)
    seen: dict[uuid.UUID, list[tuple[int, str]]] = defaultdict(list)
    delivered = app.outbox.drain(
        lambda e: seen[e.booking_id].append((e.sequence, e.type)), tenant_id=tid
    )
    assert delivered == 7
    # confirm() counts the total as paid; cancelling ≥ 30 days ahead refunds it all; the fake
    # provider never saw this payment and errors, so the refund stays PENDING (no event yet)
    assert seen[first] == [
        (1, "booking.held"),
        (2, "booking.confirmed"),
        (3, "booking.rescheduled"),
        (4, "booking.canceled"),
        (5, "refund.requested"),
    ]
    assert seen[lapsing] == [(1, "booking.held"), (2, "booking.expired")]
    assert app.outbox.drain(lambda e: None, tenant_id=tid) == 0  # all acknowledged


def test_payload_describes_the_booking(app: BookingApp, shop: Shop) -> None:
    """A booking.held event's payload carries the booking id, customer id, event date, status and
    total; marking it done counts 1 the first time and 0 the second."""
    earlier = _hold(app, shop, DAY - dt.timedelta(days=1))  # the customer exists already
    app.outbox.drain(lambda e: None, tenant_id=shop.tenant.id)
    booking_id = _hold(app, shop, DAY)
    booking = app.bookings.get(shop.tenant.id, booking_id)
    assert booking.customer_id == app.bookings.get(shop.tenant.id, earlier).customer_id
    [event] = app.outbox.claim(batch_size=10, tenant_id=shop.tenant.id)
    assert event.payload["customer_id"] == str(booking.customer_id)
    assert event.type == "booking.held"
    assert event.payload["booking_id"] == str(booking_id)
    assert event.payload["event_date"] == DAY.isoformat()
    assert event.payload["status"] == "PENDING"
    assert event.payload["total"] == 250_000
    assert app.outbox.mark_done([event]) == 1
    assert app.outbox.mark_done([event]) == 0


def test_leases_expire_and_events_go_out_again(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """At least once: a worker that never acknowledges loses its lease; the event returns."""
    booking_id = _hold(app, shop, DAY)
    app.bookings.confirm(shop.tenant.id, booking_id, payment_ref="p")
    [leased] = app.outbox.claim(
        batch_size=10, lease=dt.timedelta(seconds=30), tenant_id=shop.tenant.id
    )
    assert (leased.type, leased.attempts) == ("booking.held", 1)
    # the booking's second event waits behind the first, and the first is leased
    assert app.outbox.claim(batch_size=10, tenant_id=shop.tenant.id) == []
    clock.advance(dt.timedelta(seconds=31))
    [again] = app.outbox.claim(batch_size=10, tenant_id=shop.tenant.id)
    assert (again.id, again.attempts) == (leased.id, 2)
    app.outbox.mark_done([again])
    [second] = app.outbox.claim(batch_size=10, tenant_id=shop.tenant.id)
    assert second.type == "booking.confirmed"


def test_a_failing_handler_holds_back_only_its_booking(app: BookingApp, shop: Shop) -> None:
    """When the handler fails on one booking's event, the other booking's events are still
    delivered, and the next drain delivers the held-back booking's events in order."""
    one = _hold(app, shop, DAY, "one")
    two = _hold(app, shop, DAY + dt.timedelta(days=1), "two")
    app.bookings.confirm(shop.tenant.id, one, payment_ref="p1")
    delivered: list[tuple[uuid.UUID, str]] = []

    def handler(event: OutboxEvent) -> None:
        if event.booking_id == one:
            raise RuntimeError("smtp down")
        delivered.append((event.booking_id, event.type))

    app.outbox.drain(handler, tenant_id=shop.tenant.id)
    assert delivered == [(two, "booking.held")]
    app.outbox.drain(lambda e: delivered.append((e.booking_id, e.type)), tenant_id=shop.tenant.id)
    assert delivered[1:] == [(one, "booking.held"), (one, "booking.confirmed")]


def test_several_workers_deliver_each_booking_in_order(app: BookingApp) -> None:
    """4 workers drain 10 bookings × 5 events: every event once, each booking in order."""
    shop = make_shop(app)
    tid = shop.tenant.id
    bookings = []
    for i in range(10):
        booking_id = _hold(app, shop, DAY + dt.timedelta(days=3 * i), f"w{i}")
        app.bookings.confirm(tid, booking_id, payment_ref=f"p{i}")
        app.bookings.reschedule(tid, booking_id, new_date=DAY + dt.timedelta(days=3 * i + 1))
        app.bookings.cancel(tid, booking_id)  # + refund.requested
        bookings.append(booking_id)
    lock = threading.Lock()
    log: list[tuple[uuid.UUID, int, uuid.UUID]] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait(timeout=30)
        idle = 0
        while idle < 3:
            batch = app.outbox.claim(batch_size=3, tenant_id=tid)
            if not batch:
                idle += 1
                continue
            idle = 0
            with lock:
                log.extend((e.booking_id, e.sequence, e.id) for e in batch)
            app.outbox.mark_done(batch)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(log) == 50
    assert len({event_id for _, _, event_id in log}) == 50  # each delivered exactly once
    for booking_id in bookings:
        sequences = [seq for b, seq, _ in log if b == booking_id]
        assert sequences == [1, 2, 3, 4, 5]
