"""Rescheduling on every backend: the booking moves, the old date frees, one of two racers wins."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest

from booking_core.bootstrap import BookingApp
from booking_core.domain.model import (
    BookingStatus,
    CustomerDetails,
)
from booking_core.errors import (
    BookingConflictError,
    DateUnavailableError,
    InvalidTransitionError,
    ValidationError,
)
from booking_core.testing import ManualClock

from ._payments import ANN, EVENT, events_of, paid_booking
from .conftest import Shop, make_shop


def test_reschedule_moves_the_booking_and_frees_the_old_date(app: BookingApp, shop: Shop) -> None:
    """A confirmed booking moved to a free date stays CONFIRMED, frees its old date and writes
    booking.rescheduled; moving onto a full, blacked-out, past or the same date is refused and
    changes nothing."""
    booking, _ = paid_booking(app, shop)
    new_date = EVENT + dt.timedelta(days=7)
    moved = app.bookings.reschedule(shop.tenant.id, booking.id, new_date=new_date)
    assert (moved.event_date, moved.status) == (new_date, BookingStatus.CONFIRMED)
    assert app.availability.check(shop.tenant.id, EVENT).available
    assert app.availability.check(shop.tenant.id, new_date).reason == "booked"
    other = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    with pytest.raises(BookingConflictError):
        app.bookings.reschedule(shop.tenant.id, other.id, new_date=new_date)
    assert app.bookings.get(shop.tenant.id, other.id).event_date == EVENT  # nothing changed
    assert app.availability.check(shop.tenant.id, EVENT).reason == "booked"
    app.availability.add_blackout(shop.tenant.id, EVENT + dt.timedelta(days=1))
    with pytest.raises(DateUnavailableError):
        app.bookings.reschedule(shop.tenant.id, other.id, new_date=EVENT + dt.timedelta(days=1))
    with pytest.raises(DateUnavailableError):
        app.bookings.reschedule(shop.tenant.id, other.id, new_date=dt.date(2030, 6, 1))
    with pytest.raises(ValidationError):
        app.bookings.reschedule(shop.tenant.id, other.id, new_date=EVENT)
    assert "booking.rescheduled" in events_of(app, booking.id)


def test_reschedule_of_a_pending_hold_keeps_its_expiry(
    app: BookingApp, shop: Shop, clock: ManualClock
) -> None:
    """A rescheduled PENDING hold keeps its original expiry: once it lapses, its new date is free
    and it cannot be rescheduled again (InvalidTransitionError)."""
    hold = app.bookings.hold(shop.tenant.id, package_id=shop.package.id, date=EVENT, customer=ANN)
    moved = app.bookings.reschedule(shop.tenant.id, hold.id, new_date=EVENT + dt.timedelta(days=2))
    assert moved.status is BookingStatus.PENDING
    clock.advance(dt.timedelta(minutes=15))
    assert app.availability.check(shop.tenant.id, EVENT + dt.timedelta(days=2)).available
    with pytest.raises(InvalidTransitionError):
        app.bookings.reschedule(shop.tenant.id, hold.id, new_date=EVENT + dt.timedelta(days=3))


def test_reschedule_race_one_winner(app: BookingApp) -> None:
    """8 bookings race to move onto one free date: exactly one moves, the rest keep theirs."""
    shop = make_shop(app)
    target = EVENT + dt.timedelta(days=30)
    bookings = [
        app.bookings.hold(
            shop.tenant.id,
            package_id=shop.package.id,
            date=EVENT + dt.timedelta(days=i),
            customer=CustomerDetails("R", f"r{i}@example.com"),
        )
        for i in range(8)
    ]
    barrier = threading.Barrier(8)
    results: list[Any] = [None] * 8

    def move(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = app.bookings.reschedule(shop.tenant.id, bookings[i].id, new_date=target)
        except BookingConflictError as error:
            results[i] = error

    threads = [threading.Thread(target=move, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(type(r).__name__ for r in results) == {"Booking": 1, "BookingConflictError": 7}
    on_target = app.bookings.list_for_dates(shop.tenant.id, target, target)
    assert len(on_target) == 1
    for i, result in enumerate(results):
        if isinstance(result, BookingConflictError):  # kept its own date, which still blocks
            kept = app.bookings.get(shop.tenant.id, bookings[i].id)
            assert kept.event_date == EVENT + dt.timedelta(days=i)
            assert not app.availability.check(shop.tenant.id, kept.event_date).available
