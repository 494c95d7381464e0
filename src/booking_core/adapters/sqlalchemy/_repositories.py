"""SQLAlchemy Core repositories. Every statement filters by ``tenant_id`` first."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Executable,
    Row,
    Table,
    and_,
    delete,
    exists,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from booking_core.adapters.sqlalchemy import _statements as q
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.adapters.sqlalchemy._errors import translated
from booking_core.adapters.sqlalchemy._types import UTCDateTime
from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    AddOn,
    ApiKey,
    BlackoutDate,
    Booking,
    BookingAddOn,
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    Customer,
    HeldSeat,
    HoldContext,
    IdempotencyRecord,
    InboxEvent,
    InboxState,
    OutboxEvent,
    Package,
    Refund,
    RefundState,
    RefundTier,
    Segment,
    Tenant,
    Venue,
)
from booking_core.errors import TransientStorageError
from booking_core.ports.repositories import BOOKING_TOTAL


class Db:
    """The connection of one unit of work, with error translation on every call."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    def execute(
        self,
        statement: Executable,
        params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        *,
        row: Mapping[str, Any] | None = None,
    ) -> CursorResult[Any]:
        with translated(row):
            return self.connection.execute(statement, params)

    def insert(self, table: Table) -> Any:
        """A dialect insert, so ``on_conflict_do_update`` is available on both backends."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)


def asdict(entity: Any) -> dict[str, Any]:
    """A row of an entity's fields, shallow.

    ``dataclasses.asdict`` deep-copies every value (payload dicts, decimals), which cost a hold
    more than its statements; the entities are frozen, so sharing their values is safe.
    """
    return {name: getattr(entity, name) for name in entity.__dataclass_fields__}


def _now_param(now: dt.datetime) -> Any:
    return literal(now, UTCDateTime())


# --- row <-> entity --------------------------------------------------------------------------


def _tenant_row(tenant: Tenant) -> dict[str, Any]:
    policy = tenant.policy
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "currency": tenant.currency,
        "commission_percent": tenant.commission_percent,
        "active": tenant.active,
        "capacity_per_date": policy.capacity_per_date,
        "hold_ttl_seconds": int(policy.hold_ttl.total_seconds()),
        "min_notice_days": policy.min_notice_days,
        "horizon_days": policy.horizon_days,
        "cancellation": {
            "tiers": [[tier.days_before, tier.percent] for tier in tenant.cancellation.tiers],
            "fee": tenant.cancellation.fee,
        },
    }


def _tenant(row: Row[Any]) -> Tenant:
    m = row._mapping
    return Tenant(
        id=m["id"],
        slug=m["slug"],
        name=m["name"],
        timezone=m["timezone"],
        currency=m["currency"],
        commission_percent=Decimal(m["commission_percent"]).normalize(),
        active=bool(m["active"]),
        policy=BookingPolicy(
            capacity_per_date=m["capacity_per_date"],
            hold_ttl=dt.timedelta(seconds=m["hold_ttl_seconds"]),
            min_notice_days=m["min_notice_days"],
            horizon_days=m["horizon_days"],
        ),
        cancellation=CancellationPolicy(
            tiers=tuple(RefundTier(days, pct) for days, pct in m["cancellation"]["tiers"]),
            fee=m["cancellation"]["fee"],
        ),
    )


def _package_row(package: Package) -> dict[str, Any]:
    row = asdict(package)
    row["photo_urls"] = list(package.photo_urls)
    return row


def _package(row: Row[Any]) -> Package:
    m = dict(row._mapping)
    m["photo_urls"] = tuple(m["photo_urls"])
    return Package(**m)


def _booking_row(booking: Booking) -> dict[str, Any]:
    row = {name: getattr(booking, name) for name in Booking.__dataclass_fields__}
    row.pop("add_ons")
    row["status"] = booking.status.value
    return row


def _booking(row: Row[Any], lines: Sequence[BookingAddOn]) -> Booking:
    m = dict(row._mapping)
    m["status"] = BookingStatus(m["status"])
    return Booking(**m, add_ons=tuple(lines))


# --- repositories ----------------------------------------------------------------------------


class _Scoped:
    """Shared CRUD of a tenant-owned table whose entity maps 1:1 to its columns."""

    table: Table
    entity: type[Any]

    def __init__(self, db: Db) -> None:
        self._db = db

    def _to_row(self, obj: Any) -> dict[str, Any]:
        return asdict(obj)

    def _from_row(self, row: Row[Any]) -> Any:
        return self.entity(**row._mapping)

    def add(self, obj: Any) -> None:
        row = self._to_row(obj)
        self._db.execute(self.table.insert(), row, row=row)

    def update(self, obj: Any) -> None:
        row = self._to_row(obj)
        c = self.table.c
        stmt = update(self.table).where(c.tenant_id == obj.tenant_id, c.id == obj.id).values(row)
        self._db.execute(stmt, row=row)

    def get(self, tenant_id: uuid.UUID, row_id: uuid.UUID) -> Any:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.id == row_id)
        found = self._db.execute(stmt).first()
        return None if found is None else self._from_row(found)

    def get_by_slug(self, tenant_id: uuid.UUID, slug: str) -> Any:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.slug == slug)
        found = self._db.execute(stmt).first()
        return None if found is None else self._from_row(found)

    def _list(
        self, tenant_id: uuid.UUID, *conditions: Any, order_by: Sequence[Any]
    ) -> builtins.list[Any]:
        stmt = (
            select(self.table)
            .where(self.table.c.tenant_id == tenant_id, *conditions)
            .order_by(*order_by)
        )
        return [self._from_row(row) for row in self._db.execute(stmt)]


class SqlTenantRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, tenant: Tenant) -> None:
        row = _tenant_row(tenant)
        self._db.execute(t.tenants.insert(), row, row=row)

    def update(self, tenant: Tenant) -> None:
        row = _tenant_row(tenant)
        stmt = update(t.tenants).where(t.tenants.c.id == tenant.id).values(row)
        self._db.execute(stmt, row=row)

    def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        found = self._db.execute(select(t.tenants).where(t.tenants.c.id == tenant_id)).first()
        return None if found is None else _tenant(found)

    def get_by_slug(self, slug: str) -> Tenant | None:
        found = self._db.execute(select(t.tenants).where(t.tenants.c.slug == slug)).first()
        return None if found is None else _tenant(found)


class SqlSegmentRepository(_Scoped):
    table = t.segments
    entity = Segment

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Segment]:
        c = self.table.c
        conditions = [c.active.is_(True)] if active_only else []
        return self._list(tenant_id, *conditions, order_by=[c.sort_order, c.slug])


class SqlPackageRepository(_Scoped):
    table = t.packages
    entity = Package

    def _to_row(self, obj: Any) -> dict[str, Any]:
        return _package_row(obj)

    def _from_row(self, row: Row[Any]) -> Any:
        return _package(row)

    def list(
        self, tenant_id: uuid.UUID, *, segment_id: uuid.UUID | None, active_only: bool
    ) -> builtins.list[Package]:
        c = self.table.c
        conditions: builtins.list[ColumnElement[bool]] = [c.active.is_(True)] if active_only else []
        if segment_id is not None:
            conditions.append(c.segment_id == segment_id)
        return self._list(tenant_id, *conditions, order_by=[c.grouping, c.group_order, c.slug])

    def offer_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None:
        row = {"tenant_id": tenant_id, "package_id": package_id, "add_on_id": add_on_id}
        stmt = self._db.insert(t.package_add_ons).values(row).on_conflict_do_nothing()
        self._db.execute(stmt, row=row)

    def withdraw_add_on(
        self, tenant_id: uuid.UUID, package_id: uuid.UUID, add_on_id: uuid.UUID
    ) -> None:
        c = t.package_add_ons.c
        stmt = delete(t.package_add_ons).where(
            c.tenant_id == tenant_id, c.package_id == package_id, c.add_on_id == add_on_id
        )
        self._db.execute(stmt)

    def offered_add_ons(self, tenant_id: uuid.UUID, package_id: uuid.UUID) -> builtins.list[AddOn]:
        pa, a = t.package_add_ons.c, t.add_ons.c
        stmt = (
            select(t.add_ons)
            .join(
                t.package_add_ons,
                and_(pa.tenant_id == a.tenant_id, pa.add_on_id == a.id),
            )
            .where(pa.tenant_id == tenant_id, pa.package_id == package_id)
            .order_by(a.slug)
        )
        return [AddOn(**row._mapping) for row in self._db.execute(stmt)]


class SqlAddOnRepository(_Scoped):
    table = t.add_ons
    entity = AddOn

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[AddOn]:
        c = self.table.c
        conditions = [c.active.is_(True)] if active_only else []
        return self._list(tenant_id, *conditions, order_by=[c.slug])


class SqlVenueRepository(_Scoped):
    table = t.venues
    entity = Venue

    def list(self, tenant_id: uuid.UUID, *, active_only: bool) -> builtins.list[Venue]:
        c = self.table.c
        conditions = [c.active.is_(True)] if active_only else []
        return self._list(tenant_id, *conditions, order_by=[c.name])


class SqlCustomerRepository(_Scoped):
    table = t.customers
    entity = Customer

    def find_by_email(self, tenant_id: uuid.UUID, email: str) -> Customer | None:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.email == email)
        found = self._db.execute(stmt).first()
        return None if found is None else Customer(**found._mapping)

    def list(self, tenant_id: uuid.UUID, *, limit: int, offset: int) -> builtins.list[Customer]:
        c = self.table.c
        stmt = (
            select(self.table)
            .where(c.tenant_id == tenant_id)
            .order_by(c.created_at, c.id)
            .limit(limit)
            .offset(offset)
        )
        return [Customer(**row._mapping) for row in self._db.execute(stmt)]

    def upsert_by_email(self, customer: Customer) -> Customer:
        row = asdict(customer)
        stored = self._db.execute(q.upsert_customer(self._db.dialect), row, row=row).one()
        return Customer(**stored._mapping)


class SqlBookingRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, booking: Booking) -> None:
        self._insert(booking)

    def _insert(self, booking: Booking) -> None:
        row = _booking_row(booking)
        self._db.execute(q.INSERT_BOOKING, row, row=row)
        if booking.add_ons:
            self._insert_lines(booking)

    def _insert_lines(self, booking: Booking) -> None:
        lines = [
            {"tenant_id": booking.tenant_id, "booking_id": booking.id, **asdict(line)}
            for line in booking.add_ons
        ]
        self._db.execute(q.INSERT_BOOKING_LINES, lines)

    def _lines(self, keys: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> dict[Any, list[BookingAddOn]]:
        keys = list(keys)
        found: dict[Any, list[BookingAddOn]] = {key: [] for key in keys}
        if not keys:
            return found
        c = t.booking_add_ons.c
        stmt = (
            select(t.booking_add_ons)
            .where(tuple_(c.tenant_id, c.booking_id).in_(keys))
            .order_by(c.name, c.add_on_id)
        )
        for row in self._db.execute(stmt):
            m = row._mapping
            found[(m["tenant_id"], m["booking_id"])].append(
                BookingAddOn(m["add_on_id"], m["name"], m["unit_price"], m["quantity"])
            )
        return found

    def _with_lines(self, rows: Sequence[Row[Any]]) -> builtins.list[Booking]:
        lines = self._lines((row.tenant_id, row.id) for row in rows)
        return [_booking(row, lines[(row.tenant_id, row.id)]) for row in rows]

    def get(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking | None:
        c = t.bookings.c
        stmt = select(t.bookings).where(c.tenant_id == tenant_id, c.id == booking_id)
        found = self._db.execute(stmt).first()
        return None if found is None else self._with_lines([found])[0]

    def list_for_dates(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[Booking]:
        c = t.bookings.c
        stmt = (
            select(t.bookings)
            .where(c.tenant_id == tenant_id, c.event_date.between(start, end))
            .order_by(c.event_date, c.created_at, c.id)
        )
        return self._with_lines(list(self._db.execute(stmt)))

    def hold_context(
        self,
        tenant_id: uuid.UUID,
        package_id: uuid.UUID,
        venue_id: uuid.UUID | None,
        date: dt.date,
        now: dt.datetime,
    ) -> HoldContext | None:
        params = {
            "tenant_id": tenant_id,
            "package_id": package_id,
            "venue_id": venue_id,
            "resource_id": venue_id or TENANT_WIDE,
            "date": date,
            "now": now,
        }
        row = self._db.execute(q.HOLD_CONTEXT, params).first()
        if row is None:
            return None
        m = row._mapping
        package = None
        if m["p_id"] is not None:
            fields = {name: m[f"p_{name}"] for name in Package.__dataclass_fields__}
            fields["photo_urls"] = tuple(fields["photo_urls"])
            package = Package(**fields)
        venue = None
        if m["v_id"] is not None:
            venue = Venue(**{name: m[f"v_{name}"] for name in Venue.__dataclass_fields__})
        return HoldContext(_tenant(row), package, venue, bool(m["blackout"]), m["held"])

    def place_hold(
        self,
        booking: Booking,
        customer: Customer,
        *,
        capacity: int,
        now: dt.datetime,
        event: OutboxEvent | None = None,
    ) -> Booking | None:
        seats = self._free_seats(booking, booking.event_date, capacity, now)
        if not seats:
            return None
        if self._db.dialect == "postgresql":
            placed, won = self._place_in_one_statement(booking, customer, seats[0], now, event)
            event = None  # written by the statement
        else:
            customer_row = asdict(customer)
            stored = self._db.execute(
                q.upsert_customer(self._db.dialect), customer_row, row=customer_row
            ).one()
            placed = replace(booking, customer_id=stored.id)
            self._insert(placed)
            won = self._claim(placed, seats[0], now)
        for seat in seats[1:]:
            if won:
                break
            won = self._claim(placed, seat, now)
        if not won:
            return None
        if event is not None:
            row = asdict(event.with_payload(customer_id=str(placed.customer_id)))
            self._db.execute(q.INSERT_OUTBOX, row, row=row)
        return placed

    def _free_seats(
        self, booking: Booking, date: dt.date, capacity: int, now: dt.datetime
    ) -> builtins.list[int]:
        """Seats of the booking's pool on ``date`` worth trying, lowest first.

        With capacity 1 there is nothing to learn; above it, one read skips the seats already
        visibly held instead of probing each. Ascending order keeps lock acquisition ordered.
        """
        if capacity <= 1:
            return list(range(capacity))
        params = {
            "tenant_id": booking.tenant_id,
            "resource_id": booking.resource_id,
            "date": date,
            "now": now,
        }
        taken = {row.seat for row in self._db.execute(q.HELD_SEATS, params)}
        return [seat for seat in range(capacity) if seat not in taken]

    def _place_in_one_statement(
        self,
        booking: Booking,
        customer: Customer,
        seat: int,
        now: dt.datetime,
        event: OutboxEvent | None,
    ) -> tuple[Booking, bool]:
        """PostgreSQL: customer upsert, booking insert, seat claim (and the booking's event)
        in one round trip."""
        params = _booking_row(booking)
        params.update(
            customer_name=customer.name,
            customer_email=customer.email,
            customer_phone=customer.phone,
            provisional_customer_id=customer.id,
            resource_id=booking.resource_id,
            seat=seat,
            now=now,
        )
        statement = q.PG_PLACE_HOLD
        if event is not None:
            statement = q.PG_PLACE_HOLD_WITH_EVENT
            params.update(
                event_id=event.id,
                event_sequence=event.sequence,
                event_type=event.type,
                event_payload=json.dumps(event.payload),
            )
        row = self._db.execute(statement, params, row={"email": customer.email}).one()
        placed = replace(booking, customer_id=row.customer_id)
        if booking.add_ons:
            self._insert_lines(placed)
        return placed, row.seat is not None

    def _claim(self, booking: Booking, seat: int, now: dt.datetime) -> bool:
        params = {
            "tenant_id": booking.tenant_id,
            "resource_id": booking.resource_id,
            "claim_date": booking.event_date,
            "seat": seat,
            "booking_id": booking.id,
            "expires_at": booking.expires_at,
            "now": now,
        }
        return self._db.execute(q.claim_seat(self._db.dialect), params).first() is not None

    def release_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        c = t.booking_claims.c
        stmt = delete(t.booking_claims).where(c.tenant_id == tenant_id, c.booking_id == booking_id)
        return self._db.execute(stmt).rowcount

    def settle_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        c = t.booking_claims.c
        stmt = (
            update(t.booking_claims)
            .where(c.tenant_id == tenant_id, c.booking_id == booking_id)
            .values(expires_at=None)
        )
        return self._db.execute(stmt).rowcount

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
        c = t.bookings.c
        conditions: builtins.list[ColumnElement[bool]] = [
            c.tenant_id == tenant_id,
            c.id == booking_id,
            c.status.in_([s.value for s in from_statuses]),
        ]
        if unexpired_at is not None:
            conditions.append(
                or_(
                    c.status != BookingStatus.PENDING.value,
                    c.expires_at.is_(None),
                    c.expires_at > _now_param(unexpired_at),
                )
            )
        values = {
            name: c.total if value is BOOKING_TOTAL else value
            for name, value in {
                "status": to.value,
                "version": c.version + 1,
                **(changes or {}),
            }.items()
        }
        stmt = update(t.bookings).where(*conditions).values(values).returning(*t.bookings.c)
        found = self._db.execute(stmt).first()
        return None if found is None else self._with_lines([found])[0]

    def move(
        self, booking: Booking, new_date: dt.date, *, capacity: int, now: dt.datetime
    ) -> Booking | None:
        # The booking row first: the compare-and-swap on its version locks it, so a racing
        # cancel either committed before (no row: retry on fresh data) or waits for us.
        c = t.bookings.c
        row = self._db.execute(
            update(t.bookings)
            .where(
                c.tenant_id == booking.tenant_id,
                c.id == booking.id,
                c.version == booking.version,
                c.status.in_([BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value]),
            )
            .values(event_date=new_date, version=c.version + 1)
            .returning(*t.bookings.c)
        ).first()
        if row is None:
            raise TransientStorageError("the booking changed while moving it")
        cc = t.booking_claims.c
        mine = (cc.tenant_id == booking.tenant_id, cc.booking_id == booking.id)
        expiry = self._db.execute(select(cc.expires_at).where(*mine).limit(1)).scalar()
        moved = self._with_lines([row])[0]
        if not self.claim_seat(replace(moved, expires_at=expiry), capacity=capacity, now=now):
            return None
        self._db.execute(delete(t.booking_claims).where(*mine, cc.claim_date != new_date))
        return moved

    def claim_seat(self, booking: Booking, *, capacity: int, now: dt.datetime) -> bool:
        seats = self._free_seats(booking, booking.event_date, capacity, now)
        return any(self._claim(booking, seat, now) for seat in seats)

    def add_refund(
        self, tenant_id: uuid.UUID, booking_id: uuid.UUID, *, amount: int, commission: int
    ) -> Booking | None:
        c = t.bookings.c
        stmt = (
            update(t.bookings)
            .where(
                c.tenant_id == tenant_id,
                c.id == booking_id,
                c.amount_refunded + amount <= c.amount_paid,
                c.commission_refunded + commission <= c.commission,
            )
            .values(
                amount_refunded=c.amount_refunded + amount,
                commission_refunded=c.commission_refunded + commission,
                version=c.version + 1,
            )
            .returning(*t.bookings.c)
        )
        row = self._db.execute(stmt).first()
        return None if row is None else self._with_lines([row])[0]

    def touch(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int | None:
        c = t.bookings.c
        stmt = (
            update(t.bookings)
            .where(c.tenant_id == tenant_id, c.id == booking_id)
            .values(version=c.version + 1)
            .returning(c.version)
        )
        version: int | None = self._db.execute(stmt).scalar()
        return version

    def expire_lapsed(
        self, now: dt.datetime, *, tenant_id: uuid.UUID | None, limit: int
    ) -> builtins.list[Booking]:
        c = t.bookings.c
        due = [c.status == BookingStatus.PENDING.value, c.expires_at <= _now_param(now)]
        if tenant_id is not None:
            due.insert(0, c.tenant_id == tenant_id)
        pick = select(c.tenant_id, c.id).where(*due).order_by(c.expires_at, c.id).limit(limit)
        if self._db.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        # Pick first, then update exactly those: a LIMIT subquery inside the UPDATE may be
        # re-evaluated by the planner and then no longer bounds the update.
        keys = [(row.tenant_id, row.id) for row in self._db.execute(pick)]
        if not keys:
            return []
        stmt = (
            update(t.bookings)
            .where(tuple_(c.tenant_id, c.id).in_(keys), *due)
            .values(status=BookingStatus.EXPIRED.value, version=c.version + 1)
            .returning(*t.bookings.c)
        )
        rows = list(self._db.execute(stmt))
        if rows:
            cc = t.booking_claims.c
            self._db.execute(
                delete(t.booking_claims).where(
                    tuple_(cc.tenant_id, cc.booking_id).in_([(r.tenant_id, r.id) for r in rows])
                )
            )
        return self._with_lines(rows)

    def held_seats(
        self, tenant_id: uuid.UUID, resource_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[HeldSeat]:
        params = {"tenant_id": tenant_id, "resource_id": resource_id, "start": start, "end": end}
        return [
            HeldSeat(row.claim_date, row.expires_at)
            for row in self._db.execute(q.SEATS_BETWEEN, params)
        ]


class SqlBlackoutRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, blackout: BlackoutDate) -> None:
        row = asdict(blackout)
        stmt = self._db.insert(t.blackout_dates).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.blackout_dates.c.tenant_id, t.blackout_dates.c.date],
            set_={"reason": stmt.excluded.reason},
        )
        self._db.execute(stmt, row=row)

    def remove(self, tenant_id: uuid.UUID, date: dt.date) -> bool:
        c = t.blackout_dates.c
        stmt = delete(t.blackout_dates).where(c.tenant_id == tenant_id, c.date == date)
        return self._db.execute(stmt).rowcount > 0

    def list_between(
        self, tenant_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[BlackoutDate]:
        c = t.blackout_dates.c
        stmt = (
            select(t.blackout_dates)
            .where(c.tenant_id == tenant_id, c.date.between(start, end))
            .order_by(c.date)
        )
        return [BlackoutDate(**row._mapping) for row in self._db.execute(stmt)]


class SqlRefundRepository(_Scoped):
    table = t.refunds
    entity = Refund

    def _to_row(self, obj: Any) -> dict[str, Any]:
        row = asdict(obj)
        row["state"] = obj.state.value
        return row

    def _from_row(self, row: Row[Any]) -> Any:
        m = dict(row._mapping)
        m["state"] = RefundState(m["state"])
        return Refund(**m)

    def lock(self, tenant_id: uuid.UUID, refund_id: uuid.UUID) -> Refund | None:
        c = self.table.c
        stmt = select(self.table).where(c.tenant_id == tenant_id, c.id == refund_id)
        if self._db.dialect == "postgresql":  # SQLite: BEGIN IMMEDIATE already serialises
            stmt = stmt.with_for_update()
        found = self._db.execute(stmt).first()
        return None if found is None else self._from_row(found)

    def for_booking(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> builtins.list[Refund]:
        c = self.table.c
        return self._list(tenant_id, c.booking_id == booking_id, order_by=[c.created_at, c.id])

    def find_by_provider_id(self, tenant_id: uuid.UUID, provider_refund_id: str) -> Refund | None:
        c = self.table.c
        stmt = select(self.table).where(
            c.tenant_id == tenant_id, c.provider_refund_id == provider_refund_id
        )
        row = self._db.execute(stmt).first()
        return None if row is None else self._from_row(row)

    def unsettled(self, *, tenant_id: uuid.UUID | None, limit: int) -> builtins.list[Refund]:
        c = self.table.c
        scope = [] if tenant_id is None else [c.tenant_id == tenant_id]
        stmt = (
            select(self.table)
            .where(*scope, c.state != RefundState.SUCCEEDED.value)
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        return [self._from_row(row) for row in self._db.execute(stmt)]


class SqlIdempotencyRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def claim(self, record: IdempotencyRecord, *, now: dt.datetime) -> IdempotencyRecord | None:
        row = asdict(record)
        params = {**row, "now": now}
        if self._db.execute(q.claim_idempotency_key(self._db.dialect), params).first():
            return None
        c = t.idempotency_keys.c
        existing = self._db.execute(
            select(t.idempotency_keys).where(c.tenant_id == record.tenant_id, c.key == record.key)
        ).one()
        return IdempotencyRecord(**existing._mapping)

    def attach(self, tenant_id: uuid.UUID, key: str, booking_id: uuid.UUID) -> None:
        c = t.idempotency_keys.c
        self._db.execute(
            update(t.idempotency_keys)
            .where(c.tenant_id == tenant_id, c.key == key)
            .values(booking_id=booking_id)
        )

    def purge(self, *, now: dt.datetime, limit: int) -> int:
        c = t.idempotency_keys.c
        expired = [
            (row.tenant_id, row.key)
            for row in self._db.execute(
                select(c.tenant_id, c.key).where(c.expires_at <= _now_param(now)).limit(limit)
            )
        ]
        if not expired:
            return 0
        self._db.execute(
            delete(t.idempotency_keys).where(
                tuple_(c.tenant_id, c.key).in_(expired), c.expires_at <= _now_param(now)
            )
        )
        return len(expired)

    def release(self, tenant_id: uuid.UUID, key: str, booking_id: uuid.UUID) -> bool:
        c = t.idempotency_keys.c
        stmt = delete(t.idempotency_keys).where(
            c.tenant_id == tenant_id, c.key == key, c.booking_id == booking_id
        )
        return bool(self._db.execute(stmt).rowcount)


def _inbox_event(row: Row[Any]) -> InboxEvent:
    m = dict(row._mapping)
    m["state"] = InboxState(m["state"])
    m["payload"] = bytes(m["payload"])
    return InboxEvent(**m)


class SqlInboxRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def record(self, event: InboxEvent) -> bool:
        row = asdict(event)
        row["state"] = event.state.value
        c = t.webhook_inbox.c
        stmt = (
            self._db.insert(t.webhook_inbox)
            .values(row)
            .on_conflict_do_nothing()
            .returning(c.event_id)  # rowcount of an INSERT is not reliable across drivers
        )
        return self._db.execute(stmt, row=row).first() is not None

    def lock(self, tenant_id: uuid.UUID, provider: str, event_id: str) -> InboxEvent | None:
        c = t.webhook_inbox.c
        stmt = select(t.webhook_inbox).where(
            c.tenant_id == tenant_id, c.provider == provider, c.event_id == event_id
        )
        if self._db.dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = self._db.execute(stmt).first()
        return None if row is None else _inbox_event(row)

    def update(self, event: InboxEvent) -> None:
        c = t.webhook_inbox.c
        self._db.execute(
            update(t.webhook_inbox)
            .where(
                c.tenant_id == event.tenant_id,
                c.provider == event.provider,
                c.event_id == event.event_id,
            )
            .values(
                state=event.state.value,
                attempts=event.attempts,
                last_error=event.last_error,
                processed_at=event.processed_at,
                outcome=event.outcome,
            )
        )

    def failed(
        self, *, tenant_id: uuid.UUID | None, max_attempts: int, limit: int
    ) -> builtins.list[InboxEvent]:
        c = t.webhook_inbox.c
        scope = [] if tenant_id is None else [c.tenant_id == tenant_id]
        stmt = (
            select(t.webhook_inbox)
            .where(*scope, c.state == InboxState.FAILED.value, c.attempts < max_attempts)
            .order_by(c.received_at, c.event_id)
            .limit(limit)
        )
        return [_inbox_event(row) for row in self._db.execute(stmt)]


def _outbox_event(row: Row[Any]) -> OutboxEvent:
    return OutboxEvent(**row._mapping)


class SqlOutboxRepository:
    def __init__(self, db: Db) -> None:
        self._db = db

    def add(self, event: OutboxEvent) -> None:
        row = asdict(event)
        self._db.execute(q.INSERT_OUTBOX, row, row=row)

    def get(self, tenant_id: uuid.UUID, event_id: uuid.UUID) -> OutboxEvent | None:
        c = t.outbox.c
        row = self._db.execute(
            select(t.outbox).where(c.tenant_id == tenant_id, c.id == event_id)
        ).first()
        return None if row is None else _outbox_event(row)

    def for_booking(
        self, tenant_id: uuid.UUID, booking_id: uuid.UUID
    ) -> builtins.list[OutboxEvent]:
        c = t.outbox.c
        stmt = (
            select(t.outbox)
            .where(c.tenant_id == tenant_id, c.booking_id == booking_id)
            .order_by(c.sequence)
        )
        return [_outbox_event(row) for row in self._db.execute(stmt)]

    def claim(
        self,
        *,
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        tenant_id: uuid.UUID | None,
    ) -> builtins.list[OutboxEvent]:
        o = t.outbox.c
        earlier = t.outbox.alias("earlier")
        e = earlier.c
        conditions: builtins.list[ColumnElement[bool]] = [
            o.done_at.is_(None),
            or_(o.claimed_until.is_(None), o.claimed_until <= _now_param(now)),
            ~exists().where(
                e.tenant_id == o.tenant_id,
                e.booking_id == o.booking_id,
                e.sequence < o.sequence,
                e.done_at.is_(None),
            ),
        ]
        if tenant_id is not None:
            conditions.insert(0, o.tenant_id == tenant_id)
        pick = (
            select(o.tenant_id, o.id)
            .where(*conditions)
            .order_by(o.created_at, o.booking_id, o.sequence)
            .limit(limit)
        )
        if self._db.dialect == "postgresql":
            pick = pick.with_for_update(of=t.outbox, skip_locked=True)
        keys = [(row.tenant_id, row.id) for row in self._db.execute(pick)]
        if not keys:
            return []
        stmt = (
            update(t.outbox)
            .where(tuple_(o.tenant_id, o.id).in_(keys))
            .values(claimed_until=lease_until, attempts=o.attempts + 1)
            .returning(*t.outbox.c)
        )
        leased = [_outbox_event(row) for row in self._db.execute(stmt)]
        return sorted(leased, key=lambda ev: (ev.created_at, str(ev.booking_id), ev.sequence))

    def mark_done(self, ids: Iterable[tuple[uuid.UUID, uuid.UUID]], *, now: dt.datetime) -> int:
        keys = list(ids)
        if not keys:
            return 0
        o = t.outbox.c
        stmt = (
            update(t.outbox)
            .where(tuple_(o.tenant_id, o.id).in_(keys), o.done_at.is_(None))
            .values(done_at=now, claimed_until=None)
        )
        return self._db.execute(stmt).rowcount

    def release(self, tenant_id: uuid.UUID, event_id: uuid.UUID, *, error: str | None) -> None:
        o = t.outbox.c
        self._db.execute(
            update(t.outbox)
            .where(o.tenant_id == tenant_id, o.id == event_id, o.done_at.is_(None))
            .values(claimed_until=None, last_error=error)
        )


class SqlApiKeyRepository(_Scoped):
    table = t.tenant_api_keys
    entity = ApiKey

    def active(self, tenant_id: uuid.UUID) -> builtins.list[ApiKey]:
        c = self.table.c
        return self._list(tenant_id, c.revoked_at.is_(None), order_by=[c.created_at, c.id])

    def revoke(self, tenant_id: uuid.UUID, key_id: uuid.UUID, *, now: dt.datetime) -> bool:
        c = self.table.c
        stmt = (
            update(self.table)
            .where(c.tenant_id == tenant_id, c.id == key_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return self._db.execute(stmt).rowcount == 1
