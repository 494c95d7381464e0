"""Entities and value objects of the booking domain.

Everything is a frozen, slotted dataclass: services build changed copies with
:func:`dataclasses.replace`, so an object handed to a caller never changes under it and the
in-memory adapter can store objects without defensive copies.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import NamedTuple

from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.schedule import Interval, SlotTiming, WorkingHours, epoch_micros
from booking_core.errors import ValidationError

#: The shortest and longest a hold may live (``BookingPolicy.hold_ttl``).
MIN_HOLD_TTL = dt.timedelta(minutes=1)
MAX_HOLD_TTL = dt.timedelta(days=7)


class BookingStatus(enum.StrEnum):
    """Lifecycle of a booking; :mod:`booking_core.domain.lifecycle` decides every change."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    FULFILLED = "FULFILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class UnavailableReason(enum.StrEnum):
    """Why a date cannot be booked, in the order the checks run."""

    BLACKOUT = "blackout"
    BOOKED = "booked"
    CALENDAR = "calendar"
    PAST = "past"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    #: A timed start outside the resource's working hours (or off its slot grid, or in time off).
    OUTSIDE_HOURS = "outside_hours"


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    """Per-tenant booking rules.

    Attributes:
        capacity_per_date: bookings a date can hold tenant-wide (venues carry their own).
        hold_ttl: how long an unpaid hold blocks its date.
        min_notice_days: the earliest bookable date is ``today + min_notice_days``.
        horizon_days: the latest bookable date is ``today + horizon_days``.
    """

    capacity_per_date: int = 1
    hold_ttl: dt.timedelta = dt.timedelta(minutes=15)
    min_notice_days: int = 0
    horizon_days: int = 730

    def check(self) -> None:
        """Raise ValidationError naming the first rule this policy breaks.

        At least one seat; a hold lives between 1 minute and 7 days (shorter cannot be paid,
        longer blocks dates for nothing); the horizon is not shorter than the notice.
        """
        if self.capacity_per_date < 1:
            raise ValidationError("policy.capacity_per_date", "must be at least 1")
        if self.min_notice_days < 0:
            raise ValidationError("policy.min_notice_days", "must not be negative")
        if not MIN_HOLD_TTL <= self.hold_ttl <= MAX_HOLD_TTL:
            raise ValidationError(
                "policy.hold_ttl", "must be a timedelta between 1 minute and 7 days"
            )
        if self.horizon_days < self.min_notice_days:
            raise ValidationError("policy.horizon_days", "must not be shorter than min_notice_days")


@dataclass(frozen=True, slots=True)
class RefundTier:
    """Cancelling at least ``days_before`` days before the event refunds ``percent`` %."""

    days_before: int
    percent: int


@dataclass(frozen=True, slots=True)
class CancellationPolicy:
    """Refund tiers by whole days before the event (tenant's calendar) and a fixed fee.

    Tiers are ordered from the most days to the fewest; the first tier whose ``days_before``
    the cancellation meets applies, and none means no refund. The fee (minor units) is kept
    from any refund.
    """

    tiers: tuple[RefundTier, ...] = (RefundTier(30, 100), RefundTier(7, 50))
    fee: int = 0

    def check(self) -> None:
        """Raise ValidationError naming the first rule this policy breaks.

        The fee is not negative; each tier refunds 0-100 % from 0 or more days before; tiers go
        from the most days before to the fewest, and a later cancellation never refunds more.
        """
        if self.fee < 0:
            raise ValidationError("cancellation.fee", "must not be negative")
        previous: RefundTier | None = None
        for index, tier in enumerate(self.tiers):
            field = f"cancellation.tiers.{index}"
            if tier.days_before < 0:
                raise ValidationError(f"{field}.days_before", "must not be negative")
            if not 0 <= tier.percent <= 100:
                raise ValidationError(f"{field}.percent", "must be between 0 and 100")
            if previous is not None and tier.days_before >= previous.days_before:
                raise ValidationError(
                    field, "tiers must go from the most days before to the fewest"
                )
            if previous is not None and tier.percent > previous.percent:
                raise ValidationError(field, "a later cancellation cannot refund more")
            previous = tier

    def refund_percent(self, days_before: int) -> int:
        """The percent of the payment refunded when cancelling ``days_before`` days ahead."""
        for tier in self.tiers:
            if days_before >= tier.days_before:
                return tier.percent
        return 0


@dataclass(frozen=True, slots=True)
class RecurringBlackout:
    """The tenant is closed (for date packages) on each date an RFC 5545 RRULE yields from
    ``starts_on``, except the dates in ``except_on``: every Sunday, each 1 May. The rule may
    end (COUNT, UNTIL) or not: only the dates a question asks about are expanded."""

    rrule: str
    starts_on: dt.date
    except_on: tuple[dt.date, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Tenant:
    """A business on the platform.

    ``version`` grows with every change of the tenant or of what its holds are priced from
    (packages, add-ons and their offers, venues): terms cached at an older version are stale.
    """

    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    currency: str
    commission_percent: Decimal
    active: bool = True
    policy: BookingPolicy = field(default_factory=BookingPolicy)
    cancellation: CancellationPolicy = field(default_factory=CancellationPolicy)
    version: int = 1
    #: Recurring blackout dates (beside the single ones of ``availability.add_blackout``).
    blackout_rules: tuple[RecurringBlackout, ...] = ()


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A tenant's public API key, stored as a SHA-256 digest (the key itself is shown once)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    key_hash: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class IssuedApiKey(NamedTuple):
    """A new API key: its stored record and the key itself, which is shown only this once.

    A named tuple, so ``record, key = tenants.create_api_key(…)`` reads as before.
    """

    record: ApiKey
    key: str


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """A subscribable calendar feed: the tenant's bookings (``resource_id`` None) or one
    resource's, reached by a secret token stored as a SHA-256 digest, like API keys.

    ``include_holds`` shows unpaid holds too (as tentative events); ``include_contact`` shows
    the customer's name, email and phone. Both are the tenant's choice, off by default.
    """

    id: uuid.UUID
    tenant_id: uuid.UUID
    resource_id: uuid.UUID | None
    label: str
    token_hash: str
    include_holds: bool
    include_contact: bool
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class IssuedCalendarFeed(NamedTuple):
    """A new feed: its stored record and the token, which is shown only this once."""

    record: CalendarFeed
    token: str


@dataclass(frozen=True, slots=True)
class FeedContents:
    """What one feed shows over a window: its record, the tenant, the bookings (holds only if
    the feed includes them; canceled and lapsed ones never) and the records the events name
    (customers only if the feed includes contact details)."""

    feed: CalendarFeed
    tenant: Tenant
    bookings: tuple[Booking, ...]
    packages: tuple[Package, ...]
    resources: tuple[Resource, ...]
    customers: tuple[Customer, ...]
    now: dt.datetime


@dataclass(frozen=True, slots=True)
class CatalogRecord:
    """What every catalog record has: its id, its tenant, a per-tenant slug and a name."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Segment(CatalogRecord):
    heading: str = ""
    description: str = ""
    sort_order: int = 0
    active: bool = True


class ResourceNeed(enum.StrEnum):
    """How many of a timed package's resources one booking takes."""

    #: Any one of them (one of three advisers).
    ANY = "any"
    #: All of them at once (an adviser and a room); all or none are booked.
    ALL = "all"


class Assignment(enum.StrEnum):
    """Which resource a hold that names none gets, for a package that needs any one."""

    #: The fewest live bookings on the start's local day; ties go to the package's order.
    LEAST_LOADED = "least_loaded"
    #: The first after the one that took the package's latest booking, in the package's order.
    ROUND_ROBIN = "round_robin"


@dataclass(frozen=True, slots=True)
class PackageSchedule:
    """What makes a package timed: how long it takes and who or what serves it.

    ``resource_ids`` is ordered: it breaks ties of the assignment. With
    :attr:`ResourceNeed.ALL`, one booking occupies every listed resource.
    """

    timing: SlotTiming
    resource_ids: tuple[uuid.UUID, ...]
    need: ResourceNeed = ResourceNeed.ANY
    assignment: Assignment = Assignment.LEAST_LOADED


@dataclass(frozen=True, slots=True)
class Package(CatalogRecord):
    """Something a tenant sells: a whole date, or (with a ``schedule``) a length of time."""

    base_price: int
    description: str = ""
    segment_id: uuid.UUID | None = None
    grouping: str = ""
    group_order: int = 0
    photo_urls: tuple[str, ...] = ()
    active: bool = True
    schedule: PackageSchedule | None = None


@dataclass(frozen=True, slots=True)
class AddOn(CatalogRecord):
    price: int
    description: str = ""
    segment_id: uuid.UUID | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class PackageDetails:
    """A package with the active add-ons it offers (what a booking page shows).

    ``catalog.get_package`` returns it. The package itself is ``details.package``; its fields
    can also be read here (``details.id``, ``details.slug``, ``details.base_price``, …), so a
    ``PackageDetails`` reads like the package it describes.
    """

    package: Package
    add_ons: tuple[AddOn, ...]

    @property
    def id(self) -> uuid.UUID:
        return self.package.id

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.package.tenant_id

    @property
    def slug(self) -> str:
        return self.package.slug

    @property
    def name(self) -> str:
        return self.package.name

    @property
    def base_price(self) -> int:
        return self.package.base_price

    @property
    def description(self) -> str:
        return self.package.description

    @property
    def segment_id(self) -> uuid.UUID | None:
        return self.package.segment_id

    @property
    def grouping(self) -> str:
        return self.package.grouping

    @property
    def group_order(self) -> int:
        return self.package.group_order

    @property
    def photo_urls(self) -> tuple[str, ...]:
        return self.package.photo_urls

    @property
    def active(self) -> bool:
        return self.package.active


@dataclass(frozen=True, slots=True)
class Venue:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    address: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    capacity: int = 1
    active: bool = True


@dataclass(frozen=True, slots=True)
class Resource:
    """A staff member, room or piece of equipment whose time is booked.

    ``capacity`` N: at no instant do more than N live bookings of it overlap, each counted over
    its occupied interval (buffers included). ``timezone`` None means the tenant's: working
    hours are wall-clock times there.
    """

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: str = ""
    timezone: str | None = None
    capacity: int = 1
    active: bool = True
    hours: WorkingHours = field(default_factory=WorkingHours)

    def zone(self, tenant: Tenant) -> str:
        """The time zone its hours are kept in."""
        return self.timezone or tenant.timezone


@dataclass(frozen=True, slots=True)
class ResourceTimeOff:
    """A resource away for an aware time range (holiday, sick leave, maintenance)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    resource_id: uuid.UUID
    start: dt.datetime
    end: dt.datetime
    reason: str = ""

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)


@dataclass(frozen=True, slots=True)
class TimeClaim:
    """One resource's share of a timed booking, as a hold asks the repository to claim it.

    The claim is free when fewer than ``capacity`` live claims of the resource overlap
    ``occupied`` on one lane, and (with a ``day_limit``) fewer than that many live claims of
    the same package hold the resource on ``day`` (the start's date in the resource's zone).
    """

    resource_id: uuid.UUID
    occupied: Interval
    capacity: int
    day: dt.date
    day_limit: int | None = None


@dataclass(frozen=True, slots=True)
class HeldTime:
    """A claimed stretch of a resource's time; ``expires_at`` None once the booking is
    confirmed. Lapsed claims are judged at read time, like :class:`HeldSeat`."""

    resource_id: uuid.UUID
    booking_id: uuid.UUID
    package_id: uuid.UUID
    lane: int
    occupied: Interval
    day: dt.date
    expires_at: dt.datetime | None

    def is_live(self, now: dt.datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


class ClaimSpan(NamedTuple):
    """A claim of one resource's time as the slot search reads it, by the thousand: instants
    as whole microseconds since the Unix epoch (:func:`~booking_core.domain.schedule.epoch_micros`),
    a plain tuple to read, cache and compare cheaply. Lapsed claims are judged at read time."""

    start: int
    end: int
    lane: int
    day: dt.date
    package_id: uuid.UUID
    expires: int | None

    @classmethod
    def of(cls, held: HeldTime) -> ClaimSpan:
        expires = held.expires_at
        return cls(
            epoch_micros(held.occupied.start),
            epoch_micros(held.occupied.end),
            held.lane,
            held.day,
            held.package_id,
            None if expires is None else epoch_micros(expires),
        )

    def is_live(self, now: int) -> bool:
        """Whether the claim still holds at ``now`` (epoch microseconds)."""
        return self.expires is None or self.expires > now

    @classmethod
    def by_resource(cls, held: Iterable[HeldTime]) -> dict[uuid.UUID, list[ClaimSpan]]:
        """``held`` as spans grouped by resource, in the order given (how an adapter without
        a cheaper read answers ``claim_spans``)."""
        grouped: dict[uuid.UUID, list[ClaimSpan]] = {}
        for claim in held:
            grouped.setdefault(claim.resource_id, []).append(cls.of(claim))
        return grouped


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start: the service interval and the resources that could take it (with
    :attr:`ResourceNeed.ALL`, the set it would take)."""

    start: dt.datetime
    end: dt.datetime
    resource_ids: tuple[uuid.UUID, ...]


class SlotList(list[Slot]):
    """The answer of a slot search: the bookable starts in order (a plain list of
    :class:`Slot`), and ``unreadable_calendars``: the resources whose external calendar could
    not be read for it (answered by the tenant's fail-open or fail-closed choice)."""

    __slots__ = ("unreadable_calendars",)

    def __init__(
        self, slots: Iterable[Slot] = (), *, unreadable_calendars: Iterable[uuid.UUID] = ()
    ) -> None:
        super().__init__(slots)
        self.unreadable_calendars: frozenset[uuid.UUID] = frozenset(unreadable_calendars)


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """What a customer types at checkout; sanitized by the booking service."""

    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    email: str
    phone: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BookingAddOn:
    """One add-on line of a booking, with its price frozen at booking time."""

    add_on_id: uuid.UUID
    name: str
    unit_price: int
    quantity: int

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking of one date, or of a time; ``as_of(now)`` is how callers see it (a lapsed
    hold: EXPIRED).

    A timed booking has ``starts_at``/``ends_at`` (UTC, the service interval without buffers)
    and the ``resource_ids`` it occupies; its ``event_date`` is the start's date in the
    tenant's zone (refund tiers count days to it). A date booking has neither.
    ``series_id`` names the recurring series the booking is an occurrence of (None: a single
    booking).

    ``expires_at`` is when the hold lapses while the booking is PENDING. It is the hold's
    expiry, kept for the record once the booking is confirmed, cancelled or expired: it no
    longer applies then (only a PENDING booking lapses; see :meth:`is_lapsed`), and
    ``confirmed_at`` says when the hold became a booking. ``payment_ref`` is the provider's
    reference of the payment that paid it: None until a payment is recorded (by ``confirm`` or
    a payment webhook), even while a checkout's payment is under way.
    """

    id: uuid.UUID
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    customer_id: uuid.UUID
    event_date: dt.date
    status: BookingStatus
    package_price: int
    total: int
    commission: int
    currency: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    venue_id: uuid.UUID | None = None
    add_ons: tuple[BookingAddOn, ...] = ()
    confirmed_at: dt.datetime | None = None
    canceled_at: dt.datetime | None = None
    fulfilled_at: dt.datetime | None = None
    payment_ref: str | None = None
    cancel_reason: str | None = None
    amount_paid: int = 0
    amount_refunded: int = 0
    commission_refunded: int = 0
    version: int = 1
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    resource_ids: tuple[uuid.UUID, ...] = ()
    series_id: uuid.UUID | None = None

    @property
    def is_timed(self) -> bool:
        return self.starts_at is not None

    @property
    def claim_count(self) -> int:
        """How many claims a live booking holds: a seat of its date, or one per resource."""
        return len(self.resource_ids) if self.starts_at is not None else 1

    @property
    def resource_id(self) -> uuid.UUID:
        """The capacity pool this booking draws from: its venue, or the tenant as a whole."""
        return self.venue_id or TENANT_WIDE

    def is_lapsed(self, now: dt.datetime) -> bool:
        """A PENDING hold whose expiry has passed (it no longer blocks its date)."""
        return (
            self.status is BookingStatus.PENDING
            and self.expires_at is not None
            and self.expires_at <= now
        )

    def as_of(self, now: dt.datetime) -> Booking:
        """This booking as callers should see it at ``now``: a lapsed hold reads as EXPIRED."""
        if self.is_lapsed(now):
            return replace(self, status=BookingStatus.EXPIRED)
        return self


@dataclass(frozen=True, slots=True)
class HeldSeat:
    """One claimed seat of a date; ``expires_at`` is None once the booking is confirmed."""

    date: dt.date
    expires_at: dt.datetime | None

    def is_live(self, now: dt.datetime) -> bool:
        """Whether the seat still blocks its date at ``now``."""
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True, slots=True)
class HoldContext:
    """Everything a hold must know before writing, read in one round trip by SQL adapters.

    ``seats_held`` counts live claims on the booking's pool and date, so a hold on a date that is
    visibly full fails before writing anything.
    """

    tenant: Tenant
    package: Package | None
    venue: Venue | None
    blackout: bool
    seats_held: int


@dataclass(frozen=True, slots=True)
class HoldTerms:
    """What a hold is priced from, as of ``tenant.version``: cached between holds.

    The offered add-ons of the package (active or not), its venue when one is named. A hold
    written from cached terms checks, as it writes, that the tenant is still at that version.
    """

    tenant: Tenant
    package: Package | None
    venue: Venue | None
    add_ons: tuple[AddOn, ...]


class RefundState(enum.StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Refund:
    """Money returned for a booking; a booking may have several (partial) refunds.

    Recorded PENDING in the transaction that decides it, then settled by the payment provider
    (SUCCEEDED or FAILED, retried with the refund's id as the idempotency key).
    """

    id: uuid.UUID
    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    amount: int
    commission_refund: int
    reason: str
    state: RefundState
    created_at: dt.datetime
    updated_at: dt.datetime
    provider_refund_id: str | None = None
    failure_reason: str | None = None
    attempts: int = 0


class SeriesConflicts(enum.StrEnum):
    """What a recurring series does with an occurrence it cannot hold."""

    #: Hold every occurrence or none (the first refusal raises; nothing is written).
    ALL_OR_NOTHING = "all_or_nothing"
    #: Hold the occurrences that can be held; list the others with the reason.
    SKIP = "skip"


class SeriesCancelScope(enum.StrEnum):
    """Which occurrences of a series a cancel covers."""

    SERIES = "series"  # every occurrence
    ONE = "one"  # the named occurrence only
    FOLLOWING = "following"  # the named occurrence and every later one


@dataclass(frozen=True, slots=True)
class SkippedOccurrence:
    """An occurrence a series did not hold: its start and why (``taken``, or a
    :class:`UnavailableReason` value such as ``outside_hours``, ``calendar``, ``too_far``)."""

    start: dt.datetime
    reason: str


@dataclass(frozen=True, slots=True)
class SeriesHold:
    """A recurring series as held: its id, the occurrences held (by start) and those skipped."""

    series_id: uuid.UUID
    bookings: tuple[Booking, ...]
    skipped: tuple[SkippedOccurrence, ...] = ()

    @property
    def total(self) -> int:
        """What the held occurrences cost together (one payment pays the series)."""
        return sum(booking.total for booking in self.bookings)


@dataclass(frozen=True, slots=True)
class Cancellation:
    """The outcome of cancelling a booking: what is refunded and what commission returns.

    ``days_before`` and ``refund_percent`` say which tier of the policy applied (None when
    nothing was paid, or when the call found the booking already cancelled). ``refund`` is the
    refund record; its ``state`` says whether the provider has executed it yet.
    """

    booking: Booking
    refund_amount: int
    commission_refund: int
    refund: Refund | None
    days_before: int | None = None
    refund_percent: int | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A request key of a tenant, the fingerprint of its request and what it produced."""

    tenant_id: uuid.UUID
    key: str
    request_hash: str
    booking_id: uuid.UUID | None
    created_at: dt.datetime
    expires_at: dt.datetime


class InboxState(enum.StrEnum):
    PENDING = "PENDING"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """A payment webhook as received: raw bytes kept byte-identical, processing state."""

    tenant_id: uuid.UUID
    provider: str
    event_id: str
    event_type: str
    payload: bytes
    state: InboxState
    received_at: dt.datetime
    attempts: int = 0
    last_error: str | None = None
    processed_at: dt.datetime | None = None
    outcome: str | None = None
    details: dict[str, object] = field(default_factory=dict)


class EventType(enum.StrEnum):
    """The domain events booking_core writes to the outbox (``OutboxEvent.type``)."""

    BOOKING_HELD = "booking.held"
    BOOKING_CONFIRMED = "booking.confirmed"
    BOOKING_CANCELED = "booking.canceled"
    BOOKING_EXPIRED = "booking.expired"
    BOOKING_RESCHEDULED = "booking.rescheduled"
    BOOKING_FULFILLED = "booking.fulfilled"
    #: A payment arrived for a booking that could no longer take it (cancelled, or its date
    #: was taken after the hold lapsed); its full refund follows as ``refund.requested``.
    BOOKING_PAID_LATE = "booking.paid_late"
    REFUND_REQUESTED = "refund.requested"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A domain event written in the transaction of the change it describes.

    ``sequence`` is the booking's version after the change: events of one booking are
    delivered in that order.
    """

    id: uuid.UUID
    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    sequence: int
    type: str
    payload: dict[str, object]
    created_at: dt.datetime
    attempts: int = 0
    claimed_until: dt.datetime | None = None
    done_at: dt.datetime | None = None
    last_error: str | None = None

    def with_payload(self, **values: object) -> OutboxEvent:
        """This event with ``values`` added to its payload (ids known only once stored)."""
        return replace(self, payload={**self.payload, **values})


@dataclass(frozen=True, slots=True)
class BlackoutDate:
    tenant_id: uuid.UUID
    date: dt.date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DateAvailability:
    """Whether one date can be booked; ``reason`` is set exactly when it cannot.

    ``calendar_unreadable`` says the tenant's external calendar could not be read for this
    answer (fail closed: the date reads ``calendar``; fail open: it may be available)."""

    date: dt.date
    available: bool
    reason: UnavailableReason | None = None
    calendar_unreadable: bool = False
