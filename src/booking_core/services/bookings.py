"""Bookings: hold a date, confirm, cancel, fulfil, expire.

No double booking is enforced by the repository's seat claim (a primary key in SQL), never by a
check-then-insert here. Every status change is a compare-and-swap on the current status, so two
racing transitions leave exactly one outcome.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from booking_core.domain.ids import new_id
from booking_core.domain.model import (
    ALLOWED_TRANSITIONS,
    Booking,
    BookingAddOn,
    BookingStatus,
    Customer,
    CustomerDetails,
    UnavailableReason,
)
from booking_core.domain.money import commission_for
from booking_core.domain.rules import local_today
from booking_core.errors import (
    BookingConflictError,
    DateUnavailableError,
    HoldExpiredError,
    InvalidTransitionError,
    NotFoundError,
    TenantInactiveError,
    ValidationError,
)
from booking_core.ports.cache import CachePort
from booking_core.ports.calendar import CalendarPort
from booking_core.ports.clock import Clock
from booking_core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from booking_core.sanitize import sanitize_phone
from booking_core.services import _validate as v
from booking_core.services._base import (
    CacheSettings,
    Invalidation,
    Service,
    availability_namespace,
    load_tenant,
)
from booking_core.services.availability import refuse_calendar_or_policy

MAX_ADD_ON_QUANTITY = 1000
EXPIRY_BATCH = 500


def _customer_details(customer: Any) -> CustomerDetails:
    if not isinstance(customer, CustomerDetails):
        raise ValidationError("customer", "must be a CustomerDetails")
    phone = customer.phone
    return CustomerDetails(
        name=v.name(customer.name, "customer.name"),
        email=v.customer_email(customer.email, "customer.email"),
        phone=None if phone in (None, "") else sanitize_phone(phone, field="customer.phone"),
    )


def _quantities(add_ons: Any) -> dict[uuid.UUID, int]:
    if add_ons is None:
        return {}
    if not isinstance(add_ons, Mapping):
        raise ValidationError("add_ons", "must map add-on ids to quantities")
    return {
        v.uuid_(key, "add_ons"): v.integer(
            qty, f"add_ons.{key}", minimum=1, maximum=MAX_ADD_ON_QUANTITY
        )
        for key, qty in add_ons.items()
    }


class BookingService(Service):
    """The booking lifecycle."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        calendar: CalendarPort,
        *,
        cache: CachePort | None = None,
        cache_settings: CacheSettings | None = None,
    ) -> None:
        super().__init__(uow, clock, cache=cache, cache_settings=cache_settings)
        self._calendar = calendar

    def hold(
        self,
        tenant_id: uuid.UUID,
        *,
        package_id: uuid.UUID,
        date: dt.date,
        customer: CustomerDetails,
        add_ons: Mapping[uuid.UUID, int] | None = None,
        venue_id: uuid.UUID | None = None,
    ) -> Booking:
        """Hold ``date`` for a customer: a PENDING booking with a price snapshot and an expiry.

        A customer with the same (normalized) email is reused and their name/phone updated.

        Raises:
            ValidationError: malformed input (names the field).
            NotFoundError: package, add-on or venue is not an active record of this tenant.
            BookingConflictError: the date's capacity is taken (names the date).
            DateUnavailableError: blackout, calendar, past, too soon or too far.
            TenantInactiveError: the tenant is deactivated.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        package_id = v.uuid_(package_id, "package_id")
        venue_id = v.optional_uuid(venue_id, "venue_id")
        date = v.date_(date)
        details = _customer_details(customer)
        quantities = _quantities(add_ons)
        # External I/O stays outside the transaction; its verdict is applied inside.
        calendar_busy = date in self._calendar.busy_dates(tenant_id, date, date)

        def work(uow: UnitOfWork) -> Booking:
            now = self._clock.now()
            context = uow.bookings.hold_context(tenant_id, package_id, venue_id, date, now)
            if context is None:
                raise NotFoundError("tenant", tenant_id)
            tenant = context.tenant
            if not tenant.active:
                raise TenantInactiveError(tenant_id)
            if context.blackout:
                raise DateUnavailableError(date, UnavailableReason.BLACKOUT.value)
            capacity = tenant.policy.capacity_per_date
            if venue_id is not None:
                if context.venue is None or not context.venue.active:
                    raise NotFoundError("venue", venue_id)
                capacity = context.venue.capacity
            package = context.package
            if package is None or not package.active:
                raise NotFoundError("package", package_id)
            if context.seats_held >= capacity:
                raise BookingConflictError(date)  # visibly full: fail before writing
            refuse_calendar_or_policy(tenant, date, now=now, calendar_busy=calendar_busy)
            lines = self._lines(uow, tenant_id, package_id, quantities)
            customer = Customer(
                new_id(), tenant_id, details.name, details.email, details.phone, now
            )
            total = package.base_price + sum(line.line_total for line in lines)
            booking = Booking(
                id=new_id(),
                tenant_id=tenant_id,
                package_id=package_id,
                customer_id=customer.id,
                venue_id=venue_id,
                event_date=date,
                status=BookingStatus.PENDING,
                package_price=package.base_price,
                add_ons=lines,
                total=total,
                commission=commission_for(total, tenant.commission_percent),
                currency=tenant.currency,
                created_at=now,
                expires_at=now + tenant.policy.hold_ttl,
            )
            placed = uow.bookings.place_hold(booking, customer, capacity=capacity, now=now)
            if placed is None:
                raise BookingConflictError(date)
            return placed

        return self._write(work, invalidates=_its_month)

    @staticmethod
    def _lines(
        uow: UnitOfWork,
        tenant_id: uuid.UUID,
        package_id: uuid.UUID,
        quantities: dict[uuid.UUID, int],
    ) -> tuple[BookingAddOn, ...]:
        if not quantities:
            return ()
        offered = {a.id: a for a in uow.packages.offered_add_ons(tenant_id, package_id)}
        lines = []
        for add_on_id, quantity in quantities.items():
            add_on = offered.get(add_on_id)
            if add_on is None or not add_on.active:
                raise NotFoundError("add_on", add_on_id)
            lines.append(BookingAddOn(add_on.id, add_on.name, add_on.price, quantity))
        return tuple(sorted(lines, key=lambda line: (line.name, str(line.add_on_id))))

    def _transition(
        self,
        tenant_id: uuid.UUID,
        booking_id: uuid.UUID,
        to: BookingStatus,
        *,
        changes: dict[str, Any],
        noop_if: Any = None,
        guard: Any = None,
        after: Any = None,
        frees_or_settles: bool = True,
    ) -> Booking:
        """CAS ``to`` from every status that may reach it; decide errors from the current state."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        booking_id = v.uuid_(booking_id, "booking_id")
        sources = [s for s, targets in ALLOWED_TRANSITIONS.items() if to in targets]

        def work(uow: UnitOfWork) -> Booking:
            tenant = load_tenant(uow, tenant_id)
            now = self._clock.now()
            updated = uow.bookings.transition(
                tenant_id,
                booking_id,
                from_statuses=sources,
                to=to,
                unexpired_at=now,
                changes={key: (now if val is _NOW else val) for key, val in changes.items()},
            )
            if updated is None:
                current = uow.bookings.get(tenant_id, booking_id)
                if current is None:
                    raise NotFoundError("booking", booking_id)
                seen = current.as_of(now)
                if noop_if is not None and noop_if(seen):
                    return seen
                if seen.status is BookingStatus.EXPIRED and to is BookingStatus.CONFIRMED:
                    raise HoldExpiredError(booking_id, seen.status.value, to.value)
                raise InvalidTransitionError(booking_id, seen.status.value, to.value)
            if guard is not None:
                guard(tenant, updated, now)
            if after is not None:
                after(uow, updated)
            return updated

        return self._write(work, invalidates=_its_month if frees_or_settles else None)

    def confirm(self, tenant_id: uuid.UUID, booking_id: uuid.UUID, *, payment_ref: str) -> Booking:
        """PENDING → CONFIRMED once paid; the date is then held for good.

        Confirming again with the same ``payment_ref`` is a no-op returning the booking.

        Raises:
            HoldExpiredError: the hold lapsed first (its date may already be someone else's).
            InvalidTransitionError: the booking is not PENDING.
        """
        ref = v.name(payment_ref, "payment_ref")

        def settle(uow: UnitOfWork, booking: Booking) -> None:
            if uow.bookings.settle_claims(booking.tenant_id, booking.id) == 0:
                raise HoldExpiredError(booking.id, BookingStatus.EXPIRED.value, "CONFIRMED")

        return self._transition(
            tenant_id,
            booking_id,
            BookingStatus.CONFIRMED,
            changes={"confirmed_at": _NOW, "payment_ref": ref},
            noop_if=lambda b: b.status is BookingStatus.CONFIRMED and b.payment_ref == ref,
            after=settle,
        )

    def cancel(self, tenant_id: uuid.UUID, booking_id: uuid.UUID, *, reason: str = "") -> Booking:
        """PENDING/CONFIRMED → CANCELED; the date is free again at once.

        Canceling a canceled booking is a no-op returning it.
        """
        clean_reason = v.text(reason, "reason", max_length=1000)

        def release(uow: UnitOfWork, booking: Booking) -> None:
            uow.bookings.release_claims(booking.tenant_id, booking.id)

        return self._transition(
            tenant_id,
            booking_id,
            BookingStatus.CANCELED,
            changes={"canceled_at": _NOW, "cancel_reason": clean_reason},
            noop_if=lambda b: b.status is BookingStatus.CANCELED,
            after=release,
        )

    def fulfil(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking:
        """CONFIRMED → FULFILLED, allowed from the event date on (tenant's local calendar)."""

        def not_before_event(tenant: Any, booking: Booking, now: dt.datetime) -> None:
            if booking.event_date > local_today(now, tenant.timezone):
                raise InvalidTransitionError(booking.id, "CONFIRMED (event ahead)", "FULFILLED")

        return self._transition(
            tenant_id,
            booking_id,
            BookingStatus.FULFILLED,
            changes={"fulfilled_at": _NOW},
            noop_if=lambda b: b.status is BookingStatus.FULFILLED,
            guard=not_before_event,
            frees_or_settles=False,
        )

    def expire_holds(
        self, *, tenant_id: uuid.UUID | None = None, limit: int = EXPIRY_BATCH
    ) -> list[Booking]:
        """Mark lapsed holds EXPIRED (all tenants, or one) and return them.

        Lapsed holds already stopped blocking their dates; this sweep records the fact.
        """
        tenant = v.optional_uuid(tenant_id, "tenant_id")
        limit = v.integer(limit, "limit", minimum=1, maximum=100_000)
        return self._write(
            lambda uow: uow.bookings.expire_lapsed(self._clock.now(), tenant_id=tenant, limit=limit)
        )

    def get(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking:
        """The booking as of now (a lapsed hold reads EXPIRED). Raises NotFoundError."""
        booking_id = v.uuid_(booking_id, "booking_id")

        def work(uow: UnitOfWork) -> Booking:
            load_tenant(uow, tenant_id)
            booking = uow.bookings.get(tenant_id, booking_id)
            if booking is None:
                raise NotFoundError("booking", booking_id)
            return booking.as_of(self._clock.now())

        return self._read(work)

    def list_for_dates(self, tenant_id: uuid.UUID, start: dt.date, end: dt.date) -> list[Booking]:
        """All bookings (any status) with event dates in ``[start, end]`` (≤ 10 years), by date."""
        start, end = v.date_range(start, end, max_days=3660)

        def work(uow: UnitOfWork) -> list[Booking]:
            load_tenant(uow, tenant_id)
            now = self._clock.now()
            return [b.as_of(now) for b in uow.bookings.list_for_dates(tenant_id, start, end)]

        return self._read(work)


def _its_month(booking: Booking) -> list[Invalidation]:
    """The cached availability a change of this booking's seat invalidates."""
    return [(booking.tenant_id, availability_namespace(booking.resource_id, booking.event_date))]


#: Placeholder for "the transaction's now" in transition changes.
_NOW = object()
