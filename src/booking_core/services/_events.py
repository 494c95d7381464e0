"""Domain events written to the outbox in the transaction of the change they describe."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from booking_core.domain.ids import new_id
from booking_core.domain.model import Booking, EventType, OutboxEvent
from booking_core.ports.repositories import UnitOfWork

HELD = EventType.BOOKING_HELD.value
CONFIRMED = EventType.BOOKING_CONFIRMED.value
CANCELED = EventType.BOOKING_CANCELED.value
EXPIRED = EventType.BOOKING_EXPIRED.value
RESCHEDULED = EventType.BOOKING_RESCHEDULED.value
FULFILLED = EventType.BOOKING_FULFILLED.value
REFUND_REQUESTED = EventType.REFUND_REQUESTED.value
REFUND_SUCCEEDED = EventType.REFUND_SUCCEEDED.value
REFUND_FAILED = EventType.REFUND_FAILED.value
PAID_LATE = EventType.BOOKING_PAID_LATE.value


def booking_payload(booking: Booking) -> dict[str, Any]:
    """What a notification about a booking needs, as JSON-ready values."""
    return {
        "booking_id": str(booking.id),
        "tenant_id": str(booking.tenant_id),
        "customer_id": str(booking.customer_id),
        "package_id": str(booking.package_id),
        "venue_id": None if booking.venue_id is None else str(booking.venue_id),
        "event_date": booking.event_date.isoformat(),
        "status": booking.status.value,
        "total": booking.total,
        "commission": booking.commission,
        "currency": booking.currency,
        "amount_paid": booking.amount_paid,
        "amount_refunded": booking.amount_refunded,
    }


def build(
    booking: Booking,
    event_type: str,
    now: dt.datetime,
    *,
    event_id: uuid.UUID | None = None,
    **extra: Any,
) -> OutboxEvent:
    """One event for ``booking`` at its current version (not written yet).

    ``event_id`` chosen before a transaction's first attempt lets a retry find out whether an
    attempt whose COMMIT reply was lost landed (:meth:`OutboxRepository.get`).
    """
    return OutboxEvent(
        id=event_id or new_id(),
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        sequence=booking.version,
        type=event_type,
        payload={**booking_payload(booking), **extra},
        created_at=now,
    )


def emit(
    uow: UnitOfWork,
    booking: Booking,
    event_type: str,
    now: dt.datetime,
    *,
    event_id: uuid.UUID | None = None,
    **extra: Any,
) -> OutboxEvent:
    """Write one event for ``booking`` at its current version."""
    event = build(booking, event_type, now, event_id=event_id, **extra)
    uow.outbox.add(event)
    return event
