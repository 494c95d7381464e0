"""PostgreSQL: a whole hold as one prepared autocommit statement (one round trip).

The service decided the hold in Python from terms cached at a tenant version; this statement
re-checks, in SQL and at the moment it writes, everything that decision assumed:

* the tenant is active and its version is the one the terms were cached at (every change of
  a price, an add-on, a venue or a policy bumps it), and the date is not blacked out;
* a seat is free: the first seat of the pool without a live claim is claimed under the claims
  table's primary key, exactly as in the transaction (a lapsed claim is taken over; live claims
  past a capacity since lowered take the top seats, so the pool never holds more). A free seat
  is inserted with ``ON CONFLICT DO NOTHING``, not upserted: an upsert locks the row it meets,
  so the racers that lost a seat queued on the winner's row one commit after another (p99 over
  50 ms with 16 processes on one date); now they answer as soon as the winner commits;

and only then writes the customer (upsert), the booking, its add-on lines, its outbox event and
its idempotency key. Every write after the claim selects from the claim, so a failed check or
a lost seat writes nothing. A key already stored (a replay, or a twin request in flight) is a
unique violation that aborts the whole statement; so is anything else unexpected. Whatever the
statement cannot settle, the caller settles in the ordinary transaction.

The driver is used directly (psycopg, server-side prepared after a few runs): the SQLAlchemy
layers cost more Python time per hold than the round trip this path saves. Each statement has
four shapes (with or without add-on lines, with or without an idempotency key), each naming only
the tables it writes, and is sent compact (see :func:`_compacted`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from booking_core.domain.schedule import MAX_OCCUPIED
from booking_core.errors import CommitOutcomeUnknownError, StorageError, TransientStorageError
from booking_core.ports.repositories import HoldAttempt, HoldAttemptOutcome, HoldAttemptResult

#: The writes both statements share, each selecting from the one before: the customer (an upsert
#: from the claim), then, after each statement's own booking insert, its event, and only where
#: the hold has them its add-on lines and its idempotency key (a statement that names a table
#: pays for opening it and its indexes even when it writes no row there).
_CUSTOMER: Final = """, customer AS (
    INSERT INTO bc_customers (tenant_id, id, name, email, phone, created_at)
    SELECT %(tenant_id)s, %(provisional_customer_id)s, %(customer_name)s, %(customer_email)s,
        %(customer_phone)s, %(created_at)s
    FROM claim
    ON CONFLICT (tenant_id, email) DO UPDATE
        SET name = excluded.name, phone = coalesce(excluded.phone, bc_customers.phone)
    RETURNING id
), booking AS ("""
_EVENT: Final = """, event AS (
    INSERT INTO bc_outbox (tenant_id, id, booking_id, sequence, type, payload, created_at,
        attempts)
    SELECT %(tenant_id)s, %(event_id)s, booking.id, %(event_sequence)s, %(event_type)s,
        CAST(jsonb_set(CAST(%(event_payload)s AS jsonb), '{customer_id}',
                       to_jsonb(CAST(customer.id AS text))) AS json),
        %(created_at)s, 0
    FROM booking, customer
)"""
_LINES: Final = """, lines AS (
    INSERT INTO bc_booking_add_ons (tenant_id, booking_id, add_on_id, name, unit_price, quantity)
    SELECT %(tenant_id)s, booking.id, line.add_on_id, line.name, line.unit_price, line.quantity
    FROM booking, unnest(CAST(%(line_ids)s AS uuid[]), CAST(%(line_names)s AS text[]),
        CAST(%(line_prices)s AS bigint[]), CAST(%(line_quantities)s AS integer[]))
        AS line(add_on_id, name, unit_price, quantity)
)"""
_KEY: Final = """, idempotency AS (
    INSERT INTO bc_idempotency_keys (tenant_id, key, request_hash, booking_id, created_at,
        expires_at)
    SELECT %(tenant_id)s, %(key)s, %(request_hash)s, booking.id, %(created_at)s,
        %(key_expires_at)s
    FROM booking
)"""
#: Where each statement's optional writes go (replaced before the statement is compacted).
_WRITES: Final = "@writes@"

_STATEMENT: Final = f"""
WITH gate AS (
    SELECT NOT EXISTS (
        SELECT 1 FROM bc_blackout_dates
        WHERE tenant_id = %(tenant_id)s AND date = %(event_date)s
    ) AS open
    FROM bc_tenants
    WHERE id = %(tenant_id)s AND version = %(terms_version)s AND active
), pick AS (
    -- The lowest seat without a live claim, while fewer live claims than the capacity hold the
    -- date (however numbered, after it was lowered: then full). That is free_places' first
    -- seat: with b live claims at or past the capacity c and fewer than c in all, fewer than
    -- c - b sit below c - b, so the lowest free seat is below c - b, the range it tries.
    SELECT s.seat FROM gate, generate_series(0, %(capacity)s - 1) AS s(seat)
    WHERE gate.open AND NOT EXISTS (
        SELECT 1 FROM bc_booking_claims AS c
        WHERE c.tenant_id = %(tenant_id)s AND c.resource_id = %(resource_id)s
          AND c.claim_date = %(event_date)s AND c.seat = s.seat
          AND (c.expires_at IS NULL OR c.expires_at > %(now)s)
    ) AND (
        SELECT count(*) FROM bc_booking_claims AS c
        WHERE c.tenant_id = %(tenant_id)s AND c.resource_id = %(resource_id)s
          AND c.claim_date = %(event_date)s
          AND (c.expires_at IS NULL OR c.expires_at > %(now)s)
    ) < %(capacity)s
    ORDER BY s.seat
    LIMIT 1
), taken_over AS (
    -- a lapsed claim on the seat is taken over (its row is locked: racers re-check the expiry)
    UPDATE bc_booking_claims AS held
    SET booking_id = %(id)s, expires_at = %(expires_at)s
    FROM pick
    WHERE held.tenant_id = %(tenant_id)s AND held.resource_id = %(resource_id)s
      AND held.claim_date = %(event_date)s AND held.seat = pick.seat
      AND held.expires_at IS NOT NULL AND held.expires_at <= %(now)s
    RETURNING held.seat
), inserted AS (
    -- otherwise the seat is inserted; one that is there already (a racer's, or the lapsed row
    -- just taken over) is left alone, unlocked: racers that lose answer at once, in parallel
    INSERT INTO bc_booking_claims
        (tenant_id, resource_id, claim_date, seat, booking_id, expires_at)
    SELECT %(tenant_id)s, %(resource_id)s, %(event_date)s, pick.seat, %(id)s, %(expires_at)s
    FROM pick
    ON CONFLICT DO NOTHING
    RETURNING seat
), claim AS (
    SELECT seat FROM taken_over UNION ALL SELECT seat FROM inserted
){_CUSTOMER}
    INSERT INTO bc_bookings (tenant_id, id, package_id, customer_id, venue_id, event_date,
        status, package_price, total, commission, currency, created_at, expires_at,
        amount_paid, amount_refunded, commission_refunded, version)
    SELECT %(tenant_id)s, %(id)s, %(package_id)s, customer.id, %(venue_id)s, %(event_date)s,
        %(status)s, %(package_price)s, %(total)s, %(commission)s, %(currency)s,
        %(created_at)s, %(expires_at)s, 0, 0, 0, %(version)s
    FROM customer
    RETURNING id
){_WRITES}
SELECT (SELECT open FROM gate) AS open,
       (SELECT seat FROM pick) AS picked,
       (SELECT seat FROM claim) AS claimed,
       (SELECT id FROM customer) AS customer_id
"""  # noqa: S608 - built from the module's own constants only

#: A timed hold on one resource: the gate also refuses time off over the service interval;
#: lapsed claims in the way are ended first (the claim reads the deletion's count, so it runs
#: after it, and the exclusion constraint no longer sees them); the lane and the day seat are
#: picked from the live claims as in the transaction, and the claim is inserted under the
#: exclusion constraint (a racing claim makes it do nothing: the caller settles the race).
_TIMED_STATEMENT: Final = f"""
WITH gate AS (
    SELECT NOT EXISTS (
        SELECT 1 FROM bc_resource_time_off
        WHERE tenant_id = %(tenant_id)s AND resource_id = %(resource_id)s
          AND starts_at < %(service_end)s AND ends_at > %(service_start)s
    ) AS open
    FROM bc_tenants
    WHERE id = %(tenant_id)s AND version = %(terms_version)s AND active
), gone AS (
    DELETE FROM bc_time_claims
    WHERE tenant_id = %(tenant_id)s AND resource_id = %(resource_id)s
      AND starts_at > %(since)s AND expires_at <= %(now)s
      AND ((starts_at < %(occupied_end)s AND ends_at > %(occupied_start)s)
           OR (%(day_limited)s AND package_id = %(package_id)s AND claim_day = %(claim_day)s))
      AND EXISTS (SELECT 1 FROM gate WHERE open)
    RETURNING 1
), near AS (
    SELECT lane, day_seat,
        (starts_at < %(occupied_end)s AND ends_at > %(occupied_start)s) AS overlapping,
        (package_id = %(package_id)s AND claim_day = %(claim_day)s) AS same_day
    FROM bc_time_claims
    WHERE tenant_id = %(tenant_id)s AND resource_id = %(resource_id)s
      AND starts_at > %(since)s AND (expires_at IS NULL OR expires_at > %(now)s)
      AND ((starts_at < %(occupied_end)s AND ends_at > %(occupied_start)s)
           OR (%(day_limited)s AND package_id = %(package_id)s AND claim_day = %(claim_day)s))
), lane AS (
    SELECT s.lane FROM gate, generate_series(
        0, %(capacity)s - 1 - (SELECT CAST(count(DISTINCT lane) AS integer) FROM near
                               WHERE overlapping AND lane >= %(capacity)s)) AS s(lane)
    WHERE gate.open
      AND NOT EXISTS (SELECT 1 FROM near WHERE near.overlapping AND near.lane = s.lane)
      AND (SELECT count(DISTINCT lane) FROM near WHERE overlapping) < %(capacity)s
    ORDER BY s.lane
    LIMIT 1
), seat AS (
    SELECT s.seat FROM generate_series(
        0, %(day_limit)s - 1 - (SELECT CAST(count(DISTINCT day_seat) AS integer) FROM near
                                WHERE same_day AND day_seat >= %(day_limit)s)) AS s(seat)
    WHERE %(day_limited)s
      AND NOT EXISTS (SELECT 1 FROM near WHERE near.same_day AND near.day_seat = s.seat)
      AND (SELECT count(*) FROM near WHERE same_day) < %(day_limit)s
    ORDER BY s.seat
    LIMIT 1
), claim AS (
    INSERT INTO bc_time_claims (tenant_id, booking_id, resource_id, package_id, lane,
        starts_at, ends_at, claim_day, day_seat, expires_at)
    SELECT %(tenant_id)s, %(id)s, %(resource_id)s, %(package_id)s, lane.lane,
        %(occupied_start)s, %(occupied_end)s, %(claim_day)s, seat.seat, %(expires_at)s
    FROM (SELECT count(*) FROM gone) AS ended, lane LEFT JOIN seat ON true
    WHERE NOT %(day_limited)s OR seat.seat IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING lane
){_CUSTOMER}
    INSERT INTO bc_bookings (tenant_id, id, package_id, customer_id, venue_id, event_date,
        status, package_price, total, commission, currency, created_at, expires_at,
        amount_paid, amount_refunded, commission_refunded, version, starts_at, ends_at,
        resource_ids)
    SELECT %(tenant_id)s, %(id)s, %(package_id)s, customer.id, NULL, %(event_date)s,
        %(status)s, %(package_price)s, %(total)s, %(commission)s, %(currency)s,
        %(created_at)s, %(expires_at)s, 0, 0, 0, %(version)s, %(service_start)s,
        %(service_end)s, CAST(%(resource_ids)s AS json)
    FROM customer
    RETURNING id
){_WRITES}
SELECT (SELECT open FROM gate) AS open,
       (SELECT lane FROM lane) AS picked,
       (SELECT lane FROM claim) AS claimed,
       (SELECT id FROM customer) AS customer_id,
       %(day_limited)s AND (SELECT seat FROM seat) IS NULL AS day_full
"""  # noqa: S608 - built from the module's own constants only

#: psycopg converts a query's ``%(name)s`` placeholders with a regex on every execute unless the
#: query is at most this long (then the conversion is cached): 0.1-0.2 ms of Python per hold.
#: tests/adapters/sqlalchemy/test_hold_statement.py keeps every statement within it.
PSYCOPG_CACHED_QUERY_LENGTH: Final = 4096
_PLACEHOLDER: Final = re.compile(r"%\((\w+)\)s")


def _compacted(statement: str) -> tuple[str, dict[str, str]]:
    """The statement as sent: comments and layout dropped, placeholders renamed ``%(pN)s``.

    Written for readers, the statements run past psycopg's cached length; sent compact, they
    stay within it. Returns the compact text and the map from each readable name to its short
    one (the parameters are built under the readable names and renamed once per hold).
    """
    without_comments = re.sub(r"--[^\n]*", "", statement)
    short: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        name = short.setdefault(match[1], f"p{len(short)}")
        return f"%({name})s"

    return _PLACEHOLDER.sub(rename, " ".join(without_comments.split())), short


#: Every statement as sent, by (timed, with add-on lines, with an idempotency key).
_SENT: Final = {
    (timed, lines, key): _compacted(
        (_TIMED_STATEMENT if timed else _STATEMENT).replace(
            _WRITES, _EVENT + (_LINES if lines else "") + (_KEY if key else "")
        )
    )
    for timed in (False, True)
    for lines in (False, True)
    for key in (False, True)
}


def _renamed(parameters: Mapping[str, Any], short: Mapping[str, str]) -> dict[str, Any]:
    return {name: parameters[readable] for readable, name in short.items()}


#: Errors after which nothing was written and the ordinary transaction can settle the hold.
_SETTLE_IN_A_TRANSACTION: Final = (
    pg_errors.UniqueViolation,  # an idempotency key already stored: a replay, or its twin
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
    pg_errors.QueryCanceled,
)


def _parameters(attempt: HoldAttempt) -> dict[str, Any]:
    booking, customer, key = attempt.booking, attempt.customer, attempt.idempotency
    event = attempt.event
    lines = booking.add_ons
    claim = attempt.claim
    timed: dict[str, Any] = {}
    if claim is not None:
        timed = {
            "resource_id": claim.resource_id,
            "capacity": claim.capacity,
            "occupied_start": claim.occupied.start,
            "occupied_end": claim.occupied.end,
            # no claim in its way started earlier: bounds the index range from below
            "since": claim.occupied.start - MAX_OCCUPIED - dt.timedelta(days=1),
            "claim_day": claim.day,
            "day_limited": claim.day_limit is not None,
            "day_limit": claim.day_limit or 0,
            "service_start": booking.starts_at,
            "service_end": booking.ends_at,
            "resource_ids": json.dumps([str(each) for each in booking.resource_ids]),
        }
    return {
        "tenant_id": booking.tenant_id,
        "terms_version": attempt.terms_version,
        "event_date": booking.event_date,
        "capacity": attempt.capacity,
        "resource_id": booking.resource_id,
        "now": attempt.now,
        "id": booking.id,
        "expires_at": booking.expires_at,
        "provisional_customer_id": customer.id,
        "customer_name": customer.name,
        "customer_email": customer.email,
        "customer_phone": customer.phone,
        "created_at": booking.created_at,
        "package_id": booking.package_id,
        "venue_id": booking.venue_id,
        "status": booking.status.value,
        "package_price": booking.package_price,
        "total": booking.total,
        "commission": booking.commission,
        "currency": booking.currency,
        "version": booking.version,
        "line_ids": [line.add_on_id for line in lines],
        "line_names": [line.name for line in lines],
        "line_prices": [line.unit_price for line in lines],
        "line_quantities": [line.quantity for line in lines],
        "event_id": event.id,
        "event_sequence": event.sequence,
        "event_type": event.type,
        "event_payload": json.dumps(event.payload),
        "key": None if key is None else key.key,
        "request_hash": None if key is None else key.request_hash,
        "key_expires_at": None if key is None else key.expires_at,
        **timed,
    }


class HoldConnections:
    """The connections of the one-statement holds: autocommit, a generic plan, never rolled back.

    psycopg forgets, and deallocates, every statement it prepared on a connection at each
    ROLLBACK; these connections only ever run this one statement in autocommit, so it stays
    prepared. Each is opened like the engine's own (same URL and connect arguments) and then
    detached from its pool; a stack (the warmest first) keeps them. At most ``limit`` are open
    at once: when all are busy, :meth:`take` returns None and the hold runs in the ordinary
    transaction on the engine's pool, so the app never opens more than ``limit`` connections
    beyond its pool. A plain list and a lock: the engine's pool machinery cost a hold more than
    its statement's Python.
    """

    def __init__(self, engine: Engine, *, limit: int) -> None:
        self._engine = engine
        self._limit = limit
        self._open = 0
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> psycopg.Connection[Any] | None:
        """An idle connection, a new one while fewer than ``limit`` are open, else None."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._closed or self._open >= self._limit:
                return None
            self._open += 1
        try:
            return self._opened()
        except BaseException:
            self._forget()
            raise

    def _opened(self) -> psycopg.Connection[Any]:
        pooled = self._engine.raw_connection()
        connection: psycopg.Connection[Any] = pooled.driver_connection  # type: ignore[assignment]
        pooled.detach()  # ours now: the engine's pool forgets it
        try:
            connection.autocommit = True
            # One plan for every hold: the statement's shape never changes with its values.
            connection.execute("SET plan_cache_mode = force_generic_plan")
        except BaseException:
            connection.close()
            raise
        return connection

    def give_back(self, connection: psycopg.Connection[Any]) -> None:
        with self._lock:
            if not self._closed and not connection.closed:
                self._idle.append(connection)
                return
        self.discard(connection)

    def discard(self, connection: psycopg.Connection[Any]) -> None:
        """Close a connection that cannot serve again (broken, or the stack is closed)."""
        connection.close()
        self._forget()

    def _forget(self) -> None:
        with self._lock:
            self._open -= 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for connection in idle:
            connection.close()


def hold_at_once(connections: HoldConnections, attempt: HoldAttempt) -> HoldAttemptResult:
    """Run the statement in autocommit on one of ``connections``; see the module docstring.

    Raises:
        CommitOutcomeUnknownError: the connection broke once the statement was sent: it may
            have committed (the booking id, chosen before, tells).
        TransientStorageError: no connection could be opened (nothing was sent).
        StorageError: any other database error (nothing was written).
    """
    shape = (
        attempt.claim is not None,
        bool(attempt.booking.add_ons),
        attempt.idempotency is not None,
    )
    statement, short = _SENT[shape]
    parameters = _renamed(_parameters(attempt), short)
    try:
        connection = connections.take()
    except (psycopg.Error, sa_exc.DBAPIError) as error:
        raise TransientStorageError("no connection for a hold", details=str(error)) from error
    if connection is None:  # every one busy: the pooled transaction takes this hold
        return HoldAttemptResult(HoldAttemptOutcome.RACED)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, parameters, prepare=True)
            row = cursor.fetchone()
    except _SETTLE_IN_A_TRANSACTION:
        connections.give_back(connection)
        return HoldAttemptResult(HoldAttemptOutcome.RACED)
    except psycopg.OperationalError as error:
        if connection.broken or connection.closed:
            connections.discard(connection)
            raise CommitOutcomeUnknownError(
                "connection lost during a hold's statement", details=str(error)
            ) from error
        connections.give_back(connection)
        raise TransientStorageError("hold statement failed", details=str(error)) from error
    except psycopg.Error as error:
        connections.give_back(connection)
        raise StorageError(f"database error: {type(error).__name__}", details=str(error)) from error
    except BaseException:  # interrupted mid-statement: its state is unknown, never reuse it
        connections.discard(connection)
        raise
    connections.give_back(connection)
    return _result(attempt, row)


def _result(attempt: HoldAttempt, row: Any) -> HoldAttemptResult:
    open_, picked, claimed, customer_id, *day_full = row
    if open_ is None:
        return HoldAttemptResult(HoldAttemptOutcome.STALE)
    if not open_:
        return HoldAttemptResult(HoldAttemptOutcome.BLACKOUT)
    if picked is None or (day_full and day_full[0]):
        return HoldAttemptResult(HoldAttemptOutcome.FULL)
    if claimed is None:
        # The seat (lane) picked was claimed by a concurrent hold first. With one seat the date
        # (time) is full; with more, another may still be free: the transaction tries each.
        # A timed claim with a day limit may have lost a day seat instead: the same rule.
        capacity = attempt.capacity if attempt.claim is None else attempt.claim.capacity
        limited = attempt.claim is not None and attempt.claim.day_limit is not None
        full = capacity == 1 and not limited
        return HoldAttemptResult(HoldAttemptOutcome.FULL if full else HoldAttemptOutcome.RACED)
    placed = attempt.booking
    if customer_id != placed.customer_id:  # a returning customer keeps their id
        placed = replace(placed, customer_id=customer_id)
    return HoldAttemptResult(HoldAttemptOutcome.PLACED, placed)
