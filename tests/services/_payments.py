"""Payment helpers of the service tests: a paid booking, signed fake-provider webhooks."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp
from booking_core.domain.model import CustomerDetails
from booking_core.ports.payments import PaymentEventType

from .conftest import Shop

EVENT = dt.date(2030, 9, 14)  # 91 days after the test clock's 2030-06-15
ANN = CustomerDetails("Ann", "ann@example.com")


def fake(app: BookingApp) -> FakePaymentProvider:
    assert isinstance(app.payments, FakePaymentProvider)
    return app.payments


def paid_booking(app: BookingApp, shop: Shop, date: dt.date = EVENT, email: str = "ann@x.io"):  # type: ignore[no-untyped-def]
    """Checkout and a signed payment.succeeded webhook: a CONFIRMED, paid booking."""
    checkout = app.bookings.checkout(
        shop.tenant.id,
        package_id=shop.package.id,
        date=date,
        customer=CustomerDetails("Payer", email),
    )
    body, headers = fake(app).make_webhook(
        PaymentEventType.PAYMENT_SUCCEEDED,
        tenant_id=shop.tenant.id,
        booking_id=checkout.booking.id,
        payment_ref=checkout.session.payment_ref,
        amount=checkout.booking.total,
        currency=checkout.booking.currency,
    )
    receipt = app.webhooks.receive(shop.tenant.id, body, headers)
    assert receipt.outcome == "confirmed", receipt
    return app.bookings.get(shop.tenant.id, checkout.booking.id), checkout.session


def events_of(app: BookingApp, booking_id: uuid.UUID) -> list[str]:
    """Deliver (and acknowledge) every ready event; return the types of one booking's, in order."""
    seen: list[tuple[uuid.UUID, int, str]] = []
    app.outbox.drain(lambda e: seen.append((e.booking_id, e.sequence, e.type)))
    return [kind for b, _, kind in seen if b == booking_id]


def signed(
    app: BookingApp,
    shop: Shop,
    booking: Any,
    *,
    kind: PaymentEventType = PaymentEventType.PAYMENT_SUCCEEDED,
    payment_ref: str = "pay_x",
    amount: int | None = None,
    currency: str = "EUR",
    **extra: Any,
) -> tuple[bytes, dict[str, str]]:
    """A webhook signed by the fake provider for ``booking`` (the full amount by default)."""
    return fake(app).make_webhook(
        kind,
        tenant_id=shop.tenant.id,
        booking_id=booking if isinstance(booking, uuid.UUID) else booking.id,
        payment_ref=payment_ref,
        amount=booking.total if amount is None else amount,
        currency=currency,
        **extra,
    )
