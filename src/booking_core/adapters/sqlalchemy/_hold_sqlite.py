"""SQLite: a date hold from cached terms in one write transaction, with little Python.

SQLite has no round trips to save, so this is not one statement: it is the same re-check the
PostgreSQL statement makes (``_hold_at_once``), as a few statements inside the one write
transaction SQLite admits at a time (``BEGIN IMMEDIATE`` behind the process's writer lock). The
tenant must still be at the terms' version and active, the date open, a seat free at ``now``;
then the seat, the customer, the booking, its lines, its event and its key are written. The
seat is picked in Python from the date's live claims, which no other writer can change while
this transaction holds the write lock, and claimed under the claims table's primary key as
in the transaction.

What it saves is Python: Core statements compiled once (their SQL and how to bind their values,
:class:`_Compiled`), run as driver SQL on one connection, without the unit of work, its
repositories, the context read or the retry wrapper. Everything it cannot settle (a stale
version, a stored idempotency key, a driver error) rolls back and is settled by the ordinary
transaction, exactly as after the PostgreSQL statement.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final, cast

from sqlalchemy import Connection, Engine, Table, bindparam, exists, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from booking_core.adapters.sqlalchemy import _statements as q
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.adapters.sqlalchemy._db import asdict
from booking_core.adapters.sqlalchemy._errors import outcome_unknown_if_disconnected, translated
from booking_core.adapters.sqlalchemy._rows import _booking_row, _line_rows
from booking_core.domain.rules import free_places
from booking_core.errors import LockTimeoutError
from booking_core.ports.repositories import HoldAttempt, HoldAttemptOutcome, HoldAttemptResult


class _Compiled:
    """A Core statement compiled once for one dialect: its SQL, and its values in bind order,
    each converted by its type's bind processor (as SQLAlchemy would store it)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = cast("SQLCompiler", statement.compile(dialect=dialect, column_keys=list(keys)))
        self.sql: Final = compiled.string
        names = compiled.positiontup or []
        self._binds: Final = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            row[name] if process is None else process(row[name]) for name, process in self._binds
        )


_GATE: Final = select(
    select(t.tenants.c.version)
    .where(t.tenants.c.id == bindparam("tenant_id"), t.tenants.c.active)
    .scalar_subquery(),
    exists()
    .where(
        t.blackout_dates.c.tenant_id == bindparam("tenant_id"),
        t.blackout_dates.c.date == bindparam("date"),
    )
    .label("blackout"),
)


def _columns(table: Table, *extra: str) -> list[str]:
    """The keys an insert into ``table`` binds: every column (and ``extra`` bind names)."""
    return [column.name for column in table.c] + list(extra)


class SqliteHolds:
    """The statements of a SQLite hold, compiled for one engine, and the writer lock they
    share with the engine's units of work."""

    def __init__(self, engine: Engine, writer_lock: threading.Lock, *, lock_timeout: float) -> None:
        dialect = engine.dialect
        self._engine = engine
        self._writer_lock = writer_lock
        self._lock_timeout = lock_timeout
        self._gate = _Compiled(_GATE, dialect, ["tenant_id", "date"])
        self._live = _Compiled(q.HELD_SEATS, dialect, ["tenant_id", "resource_id", "date", "now"])
        claim = q.claim_seat("sqlite")
        self._claim = _Compiled(claim, dialect, _columns(t.booking_claims, "now"))
        customer = q.upsert_customer("sqlite")
        self._customer = _Compiled(customer, dialect, _columns(t.customers))
        self._customer_id = t.customers.c.id.type.dialect_impl(dialect).result_processor(
            dialect, None
        )
        self._booking = _Compiled(q.INSERT_BOOKING, dialect, _columns(t.bookings))
        self._lines = _Compiled(q.INSERT_BOOKING_LINES, dialect, _columns(t.booking_add_ons))
        self._event = _Compiled(q.INSERT_OUTBOX, dialect, _columns(t.outbox))
        self._key = _Compiled(t.idempotency_keys.insert(), dialect, _columns(t.idempotency_keys))

    def hold(self, attempt: HoldAttempt) -> HoldAttemptResult:
        """Write ``attempt`` in one write transaction, or say what stopped it.

        Raises:
            LockTimeoutError: the process's writer queue did not get its turn in time.
            TransientStorageError / StorageError: a driver error (rolled back).
            CommitOutcomeUnknownError: the connection broke during COMMIT.
        """
        if not self._writer_lock.acquire(timeout=self._lock_timeout):
            raise LockTimeoutError("waited too long for the SQLite write lock")
        try:
            with translated(), self._engine.connect() as connection:
                transaction = connection.begin()  # BEGIN IMMEDIATE (the engine's begin hook)
                try:
                    result = self._write(connection, attempt)
                except sa_exc.IntegrityError:
                    # a stored idempotency key (a replay): only the transaction tells
                    transaction.rollback()
                    return HoldAttemptResult(HoldAttemptOutcome.RACED)
                if result.outcome is not HoldAttemptOutcome.PLACED:
                    transaction.rollback()
                    return result
                with outcome_unknown_if_disconnected():
                    transaction.commit()
                return result
        finally:
            self._writer_lock.release()

    def _write(self, connection: Connection, attempt: HoldAttempt) -> HoldAttemptResult:
        booking, customer = attempt.booking, attempt.customer
        run = connection.exec_driver_sql
        tenant_id, date = booking.tenant_id, booking.event_date
        gate = {"tenant_id": tenant_id, "date": date}
        version, blackout = run(self._gate.sql, self._gate.values(gate)).one()
        if version != attempt.terms_version:
            return HoldAttemptResult(HoldAttemptOutcome.STALE)
        if blackout:
            return HoldAttemptResult(HoldAttemptOutcome.BLACKOUT)
        where = {**gate, "resource_id": booking.resource_id, "now": attempt.now}
        live = [seat for (seat,) in run(self._live.sql, self._live.values(where))]
        seats = free_places(live, attempt.capacity)
        if not seats:
            return HoldAttemptResult(HoldAttemptOutcome.FULL)
        stored = run(self._customer.sql, self._customer.values(asdict(customer))).one()
        placed = booking
        read, stored_id = self._customer_id, stored._mapping["id"]
        customer_id = cast("uuid.UUID", stored_id if read is None else read(stored_id))
        if customer_id != booking.customer_id:  # a returning customer keeps their id
            placed = replace(booking, customer_id=customer_id)
        run(self._booking.sql, self._booking.values(_booking_row(placed)))
        if placed.add_ons:
            run(self._lines.sql, [self._lines.values(row) for row in _line_rows(placed)])
        claim = {
            "tenant_id": tenant_id,
            "resource_id": placed.resource_id,
            "claim_date": date,
            "seat": seats[0],  # nothing live there, and no other writer until COMMIT
            "booking_id": placed.id,
            "expires_at": placed.expires_at,
            "now": attempt.now,
        }
        if run(self._claim.sql, self._claim.values(claim)).first() is None:
            return HoldAttemptResult(HoldAttemptOutcome.RACED)  # not expected: see above
        event = attempt.event.with_payload(customer_id=str(customer_id))
        run(self._event.sql, self._event.values(asdict(event)))
        if attempt.idempotency is not None:
            run(self._key.sql, self._key.values(asdict(attempt.idempotency)))
        return HoldAttemptResult(HoldAttemptOutcome.PLACED, placed)
