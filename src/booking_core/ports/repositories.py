"""Repository and unit-of-work ports.

Every method of a tenant-owned aggregate takes ``tenant_id`` first and filters by it: an id that
belongs to another tenant behaves exactly like an id that does not exist. ``add``/``update``
raise :class:`~booking_core.errors.AlreadyExistsError` when a per-tenant unique key is taken.
"""

from __future__ import annotations

import builtins
import datetime as dt
import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from booking_core.domain.lifecycle import BookingChange
from booking_core.domain.model import (
    AddOn,
    ApiKey,
    BlackoutDate,
    Booking,
    CalendarFeed,
    ClaimSpan,
    Customer,
    HeldSeat,
    HeldTime,
    HoldContext,
    IdempotencyRecord,
    InboxEvent,
    OutboxEvent,
    Package,
    Refund,
    Resource,
    ResourceTimeOff,
    Segment,
    Tenant,
    TimeClaim,
    Venue,
)
from booking_core.domain.schedule import Interval


class TenantRepository(Protocol):
    def add(self, tenant: Tenant) -> None: ...
    def get(self, tenant_id: uuid.UUID) -> Tenant | None: ...
    def get_by_slug(self, slug: str) -> Tenant | None: ...

    def update(self, tenant: Tenant) -> None:
        """Store the tenant's fields and bump its ``version``: a compare-and-swap on
        ``tenant.version`` as read, so two concurrent edits never lose one another (the later
        raises :class:`~booking_core.errors.TransientStorageError` and reruns on fresh data)."""
        ...

    def touch(self, tenant_id: uuid.UUID) -> None:
        """Bump the tenant's ``version``: something a hold is priced from changed (a package,
        an add-on or its offer, a venue), so terms cached at the old version are stale."""
        ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...
    def active(self, tenant_id: uuid.UUID) -> builtins.list[ApiKey]: ...
    def revoke(self, tenant_id: uuid.UUID, key_id: uuid.UUID, *, now: dt.datetime) -> bool: ...


class CalendarFeedRepository(Protocol):
    def add(self, feed: CalendarFeed) -> None: ...
    def get(self, tenant_id: uuid.UUID, feed_id: uuid.UUID) -> CalendarFeed | None: ...
    def active(self, tenant_id: uuid.UUID) -> builtins.list[CalendarFeed]: ...
    def revoke(self, tenant_id: uuid.UUID, feed_id: uuid.UUID, *, now: dt.datetime) -> bool: ...


class SegmentRepository(Protocol):
    def add(self, segment: Segment) -> None: ...
    def get(self, tenant_id: uuid.UUID, segment_id: uuid.UUID) -> Segment | None: ...
    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> Segment | None: ...
    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Segment]: ...
    def update(self, segment: Segment) -> None: ...


class PackageRepository(Protocol):
    def add(self, package: Package) -> None: ...
    def get(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> Package | None: ...
    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> Package | None: ...
    def list(
        self, tenant_id: uuid.UUID, *, segment_id: uuid.UUID | None, active_only: bool
    ) -> builtins.list[Package]: ...
    def update(self, package: Package) -> None: ...
    def offer_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None: ...
    def withdraw_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None: ...
    def offered_add_ons(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID
    ) -> builtins.list[AddOn]: ...


class AddOnRepository(Protocol):
    def add(self, add_on: AddOn) -> None: ...
    def get(self, tenant_id: uuid.UUID, add_on_id: uuid.UUID) -> AddOn | None: ...
    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> AddOn | None: ...
    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[AddOn]: ...
    def update(self, add_on: AddOn) -> None: ...


class VenueRepository(Protocol):
    def add(self, venue: Venue) -> None: ...
    def get(self, tenant_id: uuid.UUID, venue_id: uuid.UUID) -> Venue | None: ...
    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Venue]: ...
    def update(self, venue: Venue) -> None: ...


class ResourceRepository(Protocol):
    """Resources whose time is booked; ``add``/``update`` raise AlreadyExistsError on a name
    the tenant already uses."""

    def add(self, resource: Resource) -> None: ...
    def get(self, tenant_id: uuid.UUID, resource_id: uuid.UUID) -> Resource | None: ...
    def get_many(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID]
    ) -> builtins.list[Resource]:
        """The tenant's resources among ``resource_ids`` (one query, any order; unknown ids
        are simply missing)."""
        ...

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Resource]: ...
    def update(self, resource: Resource) -> None: ...


class TimeOffRepository(Protocol):
    def add(self, time_off: ResourceTimeOff) -> None: ...
    def remove(self, tenant_id: uuid.UUID, time_off_id: uuid.UUID) -> bool: ...
    def overlapping(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> builtins.list[ResourceTimeOff]:
        """Time off of any of ``resource_ids`` overlapping ``window``, by start (one query)."""
        ...


class CustomerRepository(Protocol):
    def get(self, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> Customer | None: ...
    def find_by_email(self, tenant_id: uuid.UUID, email: str) -> Customer | None: ...
    def get_many(
        self, tenant_id: uuid.UUID, customer_ids: Sequence[uuid.UUID]
    ) -> builtins.list[Customer]:
        """The tenant's customers among ``customer_ids`` (unknown ids skipped), in one query."""
        ...

    def list(self, tenant_id: uuid.UUID, *, limit: int, offset: int) -> builtins.list[Customer]: ...
    def upsert_by_email(self, customer: Customer) -> Customer:
        """Insert ``customer``, or update name/phone of the tenant's customer with that email.

        Returns the stored customer (its id is the existing one on update). Atomic: two
        concurrent upserts of one email leave one customer.
        """
        ...


class BookingRepository(Protocol):
    """Storage primitives of bookings and their seat claims.

    The rules (which change is legal, which seat a change takes or frees) are the domain's
    (:mod:`booking_core.domain.lifecycle`) and run once above this port; each method here is
    what a backend must do atomically in its own way.
    """

    def get(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking | None: ...

    def lock(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking | None:
        """The booking, locked for this transaction before a change is decided from it: changes
        of one booking queue here instead of failing each other's compare-and-swap
        (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transaction already serialises)."""
        ...

    def list_for_dates(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[Booking]: ...

    def list_series(self, tenant_id: uuid.UUID, series_id: uuid.UUID) -> builtins.list[Booking]:
        """The occurrences of a recurring series, by start (one query)."""
        ...

    def hold_context(
        self,
        tenant_id: uuid.UUID,
        package_id: uuid.UUID,
        venue_id: uuid.UUID | None,
        date: dt.date,
        now: dt.datetime,
    ) -> HoldContext | None:
        """Tenant, package, venue, blackout flag and live seats of ``date`` (None: no tenant)."""
        ...

    def place_hold(
        self,
        booking: Booking,
        customer: Customer,
        *,
        capacity: int,
        now: dt.datetime,
        event: OutboxEvent | None = None,
    ) -> Booking | None:
        """Upsert the customer (by email), insert the booking and claim a seat for it.

        With ``event``, also write it to the outbox (its payload's ``customer_id`` becomes the
        stored customer's), in the same round trip where the backend allows.

        The stored booking carries the stored customer's id. A seat (one of ``capacity`` for the
        booking's resource and date) is free when nobody holds it or its holder's hold lapsed at
        ``now``; the claim is atomic against concurrent claims in other transactions and
        processes (the SQL adapter relies on the claims table's primary key). Returns None when
        no seat is free: the caller must then roll back, undoing the other writes.
        """
        ...

    def insert_hold(self, booking: Booking, customer: Customer, *, event: OutboxEvent) -> Booking:
        """Upsert the customer (by email), insert the booking with its lines and its event,
        claiming nothing: a timed hold claims its time first (:meth:`claim_time`). Returns the
        booking as stored (its ``customer_id`` the stored customer's)."""
        ...

    def claim_time(
        self,
        tenant_id: uuid.UUID,
        booking_id: uuid.UUID,
        package_id: uuid.UUID,
        claim: TimeClaim,
        *,
        now: dt.datetime,
        expires_at: dt.datetime | None,
    ) -> bool:
        """Claim ``claim`` for the booking, lapsing at ``expires_at`` (None: never); False,
        having written nothing, when the resource has no free lane over the interval or the
        package's day limit is reached.

        Claims of the resource that lapsed at ``now`` and are in the way (overlapping, or
        counting towards the day limit) are ended first, in this transaction, so a lapsed hold
        frees its time before any sweep. The claim is atomic against concurrent claims in other
        transactions and processes: PostgreSQL's exclusion constraint (and a unique day seat)
        refuses the loser; SQLite's single writer and the memory store's lock serialise it.
        """
        ...

    def held_time(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> builtins.list[HeldTime]:
        """Claims of any of ``resource_ids`` whose occupied interval overlaps ``window``, live
        or lapsed (callers judge them at a time), in one query."""
        ...

    def claim_spans(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> dict[uuid.UUID, builtins.list[ClaimSpan]]:
        """The claims :meth:`held_time` lists, as compact spans grouped by resource, each
        resource's in start order (a resource without claims may be absent), in one query.

        The slot search reads thousands of claims per call; this form costs a fraction of
        building :class:`HeldTime` entities (PostgreSQL computes the integer instants itself).
        """
        ...

    def save(self, change: BookingChange) -> int:
        """Store a change the domain decided with its outbox event and, when its seat effect
        is SETTLE or RELEASE, settle or free the booking's claims (in one round trip where the
        backend allows); returns how many claims that effect touched (0 for any other effect).

        A compare-and-swap on ``change.before.version``: when the stored booking moved on since
        it was read (a racing cancel, say), raises
        :class:`~booking_core.errors.TransientStorageError` and writes nothing, so the caller's
        transaction runs again on fresh data.
        """
        ...

    def lapsed(
        self, now: dt.datetime, *, tenant_id: uuid.UUID | None, limit: int
    ) -> builtins.list[Booking]:
        """Up to ``limit`` PENDING holds lapsed at ``now`` (of one tenant or all), the earliest
        expiry first. PostgreSQL locks them, skipping rows another sweeper holds."""
        ...

    def claim_seat(
        self,
        booking: Booking,
        *,
        capacity: int,
        now: dt.datetime,
        expires_at: dt.datetime | None,
    ) -> bool:
        """Claim a free seat of the booking's pool on its ``event_date``, lapsing at
        ``expires_at`` (None: never), under the same guarantee as a hold. False when none is
        free."""
        ...

    def release_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        """Free the booking's seats (on any date) and time claims; returns how many were freed."""
        ...

    def settle_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        """Make the booking's seats and time claims permanent (no expiry); returns how many it
        still held."""
        ...

    def held_seats(
        self, tenant_id: uuid.UUID, resource_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[HeldSeat]:
        """Claimed seats of dates in ``[start, end]`` (live or lapsed: callers decide at a time)."""
        ...


class RefundRepository(Protocol):
    def add(self, refund: Refund) -> None: ...
    def get(self, tenant_id: uuid.UUID, refund_id: uuid.UUID) -> Refund | None: ...

    def lock(self, tenant_id: uuid.UUID, refund_id: uuid.UUID) -> Refund | None:
        """The refund, locked for this transaction: two settlers of one refund queue here, and
        the second sees what the first recorded (``SELECT … FOR UPDATE`` on PostgreSQL)."""
        ...

    def update(self, refund: Refund) -> None: ...
    def for_booking(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> builtins.list[Refund]: ...
    def find_by_provider_id(
        self, tenant_id: uuid.UUID, provider_refund_id: str
    ) -> Refund | None: ...
    def unsettled(self, *, tenant_id: uuid.UUID | None, limit: int) -> builtins.list[Refund]:
        """PENDING and FAILED refunds (of one tenant or all), oldest first."""
        ...


class IdempotencyRepository(Protocol):
    def claim(self, record: IdempotencyRecord, *, now: dt.datetime) -> IdempotencyRecord | None:
        """Store ``record`` unless a live record with its key exists; return that one if so.

        A concurrent claim of the same key waits for the first transaction and then sees its
        record (database-enforced: the key is the primary key). An expired record is replaced.
        """
        ...

    def attach(self, tenant_id: uuid.UUID, key: str, booking_id: uuid.UUID) -> None:
        """Record what the request produced."""
        ...

    def purge(self, *, now: dt.datetime, limit: int) -> int:
        """Delete up to ``limit`` records expired at ``now`` (all tenants); how many went."""
        ...

    def release(self, tenant_id: uuid.UUID, key: str, booking_id: uuid.UUID) -> bool:
        """Forget ``key`` if it still names ``booking_id`` (its request failed for good after
        the hold, so a retry with the key must start afresh); True if it was forgotten."""
        ...


class InboxRepository(Protocol):
    def record(self, event: InboxEvent) -> bool:
        """Store a received webhook once per (tenant, provider, event id); True if new."""
        ...

    def lock(self, tenant_id: uuid.UUID, provider: str, event_id: str) -> InboxEvent | None:
        """The event, locked for this transaction (concurrent processors queue here)."""
        ...

    def update(self, event: InboxEvent) -> None: ...

    def failed(
        self, *, tenant_id: uuid.UUID | None, max_attempts: int, limit: int
    ) -> builtins.list[InboxEvent]:
        """FAILED events (of one tenant or all) with < ``max_attempts`` attempts, oldest first."""
        ...


class OutboxRepository(Protocol):
    def add(self, event: OutboxEvent) -> None: ...

    def get(self, tenant_id: uuid.UUID, event_id: uuid.UUID) -> OutboxEvent | None:
        """One event by id: a write that chose its event's id before its first attempt looks
        for it to learn whether an attempt whose COMMIT reply was lost landed."""
        ...

    def for_booking(
        self, tenant_id: uuid.UUID, booking_id: uuid.UUID
    ) -> builtins.list[OutboxEvent]:
        """Every event of one booking, delivered or not, by sequence (audits and invariants)."""
        ...

    def claim(
        self,
        *,
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        tenant_id: uuid.UUID | None,
    ) -> builtins.list[OutboxEvent]:
        """Lease up to ``limit`` undelivered events, oldest first, at most one per booking and
        only a booking's earliest undelivered one (so each booking's events go out in order).
        Safe with several workers (``SKIP LOCKED`` on PostgreSQL)."""
        ...

    def mark_done(self, ids: Iterable[tuple[uuid.UUID, uuid.UUID]], *, now: dt.datetime) -> int:
        """Mark (tenant id, event id) pairs delivered; returns how many were."""
        ...

    def release(self, tenant_id: uuid.UUID, event_id: uuid.UUID, *, error: str | None) -> None:
        """Give a leased event back for another attempt, recording why."""
        ...


class BlackoutRepository(Protocol):
    def add(self, blackout: BlackoutDate) -> None: ...
    def remove(self, tenant_id: uuid.UUID, date: dt.date) -> bool: ...
    def list_between(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[BlackoutDate]: ...


class UnitOfWork(Protocol):
    """One transaction over all repositories; rolls back unless :meth:`commit` is called."""

    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def calendar_feeds(self) -> CalendarFeedRepository: ...
    @property
    def segments(self) -> SegmentRepository: ...
    @property
    def packages(self) -> PackageRepository: ...
    @property
    def add_ons(self) -> AddOnRepository: ...
    @property
    def venues(self) -> VenueRepository: ...
    @property
    def resources(self) -> ResourceRepository: ...
    @property
    def time_off(self) -> TimeOffRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def bookings(self) -> BookingRepository: ...
    @property
    def blackouts(self) -> BlackoutRepository: ...
    @property
    def refunds(self) -> RefundRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def inbox(self) -> InboxRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


@dataclass(frozen=True, slots=True)
class HoldAttempt:
    """A hold decided in Python from terms cached at ``terms_version``, to be written at once.

    ``booking`` (PENDING, its customer's id provisional), its ``customer``, its ``event`` and,
    with a request key, its ``idempotency`` record (naming the booking) are written only if
    the tenant is still at ``terms_version``, the date is open and one of ``capacity`` seats is
    free at ``now``. A timed booking carries its one resource's ``claim`` instead: it is written
    only if that resource has no time off over the booking and the claim is free at ``now``
    (lapsed claims in its way are ended by the same statement).
    """

    booking: Booking
    customer: Customer
    capacity: int
    now: dt.datetime
    event: OutboxEvent
    terms_version: int
    idempotency: IdempotencyRecord | None = None
    claim: TimeClaim | None = None


class HoldAttemptOutcome(enum.Enum):
    """What one statement could settle of a :class:`HoldAttempt`."""

    #: Written: the booking, its seat, customer, event and key.
    PLACED = "placed"
    #: Nothing written: every seat of the date is held (with one seat: it lost the race); a
    #: timed hold: no lane of the resource is free over the time, or the day limit is reached.
    FULL = "full"
    #: Nothing written: the date is blacked out (a timed hold: the resource has time off).
    BLACKOUT = "blackout"
    #: Nothing written: the tenant moved past the terms' version (or is inactive or gone).
    STALE = "stale"
    #: Nothing written: a race the statement cannot settle (a seat taken between its read and
    #: its claim with more seats left, a stored key): the transaction settles it.
    RACED = "raced"


@dataclass(frozen=True, slots=True)
class HoldAttemptResult:
    """The outcome of a :class:`HoldAttempt`; ``booking`` as stored when PLACED."""

    outcome: HoldAttemptOutcome
    booking: Booking | None = None


@runtime_checkable
class HoldsAtOnce(Protocol):
    """An optional capability of a :class:`UnitOfWorkFactory`: a whole hold at once, from
    terms the service cached (PostgreSQL: one statement; SQLite: one short write transaction).

    The booking service uses it when it has cached terms, and falls back to the ordinary
    transaction for every outcome but PLACED, FULL and BLACKOUT, and when it returns None
    (this backend or database has no such path, or not for this kind of hold).
    """

    def hold_at_once(self, attempt: HoldAttempt) -> HoldAttemptResult | None:
        """Write ``attempt`` at once (all or nothing), or settle why not.

        Raises:
            CommitOutcomeUnknownError: the reply was lost: the hold may or may not be stored.
            TransientStorageError / StorageError: nothing was written.
        """
        ...


class UnitOfWorkFactory(Protocol):
    """Opens a unit of work. ``read_only`` lets adapters pick a cheaper transaction mode."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


__all__: Sequence[str] = [
    "AddOnRepository",
    "ApiKeyRepository",
    "BlackoutRepository",
    "BookingRepository",
    "CustomerRepository",
    "HoldAttempt",
    "HoldAttemptOutcome",
    "HoldAttemptResult",
    "HoldsAtOnce",
    "IdempotencyRepository",
    "InboxRepository",
    "OutboxRepository",
    "PackageRepository",
    "RefundRepository",
    "ResourceRepository",
    "SegmentRepository",
    "TenantRepository",
    "TimeOffRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "VenueRepository",
]
