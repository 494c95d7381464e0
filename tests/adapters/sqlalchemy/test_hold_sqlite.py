"""The SQLite hold from cached terms (``_hold_sqlite``) stores exactly what the transaction does.

Its statements are Core statements compiled once and run as driver SQL, their values converted
by the columns' own processors: the rows must be the transaction's to the byte (SQLite compares
instants as text), and what a stale cache assumed must never be written.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from booking_core import BookingApp, BookingPolicy, CustomerDetails, connect
from booking_core.adapters.cache import MemoryCache
from booking_core.adapters.sqlalchemy import _hold_sqlite
from booking_core.errors import BookingConflictError, DateUnavailableError
from booking_core.ports.repositories import HoldAttemptOutcome
from booking_core.testing import ManualClock
from tests.services.conftest import make_shop

START = dt.datetime(2030, 6, 15, 9, 0, 0, 250_000, tzinfo=dt.UTC)
DAY = dt.date(2030, 8, 20)
ANN = CustomerDetails("Ann Example", "ann@example.com", "+33 6 12 34 56 78")
#: Rows a hold writes, by table, and the column that ties them to the booking.
TABLES = {
    "bc_bookings": "id",
    "bc_booking_claims": "booking_id",
    "bc_booking_add_ons": "booking_id",
    "bc_outbox": "booking_id",
    "bc_idempotency_keys": "booking_id",
}


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[BookingApp, BookingApp, ManualClock, Path]]:
    """A cached app (the short path) and an uncached one (the transaction) on one file."""
    path = tmp_path / "holds.db"
    clock = ManualClock(START)
    connect(f"sqlite:///{path}", create_schema=True).close()
    with (
        connect(f"sqlite:///{path}", clock=clock, cache=MemoryCache()) as cached,
        connect(f"sqlite:///{path}", clock=clock) as plain,
    ):
        yield cached, plain, clock, path


def _shop(app: BookingApp, capacity: int = 2) -> tuple[Any, Any, Any]:
    shop = make_shop(app, policy=BookingPolicy(capacity_per_date=capacity))
    return shop.tenant, shop.package, shop.album  # the album is offered with the package


def _stored(path: Path, table: str, column: str, value: object) -> list[tuple[Any, ...]]:
    """The rows of ``table`` whose ``column`` is ``value``, as SQLite stores them:
    (column, typeof, value) per column."""
    with sqlite3.connect(path) as db:
        names = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        typed = ", ".join(f"typeof({n}), {n}" for n in names)
        rows = db.execute(f"SELECT {typed} FROM {table} WHERE {column} = ?", (value,)).fetchall()
    return [tuple(zip(names, row[0::2], row[1::2], strict=True)) for row in rows]


def _raw_rows(path: Path, booking_id: uuid.UUID) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the hold wrote, as SQLite stores it."""
    return {table: _stored(path, table, column, booking_id.hex) for table, column in TABLES.items()}


def _customer_row(path: Path, email: str) -> tuple[Any, ...]:
    """A customer's stored columns (typeof and value), but its id and email."""
    (row,) = _stored(path, "bc_customers", "email", email)
    return tuple(c for c in row if c[0] not in {"id", "email"})


def _comparable(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows without what differs between two holds by design (ids, key, date)."""
    varying = {"id", "booking_id", "customer_id", "key", "request_hash", "event_date", "claim_date"}
    return {
        table: [tuple(_fixed(c) for c in row if c[0] not in varying) for row in rows]
        for table, rows in rows.items()
    }


def _fixed(column: tuple[Any, ...]) -> tuple[Any, ...]:
    """An event's payload as its stored type and keys, with what does not vary by design."""
    name, kind, value = column
    if name != "payload":
        return column
    payload = json.loads(value)
    return name, kind, sorted(payload), payload["status"], payload["total"], payload["currency"]


def test_the_short_path_stores_what_the_transaction_stores(
    pair: tuple[BookingApp, BookingApp, ManualClock, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hold with an add-on, a phone and a key, once through the cached app's short path and
    once through the uncached app's transaction: every row, column type and stored text is
    the same, and each app reads back the booking it returned."""
    cached, plain, _, path = pair
    tenant, package, extra = _shop(cached)
    taken: list[HoldAttemptOutcome] = []
    original = _hold_sqlite.SqliteHolds.hold

    def spy(self: _hold_sqlite.SqliteHolds, attempt: Any) -> Any:
        result = original(self, attempt)
        taken.append(result.outcome)
        return result

    monkeypatch.setattr(_hold_sqlite.SqliteHolds, "hold", spy)
    options: dict[str, Any] = {"add_ons": {extra.id: 2}, "customer": ANN}
    cached.bookings.hold(tenant.id, package_id=package.id, date=DAY, **options)  # warms terms
    short = cached.bookings.hold(
        tenant.id,
        package_id=package.id,
        date=DAY + dt.timedelta(days=1),
        idempotency_key="short-1",
        **options,
    )
    assert taken == [HoldAttemptOutcome.PLACED, HoldAttemptOutcome.PLACED]
    long = plain.bookings.hold(
        tenant.id,
        package_id=package.id,
        date=DAY + dt.timedelta(days=2),
        idempotency_key="long-1",
        **options,
    )
    assert len(taken) == 2  # the uncached app never takes the short path
    assert cached.bookings.get(tenant.id, short.id) == short
    assert plain.bookings.get(tenant.id, long.id) == long
    assert short.customer_id == long.customer_id  # the returning customer keeps their id
    short_rows, long_rows = _raw_rows(path, short.id), _raw_rows(path, long.id)
    assert all(short_rows[table] for table in TABLES), short_rows
    assert _comparable(short_rows) == _comparable(long_rows)
    with cached.uow(read_only=True) as uow:
        events = uow.outbox.for_booking(tenant.id, short.id)
    assert [(e.type, e.payload["customer_id"]) for e in events] == [
        ("booking.held", str(short.customer_id))
    ]
    # new customers (no phone) created by each path: the same stored columns
    newcomers = []
    for app, email in ((cached, "bea@example.com"), (plain, "cy@example.com")):
        app.bookings.hold(
            tenant.id,
            package_id=package.id,
            date=DAY + dt.timedelta(days=5 + len(newcomers)),
            customer=CustomerDetails("New One", email),
        )
        newcomers.append(_customer_row(path, email))
    assert newcomers[0] == newcomers[1]
    assert ("phone", "null", None) in newcomers[0]
    replay = cached.bookings.hold(
        tenant.id,
        package_id=package.id,
        date=DAY + dt.timedelta(days=1),
        idempotency_key="short-1",
        **options,
    )
    assert replay == short  # the stored key: the short path defers, the transaction replays


def test_stale_terms_are_never_written_and_a_full_date_is_refused(
    pair: tuple[BookingApp, BookingApp, ManualClock, Path],
) -> None:
    """A price, a blackout and a capacity changed by the other app after the terms were
    cached: the short path writes none of what it assumed (the transaction prices, refuses or
    admits the hold from fresh data), and a lapsed hold's seat is taken over."""
    cached, plain, clock, _ = pair
    tenant, package, _ = _shop(cached, capacity=1)
    cached.bookings.hold(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    plain.catalog.update_package(tenant.id, package.id, base_price=150_000)
    priced = cached.bookings.hold(
        tenant.id, package_id=package.id, date=DAY + dt.timedelta(days=1), customer=ANN
    )
    assert priced.total == 150_000
    blocked = DAY + dt.timedelta(days=2)
    plain.availability.add_blackout(tenant.id, blocked, reason="closed")
    with pytest.raises(DateUnavailableError):
        cached.bookings.hold(tenant.id, package_id=package.id, date=blocked, customer=ANN)
    with pytest.raises(BookingConflictError):
        cached.bookings.hold(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    clock.advance(dt.timedelta(minutes=16))  # the first hold lapses; its claim row stays
    taker = cached.bookings.hold(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    assert [b.id for b in cached.bookings.list_for_dates(tenant.id, DAY, DAY)][-1] == taker.id
    with pytest.raises(BookingConflictError):
        cached.bookings.hold(tenant.id, package_id=package.id, date=DAY, customer=ANN)
