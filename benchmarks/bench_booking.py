"""Booking benchmarks on PostgreSQL and SQLite (issue 3, part 6).

    .venv/bin/python benchmarks/bench_booking.py [--quick] [--profile] [--only BACKEND] [--cache]

Per backend, in one run:

1. Hold throughput (sequential holds on distinct dates, one transaction each) against a raw
   single-row INSERT + COMMIT through the same driver, interleaved in rounds; plus the
   statements and wire round trips of one hold.
2. 32 threads released by a barrier all holding the same date: winners per round and p50/p99
   latency of every attempt.
3. ``availability.unavailable_dates`` for a 31-day month with 0, 1k and 100k bookings in the
   table: median time and statements per call.

PostgreSQL comes from ``BOOKING_CORE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); the run creates its own scratch
databases there and drops them at the end. SQLite runs on temporary files.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy
from _common import (
    count_statements,
    driver_time,
    fmt_ms,
    fmt_rate,
    interleaved_rounds,
    median,
    percentile,
    print_table,
    timed_calls,
)
from sqlalchemy.engine import make_url

from booking_core.adapters.sqlalchemy import tables as t
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import BookingPolicy, CustomerDetails
from booking_core.errors import BookingConflictError
from booking_core.testing import ManualClock

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: The benchmark's "now": fixed, so holds never lapse while it runs.
START = dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.UTC)
#: The queried month of part 3 (inside the default 730-day horizon, after "today").
MONTH_START = dt.date(2030, 3, 1)
MONTH_END = dt.date(2030, 3, 31)
HORIZON_DAYS = 3650
#: Event dates of the queried tenant's own bookings inside the queried month.
MONTH_HANDFUL = (2, 5, 9, 13, 20, 27)


@dataclass(frozen=True)
class Sizes:
    rounds: int
    ops_per_round: int
    threads: int
    contention_rounds: int
    table_sizes: tuple[int, ...]
    query_rounds: int
    queries_per_round: int


FULL = Sizes(
    rounds=7,
    ops_per_round=150,
    threads=32,
    contention_rounds=20,
    table_sizes=(0, 1_000, 100_000),
    query_rounds=7,
    queries_per_round=40,
)
QUICK = Sizes(
    rounds=3,
    ops_per_round=20,
    threads=32,
    contention_rounds=3,
    table_sizes=(0, 200, 2_000),
    query_rounds=3,
    queries_per_round=10,
)


# --- backends --------------------------------------------------------------------------------


class Backend:
    """Scratch databases, the raw-driver baseline and wire tracing for one database."""

    name: str

    def new_database(self, label: str) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        raise NotImplementedError

    def raw_insert(self, url: str) -> tuple[Callable[[], None], Callable[[], None]]:
        """(one INSERT+COMMIT through the bare driver, close)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def wire(self, app: BookingApp) -> Iterator[list[str]]:
        """Round trips the (single) pooled connection of ``app`` makes inside the block."""
        raise NotImplementedError
        yield []  # pragma: no cover

    def describe(self) -> str:
        raise NotImplementedError

    def analyze(self, app: BookingApp) -> None:
        """Refresh planner statistics after a bulk load, as autovacuum would."""

    def cleanup(self) -> None:
        raise NotImplementedError


RAW_TABLE_DDL = (
    "CREATE TABLE bench_raw_inserts ("
    " tenant_id {uuid} NOT NULL, id {uuid} NOT NULL, event_date DATE NOT NULL,"
    " status VARCHAR(16) NOT NULL, total BIGINT NOT NULL, created_at {ts} NOT NULL,"
    " PRIMARY KEY (tenant_id, id))"
)
RAW_INDEX_DDL = "CREATE INDEX ix_bench_raw ON bench_raw_inserts (tenant_id, event_date)"


class Postgres(Backend):
    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        import psycopg  # noqa: PLC0415 - only needed when PostgreSQL is reachable

        self._psycopg = psycopg
        self._url = make_url(url).set(drivername="postgresql+psycopg")
        self._databases: list[str] = []
        with self._admin() as admin:
            row = admin.execute(
                "SELECT current_setting('server_version'), current_setting('synchronous_commit'),"
                " current_setting('fsync')"
            ).fetchone()
        assert row is not None
        self._server = f"server {row[0]}, synchronous_commit={row[1]}, fsync={row[2]}"

    def _conninfo(self, database: str | None = None) -> str:
        url = self._url.set(drivername="postgresql")
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    def _admin(self) -> Any:
        return self._psycopg.connect(self._conninfo(), autocommit=True, connect_timeout=3)

    def new_database(self, label: str) -> str:
        name = f"bench_booking_{os.getpid()}_{label}"
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return self._url.set(database=name).render_as_string(hide_password=False)

    def raw_insert(self, url: str) -> tuple[Callable[[], None], Callable[[], None]]:
        conn = self._psycopg.connect(self._conninfo(make_url(url).database))
        conn.execute(RAW_TABLE_DDL.format(uuid="UUID", ts="TIMESTAMPTZ"))
        conn.execute(RAW_INDEX_DDL)
        conn.commit()
        tenant = uuid.uuid4()
        sql = (
            "INSERT INTO bench_raw_inserts (tenant_id, id, event_date, status, total, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
        )

        def insert() -> None:
            conn.execute(sql, (tenant, uuid.uuid4(), MONTH_START, "PENDING", 1000, START))
            conn.commit()

        return insert, conn.close

    @contextlib.contextmanager
    def wire(self, app: BookingApp) -> Iterator[list[str]]:
        engine = app.uow.engine  # type: ignore[attr-defined]
        pool_conn = engine.raw_connection()
        pgconn = pool_conn.dbapi_connection.pgconn
        pool_conn.close()  # back to the pool: the next checkout gets it again
        found: list[str] = []
        with tempfile.TemporaryFile() as trace:
            fd = os.dup(trace.fileno())  # libpq fdopen()s it and never closes it
            pgconn.trace(fd)
            try:
                yield found
            finally:
                pgconn.untrace()
                trace.seek(0)
                messages = trace.read().decode(errors="replace").splitlines()
        found.extend(self._round_trips(engine, messages))

    @staticmethod
    def _round_trips(engine: Any, messages: list[str]) -> list[str]:
        """One label per client message that waits for ReadyForQuery (Query, or Sync)."""
        trips: list[str] = []
        pending = ""
        for message in messages:
            parts = message.split("\t")
            if len(parts) < 4 or parts[1] != "F":
                continue
            kind, rest = parts[3], (parts[4] if len(parts) > 4 else "")
            if kind == "Query":
                text = rest.strip().strip('"')
                trips.append("(pool pre-ping)" if text in {";", "select 1", "SELECT 1"} else text)
            elif kind == "Parse":
                pending = rest.strip().split('" "', 1)[-1].rsplit('"', 1)[0]
            elif kind == "Bind" and not pending:
                names = re.findall(r'"([^"]*)"', rest)
                pending = f"prepared:{names[1]}" if len(names) > 1 else "?"
            elif kind == "Sync":
                trips.append(pending or "?")
                pending = ""
        if any(trip.startswith("prepared:") for trip in trips):
            pool_conn = engine.raw_connection()
            try:
                cursor = pool_conn.cursor()
                cursor.execute("SELECT name, statement FROM pg_prepared_statements")
                statements = {f"prepared:{name}": sql for name, sql in cursor.fetchall()}
                pool_conn.rollback()
            finally:
                pool_conn.close()
            trips = [statements.get(trip, trip) for trip in trips]
        return trips

    def describe(self) -> str:
        return f"{self.name}: psycopg {self._psycopg.__version__}, {self._server}"

    def analyze(self, app: BookingApp) -> None:
        with app.uow.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.exec_driver_sql("ANALYZE")

    def cleanup(self) -> None:
        with self._admin() as admin:
            for name in self._databases:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._databases.clear()


class Sqlite(Backend):
    name = "SQLite"

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="bench_booking_")

    def new_database(self, label: str) -> str:
        return f"sqlite:///{os.path.join(self._dir, label + '.db')}"

    def raw_insert(self, url: str) -> tuple[Callable[[], None], Callable[[], None]]:
        # The same PRAGMAs and transaction style as booking_core's SQLite engine.
        conn = sqlite3.connect(make_url(url).database or "", isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=5000",
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute(RAW_TABLE_DDL.format(uuid="CHAR(32)", ts="DATETIME"))
        conn.execute(RAW_INDEX_DDL)
        tenant = uuid.uuid4().hex
        day = MONTH_START.isoformat()
        created = START.isoformat()
        sql = (
            "INSERT INTO bench_raw_inserts (tenant_id, id, event_date, status, total, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
        )

        def insert() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql, (tenant, uuid.uuid4().hex, day, "PENDING", 1000, created))
            conn.execute("COMMIT")

        return insert, conn.close

    @contextlib.contextmanager
    def wire(self, app: BookingApp) -> Iterator[list[str]]:
        engine = app.uow.engine  # type: ignore[attr-defined]
        pool_conn = engine.raw_connection()
        raw = pool_conn.dbapi_connection
        pool_conn.close()
        found: list[str] = []
        raw.set_trace_callback(lambda sql: found.append(" ".join(sql.split())))
        try:
            yield found
        finally:
            raw.set_trace_callback(None)

    def describe(self) -> str:
        return f"{self.name}: sqlite3 {sqlite3.sqlite_version}, WAL, synchronous=NORMAL"

    def cleanup(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


# --- fixtures --------------------------------------------------------------------------------


#: ``--cache``: the apps get a memory cache, so date holds take the short paths from cached terms
#: (one statement on PostgreSQL, ``_hold_sqlite`` on SQLite) instead of the transaction.
CACHE_URL: list[str] = []


def new_app(url: str, **engine_options: Any) -> tuple[BookingApp, ManualClock]:
    clock = ManualClock(START)
    cache = {"cache_url": CACHE_URL[0]} if CACHE_URL else {}
    return connect(url, clock=clock, create_schema=True, **cache, **engine_options), clock


@dataclass
class Shop:
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    next_day: int = 1
    sequence: int = 0

    def dates(self, count: int) -> list[dt.date]:
        today = START.date()
        if self.next_day + count > HORIZON_DAYS:
            raise ValueError("out of bookable dates; open another shop")
        days = [today + dt.timedelta(days=self.next_day + i) for i in range(count)]
        self.next_day += count
        return days

    def customer(self) -> CustomerDetails:
        self.sequence += 1
        return CustomerDetails(f"Guest {self.sequence}", f"guest{self.sequence}@example.com")


def open_shop(app: BookingApp, slug: str) -> Shop:
    tenant = app.tenants.create(
        slug=slug,
        name=slug.title(),
        timezone="Europe/Amsterdam",
        currency="EUR",
        commission_percent=10,
        policy=BookingPolicy(horizon_days=HORIZON_DAYS),
    )
    package = app.catalog.create_package(
        tenant.id, slug="classic", name="Classic", base_price=95_000
    )
    return Shop(tenant.id, package.id)


class HoldFeed:
    """Pre-computed holds on distinct dates, opening a new shop whenever dates run out."""

    def __init__(self, app: BookingApp, count: int, prefix: str) -> None:
        self._app = app
        self._jobs: list[tuple[Shop, dt.date, CustomerDetails]] = []
        shop_no = 0
        while len(self._jobs) < count:
            shop = open_shop(app, f"{prefix}-{shop_no}")
            shop_no += 1
            take = min(count - len(self._jobs), HORIZON_DAYS - 1)
            self._jobs.extend((shop, day, shop.customer()) for day in shop.dates(take))
        self._next = 0

    def hold(self) -> None:
        shop, day, customer = self._jobs[self._next]
        self._next += 1
        self._app.bookings.hold(
            shop.tenant_id, package_id=shop.package_id, date=day, customer=customer
        )


# --- 1. throughput ---------------------------------------------------------------------------


@dataclass
class Throughput:
    holds_per_s: float
    raw_per_s: float
    hold_p50: float
    raw_p50: float
    statements: list[str]
    transaction: str
    wire: list[str]
    raw_wire: int
    #: Per hold, from a separate batch: wall time, time in statement execution, in COMMIT.
    split: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def ratio(self) -> float:
        return self.holds_per_s / self.raw_per_s


def bench_throughput(backend: Backend, sizes: Sizes) -> Throughput:
    url = backend.new_database("throughput")
    app, _clock = new_app(url)
    insert, close_raw = backend.raw_insert(url)
    try:
        warmup = 20
        feed = HoldFeed(app, warmup * 2 + (sizes.rounds + 1) * sizes.ops_per_round + 5, "speed")
        sides = interleaved_rounds(
            {"hold": feed.hold, "raw": insert},
            rounds=sizes.rounds,
            ops_per_round=sizes.ops_per_round,
            warmup=warmup,
        )
        # One more hold, warm, with everything it sends recorded.
        with backend.wire(app) as wire, count_statements(app.uow.engine) as counted:  # type: ignore[attr-defined]
            feed.hold()
        # Where the time goes: a further batch with driver time recorded.
        batch = sizes.ops_per_round
        with driver_time(app.uow.engine) as spent:  # type: ignore[attr-defined]
            total, _each = timed_calls(feed.hold, batch)
        split = (total / batch, spent.execute_seconds / batch, spent.commit_seconds / batch)
        tx = f"begin={counted.begins} commit={counted.commits} rollback={counted.rollbacks}"
        raw_wire = 3  # BEGIN (implicit in psycopg / explicit in sqlite3), INSERT, COMMIT
        return Throughput(
            holds_per_s=sides["hold"].median_rate,
            raw_per_s=sides["raw"].median_rate,
            hold_p50=sides["hold"].median_op,
            raw_p50=sides["raw"].median_op,
            statements=counted.statements,
            transaction=tx,
            wire=wire,
            raw_wire=raw_wire,
            split=split,
        )
    finally:
        close_raw()
        app.close()


# --- 2. contention ---------------------------------------------------------------------------


@dataclass
class Contention:
    winners: list[int] = field(default_factory=list)
    conflicts: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    #: This process's CPU time (all threads) per attempt: the GIL-bound floor of a round.
    cpu_per_attempt: float = 0.0


def _race(app: BookingApp, shop: Shop, day: dt.date, threads: int) -> list[tuple[str, float]]:
    barrier = threading.Barrier(threads)
    customers = [shop.customer() for _ in range(threads)]
    results: list[tuple[str, float]] = [("missing", 0.0)] * threads

    def attempt(i: int) -> None:
        barrier.wait()
        t0 = time.perf_counter()
        try:
            app.bookings.hold(
                shop.tenant_id, package_id=shop.package_id, date=day, customer=customers[i]
            )
            outcome = "won"
        except BookingConflictError:
            outcome = "conflict"
        except Exception as error:
            outcome = type(error).__name__
        results[i] = (outcome, time.perf_counter() - t0)

    workers = [threading.Thread(target=attempt, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def bench_contention(backend: Backend, sizes: Sizes) -> Contention:
    url = backend.new_database("contention")
    app, _clock = new_app(url, pool_size=sizes.threads + 8, max_overflow=0)
    try:
        shop = open_shop(app, "race")
        days = shop.dates(sizes.contention_rounds + 1)
        _race(app, shop, days[0], sizes.threads)  # warm-up: opens the pool's connections
        result = Contention()
        cpu = 0.0
        for day in days[1:]:
            cpu_start = time.process_time()
            outcomes = _race(app, shop, day, sizes.threads)
            cpu += time.process_time() - cpu_start
            result.winners.append(sum(1 for o, _ in outcomes if o == "won"))
            result.conflicts += sum(1 for o, _ in outcomes if o == "conflict")
            for outcome, seconds in outcomes:
                result.latencies.append(seconds)
                if outcome not in {"won", "conflict"}:
                    result.errors[outcome] = result.errors.get(outcome, 0) + 1
        result.cpu_per_attempt = cpu / len(result.latencies)
        return result
    finally:
        app.close()


# --- 3. unavailable_dates --------------------------------------------------------------------


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def bulk_bookings(app: BookingApp, shop: Shop, days: list[dt.date]) -> None:
    """Insert bookings (and their seat claims) of ``shop`` on ``days`` straight into the tables.

    A realistic mix: 60 % confirmed, 20 % unexpired holds, 10 % lapsed holds not yet swept
    (their claims still in the table), 10 % canceled (claim released).
    """
    customers = [
        {
            "tenant_id": shop.tenant_id,
            "id": uuid.uuid4(),
            "name": f"Bulk {i}",
            "email": f"bulk{i}@example.com",
            "phone": None,
            "created_at": START,
        }
        for i in range(max(1, len(days) // 10))
    ]
    bookings = []
    claims = []
    hold_until = START + dt.timedelta(minutes=15)
    lapsed = START - dt.timedelta(days=1)
    for i, day in enumerate(days):
        status, expires = {
            0: ("CANCELED", hold_until),
            1: ("PENDING", hold_until),
            2: ("PENDING", hold_until),
            3: ("PENDING", lapsed),
        }.get(i % 10, ("CONFIRMED", None))
        booking_id = uuid.uuid4()
        bookings.append(
            {
                "tenant_id": shop.tenant_id,
                "id": booking_id,
                "package_id": shop.package_id,
                "customer_id": customers[i % len(customers)]["id"],
                "venue_id": None,
                "event_date": day,
                "status": status,
                "package_price": 95_000,
                "total": 95_000,
                "commission": 9_500,
                "currency": "EUR",
                "created_at": START,
                "expires_at": expires,
                "confirmed_at": START if status == "CONFIRMED" else None,
                "canceled_at": START if status == "CANCELED" else None,
                "fulfilled_at": None,
                "payment_ref": "bulk" if status == "CONFIRMED" else None,
                "cancel_reason": "bulk" if status == "CANCELED" else None,
            }
        )
        if status != "CANCELED":
            claims.append(
                {
                    "tenant_id": shop.tenant_id,
                    "resource_id": TENANT_WIDE,
                    "claim_date": day,
                    "seat": 0,
                    "booking_id": booking_id,
                    "expires_at": expires,
                }
            )
    with app.uow.engine.begin() as conn:  # type: ignore[attr-defined]
        for table, rows in ((t.customers, customers), (t.bookings, bookings)):
            for chunk in _chunks(rows):
                conn.execute(table.insert(), chunk)
        for chunk in _chunks(claims):
            conn.execute(t.booking_claims.insert(), chunk)


def seed(app: BookingApp, total: int) -> Shop:
    """The queried tenant plus ``total`` bookings in the table (0 = empty table).

    The queried tenant holds a handful of dates in the queried month (through the service),
    some bookings in other months, and other tenants hold the rest.
    """
    queried = open_shop(app, "queried")
    if total == 0:
        return queried
    for k in MONTH_HANDFUL:
        day = MONTH_START + dt.timedelta(days=k - 1)
        booking = app.bookings.hold(
            queried.tenant_id, package_id=queried.package_id, date=day, customer=queried.customer()
        )
        if k % 2:
            app.bookings.confirm(queried.tenant_id, booking.id, payment_ref=f"pay-{k}")
    remaining = total - len(MONTH_HANDFUL)
    own = min(remaining // 5, 2_000)
    # The queried tenant's other bookings, before and after the queried month.
    before = [MONTH_START - dt.timedelta(days=1 + i) for i in range(own // 2)]
    after = [MONTH_END + dt.timedelta(days=1 + i) for i in range(own - own // 2)]
    bulk_bookings(app, queried, before + after)
    others = remaining - own
    per_shop = 2_500
    shop_no = 0
    while others > 0:
        shop = open_shop(app, f"other-{shop_no}")
        shop_no += 1
        count = min(per_shop, others)
        first = MONTH_START - dt.timedelta(days=count // 2)
        bulk_bookings(app, shop, [first + dt.timedelta(days=i) for i in range(count)])
        others -= count
    return queried


@dataclass
class QueryRow:
    size: int
    counted_rows: int
    median_call: float
    p90_call: float
    statements: int
    wire: int
    unavailable: int
    load_seconds: float


def bench_unavailable(backend: Backend, sizes: Sizes) -> list[QueryRow]:
    apps: dict[int, tuple[BookingApp, Shop, float]] = {}
    try:
        for size in sizes.table_sizes:
            app, _clock = new_app(backend.new_database(f"size{size}"))
            t0 = time.perf_counter()
            shop = seed(app, size)
            backend.analyze(app)
            apps[size] = (app, shop, time.perf_counter() - t0)

        def query(app: BookingApp, shop: Shop) -> Callable[[], object]:
            return lambda: app.availability.unavailable_dates(
                shop.tenant_id, MONTH_START, MONTH_END
            )

        sides = {str(size): query(app, shop) for size, (app, shop, _) in apps.items()}
        timed = interleaved_rounds(
            sides, rounds=sizes.query_rounds, ops_per_round=sizes.queries_per_round, warmup=10
        )
        rows = []
        for size, (app, shop, load) in apps.items():
            engine = app.uow.engine  # type: ignore[attr-defined]
            with backend.wire(app) as wire, count_statements(engine) as counted:
                found = sides[str(size)]()
            with engine.connect() as conn:
                in_table = conn.execute(
                    sqlalchemy.select(sqlalchemy.func.count()).select_from(t.bookings)
                ).scalar_one()
            assert isinstance(found, list)
            assert found == app.availability.unavailable_dates(
                shop.tenant_id, MONTH_START, MONTH_END
            )
            rows.append(
                QueryRow(
                    size=size,
                    counted_rows=in_table,
                    median_call=timed[str(size)].median_op,
                    p90_call=percentile(timed[str(size)].op_seconds, 90),
                    statements=counted.total,
                    wire=len(wire),
                    unavailable=len(found),
                    load_seconds=load,
                )
            )
        return rows
    finally:
        for app, _shop, _load in apps.values():
            app.close()


# --- profiling -------------------------------------------------------------------------------


def profile_holds(backend: Backend, count: int) -> None:
    app, _clock = new_app(backend.new_database("profile"))
    try:
        feed = HoldFeed(app, count + 20, "profile")
        for _ in range(20):
            feed.hold()
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.runcall(lambda: [feed.hold() for _ in range(count)])
        wall = time.perf_counter() - t0
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(18)
        print(
            f"\ncProfile of {count} holds on {backend.name} ({fmt_ms(wall / count)} per hold"
            " under the profiler), top functions by own time:"
        )
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])
    finally:
        app.close()


# --- report ----------------------------------------------------------------------------------


def _short(statement: str) -> str:
    words = statement.replace('"', "").split()
    if not words:
        return statement
    verb = words[0].upper()
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in (w.upper() for w in words[1:]):
            idx = [w.upper() for w in words].index(marker, 1 if marker != "UPDATE" else 0)
            table = words[idx + 1] if idx + 1 < len(words) else "?"
            extra = " ON CONFLICT" if "CONFLICT" in statement.upper() else ""
            extra += " RETURNING" if "RETURNING" in statement.upper() else ""
            return f"{verb} {table}{extra}"
    return " ".join(words[:3])


@dataclass
class Results:
    backend: Backend
    throughput: Throughput | None = None
    contention: Contention | None = None
    queries: list[QueryRow] = field(default_factory=list)


def report(all_results: list[Results], sizes: Sizes) -> None:
    print_table(
        f"1. Hold throughput vs raw INSERT+COMMIT ({sizes.rounds} interleaved rounds x "
        f"{sizes.ops_per_round} ops per side, medians; stmts = SQLAlchemy statements,"
        " round trips = driver level incl. pool pre-ping, BEGIN, COMMIT)",
        [
            "backend",
            "holds/s",
            "raw/s",
            "hold/raw",
            "p50 hold",
            "p50 raw",
            "stmts/hold",
            "round trips/hold",
            "round trips/raw",
        ],
        [
            [
                r.backend.name,
                fmt_rate(r.throughput.holds_per_s),
                fmt_rate(r.throughput.raw_per_s),
                f"{r.throughput.ratio:.1%}",
                fmt_ms(r.throughput.hold_p50, 3),
                fmt_ms(r.throughput.raw_p50, 3),
                len(r.throughput.statements),
                len(r.throughput.wire),
                r.throughput.raw_wire,
            ]
            for r in all_results
            if r.throughput
        ],
    )
    split_rows = []
    for r in all_results:
        if r.throughput:
            total, execute, commit = r.throughput.split
            rest = total - execute - commit
            split_rows.append(
                [
                    r.backend.name,
                    fmt_ms(total, 3),
                    fmt_ms(execute, 3),
                    fmt_ms(commit, 3),
                    fmt_ms(rest, 3),
                    f"{rest / total:.0%}",
                ]
            )
    print_table(
        "   Where a hold's time goes (separate batch; 'rest' = Python: validation, service,"
        " SQLAlchemy, pool checkout + pre-ping, retry wrapper)",
        ["backend", "per hold", "executing stmts", "COMMIT", "rest", "rest share"],
        split_rows,
    )
    for r in all_results:
        if not r.throughput:
            continue
        sa = [_short(s) for s in r.throughput.statements]
        wire = [_short(s) for s in r.throughput.wire]
        print_table(
            f"   One warm hold on {r.backend.name}: {len(sa)} SQLAlchemy statements "
            f"({r.throughput.transaction}), {len(wire)} driver round trips",
            ["#", "SQLAlchemy before_cursor_execute", "on the wire (driver)"],
            [
                [i + 1, sa[i] if i < len(sa) else "", wire[i] if i < len(wire) else ""]
                for i in range(max(len(sa), len(wire)))
            ],
        )
    print_table(
        f"2. {sizes.threads}-way contention on one date ({sizes.contention_rounds} rounds, "
        "latency of every attempt from barrier release)",
        [
            "backend",
            "winners per round",
            "conflicts",
            "other errors",
            "p50",
            "p99",
            "max",
            "client CPU/attempt",
        ],
        [
            [
                r.backend.name,
                " ".join(str(w) for w in r.contention.winners),
                r.contention.conflicts,
                ", ".join(f"{k}={v}" for k, v in r.contention.errors.items()) or "0",
                fmt_ms(median(r.contention.latencies), 1),
                fmt_ms(percentile(r.contention.latencies, 99), 1),
                fmt_ms(max(r.contention.latencies), 1),
                fmt_ms(r.contention.cpu_per_attempt, 2),
            ]
            for r in all_results
            if r.contention
        ],
    )
    query_rows = []
    for r in all_results:
        base = r.queries[0].median_call if r.queries else 0.0
        for q in r.queries:
            query_rows.append(
                [
                    r.backend.name,
                    f"{q.size:,}",
                    f"{q.counted_rows:,}",
                    q.unavailable,
                    fmt_ms(q.median_call, 3),
                    fmt_ms(q.p90_call, 3),
                    f"{q.median_call / base:.2f}x",
                    q.statements,
                    q.wire,
                    f"{q.load_seconds:.1f} s",
                ]
            )
    print_table(
        f"3. unavailable_dates for a 31-day month ({sizes.query_rounds} interleaved rounds x "
        f"{sizes.queries_per_round} calls per size; stmts = SQLAlchemy statements"
        " + COMMIT/ROLLBACK, round trips = driver level incl. pool pre-ping and BEGIN)",
        [
            "backend",
            "bookings",
            "in table",
            "unavailable",
            "median/call",
            "p90/call",
            "vs 0",
            "stmts/call",
            "round trips/call",
            "seed time",
        ],
        query_rows,
    )
    summary = []
    for r in all_results:
        name = r.backend.name
        if r.throughput:
            ratio = r.throughput.ratio
            summary.append(
                [name, "hold throughput / raw", ">= 50%", f"{ratio:.1%}", _met(ratio >= 0.5)]
            )
        if r.contention:
            winners = r.contention.winners
            exact = all(w == 1 for w in winners) and not r.contention.errors
            summary.append(
                [
                    name,
                    "winners per contended date",
                    "exactly 1",
                    f"min {min(winners)}, max {max(winners)}",
                    _met(exact),
                ]
            )
            p99 = percentile(r.contention.latencies, 99)
            summary.append([name, "contention p99", "< 50 ms", fmt_ms(p99, 1), _met(p99 < 0.05)])
        if r.queries:
            counts = sorted({q.statements for q in r.queries})
            summary.append(
                [
                    name,
                    "unavailable_dates statements",
                    "flat",
                    "/".join(str(q.statements) for q in r.queries),
                    _met(len(counts) == 1),
                ]
            )
            ratio = r.queries[-1].median_call / r.queries[0].median_call
            summary.append(
                [
                    name,
                    f"unavailable_dates {r.queries[-1].size:,} vs 0",
                    "<= 2x",
                    f"{ratio:.2f}x",
                    _met(ratio <= 2),
                ]
            )
    print_table("Summary", ["backend", "measure", "goal", "measured", "met"], summary)


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--profile", action="store_true", help="also cProfile a batch of holds")
    parser.add_argument("--only", choices=["postgresql", "sqlite"], help="run one backend")
    parser.add_argument(
        "--cache", action="store_true", help="apps with a memory cache (holds from cached terms)"
    )
    args = parser.parse_args(argv)
    if args.cache:
        CACHE_URL.append("memory://")
    sizes = QUICK if args.quick else FULL

    backends: list[Backend] = []
    if args.only != "sqlite":
        url = os.environ.get("BOOKING_CORE_TEST_POSTGRES_URL", DEFAULT_PG_URL)
        try:
            backends.append(Postgres(url))
        except Exception as error:
            print(f"PostgreSQL skipped: {url} unreachable ({type(error).__name__}: {error})")
    if args.only != "postgresql":
        backends.append(Sqlite())

    started = time.perf_counter()
    print(
        f"booking_core benchmarks ({'quick' if args.quick else 'full'} run"
        f"{', apps with a memory cache' if args.cache else ', apps without a cache'})"
    )
    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}"
    )
    for backend in backends:
        print(f"  {backend.describe()}")
    results = []
    try:
        for backend in backends:
            result = Results(backend)
            results.append(result)
            print(f"... {backend.name}: throughput", file=sys.stderr, flush=True)
            result.throughput = bench_throughput(backend, sizes)
            print(f"... {backend.name}: contention", file=sys.stderr, flush=True)
            result.contention = bench_contention(backend, sizes)
            print(f"... {backend.name}: unavailable_dates", file=sys.stderr, flush=True)
            result.queries = bench_unavailable(backend, sizes)
            if args.profile:
                profile_holds(backend, 200 if args.quick else 1000)
        report(results, sizes)
    finally:
        for backend in backends:
            backend.cleanup()
    print(f"\nTotal run time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
