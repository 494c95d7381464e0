"""The booking repository: holds, seat claims, transitions, moves, refunds' totals, expiry;
and the idempotency keys of holds. Every statement filters by ``tenant_id`` first."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    Row,
    delete,
    select,
    tuple_,
    update,
)

from booking_core.adapters.sqlalchemy import _statements as q
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.adapters.sqlalchemy._db import Db, _now_param, asdict
from booking_core.adapters.sqlalchemy._rows import (
    _booking,
    _booking_row,
    _line_rows,
    _package_from,
    _resource_ids_row,
    _tenant,
)
from booking_core.adapters.sqlalchemy._scheduling import TimeClaims
from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.lifecycle import BookingChange, SeatEffect
from booking_core.domain.model import (
    Booking,
    BookingAddOn,
    BookingStatus,
    ClaimSpan,
    Customer,
    HeldSeat,
    HeldTime,
    HoldContext,
    IdempotencyRecord,
    OutboxEvent,
    TimeClaim,
    Venue,
)
from booking_core.domain.rules import free_places
from booking_core.domain.schedule import Interval
from booking_core.errors import TransientStorageError


class SqlBookingRepository:
    def __init__(self, db: Db) -> None:
        self._db = db
        self._times = TimeClaims(db)

    def _insert(self, booking: Booking) -> None:
        row = _booking_row(booking)
        self._db.execute(q.INSERT_BOOKING, row, row=row)
        if booking.add_ons:
            self._insert_lines(booking)

    def _insert_lines(self, booking: Booking) -> None:
        self._db.execute(q.INSERT_BOOKING_LINES, _line_rows(booking))

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
        return self._one(tenant_id, booking_id, lock=False)

    def lock(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> Booking | None:
        return self._one(tenant_id, booking_id, lock=self._db.dialect == "postgresql")

    def _one(self, tenant_id: uuid.UUID, booking_id: uuid.UUID, *, lock: bool) -> Booking | None:
        """The booking and its lines in one query (a row per line; one row without any)."""
        stmt = q.PG_BOOKING_FOR_UPDATE if lock else q.BOOKING_WITH_LINES
        rows = list(self._db.execute(stmt, {"tenant_id": tenant_id, "id": booking_id}))
        if not rows:
            return None
        lines = [
            BookingAddOn(row.line_add_on_id, row.line_name, row.line_unit_price, row.line_quantity)
            for row in rows
            if row.line_add_on_id is not None
        ]
        return _booking(rows[0], lines)

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

    def list_series(self, tenant_id: uuid.UUID, series_id: uuid.UUID) -> builtins.list[Booking]:
        c = t.bookings.c
        stmt = (
            select(t.bookings)
            .where(c.tenant_id == tenant_id, c.series_id == series_id)
            .order_by(c.starts_at, c.event_date, c.id)
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
        package = None if m["p_id"] is None else _package_from(m, "p_")
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
        seats = self._free_seats(booking, booking.event_date, capacity, now, read=False)
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
            won = self._claim(placed, seats[0], now, placed.expires_at)
        for seat in seats[1:]:
            if won:
                break
            won = self._claim(placed, seat, now, placed.expires_at)
        if not won:
            return None
        if event is not None:
            row = asdict(event.with_payload(customer_id=str(placed.customer_id)))
            self._db.execute(q.INSERT_OUTBOX, row, row=row)
        return placed

    def insert_hold(self, booking: Booking, customer: Customer, *, event: OutboxEvent) -> Booking:
        if self._db.dialect == "postgresql":
            return self._insert_hold_in_one_statement(booking, customer, event)
        customer_row = asdict(customer)
        stored = self._db.execute(
            q.upsert_customer(self._db.dialect), customer_row, row=customer_row
        ).one()
        placed = replace(booking, customer_id=stored.id)
        self._insert(placed)
        row = asdict(event.with_payload(customer_id=str(placed.customer_id)))
        self._db.execute(q.INSERT_OUTBOX, row, row=row)
        return placed

    def _insert_hold_in_one_statement(
        self, booking: Booking, customer: Customer, event: OutboxEvent
    ) -> Booking:
        """PostgreSQL: customer upsert, booking insert and its event in one round trip (the
        add-on lines, when there are any, in a second)."""
        params = _booking_row(booking)
        resource_ids = params["resource_ids"]
        params.update(
            resource_ids=None if resource_ids is None else json.dumps(resource_ids),
            customer_name=customer.name,
            customer_email=customer.email,
            customer_phone=customer.phone,
            provisional_customer_id=customer.id,
            customer_created_at=customer.created_at,
            event_id=event.id,
            event_sequence=event.sequence,
            event_type=event.type,
            event_payload=json.dumps(event.payload),
            event_created_at=event.created_at,
        )
        row = self._db.execute(q.PG_INSERT_HOLD, params, row={"email": customer.email}).one()
        placed = booking
        if row.customer_id != booking.customer_id:  # a returning customer keeps their id
            placed = replace(booking, customer_id=row.customer_id)
        if booking.add_ons:
            self._insert_lines(placed)
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
        return self._times.claim(
            tenant_id, booking_id, package_id, claim, now=now, expires_at=expires_at
        )

    def held_time(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> builtins.list[HeldTime]:
        return self._times.held(tenant_id, resource_ids, window)

    def claim_spans(
        self, tenant_id: uuid.UUID, resource_ids: Sequence[uuid.UUID], window: Interval
    ) -> dict[uuid.UUID, builtins.list[ClaimSpan]]:
        return self._times.spans(tenant_id, resource_ids, window)

    def _free_seats(
        self, booking: Booking, date: dt.date, capacity: int, now: dt.datetime, *, read: bool
    ) -> builtins.list[int]:
        """Seats of the booking's pool on ``date`` worth trying, lowest first (the domain's
        :func:`~booking_core.domain.rules.free_places`: racing claims meet on one primary key).

        Without ``read`` (a hold, whose transaction already counted the live seats and refused
        a full date), one seat needs no read; above it, one read skips the seats already
        visibly held instead of probing each. Ascending order keeps lock acquisition ordered.
        """
        if capacity <= 1 and not read:
            return list(range(capacity))
        params = {
            "tenant_id": booking.tenant_id,
            "resource_id": booking.resource_id,
            "date": date,
            "now": now,
        }
        return free_places({row.seat for row in self._db.execute(q.HELD_SEATS, params)}, capacity)

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

    def _claim(
        self, booking: Booking, seat: int, now: dt.datetime, expires_at: dt.datetime | None
    ) -> bool:
        params = {
            "tenant_id": booking.tenant_id,
            "resource_id": booking.resource_id,
            "claim_date": booking.event_date,
            "seat": seat,
            "booking_id": booking.id,
            "expires_at": expires_at,
            "now": now,
        }
        return self._db.execute(q.claim_seat(self._db.dialect), params).first() is not None

    def release_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        c = t.booking_claims.c
        stmt = delete(t.booking_claims).where(c.tenant_id == tenant_id, c.booking_id == booking_id)
        seats: int = self._db.execute(stmt).rowcount
        return seats + self._times.release(tenant_id, booking_id)

    def settle_claims(self, tenant_id: uuid.UUID, booking_id: uuid.UUID) -> int:
        c = t.booking_claims.c
        stmt = (
            update(t.booking_claims)
            .where(c.tenant_id == tenant_id, c.booking_id == booking_id)
            .values(expires_at=None)
        )
        seats: int = self._db.execute(stmt).rowcount
        return seats + self._times.settle(tenant_id, booking_id)

    def save(self, change: BookingChange) -> int:
        # the status always, as stored: the swap writes it whether or not it changes
        values = {**change.changed_fields(), "status": change.after.status.value}
        if "resource_ids" in values:  # a timed booking moved to other resources
            values["resource_ids"] = _resource_ids_row(change.after.resource_ids)
        if self._db.dialect == "postgresql":
            return self._save_in_one_statement(change, values)
        before, after = change.before, change.after
        c = t.bookings.c
        stmt = (
            update(t.bookings)
            .where(c.tenant_id == before.tenant_id, c.id == before.id, c.version == before.version)
            .values(values)
        )
        if self._db.execute(stmt).rowcount != 1:
            raise TransientStorageError("the booking changed since it was read")
        row = asdict(change.event)
        self._db.execute(q.INSERT_OUTBOX, row, row=row)
        if change.seat is SeatEffect.SETTLE:
            return self.settle_claims(after.tenant_id, after.id)
        if change.seat is SeatEffect.RELEASE:
            return self.release_claims(after.tenant_id, after.id)
        return 0

    def _save_in_one_statement(self, change: BookingChange, fields: dict[str, object]) -> int:
        """PostgreSQL: the compare-and-swap, the event and the seats as one statement."""
        event = change.event
        params = {
            **{f"new_{name}": value for name, value in fields.items()},
            "tenant_id": change.before.tenant_id,
            "id": change.before.id,
            "read_version": change.before.version,
            "event_id": event.id,
            "event_sequence": event.sequence,
            "event_type": event.type,
            "event_payload": json.dumps(event.payload),
            "event_created_at": event.created_at,
        }
        if "resource_ids" in fields:  # JSON, bound as its text
            moved = fields["resource_ids"]
            params["new_resource_ids"] = None if moved is None else json.dumps(moved)
        statement = q.pg_save_change(tuple(sorted(fields)), change.seat.value)
        result = self._db.execute(statement, params).one()
        changed, seats = result.changed, result.seats
        if not changed:
            raise TransientStorageError("the booking changed since it was read")
        return int(seats)

    def lapsed(
        self, now: dt.datetime, *, tenant_id: uuid.UUID | None, limit: int
    ) -> builtins.list[Booking]:
        c = t.bookings.c
        due = [c.status == BookingStatus.PENDING.value, c.expires_at <= _now_param(now)]
        if tenant_id is not None:
            due.insert(0, c.tenant_id == tenant_id)
        pick = select(t.bookings).where(*due).order_by(c.expires_at, c.id).limit(limit)
        if self._db.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        return self._with_lines(list(self._db.execute(pick)))

    def claim_seat(
        self,
        booking: Booking,
        *,
        capacity: int,
        now: dt.datetime,
        expires_at: dt.datetime | None,
    ) -> bool:
        seats = self._free_seats(booking, booking.event_date, capacity, now, read=True)
        return any(self._claim(booking, seat, now, expires_at) for seat in seats)

    def held_seats(
        self, tenant_id: uuid.UUID, resource_id: uuid.UUID, start: dt.date, end: dt.date
    ) -> builtins.list[HeldSeat]:
        params = {"tenant_id": tenant_id, "resource_id": resource_id, "start": start, "end": end}
        return [
            HeldSeat(row.claim_date, row.expires_at)
            for row in self._db.execute(q.SEATS_BETWEEN, params)
        ]


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
