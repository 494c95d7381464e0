"""The harnesses' invariant checks catch what they claim to, on hand-made states.

A harness that passes proves something only if its checks can fail: each state below breaks
exactly one invariant, and a coherent state breaks none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from ._invariants import BookingRow, ClaimRow, EventRow, RefundRow, Snapshot, broken

NOW = dt.datetime(2030, 6, 15, 10, 0, tzinfo=dt.UTC)
DAY = dt.date(2030, 7, 1)
PAID = BookingRow(
    id=uuid.UUID(int=1),
    status="CONFIRMED",
    event_date=DAY,
    expires_at=None,
    total=1000,
    commission=100,
    payment_ref="pay_1",
    amount_paid=1000,
    amount_refunded=300,
    commission_refunded=30,
    version=3,
)


def coherent() -> Snapshot:
    """A paid booking holding its date, with one settled refund of 300 and events 1..3."""
    return Snapshot(
        bookings={PAID.id: PAID},
        claims=[ClaimRow(PAID.id, DAY, 0, None)],
        refunds=[RefundRow(PAID.id, 300, "SUCCEEDED", "partial")],
        events=[
            EventRow(PAID.id, 1, "booking.held", 0),
            EventRow(PAID.id, 2, "booking.confirmed", 1000),
            EventRow(PAID.id, 3, "refund.requested", 1000),
        ],
    )


def names(snap: Snapshot, provider: list[int] | None = None) -> set[str]:
    refunds = provider if provider is not None else [300]
    found = broken(snap, now=NOW, capacity=1, provider=lambda _ref: refunds)
    return {line.split(":")[0] for line in found}


def with_booking(**changes: object) -> Snapshot:
    snap = coherent()
    snap.bookings = {PAID.id: dataclasses.replace(PAID, **changes)}  # type: ignore[arg-type]
    return snap


def test_a_coherent_state_breaks_nothing() -> None:
    """A coherent snapshot breaks no invariant."""
    assert names(coherent()) == set()


def test_money_invariants_are_checked() -> None:
    """Refunds above the paid amount, refund rows not adding up, a paid amount other than the total,
    a provider's refunds that differ, and an unsettled refund are each reported by name."""
    over = with_booking(amount_refunded=1300)
    over.refunds.append(RefundRow(PAID.id, 1000, "SUCCEEDED", "again"))
    assert names(over, [1300]) == {"refund-exceeds-paid", "confirmed-fully-refunded"}
    assert names(with_booking(amount_refunded=400)) == {"refund-rows-mismatch"}
    assert names(with_booking(amount_paid=2000, amount_refunded=300)) == {"paid-not-total"}
    assert names(coherent(), provider=[300, 300]) == {"provider-mismatch"}
    stuck = coherent()
    stuck.refunds = [RefundRow(PAID.id, 300, "PENDING", "stuck")]
    assert names(stuck, provider=[]) == {"refund-unsettled"}


def test_claim_invariants_are_checked() -> None:
    """More active claims than capacity, a claim of a dead booking, and an active booking without
    its claim are each reported by name."""
    rival = dataclasses.replace(
        PAID, id=uuid.UUID(int=2), payment_ref=None, amount_refunded=0, version=1
    )
    crowded = coherent()
    crowded.bookings[rival.id] = rival
    crowded.claims.append(ClaimRow(rival.id, DAY, 1, None))
    crowded.events.append(EventRow(rival.id, 1, "booking.held", 0))
    assert names(crowded) == {"over-capacity"}
    dead = with_booking(status="CANCELED")
    assert names(dead) == {"dead-booking-claim", "claims-vs-active"}
    homeless = coherent()
    homeless.claims = []
    assert names(homeless) == {"claims-vs-active"}


@pytest.mark.parametrize(
    ("sequences", "expected"),
    [([1, 3], {"outbox-gap"}), ([1, 2, 2, 3], {"outbox-duplicate"})],
)
def test_outbox_invariants_are_checked(sequences: list[int], expected: set[str]) -> None:
    """A gap or a duplicate in a booking's outbox sequence is reported as outbox-gap or outbox-
    duplicate."""
    snap = coherent()
    snap.events = [EventRow(PAID.id, n, f"event.{i}", 0) for i, n in enumerate(sequences)]
    assert names(snap) == expected


def test_once_only_events_are_checked() -> None:
    """A once-only event such as booking.confirmed written twice is reported as duplicate-effect."""
    snap = coherent()
    snap.events[2] = EventRow(PAID.id, 3, "booking.confirmed", 1000)
    assert names(snap) == {"duplicate-effect"}
