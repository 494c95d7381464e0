"""Idempotency keys, the webhook inbox and the outbox."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from booking_core.domain.model import (
    Booking,
    IdempotencyRecord,
    InboxEvent,
    InboxState,
    OutboxEvent,
)
from booking_core.errors import (
    AlreadyExistsError,
)
from booking_core.ports.repositories import UnitOfWorkFactory
from booking_core.testing.contracts._shop import (
    _MINUTE,
    HOLD,
    NOW,
    Shop,
    _hold,
    _UowBase,
)


class MessagesContract(_UowBase):
    """Idempotency keys, the webhook inbox and the outbox."""

    # -- idempotency, inbox, outbox -------------------------------------------------------------

    def test_idempotency_claim(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """The first claim of a key stores it (None); a live key returns the stored record
        (with what attach() recorded); an expired one is replaced; keys are per tenant."""
        tid = shop.tenant_id
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        record = IdempotencyRecord(tid, "key-1", "a" * 64, None, NOW, NOW + HOLD)
        with uow_factory() as uow:
            assert uow.idempotency.claim(record, now=NOW) is None
            uow.idempotency.attach(tid, "key-1", held.id)
            uow.commit()
        retry = replace(record, request_hash="b" * 64, created_at=NOW + _MINUTE)
        with uow_factory() as uow:
            assert uow.idempotency.claim(retry, now=NOW + _MINUTE) == replace(
                record, booking_id=held.id
            )
        other = IdempotencyRecord(shop.tenant_id, "key-2", "c" * 64, None, NOW, NOW + HOLD)
        with uow_factory() as uow:
            assert uow.idempotency.claim(other, now=NOW) is None
            uow.commit()
        after = NOW + HOLD
        renewed = replace(retry, created_at=after, expires_at=after + HOLD)
        with uow_factory() as uow:
            assert uow.idempotency.claim(renewed, now=after) is None
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.claim(record, now=after) == renewed

    def test_idempotency_keys_are_per_tenant(
        self, uow_factory: UnitOfWorkFactory, shop: Shop, other_shop: Shop
    ) -> None:
        """The same key string of two tenants is two independent records."""
        mine = IdempotencyRecord(shop.tenant_id, "shared", "a" * 64, None, NOW, NOW + HOLD)
        theirs = replace(mine, tenant_id=other_shop.tenant_id, request_hash="b" * 64)
        with uow_factory() as uow:
            assert uow.idempotency.claim(mine, now=NOW) is None
            assert uow.idempotency.claim(theirs, now=NOW) is None
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.claim(mine, now=NOW) == mine
            assert uow.idempotency.claim(theirs, now=NOW) == theirs

    def test_inbox_records_each_event_once(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """record() is True for a new (tenant, provider, event id) and False after; the payload
        comes back byte-identical; update() persists processing state."""
        tid = shop.tenant_id
        payload = b'{"id": "evt_1", "amount": 300000}\x00\xff'
        event = InboxEvent(tid, "fake", "evt_1", "payment.succeeded", payload,
                           InboxState.PENDING, NOW)  # fmt: skip
        with uow_factory() as uow:
            assert uow.inbox.record(event) is True
            assert uow.inbox.record(replace(event, payload=b"replayed")) is False
            assert uow.inbox.record(replace(event, provider="other")) is True
            uow.commit()
        processed = replace(event, state=InboxState.PROCESSED, attempts=1,
                            processed_at=NOW + _MINUTE, outcome="confirmed")  # fmt: skip
        with uow_factory() as uow:
            assert uow.inbox.record(event) is False
            locked = uow.inbox.lock(tid, "fake", "evt_1")
            assert locked == event
            assert locked.payload == payload
            uow.inbox.update(processed)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.inbox.lock(tid, "fake", "evt_1") == processed
            assert uow.inbox.lock(tid, "fake", "evt_unknown") is None

    def test_inbox_failed_events(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """failed() lists FAILED events with fewer than ``max_attempts`` attempts, oldest first."""
        tid = shop.tenant_id

        def event(name: str, minutes: int, state: InboxState, attempts: int) -> InboxEvent:
            return InboxEvent(tid, "fake", name, "payment.failed", b"{}", state,
                              NOW + _MINUTE * minutes, attempts=attempts,
                              last_error="boom")  # fmt: skip

        late = event("late", 3, InboxState.FAILED, 1)
        early = event("early", 1, InboxState.FAILED, 2)
        exhausted = event("exhausted", 0, InboxState.FAILED, 5)
        fine = event("fine", 2, InboxState.PROCESSED, 1)
        with uow_factory() as uow:
            for item in (late, early, exhausted, fine):
                uow.inbox.record(item)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.inbox.failed(tenant_id=tid, max_attempts=5, limit=10) == [early, late]
            assert uow.inbox.failed(tenant_id=tid, max_attempts=2, limit=10) == [late]
            assert uow.inbox.failed(tenant_id=tid, max_attempts=5, limit=1) == [early]

    def test_outbox_claims_in_order(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """claim() leases only each booking's earliest undelivered event, oldest first; leased
        events are not claimed again until the lease ends; mark_done lets the next one go."""
        tid = shop.tenant_id
        a = _hold(uow_factory, shop.booking(), capacity=5)
        b = _hold(uow_factory, shop.booking(), capacity=5)
        assert a is not None
        assert b is not None

        def event(booking: Booking, sequence: int, minutes: int) -> OutboxEvent:
            return OutboxEvent(uuid.uuid4(), tid, booking.id, sequence, f"booking.v{sequence}",
                               {"sequence": sequence, "text": "é€"},
                               NOW + _MINUTE * minutes)  # fmt: skip

        a1, a2, b1 = event(a, 1, 0), event(a, 2, 1), event(b, 1, 2)
        with uow_factory() as uow:
            for item in (b1, a2, a1):
                uow.outbox.add(item)
            uow.commit()
        lease = NOW + HOLD
        with uow_factory() as uow:
            leased = uow.outbox.claim(now=NOW, lease_until=lease, limit=10, tenant_id=tid)
            uow.commit()
        assert leased == [
            replace(a1, claimed_until=lease, attempts=1),
            replace(b1, claimed_until=lease, attempts=1),
        ]
        with uow_factory() as uow:
            assert uow.outbox.claim(now=NOW, lease_until=lease, limit=10, tenant_id=tid) == []
            assert uow.outbox.mark_done([(tid, a1.id)], now=NOW + _MINUTE) == 1
            assert uow.outbox.mark_done([(tid, a1.id), (tid, uuid.uuid4())], now=NOW) == 0
            uow.outbox.release(tid, b1.id, error="HTTP 503")
            uow.commit()
        with uow_factory() as uow:
            again = uow.outbox.claim(now=NOW, lease_until=lease, limit=10, tenant_id=tid)
            assert [(e.id, e.attempts) for e in again] == [(a2.id, 1), (b1.id, 2)]
            assert again[1].last_error == "HTTP 503"
            assert uow.outbox.claim(now=NOW, lease_until=lease, limit=10, tenant_id=tid) == []
            assert uow.outbox.mark_done([], now=NOW) == 0
            uow.commit()
        with uow_factory() as uow:  # an unfinished lease ends: the event is claimable again
            late = uow.outbox.claim(now=lease, lease_until=lease + HOLD, limit=1, tenant_id=tid)
            assert [(e.id, e.attempts) for e in late] == [(a2.id, 2)]

    def test_outbox_sequence_is_unique_per_booking(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Two events of one booking with one sequence number raise AlreadyExistsError."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        first = OutboxEvent(uuid.uuid4(), shop.tenant_id, held.id, 1, "booking.held", {}, NOW)
        with uow_factory() as uow:
            uow.outbox.add(first)
            uow.commit()
        with pytest.raises(AlreadyExistsError), uow_factory() as uow:
            uow.outbox.add(replace(first, id=uuid.uuid4()))


# --- cache ------------------------------------------------------------------------------------
