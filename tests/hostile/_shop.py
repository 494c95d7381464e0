"""The small shop every backend holds, the valid value of each parameter, and its repair.

A hostile call gets a hostile value in one place and valid values everywhere else; this module
says what "valid" is for each parameter name. A new method whose required parameter has a new
name makes the harness fail with that name, so adding it here is the only upkeep.
A hostile value that turns out to be acceptable changes the shop (a booking gets cancelled, the
policy shrinks); :func:`heal` puts back what later calls rely on, the same way on every backend.

Timed packages: the shop has a resource open 08:00-20:00 every day in its zone, a 60-minute
package on it, a stretch of time off and a timed hold. ``date`` stays the valid path of
``bookings.hold``/``checkout`` (their ``start`` is optional); :data:`VARIANTS` calls a method
with some optional parameters given as well (a hold with ``start=`` on the timed package), so
every hostile value also meets the timed path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from booking_core.domain.model import (
    AddOn,
    ApiKey,
    Booking,
    BookingPolicy,
    BookingStatus,
    CalendarFeed,
    CancellationPolicy,
    CustomerDetails,
    OutboxEvent,
    Package,
    PackageSchedule,
    RecurringBlackout,
    Resource,
    ResourceTimeOff,
    Segment,
    SeriesHold,
    Tenant,
    Venue,
)
from booking_core.domain.schedule import (
    DateHours,
    RecurringHours,
    RecurringTimeOff,
    SlotTiming,
    WeeklyHours,
    WorkingHours,
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

ZONE = ZoneInfo(TIMEZONE)
_ONE_DAY = dt.timedelta(days=1)
#: The shop's resource: open 08:00-20:00 every day, wall-clock time in the shop's zone.
HOURS = WorkingHours(weekly=tuple(WeeklyHours(d, dt.time(8), dt.time(20)) for d in range(7)))
#: The same opening times said in every way hours can say them (a rule and a dated override
#: too), so the hostile values meet every field of a WorkingHours.
RICH_HOURS = WorkingHours(
    weekly=HOURS.weekly,
    recurring=(
        RecurringHours("FREQ=WEEKLY;BYDAY=SA,SU", dt.date(2030, 1, 5), dt.time(8), dt.time(20)),
    ),
    dates=(DateHours(dt.date(2031, 12, 25), ((dt.time(8), dt.time(20)),)),),
    away=(
        RecurringTimeOff(
            "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31",
            dt.date(2031, 12, 31),
            dt.time(19),
            dt.time(20),
            except_on=(dt.date(2032, 12, 31),),
            reason="year end",
        ),
    ),
)
#: The timed package: 60 minutes, starts on the hour, bookable up to two years ahead.
TIMING = SlotTiming(duration=dt.timedelta(minutes=60), horizon=dt.timedelta(days=730))
#: Starts the valid timed calls take: from this day on, 08:00-19:00 on the hour, 700 days.
FIRST_TIMED_DAY = START.date() + dt.timedelta(days=20)
#: Series hold one occurrence each, in days of their own (past the single holds' days).
SERIES_FIRST_DAY = FIRST_TIMED_DAY + dt.timedelta(days=400)
SERIES_RULE = "FREQ=DAILY;COUNT=1"
#: A recurring blackout that closes no date any call books (Christmas Days from 2040).
FAR_BLACKOUT = RecurringBlackout(
    "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25", dt.date(2040, 12, 25), reason="closed"
)
_STARTS_PER_DAY = 12
_TIMED_DAYS = 700
#: The shop's time off; accepted ``add_time_off`` calls put theirs on the spare resource (no
#: package uses it: a hostile end years away must not close the timed package), from this day.
TIME_OFF_DAY = START.date() + dt.timedelta(days=3)
ADDED_TIME_OFF_DAY = START.date() + dt.timedelta(days=4)
#: The window of valid slot searches and time-off listings: the time off, the shop's timed
#: hold and the first timed starts (30 days: the limit is 62).
WINDOW_DAYS = (START.date() + dt.timedelta(days=1), START.date() + dt.timedelta(days=31))


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in the shop's zone, as an aware datetime."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def window() -> tuple[dt.datetime, dt.datetime]:
    """The valid ``[start, end)`` of a slot search or a time-off listing."""
    return local(WINDOW_DAYS[0], 0), local(WINDOW_DAYS[1], 0)


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
    resource: Resource
    spare: Resource
    timed: Package
    time_off: ResourceTimeOff
    timed_pending: Booking
    feed: CalendarFeed
    feed_token: str
    series: SeriesHold
    dates: int = 0
    starts: int = 0
    series_starts: int = 0

    def next_series_start(self) -> dt.datetime:
        """A start of a one-occurrence series, a different one each call, in days no other
        timed call uses."""
        self.series_starts += 1
        n = self.series_starts % (_STARTS_PER_DAY * 300)
        day = SERIES_FIRST_DAY + dt.timedelta(days=n // _STARTS_PER_DAY)
        return local(day, 8 + n % _STARTS_PER_DAY)

    def next_date(self) -> dt.date:
        """A bookable date, a different one each call (within the policy's horizon)."""
        self.dates += 1
        return FIRST_DAY + dt.timedelta(days=self.dates % 600)

    def next_start(self) -> dt.datetime:
        """A start the timed package offers, a different one each call (within its horizon)."""
        self.starts += 1
        n = self.starts % (_STARTS_PER_DAY * _TIMED_DAYS)
        day = FIRST_TIMED_DAY + dt.timedelta(days=n // _STARTS_PER_DAY)
        return local(day, 8 + n % _STARTS_PER_DAY)

    @property
    def schedule(self) -> PackageSchedule:
        """A valid schedule: the shop's timing on the shop's resource."""
        return PackageSchedule(TIMING, resource_ids=(self.resource.id,))


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


def _hold_time(backend: Backend, tenant: Tenant, package: Package, start: dt.datetime) -> Booking:
    return backend.app.bookings.hold(
        tenant.id, package_id=package.id, start=start, customer=CUSTOMER
    )


def _on_a_free_start(make: Callable[[dt.datetime], Booking], shop: Shop) -> Booking:
    """``make(start)`` on the next start that takes it (accepted hostile holds took some)."""
    for _ in range(50):
        try:
            return make(shop.next_start())
        except (DateUnavailableError, BookingConflictError):  # TimeUnavailableError included
            continue
    msg = "no free start for the shop's timed hold in 50 tries"
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
    resource = app.catalog.create_resource(tid, name="Chair 1", kind="staff", hours=HOURS)
    spare = app.catalog.create_resource(tid, name="Chair 2", kind="staff", hours=HOURS)
    timed = app.catalog.create_package(
        tid,
        slug="massage",
        name="Massage",
        base_price=8_000,
        schedule=PackageSchedule(TIMING, resource_ids=(resource.id,)),
    )
    time_off = app.catalog.add_time_off(
        tid,
        resource.id,
        start=local(TIME_OFF_DAY, 12),
        end=local(TIME_OFF_DAY, 15),
        reason="dentist",
    )
    timed_pending = _hold_time(backend, tenant, timed, local(FIRST_TIMED_DAY - _ONE_DAY, 10))
    feed, feed_token = app.feeds.create(tid, label="ci")
    series = _one_occurrence(app, tid, timed, local(SERIES_FIRST_DAY - _ONE_DAY, 10))
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
        resource,
        spare,
        timed,
        time_off,
        timed_pending,
        feed,
        feed_token,
        series,
    )


def _one_occurrence(app: Any, tenant_id: uuid.UUID, timed: Package, first: dt.datetime) -> Any:
    return app.series.hold(
        tenant_id, package_id=timed.id, first=first, rule=SERIES_RULE, customer=CUSTOMER
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
    "catalog.create_resource.name": lambda b, s: fresh("Resource"),
    "catalog.add_time_off.resource_id": lambda b, s: s.spare.id,
    "catalog.add_time_off.start": lambda b, s: local(ADDED_TIME_OFF_DAY, 10),
    "catalog.add_time_off.end": lambda b, s: local(ADDED_TIME_OFF_DAY, 11),
    "catalog.list_time_off.start": lambda b, s: window()[0],
    "catalog.list_time_off.end": lambda b, s: window()[1],
    "availability.slots.package_id": lambda b, s: s.timed.id,
    "series.hold.package_id": lambda b, s: s.timed.id,
    "series.checkout.package_id": lambda b, s: s.timed.id,
    "availability.slots.start": lambda b, s: window()[0],
    "availability.slots.end": lambda b, s: window()[1],
    "bookings.refund.booking_id": lambda b, s: s.confirmed.id,
    "bookings.hold.date": lambda b, s: s.next_date(),
    "bookings.checkout.date": lambda b, s: s.next_date(),
    "bookings.reschedule.new_date": lambda b, s: s.next_date(),
    "webhooks.receive.raw_body": lambda b, s: s.webhook[0],
    "webhooks.receive.headers": lambda b, s: dict(s.webhook[1]),
    # the variants (see VARIANTS)
    "bookings.hold[timed].package_id": lambda b, s: s.timed.id,
    "bookings.hold[timed].start": lambda b, s: s.next_start(),
    "bookings.hold[timed-named].package_id": lambda b, s: s.timed.id,
    "bookings.hold[timed-named].start": lambda b, s: s.next_start(),
    "bookings.checkout[timed].package_id": lambda b, s: s.timed.id,
    "bookings.checkout[timed].start": lambda b, s: s.next_start(),
    "bookings.reschedule[timed].booking_id": lambda b, s: s.timed_pending.id,
    "bookings.reschedule[timed].new_start": lambda b, s: s.next_start(),
    "catalog.update_package[timed].package_id": lambda b, s: s.timed.id,
}

#: Methods also called with some optional parameters given (valid values by
#: ``service.method[variant].parameter``, then as for the plain method): each parameter of
#: the variant is a target of its own, so the hostile values meet the timed path too.
VARIANTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("bookings.hold", "timed"): ("start",),
    ("bookings.hold", "timed-named"): ("start", "resource_id"),
    ("bookings.checkout", "timed"): ("start",),
    ("bookings.reschedule", "timed"): ("new_start",),
    ("availability.slots", "narrowed"): ("resource_ids", "tz"),
    ("catalog.update_package", "timed"): (),
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
    "resource_id": lambda b, s: s.resource.id,
    "resource_ids": lambda b, s: [s.resource.id],
    "time_off_id": lambda b, s: s.time_off.id,
    "feed_id": lambda b, s: s.feed.id,
    "series_id": lambda b, s: s.series.series_id,
    "first": lambda b, s: s.next_series_start(),
    "rule": lambda b, s: SERIES_RULE,
    "rules": lambda b, s: (FAR_BLACKOUT,),
    "token": lambda b, s: s.feed_token,
    "tz": lambda b, s: TIMEZONE,
    "hours": lambda b, s: RICH_HOURS,
    "schedule": lambda b, s: s.schedule,
}


def valid_for(qualname: str, parameter: str, variant: str = "") -> Valid | None:
    """The valid value of ``parameter``: of the variant, of the method, else of the name."""
    found = BY_METHOD.get(f"{qualname}[{variant}].{parameter}") if variant else None
    return found or BY_METHOD.get(f"{qualname}.{parameter}") or BY_NAME.get(parameter)


def given(qualname: str, variant: str) -> tuple[str, ...]:
    """The optional parameters a variant of a method is called with (none for the plain one)."""
    return VARIANTS.get((qualname, variant), ()) if variant else ()


#: What an accepted write of each service may have changed (unknown services: everything).
_SCOPE: dict[str, tuple[str, ...]] = {
    "tenants": ("tenant",),
    "catalog": ("catalog",),
    "bookings": ("bookings",),
    "webhooks": ("bookings",),
    "availability": (),
    "customers": (),
    "outbox": (),
    "feeds": ("feeds",),
    "series": ("series",),
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
    if "feeds" in scope:
        _heal_feeds(backend, backend.shop)
    if "series" in scope:
        _heal_series(backend, backend.shop)


def _heal_series(backend: Backend, shop: Shop) -> None:
    """A confirmed or cancelled shop series is replaced by a new held one."""
    app, tid = backend.app, shop.tenant.id
    statuses = {b.status for b in app.series.get(tid, shop.series.series_id)}
    if statuses != {BookingStatus.PENDING}:
        shop.series = _one_occurrence(app, tid, shop.timed, shop.next_series_start())


def _heal_feeds(backend: Backend, shop: Shop) -> None:
    """A revoked shop feed is replaced by a new one (and its token)."""
    app, tid = backend.app, shop.tenant.id
    if shop.feed.id not in {feed.id for feed in app.feeds.list(tid)}:
        shop.feed, shop.feed_token = app.feeds.create(tid, label="ci")


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
    if tenant.blackout_rules:
        app.tenants.update_blackout_rules(tid, ())


def _editable(entity: Any) -> Any:
    return {f.name for f in dataclasses.fields(entity)} - {"id", "tenant_id", "slug"}


def _heal_catalog(backend: Backend, shop: Shop) -> None:
    catalog, tid = backend.app.catalog, shop.tenant.id
    packages = catalog.list_packages(tid, include_inactive=True)
    pairs: list[tuple[Any, list[Any], Callable[..., Any]]] = [
        (shop.segment, catalog.list_segments(tid, include_inactive=True), catalog.update_segment),
        (shop.package, packages, catalog.update_package),
        (shop.timed, packages, catalog.update_package),
        (shop.add_on, catalog.list_add_ons(tid, include_inactive=True), catalog.update_add_on),
        (shop.venue, catalog.list_venues(tid, include_inactive=True), catalog.update_venue),
        (
            shop.resource,
            catalog.list_resources(tid, include_inactive=True),
            catalog.update_resource,
        ),
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
    _heal_time_off(backend, shop)


def _heal_time_off(backend: Backend, shop: Shop) -> None:
    """The shop's stretch of time off back, when an accepted ``remove_time_off`` took it."""
    catalog, tid, wanted = backend.app.catalog, shop.tenant.id, shop.time_off
    first, last = window()
    if wanted.id not in {
        off.id for off in catalog.list_time_off(tid, shop.resource.id, first, last)
    }:
        shop.time_off = catalog.add_time_off(
            tid, shop.resource.id, start=wanted.start, end=wanted.end, reason=wanted.reason
        )


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
    if bookings.get(tid, shop.timed_pending.id).status is not BookingStatus.PENDING:
        shop.timed_pending = _on_a_free_start(
            lambda start: _hold_time(backend, shop.tenant, shop.timed, start), shop
        )
