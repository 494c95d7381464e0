"""In-memory repositories with the same behaviour as the SQL ones (scoping, uniqueness, claims)."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, Generic, TypeVar

from booking_core.adapters.memory import _scheduling
from booking_core.adapters.memory._store import Claim, MemoryDatabase, Table
from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.lifecycle import BookingChange, SeatEffect
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
    InboxState,
    OutboxEvent,
    Package,
    Refund,
    RefundState,
    Segment,
    Tenant,
    TimeClaim,
    Venue,
)
from booking_core.domain.rules import free_places
from booking_core.domain.schedule import Interval
from booking_core.errors import AlreadyExistsError, NotFoundError, TransientStorageError

R = TypeVar("R")


def _require(table: Table[Any], tenant_id: uuid.UUID, row_id: uuid.UUID | None) -> None:
    """Mirror the SQL composite foreign keys: a reference must exist in the same tenant."""
    if row_id is not None and table.get(tenant_id, row_id) is None:
        raise NotFoundError(table.entity, row_id)


class MemoryTenantRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._table: Table[Tenant] = db.tenants

    def add(self, tenant: Tenant) -> None:
        self._table.put(TENANT_WIDE, tenant.id, tenant)

    def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return self._table.get(TENANT_WIDE, tenant_id)

    def get_by_slug(self, slug: str) -> Tenant | None:
        return self._table.find("slug", TENANT_WIDE, slug)

    def update(self, tenant: Tenant) -> None:
        stored = self._table.get(TENANT_WIDE, tenant.id)
        if stored is None or stored.version != tenant.version:
            raise TransientStorageError("the tenant changed since it was read")
        self._table.put(TENANT_WIDE, tenant.id, replace(tenant, version=stored.version + 1))

    def touch(self, tenant_id: uuid.UUID) -> None:
        stored = self._table.get(TENANT_WIDE, tenant_id)
        if stored is not None:
            self._table.put(TENANT_WIDE, tenant_id, replace(stored, version=stored.version + 1))


class _SlugRecords(Generic[R]):
    """Reads of a tenant-owned table whose records carry a per-tenant slug."""

    def __init__(self, db: MemoryDatabase, table: Table[R]) -> None:
        self._db = db
        self._table = table

    def get(self, tenant_id: uuid.UUID, record_id: uuid.UUID) -> R | None:
        return self._table.get(tenant_id, record_id)

    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> R | None:
        return self._table.find("slug", tenant_id, slug)


class MemorySegmentRepository(_SlugRecords[Segment]):
    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db, db.segments)

    def add(self, segment: Segment) -> None:
        self._table.put(segment.tenant_id, segment.id, segment)

    update = add

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Segment]:
        rows = [s for s in self._table.rows(tenant_id) if s.active or not active_only]
        return sorted(rows, key=lambda s: (s.sort_order, s.slug))


class MemoryPackageRepository(_SlugRecords[Package]):
    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db, db.packages)

    def add(self, package: Package) -> None:
        _require(self._db.segments, package.tenant_id, package.segment_id)
        self._table.put(package.tenant_id, package.id, package)

    update = add

    def list(
        self, tenant_id: uuid.UUID, *, segment_id: uuid.UUID | None, active_only: bool
    ) -> builtins.list[Package]:
        rows = [
            p
            for p in self._table.rows(tenant_id)
            if (p.active or not active_only) and (segment_id is None or p.segment_id == segment_id)
        ]
        return sorted(rows, key=lambda p: (p.grouping, p.group_order, p.slug))

    def offer_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None:
        _require(self._table, tenant_id, package_id)
        _require(self._db.add_ons, tenant_id, add_on_id)
        self._db.offers.set((tenant_id, package_id, add_on_id), True)

    def withdraw_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None:
        self._db.offers.pop((tenant_id, package_id, add_on_id))

    def offered_add_ons(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> builtins.list[AddOn]:
        found = [
            self._db.add_ons.get(tenant_id, add_on_id)
            for (t, p, add_on_id) in list(self._db.offers.data)
            if t == tenant_id and p == package_id
        ]
        return sorted((a for a in found if a is not None), key=lambda a: a.slug)


class MemoryAddOnRepository(_SlugRecords[AddOn]):
    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db, db.add_ons)

    def add(self, add_on: AddOn) -> None:
        _require(self._db.segments, add_on.tenant_id, add_on.segment_id)
        self._table.put(add_on.tenant_id, add_on.id, add_on)

    update = add

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[AddOn]:
        rows = [a for a in self._table.rows(tenant_id) if a.active or not active_only]
        return sorted(rows, key=lambda a: a.slug)


class MemoryVenueRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._table: Table[Venue] = db.venues

    def add(self, venue: Venue) -> None:
        self._table.put(venue.tenant_id, venue.id, venue)

    update = add

    def get(self, tenant_id: uuid.UUID, venue_id: uuid.UUID) -> Venue | None:
        return self._table.get(tenant_id, venue_id)

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Venue]:
        rows = [v for v in self._table.rows(tenant_id) if v.active or not active_only]
        return sorted(rows, key=lambda v: v.name)


class MemoryCustomerRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._table: Table[Customer] = db.customers

    def get(self, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> Customer | None:
        return self._table.get(tenant_id, customer_id)

    def find_by_email(self, tenant_id: uuid.UUID, email: str) -> Customer | None:
        return self._table.find("email", tenant_id, email)

    def list(self, tenant_id: uuid.UUID, *, limit: int, offset: int) -> builtins.list[Customer]:
        rows = sorted(self._table.rows(tenant_id), key=lambda c: (c.created_at, str(c.id)))
        return rows[offset : offset + limit]

    def get_many(
        self, tenant_id: uuid.UUID, customer_ids: Sequence[uuid.UUID]
    ) -> builtins.list[Customer]:
        found = (self._table.get(tenant_id, each) for each in sorted(set(customer_ids)))
        return [customer for customer in found if customer is not None]

    def upsert_by_email(self, customer: Customer) -> Customer:
        existing = self.find_by_email(customer.tenant_id, customer.email)
        if existing is None:
            stored = customer
        else:
            stored = replace(existing, name=customer.name, phone=customer.phone or existing.phone)
        self._table.put(stored.tenant_id, stored.id, stored)
        return stored


class MemoryBookingRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._table: Table[Booking] = db.bookings

    def _add(self, booking: Booking) -> None:
        t = booking.tenant_id
        _require(self._db.packages, t, booking.package_id)
        _require(self._db.customers, t, booking.customer_id)
        _require(self._db.venues, t, booking.venue_id)
        for line in booking.add_ons:
            _require(self._db.add_ons, t, line.add_on_id)
        self._table.put(t, booking.id, booking)

    def get(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking | None:
        return self._table.get(tenant_id, booking_id)

    def lock(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking | None:
        return self._table.get(tenant_id, booking_id)  # write transactions run one at a time

    def list_for_dates(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[Booking]:
        rows = [b for b in self._table.rows(tenant_id) if start <= b.event_date <= end]
        return sorted(rows, key=lambda b: (b.event_date, b.created_at, str(b.id)))

    def list_series(self, tenant_id: uuid.UUID, series_id: uuid.UUID) -> builtins.list[Booking]:
        rows = [b for b in self._table.rows(tenant_id) if b.series_id == series_id]
        return sorted(rows, key=lambda b: (b.starts_at or b.created_at, b.event_date, str(b.id)))

    def hold_context(
        self,
        tenant_id: uuid.UUID,
        package_id: uuid.UUID,
        venue_id: uuid.UUID | None,
        date: dt.date,
        now: dt.datetime,
    ) -> HoldContext | None:
        tenant = self._db.tenants.get(TENANT_WIDE, tenant_id)
        if tenant is None:
            return None
        venue = None if venue_id is None else self._db.venues.get(tenant_id, venue_id)
        resource = venue_id or TENANT_WIDE
        held = sum(seat.is_live(now) for seat in self.held_seats(tenant_id, resource, date, date))
        return HoldContext(
            tenant=tenant,
            package=self._db.packages.get(tenant_id, package_id),
            venue=venue,
            blackout=self._db.blackouts.get((tenant_id, date)) is not None,
            seats_held=held,
        )

    def place_hold(
        self,
        booking: Booking,
        customer: Customer,
        *,
        capacity: int,
        now: dt.datetime,
        event: OutboxEvent | None = None,
    ) -> Booking | None:
        stored = MemoryCustomerRepository(self._db).upsert_by_email(customer)
        placed = replace(booking, customer_id=stored.id)
        self._add(placed)
        if not self.claim_seat(placed, capacity=capacity, now=now, expires_at=placed.expires_at):
            return None
        if event is not None:
            MemoryOutboxRepository(self._db).add(
                event.with_payload(customer_id=str(placed.customer_id))
            )
        return placed

    def insert_hold(self, booking: Booking, customer: Customer, *, event: OutboxEvent) -> Booking:
        stored = MemoryCustomerRepository(self._db).upsert_by_email(customer)
        placed = replace(booking, customer_id=stored.id)
        self._add(placed)
        MemoryOutboxRepository(self._db).add(event.with_payload(customer_id=str(stored.id)))
        return placed

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
        return _scheduling.claim_time(
            self._db, tenant_id, booking_id, package_id, claim, now=now, expires_at=expires_at
        )

    def held_time(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> builtins.list[HeldTime]:
        return _scheduling.held_time(self._db, tenant_id, resource_ids, window)

    def claim_spans(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> dict[uuid.UUID, builtins.list[ClaimSpan]]:
        return ClaimSpan.by_resource(self.held_time(tenant_id, resource_ids, window))

    def claim_seat(
        self,
        booking: Booking,
        *,
        capacity: int,
        now: dt.datetime,
        expires_at: dt.datetime | None,
    ) -> bool:
        pool = (booking.tenant_id, booking.resource_id, booking.event_date)
        live = {
            key[3]
            for key, claim in list(self._db.claims.data.items())
            if key[:3] == pool and claim.is_live(now)
        }
        seats = free_places(live, capacity)  # the domain's rule, as the SQL adapter's
        if not seats:
            return False
        self._db.claims.set((*pool, seats[0]), Claim(booking.id, expires_at))
        return True

    def _claim_keys(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> builtins.list[Any]:
        return [
            key
            for key, claim in list(self._db.claims.data.items())
            if key[0] == tenant_id and claim.booking_id == booking_id
        ]

    def release_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        keys = self._claim_keys(tenant_id, booking_id)
        for key in keys:
            self._db.claims.pop(key)
        return len(keys) + _scheduling.release_time(self._db, tenant_id, booking_id)

    def settle_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        keys = self._claim_keys(tenant_id, booking_id)
        for key in keys:
            self._db.claims.set(key, Claim(booking_id, None))
        return len(keys) + _scheduling.settle_time(self._db, tenant_id, booking_id)

    def save(self, change: BookingChange) -> int:
        before, after = change.before, change.after
        stored = self._table.get(before.tenant_id, before.id)
        if stored is None or stored.version != before.version:
            raise TransientStorageError("the booking changed since it was read")
        self._table.put(after.tenant_id, after.id, after)
        MemoryOutboxRepository(self._db).add(change.event)
        if change.seat is SeatEffect.SETTLE:
            return self.settle_claims(after.tenant_id, after.id)
        if change.seat is SeatEffect.RELEASE:
            return self.release_claims(after.tenant_id, after.id)
        return 0

    def lapsed(
        self, now: dt.datetime, *, tenant_id: uuid.UUID | None, limit: int
    ) -> builtins.list[Booking]:
        rows = self._table.rows(tenant_id) if tenant_id is not None else self._table.all_rows()
        return sorted(
            (b for b in rows if b.is_lapsed(now)), key=lambda b: (b.expires_at, str(b.id))
        )[:limit]

    def held_seats(
        self, tenant_id: uuid.UUID, resource_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[HeldSeat]:
        return sorted(
            (
                HeldSeat(date, claim.expires_at)
                for (t, r, date, _seat), claim in list(self._db.claims.data.items())
                if t == tenant_id and r == resource_id and start <= date <= end
            ),
            key=lambda seat: seat.date,
        )


class MemoryBlackoutRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def add(self, blackout: BlackoutDate) -> None:
        self._db.blackouts.set((blackout.tenant_id, blackout.date), blackout)

    def remove(self, tenant_id: uuid.UUID, date: dt.date) -> bool:
        return self._db.blackouts.pop((tenant_id, date)) is not None

    def list_between(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[BlackoutDate]:
        found = [
            b
            for (t, date), b in list(self._db.blackouts.data.items())
            if t == tenant_id and start <= date <= end
        ]
        return sorted(found, key=lambda b: b.date)


class MemoryRefundRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._table: Table[Refund] = db.refunds

    def add(self, refund: Refund) -> None:
        _require(self._db.bookings, refund.tenant_id, refund.booking_id)
        self._table.put(refund.tenant_id, refund.id, refund)

    update = add

    def get(self, tenant_id: uuid.UUID, refund_id: uuid.UUID) -> Refund | None:
        return self._table.get(tenant_id, refund_id)

    lock = get  # transactions are serialised already

    def for_booking(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> builtins.list[Refund]:
        found = [r for r in self._table.rows(tenant_id) if r.booking_id == booking_id]
        return sorted(found, key=lambda r: (r.created_at, str(r.id)))

    def find_by_provider_id(self, tenant_id: uuid.UUID, provider_refund_id: str) -> Refund | None:
        for refund in self._table.rows(tenant_id):
            if refund.provider_refund_id == provider_refund_id:
                return refund
        return None

    def unsettled(self, *, tenant_id: uuid.UUID | None, limit: int) -> builtins.list[Refund]:
        rows = self._table.rows(tenant_id) if tenant_id is not None else self._table.all_rows()
        found = [r for r in rows if r.state is not RefundState.SUCCEEDED]
        return sorted(found, key=lambda r: (r.created_at, str(r.id)))[:limit]


class MemoryIdempotencyRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def claim(self, record: IdempotencyRecord, *, now: dt.datetime) -> IdempotencyRecord | None:
        key = (record.tenant_id, record.key)
        existing: IdempotencyRecord | None = self._db.idempotency.get(key)
        if existing is not None and existing.expires_at > now:
            return existing
        self._db.idempotency.set(key, record)
        return None

    def attach(self, tenant_id: uuid.UUID, key: str, booking_id: uuid.UUID) -> None:
        record = self._db.idempotency.get((tenant_id, key))
        if record is not None:
            self._db.idempotency.set((tenant_id, key), replace(record, booking_id=booking_id))

    def purge(self, *, now: dt.datetime, limit: int) -> int:
        expired = [k for k, r in list(self._db.idempotency.data.items()) if r.expires_at <= now]
        for key in expired[:limit]:
            self._db.idempotency.pop(key)
        return len(expired[:limit])

    def release(self, tenant_id: uuid.UUID, key: str, booking_id: uuid.UUID) -> bool:
        record = self._db.idempotency.get((tenant_id, key))
        if record is None or record.booking_id != booking_id:
            return False
        self._db.idempotency.pop((tenant_id, key))
        return True


class MemoryInboxRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    def record(self, event: InboxEvent) -> bool:
        key = (event.tenant_id, event.provider, event.event_id)
        if self._db.inbox.get(key) is not None:
            return False
        self._db.inbox.set(key, event)
        return True

    def lock(self, tenant_id: uuid.UUID, provider: str, event_id: str) -> InboxEvent | None:
        found: InboxEvent | None = self._db.inbox.get((tenant_id, provider, event_id))
        return found

    def update(self, event: InboxEvent) -> None:
        self._db.inbox.set((event.tenant_id, event.provider, event.event_id), event)

    def failed(
        self, *, tenant_id: uuid.UUID | None, max_attempts: int, limit: int
    ) -> builtins.list[InboxEvent]:
        found = [
            e
            for e in list(self._db.inbox.data.values())
            if e.state is InboxState.FAILED
            and e.attempts < max_attempts
            and (tenant_id is None or e.tenant_id == tenant_id)
        ]
        return sorted(found, key=lambda e: (e.received_at, e.event_id))[:limit]


class MemoryOutboxRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._table: Table[OutboxEvent] = db.outbox

    def add(self, event: OutboxEvent) -> None:
        _require(self._db.bookings, event.tenant_id, event.booking_id)
        for other in self._table.rows(event.tenant_id):
            if other.booking_id == event.booking_id and other.sequence == event.sequence:
                raise AlreadyExistsError("outbox_event", "sequence", event.sequence)
        self._table.put(event.tenant_id, event.id, event)

    def get(self, tenant_id: uuid.UUID, event_id: uuid.UUID) -> OutboxEvent | None:
        return self._table.get(tenant_id, event_id)

    def for_booking(
        self, tenant_id: uuid.UUID, booking_id: uuid.UUID
    ) -> builtins.list[OutboxEvent]:
        mine = [e for e in self._table.rows(tenant_id) if e.booking_id == booking_id]
        return sorted(mine, key=lambda e: e.sequence)

    def claim(
        self,
        *,
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        tenant_id: uuid.UUID | None,
    ) -> builtins.list[OutboxEvent]:
        rows = self._table.rows(tenant_id) if tenant_id is not None else self._table.all_rows()
        undelivered = [e for e in rows if e.done_at is None]
        first: dict[tuple[uuid.UUID, uuid.UUID], OutboxEvent] = {}
        for event in undelivered:
            key = (event.tenant_id, event.booking_id)
            if key not in first or event.sequence < first[key].sequence:
                first[key] = event
        ready = sorted(
            (e for e in first.values() if e.claimed_until is None or e.claimed_until <= now),
            key=lambda e: (e.created_at, str(e.booking_id), e.sequence),
        )[:limit]
        leased = []
        for event in ready:
            updated = replace(event, claimed_until=lease_until, attempts=event.attempts + 1)
            self._table.put(event.tenant_id, event.id, updated)
            leased.append(updated)
        return leased

    def mark_done(self, ids: Iterable[tuple[uuid.UUID, uuid.UUID]], *, now: dt.datetime) -> int:
        done = 0
        for tenant_id, event_id in ids:
            event = self._table.get(tenant_id, event_id)
            if event is not None and event.done_at is None:
                self._table.put(tenant_id, event_id, replace(event, done_at=now))
                done += 1
        return done

    def release(self, tenant_id: uuid.UUID, event_id: uuid.UUID, *, error: str | None) -> None:
        event = self._table.get(tenant_id, event_id)
        if event is not None and event.done_at is None:
            self._table.put(
                tenant_id, event_id, replace(event, claimed_until=None, last_error=error)
            )


class MemoryCalendarFeedRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._table: Table[CalendarFeed] = db.calendar_feeds

    def add(self, feed: CalendarFeed) -> None:
        _require(self._db.tenants, TENANT_WIDE, feed.tenant_id)
        if feed.resource_id is not None:
            _require(self._db.resources, feed.tenant_id, feed.resource_id)
        self._table.put(feed.tenant_id, feed.id, feed)

    def get(self, tenant_id: uuid.UUID, feed_id: uuid.UUID) -> CalendarFeed | None:
        return self._table.get(tenant_id, feed_id)

    def active(self, tenant_id: uuid.UUID) -> builtins.list[CalendarFeed]:
        feeds = [f for f in self._table.rows(tenant_id) if f.revoked_at is None]
        return sorted(feeds, key=lambda f: (f.created_at, str(f.id)))

    def revoke(self, tenant_id: uuid.UUID, feed_id: uuid.UUID, *, now: dt.datetime) -> bool:
        feed = self._table.get(tenant_id, feed_id)
        if feed is None or feed.revoked_at is not None:
            return False
        self._table.put(tenant_id, feed_id, replace(feed, revoked_at=now))
        return True


class MemoryApiKeyRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._table: Table[ApiKey] = db.api_keys

    def add(self, key: ApiKey) -> None:
        _require(self._db.tenants, TENANT_WIDE, key.tenant_id)
        self._table.put(key.tenant_id, key.id, key)

    def active(self, tenant_id: uuid.UUID) -> builtins.list[ApiKey]:
        keys = [k for k in self._table.rows(tenant_id) if k.revoked_at is None]
        return sorted(keys, key=lambda k: (k.created_at, str(k.id)))

    def revoke(self, tenant_id: uuid.UUID, key_id: uuid.UUID, *, now: dt.datetime) -> bool:
        key = self._table.get(tenant_id, key_id)
        if key is None or key.revoked_at is not None:
            return False
        self._table.put(tenant_id, key_id, replace(key, revoked_at=now))
        return True
