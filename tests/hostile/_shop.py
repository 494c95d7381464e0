"""The small shop every backend holds, the valid value of each parameter, and its repair.

A hostile call gets a hostile value in one place and valid values everywhere else; this module
says what "valid" is for each parameter name. A new method whose required parameter has a new
name makes the harness fail with that name, so adding it here is the only upkeep.
A hostile value that turns out to be acceptable changes the shop (a booking gets cancelled, the
policy shrinks); :func:`heal` puts back what later calls rely on, the same way on every backend.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from booking_core.domain.model import (
    AddOn,
    ApiKey,
    Booking,
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    CustomerDetails,
    OutboxEvent,
    Package,
    Segment,
    Tenant,
    Venue,
)
from booking_core.errors import BookingConflictError, DateUnavailableError
from booking_core.ports.payments import PaymentEventType

from ._backends import START, Backend

POLICY = BookingPolicy(
    capacity_per_date=1000, hold_ttl=dt.timedelta(minutes=15), min_notice_days=0, horizon_days=730
)
CANCELLATION = CancellationPolicy()
TIMEZONE = "Europe/Paris"
FIRST_DAY = START.date() + dt.timedelta(days=10)
CUSTOMER = CustomerDetails("Ann Client", "ann@example.com", "+33612345678")
_serial = itertools.count()


def fresh(prefix: str) -> str:
    """A slug or name no other call used (unique per process, the same on every backend)."""
    return f"{prefix}-{next(_serial):06d}"


@dataclass
class Shop:
    """One tenant with one of everything a call may need."""

    tenant: Tenant
    segment: Segment
    package: Package
    add_on: AddOn
    venue: Venue
    api_key: ApiKey
    api_secret: str
    pending: Booking
    confirmed: Booking
    inbox_event_id: str
    webhook: tuple[bytes, dict[str, str]]
    event: OutboxEvent
    dates: int = 0

    def next_date(self) -> dt.date:
        """A bookable date, a different one each call (within the policy's horizon)."""
        self.dates += 1
        return FIRST_DAY + dt.timedelta(days=self.dates % 600)


def _hold(backend: Backend, tenant: Tenant, package: Package, day: dt.date) -> Booking:
    return backend.app.bookings.hold(tenant.id, package_id=package.id, date=day, customer=CUSTOMER)


def _on_a_free_date(make: Callable[[dt.date], Booking], shop: Shop) -> Booking:
    """``make(date)`` on the next date that takes it (accepted calls may have closed some)."""
    for _ in range(20):
        try:
            return make(shop.next_date())
        except (DateUnavailableError, BookingConflictError):
            continue
    msg = "no free date for the shop's bookings in 20 tries"
    raise RuntimeError(msg)


def _confirmed(backend: Backend, tenant: Tenant, package: Package, day: dt.date) -> Booking:
    """A booking paid through the fake provider, so its refunds succeed (none pile up)."""
    app = backend.app
    checkout = app.bookings.checkout(tenant.id, package_id=package.id, date=day, customer=CUSTOMER)
    booking = checkout.booking
    body, headers = backend.payments.make_webhook(
        PaymentEventType.PAYMENT_SUCCEEDED,
        tenant_id=tenant.id,
        booking_id=booking.id,
        payment_ref=checkout.session.payment_ref,
        amount=booking.total,
        currency=booking.currency,
    )
    app.webhooks.receive(tenant.id, body, headers)
    return app.bookings.get(tenant.id, booking.id)


def make_shop(backend: Backend, slug: str) -> Shop:
    app = backend.app
    tenant = app.tenants.create(
        slug=slug,
        name="Hostile Studio",
        timezone=TIMEZONE,
        currency="EUR",
        commission_percent=10,
        policy=POLICY,
    )
    tid = tenant.id
    segment = app.catalog.create_segment(tid, slug="weddings", name="Weddings")
    package = app.catalog.create_package(
        tid, slug="gold", name="Gold", base_price=250_000, segment_id=segment.id
    )
    add_on = app.catalog.create_add_on(tid, slug="album", name="Album", price=4_500)
    app.catalog.offer_add_on(tid, package.id, add_on.id)
    venue = app.catalog.create_venue(tid, name="Grand Hall", city="Lyon", country="FR", capacity=50)
    api_key, secret = app.tenants.create_api_key(tid, label="ci")
    app.availability.add_blackout(tid, FIRST_DAY - dt.timedelta(days=1), reason="closed")
    pending = _hold(backend, tenant, package, FIRST_DAY)
    confirmed = _confirmed(backend, tenant, package, FIRST_DAY)
    body, headers = backend.payments.make_webhook(
        PaymentEventType.PAYMENT_FAILED,
        tenant_id=tid,
        booking_id=confirmed.id,
        payment_ref="pay-failed",
        amount=confirmed.total,
        currency="EUR",
    )
    receipt = app.webhooks.receive(tid, body, headers)
    [event] = app.outbox.claim(batch_size=1, tenant_id=tid)
    return Shop(
        tenant,
        segment,
        package,
        add_on,
        venue,
        api_key,
        secret,
        pending,
        confirmed,
        receipt.event_id,
        (body, headers),
        event,
    )


Valid = Callable[[Backend, Shop], Any]

#: Valid values by ``service.method.parameter``, tried before the plain parameter name.
BY_METHOD: dict[str, Valid] = {
    "tenants.create.slug": lambda b, s: fresh("t"),
    "tenants.get_by_slug.slug": lambda b, s: s.tenant.slug,
    "tenants.resolve_api_key.key": lambda b, s: s.api_secret,
    "catalog.create_segment.slug": lambda b, s: fresh("seg"),
    "catalog.create_package.slug": lambda b, s: fresh("pkg"),
    "catalog.create_add_on.slug": lambda b, s: fresh("addon"),
    "catalog.create_venue.name": lambda b, s: fresh("Venue"),
    "catalog.get_package.slug": lambda b, s: s.package.slug,
    "bookings.refund.booking_id": lambda b, s: s.confirmed.id,
    "bookings.hold.date": lambda b, s: s.next_date(),
    "bookings.checkout.date": lambda b, s: s.next_date(),
    "bookings.reschedule.new_date": lambda b, s: s.next_date(),
    "webhooks.receive.raw_body": lambda b, s: s.webhook[0],
    "webhooks.receive.headers": lambda b, s: dict(s.webhook[1]),
}

#: Valid values by parameter name.
BY_NAME: dict[str, Valid] = {
    "tenant_id": lambda b, s: s.tenant.id,
    "segment_id": lambda b, s: s.segment.id,
    "package_id": lambda b, s: s.package.id,
    "add_on_id": lambda b, s: s.add_on.id,
    "venue_id": lambda b, s: s.venue.id,
    "customer_id": lambda b, s: s.pending.customer_id,
    "booking_id": lambda b, s: s.pending.id,
    "key_id": lambda b, s: s.api_key.id,
    "name": lambda b, s: "Valid Name",
    "timezone": lambda b, s: TIMEZONE,
    "currency": lambda b, s: "EUR",
    "commission_percent": lambda b, s: 10,
    "base_price": lambda b, s: 1_000,
    "price": lambda b, s: 1_000,
    "amount": lambda b, s: 100,
    "policy": lambda b, s: POLICY,
    "cancellation": lambda b, s: CancellationPolicy(),
    "date": lambda b, s: FIRST_DAY + dt.timedelta(days=5),
    "start": lambda b, s: FIRST_DAY,
    "end": lambda b, s: FIRST_DAY + dt.timedelta(days=40),
    "customer": lambda b, s: CUSTOMER,
    "payment_ref": lambda b, s: "pay-valid",
    "email": lambda b, s: CUSTOMER.email,
    "provider": lambda b, s: b.payments.name,
    "event_id": lambda b, s: s.inbox_event_id,
    "events": lambda b, s: [s.event],
    "event": lambda b, s: s.event,
    "handler": lambda b, s: lambda _event: None,
}


def valid_for(qualname: str, parameter: str) -> Valid | None:
    return BY_METHOD.get(f"{qualname}.{parameter}") or BY_NAME.get(parameter)


#: What an accepted write of each service may have changed (unknown services: everything).
_SCOPE: dict[str, tuple[str, ...]] = {
    "tenants": ("tenant",),
    "catalog": ("catalog",),
    "bookings": ("bookings",),
    "webhooks": ("bookings",),
    "availability": (),
    "customers": (),
    "outbox": (),
}
#: Methods that only add records: they change nothing the shop relies on.
_ADDING = ("create", "add", "hold", "checkout")


def heal(backend: Backend, service: str, method: str) -> None:
    """Undo what an accepted write of ``service.method`` may have changed that later calls use."""
    if method.startswith(_ADDING):
        return
    scope = _SCOPE.get(service, ("tenant", "catalog", "bookings"))
    if "tenant" in scope:
        _heal_tenant(backend, backend.shop)
    if "catalog" in scope:
        _heal_catalog(backend, backend.shop)
    if "bookings" in scope:
        _heal_bookings(backend, backend.shop)


def _heal_tenant(backend: Backend, shop: Shop) -> None:
    app, tid = backend.app, shop.tenant.id
    tenant = app.tenants.get(tid)
    if not tenant.active:
        app.tenants.activate(tid)
    if tenant.policy != POLICY:
        app.tenants.update_policy(tid, POLICY)
    if tenant.cancellation != CANCELLATION:
        app.tenants.update_cancellation_policy(tid, CANCELLATION)
    if tenant.timezone != TIMEZONE:
        app.tenants.update(tid, timezone=TIMEZONE)


def _editable(entity: Any) -> Any:
    return {f.name for f in dataclasses.fields(entity)} - {"id", "tenant_id", "slug"}


def _heal_catalog(backend: Backend, shop: Shop) -> None:
    catalog, tid = backend.app.catalog, shop.tenant.id
    pairs: list[tuple[Any, list[Any], Callable[..., Any]]] = [
        (shop.segment, catalog.list_segments(tid, include_inactive=True), catalog.update_segment),
        (shop.package, catalog.list_packages(tid, include_inactive=True), catalog.update_package),
        (shop.add_on, catalog.list_add_ons(tid, include_inactive=True), catalog.update_add_on),
        (shop.venue, catalog.list_venues(tid, include_inactive=True), catalog.update_venue),
    ]
    for wanted, stored, update in pairs:
        [current] = [e for e in stored if e.id == wanted.id]
        fields = _editable(wanted)
        changes = {
            name: getattr(wanted, name)
            for name in fields
            if getattr(current, name) != getattr(wanted, name)
        }
        if changes:
            update(tid, wanted.id, **changes)
    offered = catalog.get_package(tid, shop.package.slug).add_ons
    if shop.add_on.id not in {a.id for a in offered}:
        catalog.offer_add_on(tid, shop.package.id, shop.add_on.id)


def _heal_bookings(backend: Backend, shop: Shop) -> None:
    bookings, tid = backend.app.bookings, shop.tenant.id
    if bookings.get(tid, shop.pending.id).status is not BookingStatus.PENDING:
        shop.pending = _on_a_free_date(
            lambda day: _hold(backend, shop.tenant, shop.package, day), shop
        )
    confirmed = bookings.get(tid, shop.confirmed.id)
    refundable = confirmed.amount_paid - confirmed.amount_refunded
    if confirmed.status is not BookingStatus.CONFIRMED or refundable < 100_000:
        shop.confirmed = _on_a_free_date(
            lambda day: _confirmed(backend, shop.tenant, shop.package, day), shop
        )
