"""The stored state of a few bookings, read straight from storage, and the invariants it must keep.

Both fault harnesses end every run here: whatever interleaving or event order happened, the
state must be one a correct system can be in. Each broken invariant is reported as
``"name: detail"`` so a run can list all of them instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, or_, select

from booking_core.adapters.memory import MemoryUnitOfWorkFactory
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.bootstrap import BookingApp

ACTIVE = frozenset({"PENDING", "CONFIRMED", "FULFILLED"})
DEAD = frozenset({"CANCELED", "EXPIRED"})


@dataclass(frozen=True, slots=True)
class BookingRow:
    id: uuid.UUID
    status: str
    event_date: dt.date
    expires_at: dt.datetime | None
    total: int
    commission: int
    payment_ref: str | None
    amount_paid: int
    amount_refunded: int
    commission_refunded: int
    version: int

    def live_at(self, now: dt.datetime) -> bool:
        """Whether the booking should hold its date at ``now`` (an unexpired hold, or paid)."""
        if self.status == "PENDING":
            return self.expires_at is None or self.expires_at > now
        return self.status in ACTIVE


@dataclass(frozen=True, slots=True)
class ClaimRow:
    booking_id: uuid.UUID
    date: dt.date
    seat: int
    expires_at: dt.datetime | None

    def live_at(self, now: dt.datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True, slots=True)
class RefundRow:
    booking_id: uuid.UUID
    amount: int
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class EventRow:
    booking_id: uuid.UUID
    sequence: int
    type: str
    amount_paid: int | None = None


@dataclass
class Snapshot:
    """Bookings of interest with every claim on their dates, their refunds and events."""

    bookings: dict[uuid.UUID, BookingRow] = field(default_factory=dict)
    claims: list[ClaimRow] = field(default_factory=list)
    refunds: list[RefundRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)


def read(
    app: BookingApp, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID], dates: Iterable[dt.date]
) -> Snapshot:
    """The bookings ``ids`` plus every booking and claim of ``dates`` (one tenant)."""
    engine = getattr(app.uow, "engine", None)
    if engine is not None:
        return _read_sql(engine, tenant_id, set(ids), set(dates))
    assert isinstance(app.uow, MemoryUnitOfWorkFactory)
    return _read_memory(app.uow, tenant_id, set(ids), set(dates))


def _booking_row(row: Any) -> BookingRow:
    return BookingRow(
        id=row.id,
        status=str(getattr(row.status, "value", row.status)),
        event_date=row.event_date,
        expires_at=row.expires_at,
        total=row.total,
        commission=row.commission,
        payment_ref=row.payment_ref,
        amount_paid=row.amount_paid,
        amount_refunded=row.amount_refunded,
        commission_refunded=row.commission_refunded,
        version=row.version,
    )


def _read_sql(
    engine: Engine, tenant_id: uuid.UUID, ids: set[uuid.UUID], dates: set[dt.date]
) -> Snapshot:
    b, c, r, o = t.bookings.c, t.booking_claims.c, t.refunds.c, t.outbox.c
    snap = Snapshot()
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.bookings).where(
                b.tenant_id == tenant_id, or_(b.id.in_(ids), b.event_date.in_(dates))
            )
        )
        snap.bookings = {row.id: _booking_row(row) for row in rows}
        keys = set(snap.bookings)
        claims = conn.execute(
            select(t.booking_claims).where(
                c.tenant_id == tenant_id, or_(c.booking_id.in_(keys), c.claim_date.in_(dates))
            )
        )
        snap.claims = [ClaimRow(x.booking_id, x.claim_date, x.seat, x.expires_at) for x in claims]
        refunds = conn.execute(
            select(t.refunds).where(r.tenant_id == tenant_id, r.booking_id.in_(keys))
        )
        snap.refunds = [RefundRow(x.booking_id, x.amount, x.state, x.reason) for x in refunds]
        events = conn.execute(
            select(o.booking_id, o.sequence, o.type, o.payload).where(
                o.tenant_id == tenant_id, o.booking_id.in_(keys)
            )
        )
        snap.events = [
            EventRow(x.booking_id, x.sequence, x.type, x.payload.get("amount_paid")) for x in events
        ]
    return snap


def _read_memory(
    factory: MemoryUnitOfWorkFactory,
    tenant_id: uuid.UUID,
    ids: set[uuid.UUID],
    dates: set[dt.date],
) -> Snapshot:
    db = factory.db
    snap = Snapshot()
    with db.lock:
        snap.bookings = {
            b.id: _booking_row(b)
            for b in db.bookings.rows(tenant_id)
            if b.id in ids or b.event_date in dates
        }
        keys = set(snap.bookings)
        snap.claims = [
            ClaimRow(claim.booking_id, date, seat, claim.expires_at)
            for (tenant, _pool, date, seat), claim in db.claims.data.items()
            if tenant == tenant_id and (claim.booking_id in keys or date in dates)
        ]
        snap.refunds = [
            RefundRow(x.booking_id, x.amount, str(x.state.value), x.reason)
            for x in db.refunds.rows(tenant_id)
            if x.booking_id in keys
        ]
        snap.events = [
            EventRow(x.booking_id, x.sequence, x.type, x.payload.get("amount_paid"))
            for x in db.outbox.rows(tenant_id)
            if x.booking_id in keys
        ]
    return snap


#: What a payment provider reports as refunded per payment reference (None: not reachable).
ProviderRefunds = Callable[[str], list[int]] | None


def broken(
    snap: Snapshot, *, now: dt.datetime, capacity: int, provider: ProviderRefunds = None
) -> list[str]:
    """Every invariant the snapshot breaks, as ``"name: detail"`` lines (empty when coherent)."""
    return [
        *_money(snap),
        *_provider_agrees(snap, provider),
        *_claims(snap, now, capacity),
        *_outbox(snap),
    ]


def _money(snap: Snapshot) -> Iterable[str]:
    by_booking: dict[uuid.UUID, int] = defaultdict(int)
    for refund in snap.refunds:
        by_booking[refund.booking_id] += refund.amount
    for b in snap.bookings.values():
        tag = f"{str(b.id)[:8]} {b.status}"
        if b.amount_refunded > b.amount_paid:
            yield f"refund-exceeds-paid: {tag} refunded {b.amount_refunded} > paid {b.amount_paid}"
        if b.amount_paid not in (0, b.total):
            yield f"paid-not-total: {tag} paid {b.amount_paid}, total {b.total}"
        if by_booking[b.id] != b.amount_refunded:
            yield (
                f"refund-rows-mismatch: {tag} refund rows sum {by_booking[b.id]}, "
                f"amount_refunded {b.amount_refunded}"
            )
        if b.commission_refunded > b.commission:
            yield f"commission-over-refunded: {tag} {b.commission_refunded} > {b.commission}"
        if b.status == "CONFIRMED" and b.amount_paid > 0 and b.amount_refunded >= b.amount_paid:
            yield f"confirmed-fully-refunded: {tag} paid {b.amount_paid}, refunded all of it"


def _provider_agrees(snap: Snapshot, provider: ProviderRefunds) -> Iterable[str]:
    for refund in snap.refunds:
        if refund.state != "SUCCEEDED":
            yield (
                f"refund-unsettled: {str(refund.booking_id)[:8]} {refund.amount} "
                f"left {refund.state} after retry_refunds ({refund.reason})"
            )
    if provider is None:
        return
    for b in snap.bookings.values():
        if not b.payment_ref:
            continue
        at_provider = sum(provider(b.payment_ref))
        stored = sum(
            r.amount for r in snap.refunds if r.booking_id == b.id and r.state == "SUCCEEDED"
        )
        if at_provider != stored:
            yield (
                f"provider-mismatch: {str(b.id)[:8]} {b.status} provider refunded "
                f"{at_provider}, stored SUCCEEDED refunds {stored}"
            )


def _claims(snap: Snapshot, now: dt.datetime, capacity: int) -> Iterable[str]:
    live = [c for c in snap.claims if c.live_at(now)]
    per_date = Counter(c.date for c in live)
    for date, count in per_date.items():
        if count > capacity:
            yield f"over-capacity: {date} has {count} live claims, capacity {capacity}"
    for claim in snap.claims:
        owner = snap.bookings.get(claim.booking_id)
        if owner is not None and owner.status in DEAD:
            state = "live" if claim.live_at(now) else "lapsed"
            yield (
                f"dead-booking-claim: {str(owner.id)[:8]} {owner.status} holds a {state} "
                f"claim on {claim.date}"
            )
    holders = Counter(c.booking_id for c in live)
    for b in snap.bookings.values():
        mine = [c for c in live if c.booking_id == b.id]
        if b.live_at(now) and (holders[b.id] != 1 or mine[0].date != b.event_date):
            dates = sorted(str(c.date) for c in mine)
            yield (
                f"claims-vs-active: {str(b.id)[:8]} {b.status} on {b.event_date} "
                f"has live claims on {dates}"
            )
        if not b.live_at(now) and holders[b.id]:
            yield f"claims-vs-active: {str(b.id)[:8]} {b.status} (not active) has live claims"


#: Effects that happen at most once in a booking's life.
ONCE = ("booking.held", "booking.confirmed", "booking.canceled", "booking.expired")


def _outbox(snap: Snapshot) -> Iterable[str]:
    by_booking: dict[uuid.UUID, list[EventRow]] = defaultdict(list)
    for event in snap.events:
        by_booking[event.booking_id].append(event)
    for b in snap.bookings.values():
        events = by_booking[b.id]
        sequences = sorted(e.sequence for e in events)
        tag = f"{str(b.id)[:8]} {b.status}"
        if len(set(sequences)) != len(sequences):
            yield f"outbox-duplicate: {tag} sequences {sequences}"
        if sorted(set(sequences)) != list(range(1, b.version + 1)):
            yield f"outbox-gap: {tag} version {b.version}, sequences {sequences}"
        kinds = Counter(e.type for e in events)
        for kind in ONCE:
            if kinds[kind] > 1:
                yield f"duplicate-effect: {tag} {kinds[kind]} x {kind}"
