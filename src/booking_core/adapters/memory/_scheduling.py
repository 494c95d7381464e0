"""In-memory resources, their time off, and time claims (same behaviour as the SQL adapter)."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import replace

from booking_core.adapters.memory._store import MemoryDatabase, Table, TimeClaimRow
from booking_core.domain.model import HeldTime, Resource, ResourceTimeOff, TimeClaim
from booking_core.domain.rules import free_places
from booking_core.domain.schedule import Interval
from booking_core.errors import NotFoundError


class MemoryResourceRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._table: Table[Resource] = db.resources

    def add(self, resource: Resource) -> None:
        self._table.put(resource.tenant_id, resource.id, resource)

    update = add

    def get(self, tenant_id: uuid.UUID, resource_id: uuid.UUID) -> Resource | None:
        return self._table.get(tenant_id, resource_id)

    def get_many(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID]
    ) -> builtins.list[Resource]:
        found = (self._table.get(tenant_id, rid) for rid in dict.fromkeys(resource_ids))
        return [resource for resource in found if resource is not None]

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Resource]:
        rows = [r for r in self._table.rows(tenant_id) if r.active or not active_only]
        return sorted(rows, key=lambda r: r.name)


class MemoryTimeOffRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db
        self._table: Table[ResourceTimeOff] = db.time_off

    def add(self, time_off: ResourceTimeOff) -> None:
        if self._db.resources.get(time_off.tenant_id, time_off.resource_id) is None:
            raise NotFoundError("resource", time_off.resource_id)
        self._table.put(time_off.tenant_id, time_off.id, time_off)

    def remove(self, tenant_id: uuid.UUID, time_off_id: uuid.UUID) -> bool:
        return self._table.delete(tenant_id, time_off_id) is not None

    def overlapping(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> builtins.list[ResourceTimeOff]:
        wanted = set(resource_ids)
        found = [
            off
            for off in self._table.rows(tenant_id)
            if off.resource_id in wanted and off.interval.overlaps(window)
        ]
        return sorted(found, key=lambda off: (off.start, off.resource_id, off.id))


def claim_time(
    db: MemoryDatabase,
    tenant_id: uuid.UUID,
    booking_id: uuid.UUID,
    package_id: uuid.UUID,
    claim: TimeClaim,
    *,
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> bool:
    """:meth:`BookingRepository.claim_time` on the memory store: O(claims of the resource).

    Like the SQL adapter: the resource's lapsed claims in the way are ended first; then the
    lowest lane that no live overlapping claim takes (lanes past a capacity since lowered still
    count against it), and with a day limit the lowest free day seat of the package's claims on
    the resource that day. Refused, it stores no claim.
    """
    if db.resources.get(tenant_id, claim.resource_id) is None:  # the SQL foreign key
        raise NotFoundError("resource", claim.resource_id)
    # no key to the booking: a hold claims its time before it inserts the booking's row
    claims = db.time_claims

    def same_day(held: HeldTime) -> bool:
        return (
            claim.day_limit is not None and held.package_id == package_id and held.day == claim.day
        )

    overlapping: list[TimeClaimRow] = []
    of_the_day: list[TimeClaimRow] = []
    for row in claims.of_resource(tenant_id, claim.resource_id):
        held = row.held
        overlaps, counts = held.occupied.overlaps(claim.occupied), same_day(held)
        if not (overlaps or counts):
            continue
        if not held.is_live(now):
            claims.delete(tenant_id, held.resource_id, held.booking_id)
            continue
        if overlaps:
            overlapping.append(row)
        if counts:
            of_the_day.append(row)
    lane = next(iter(free_places({row.held.lane for row in overlapping}, claim.capacity)), None)
    if lane is None:
        return False
    day_seat = None
    if claim.day_limit is not None:
        seats = {row.day_seat for row in of_the_day if row.day_seat is not None}
        # every live claim of the day counts, one made before the limit existed (no seat) too
        day_seat = next(iter(free_places(seats, claim.day_limit, held=len(of_the_day))), None)
        if day_seat is None:
            return False
    if claims.get(tenant_id, claim.resource_id, booking_id) is not None:
        return False  # the booking holds this resource already (the SQL primary key)
    held = HeldTime(
        resource_id=claim.resource_id,
        booking_id=booking_id,
        package_id=package_id,
        lane=lane,
        occupied=claim.occupied,
        day=claim.day,
        expires_at=expires_at,
    )
    claims.put(tenant_id, TimeClaimRow(held, day_seat))
    return True


def held_time(
    db: MemoryDatabase, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
) -> builtins.list[HeldTime]:
    """:meth:`BookingRepository.held_time`: O(claims of the resources asked); ordered as the
    SQL adapter's (by resource, start, lane)."""
    found = [
        row.held
        for resource_id in dict.fromkeys(resource_ids)
        for row in db.time_claims.of_resource(tenant_id, resource_id)
        if row.held.occupied.overlaps(window)
    ]
    return sorted(found, key=lambda h: (h.resource_id, h.occupied.start, h.lane))


def release_time(db: MemoryDatabase, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
    """End every time claim of the booking; how many there were."""
    rows = db.time_claims.of_booking(tenant_id, booking_id)
    for row in rows:
        db.time_claims.delete(tenant_id, row.held.resource_id, booking_id)
    return len(rows)


def settle_time(db: MemoryDatabase, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
    """Make every time claim of the booking permanent; how many it still held."""
    rows = db.time_claims.of_booking(tenant_id, booking_id)
    for row in rows:
        db.time_claims.put(tenant_id, replace(row, held=replace(row.held, expires_at=None)))
    return len(rows)
