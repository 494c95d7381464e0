"""Scheduling: resources, their time off, and the claims of their time that timed bookings
hold. Every statement filters by ``tenant_id`` first.

A claim is one row of ``bc_time_claims`` per (booking, resource) over the resource's occupied
interval, on one of its ``capacity`` lanes. On PostgreSQL an exclusion constraint refuses two
overlapping claims of one lane, so the database, not this code, keeps a resource within its
capacity; a claim picks its lane and inserts in one statement that does nothing when a
concurrent claim won, and tries again on a fresh snapshot. SQLite has one writer at a time
(``BEGIN IMMEDIATE``), so its read of the claims in the way is authoritative until it commits.
"""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Row, delete, select, update

from booking_core.adapters.sqlalchemy import _statements as q
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.adapters.sqlalchemy._catalog import _Listed
from booking_core.adapters.sqlalchemy._db import Db
from booking_core.adapters.sqlalchemy._rows import (
    _resource,
    _resource_row,
    _time_off,
    _time_off_row,
)
from booking_core.domain.model import ClaimSpan, HeldTime, Resource, ResourceTimeOff, TimeClaim
from booking_core.domain.rules import free_places
from booking_core.domain.schedule import MAX_OCCUPIED, Interval
from booking_core.errors import AlreadyExistsError

#: How far before a claim (or a window) a claim in its way can start, with a day to spare.
_REACH = MAX_OCCUPIED + dt.timedelta(days=1)
#: A PG_CLAIM_SPANS row: the ClaimSpan fields, then the resource's 1-based position.
_SPAN_FIELDS = itemgetter(slice(0, len(ClaimSpan._fields)))
_RESOURCE = itemgetter(len(ClaimSpan._fields))


class SqlResourceRepository(_Listed[Resource]):
    table = t.resources
    entity = Resource
    order = ("name", "id")

    def _to_row(self, obj: Resource) -> dict[str, Any]:
        return _resource_row(obj)

    def _from_row(self, row: Row[Any]) -> Resource:
        return _resource(row)

    def add(self, obj: Resource) -> None:
        try:
            super().add(obj)
        except AlreadyExistsError as error:
            raise _named(error, obj) from error

    def update(self, obj: Resource) -> None:
        try:
            super().update(obj)
        except AlreadyExistsError as error:
            raise _named(error, obj) from error

    def get_many(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID]
    ) -> builtins.list[Resource]:
        if not resource_ids:
            return []
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.id.in_(list(resource_ids)))
        return [self._from_row(row) for row in self._db.execute(stmt)]


def _named(error: AlreadyExistsError, resource: Resource) -> AlreadyExistsError:
    """The driver's unique violation as the resource's: its name, or (a reused id) its id."""
    if error.field == "name" or str(error.entity).endswith("_name"):
        return AlreadyExistsError("resource", "name", resource.name)
    return AlreadyExistsError("resource", "id", resource.id)


class SqlTimeOffRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, time_off: ResourceTimeOff) -> None:
        row = _time_off_row(time_off)
        self._db.execute(t.resource_time_off.insert(), row, row=row)

    def remove(self, tenant_id: uuid.UUID, time_off_id: uuid.UUID) -> bool:
        c = t.resource_time_off.c
        stmt = delete(t.resource_time_off).where(c.tenant_id == tenant_id, c.id == time_off_id)
        return self._db.execute(stmt).rowcount > 0

    def overlapping(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> builtins.list[ResourceTimeOff]:
        if not resource_ids:
            return []
        c = t.resource_time_off.c
        stmt = (
            select(t.resource_time_off)
            .where(
                c.tenant_id == tenant_id,
                c.resource_id.in_(list(resource_ids)),
                c.starts_at < window.end,
                c.ends_at > window.start,
            )
            .order_by(c.starts_at, c.resource_id, c.id)
        )
        return [_time_off(row) for row in self._db.execute(stmt)]


class TimeClaims:
    """The booking repository's time claims (``claim_time``, ``held_time``, and their part of
    releasing and settling a booking's claims)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    def claim(
        self,
        tenant_id: uuid.UUID,
        booking_id: uuid.UUID,
        package_id: uuid.UUID,
        claim: TimeClaim,
        *,
        now: dt.datetime,
        expires_at: dt.datetime | None,
    ) -> bool:
        occupied = claim.occupied
        params: dict[str, Any] = {
            "tenant_id": tenant_id,
            "booking_id": booking_id,
            "resource_id": claim.resource_id,
            "package_id": package_id,
            "starts_at": occupied.start,
            "ends_at": occupied.end,
            "claim_day": claim.day,
            "capacity": claim.capacity,
            "day_limit": claim.day_limit,
            "now": now,
            "expires_at": expires_at,
            "since": occupied.start - _REACH,
        }
        if self._db.dialect == "postgresql":  # ends the lapsed claims in its way itself
            return self._claim_in_one_statement(claim, params)
        # Lapsed claims in the way end here, in this transaction: a lapsed hold frees its time
        # before any sweep (and before the claim would count it).
        self._db.execute(q.end_lapsed_time(claim.day_limit is not None), params)
        return self._claim_after_reading(claim, params)

    def _claim_in_one_statement(self, claim: TimeClaim, params: dict[str, Any]) -> bool:
        """PostgreSQL: pick a free lane (and day seat) and insert, in one statement; when a
        concurrent claim took them first, again on a fresh snapshot, a bounded number of times
        (each retry follows a claim that committed, and there are only so many lanes and seats)."""
        attempts = claim.capacity + (claim.day_limit or 0) + 2
        for _ in range(attempts):
            row = self._db.execute(q.PG_CLAIM_TIME, params).one()
            if row.claimed is not None:
                return True
            if row.free_lane is None or (claim.day_limit is not None and row.free_seat is None):
                return False  # full at this snapshot: no lane, or the day limit is reached
        return False

    def _claim_after_reading(self, claim: TimeClaim, params: dict[str, Any]) -> bool:
        """SQLite: the transaction holds the only write lock, so what it reads stays true until
        it commits: pick the lowest free lane and day seat, and insert there."""
        day_limited = claim.day_limit is not None
        rows = list(self._db.execute(q.time_in_the_way(day_limited), params))
        lanes = {row.lane for row in rows if row.overlapping}
        lane = next(iter(free_places(lanes, claim.capacity)), None)
        if lane is None:
            return False
        seat = None
        if claim.day_limit is not None:
            of_the_day = [row for row in rows if row.same_day]
            seats = {row.day_seat for row in of_the_day if row.day_seat is not None}
            # every live claim of the day counts, one made before the limit existed (no seat) too
            seat = next(iter(free_places(seats, claim.day_limit, held=len(of_the_day))), None)
            if seat is None:
                return False
        row = {
            "tenant_id": params["tenant_id"],
            "booking_id": params["booking_id"],
            "resource_id": claim.resource_id,
            "package_id": params["package_id"],
            "lane": lane,
            "starts_at": claim.occupied.start,
            "ends_at": claim.occupied.end,
            "claim_day": claim.day,
            "day_seat": seat,
            "expires_at": params["expires_at"],
        }
        inserted = self._db.execute(q.insert_time_claim(self._db.dialect), row, row=row)
        return inserted.first() is not None

    def held(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> builtins.list[HeldTime]:
        if not resource_ids:
            return []
        params = _in_reach(tenant_id, resource_ids, window)
        rows: Sequence[Any] = self._db.execute(q.HELD_TIME, params).all()
        return [
            HeldTime(resource, booking, package, lane, Interval(start, end), day, expires)
            for resource, booking, package, lane, start, end, day, expires in rows
        ]

    def spans(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> dict[uuid.UUID, builtins.list[ClaimSpan]]:
        if self._db.dialect != "postgresql":  # SQLite: from the entities, converted here
            return ClaimSpan.by_resource(self.held(tenant_id, resource_ids, window))
        if not resource_ids:
            return {}
        params = _in_reach(tenant_id, resource_ids, window)
        wanted = params.pop("resource_ids")
        params["resource_array"] = wanted
        rows: Sequence[Any] = self._db.execute(q.PG_CLAIM_SPANS, params).all()
        # rows come ordered by resource: one group each, named by its position in the array;
        # a span is the row less that position
        span, fields = tuple.__new__, _SPAN_FIELDS
        return {
            wanted[position - 1]: [span(ClaimSpan, fields(row)) for row in theirs]
            for position, theirs in groupby(rows, _RESOURCE)
        }

    def release(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        c = t.time_claims.c
        stmt = delete(t.time_claims).where(c.tenant_id == tenant_id, c.booking_id == booking_id)
        return self._db.execute(stmt).rowcount

    def settle(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        c = t.time_claims.c
        stmt = (
            update(t.time_claims)
            .where(c.tenant_id == tenant_id, c.booking_id == booking_id)
            .values(expires_at=None)
        )
        return self._db.execute(stmt).rowcount


def _in_reach(
    tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
) -> dict[str, Any]:
    """The parameters of a read of the resources' claims overlapping ``window``."""
    return {
        "tenant_id": tenant_id,
        "resource_ids": list(resource_ids),
        "window_start": window.start,
        "window_end": window.end,
        "since": window.start - _REACH,
    }
