"""The write path at its floor (issue 14): holds against a raw INSERT and the peers' designs.

    .venv/bin/python benchmarks/bench_hold_floor.py [--quick] [--profile N] [--seed ROWS]

PostgreSQL only, in one run:

a. References: a raw prepared INSERT + COMMIT through psycopg 3 (BEGIN, INSERT, COMMIT: the
   ratio's denominator) and the same INSERT in autocommit (one round trip: the floor).
b. ``app.bookings.hold`` on distinct dates with a warm memory cache, four variants: capacity 1,
   capacity 3, two add-ons, an idempotency key. Holds/s, ratio to raw, p50, statements and wire
   round trips per hold (counted by a proxy on the wire: BEGIN and COMMIT are round trips,
   autocommit has none), client CPU, and the time spent inside psycopg vs outside it (Python).
c. The peers' designs as small baselines on scratch tables (never in the library):
   pretix-style (``pg_advisory_xact_lock`` on the quota, recount the live bookings, insert),
   Cal.com-style (unique index on the exact (resource, date) slot; insert, a unique violation
   means taken; capacity 1 only) and check-then-insert (count, then insert, no guard: the
   Easy!Appointments design). All sides of a. b. c. run in the same interleaved rounds.
d. Contention as production runs it: 16 and 32 processes (forkserver), each with its own app
   and connection made before the first barrier, released together onto the SAME date
   (capacity 1; a barrier, then a common start instant), a fresh date per round: winners per
   round, double bookings (counted in the tables afterwards), p50/p99 per attempt, client CPU
   and driver time per attempt.
e. A summary table.

Before anything is measured, each side's tables are seeded with ``--seed`` rows (50,000; a
neighbouring tenant's bookings with their customers, claims and events, on the library's side)
and analyzed, as a database in service is: see ``SEED_ROWS`` for what fresh tables do instead.

``--profile N`` adds a cProfile of N warm holds (top 15 by cumulative time).

PostgreSQL comes from ``BOOKING_CORE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); the run creates two scratch databases
there and drops them at the end. To measure another checkout of the library, put its ``src``
first on ``PYTHONPATH``; the run prints which ``booking_core`` it imported.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import io
import itertools
import multiprocessing as mp
import os
import platform
import pstats
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors
import sqlalchemy
from _common import (
    DriverClock,
    WireCounter,
    fmt_ms,
    fmt_rate,
    interleaved_rounds,
    median,
    percentile,
    print_table,
)
from sqlalchemy.engine import make_url

import booking_core
from booking_core import BookingApp, BookingConflictError, BookingPolicy, CustomerDetails, connect
from booking_core.testing import ManualClock

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: The benchmark's "now": fixed, so holds never lapse while it runs.
START = dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.UTC)
TODAY = START.date()
HORIZON_DAYS = 3650
#: Contention dates are days 1.. of the race tenants; a worker warms up on days from here.
WARM_DAY0 = 2000
CORES = os.cpu_count() or 1
#: What the contention p99 is reported against (issue 14).
P99_GOAL = 0.050


@dataclass(frozen=True)
class Sizes:
    rounds: int
    ops_per_round: int
    warmup: int
    processes: tuple[int, ...]
    contention_rounds: int


FULL = Sizes(rounds=13, ops_per_round=200, warmup=20, processes=(16, 32), contention_rounds=30)
QUICK = Sizes(rounds=5, ops_per_round=40, warmup=10, processes=(16, 32), contention_rounds=10)


# --- scratch databases -------------------------------------------------------------------------


class Scratch:
    """Scratch databases on one PostgreSQL server, dropped by :meth:`cleanup`."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.names: list[str] = []
        with self.admin() as admin:
            row = admin.execute(
                "SELECT current_setting('server_version'), current_setting('synchronous_commit'),"
                " current_setting('fsync'), current_setting('max_connections')"
            ).fetchone()
        assert row is not None
        self.server = (
            f"PostgreSQL {row[0]}, synchronous_commit={row[1]}, fsync={row[2]}, "
            f"max_connections={row[3]}"
        )

    def conninfo(self, database: str | None = None, port: int | None = None) -> str:
        url = self.url.set(drivername="postgresql")
        if database is not None:
            url = url.set(database=database)
        if port is not None:
            url = url.set(host="127.0.0.1", port=port).update_query_dict(
                {"sslmode": "disable", "gssencmode": "disable"}
            )
        return url.render_as_string(hide_password=False)

    def sa_url(self, database: str, port: int | None = None) -> str:
        url = self.url.set(database=database)
        if port is not None:
            url = url.set(host="127.0.0.1", port=port).update_query_dict(
                {"sslmode": "disable", "gssencmode": "disable"}
            )
        return url.render_as_string(hide_password=False)

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=3)

    def create(self, label: str) -> str:
        name = f"bench_hold_floor_{os.getpid()}_{label}"
        with self.admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return name

    def cleanup(self) -> None:
        with self.admin() as admin:
            for name in self.names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.names.clear()


# --- booking_core sides ------------------------------------------------------------------------


def new_app(url: str, **engine_options: Any) -> BookingApp:
    """An app with a memory cache (warm after its first calls) and the benchmark's clock."""
    return connect(url, cache_url="memory://", clock=ManualClock(START), **engine_options)


@dataclass
class Variant:
    """One kind of hold, on its own tenant; dates are handed out once across all apps."""

    name: str
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    add_ons: dict[uuid.UUID, int] | None = None
    idempotent: bool = False
    days: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def hold_on(self, app: BookingApp) -> Callable[[], object]:
        """A callable placing the next hold of this variant through ``app``."""
        serial = itertools.count()

        def hold() -> object:
            day = next(self.days)
            if day >= HORIZON_DAYS:
                msg = f"{self.name}: out of bookable dates"
                raise RuntimeError(msg)
            n = next(serial)
            return app.bookings.hold(
                self.tenant_id,
                package_id=self.package_id,
                date=TODAY + dt.timedelta(days=day),
                customer=CustomerDetails(f"Guest {day}-{n}", f"g{day}x{n}@example.com"),
                add_ons=self.add_ons,
                idempotency_key=f"key-{self.name}-{day}" if self.idempotent else None,
            )

        return hold


def open_tenant(
    app: BookingApp, slug: str, capacity: int = 1, add_ons: int = 0
) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    tenant = app.tenants.create(
        slug=slug,
        name=slug.title(),
        timezone="Europe/Amsterdam",
        currency="EUR",
        commission_percent=10,
        policy=BookingPolicy(capacity_per_date=capacity, horizon_days=HORIZON_DAYS),
    )
    package = app.catalog.create_package(
        tenant.id, slug="classic", name="Classic", base_price=95_000
    )
    extras = []
    for n in range(add_ons):
        extra = app.catalog.create_add_on(
            tenant.id, slug=f"extra-{n}", name=f"Extra {n}", price=5_000 + n
        )
        app.catalog.offer_add_on(tenant.id, package.id, extra.id)
        extras.append(extra.id)
    return tenant.id, package.id, extras


def make_variants(app: BookingApp) -> list[Variant]:
    one = open_tenant(app, "cap-one")
    three = open_tenant(app, "cap-three", capacity=3)
    extras = open_tenant(app, "add-ons", add_ons=2)
    keyed = open_tenant(app, "keyed")
    return [
        Variant("ours: capacity 1", one[0], one[1]),
        Variant("ours: capacity 3", three[0], three[1]),
        Variant(
            "ours: 2 add-ons", extras[0], extras[1], add_ons={extras[2][0]: 1, extras[2][1]: 2}
        ),
        Variant("ours: idempotency key", keyed[0], keyed[1], idempotent=True),
    ]


# --- a database of production size (statistics as autovacuum keeps them) ----------------------

#: Rows each side's tables hold before anything is measured: plans are made, and cached per
#: connection, from the statistics of tables of this size, as on a database in service. On the
#: fresh empty tables of a new database every plan is a guess (the planner may pick any index
#: led by tenant_id, or a sequential scan), and a connection keeps that guess until ANALYZE:
#: then a foreign-key check or a claim lookup visits every row of the tenant, and a hold grows
#: slower with each booking (about 0.25 ms per 1,000 bookings here) until autovacuum's analyze.
SEED_ROWS = 50_000
SEED_SLUG = "neighbours"


def _cloned(table: str, tenant: str, overrides: str) -> str:
    """INSERT copies 1..N of ``table``'s rows of one tenant, ``overrides`` (a jsonb object of
    the columns that must differ, from row ``r`` and copy ``n``) replacing those columns."""
    return (
        f"INSERT INTO {table} SELECT (jsonb_populate_record(r, {overrides})).*"
        f" FROM {table} AS r, generate_series(1, %(rows)s) AS n WHERE r.tenant_id = '{tenant}'"
    )


def _copy_id(column: str) -> str:
    return f"CAST(md5(CAST(r.{column} AS text) || n) AS uuid)"


def seed(scratch: Scratch, lib_db: str, peers_db: str, rows: int = SEED_ROWS) -> None:
    """``rows`` bookings of a neighbouring tenant (each with its customer, claim and event) and
    as many rows in each peer table, then ANALYZE on both databases.

    One hold is placed through the library; its rows are copied in SQL with fresh ids and a
    date per copy, so every constraint holds.
    """
    with new_app(scratch.sa_url(lib_db)) as app:
        tenant_id, package_id, _ = open_tenant(app, SEED_SLUG)
        app.bookings.hold(
            tenant_id,
            package_id=package_id,
            date=TODAY + dt.timedelta(days=1),
            customer=CustomerDetails("Neighbour", "neighbour@example.com"),
        )
    t = str(tenant_id)
    own_id, customer = _copy_id("id"), _copy_id("customer_id")
    statements = [
        _cloned(
            "bc_customers",
            t,
            f"jsonb_build_object('id', {own_id}, 'email', n || '.' || r.email)",
        ),
        _cloned(
            "bc_bookings",
            t,
            f"jsonb_build_object('id', {own_id}, 'customer_id', {customer},"
            " 'event_date', r.event_date + n)",
        ),
        _cloned(
            "bc_booking_claims",
            t,
            f"jsonb_build_object('booking_id', {_copy_id('booking_id')},"
            " 'claim_date', r.claim_date + n)",
        ),
        _cloned(
            "bc_outbox",
            t,
            f"jsonb_build_object('id', {own_id}, 'booking_id', {_copy_id('booking_id')})",
        ),
    ]
    with psycopg.connect(scratch.conninfo(lib_db), autocommit=True) as conn:
        with conn.transaction():
            for statement in statements:
                conn.execute(statement, {"rows": rows})
        conn.execute("ANALYZE")
    with psycopg.connect(scratch.conninfo(peers_db), autocommit=True) as conn:
        with conn.transaction():
            conn.execute(
                "INSERT INTO raw_inserts SELECT gen_random_uuid(), 0, %s, 'pending', 95000, %s"
                " FROM generate_series(1, %s)",
                (TODAY, START, rows),
            )
            for table in TABLE.values():
                conn.execute(
                    f"INSERT INTO {table} SELECT gen_random_uuid(), 0, %s + n, 'pending',"
                    " 'neighbour@example.com', 95000, %s, %s FROM generate_series(1, %s) AS n",
                    (TODAY, START, START + HOLD_TTL, rows),
                )
        conn.execute("ANALYZE")


# --- the references and the peers' designs (scratch tables, bare psycopg) ---------------------

PEERS_DDL = [
    "CREATE TABLE raw_inserts (id UUID PRIMARY KEY, resource_id BIGINT NOT NULL,"
    " event_date DATE NOT NULL, status TEXT NOT NULL, total BIGINT NOT NULL,"
    " created_at TIMESTAMPTZ NOT NULL)",
    "CREATE INDEX ix_raw ON raw_inserts (resource_id, event_date)",
    *(
        f"CREATE TABLE {table} (id UUID PRIMARY KEY, resource_id BIGINT NOT NULL,"
        " event_date DATE NOT NULL, status TEXT NOT NULL, customer TEXT NOT NULL,"
        " total BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ)"
        for table in ("pretix_bookings", "calcom_bookings", "naive_bookings")
    ),
    "CREATE INDEX ix_pretix ON pretix_bookings (resource_id, event_date)",
    "CREATE INDEX ix_naive ON naive_bookings (resource_id, event_date)",
    # Cal.com: the exact slot is unique; a second insert is a unique violation.
    "CREATE UNIQUE INDEX ux_calcom_slot ON calcom_bookings (resource_id, event_date)",
]
RAW_SQL = (
    "INSERT INTO raw_inserts (id, resource_id, event_date, status, total, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)
LIVE = "(status = 'confirmed' OR (status = 'pending' AND expires_at > %s))"
HOLD_TTL = dt.timedelta(minutes=15)

PEERS = ("pretix-style", "Cal.com-style", "check-then-insert")
#: The table each design writes.
TABLE = {
    "pretix-style": "pretix_bookings",
    "Cal.com-style": "calcom_bookings",
    "check-then-insert": "naive_bookings",
}


def _insert_sql(table: str) -> str:
    return (
        f"INSERT INTO {table} (id, resource_id, event_date, status, customer, total,"
        " created_at, expires_at) VALUES (%s, %s, %s, 'pending', %s, 95000, %s, %s)"
    )


def _count_sql(table: str) -> str:
    return f"SELECT count(*) FROM {table} WHERE resource_id = %s AND event_date = %s AND {LIVE}"


def raw_insert(conn: psycopg.Connection[Any]) -> Callable[[], object]:
    """INSERT + COMMIT (BEGIN, INSERT, COMMIT on the wire), or one INSERT in autocommit."""

    def insert() -> object:
        conn.execute(RAW_SQL, (uuid.uuid4(), 1, TODAY, "pending", 95_000, START), prepare=True)
        if not conn.autocommit:
            conn.commit()
        return True

    return insert


def peer_attempt(
    design: str, conn: psycopg.Connection[Any], resource: int, day: dt.date, capacity: int = 1
) -> bool:
    """One booking attempt of ``design`` on (resource, day); True when it got a seat.

    ``conn`` must be in autocommit for Cal.com-style and not for the two others.
    """
    table = TABLE[design]
    row = (uuid.uuid4(), resource, day, "guest@example.com", START, START + HOLD_TTL)
    if design == "Cal.com-style":  # one autocommit INSERT; the unique index decides
        try:
            conn.execute(_insert_sql(table), row, prepare=True)
        except psycopg.errors.UniqueViolation:
            return False
        return True
    if design == "pretix-style":  # serialize on the quota, recount, insert
        key = (resource << 32) | day.toordinal()
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,), prepare=True)
    count = conn.execute(_count_sql(table), (resource, day, START), prepare=True).fetchone()
    assert count is not None
    if count[0] >= capacity:
        conn.rollback()
        return False
    conn.execute(_insert_sql(table), row, prepare=True)
    conn.commit()
    return True


def peer_side(
    design: str, conn: psycopg.Connection[Any], days: itertools.count[int]
) -> Callable[[], object]:
    def attempt() -> object:
        day = TODAY + dt.timedelta(days=next(days))
        if not peer_attempt(design, conn, 1, day):
            msg = f"{design}: a free date was refused"
            raise RuntimeError(msg)
        return True

    return attempt


def peer_connection(conninfo: str, design: str) -> psycopg.Connection[Any]:
    return psycopg.connect(conninfo, autocommit=design in {"Cal.com-style", RAW_AUTO})


# --- a., b., c.: sequential throughput ---------------------------------------------------------

RAW = "raw INSERT+COMMIT"
RAW_AUTO = "raw autocommit INSERT"


@dataclass
class SideResult:
    name: str
    per_s: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    statements: int = 0
    round_trips: int = 0
    connects: int = 0
    wire: list[list[str]] = field(default_factory=list)
    cpu: float = 0.0  # client CPU per op (process_time)
    driver: float = 0.0  # wall time inside psycopg per op
    wall: float = 0.0  # wall per op in the split batch


def bench_sequential(
    scratch: Scratch, lib_db: str, peers_db: str, sizes: Sizes
) -> tuple[list[SideResult], list[Variant]]:
    setup = new_app(scratch.sa_url(lib_db))
    variants = make_variants(setup)
    setup.close()
    app = new_app(scratch.sa_url(lib_db))
    peers_info = scratch.conninfo(peers_db)
    conns: list[psycopg.Connection[Any]] = []

    def conn_for(design: str, info: str) -> psycopg.Connection[Any]:
        conn = peer_connection(info, design)
        conns.append(conn)
        return conn

    peer_days = {design: itertools.count(1) for design in PEERS}
    count_app: BookingApp | None = None
    wire = WireCounter(scratch.url.host or "127.0.0.1", scratch.url.port or 5432)
    try:

        def build(lib: BookingApp, info: str) -> dict[str, Callable[[], object]]:
            sides: dict[str, Callable[[], object]] = {
                RAW: raw_insert(conn_for(RAW, info)),
                RAW_AUTO: raw_insert(conn_for(RAW_AUTO, info)),
            }
            sides.update({v.name: v.hold_on(lib) for v in variants})
            sides.update({d: peer_side(d, conn_for(d, info), peer_days[d]) for d in PEERS})
            return sides

        sides = build(app, peers_info)
        timed = interleaved_rounds(
            sides, rounds=sizes.rounds, ops_per_round=sizes.ops_per_round, warmup=sizes.warmup
        )
        results = {
            name: SideResult(
                name,
                per_s=side.median_rate,
                p50=side.median_op,
                p99=percentile(side.op_seconds, 99),
            )
            for name, side in timed.items()
        }
        # Where the time goes: a batch per side (interleaved) with psycopg's calls timed.
        batch = max(sizes.ops_per_round // 2, 10)
        clock = DriverClock()
        with clock:
            for name in list(sides) + list(sides)[::-1]:
                clock.reset()
                cpu0, t0 = time.process_time(), time.perf_counter()
                for _ in range(batch):
                    sides[name]()
                wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
                r = results[name]
                r.wall += wall / batch / 2
                r.cpu += cpu / batch / 2
                r.driver += clock.seconds / batch / 2
        # Statements and round trips: twins of every side through the counting proxy, warmed
        # up like the timed ones (psycopg prepares a statement on its 5th execution).
        count_app = new_app(scratch.sa_url(lib_db, wire.port))
        twins = build(count_app, scratch.conninfo(peers_db, wire.port))
        for name, twin in twins.items():
            for _ in range(8):
                twin()
            trips = []
            for _ in range(3):
                with wire.recording() as tally:
                    twin()
                trips.append(tally)
            last = trips[-1]
            r = results[name]
            r.statements, r.round_trips = len(last.statements), last.round_trips
            r.connects, r.wire = last.connects, last.exchanges
            if len({(len(t.statements), t.round_trips) for t in trips}) > 1:
                r.name += " (varies: " + "/".join(str(t.round_trips) for t in trips) + ")"
        return [results[name] for name in sides], variants
    finally:
        for conn in conns:
            conn.close()
        app.close()
        if count_app is not None:
            count_app.close()
        wire.close()


# --- d. contention across processes ------------------------------------------------------------

DESIGNS = ("booking_core", *PEERS)


@dataclass(frozen=True)
class RaceConfig:
    lib_url: str
    peers_conninfo: str
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    resource: int  # the peers' resource id of this race
    processes: int
    rounds: int


@dataclass(frozen=True)
class Attempt:
    design: str
    round: int
    outcome: str  # won / taken / an exception's name
    released: float  # perf_counter (CLOCK_MONOTONIC: comparable across processes)
    woke: float
    ended: float
    cpu: float
    driver: float
    connects: int
    #: Seconds inside psycopg per call label (an execute's SQL, ``commit``, ``fetchone``…).
    by_call: dict[str, float] = field(default_factory=dict)


def set_start(start_at: Any, margin: float) -> None:
    """The barrier's action (run once, by the last process to arrive, before any is let go):
    the common start time of the round, ``margin`` seconds ahead."""
    start_at.value = time.perf_counter() + margin


def race_worker(config: RaceConfig, index: int, barrier: Any, start_at: Any, results: Any) -> None:
    """One contending process: its own app and connection, warm, then the barrier rounds."""
    try:
        results.put(_race_worker(config, index, barrier, start_at))
    except BaseException as error:  # report, never hang the parent
        barrier.abort()
        results.put({"index": index, "fatal": f"{type(error).__name__}: {error}"})


def _race_worker(config: RaceConfig, index: int, barrier: Any, start_at: Any) -> dict[str, Any]:
    app = new_app(config.lib_url, pool_size=1, max_overflow=2)
    conn = psycopg.connect(config.peers_conninfo)
    clock = DriverClock()
    clock.install()
    attempts: list[Attempt] = []
    try:
        customer = CustomerDetails(f"Racer {index}", f"racer{index}@example.com")

        def hold(day: dt.date) -> None:
            app.bookings.hold(
                config.tenant_id, package_id=config.package_id, date=day, customer=customer
            )

        def attempt(design: str, day: dt.date, resource: int) -> None:
            if design == "booking_core":
                hold(day)
                return
            conn.autocommit = design == "Cal.com-style"
            if not peer_attempt(design, conn, resource, day):
                raise BookingConflictError(day)

        # Warm-up on this worker's own dates: pool connection open, statements prepared,
        # cache filled.
        for k in range(6):
            day = TODAY + dt.timedelta(days=WARM_DAY0 + index * 8 + k)
            for design in DESIGNS:
                attempt(design, day, 1_000_000 + config.processes * 1000 + index)
        # Round -1 is a contended warm-up, not recorded: the first release of a barrier and the
        # first lock waits are slower than the rest.
        for round_no in range(-1, config.rounds):
            day = TODAY + dt.timedelta(days=1 + round_no if round_no >= 0 else WARM_DAY0 - 1)
            order = DESIGNS[round_no % len(DESIGNS) :] + DESIGNS[: round_no % len(DESIGNS)]
            for design in order:
                # Everyone arrives, then sleeps until the start time the last one set: the
                # barrier's one-by-one wake-up hand-off stays out of the measured window, and
                # all N attempts start at one instant (as N requests landing at once).
                barrier.wait(timeout=120)
                released = start_at.value
                pause = released - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                clock.reset()
                cpu0 = time.process_time()
                woke = time.perf_counter()
                try:
                    attempt(design, day, config.resource)
                    outcome = "won"
                except BookingConflictError:
                    outcome = "taken"
                except Exception as error:
                    outcome = type(error).__name__
                    with_conn_reset(conn)
                ended = time.perf_counter()
                if round_no < 0:
                    continue
                attempts.append(
                    Attempt(
                        design,
                        round_no,
                        outcome,
                        released,
                        woke,
                        ended,
                        time.process_time() - cpu0,
                        clock.seconds,
                        clock.connects,
                        dict(clock.by_call),
                    )
                )
    finally:
        clock.uninstall()
        conn.close()
        app.close()
    return {"index": index, "attempts": attempts, "library": booking_core.__file__}


def with_conn_reset(conn: psycopg.Connection[Any]) -> None:
    if not conn.autocommit and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()


@dataclass
class RaceResult:
    processes: int
    design: str
    winners: list[int]
    double_bookings: int  # seats over capacity, counted in the table afterwards
    errors: dict[str, int]
    latencies: list[float]  # woke -> ended
    from_release: list[float]  # the common start time -> ended
    wake_delays: list[float]  # the common start time -> woke (timer and run-queue lateness)
    makespans: list[float]  # release -> last ended, per round
    cpu: list[float]
    driver: list[float]
    connects: int
    #: Per short statement label: seconds inside psycopg of every attempt that sent it.
    by_statement: dict[str, list[float]] = field(default_factory=dict)


def bench_contention(
    scratch: Scratch, lib_db: str, peers_db: str, sizes: Sizes, processes: int
) -> tuple[list[RaceResult], str]:
    with new_app(scratch.sa_url(lib_db)) as setup:
        tenant_id, package_id, _ = open_tenant(setup, f"race-{processes}")
    config = RaceConfig(
        lib_url=scratch.sa_url(lib_db),
        peers_conninfo=scratch.conninfo(peers_db),
        tenant_id=tenant_id,
        package_id=package_id,
        resource=processes,
        processes=processes,
        rounds=sizes.contention_rounds,
    )
    ctx = mp.get_context("forkserver")
    start_at = ctx.Value("d", 0.0, lock=False)
    # Long enough for the barrier to hand the release to every process before the start.
    margin = 0.040 + 0.001 * processes
    barrier = ctx.Barrier(processes, action=functools.partial(set_start, start_at, margin))
    queue = ctx.Queue()
    procs = [
        ctx.Process(
            target=race_worker, args=(config, n, barrier, start_at, queue), name=f"race-{n}"
        )
        for n in range(processes)
    ]
    for proc in procs:
        proc.start()
    collected = [queue.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    fatal = [c["fatal"] for c in collected if "fatal" in c]
    if fatal:
        msg = f"{len(fatal)} race workers failed: {fatal[:3]}"
        raise RuntimeError(msg)
    library = collected[0]["library"]
    attempts: list[Attempt] = [a for c in collected for a in c["attempts"]]
    days = [TODAY + dt.timedelta(days=1 + r) for r in range(config.rounds)]
    seats = _seats_taken(scratch, lib_db, peers_db, config, days)
    results = []
    for design in DESIGNS:
        mine = [a for a in attempts if a.design == design]
        by_round: dict[int, list[Attempt]] = {}
        for a in mine:
            by_round.setdefault(a.round, []).append(a)
        releases = {r: group[0].released for r, group in by_round.items()}
        errors: dict[str, int] = {}
        for a in mine:
            if a.outcome not in {"won", "taken"}:
                errors[a.outcome] = errors.get(a.outcome, 0) + 1
        results.append(
            RaceResult(
                processes=processes,
                design=design,
                winners=[
                    sum(1 for a in by_round[r] if a.outcome == "won") for r in sorted(by_round)
                ],
                double_bookings=sum(max(0, n - 1) for n in seats[design]),
                errors=errors,
                latencies=[a.ended - a.woke for a in mine],
                from_release=[a.ended - releases[a.round] for a in mine],
                wake_delays=[max(0.0, a.woke - releases[a.round]) for a in mine],
                makespans=[
                    max(a.ended for a in group) - releases[r] for r, group in by_round.items()
                ],
                cpu=[a.cpu for a in mine],
                driver=[a.driver for a in mine],
                connects=sum(a.connects for a in mine),
                by_statement=_by_statement(mine),
            )
        )
    return results, library


def _by_statement(attempts: list[Attempt]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for a in attempts:
        mine: dict[str, float] = {}
        for label, seconds in a.by_call.items():
            short = "fetch" if label.startswith("fetch") else _short(label)
            mine[short] = mine.get(short, 0.0) + seconds
        for short, seconds in mine.items():
            found.setdefault(short, []).append(seconds)
    return found


def _seats_taken(
    scratch: Scratch, lib_db: str, peers_db: str, config: RaceConfig, days: list[dt.date]
) -> dict[str, list[int]]:
    """Live bookings per raced date, per design, read from the tables."""
    taken: dict[str, list[int]] = {}
    rows: dict[dt.date, int]
    with psycopg.connect(scratch.conninfo(lib_db), autocommit=True) as conn:
        rows = dict(
            conn.execute(
                "SELECT event_date, count(*) FROM bc_bookings WHERE tenant_id = %s"
                " AND status IN ('PENDING', 'CONFIRMED') AND event_date = ANY(%s)"
                " GROUP BY event_date",
                (config.tenant_id, days),
            ).fetchall()
        )
        taken["booking_core"] = [rows.get(day, 0) for day in days]
    with psycopg.connect(scratch.conninfo(peers_db), autocommit=True) as conn:
        for design in PEERS:
            rows = dict(
                conn.execute(
                    f"SELECT event_date, count(*) FROM {TABLE[design]}"
                    " WHERE resource_id = %s AND event_date = ANY(%s) GROUP BY event_date",
                    (config.resource, days),
                ).fetchall()
            )
            taken[design] = [rows.get(day, 0) for day in days]
    return taken


# --- profiling ---------------------------------------------------------------------------------


def profile_holds(scratch: Scratch, lib_db: str, count: int) -> tuple[str, list[list[str]]]:
    with new_app(scratch.sa_url(lib_db)) as app:
        tenant_id, package_id, _ = open_tenant(app, "profiled")
        variant = Variant("profiled", tenant_id, package_id)
        hold = variant.hold_on(app)
        for _ in range(20):
            hold()
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.runcall(lambda: [hold() for _ in range(count)])
        wall = time.perf_counter() - t0
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(20)
    lines = [
        line
        for line in out.getvalue().splitlines()
        if line.strip() and "bench_hold_floor" not in line and "List reduced" not in line
    ]
    lines = lines[:18]  # the header lines and the top 15
    return (
        f"cProfile of {count} warm holds (capacity 1; {fmt_ms(wall / count, 3)} per hold under"
        " the profiler), top 15 by cumulative time:\n" + "\n".join(lines),
        _own_time_by_package(stats, count),
    )


def _own_time_by_package(stats: pstats.Stats, count: int) -> list[list[str]]:
    """The profile's own (tottime) seconds grouped by where the code lives, per hold."""
    groups: dict[str, float] = {}
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, own, *_rest) in entries.items():
        path = filename.replace("\\", "/")
        if "bench_hold_floor" in path:
            group = "the benchmark's loop"
        elif "/psycopg/" in path and function == "wait":
            group = "psycopg wait(): network + server (+ psycopg's C code)"
        elif "/psycopg" in path:
            group = "psycopg (Python)"
        elif "/sqlalchemy/" in path:
            group = "SQLAlchemy"
        elif "/booking_core/" in path:
            sub = path.split("/booking_core/", 1)[1].split("/", 1)[0].removesuffix(".py")
            group = f"booking_core.{sub}"
        elif "/tenacity/" in path:
            group = "tenacity (retry wrapper)"
        elif "/msgspec/" in path:
            group = "msgspec"
        elif path == "~":
            group = "C builtins"
        else:
            group = "stdlib / other"
        groups[group] = groups.get(group, 0.0) + own
    total = sum(groups.values())
    return [
        [group, fmt_ms(seconds / count, 3), f"{seconds / total:.0%}"]
        for group, seconds in sorted(groups.items(), key=lambda item: -item[1])
    ]


# --- report ------------------------------------------------------------------------------------


def _short(statement: str) -> str:
    words = statement.replace('"', "").split()
    if not words:
        return statement
    upper = [w.upper() for w in words]
    verb = upper[0]
    if verb == "WITH":
        verb = "WITH…" + next((w for w in upper if w in {"INSERT", "UPDATE", "DELETE"}), "SELECT")
    for marker in ("INTO", "FROM", "UPDATE"):
        if marker in upper[1:]:
            idx = upper.index(marker, 1)
            table = words[idx + 1] if idx + 1 < len(words) else "?"
            extra = " ON CONFLICT" if "CONFLICT" in upper else ""
            extra += " RETURNING" if "RETURNING" in upper else ""
            return f"{verb} {table}{extra}"[:60]
    return " ".join(words[:3])[:60]


def _trip(labels: Sequence[str]) -> str:
    return " + ".join(_short(s) if not s.startswith("(") else s for s in labels) or "(?)"


def report_sequential(rows: list[SideResult], sizes: Sizes) -> None:
    raw = next(r for r in rows if r.name == RAW)
    print_table(
        f"a-c. Sequential throughput ({sizes.rounds} interleaved rounds x {sizes.ops_per_round}"
        " ops per side, medians; round trips counted on the wire incl. BEGIN/COMMIT/prepare;"
        " CPU, in-driver and outside-driver times per op from a separate interleaved batch)",
        [
            "side",
            "ops/s",
            "vs raw",
            "p50",
            "p99",
            "stmts",
            "round trips",
            "client CPU",
            "in psycopg",
            "outside psycopg",
        ],
        [
            [
                r.name,
                fmt_rate(r.per_s),
                f"{r.per_s / raw.per_s:.1%}",
                fmt_ms(r.p50, 3),
                fmt_ms(r.p99, 3),
                r.statements,
                r.round_trips,
                fmt_ms(r.cpu, 3),
                fmt_ms(r.driver, 3),
                fmt_ms(r.wall - r.driver, 3),
            ]
            for r in rows
        ],
    )
    for r in rows:
        if r.name.startswith("ours") or r.name in PEERS:
            print(f"   {r.name}: " + " | ".join(_trip(t) for t in r.wire))


def report_contention(results: list[RaceResult]) -> None:
    rows = []
    for r in results:
        cpu = median(r.cpu)
        rows.append(
            [
                r.processes,
                r.design,
                _winners(r.winners),
                r.double_bookings,
                ", ".join(f"{k}={v}" for k, v in r.errors.items()) or "0",
                fmt_ms(median(r.latencies), 1),
                fmt_ms(percentile(r.latencies, 99), 1),
                fmt_ms(percentile(r.from_release, 99), 1),
                f"{fmt_ms(median(r.wake_delays), 1)} / {fmt_ms(percentile(r.wake_delays, 99), 1)}",
                fmt_ms(cpu, 2),
                fmt_ms(median(r.driver), 1),
                fmt_ms(percentile(r.driver, 99), 1),
                fmt_ms(r.processes * cpu / CORES, 1),
                fmt_ms(median(r.makespans), 1),
                r.connects,
                "yes" if percentile(r.latencies, 99) < P99_GOAL else "NO",
            ]
        )
    print_table(
        "d. Contention: N processes released by a barrier onto the SAME date (capacity 1), a"
        " fresh date per round, all attempts set to start at one instant; latency = own start ->"
        " answer; 'from release' = the common start -> answer (adds the wake-up delay); CPU ="
        " the attempt's client CPU (process_time); psycopg = wall time inside driver calls"
        " (network + server + lock waits + run-queue); CPU floor = N x CPU /"
        f" {CORES} cores; makespan = the common start -> last answer",
        [
            "N",
            "design",
            "winners/round",
            "double bookings",
            "errors",
            "p50",
            "p99",
            "p99 from release",
            "wake delay p50 / p99",
            "CPU/attempt",
            "p50 psycopg",
            "p99 psycopg",
            "CPU floor",
            "p50 makespan",
            "connects",
            "p99<50ms",
        ],
        rows,
    )


def report_statements(results: list[RaceResult]) -> None:
    rows = []
    for r in results:
        if r.design not in {"booking_core", "pretix-style"}:
            continue
        for label, values in r.by_statement.items():
            rows.append(
                [
                    r.processes,
                    r.design,
                    label,
                    len(values),
                    fmt_ms(median(values), 2),
                    fmt_ms(percentile(values, 99), 1),
                    fmt_ms(max(values), 1),
                ]
            )
    print_table(
        "   Where the contended attempts wait: time inside psycopg per statement (the first"
        " execute of a transaction carries its BEGIN; a row or advisory lock wait shows in the"
        " statement that waits; commit = COMMIT round trip)",
        ["N", "design", "statement", "attempts", "p50", "p99", "max"],
        rows,
    )


def _winners(winners: list[int]) -> str:
    counts: dict[int, int] = {}
    for w in winners:
        counts[w] = counts.get(w, 0) + 1
    return ", ".join(f"{w}x{n}" for w, n in sorted(counts.items()))


def report_summary(rows: list[SideResult], races: list[RaceResult]) -> None:
    by_name = {r.name.split(" (varies")[0]: r for r in rows}
    raw = by_name[RAW]
    lines = []
    for label, side in (
        ("ours (capacity 1)", "ours: capacity 1"),
        (RAW, RAW),
        (RAW_AUTO, RAW_AUTO),
        *((d, d) for d in PEERS),
    ):
        r = by_name[side]
        design = "booking_core" if side.startswith("ours") else side
        cells = [
            label,
            fmt_rate(r.per_s),
            f"{r.per_s / raw.per_s:.1%}",
            r.round_trips,
        ]
        doubles = []
        for race in (x for x in races if x.design == design):
            cells.append(
                f"{fmt_ms(median(race.latencies), 1)} / {fmt_ms(percentile(race.latencies, 99), 1)}"
            )
            doubles.append(f"{race.double_bookings}/{len(race.winners)}")
        if design not in DESIGNS:
            cells.extend("-" for _ in {x.processes for x in races})
        cells.append(" + ".join(doubles) if doubles else "-")
        lines.append(cells)
    procs = sorted({x.processes for x in races})
    print_table(
        "e. Summary (sequential medians; contention p50 / p99 per attempt; double bookings ="
        " seats over capacity / rounds, per N)",
        [
            "design",
            "holds/s",
            "vs raw",
            "round trips",
            *(f"p50 / p99 @{n}" for n in procs),
            "double bookings",
        ],
        lines,
    )


def _git_head(library: str) -> str:
    """HEAD of the library's checkout, the last commit that changed its source, and whether
    that source has uncommitted changes."""
    where = str(Path(library).parent)

    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", "-C", where, *args], capture_output=True, text=True, check=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return "?"
        return out.stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    source = git("log", "-1", "--format=%h %cs %s", "--", ".")[:80]
    dirty = git("status", "--porcelain", "--", ".")
    state = f"UNCOMMITTED changes in {len(dirty.splitlines())} files" if dirty else "clean"
    return f"HEAD {head}; source last changed in {source}; {state}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (under a minute)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile N holds")
    parser.add_argument(
        "--processes", type=int, nargs="+", help="contending process counts (default 16 32)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=SEED_ROWS,
        metavar="ROWS",
        help=f"rows per side before measuring, then ANALYZE (default {SEED_ROWS:,}; 0: fresh"
        " empty tables, never analyzed)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.processes:
        sizes = Sizes(
            sizes.rounds,
            sizes.ops_per_round,
            sizes.warmup,
            tuple(args.processes),
            sizes.contention_rounds,
        )
    scratch = Scratch(os.environ.get("BOOKING_CORE_TEST_POSTGRES_URL", DEFAULT_PG_URL))
    started = time.perf_counter()
    mode = "quick" if args.quick else "full"
    print(f"bench_hold_floor ({mode} run), {dt.datetime.now():%Y-%m-%d %H:%M}")
    print(f"booking_core {booking_core.__file__} ({_git_head(booking_core.__file__)})")
    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, psycopg"
        f" {psycopg.__version__}, {CORES} CPUs, loadavg {os.getloadavg()[0]:.2f};"
        f" {scratch.server}"
    )
    print(
        f"Tables seeded with {args.seed:,} rows per side, then analyzed"
        if args.seed
        else "Fresh empty tables, never analyzed (plans made on empty tables: see SEED_ROWS)"
    )
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "booking_core.bootstrap", "sqlalchemy", "psycopg"])
    try:
        lib_db = scratch.create("lib")
        peers_db = scratch.create("peers")
        with new_app(scratch.sa_url(lib_db), create_schema=True):
            pass
        with psycopg.connect(scratch.conninfo(peers_db), autocommit=True) as conn:
            for ddl in PEERS_DDL:
                conn.execute(ddl)
        if args.seed:
            print(f"... seeding {args.seed:,} rows per side, ANALYZE", file=sys.stderr, flush=True)
            seed(scratch, lib_db, peers_db, args.seed)
        print("... sequential", file=sys.stderr, flush=True)
        rows, _variants = bench_sequential(scratch, lib_db, peers_db, sizes)
        report_sequential(rows, sizes)
        races: list[RaceResult] = []
        for n in sizes.processes:
            print(f"... contention, {n} processes", file=sys.stderr, flush=True)
            found, library = bench_contention(scratch, lib_db, peers_db, sizes, n)
            races.extend(found)
            if library != booking_core.__file__:
                print(f"!! race workers imported {library}")
        report_contention(races)
        report_statements(races)
        report_summary(rows, races)
        if args.profile:
            text, groups = profile_holds(scratch, lib_db, args.profile)
            print("\n" + text)
            print_table(
                "   The same profile, own time per hold grouped by package (cProfile's overhead"
                " inflates Python's share)",
                ["where", "per hold", "share"],
                groups,
            )
    finally:
        scratch.cleanup()
    print(f"\nTotal run time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
