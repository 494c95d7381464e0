"""The booking lifecycle: every legal change of a stored booking, decided here and only here.

Each operation takes the booking as read in the current transaction and returns a
:class:`BookingChange` (the booking before, the booking after, and the outbox event that
describes it), or ``None`` when the booking is already where the operation would take it (a
repeated confirm or cancel). It raises the typed error when the change is not allowed.

A :class:`BookingChange` refuses, when built, any pair of statuses its :class:`Step` does not
list: an illegal transition cannot even be expressed. The repository only stores a change, as
a compare-and-swap on the version it was decided from (``BookingRepository.save``); the seat a
change needs, frees or settles is named by :attr:`BookingChange.seat`, applied by the service.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final

from booking_core.domain.events import booking_event
from booking_core.domain.model import Booking, BookingStatus, EventType, OutboxEvent
from booking_core.domain.money import commission_refund
from booking_core.errors import HoldExpiredError, InvalidTransitionError, ValidationError

PENDING, CONFIRMED, FULFILLED = (
    BookingStatus.PENDING,
    BookingStatus.CONFIRMED,
    BookingStatus.FULFILLED,
)
CANCELED, EXPIRED = BookingStatus.CANCELED, BookingStatus.EXPIRED
_EVERY_STATUS = tuple(BookingStatus)


class Step(enum.Enum):
    """Every kind of change a stored booking may undergo, with the (from, to) statuses it may
    join. A status pair no step lists cannot be stored."""

    CONFIRM = frozenset({(PENDING, CONFIRMED)})
    #: Paid after the hold lapsed, its date still free: confirmed after all.
    CONFIRM_LATE = frozenset({(PENDING, CONFIRMED), (EXPIRED, CONFIRMED)})
    CANCEL = frozenset({(PENDING, CANCELED), (CONFIRMED, CANCELED)})
    EXPIRE = frozenset({(PENDING, EXPIRED)})
    FULFIL = frozenset({(CONFIRMED, FULFILLED)})
    RESCHEDULE = frozenset({(PENDING, PENDING), (CONFIRMED, CONFIRMED)})
    #: Paid when the booking could no longer take it: the payment is kept on record, to refund.
    RECORD_LATE_PAYMENT = frozenset({(PENDING, EXPIRED), (EXPIRED, EXPIRED), (CANCELED, CANCELED)})
    #: Money returned (any status); the refunded totals grow, never past what was paid.
    REFUND = frozenset((status, status) for status in _EVERY_STATUS)
    #: A refund's outcome recorded: only the version moves (it orders the booking's events).
    NOTE_REFUND_OUTCOME = frozenset((status, status) for status in _EVERY_STATUS)


def _status_changes() -> dict[BookingStatus, frozenset[BookingStatus]]:
    targets: dict[BookingStatus, set[BookingStatus]] = {status: set() for status in BookingStatus}
    for step in Step:
        for before, after in step.value:
            if before is not after:
                targets[before].add(after)
    return {status: frozenset(found) for status, found in targets.items()}


#: Which statuses a booking may move to from each status (derived from :class:`Step`).
ALLOWED_TRANSITIONS: Final[Mapping[BookingStatus, frozenset[BookingStatus]]] = MappingProxyType(
    _status_changes()
)


class SeatEffect(enum.Enum):
    """What a change does to the booking's claimed seat."""

    KEEP = "keep"
    #: Make the claim permanent (confirmed); the hold must still hold it.
    SETTLE = "settle"
    #: Free the date at once.
    RELEASE = "release"
    #: After the booking is stored (its row locked first, as every change does), its seat moves
    #: to the new date; no free seat there refuses the whole change.
    MOVE = "move"
    #: Before the booking is stored, a seat of its date is claimed again (a late payment that
    #: keeps its date); no free seat leaves the booking unchanged, for another decision.
    RECLAIM = "reclaim"


#: The fields a change may write; the rest of a booking is fixed when it is held.
MUTABLE_FIELDS: Final = frozenset(
    {
        "status",
        "event_date",
        "starts_at",
        "ends_at",
        "resource_ids",
        "confirmed_at",
        "canceled_at",
        "fulfilled_at",
        "payment_ref",
        "cancel_reason",
        "amount_paid",
        "amount_refunded",
        "commission_refunded",
        "version",
    }
)


@dataclass(frozen=True, slots=True)
class BookingChange:
    """One decided change: the booking as read, as it becomes (version + 1), and its event.

    Raises :class:`~booking_core.errors.InvalidTransitionError` when built with a status pair
    its step does not allow, and ``ValueError`` when it would touch what a change may not.
    """

    step: Step
    before: Booking
    after: Booking
    event: OutboxEvent
    seat: SeatEffect = SeatEffect.KEEP

    def __post_init__(self) -> None:
        if (self.before.status, self.after.status) not in self.step.value:
            raise InvalidTransitionError(
                self.before.id, self.before.status.value, self.after.status.value
            )
        if self.after.version != self.before.version + 1 or self.event.sequence != (
            self.after.version
        ):
            raise ValueError("a change moves the version by one, and its event carries it")
        changed = set(self.changed_fields()) - MUTABLE_FIELDS
        if changed:
            raise ValueError(f"a change may not write {sorted(changed)}")

    def changed_fields(self) -> dict[str, object]:
        """The fields this change writes, with their new values."""
        return {
            field.name: getattr(self.after, field.name)
            for field in dataclasses.fields(Booking)
            if getattr(self.after, field.name) != getattr(self.before, field.name)
        }

    @property
    def seat_expiry(self) -> dt.datetime | None:
        """When a seat claimed for the booking after this change lapses (None: never)."""
        return self.after.expires_at if self.after.status is PENDING else None


def _change(
    step: Step,
    booking: Booking,
    event_type: EventType,
    now: dt.datetime,
    *,
    event_id: uuid.UUID | None,
    seat: SeatEffect = SeatEffect.KEEP,
    extra: Mapping[str, object] = MappingProxyType({}),
    **fields: object,
) -> BookingChange:
    after = replace(booking, version=booking.version + 1, **fields)  # type: ignore[arg-type]
    event = booking_event(after, event_type, now, event_id=event_id, **extra)
    return BookingChange(step, booking, after, event, seat)


def _refused(booking: Booking, now: dt.datetime, requested: BookingStatus | str) -> Exception:
    seen = booking.as_of(now).status.value
    wanted = requested.value if isinstance(requested, BookingStatus) else requested
    return InvalidTransitionError(booking.id, seen, wanted)


def _shown(text: str) -> str:
    """An escaped, short repr of ``text`` for an error message."""
    shown = repr(text[:40])
    return shown if len(text) <= 40 else f"{shown[:-1]}…' ({len(text)} characters)"


def confirm(
    booking: Booking,
    *,
    payment_ref: str,
    amount_paid: int | None,
    now: dt.datetime,
    event_id: uuid.UUID | None = None,
) -> BookingChange | None:
    """PENDING (unexpired) → CONFIRMED, paid ``amount_paid`` (default: the total).

    None when already CONFIRMED by this ``payment_ref``. Raises HoldExpiredError when the hold
    lapsed, InvalidTransitionError otherwise (with a message saying so when another payment
    confirmed it).
    """
    if booking.status is PENDING and not booking.is_lapsed(now):
        return _change(
            Step.CONFIRM,
            booking,
            EventType.BOOKING_CONFIRMED,
            now,
            event_id=event_id,
            seat=SeatEffect.SETTLE,
            status=CONFIRMED,
            confirmed_at=now,
            payment_ref=payment_ref,
            amount_paid=booking.total if amount_paid is None else amount_paid,
        )
    seen = booking.as_of(now)
    if seen.status is CONFIRMED and seen.payment_ref == payment_ref:
        return None
    if seen.status is EXPIRED:
        raise HoldExpiredError(booking.id, seen.status.value, CONFIRMED.value)
    if seen.status is CONFIRMED and seen.payment_ref is not None:
        raise InvalidTransitionError(
            booking.id,
            CONFIRMED.value,
            CONFIRMED.value,
            message=f"booking {booking.id} is already CONFIRMED with payment_ref "
            f"{_shown(seen.payment_ref)}; the payment_ref differs ({_shown(payment_ref)}): "
            "confirming again is a no-op only with the same one",
        )
    raise _refused(booking, now, CONFIRMED)


def cancel(
    booking: Booking, *, reason: str, now: dt.datetime, event_id: uuid.UUID | None = None
) -> BookingChange | None:
    """PENDING (unexpired) or CONFIRMED → CANCELED, freeing the date at once.

    None when already CANCELED. The refund a cancellation owes is a further change
    (:func:`refund`), decided from the tenant's cancellation policy.
    """
    if (booking.status is PENDING and not booking.is_lapsed(now)) or booking.status is CONFIRMED:
        return _canceled(booking, reason=reason, now=now, event_id=event_id)
    if booking.status is CANCELED:
        return None
    raise _refused(booking, now, CANCELED)


def release_unpaid(
    booking: Booking, *, reason: str, now: dt.datetime, event_id: uuid.UUID | None = None
) -> BookingChange | None:
    """A PENDING hold whose payment failed or expired → CANCELED, lapsed or not (None when the
    booking is no longer PENDING: the event came too late to matter)."""
    if booking.status is not PENDING:
        return None
    return _canceled(booking, reason=reason, now=now, event_id=event_id, extra={"reason": reason})


def _canceled(
    booking: Booking,
    *,
    reason: str,
    now: dt.datetime,
    event_id: uuid.UUID | None,
    extra: Mapping[str, object] = MappingProxyType({}),
) -> BookingChange:
    """The one way a booking becomes CANCELED: its date freed at once."""
    return _change(
        Step.CANCEL,
        booking,
        EventType.BOOKING_CANCELED,
        now,
        event_id=event_id,
        seat=SeatEffect.RELEASE,
        extra=extra,
        status=CANCELED,
        canceled_at=now,
        cancel_reason=reason,
    )


def fulfil(
    booking: Booking, *, today: dt.date, now: dt.datetime, event_id: uuid.UUID | None = None
) -> BookingChange | None:
    """CONFIRMED → FULFILLED from the event date on (``today`` in the tenant's calendar).

    None when already FULFILLED.
    """
    if booking.status is CONFIRMED:
        if booking.event_date > today:
            raise InvalidTransitionError(booking.id, "CONFIRMED (event ahead)", FULFILLED.value)
        return _change(
            Step.FULFIL,
            booking,
            EventType.BOOKING_FULFILLED,
            now,
            event_id=event_id,
            status=FULFILLED,
            fulfilled_at=now,
        )
    if booking.status is FULFILLED:
        return None
    raise _refused(booking, now, FULFILLED)


def expire(booking: Booking, *, now: dt.datetime) -> BookingChange:
    """A lapsed PENDING hold → EXPIRED (the sweep records what callers already see)."""
    if not booking.is_lapsed(now):
        raise _refused(booking, now, EXPIRED)
    return _change(
        Step.EXPIRE,
        booking,
        EventType.BOOKING_EXPIRED,
        now,
        event_id=None,
        seat=SeatEffect.RELEASE,
        status=EXPIRED,
    )


def reschedule(
    booking: Booking,
    new_date: dt.date,
    *,
    now: dt.datetime,
    event_id: uuid.UUID | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    resource_ids: tuple[uuid.UUID, ...] | None = None,
) -> BookingChange:
    """Move a PENDING (unexpired) or CONFIRMED booking to ``new_date``; its seat moves with it.

    A timed booking moves to ``starts_at``–``ends_at`` on ``resource_ids`` (``new_date`` is
    the new start's date in the tenant's zone); the service claims the new time first.
    """
    seen = booking.as_of(now)
    if seen.status not in (PENDING, CONFIRMED):
        raise InvalidTransitionError(booking.id, seen.status.value, "RESCHEDULED")
    if booking.is_timed != (starts_at is not None):
        raise ValidationError("new_start", "a timed booking moves to a start, a date one to a date")
    extra: dict[str, object] = {"previous_date": booking.event_date.isoformat()}
    moved: dict[str, object] = {"event_date": new_date}
    if starts_at is not None and booking.starts_at is not None:
        if starts_at == booking.starts_at and resource_ids in (None, booking.resource_ids):
            raise ValidationError("new_start", "is the booking's current start")
        extra["previous_starts_at"] = booking.starts_at.isoformat()
        extra["previous_resource_ids"] = [str(each) for each in booking.resource_ids]
        moved.update(
            starts_at=starts_at,
            ends_at=ends_at,
            resource_ids=booking.resource_ids if resource_ids is None else resource_ids,
        )
    elif new_date == booking.event_date:
        raise ValidationError("new_date", "is the booking's current date")
    return _change(
        Step.RESCHEDULE,
        booking,
        EventType.BOOKING_RESCHEDULED,
        now,
        event_id=event_id,
        seat=SeatEffect.MOVE,
        extra=extra,
        **moved,
    )


def confirm_late(
    booking: Booking,
    *,
    payment_ref: str,
    amount_paid: int,
    now: dt.datetime,
    event_id: uuid.UUID | None = None,
) -> BookingChange | None:
    """Paid after the hold lapsed (PENDING or EXPIRED): CONFIRMED, if its date still has a seat
    (the change claims one; the service falls back to :func:`record_late_payment` when none is
    free). None when the booking is in another status."""
    if booking.status not in (PENDING, EXPIRED):
        return None
    return _change(
        Step.CONFIRM_LATE,
        booking,
        EventType.BOOKING_CONFIRMED,
        now,
        event_id=event_id,
        seat=SeatEffect.RECLAIM,
        extra={"late_payment": True},
        status=CONFIRMED,
        confirmed_at=now,
        payment_ref=payment_ref,
        amount_paid=amount_paid,
    )


def record_late_payment(
    booking: Booking,
    *,
    payment_ref: str,
    amount_paid: int,
    now: dt.datetime,
    event_id: uuid.UUID | None = None,
) -> BookingChange:
    """A payment the booking can no longer take (cancelled, or its date taken after the hold
    lapsed): kept on record, to be refunded in full by the next change."""
    lost = booking.status is not CANCELED
    why = (
        "paid after the hold expired and its date was taken"
        if lost
        else "paid after the booking was cancelled"
    )
    # One event per version: the expiry when it happens now, else the payment itself.
    expired_now = lost and booking.status is PENDING
    return _change(
        Step.RECORD_LATE_PAYMENT,
        booking,
        EventType.BOOKING_EXPIRED if expired_now else EventType.BOOKING_PAID_LATE,
        now,
        event_id=event_id,
        seat=SeatEffect.RELEASE if expired_now else SeatEffect.KEEP,
        extra={"reason": why},
        status=EXPIRED if lost else CANCELED,
        payment_ref=payment_ref,
        amount_paid=amount_paid,
    )


def late_payment_reason(change: BookingChange) -> str:
    """Why :func:`record_late_payment` kept a payment only to refund it."""
    return str(change.event.payload["reason"])


def refund(
    booking: Booking,
    *,
    amount: int,
    now: dt.datetime,
    refund_id: uuid.UUID,
    settled: bool = False,
) -> BookingChange:
    """Count ``amount`` as refunded, with the commission it returns.

    The commission keeps the cumulative formula exact: after this refund the booking has
    returned ``ceil(commission × refunded / total)`` (capped), whatever the number of partial
    refunds. ``settled`` says the provider already executed it (a refund made at the provider).

    Raises:
        ValidationError: ``amount`` is not positive or exceeds what remains refundable.
    """
    if amount <= 0:
        raise ValidationError("amount", "must be positive")
    remaining = booking.amount_paid - booking.amount_refunded
    if amount > remaining:
        raise ValidationError("amount", f"exceeds what remains refundable ({remaining})")
    refunded = booking.amount_refunded + amount
    returned = commission_refund(booking.commission, refunded, booking.total)
    return _change(
        Step.REFUND,
        booking,
        EventType.REFUND_SUCCEEDED if settled else EventType.REFUND_REQUESTED,
        now,
        event_id=None,
        extra={"refund_id": str(refund_id), "amount": amount},
        amount_refunded=refunded,
        commission_refunded=max(booking.commission_refunded, returned),
    )


def note_refund_outcome(
    booking: Booking,
    *,
    refund_id: uuid.UUID,
    amount: int,
    succeeded: bool,
    failure_reason: str | None,
    now: dt.datetime,
) -> BookingChange:
    """A refund reached SUCCEEDED or FAILED: the booking's next version carries its event."""
    return _change(
        Step.NOTE_REFUND_OUTCOME,
        booking,
        EventType.REFUND_SUCCEEDED if succeeded else EventType.REFUND_FAILED,
        now,
        event_id=None,
        extra={"refund_id": str(refund_id), "amount": amount, "failure_reason": failure_reason},
    )
