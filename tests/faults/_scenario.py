"""Fresh bookings for the fault harnesses: tenants per refund tier, a new date per booking, and
signed provider events for them."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp
from booking_core.domain.model import CancellationPolicy, CustomerDetails, RefundTier
from booking_core.ports.payments import PaymentEventType

from ._provider import NAME, SECRET
from ._race_worker import Step, Target

#: 2030-06-15 09:00 UTC, as in tests/services: a Saturday far from DST changes.
START = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)
PRICE = 250_000
CAPACITY = 1
#: How many days ahead a tenant's dates may go (its horizon is 730 days).
DAYS = 700

#: Signs webhooks only: it knows no payment, so emitting events moves no payment's status.
SIGNER = FakePaymentProvider(SECRET, name=NAME)


def policy(percent: int) -> CancellationPolicy:
    """A cancellation policy refunding ``percent`` % whenever the booking is cancelled."""
    return CancellationPolicy(tiers=(RefundTier(0, percent),) if percent else ())


@dataclass
class _Tenant:
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    next_day: int = 1


class Calendar:
    """Hands out a fresh pair of adjacent dates per booking, on a tenant of the wanted tier;
    a tenant whose horizon is used up is replaced by a new one. With ``tenant_per_booking``
    every booking gets its own tenant, so per-tenant jobs (``retry_failed``) see only it."""

    def __init__(self, app: BookingApp, *, tenant_per_booking: bool = False) -> None:
        self._app = app
        self._tenants: dict[int, _Tenant] = {}
        self._fresh = tenant_per_booking

    def dates(self, tier: int) -> tuple[_Tenant, dt.date, dt.date]:
        tenant = self._tenants.get(tier)
        if tenant is None or tenant.next_day + 1 > DAYS or self._fresh:
            tenant = self._tenants[tier] = self._new_tenant(tier)
        day = START.date() + dt.timedelta(days=tenant.next_day)
        tenant.next_day += 2
        return tenant, day, day + dt.timedelta(days=1)

    def _new_tenant(self, tier: int) -> _Tenant:
        tenant = self._app.tenants.create(
            slug=f"faults-{secrets.token_hex(5)}",
            name="Fault Studio",
            timezone="Europe/Paris",
            currency="EUR",
            commission_percent=12,
            cancellation=policy(tier),
        )
        package = self._app.catalog.create_package(
            tenant.id, slug="gold", name="Gold", base_price=PRICE
        )
        return _Tenant(tenant.id, package.id)


def checkout(app: BookingApp, calendar: Calendar, tier: int) -> Target:
    """A fresh hold with its payment session (idempotency key kept for replays)."""
    tenant, date, other = calendar.dates(tier)
    customer = CustomerDetails("Owner", f"owner-{secrets.token_hex(5)}@example.com")
    key = f"checkout-{secrets.token_hex(8)}"
    made = app.bookings.checkout(
        tenant.tenant_id,
        package_id=tenant.package_id,
        date=date,
        customer=customer,
        idempotency_key=key,
    )
    return Target(
        tenant_id=tenant.tenant_id,
        package_id=tenant.package_id,
        booking_id=made.booking.id,
        date=date,
        other_date=other,
        payment_ref=made.session.payment_ref,
        total=made.booking.total,
        key=key,
        customer=customer,
        refund_amount=made.booking.total * 6 // 10,
    )


EVENT_TYPES = {
    "pay": PaymentEventType.PAYMENT_SUCCEEDED,
    "fail": PaymentEventType.PAYMENT_FAILED,
    "expired": PaymentEventType.PAYMENT_EXPIRED,
    "refunded": PaymentEventType.REFUND_SUCCEEDED,
}


def webhook(
    op: str,
    target: Target,
    *,
    event_id: str,
    at: dt.datetime,
    amount: int | None = None,
    provider_refund_id: str | None = None,
) -> Step:
    """A signed provider event about the target's payment, as a step."""
    body, headers = SIGNER.make_webhook(
        EVENT_TYPES[op],
        tenant_id=target.tenant_id,
        booking_id=target.booking_id,
        payment_ref=target.payment_ref,
        amount=target.total if amount is None else amount,
        currency="EUR",
        event_id=event_id,
        provider_refund_id=provider_refund_id,
        at=at,
    )
    return Step(op, target, body, tuple(headers.items()), label=event_id)
