"""The outbox event that describes a booking at one version.

Pure: an event is built beside the change it describes (:mod:`booking_core.domain.lifecycle`)
and stored in the same transaction by the repository.
"""

from __future__ import annotations

import datetime as dt
import uuid

from booking_core.domain.ids import new_id
from booking_core.domain.model import Booking, EventType, OutboxEvent


def booking_payload(booking: Booking) -> dict[str, object]:
    """What a notification about a booking needs, as JSON-ready values (a timed booking's
    start, end and resources too)."""
    payload: dict[str, object] = {
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
    if booking.starts_at is not None and booking.ends_at is not None:
        payload["starts_at"] = booking.starts_at.isoformat()
        payload["ends_at"] = booking.ends_at.isoformat()
        payload["resource_ids"] = [str(resource) for resource in booking.resource_ids]
    if booking.series_id is not None:
        payload["series_id"] = str(booking.series_id)
    return payload


def booking_event(
    booking: Booking,
    event_type: EventType,
    now: dt.datetime,
    *,
    event_id: uuid.UUID | None = None,
    **extra: object,
) -> OutboxEvent:
    """The event of ``booking`` at its current version (its ``sequence``).

    An ``event_id`` chosen before a transaction's first attempt lets a retry find out whether an
    attempt whose COMMIT reply was lost landed (the outbox holds that id or not).
    """
    return OutboxEvent(
        id=event_id or new_id(),
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        sequence=booking.version,
        type=event_type.value,
        payload={**booking_payload(booking), **extra},
        created_at=now,
    )
