"""Statements of the hot paths, built once at import and bound per call.

Building a statement per call (``insert().values(...)``, ``.excluded``) costs more Python time than
the round trip it sends; these are compiled once per dialect and cached by SQLAlchemy.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Uuid,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    extract,
    false,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

from booking_core.adapters.sqlalchemy import tables as t
from booking_core.adapters.sqlalchemy._types import UTCDateTime
from booking_core.domain.lifecycle import MUTABLE_FIELDS

_claims = t.booking_claims.c
_now = bindparam("now", type_=UTCDateTime())
_live = or_(_claims.expires_at.is_(None), _claims.expires_at > _now)
_of_date = and_(
    _claims.tenant_id == bindparam("tenant_id", type_=Uuid()),
    _claims.resource_id == bindparam("resource_id", type_=Uuid()),
    _claims.claim_date == bindparam("date", type_=Date()),
)

#: Tenant + package + venue + blackout flag + live seats of a date, in one round trip.
HOLD_CONTEXT = (
    select(
        t.tenants,
        *[c.label(f"p_{c.name}") for c in t.packages.c],
        *[c.label(f"v_{c.name}") for c in t.venues.c],
        exists()
        .where(
            t.blackout_dates.c.tenant_id == t.tenants.c.id,
            t.blackout_dates.c.date == bindparam("date", type_=Date()),
        )
        .label("blackout"),
        select(func.count()).where(_of_date, _live).scalar_subquery().label("held"),
    )
    .select_from(
        t.tenants.outerjoin(
            t.packages,
            and_(
                t.packages.c.tenant_id == t.tenants.c.id,
                t.packages.c.id == bindparam("package_id", type_=Uuid()),
            ),
        ).outerjoin(
            t.venues,
            and_(
                t.venues.c.tenant_id == t.tenants.c.id,
                t.venues.c.id == bindparam("venue_id", type_=Uuid()),
            ),
        )
    )
    .where(t.tenants.c.id == bindparam("tenant_id", type_=Uuid()))
)

#: Claimed seats of a resource in a date range (the primary key serves it as a range scan).
SEATS_BETWEEN = (
    select(_claims.claim_date, _claims.expires_at)
    .where(
        _claims.tenant_id == bindparam("tenant_id", type_=Uuid()),
        _claims.resource_id == bindparam("resource_id", type_=Uuid()),
        _claims.claim_date.between(
            bindparam("start", type_=Date()), bindparam("end", type_=Date())
        ),
    )
    .order_by(_claims.claim_date)
)

#: Seats of a date held at ``now``.
HELD_SEATS = select(_claims.seat).where(_of_date, _live)

_lines = t.booking_add_ons.c
#: One booking with its add-on lines (a row per line, ordered; one row without any).
BOOKING_WITH_LINES = (
    select(
        t.bookings,
        _lines.add_on_id.label("line_add_on_id"),
        _lines.name.label("line_name"),
        _lines.unit_price.label("line_unit_price"),
        _lines.quantity.label("line_quantity"),
    )
    .select_from(
        t.bookings.outerjoin(
            t.booking_add_ons,
            and_(
                _lines.tenant_id == t.bookings.c.tenant_id,
                _lines.booking_id == t.bookings.c.id,
            ),
        )
    )
    .where(
        t.bookings.c.tenant_id == bindparam("tenant_id", type_=Uuid()),
        t.bookings.c.id == bindparam("id", type_=Uuid()),
    )
    .order_by(_lines.name, _lines.add_on_id)
)
#: The same, the booking's row locked (PostgreSQL: the lines' side of the join cannot be).
PG_BOOKING_FOR_UPDATE = BOOKING_WITH_LINES.with_for_update(of=t.bookings)

INSERT_BOOKING = t.bookings.insert()
INSERT_BOOKING_LINES = t.booking_add_ons.insert()
INSERT_OUTBOX = t.outbox.insert()


def _dialect_insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


@cache
def upsert_customer(dialect: str) -> Any:
    """Insert a customer, or update name (and phone, when given) of the tenant's same email."""
    stmt = _dialect_insert(dialect)(t.customers)
    return stmt.on_conflict_do_update(
        index_elements=[t.customers.c.tenant_id, t.customers.c.email],
        set_={
            "name": stmt.excluded.name,
            "phone": func.coalesce(stmt.excluded.phone, t.customers.c.phone),
        },
    ).returning(*t.customers.c)


@cache
def claim_seat(dialect: str) -> Any:
    """Claim a seat: insert it, or take it over from a hold that lapsed before ``now``."""
    stmt = _dialect_insert(dialect)(t.booking_claims)
    return stmt.on_conflict_do_update(
        index_elements=[_claims.tenant_id, _claims.resource_id, _claims.claim_date, _claims.seat],
        set_={"booking_id": stmt.excluded.booking_id, "expires_at": stmt.excluded.expires_at},
        where=and_(_claims.expires_at.is_not(None), _claims.expires_at <= _now),
    ).returning(_claims.seat)


@cache
def claim_idempotency_key(dialect: str) -> Any:
    """Store a key, or take it over from an expired record; returns a row only when stored."""
    keys = t.idempotency_keys.c
    stmt = _dialect_insert(dialect)(t.idempotency_keys)
    return stmt.on_conflict_do_update(
        index_elements=[keys.tenant_id, keys.key],
        set_={
            "request_hash": stmt.excluded.request_hash,
            "booking_id": stmt.excluded.booking_id,
            "created_at": stmt.excluded.created_at,
            "expires_at": stmt.excluded.expires_at,
        },
        where=keys.expires_at <= _now,
    ).returning(keys.key)


_PG_PLACE_HOLD_CTES = """
WITH customer AS (
    INSERT INTO bc_customers (tenant_id, id, name, email, phone, created_at)
    VALUES (:tenant_id, :provisional_customer_id, :customer_name, :customer_email,
            :customer_phone, :created_at)
    ON CONFLICT (tenant_id, email) DO UPDATE
        SET name = excluded.name, phone = coalesce(excluded.phone, bc_customers.phone)
    RETURNING id
), booking AS (
    INSERT INTO bc_bookings (tenant_id, id, package_id, customer_id, venue_id, event_date,
        status, package_price, total, commission, currency, created_at, expires_at,
        confirmed_at, canceled_at, fulfilled_at, payment_ref, cancel_reason,
        amount_paid, amount_refunded, commission_refunded, version)
    SELECT :tenant_id, :id, :package_id, customer.id, :venue_id, :event_date,
        :status, :package_price, :total, :commission, :currency, :created_at, :expires_at,
        :confirmed_at, :canceled_at, :fulfilled_at, :payment_ref, :cancel_reason,
        :amount_paid, :amount_refunded, :commission_refunded, :version
    FROM customer
    RETURNING tenant_id, id, event_date, expires_at
), claim AS (
    INSERT INTO bc_booking_claims AS held
        (tenant_id, resource_id, claim_date, seat, booking_id, expires_at)
    SELECT booking.tenant_id, :resource_id, booking.event_date, :seat, booking.id,
        booking.expires_at
    FROM booking
    ON CONFLICT (tenant_id, resource_id, claim_date, seat) DO UPDATE
        SET booking_id = excluded.booking_id, expires_at = excluded.expires_at
        WHERE held.expires_at IS NOT NULL AND held.expires_at <= :now
    RETURNING seat
)"""

#: PostgreSQL: customer upsert, booking insert and seat claim as one statement. The claim
#: returns no row when the seat is live; the caller then rolls the transaction back.
PG_PLACE_HOLD = text(
    _PG_PLACE_HOLD_CTES  # noqa: S608 - constant SQL; every value is a bound parameter
    + """
SELECT customer.id AS customer_id, (SELECT seat FROM claim) AS seat FROM customer
"""
)

#: The same, also writing the booking's first outbox event (its payload gets the customer id).
PG_PLACE_HOLD_WITH_EVENT = text(
    _PG_PLACE_HOLD_CTES  # noqa: S608 - constant SQL; every value is a bound parameter
    + """, event AS (
    INSERT INTO bc_outbox (tenant_id, id, booking_id, sequence, type, payload, created_at,
        attempts)
    SELECT booking.tenant_id, :event_id, booking.id, :event_sequence, :event_type,
        CAST(jsonb_set(CAST(:event_payload AS jsonb), '{customer_id}',
                       to_jsonb(CAST(customer.id AS text))) AS json),
        :created_at, 0
    FROM booking, customer
)
SELECT customer.id AS customer_id, (SELECT seat FROM claim) AS seat FROM customer
"""
)


#: What a change's seat effect does to the booking's claims (seats of dates, and time), inside
#: the statement that stores it.
_SEAT_STATEMENTS = {
    "settle": "UPDATE bc_booking_claims SET expires_at = NULL",
    "release": "DELETE FROM bc_booking_claims",
}
_TIME_STATEMENTS = {
    "settle": "UPDATE bc_time_claims SET expires_at = NULL",
    "release": "DELETE FROM bc_time_claims",
}
#: Booking columns of type JSON: a text statement binds them as JSON text.
_JSON_FIELDS = frozenset({"resource_ids"})


def _assignment(name: str) -> str:
    value = f"CAST(:new_{name} AS json)" if name in _JSON_FIELDS else f":new_{name}"
    return f"{name} = {value}"


@cache
def pg_save_change(fields: tuple[str, ...], seat: str) -> Any:
    """PostgreSQL: a booking change stored in one statement: the compare-and-swap on the version
    it was decided from, its outbox event and (settle/release) its claims, each after the swap.

    ``fields`` are the columns the change writes (trusted names of ``MUTABLE_FIELDS``; a JSON
    one, ``resource_ids``, bound as JSON text); the statement returns whether the swap happened
    and how many claims (seats and time claims together) the effect touched.
    """
    if not set(fields) <= MUTABLE_FIELDS:
        raise ValueError(f"not a field a change writes: {sorted(set(fields) - MUTABLE_FIELDS)}")
    assignments = ", ".join(_assignment(name) for name in fields)
    seats, times = _SEAT_STATEMENTS.get(seat), _TIME_STATEMENTS.get(seat)
    seat_cte = ""
    counted = "0"
    if seats is not None and times is not None:  # constants of the maps, after the swap only
        seat_cte = (
            f", seats AS ({seats} WHERE tenant_id = :tenant_id AND booking_id = :id"  # noqa: S608
            " AND EXISTS (SELECT 1 FROM changed) RETURNING 1)"
            f", times AS ({times} WHERE tenant_id = :tenant_id AND booking_id = :id"
            " AND EXISTS (SELECT 1 FROM changed) RETURNING 1)"
        )
        counted = "(SELECT count(*) FROM seats) + (SELECT count(*) FROM times)"
    return text(
        f"""WITH changed AS (
    UPDATE bc_bookings SET {assignments}
    WHERE tenant_id = :tenant_id AND id = :id AND version = :read_version
    RETURNING id
), event AS (
    INSERT INTO bc_outbox (tenant_id, id, booking_id, sequence, type, payload, created_at,
        attempts)
    SELECT :tenant_id, :event_id, changed.id, :event_sequence, :event_type,
        CAST(:event_payload AS json), :event_created_at, 0
    FROM changed
){seat_cte}
SELECT (SELECT count(*) FROM changed) AS changed, {counted} AS seats"""  # noqa: S608 - names are MUTABLE_FIELDS
    )


# --- timed bookings: claims of a resource's time ------------------------------------------------

_times = t.time_claims.c
_of_resource = and_(
    _times.tenant_id == bindparam("tenant_id", type_=Uuid()),
    _times.resource_id == bindparam("resource_id", type_=Uuid()),
    # no claim in the way started before ``since`` (its start minus the longest claim): the
    # index range on (tenant, resource, starts_at) is bounded below, not the resource's history
    _times.starts_at > bindparam("since", type_=UTCDateTime()),
)
#: The claim's occupied interval ``[starts_at, ends_at)`` overlaps the row's.
_overlapping = and_(
    _times.starts_at < bindparam("ends_at", type_=UTCDateTime()),
    _times.ends_at > bindparam("starts_at", type_=UTCDateTime()),
)
#: The row counts towards the package's day limit of the claim's local day.
_same_day = and_(
    _times.package_id == bindparam("package_id", type_=Uuid()),
    _times.claim_day == bindparam("claim_day", type_=Date()),
)
_time_live = or_(_times.expires_at.is_(None), _times.expires_at > _now)


@cache
def end_lapsed_time(day_limited: bool) -> Any:
    """Delete the resource's claims lapsed at ``now`` that are in the way of a new claim:
    overlapping it, or (``day_limited``) holding a day seat of its package and local day."""
    in_the_way = or_(_overlapping, _same_day) if day_limited else _overlapping
    return delete(t.time_claims).where(_of_resource, _times.expires_at <= _now, in_the_way)


@cache
def time_in_the_way(day_limited: bool) -> Any:
    """The resource's live claims in the way of a new claim: their lanes (when they overlap it)
    and their day seats (when they count towards its package's day limit)."""
    in_the_way = or_(_overlapping, _same_day) if day_limited else _overlapping
    return select(
        _times.lane,
        _times.day_seat,
        _overlapping.label("overlapping"),
        (_same_day if day_limited else false()).label("same_day"),
    ).where(_of_resource, _time_live, in_the_way)


@cache
def insert_time_claim(dialect: str) -> Any:
    """Insert a claim, or nothing when any key or constraint refuses it; returns its lane."""
    stmt = _dialect_insert(dialect)(t.time_claims)
    return stmt.on_conflict_do_nothing().returning(_times.lane)


#: PostgreSQL: end the lapsed claims in the way, pick the lowest free lane (and day seat) from
#: the live ones and insert the claim there, in one statement. A claim that commits first on
#: that lane (or seat) makes the insert do nothing (the exclusion constraint or the unique day
#: seat, waited on while uncommitted); the caller then runs it again, on a fresh snapshot.
#: Live claims on lanes (seats) past a capacity (limit) since lowered take the top ones, as for
#: dates, so racing claims meet on one lane instead of overbooking.
PG_CLAIM_TIME = text(
    """
WITH gone AS (
    -- lapsed claims in the way end first: the insert reads this count, so it runs after
    DELETE FROM bc_time_claims
    WHERE tenant_id = :tenant_id AND resource_id = :resource_id AND starts_at > :since
      AND expires_at <= :now
      AND ((starts_at < :ends_at AND ends_at > :starts_at)
           OR (:day_limit IS NOT NULL AND package_id = :package_id
               AND claim_day = :claim_day))
    RETURNING 1
), near AS (
    SELECT lane, day_seat,
        (starts_at < :ends_at AND ends_at > :starts_at) AS overlapping,
        (package_id = :package_id AND claim_day = :claim_day) AS same_day
    FROM bc_time_claims
    WHERE tenant_id = :tenant_id AND resource_id = :resource_id AND starts_at > :since
      AND (expires_at IS NULL OR expires_at > :now)
      AND ((starts_at < :ends_at AND ends_at > :starts_at)
           OR (:day_limit IS NOT NULL AND package_id = :package_id
               AND claim_day = :claim_day))
), lane AS (
    SELECT s.lane FROM generate_series(
        0, :capacity - 1 - (SELECT CAST(count(DISTINCT lane) AS integer) FROM near
                            WHERE overlapping AND lane >= :capacity)) AS s(lane)
    WHERE NOT EXISTS (SELECT 1 FROM near WHERE near.overlapping AND near.lane = s.lane)
      AND (SELECT count(DISTINCT lane) FROM near WHERE overlapping) < :capacity
    ORDER BY s.lane
    LIMIT 1
), seat AS (
    SELECT s.seat FROM generate_series(
        0, :day_limit - 1 - (SELECT CAST(count(DISTINCT day_seat) AS integer) FROM near
                             WHERE same_day AND day_seat >= :day_limit)) AS s(seat)
    WHERE NOT EXISTS (SELECT 1 FROM near WHERE near.same_day AND near.day_seat = s.seat)
      AND (SELECT count(*) FROM near WHERE same_day) < :day_limit
    ORDER BY s.seat
    LIMIT 1
), claim AS (
    INSERT INTO bc_time_claims (tenant_id, booking_id, resource_id, package_id, lane,
        starts_at, ends_at, claim_day, day_seat, expires_at)
    SELECT :tenant_id, :booking_id, :resource_id, :package_id, lane.lane,
        :starts_at, :ends_at, :claim_day, seat.seat, :expires_at
    FROM (SELECT count(*) FROM gone) AS ended, lane LEFT JOIN seat ON true
    WHERE :day_limit IS NULL OR seat.seat IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING lane
)
SELECT (SELECT lane FROM lane) AS free_lane, (SELECT seat FROM seat) AS free_seat,
       (SELECT lane FROM claim) AS claimed
"""
).bindparams(
    bindparam("tenant_id", type_=Uuid()),
    bindparam("booking_id", type_=Uuid()),
    bindparam("resource_id", type_=Uuid()),
    bindparam("package_id", type_=Uuid()),
    bindparam("starts_at", type_=UTCDateTime()),
    bindparam("ends_at", type_=UTCDateTime()),
    bindparam("claim_day", type_=Date()),
    bindparam("capacity", type_=Integer()),
    bindparam("day_limit", type_=Integer()),
    bindparam("now", type_=UTCDateTime()),
    bindparam("expires_at", type_=UTCDateTime()),
    bindparam("since", type_=UTCDateTime()),
)

#: Claims of any of ``resource_ids`` whose occupied interval overlaps the window (live or
#: not); ``since`` (the window's start less the longest occupied interval) bounds the index
#: range from below.
_IN_REACH = (
    _times.tenant_id == bindparam("tenant_id", type_=Uuid()),
    _times.resource_id.in_(bindparam("resource_ids", expanding=True, type_=Uuid())),
    _times.starts_at > bindparam("since", type_=UTCDateTime()),
    _times.starts_at < bindparam("window_end", type_=UTCDateTime()),
    _times.ends_at > bindparam("window_start", type_=UTCDateTime()),
)

HELD_TIME = (
    # the columns HeldTime is built from, in its order (unpacked, not looked up by name)
    select(
        _times.resource_id,
        _times.booking_id,
        _times.package_id,
        _times.lane,
        _times.starts_at,
        _times.ends_at,
        _times.claim_day,
        _times.expires_at,
    )
    .where(*_IN_REACH)
    .order_by(_times.resource_id, _times.starts_at, _times.lane)
)


def _epoch_micros(column: Any) -> Any:
    """PostgreSQL: an instant as exact whole microseconds since the Unix epoch (EXTRACT gives
    a numeric, so nothing is rounded), read by the driver as a plain integer."""
    return cast(extract("epoch", column) * 1_000_000, BigInteger)


#: PostgreSQL: the same claims as ClaimSpan fields, then the resource's position in the
#: ``resource_ids`` array (1-based; what the slot search reads by the thousand: integers
#: instead of three aware datetimes and a uuid per claim).
_RESOURCE_ARRAY = bindparam("resource_array", type_=postgresql.ARRAY(Uuid()))
PG_CLAIM_SPANS = (
    select(
        _epoch_micros(_times.starts_at),
        _epoch_micros(_times.ends_at),
        _times.lane,
        _times.claim_day,
        _times.package_id,
        _epoch_micros(_times.expires_at),
        func.array_position(_RESOURCE_ARRAY, _times.resource_id),
    )
    .where(
        _times.tenant_id == bindparam("tenant_id", type_=Uuid()),
        _times.resource_id == func.any(_RESOURCE_ARRAY),
        _times.starts_at > bindparam("since", type_=UTCDateTime()),
        _times.starts_at < bindparam("window_end", type_=UTCDateTime()),
        _times.ends_at > bindparam("window_start", type_=UTCDateTime()),
    )
    .order_by(_times.resource_id, _times.starts_at, _times.lane)
)


def _insert_hold_statement() -> Any:
    """PostgreSQL: the customer upsert, a (timed) booking's insert and its first outbox event
    (its payload gets the stored customer's id) as one statement; claims nothing."""
    columns = [column.name for column in t.bookings.c]
    values = [
        "customer.id"
        if name == "customer_id"
        else f"CAST(:{name} AS json)"
        if name in _JSON_FIELDS
        else f":{name}"
        for name in columns
    ]
    return text(
        f"""WITH customer AS (
    INSERT INTO bc_customers (tenant_id, id, name, email, phone, created_at)
    VALUES (:tenant_id, :provisional_customer_id, :customer_name, :customer_email,
            :customer_phone, :customer_created_at)
    ON CONFLICT (tenant_id, email) DO UPDATE
        SET name = excluded.name, phone = coalesce(excluded.phone, bc_customers.phone)
    RETURNING id
), booking AS (
    INSERT INTO bc_bookings ({", ".join(columns)})
    SELECT {", ".join(values)}
    FROM customer
    RETURNING tenant_id, id
), event AS (
    INSERT INTO bc_outbox (tenant_id, id, booking_id, sequence, type, payload, created_at,
        attempts)
    SELECT booking.tenant_id, :event_id, booking.id, :event_sequence, :event_type,
        CAST(jsonb_set(CAST(:event_payload AS jsonb), '{{customer_id}}',
                       to_jsonb(CAST(customer.id AS text))) AS json),
        :event_created_at, 0
    FROM booking, customer
)
SELECT customer.id AS customer_id FROM customer"""  # noqa: S608 - names are the table's columns
    ).bindparams(
        *(
            bindparam(name, type_=UTCDateTime())
            for name in ("created_at", "expires_at", "starts_at", "ends_at")
        ),
        bindparam("customer_created_at", type_=UTCDateTime()),
        bindparam("event_created_at", type_=UTCDateTime()),
    )


PG_INSERT_HOLD = _insert_hold_statement()
