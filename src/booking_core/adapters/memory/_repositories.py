"""In-memory repositories with the same behaviour as the SQL ones (scoping, uniqueness, claims)."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from booking_core.adapters.memory._store import Claim, MemoryDatabase, Table
from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    AddOn,
    BlackoutDate,
    Booking,
    BookingStatus,
    Customer,
    HeldSeat,
    HoldContext,
    Package,
    Segment,
    Tenant,
    Venue,
)
from booking_core.errors import NotFoundError


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
        self._table.put(TENANT_WIDE, tenant.id, tenant)


class MemorySegmentRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._table: Table[Segment] = db.segments

    def add(self, segment: Segment) -> None:
        self._table.put(segment.tenant_id, segment.id, segment)

    update = add

    def get(self, tenant_id: uuid.UUID, segment_id: uuid.UUID) -> Segment | None:
        return self._table.get(tenant_id, segment_id)

    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> Segment | None:
        return self._table.find("slug", tenant_id, slug)

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Segment]:
        rows = [s for s in self._table.rows(tenant_id) if s.active or not active_only]
        return sorted(rows, key=lambda s: (s.sort_order, s.slug))


class MemoryPackageRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._table: Table[Package] = db.packages

    def add(self, package: Package) -> None:
        _require(self._db.segments, package.tenant_id, package.segment_id)
        self._table.put(package.tenant_id, package.id, package)

    update = add

    def get(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> Package | None:
        return self._table.get(tenant_id, package_id)

    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> Package | None:
        return self._table.find("slug", tenant_id, slug)

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


class MemoryAddOnRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._table: Table[AddOn] = db.add_ons

    def add(self, add_on: AddOn) -> None:
        _require(self._db.segments, add_on.tenant_id, add_on.segment_id)
        self._table.put(add_on.tenant_id, add_on.id, add_on)

    update = add

    def get(self, tenant_id: uuid.UUID, add_on_id: uuid.UUID) -> AddOn | None:
        return self._table.get(tenant_id, add_on_id)

    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> AddOn | None:
        return self._table.find("slug", tenant_id, slug)

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

    def add(self, booking: Booking) -> None:
        t = booking.tenant_id
        _require(self._db.packages, t, booking.package_id)
        _require(self._db.customers, t, booking.customer_id)
        _require(self._db.venues, t, booking.venue_id)
        for line in booking.add_ons:
            _require(self._db.add_ons, t, line.add_on_id)
        self._table.put(t, booking.id, booking)

    def get(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking | None:
        return self._table.get(tenant_id, booking_id)

    def list_for_dates(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[Booking]:
        rows = [b for b in self._table.rows(tenant_id) if start <= b.event_date <= end]
        return sorted(rows, key=lambda b: (b.event_date, b.created_at, str(b.id)))

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
        self, booking: Booking, customer: Customer, *, capacity: int, now: dt.datetime
    ) -> Booking | None:
        stored = MemoryCustomerRepository(self._db).upsert_by_email(customer)
        placed = replace(booking, customer_id=stored.id)
        self.add(placed)
        return placed if self.claim_seat(placed, capacity=capacity, now=now) else None

    def claim_seat(self, booking: Booking, *, capacity: int, now: dt.datetime) -> bool:
        for seat in range(capacity):
            key = (booking.tenant_id, booking.resource_id, booking.event_date, seat)
            held = self._db.claims.get(key)
            if held is None or (held.expires_at is not None and held.expires_at <= now):
                self._db.claims.set(key, Claim(booking.id, booking.expires_at))
                return True
        return False

    def _claim_keys(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> builtins.list[Any]:
        booking = self._table.get(tenant_id, booking_id)
        if booking is None:
            return []
        prefix = (tenant_id, booking.resource_id, booking.event_date)
        return [
            key
            for key, claim in list(self._db.claims.data.items())
            if key[:3] == prefix and claim.booking_id == booking_id
        ]

    def release_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        keys = self._claim_keys(tenant_id, booking_id)
        for key in keys:
            self._db.claims.pop(key)
        return len(keys)

    def settle_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        keys = self._claim_keys(tenant_id, booking_id)
        for key in keys:
            self._db.claims.set(key, Claim(booking_id, None))
        return len(keys)

    def transition(
        self,
        tenant_id: uuid.UUID,
        booking_id: uuid.UUID,
        *,
        from_statuses: Iterable[BookingStatus],
        to: BookingStatus,
        unexpired_at: dt.datetime | None = None,
        changes: dict[str, Any] | None = None,
    ) -> Booking | None:
        booking = self._table.get(tenant_id, booking_id)
        if booking is None or booking.status not in set(from_statuses):
            return None
        if unexpired_at is not None and booking.is_lapsed(unexpired_at):
            return None
        updated = replace(booking, status=to, **(changes or {}))
        self._table.put(tenant_id, booking_id, updated)
        return updated

    def expire_lapsed(
        self, now: dt.datetime, *, tenant_id: uuid.UUID | None, limit: int
    ) -> builtins.list[Booking]:
        rows = self._table.rows(tenant_id) if tenant_id is not None else self._table.all_rows()
        lapsed = sorted(
            (b for b in rows if b.is_lapsed(now)), key=lambda b: (b.expires_at, str(b.id))
        )[:limit]
        expired = []
        for booking in lapsed:
            self.release_claims(booking.tenant_id, booking.id)
            updated = replace(booking, status=BookingStatus.EXPIRED)
            self._table.put(booking.tenant_id, booking.id, updated)
            expired.append(updated)
        return expired

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
