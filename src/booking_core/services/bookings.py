"""Bookings: hold a date, check out, confirm, cancel with refunds, reschedule, fulfil, expire.

No double booking is enforced by the repository's seat claim (a primary key in SQL), never by a
check-then-insert here. Every status change is a compare-and-swap on the current status, so two
racing transitions leave exactly one outcome.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from booking_core.domain import lifecycle
from booking_core.domain.ids import new_id
from booking_core.domain.lifecycle import BookingChange
from booking_core.domain.model import (
    Booking,
    BookingStatus,
    Cancellation,
    CustomerDetails,
    HoldContext,
    HoldTerms,
    IdempotencyRecord,
    Refund,
    Tenant,
    UnavailableReason,
)
from booking_core.domain.money import refund_for
from booking_core.domain.rules import (
    blackout_rule_dates,
    local_today,
    pool_capacity,
    refuse_calendar_or_policy,
)
from booking_core.domain.schedule import Interval
from booking_core.errors import (
    BookingConflictError,
    DateUnavailableError,
    IdempotencyKeyReusedError,
    InvalidTransitionError,
    NotFoundError,
    PaymentError,
    TenantInactiveError,
    TimeUnavailableError,
    ValidationError,
)
from booking_core.limits import MAX_BATCH, MAX_EXPIRY_BATCH, MAX_LISTING_DAYS, MAX_PURGE
from booking_core.ports.cache import CachePort
from booking_core.ports.calendar import NOTHING_BUSY, BusyIntervals, CalendarPort, NoCalendar
from booking_core.ports.clock import Clock
from booking_core.ports.payments import PaymentProvider, PaymentRequest, PaymentSession
from booking_core.ports.repositories import (
    HoldAttemptOutcome,
    HoldsAtOnce,
    UnitOfWork,
    UnitOfWorkFactory,
)
from booking_core.sanitize import sanitize_phone
from booking_core.services import _validate as v
from booking_core.services._base import (
    CATALOG,
    CacheSettings,
    Invalidation,
    Service,
    load_tenant,
    months_of,
)
from booking_core.services._calendar import busy_time
from booking_core.services._hold_request import (
    Fallback,
    HoldRequest,
    TimedTerms,
    attempt_at_once,
    attempt_time_at_once,
    hold_time,
    lines_of,
)
from booking_core.services._lifecycle import store
from booking_core.services._refunds import RefundSettler, decide_refund
from booking_core.services._scheduling import (
    candidates_for,
    claim_for,
    instant,
    timed,
)

__all__ = [
    "DEFAULT_IDEMPOTENCY_TTL",
    "EXPIRY_BATCH",
    "MAX_ADD_ON_QUANTITY",
    "MAX_IDEMPOTENCY_KEY",
    "BookingService",
    "Checkout",
]

MAX_ADD_ON_QUANTITY = 1000
EXPIRY_BATCH = 500
DEFAULT_IDEMPOTENCY_TTL = dt.timedelta(hours=24)
MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True, slots=True)
class Checkout:
    """A hold with its payment: send the customer to ``session.redirect_url``."""

    booking: Booking
    session: PaymentSession


def _idempotency_key(key: Any) -> str | None:
    if key is None:
        return None
    # stored and compared as given: no NUL or lone surrogate a database could not store
    return v.identifier(key, "idempotency_key", max_length=MAX_IDEMPOTENCY_KEY)


def _fingerprint(**request: Any) -> str:
    """A stable digest of a (validated) request, to tell a replay from a reuse of its key."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hold_input(
    customer: Any, add_ons: Any, idempotency_key: Any
) -> tuple[CustomerDetails, Mapping[uuid.UUID, int], str | None]:
    """What every hold validates alike: the customer, the add-on quantities and the key."""
    quantities = MappingProxyType(_quantities(add_ons))
    return _customer_details(customer), quantities, _idempotency_key(idempotency_key)


def _request_fingerprint(
    key: str | None,
    package_id: uuid.UUID,
    details: CustomerDetails,
    quantities: Mapping[uuid.UUID, int],
    **placed: object,
) -> str:
    """The fingerprint a key remembers its hold by ("" without a key): the package, customer
    and add-ons, and what was ``placed`` (a date and venue, or a start and resource)."""
    if key is None:
        return ""
    return _fingerprint(
        package_id=package_id,
        customer=[details.name, details.email, details.phone],
        add_ons=sorted((str(k), q) for k, q in quantities.items()),
        **placed,
    )


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
        payments: PaymentProvider | None = None,
        idempotency_ttl: dt.timedelta = DEFAULT_IDEMPOTENCY_TTL,
    ) -> None:
        super().__init__(uow, clock, cache=cache, cache_settings=cache_settings)
        self._calendar = calendar
        self._payments = payments
        self._refunds = RefundSettler(uow, clock, payments)
        self._idempotency_ttl = idempotency_ttl
        # checked once: a runtime Protocol check costs more than it should per hold
        self._holds = uow if isinstance(uow, HoldsAtOnce) else None

    # --- hold and checkout -----------------------------------------------------------------

    def hold(
        self,
        tenant_id: uuid.UUID,
        *,
        package_id: uuid.UUID,
        customer: CustomerDetails,
        date: dt.date | None = None,
        start: dt.datetime | None = None,
        add_ons: Mapping[uuid.UUID, int] | None = None,
        venue_id: uuid.UUID | None = None,
        resource_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
    ) -> Booking:
        """Hold ``date`` (a date package) or the time from ``start`` (an aware datetime, a
        timed package) for a customer: a PENDING booking with a price snapshot and an expiry.

        A timed hold takes the package's resources: the named ``resource_id``, or the one the
        package's :class:`~booking_core.domain.model.Assignment` picks (least loaded that day
        by default), trying the next eligible one when it loses a race, or all of them for a
        package that needs all (all or none).

        A customer with the same (normalized) email is reused and their name/phone updated.
        With an ``idempotency_key``, a replay of the same request (within the key's lifetime,
        24 h by default) returns the original booking as it is now, and a different request
        with the same key raises; two concurrent requests with one key create one booking.

        Raises:
            ValidationError: malformed input (names the field), neither or both of ``date`` and
                ``start``, or the one that does not fit the package.
            NotFoundError: package, add-on, venue or resource is not an active record of this
                tenant.
            BookingConflictError: the date's capacity is taken (names the date), or the time
                is taken (names the start, and the resource when one was named).
            DateUnavailableError: blackout, calendar, past, too soon or too far.
            TimeUnavailableError: the start is past, inside the notice, past the horizon or
                outside the working hours (a ``DateUnavailableError``).
            IdempotencyKeyReusedError: the key was used for a different request.
            TenantInactiveError: the tenant is deactivated.
        """
        return self._place(
            tenant_id,
            package_id=package_id,
            date=date,
            start=start,
            customer=customer,
            add_ons=add_ons,
            venue_id=venue_id,
            resource_id=resource_id,
            idempotency_key=idempotency_key,
        ).booking

    def _place(
        self,
        tenant_id: uuid.UUID,
        *,
        package_id: uuid.UUID,
        date: dt.date | None,
        start: dt.datetime | None,
        customer: CustomerDetails,
        add_ons: Mapping[uuid.UUID, int] | None,
        venue_id: uuid.UUID | None,
        resource_id: uuid.UUID | None,
        idempotency_key: str | None,
    ) -> _Held:
        """:meth:`hold`, also telling whether the booking was created by this call."""
        if (date is None) == (start is None):
            raise ValidationError(
                "date", "give either date (a date package) or start (a timed one)"
            )
        if start is not None:
            if venue_id is not None:
                raise ValidationError("venue_id", "a timed hold takes resources, not a venue")
            return self._place_timed(
                tenant_id,
                package_id=package_id,
                start=start,
                customer=customer,
                add_ons=add_ons,
                resource_id=resource_id,
                idempotency_key=idempotency_key,
            )
        if resource_id is not None:
            raise ValidationError("resource_id", "a date hold takes a venue, not a resource")
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        package_id = v.uuid_(package_id, "package_id")
        venue_id = v.optional_uuid(venue_id, "venue_id")
        date = v.date_(date)
        details, quantities, key = _hold_input(customer, add_ons, idempotency_key)
        fingerprint = _request_fingerprint(
            key, package_id, details, quantities, date=date, venue_id=venue_id
        )
        # External I/O stays outside the transaction; its verdict is applied inside.
        calendar_busy = date in self._calendar.busy_dates(tenant_id, date, date)
        # Ids are chosen once, before the first attempt: after a lost reply the retry looks for
        # this booking to learn whether that attempt landed.
        request = HoldRequest(
            tenant_id=tenant_id,
            package_id=package_id,
            venue_id=venue_id,
            date=date,
            customer=details,
            quantities=quantities,
            key=key,
            fingerprint=fingerprint,
            calendar_busy=calendar_busy,
            booking_id=new_id(),
            customer_id=new_id(),
            event_id=new_id(),
        )
        at_once = self._hold_at_once(request)
        if isinstance(at_once, _Held):
            self._invalidate(months_of(at_once.booking))
            return at_once

        def work(uow: UnitOfWork) -> _Held:
            now = self._clock.now()
            context = _of_active_tenant(
                uow.bookings.hold_context(tenant_id, package_id, venue_id, date, now), tenant_id
            )
            tenant = context.tenant
            if key is not None:
                replay = self._replay(uow, tenant_id, key, fingerprint, now)
                if replay is not None:
                    return _Held(replay, replayed=True)
            capacity = self._capacity(context, venue_id)
            if context.blackout or blackout_rule_dates(tenant, date, date):
                raise DateUnavailableError(date, UnavailableReason.BLACKOUT.value)
            package = context.package
            if package is None or not package.active:
                raise NotFoundError("package", package_id)
            if package.schedule is not None:
                raise ValidationError("date", "is a timed package: hold it with start=")
            if context.seats_held >= capacity:
                raise BookingConflictError(date)  # visibly full: fail before writing
            refuse_calendar_or_policy(tenant, date, now=now, calendar_busy=calendar_busy)
            offered = uow.packages.offered_add_ons(tenant_id, package_id) if quantities else ()
            booking, customer, event = request.priced(
                tenant, package, lines_of(offered, quantities), now
            )
            placed = uow.bookings.place_hold(
                booking, customer, capacity=capacity, now=now, event=event
            )
            if placed is None:
                raise BookingConflictError(date)
            if key is not None:
                uow.idempotency.attach(tenant_id, key, placed.id)
            return _Held(placed, replayed=False)

        return self._write_hold(request, work, at_once)

    def _place_timed(
        self,
        tenant_id: uuid.UUID,
        *,
        package_id: uuid.UUID,
        start: dt.datetime,
        customer: CustomerDetails,
        add_ons: Mapping[uuid.UUID, int] | None,
        resource_id: uuid.UUID | None,
        idempotency_key: str | None,
    ) -> _Held:
        """A timed hold: its time is claimed in the database before the booking is written
        (the claim decides; nothing here checks and then inserts)."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        package_id = v.uuid_(package_id, "package_id")
        resource_id = v.optional_uuid(resource_id, "resource_id")
        start = instant(start, "start")
        details, quantities, key = _hold_input(customer, add_ons, idempotency_key)
        fingerprint = _request_fingerprint(
            key, package_id, details, quantities, start=start.isoformat(), resource_id=resource_id
        )
        request = HoldRequest(
            tenant_id=tenant_id,
            package_id=package_id,
            venue_id=None,
            date=start.date(),
            customer=details,
            quantities=quantities,
            key=key,
            fingerprint=fingerprint,
            calendar_busy=False,
            booking_id=new_id(),
            customer_id=new_id(),
            event_id=new_id(),
        )
        # External I/O stays outside the transaction; its verdict is applied inside.
        busy = self._calendar_busy(tenant_id, package_id, start)
        at_once = self._time_at_once(request, start=start, named=resource_id, busy=busy)
        if isinstance(at_once, _Held):
            self._invalidate(months_of(at_once.booking))
            return at_once

        def work(uow: UnitOfWork) -> _Held:
            now = self._clock.now()
            tenant = load_tenant(uow, tenant_id)
            if key is not None:
                replay = self._replay(uow, tenant_id, key, fingerprint, now)
                if replay is not None:
                    return _Held(replay, replayed=True)
            package, _ = timed(uow.packages.get(tenant_id, package_id), package_id)
            candidates = candidates_for(
                uow, package, start, tenant=tenant, now=now, named=resource_id, busy=busy
            )
            offered = uow.packages.offered_add_ons(tenant_id, package_id) if quantities else ()
            lines = lines_of(offered, quantities)
            placed = hold_time(
                uow, request, package, candidates, start, tenant=tenant, now=now, lines=lines
            )
            if placed is None:
                date = local_today(start, tenant.timezone)
                raise BookingConflictError(date, start=start, resource_id=resource_id)
            if key is not None:
                uow.idempotency.attach(tenant_id, key, placed.id)
            return _Held(placed, replayed=False)

        return self._write_hold(request, work, at_once)

    def _write_hold(
        self,
        request: HoldRequest,
        work: Callable[[UnitOfWork], _Held],
        at_once: _Held | Fallback,
    ) -> _Held:
        """Run a hold's transaction: after a lost reply (of an earlier attempt, or of the one
        statement) it looks for the booking by its pre-chosen id first; a new hold makes the
        cached availability of its date or time stale."""

        def landed(uow: UnitOfWork) -> _Held | None:
            placed = uow.bookings.get(request.tenant_id, request.booking_id)
            return None if placed is None else _Held(placed.as_of(self._clock.now()), False)

        def stale(held: _Held) -> list[Invalidation]:
            return [] if held.replayed else months_of(held.booking)

        return self._write(
            work,
            invalidates=stale,
            landed=landed,
            outcome_unknown=at_once is Fallback.MAYBE_LANDED,
        )

    def _time_at_once(
        self,
        request: HoldRequest,
        *,
        start: dt.datetime,
        named: uuid.UUID | None,
        busy: BusyIntervals,
    ) -> _Held | Fallback:
        """A timed hold in one statement from cached terms, where the backend offers it.

        Raises BookingConflictError / TimeUnavailableError only when the statement proved them
        (never from the cache alone); everything else falls back to the transaction.
        """
        holds = self._holds
        if self._cache is None or holds is None:
            return Fallback.SETTLE
        terms = self._timed_terms(request.tenant_id, request.package_id)
        if terms is None:
            return Fallback.SETTLE
        result = attempt_time_at_once(
            holds,
            request,
            terms,
            start=start,
            named=named,
            now=self._clock.now(),
            key_ttl=self._idempotency_ttl,
            busy=busy,
        )
        if result is Fallback.STALE:  # the next hold reloads them
            self._cache.delete(request.tenant_id, CATALOG, _timed_terms_key(request.package_id))
            return Fallback.SETTLE
        if isinstance(result, Fallback):
            return result
        if result.outcome is HoldAttemptOutcome.PLACED and result.booking is not None:
            return _Held(result.booking, replayed=False)
        date = local_today(start, terms.tenant.timezone)
        if result.outcome is HoldAttemptOutcome.BLACKOUT:  # time off over the booking
            raise TimeUnavailableError(start, UnavailableReason.OUTSIDE_HOURS.value, date=date)
        if result.outcome is HoldAttemptOutcome.FULL:
            raise BookingConflictError(date, start=start, resource_id=named)
        return Fallback.SETTLE

    def _calendar_busy(
        self,
        tenant_id: uuid.UUID,
        package_id: uuid.UUID,
        start: dt.datetime,
        last: dt.datetime | None = None,
    ) -> BusyIntervals:
        """What the external calendars say about the package's resources over the service
        starting at ``start`` (to the one starting at ``last``: a series): asked once, before
        any transaction (no reads at all when the app has no calendar port)."""
        if type(self._calendar) is NoCalendar:
            return NOTHING_BUSY
        terms = self._timed_terms(tenant_id, package_id) if self._cache is not None else None
        package = (
            terms.package
            if terms is not None
            else self._read(lambda uow: uow.packages.get(tenant_id, package_id))
        )
        schedule = None if package is None else package.schedule
        if schedule is None:  # the transaction raises the precise error
            return NOTHING_BUSY
        window = Interval(start, (last or start) + schedule.timing.duration)
        return busy_time(self._calendar, tenant_id, schedule.resource_ids, window)

    def _timed_terms(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> TimedTerms | None:
        """What a timed hold is placed from, read through the catalog cache (None: no tenant)."""

        def load() -> TimedTerms | None:
            def work(uow: UnitOfWork) -> TimedTerms | None:
                tenant = uow.tenants.get(tenant_id)
                if tenant is None:
                    return None
                package = uow.packages.get(tenant_id, package_id)
                schedule = None if package is None else package.schedule
                resources = (
                    ()
                    if schedule is None
                    else tuple(uow.resources.get_many(tenant_id, schedule.resource_ids))
                )
                add_ons = tuple(uow.packages.offered_add_ons(tenant_id, package_id))
                return TimedTerms(tenant, package, resources, add_ons)

            return self._read(work)

        terms: TimedTerms | None = self._cached(
            tenant_id,
            CATALOG,
            _timed_terms_key(package_id),
            TimedTerms | None,
            load,
            ttl=self._cache_settings.catalog_ttl,
        )
        return terms

    def _hold_at_once(self, request: HoldRequest) -> _Held | Fallback:
        """The hold in one statement from cached terms, where the backend offers it.

        Raises BookingConflictError / DateUnavailableError only when the statement proved them
        (never from the cache alone); everything else falls back to the transaction.
        """
        holds = self._holds
        if self._cache is None or holds is None:
            return Fallback.SETTLE
        terms = self._terms(request.tenant_id, request.package_id, request.venue_id)
        if terms is None or (terms.package is not None and terms.package.schedule is not None):
            return Fallback.SETTLE  # the transaction names what is wrong
        result = attempt_at_once(
            holds, request, terms, now=self._clock.now(), key_ttl=self._idempotency_ttl
        )
        if result is Fallback.STALE:  # the next hold reloads them
            key = _terms_key(request.package_id, request.venue_id)
            self._cache.delete(request.tenant_id, CATALOG, key)
            return Fallback.SETTLE
        if isinstance(result, Fallback):
            return result
        if result.outcome is HoldAttemptOutcome.PLACED and result.booking is not None:
            return _Held(result.booking, replayed=False)
        if result.outcome is HoldAttemptOutcome.BLACKOUT:
            raise DateUnavailableError(request.date, UnavailableReason.BLACKOUT.value)
        if result.outcome is HoldAttemptOutcome.FULL:
            raise BookingConflictError(request.date)
        return Fallback.SETTLE

    def _terms(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, venue_id: uuid.UUID | None
    ) -> HoldTerms | None:
        """The terms a hold is priced from, read through the catalog cache (None: no tenant)."""

        def load() -> HoldTerms | None:
            def work(uow: UnitOfWork) -> HoldTerms | None:
                tenant = uow.tenants.get(tenant_id)
                if tenant is None:
                    return None
                venue = None if venue_id is None else uow.venues.get(tenant_id, venue_id)
                return HoldTerms(
                    tenant=tenant,
                    package=uow.packages.get(tenant_id, package_id),
                    venue=venue,
                    add_ons=tuple(uow.packages.offered_add_ons(tenant_id, package_id)),
                )

            return self._read(work)

        terms: HoldTerms | None = self._cached(
            tenant_id,
            CATALOG,
            _terms_key(package_id, venue_id),
            HoldTerms | None,
            load,
            ttl=self._cache_settings.catalog_ttl,
        )
        return terms

    def _replay(
        self, uow: UnitOfWork, tenant_id: uuid.UUID, key: str, fingerprint: str, now: dt.datetime
    ) -> Booking | None:
        """Claim ``key``; if it was already used, return its booking (or raise on a reuse)."""
        existing = uow.idempotency.claim(
            IdempotencyRecord(tenant_id, key, fingerprint, None, now, now + self._idempotency_ttl),
            now=now,
        )
        if existing is None:
            return None
        if existing.request_hash != fingerprint or existing.booking_id is None:
            raise IdempotencyKeyReusedError(key)
        booking = uow.bookings.get(tenant_id, existing.booking_id)
        if booking is None:
            raise IdempotencyKeyReusedError(key)
        return booking.as_of(now)

    @staticmethod
    def _capacity(context: HoldContext, venue_id: uuid.UUID | None) -> int:
        capacity = pool_capacity(context.tenant, context.venue, venue_id)
        if capacity is None:
            raise NotFoundError("venue", venue_id)
        return capacity

    def checkout(
        self,
        tenant_id: uuid.UUID,
        *,
        package_id: uuid.UUID,
        customer: CustomerDetails,
        date: dt.date | None = None,
        start: dt.datetime | None = None,
        add_ons: Mapping[uuid.UUID, int] | None = None,
        venue_id: uuid.UUID | None = None,
        resource_id: uuid.UUID | None = None,
        idempotency_key: str | None = None,
    ) -> Checkout:
        """Hold the date (or the time from ``start``) and create its payment (amount = total,
        platform fee = commission).

        Replays with the same ``idempotency_key`` return the same booking and payment while
        the hold awaits payment. If the provider refuses to create the payment, the hold is
        released, the key forgotten (a retry with it starts afresh) and PaymentError raised.
        It raises the errors of :meth:`hold`, and:

        Raises:
            InvalidTransitionError: a replay whose booking no longer awaits payment (paid,
                cancelled or lapsed): no payment is created for it; read it with :meth:`get`.
            PaymentError: no provider, or it refused to create the payment.
        """
        if self._payments is None:
            raise PaymentError("no payment provider is configured")
        held = self._place(
            tenant_id,
            package_id=package_id,
            date=date,
            start=start,
            customer=customer,
            add_ons=add_ons,
            venue_id=venue_id,
            resource_id=resource_id,
            idempotency_key=idempotency_key,
        )
        booking = held.booking
        if booking.status is not BookingStatus.PENDING:
            raise InvalidTransitionError(booking.id, booking.status.value, "CHECKOUT")
        # Nothing in the request may change while the hold lives (a reschedule moves its date):
        # a replay must send the provider the very request its key was first used for.
        request = PaymentRequest(
            tenant_id=booking.tenant_id,
            booking_id=booking.id,
            amount=booking.total,
            currency=booking.currency,
            application_fee=booking.commission,
            description=f"Booking {booking.id}",
            idempotency_key=f"checkout:{booking.id}",
            metadata={"tenant_id": str(booking.tenant_id), "booking_id": str(booking.id)},
        )
        try:
            session = self._payments.create_payment(request)
        except PaymentError:
            if not held.replayed:  # a replay's hold is not this call's to release
                self._abandon(booking, idempotency_key)
            raise
        return Checkout(booking, session)

    def _abandon(self, booking: Booking, idempotency_key: str | None) -> None:
        """Release a hold whose payment could not be created, and forget its key."""
        self.cancel(booking.tenant_id, booking.id, reason="payment could not be created")
        if idempotency_key is not None:
            self._write(
                lambda uow: uow.idempotency.release(booking.tenant_id, idempotency_key, booking.id),
                idempotent=True,
            )

    # --- transitions -----------------------------------------------------------------------

    def _transition(
        self,
        tenant_id: uuid.UUID,
        booking_id: uuid.UUID,
        decide: _Decide,
        *,
        then: _After | None = None,
        recover: _Recover | None = None,
        frees_or_settles: bool = True,
    ) -> _Transitioned:
        """Read the booking, let the domain decide (``decide``), store its change.

        The change is a compare-and-swap on the version read here: a racing change makes this
        attempt run again on fresh data, where the domain decides anew. The event's id is chosen
        before the first attempt: after a lost COMMIT reply, finding it in the outbox means the
        change landed (``recover`` rebuilds its result).
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        booking_id = v.uuid_(booking_id, "booking_id")
        event_id = new_id()

        def work(uow: UnitOfWork) -> _Transitioned:
            tenant = load_tenant(uow, tenant_id)
            now = self._clock.now()
            booking = uow.bookings.lock(tenant_id, booking_id)
            if booking is None:
                raise NotFoundError("booking", booking_id)
            change = decide(tenant, booking, now, event_id)
            if change is None:
                return _Transitioned(booking.as_of(now))
            stored = store(uow, change, now=now)
            if then is not None:
                return then(uow, tenant, stored, now)
            return _Transitioned(stored)

        def landed(uow: UnitOfWork) -> _Transitioned | None:
            if uow.outbox.get(tenant_id, event_id) is None:
                return None
            tenant = load_tenant(uow, tenant_id, require_active=False)
            booking = uow.bookings.get(tenant_id, booking_id)
            if booking is None:
                return None
            seen = booking.as_of(self._clock.now())
            return _Transitioned(seen) if recover is None else recover(uow, tenant, seen)

        def months(result: _Transitioned) -> list[Invalidation]:
            return months_of(result.booking) if frees_or_settles else []

        return self._write(work, invalidates=months, landed=landed)

    def confirm(
        self,
        tenant_id: uuid.UUID,
        booking_id: uuid.UUID,
        *,
        payment_ref: str,
        amount_paid: int | None = None,
    ) -> Booking:
        """PENDING → CONFIRMED once paid; the date is then held for good.

        ``amount_paid`` defaults to the booking's total. Confirming again with the same
        ``payment_ref`` is a no-op returning the booking.

        Raises:
            HoldExpiredError: the hold lapsed first (its date may already be someone else's).
            InvalidTransitionError: the booking is not PENDING, or is already CONFIRMED by
                another ``payment_ref`` (the message says so).
        """
        ref = v.name(payment_ref, "payment_ref")
        paid = None if amount_paid is None else v.money(amount_paid, "amount_paid")

        def decide(
            _tenant: Tenant, booking: Booking, now: dt.datetime, event_id: uuid.UUID
        ) -> BookingChange | None:
            return lifecycle.confirm(
                booking, payment_ref=ref, amount_paid=paid, now=now, event_id=event_id
            )

        return self._transition(tenant_id, booking_id, decide).booking

    def cancel(
        self, tenant_id: uuid.UUID, booking_id: uuid.UUID, *, reason: str = ""
    ) -> Cancellation:
        """PENDING/CONFIRMED → CANCELED; the date is free again at once.

        A paid booking is refunded by the tenant's cancellation policy (tiers by whole days
        before the event in the tenant's timezone, minus the fee); the platform returns
        ``ceil(commission × refund / total)`` of its commission. The refund is recorded with the
        cancellation and executed by the payment provider right after the commit.
        Cancelling a cancelled booking is a no-op (refunding nothing more).
        """
        clean_reason = v.text(reason, "reason", max_length=1000)
        refund_reason = f"cancellation: {clean_reason}".strip(": ")
        refund_id = new_id()

        def decide(
            _tenant: Tenant, booking: Booking, now: dt.datetime, event_id: uuid.UUID
        ) -> BookingChange | None:
            return lifecycle.cancel(booking, reason=clean_reason, now=now, event_id=event_id)

        def refund_by_policy(
            uow: UnitOfWork, tenant: Tenant, booking: Booking, now: dt.datetime
        ) -> _Transitioned:
            refundable = booking.amount_paid - booking.amount_refunded
            if refundable <= 0:
                return _Transitioned(booking)
            days_before, percent = _refund_terms(tenant, booking, now)
            amount = min(
                refundable, refund_for(booking.amount_paid, percent, tenant.cancellation.fee)
            )
            if amount <= 0:
                return _Transitioned(booking, None, days_before, percent)
            updated, refund = decide_refund(
                uow, booking, amount, refund_reason, now, refund_id=refund_id
            )
            return _Transitioned(updated, refund, days_before, percent)

        def recover(uow: UnitOfWork, tenant: Tenant, booking: Booking) -> _Transitioned:
            refund = uow.refunds.get(booking.tenant_id, refund_id)
            if booking.amount_paid <= 0 or booking.canceled_at is None:
                return _Transitioned(booking, refund)
            days_before, percent = _refund_terms(tenant, booking, booking.canceled_at)
            return _Transitioned(booking, refund, days_before, percent)

        done = self._transition(
            tenant_id, booking_id, decide, then=refund_by_policy, recover=recover
        )
        if done.refund is None:
            return Cancellation(done.booking, 0, 0, None, done.days_before, done.percent)
        refund = self._refunds.settle(done.refund, booking=done.booking)
        return Cancellation(
            done.booking,
            refund.amount,
            refund.commission_refund,
            refund,
            done.days_before,
            done.percent,
        )

    def refund(
        self, tenant_id: uuid.UUID, booking_id: uuid.UUID, *, amount: int, reason: str = ""
    ) -> Refund:
        """Refund part of what a booking paid (any status); the total never exceeds the payment.

        Raises:
            ValidationError: ``amount`` is not positive or exceeds what remains refundable.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        booking_id = v.uuid_(booking_id, "booking_id")
        amount = v.money(amount, "amount")
        clean_reason = v.text(reason, "reason", max_length=1000)
        refund_id = new_id()

        def work(uow: UnitOfWork) -> Refund:
            load_tenant(uow, tenant_id)
            booking = uow.bookings.lock(tenant_id, booking_id)
            if booking is None:
                raise NotFoundError("booking", booking_id)
            _, refund = decide_refund(
                uow, booking, amount, clean_reason, self._clock.now(), refund_id=refund_id
            )
            return refund

        def landed(uow: UnitOfWork) -> Refund | None:
            return uow.refunds.get(tenant_id, refund_id)

        return self._refunds.settle(self._write(work, landed=landed))

    def refunds(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> list[Refund]:
        """The refunds of a booking, oldest first."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        booking_id = v.uuid_(booking_id, "booking_id")

        def work(uow: UnitOfWork) -> list[Refund]:
            load_tenant(uow, tenant_id)
            return uow.refunds.for_booking(tenant_id, booking_id)

        return self._read(work)

    def retry_refunds(
        self, *, tenant_id: uuid.UUID | None = None, limit: int = 100
    ) -> list[Refund]:
        """Execute refunds left PENDING or FAILED (of one tenant, or all); returns them settled."""
        return self._refunds.retry(
            tenant_id=v.optional_uuid(tenant_id, "tenant_id"),
            limit=v.integer(limit, "limit", minimum=1, maximum=MAX_BATCH),
        )

    def fulfil(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking:
        """CONFIRMED → FULFILLED, allowed from the event date on (tenant's local calendar)."""

        def decide(
            tenant: Tenant, booking: Booking, now: dt.datetime, event_id: uuid.UUID
        ) -> BookingChange | None:
            today = local_today(now, tenant.timezone)
            return lifecycle.fulfil(booking, today=today, now=now, event_id=event_id)

        return self._transition(tenant_id, booking_id, decide, frees_or_settles=False).booking

    def reschedule(
        self,
        tenant_id: uuid.UUID,
        booking_id: uuid.UUID,
        *,
        new_date: dt.date | None = None,
        new_start: dt.datetime | None = None,
    ) -> Booking:
        """Move a PENDING or CONFIRMED booking to ``new_date`` (a date booking) or to
        ``new_start`` (a timed one) atomically.

        The new date or time is checked and claimed under the same guarantee as a hold; on any
        conflict nothing changes. The old date or time is free again on success. A timed
        booking keeps its resource when that one can take the new start, else it takes another
        the package lists (a package that needs all moves all of them).

        Raises:
            BookingConflictError / DateUnavailableError: the new date or time cannot take it.
            InvalidTransitionError: the booking is not PENDING (unexpired) or CONFIRMED.
        """
        if (new_date is None) == (new_start is None):
            raise ValidationError("new_date", "give either new_date or new_start")
        if new_start is not None:
            return self._reschedule_timed(tenant_id, booking_id, new_start)
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        booking_id = v.uuid_(booking_id, "booking_id")
        new_date = v.date_(new_date, "new_date")
        calendar_busy = new_date in self._calendar.busy_dates(tenant_id, new_date, new_date)
        event_id = new_id()

        def work(uow: UnitOfWork) -> _Moved:
            now = self._clock.now()
            booking = uow.bookings.lock(tenant_id, booking_id)
            if booking is None:
                raise NotFoundError("booking", booking_id)
            if booking.is_timed:
                raise ValidationError("new_date", "a timed booking moves to a new_start")
            context = uow.bookings.hold_context(
                tenant_id, booking.package_id, booking.venue_id, new_date, now
            )
            context = _of_active_tenant(context, tenant_id)
            change = lifecycle.reschedule(booking, new_date, now=now, event_id=event_id)
            if context.blackout or blackout_rule_dates(context.tenant, new_date, new_date):
                raise DateUnavailableError(new_date, UnavailableReason.BLACKOUT.value)
            capacity = self._capacity(context, booking.venue_id)
            refuse_calendar_or_policy(
                context.tenant, new_date, now=now, calendar_busy=calendar_busy
            )
            moved = store(uow, change, now=now, capacity=capacity)
            return _Moved(moved, booking)

        def landed(uow: UnitOfWork) -> _Moved | None:
            event = uow.outbox.get(tenant_id, event_id)
            booking = uow.bookings.get(tenant_id, booking_id)
            if event is None or booking is None:
                return None
            return _Moved(booking.as_of(self._clock.now()), _left(booking, event.payload))

        return self._write(work, invalidates=_both_months, landed=landed).booking

    def _reschedule_timed(
        self, tenant_id: uuid.UUID, booking_id: uuid.UUID, new_start: dt.datetime
    ) -> Booking:
        """:meth:`reschedule` of a timed booking: its claims are freed and the new time
        claimed (the booking's row locked first), then the change is stored."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        booking_id = v.uuid_(booking_id, "booking_id")
        start = instant(new_start, "new_start")
        event_id = new_id()
        busy = NOTHING_BUSY
        if type(self._calendar) is not NoCalendar:  # asked before the transaction, as a hold
            package_id = self._read(lambda uow: _package_of(uow, tenant_id, booking_id))
            if package_id is not None:
                busy = self._calendar_busy(tenant_id, package_id, start)

        def work(uow: UnitOfWork) -> _Moved:
            now = self._clock.now()
            tenant = load_tenant(uow, tenant_id)
            booking = uow.bookings.lock(tenant_id, booking_id)
            if booking is None:
                raise NotFoundError("booking", booking_id)
            if not booking.is_timed:
                raise ValidationError("new_start", "a date booking moves to a new_date")
            package = uow.packages.get(tenant_id, booking.package_id)
            if package is None or package.schedule is None:
                raise NotFoundError("package", booking.package_id)
            date = local_today(start, tenant.timezone)
            end = start + package.schedule.timing.duration
            # the domain refuses a booking that cannot move before anything is claimed
            lifecycle.reschedule(
                booking, date, now=now, event_id=event_id, starts_at=start, ends_at=end
            )
            candidates = candidates_for(
                uow,
                package,
                start,
                tenant=tenant,
                now=now,
                preferred=booking.resource_ids,
                busy=busy,
            )
            uow.bookings.release_claims(tenant_id, booking_id)
            expiry = booking.expires_at if booking.status is BookingStatus.PENDING else None
            taken = claim_for(
                uow,
                package,
                candidates,
                start,
                tenant=tenant,
                booking_id=booking_id,
                now=now,
                expires_at=expiry,
            )
            if taken is None:
                raise BookingConflictError(date, start=start)
            change = lifecycle.reschedule(
                booking,
                date,
                now=now,
                event_id=event_id,
                starts_at=start,
                ends_at=end,
                resource_ids=taken,
            )
            uow.bookings.save(change)
            return _Moved(change.after, booking)

        def landed(uow: UnitOfWork) -> _Moved | None:
            event = uow.outbox.get(tenant_id, event_id)
            booking = uow.bookings.get(tenant_id, booking_id)
            if event is None or booking is None:
                return None
            return _Moved(booking.as_of(self._clock.now()), _left(booking, event.payload))

        return self._write(work, invalidates=_both_months, landed=landed).booking

    def purge_idempotency_keys(self, *, limit: int = 10_000) -> int:
        """Delete idempotency records past their lifetime (all tenants); returns how many.

        Expired records are already ignored (a new request with the key replaces them); this
        only keeps the table small. Run it with the other periodic jobs.
        """
        limit = v.integer(limit, "limit", minimum=1, maximum=MAX_PURGE)
        return self._write(lambda uow: uow.idempotency.purge(now=self._clock.now(), limit=limit))

    def expire_holds(
        self, *, tenant_id: uuid.UUID | None = None, limit: int = EXPIRY_BATCH
    ) -> list[Booking]:
        """Mark lapsed holds EXPIRED (all tenants, or one) and return them.

        Lapsed holds already stopped blocking their dates; this sweep records the fact and
        writes their ``booking.expired`` events.
        """
        tenant = v.optional_uuid(tenant_id, "tenant_id")
        limit = v.integer(limit, "limit", minimum=1, maximum=MAX_EXPIRY_BATCH)

        def work(uow: UnitOfWork) -> list[Booking]:
            now = self._clock.now()
            lapsed = uow.bookings.lapsed(now, tenant_id=tenant, limit=limit)
            changes = [lifecycle.expire(booking, now=now) for booking in lapsed]
            return [store(uow, change, now=now) for change in changes]

        return self._write(work)

    # --- reads -----------------------------------------------------------------------------

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
        start, end = v.date_range(start, end, max_days=MAX_LISTING_DAYS)

        def work(uow: UnitOfWork) -> list[Booking]:
            load_tenant(uow, tenant_id)
            now = self._clock.now()
            return [b.as_of(now) for b in uow.bookings.list_for_dates(tenant_id, start, end)]

        return self._read(work)


def _package_of(uow: UnitOfWork, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> uuid.UUID | None:
    """The package of a booking (None: no such booking; the transaction raises)."""
    booking = uow.bookings.get(tenant_id, booking_id)
    return None if booking is None else booking.package_id


def _timed_terms_key(package_id: uuid.UUID) -> str:
    """The catalog cache key of a timed package's hold terms."""
    return f"timed-terms.{package_id.hex}"


def _terms_key(package_id: uuid.UUID, venue_id: uuid.UUID | None) -> str:
    """The catalog cache key of a package's hold terms (per venue, or tenant-wide)."""
    return f"hold-terms.{package_id.hex}.{venue_id.hex if venue_id else '-'}"


def _of_active_tenant(context: HoldContext | None, tenant_id: uuid.UUID) -> HoldContext:
    """A hold context whose tenant exists and is active; NotFoundError / TenantInactiveError."""
    if context is None:
        raise NotFoundError("tenant", tenant_id)
    if not context.tenant.active:
        raise TenantInactiveError(tenant_id)
    return context


@dataclass(frozen=True, slots=True)
class _Transitioned:
    """What one transition's transaction did: the booking, and what a cancel decided."""

    booking: Booking
    refund: Refund | None = None
    days_before: int | None = None
    percent: int | None = None


@dataclass(frozen=True, slots=True)
class _Held:
    """A hold's booking, and whether an idempotency key replayed it instead of creating it."""

    booking: Booking
    replayed: bool


@dataclass(frozen=True, slots=True)
class _Moved:
    """A rescheduled booking and the booking as it was (whose cached months go stale too)."""

    booking: Booking
    left: Booking


def _both_months(result: _Moved) -> list[Invalidation]:
    return [*months_of(result.booking), *months_of(result.left)]


def _left(booking: Booking, payload: Mapping[str, object]) -> Booking:
    """The booking where a move's event says it was (after a lost COMMIT reply)."""
    left = replace(booking, event_date=dt.date.fromisoformat(str(payload["previous_date"])))
    previous_start = payload.get("previous_starts_at")
    if isinstance(previous_start, str) and booking.starts_at and booking.ends_at:
        starts_at = dt.datetime.fromisoformat(previous_start)
        previous = payload.get("previous_resource_ids")
        resources = (
            tuple(uuid.UUID(str(each)) for each in previous)
            if isinstance(previous, list)
            else booking.resource_ids
        )
        left = replace(
            left,
            starts_at=starts_at,
            ends_at=starts_at + (booking.ends_at - booking.starts_at),
            resource_ids=resources,
        )
    return left


#: The domain's decision on the booking as read: a change, or None when there is nothing to do.
_Decide = Callable[[Tenant, Booking, dt.datetime, uuid.UUID], BookingChange | None]
#: Runs after a transition's change is stored, in its transaction; returns the result.
_After = Callable[[UnitOfWork, Tenant, Booking, dt.datetime], _Transitioned]
#: Rebuilds a transition's result once its earlier attempt is known to have landed.
_Recover = Callable[[UnitOfWork, Tenant, Booking], _Transitioned]


def _refund_terms(tenant: Tenant, booking: Booking, at: dt.datetime) -> tuple[int, int]:
    """(whole days before the event, refund percent) of a cancellation at ``at``."""
    days_before = (booking.event_date - local_today(at, tenant.timezone)).days
    return days_before, tenant.cancellation.refund_percent(days_before)
