"""Section 8: the outbox drained in order, and one outgoing notification signed and checked."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from typing import TYPE_CHECKING

from booking_core.demo._format import format_table, short
from booking_core.demo._payments import PAYERS
from booking_core.domain.model import OutboxEvent
from booking_core.errors import WebhookVerificationError
from booking_core.services.bookings import Checkout
from booking_core.web.notifications import (
    NotificationSigner,
    encode_notification,
    verify_notification,
)

if TYPE_CHECKING:
    from booking_core.demo._tour import Tour


def drain_outbox(tour: Tour, made: dict[str, Checkout]) -> None:
    """Section 8: drain the outbox in order; sign one outgoing notification."""
    app, out, checks = tour.app, tour.out, tour.checks
    names = {c.booking.id: name for name, c in made.items()}
    lea_id = made[PAYERS[0].name].booking.id
    secret = secrets.token_bytes(32)  # shared with the receiving customer, never shown
    signer = NotificationSigner(secret, clock=app.clock)
    delivered: list[OutboxEvent] = []
    sent: list[tuple[bytes, dict[str, str]]] = []

    def deliver(event: OutboxEvent) -> None:
        # A host app would POST body with headers to the customer's endpoint here.
        if event.booking_id == lea_id and event.type == "booking.confirmed":
            event_id = str(event.id)
            body = encode_notification(event.type, event_id, event.payload)
            sent.append((body, signer.headers(body, event_id=event_id)))
        delivered.append(event)

    count = app.outbox.drain(deliver)
    left = app.outbox.claim(batch_size=100)
    ours = [e for e in delivered if e.booking_id in names]
    order = {c.booking.id: i for i, c in enumerate(made.values())}
    ours_sorted = sorted(ours, key=lambda e: order[e.booking_id])  # stable: delivery order
    out(
        format_table(
            ["Booking", "Customer", "Sequence", "Type"],
            [[short(e.booking_id), names[e.booking_id], e.sequence, e.type] for e in ours_sorted],
            "llrl",
        )
    )
    out()
    out(
        f"Drained {count} events: {len(ours)} of these four bookings (above), "
        f"{count - len(ours)} of earlier ones; {len(left)} left to claim."
    )
    confirmed = Counter(e.booking_id for e in ours if e.type == "booking.confirmed")
    checks.expect(count == len(delivered), "drain reports every event it delivered")
    checks.expect(not left, "nothing is left in the outbox after the drain")
    checks.expect(
        confirmed[lea_id] == 1,
        f"exactly one booking.confirmed event for {PAYERS[0].name} despite the redelivery",
    )
    checks.expect(
        all(confirmed[booking_id] == 1 for booking_id in names),
        "exactly one booking.confirmed event per paid booking",
    )
    per_booking: dict[uuid.UUID, list[int]] = {}
    for event in delivered:
        per_booking.setdefault(event.booking_id, []).append(event.sequence)
    checks.expect(
        all(seq == sorted(seq) for seq in per_booking.values()),
        "each booking's events are delivered in sequence order",
    )
    for payer in PAYERS[1:]:
        types = {e.type for e in ours if names[e.booking_id] == payer.name}
        want = {"booking.held", "booking.confirmed", "booking.canceled"}
        checks.expect(want <= types, f"{payer.name}'s events include {sorted(want)}")
    if checks.expect(len(sent) == 1, "one notification was signed"):
        _notification(tour, secret, *sent[0])


def _notification(tour: Tour, secret: bytes, body: bytes, headers: dict[str, str]) -> None:
    """Show a signed outgoing notification (header names only) and a receiver checking it."""
    out, checks = tour.out, tour.checks
    out()
    out(
        f"{PAYERS[0].name}'s booking.confirmed, sent as a signed notification "
        f"({len(body)}-byte body); header names only:"
    )
    out()
    out(f"  {', '.join(headers)}")
    out()
    now = tour.app.clock.now()
    event_id = verify_notification(secret, body, headers, now=now)
    tampered = body.replace(b'"CONFIRMED"', b'"CANCELED"')
    try:
        verify_notification(secret, tampered, headers, now=now)
    except WebhookVerificationError as error:
        refused = f"refused, {type(error).__name__} ({error})"
    else:
        refused = "ACCEPTED"
    out(f"The receiver verifies it: event id {event_id} (its outbox event's id).")
    out("The same request with CONFIRMED changed to CANCELED in the body is")
    out(f"  {refused}.")
    checks.expect(
        {"BookingCore-Signature", "BookingCore-Event-Id"} <= set(headers),
        "the notification carries a signature and an event id header",
    )
    checks.expect(
        event_id == headers["BookingCore-Event-Id"], "the receiver verifies the notification"
    )
    checks.expect(tampered != body and refused != "ACCEPTED", "a tampered body is refused")
