"""Storing what the domain decided: the booking's compare-and-swap, then (or first) its seat.

The seat rules run here once, above the repository port, for every backend: the repository
offers the storage primitives (save, which also settles or frees the seats; claim, release)
and this module orders the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from booking_core.domain.lifecycle import BookingChange, SeatEffect
from booking_core.domain.model import Booking, BookingStatus
from booking_core.errors import BookingConflictError, HoldExpiredError
from booking_core.ports.repositories import UnitOfWork


def store(
    uow: UnitOfWork, change: BookingChange, *, now: dt.datetime, capacity: int = 0
) -> Booking:
    """Store ``change`` with its outbox event and its seat effect; the stored booking.

    ``capacity`` is the booking's pool's, for a move. A RECLAIM goes through :func:`reclaim`.

    Raises:
        TransientStorageError: the booking changed since it was read (run again, fresh).
        HoldExpiredError: a confirm whose hold lost its seat meanwhile.
        BookingConflictError: a move to a date with no free seat.
    """
    if change.seat is SeatEffect.RECLAIM:
        raise ValueError("a reclaim may find no seat: store it with reclaim()")
    bookings = uow.bookings
    after = change.after
    # The row first: its compare-and-swap serialises every change of one booking. The save
    # writes the event too, and settles or frees the seats of a SETTLE or RELEASE.
    touched = bookings.save(change)
    # every claim it held: a timed booking's resource whose lapsed claim was taken over is lost
    if change.seat is SeatEffect.SETTLE and touched < after.claim_count:
        raise HoldExpiredError(after.id, BookingStatus.EXPIRED.value, after.status.value)
    if change.seat is SeatEffect.MOVE:
        if after.is_timed:
            raise ValueError("a timed booking's move claims its time first: see reschedule")
        bookings.release_claims(after.tenant_id, after.id)
        if not bookings.claim_seat(
            after, capacity=capacity, now=now, expires_at=change.seat_expiry
        ):
            raise BookingConflictError(after.event_date)
    return after


def reclaim(
    uow: UnitOfWork,
    change: BookingChange,
    *,
    now: dt.datetime,
    capacity: int,
    claim: Callable[[Booking], bool] | None = None,
) -> Booking | None:
    """Store a RECLAIM (a late payment keeping its date): its seat is claimed again *before*
    the booking is stored, so when none is free the booking stays unchanged (its lapsed claim
    dropped) and None lets the caller decide otherwise in the same transaction. A timed
    booking's time is claimed by ``claim`` instead (which leaves no claim when it fails).

    Raises:
        TransientStorageError: the booking changed since it was read (run again, fresh).
    """
    after = change.after
    bookings = uow.bookings
    bookings.release_claims(after.tenant_id, after.id)  # its lapsed seat, if any
    if claim is not None:
        if not claim(after):
            return None
    elif not bookings.claim_seat(after, capacity=capacity, now=now, expires_at=change.seat_expiry):
        return None
    bookings.save(change)
    return after
