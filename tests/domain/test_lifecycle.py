"""The booking lifecycle: each operation's decision, and no illegal change can be built."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking_core.domain import lifecycle
from booking_core.domain.events import booking_event
from booking_core.domain.lifecycle import (
    ALLOWED_TRANSITIONS,
    BookingChange,
    SeatEffect,
    Step,
)
from booking_core.domain.model import Booking, BookingStatus, EventType
from booking_core.errors import HoldExpiredError, InvalidTransitionError, ValidationError

NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)
DAY = dt.date(2027, 6, 1)
S = BookingStatus


def _booking(status: BookingStatus = S.PENDING, **fields: object) -> Booking:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": uuid.uuid4(),
        "package_id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "event_date": DAY,
        "status": status,
        "package_price": 90_000,
        "total": 100_000,
        "commission": 12_500,
        "currency": "EUR",
        "created_at": NOW,
        "expires_at": NOW + dt.timedelta(minutes=15),
    }
    values.update(fields)
    return Booking(**values)  # type: ignore[arg-type]


def test_the_transition_table_is_derived_from_the_steps() -> None:
    """ALLOWED_TRANSITIONS lists exactly the status changes some step makes, the late payment's
    EXPIRED → CONFIRMED included, and nothing leaves FULFILLED or CANCELED."""
    assert dict(ALLOWED_TRANSITIONS) == {
        S.PENDING: {S.CONFIRMED, S.CANCELED, S.EXPIRED},
        S.CONFIRMED: {S.FULFILLED, S.CANCELED},
        S.EXPIRED: {S.CONFIRMED},
        S.FULFILLED: set(),
        S.CANCELED: set(),
    }
    with pytest.raises(TypeError):
        ALLOWED_TRANSITIONS[S.CANCELED] = frozenset({S.PENDING})  # type: ignore[index]


@given(
    step=st.sampled_from(list(Step)),
    before=st.sampled_from(list(BookingStatus)),
    after=st.sampled_from(list(BookingStatus)),
)
def test_a_change_outside_its_step_cannot_be_built(
    step: Step, before: BookingStatus, after: BookingStatus
) -> None:
    """BookingChange builds for exactly the (from, to) pairs its step lists and raises
    InvalidTransitionError for every other pair."""
    booking = _booking(before)
    moved = replace(booking, status=after, version=2)
    event = booking_event(moved, EventType.BOOKING_CONFIRMED, NOW)
    if (before, after) in step.value:
        assert BookingChange(step, booking, moved, event).after is moved
    else:
        with pytest.raises(InvalidTransitionError):
            BookingChange(step, booking, moved, event)


def test_a_change_moves_the_version_by_one_and_touches_only_mutable_fields() -> None:
    """A change that skips a version, whose event carries another sequence, or that rewrites
    the price is refused."""
    booking = _booking(S.CONFIRMED)
    skipped = replace(booking, version=3)
    with pytest.raises(ValueError, match="version"):
        BookingChange(
            Step.REFUND, booking, skipped, booking_event(skipped, EventType.REFUND_REQUESTED, NOW)
        )
    repriced = replace(booking, version=2, total=1)
    with pytest.raises(ValueError, match="total"):
        BookingChange(
            Step.REFUND, booking, repriced, booking_event(repriced, EventType.REFUND_REQUESTED, NOW)
        )


def test_confirm_settles_the_seat_and_pays_the_total_by_default() -> None:
    """An unexpired hold confirms with its total paid, its claim to be settled, and a
    ``booking.confirmed`` event at the new version; the same payment again is a no-op."""
    hold = _booking()
    change = lifecycle.confirm(hold, payment_ref="pay_1", amount_paid=None, now=NOW)
    assert change is not None
    assert (change.after.status, change.after.amount_paid, change.after.version) == (
        S.CONFIRMED,
        100_000,
        2,
    )
    assert change.seat is SeatEffect.SETTLE
    assert (change.event.type, change.event.sequence) == ("booking.confirmed", 2)
    assert change.changed_fields() == {
        "status": S.CONFIRMED,
        "confirmed_at": NOW,
        "payment_ref": "pay_1",
        "amount_paid": 100_000,
        "version": 2,
    }
    again = lifecycle.confirm(change.after, payment_ref="pay_1", amount_paid=None, now=NOW)
    assert again is None


def test_confirm_refuses_a_lapsed_hold_and_another_payment() -> None:
    """A lapsed hold raises HoldExpiredError; a booking confirmed by another payment raises an
    InvalidTransitionError that names both refs; a cancelled one the plain refusal."""
    hold = _booking()
    with pytest.raises(HoldExpiredError):
        lifecycle.confirm(hold, payment_ref="p", amount_paid=None, now=NOW + dt.timedelta(hours=1))
    paid = _booking(S.CONFIRMED, payment_ref="pay_first")
    with pytest.raises(InvalidTransitionError, match=r"'pay_first'.*'pay_second'"):
        lifecycle.confirm(paid, payment_ref="pay_second", amount_paid=None, now=NOW)
    with pytest.raises(InvalidTransitionError, match="is CANCELED; cannot become CONFIRMED"):
        lifecycle.confirm(_booking(S.CANCELED), payment_ref="p", amount_paid=None, now=NOW)


def test_cancel_frees_the_seat_and_is_a_no_op_when_cancelled() -> None:
    """PENDING and CONFIRMED cancel (freeing the seat); CANCELED gives None; a lapsed hold,
    EXPIRED and FULFILLED are refused."""
    for status in (S.PENDING, S.CONFIRMED):
        change = lifecycle.cancel(_booking(status), reason="rain", now=NOW)
        assert change is not None
        assert (change.after.status, change.after.cancel_reason, change.seat) == (
            S.CANCELED,
            "rain",
            SeatEffect.RELEASE,
        )
    assert lifecycle.cancel(_booking(S.CANCELED), reason="", now=NOW) is None
    late = NOW + dt.timedelta(hours=1)
    for booking, at in (
        (_booking(), late),
        (_booking(S.EXPIRED), NOW),
        (_booking(S.FULFILLED), NOW),
    ):
        with pytest.raises(InvalidTransitionError):
            lifecycle.cancel(booking, reason="", now=at)


def test_an_unpaid_hold_is_released_even_after_it_lapsed() -> None:
    """A failed payment cancels a PENDING hold, lapsed or not, with the reason in its event;
    any other status is left alone (None)."""
    change = lifecycle.release_unpaid(
        _booking(), reason="payment.failed", now=NOW + dt.timedelta(days=1)
    )
    assert change is not None
    assert change.after.status is S.CANCELED
    assert change.event.payload["reason"] == "payment.failed"
    assert lifecycle.release_unpaid(_booking(S.CONFIRMED), reason="x", now=NOW) is None


def test_fulfil_waits_for_the_event_date() -> None:
    """CONFIRMED fulfils from its event date on (not before); FULFILLED is a no-op; PENDING is
    refused."""
    confirmed = _booking(S.CONFIRMED)
    with pytest.raises(InvalidTransitionError, match="event ahead"):
        lifecycle.fulfil(confirmed, today=DAY - dt.timedelta(days=1), now=NOW)
    change = lifecycle.fulfil(confirmed, today=DAY, now=NOW)
    assert change is not None
    assert (change.after.status, change.after.fulfilled_at, change.seat) == (
        S.FULFILLED,
        NOW,
        SeatEffect.KEEP,
    )
    assert lifecycle.fulfil(change.after, today=DAY, now=NOW) is None
    with pytest.raises(InvalidTransitionError):
        lifecycle.fulfil(_booking(), today=DAY, now=NOW)


def test_expire_only_a_lapsed_hold() -> None:
    """expire() marks a lapsed hold EXPIRED and frees its seat; a live hold is refused."""
    with pytest.raises(InvalidTransitionError):
        lifecycle.expire(_booking(), now=NOW)
    change = lifecycle.expire(_booking(), now=NOW + dt.timedelta(minutes=15))
    assert (change.after.status, change.seat, change.event.type) == (
        S.EXPIRED,
        SeatEffect.RELEASE,
        "booking.expired",
    )


def test_reschedule_moves_the_date_and_its_seat() -> None:
    """A live booking moves to another date (the event records the previous one); the same
    date is a ValidationError and a cancelled booking cannot move."""
    change = lifecycle.reschedule(_booking(S.CONFIRMED), DAY + dt.timedelta(days=2), now=NOW)
    assert (change.after.event_date, change.after.status, change.seat) == (
        DAY + dt.timedelta(days=2),
        S.CONFIRMED,
        SeatEffect.MOVE,
    )
    assert change.event.payload["previous_date"] == DAY.isoformat()
    assert change.seat_expiry is None  # a confirmed seat never lapses
    pending = lifecycle.reschedule(_booking(), DAY + dt.timedelta(days=1), now=NOW)
    assert pending.seat_expiry == NOW + dt.timedelta(minutes=15)
    with pytest.raises(ValidationError):
        lifecycle.reschedule(_booking(), DAY, now=NOW)
    with pytest.raises(InvalidTransitionError, match="cannot become RESCHEDULED"):
        lifecycle.reschedule(_booking(S.CANCELED), DAY + dt.timedelta(days=1), now=NOW)


def test_a_late_payment_confirms_or_is_kept_to_refund() -> None:
    """Paid after the lapse: confirm_late reclaims a permanent seat (EXPIRED → CONFIRMED);
    when the date is gone, record_late_payment keeps the payment on an EXPIRED (or CANCELED)
    booking, with the expiry event when the hold expires now and ``booking.paid_late`` else."""
    expired = _booking(S.EXPIRED)
    late = lifecycle.confirm_late(expired, payment_ref="p", amount_paid=100_000, now=NOW)
    assert late is not None
    assert (late.step, late.after.status, late.seat, late.seat_expiry) == (
        Step.CONFIRM_LATE,
        S.CONFIRMED,
        SeatEffect.RECLAIM,
        None,
    )
    assert late.event.payload["late_payment"] is True
    assert (
        lifecycle.confirm_late(_booking(S.CANCELED), payment_ref="p", amount_paid=1, now=NOW)
        is None
    )
    lapsed_now = lifecycle.record_late_payment(
        _booking(), payment_ref="p", amount_paid=100_000, now=NOW
    )
    assert (lapsed_now.after.status, lapsed_now.event.type, lapsed_now.seat) == (
        S.EXPIRED,
        "booking.expired",
        SeatEffect.RELEASE,
    )
    for status, kept in ((S.EXPIRED, S.EXPIRED), (S.CANCELED, S.CANCELED)):
        change = lifecycle.record_late_payment(
            _booking(status), payment_ref="p", amount_paid=100_000, now=NOW
        )
        assert (change.after.status, change.after.amount_paid, change.event.type) == (
            kept,
            100_000,
            "booking.paid_late",
        )
    assert "cancelled" in lifecycle.late_payment_reason(change)


@given(
    paid=st.integers(1, 10**9),
    parts=st.lists(st.integers(1, 10**9), min_size=1, max_size=8),
)
def test_refunds_never_pass_the_payment_and_return_commission_in_proportion(
    paid: int, parts: list[int]
) -> None:
    """Any sequence of refunds the domain accepts keeps refunded ≤ paid, and the commission
    returned is ceil(commission × refunded / total) (capped); a refund past what remains is a
    ValidationError that changes nothing."""
    booking = _booking(S.CONFIRMED, total=paid, amount_paid=paid, commission=paid // 8)
    for amount in parts:
        if amount > booking.amount_paid - booking.amount_refunded:
            with pytest.raises(ValidationError):
                lifecycle.refund(booking, amount=amount, now=NOW, refund_id=uuid.uuid4())
            continue
        booking = lifecycle.refund(booking, amount=amount, now=NOW, refund_id=uuid.uuid4()).after
        assert booking.amount_refunded <= booking.amount_paid
        expected = -(-booking.commission * booking.amount_refunded // booking.total)
        assert booking.commission_refunded == min(booking.commission, expected)
