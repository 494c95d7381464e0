"""One hold request, priced the same way on both of its paths.

A hold is written either in one statement from cached terms (:func:`attempt_at_once`, when the
unit-of-work factory offers :class:`~booking_core.ports.repositories.HoldsAtOnce`), or in the
ordinary transaction from fresh reads. Both price it here, from the same request with the same
pre-chosen ids, so the two paths cannot disagree on a price, an expiry or a line.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from booking_core.domain.events import booking_event
from booking_core.domain.model import (
    AddOn,
    Booking,
    BookingAddOn,
    BookingStatus,
    Customer,
    CustomerDetails,
    EventType,
    HoldTerms,
    IdempotencyRecord,
    OutboxEvent,
    Package,
    Resource,
    ResourceNeed,
    Tenant,
    TimeClaim,
)
from booking_core.domain.money import commission_for
from booking_core.domain.rules import blackout_rule_dates, local_today, policy_reason, pool_capacity
from booking_core.errors import (
    BookingCoreError,
    CommitOutcomeUnknownError,
    NotFoundError,
    TransientStorageError,
)
from booking_core.ports.calendar import NOTHING_BUSY, BusyIntervals
from booking_core.ports.repositories import (
    HoldAttempt,
    HoldAttemptOutcome,
    HoldAttemptResult,
    HoldsAtOnce,
    UnitOfWork,
)
from booking_core.services._scheduling import claim_for, in_package_order, refuse_start


@dataclass(frozen=True, slots=True)
class BookedTime:
    """The time a timed hold claimed: its service interval and the resources it took."""

    start: dt.datetime
    end: dt.datetime
    resource_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """A validated hold request with the ids it writes, chosen once before any attempt (after
    a lost reply, the booking id tells whether an attempt landed)."""

    tenant_id: uuid.UUID
    package_id: uuid.UUID
    venue_id: uuid.UUID | None
    date: dt.date
    customer: CustomerDetails
    quantities: Mapping[uuid.UUID, int]
    key: str | None
    fingerprint: str
    calendar_busy: bool
    booking_id: uuid.UUID
    customer_id: uuid.UUID
    event_id: uuid.UUID

    def key_record(
        self, booking_id: uuid.UUID, now: dt.datetime, ttl: dt.timedelta
    ) -> IdempotencyRecord | None:
        """The idempotency record a one-statement hold writes with its booking (None: no key)."""
        if self.key is None:
            return None
        return IdempotencyRecord(
            self.tenant_id, self.key, self.fingerprint, booking_id, now, now + ttl
        )

    def priced(
        self,
        tenant: Tenant,
        package: Package,
        lines: tuple[BookingAddOn, ...],
        now: dt.datetime,
        *,
        time: BookedTime | None = None,
        series_id: uuid.UUID | None = None,
    ) -> tuple[Booking, Customer, OutboxEvent]:
        """The PENDING booking (price snapshot, commission, expiry), its customer and event;
        with ``time``, a timed booking of those resources (``date`` its start's local date);
        with ``series_id``, an occurrence of that series."""
        details = self.customer
        customer = Customer(
            self.customer_id, self.tenant_id, details.name, details.email, details.phone, now
        )
        total = package.base_price + sum(line.line_total for line in lines)
        booking = Booking(
            id=self.booking_id,
            tenant_id=self.tenant_id,
            package_id=self.package_id,
            customer_id=customer.id,
            venue_id=self.venue_id,
            event_date=self.date,
            status=BookingStatus.PENDING,
            package_price=package.base_price,
            add_ons=lines,
            total=total,
            commission=commission_for(total, tenant.commission_percent),
            currency=tenant.currency,
            created_at=now,
            expires_at=now + tenant.policy.hold_ttl,
        )
        if time is not None:
            booking = replace(
                booking,
                starts_at=time.start,
                ends_at=time.end,
                resource_ids=time.resource_ids,
            )
        if series_id is not None:
            booking = replace(booking, series_id=series_id)
        event = booking_event(booking, EventType.BOOKING_HELD, now, event_id=self.event_id)
        return booking, customer, event


def hold_time(
    uow: UnitOfWork,
    request: HoldRequest,
    package: Package,
    candidates: Sequence[Resource],
    start: dt.datetime,
    *,
    tenant: Tenant,
    now: dt.datetime,
    lines: tuple[BookingAddOn, ...] = (),
    series_id: uuid.UUID | None = None,
) -> Booking | None:
    """Claim the time of ``request``'s booking starting at ``start`` (the first of
    ``candidates`` free, or all of them: :func:`claim_for`) and insert the hold; None when the
    time could not be claimed (then nothing of it is written)."""
    schedule = package.schedule
    if schedule is None:
        raise ValueError("a date package holds a date, not a time")
    taken = claim_for(
        uow,
        package,
        candidates,
        start,
        tenant=tenant,
        booking_id=request.booking_id,
        now=now,
        expires_at=now + tenant.policy.hold_ttl,
    )
    if taken is None:
        return None
    time = BookedTime(start, start + schedule.timing.duration, taken)
    booking, customer, event = replace(request, date=local_today(start, tenant.timezone)).priced(
        tenant, package, lines, now, time=time, series_id=series_id
    )
    return uow.bookings.insert_hold(booking, customer, event=event)


def lines_of(
    offered: Iterable[AddOn], quantities: Mapping[uuid.UUID, int]
) -> tuple[BookingAddOn, ...]:
    """The booking's add-on lines at the offered prices, in a stable order.

    Raises:
        NotFoundError: an add-on is not offered with the package, or not active.
    """
    if not quantities:
        return ()
    by_id = {add_on.id: add_on for add_on in offered}
    lines = []
    for add_on_id, quantity in quantities.items():
        add_on = by_id.get(add_on_id)
        if add_on is None or not add_on.active:
            raise NotFoundError("add_on", add_on_id)
        lines.append(BookingAddOn(add_on.id, add_on.name, add_on.price, quantity))
    return tuple(sorted(lines, key=lambda line: (line.name, str(line.add_on_id))))


class Fallback(enum.Enum):
    """Why a hold goes to the ordinary transaction after all."""

    #: No statement was tried, or it settled nothing: run the transaction.
    SETTLE = "settle"
    #: The statement's reply was lost: the transaction first looks for the booking.
    MAYBE_LANDED = "maybe_landed"
    #: The cached terms are older than the tenant: drop them, and run the transaction.
    STALE = "stale"


def attempt_at_once(
    holds: HoldsAtOnce,
    request: HoldRequest,
    terms: HoldTerms,
    *,
    now: dt.datetime,
    key_ttl: dt.timedelta,
) -> HoldAttemptResult | Fallback:
    """Try the hold in one statement, priced from ``terms``.

    Whatever the cached terms cannot decide for sure (an inactive tenant or package, a venue
    gone, a policy or calendar refusal, an add-on not offered) goes to the transaction, which
    reads fresh data and raises the precise error: a stale cache never refuses a hold.
    """
    tenant, package = terms.tenant, terms.package
    if not tenant.active or package is None or not package.active:
        return Fallback.SETTLE
    capacity = pool_capacity(tenant, terms.venue, request.venue_id)
    today = local_today(now, tenant.timezone)
    if capacity is None or request.calendar_busy:
        return Fallback.SETTLE
    if policy_reason(request.date, today=today, policy=tenant.policy) is not None:
        return Fallback.SETTLE
    if blackout_rule_dates(tenant, request.date, request.date):
        return Fallback.SETTLE  # the transaction raises the precise error
    try:
        lines = lines_of(terms.add_ons, request.quantities)
    except NotFoundError:
        return Fallback.SETTLE
    booking, customer, event = request.priced(tenant, package, lines, now)
    record = request.key_record(booking.id, now, key_ttl)
    attempt = HoldAttempt(booking, customer, capacity, now, event, tenant.version, record)
    return _send(holds, attempt, request)


def _send(
    holds: HoldsAtOnce, attempt: HoldAttempt, request: HoldRequest
) -> HoldAttemptResult | Fallback:
    """Send the statement; what it could not settle becomes a :class:`Fallback`."""
    try:
        result = holds.hold_at_once(attempt)
    except CommitOutcomeUnknownError:
        return Fallback.MAYBE_LANDED
    except TransientStorageError:
        return Fallback.SETTLE
    if result is None or result.outcome is HoldAttemptOutcome.RACED:
        return Fallback.SETTLE
    if result.outcome is HoldAttemptOutcome.STALE:
        return Fallback.STALE
    if request.key is not None and result.outcome is not HoldAttemptOutcome.PLACED:
        # A replay finds its own seat taken (by itself): only the transaction tells.
        return Fallback.SETTLE
    return result


@dataclass(frozen=True, slots=True)
class TimedTerms:
    """What a timed hold is priced and placed from, as of ``tenant.version``: the package, its
    resources (active or not, the package's order) and its offered add-ons. Cached between
    holds; time off and claims are checked by the statement itself."""

    tenant: Tenant
    package: Package | None
    resources: tuple[Resource, ...]
    add_ons: tuple[AddOn, ...]


def attempt_time_at_once(
    holds: HoldsAtOnce,
    request: HoldRequest,
    terms: TimedTerms,
    *,
    start: dt.datetime,
    named: uuid.UUID | None,
    now: dt.datetime,
    key_ttl: dt.timedelta,
    busy: BusyIntervals = NOTHING_BUSY,
) -> HoldAttemptResult | Fallback:
    """A timed hold on one resource in one statement, from cached ``terms`` (and what the
    external calendars said, ``busy``).

    Only the plain case goes here: the package needs any one resource and exactly one can take
    the start (the named one, or the only one the hours allow). Everything else, and anything
    the cached terms cannot decide for sure, goes to the transaction, which reads fresh data
    and raises the precise error.
    """
    tenant, package = terms.tenant, terms.package
    if not tenant.active or package is None or not package.active:
        return Fallback.SETTLE
    schedule = package.schedule
    if schedule is None or schedule.need is not ResourceNeed.ANY:
        return Fallback.SETTLE
    resources = in_package_order(schedule, terms.resources, only=named)
    try:
        fit = refuse_start(
            schedule.timing, resources, start, tenant=tenant, time_off=(), now=now, busy=busy
        )
        lines = lines_of(terms.add_ons, request.quantities)
    except (BookingCoreError, ValueError):
        return Fallback.SETTLE
    if len(fit) != 1:
        return Fallback.SETTLE
    [resource] = fit
    timing = schedule.timing
    date = local_today(start, tenant.timezone)
    time = BookedTime(start, start + timing.duration, (resource.id,))
    booking, customer, event = replace(request, date=date).priced(
        tenant, package, lines, now, time=time
    )
    claim = TimeClaim(
        resource.id,
        timing.occupied(start),
        resource.capacity,
        local_today(start, resource.zone(tenant)),
        timing.max_per_day,
    )
    record = request.key_record(booking.id, now, key_ttl)
    attempt = HoldAttempt(
        booking, customer, resource.capacity, now, event, tenant.version, record, claim
    )
    return _send(holds, attempt, request)
