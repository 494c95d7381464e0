"""Time-slot scheduling at scale (issue 15, section 7): slot searches, timed holds, contention.

    .venv/bin/python benchmarks/bench_slots.py [--quick] [--profile N] [--processes N]
                                               [--output PATH | --no-output]

PostgreSQL (and Redis for one side), in one run:

1. Month of slots. One tenant (Europe/Paris), 20 resources open on weekdays 08:00-18:00, one
   timed package needing any one of them (30 minutes, a start every 15 minutes), a 31-day
   window, 10,000 confirmed bookings seeded in bulk (COPY into bc_customers, bc_bookings and
   bc_time_claims, rows as the library writes them) over six months around the window.
   ``app.availability.slots`` without a cache, against a naive search that reads the claims
   of each resource for each day (31 x 20 queries, one connection, one transaction, each
   read's index range bounded at both ends, then the simple per-day computation on the same
   grid), and the same naive search with its range open below as the library writes it, all
   interleaved; the warm MemoryCache and Redis reads beside them. Every answer is compared
   start by start with ours (they must be equal).
   Statements and round trips are counted on the wire (the proxy of ``_common.WireCounter``),
   Redis round trips by counting redis-py's sends.
2. Growth. The same search on three databases holding 0, 10,000 and 100,000 bookings
   (100,000 = the 10,000 around the window plus 90,000 over the 18 months before and the 6
   after: a table that grew with history), interleaved; the 10k and 100k answers must be
   equal. Beside it, EXPLAIN ANALYZE of the claims query as ``held_time`` sends it and of a
   range-bounded form of it, to show what the table's size costs.
3. A timed hold on PostgreSQL: round trips per hold (single resource, an all-of hold of two
   resources, an any-of hold over 20 resources that assigns one, a single resource with 5,000
   claims in its past) and p50 / p99 against a raw INSERT+COMMIT and the date hold, all in the
   same interleaved rounds (warm memory cache, the fixed clock of ``bench_hold_floor``).
4. Contention: N processes (forkserver; 16 by default), each with its own app and connection
   made before the first barrier, released together onto ONE resource with pairwise
   overlapping 4-hour intervals (starts 15 minutes apart), a fresh day per round: exactly one
   winner per round (asserted, and counted in bc_time_claims afterwards), p50/p99 per attempt,
   client CPU per attempt.

``--profile N`` adds a cProfile of N slot searches (no cache, 100,000 bookings).
A full run (about 2 minutes) writes its tables to ``results/issue15-slots.md`` unless
``--no-output``; ``--quick`` (under a minute) writes nothing unless ``--output`` is given.

PostgreSQL comes from ``BOOKING_CORE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), Redis from
``BOOKING_CORE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``, a random key prefix,
deleted at the end); the run makes its scratch databases and drops them at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import io
import itertools
import multiprocessing as mp
import os
import platform
import pstats
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
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
from bench_hold_floor import Scratch, _git_head, _trip, raw_insert
from sqlalchemy import text

import booking_core
from booking_core import (
    BookingApp,
    BookingConflictError,
    BookingPolicy,
    CustomerDetails,
    PackageSchedule,
    ResourceNeed,
    SlotTiming,
    WeeklyHours,
    WorkingHours,
    connect,
)
from booking_core.adapters.sqlalchemy import make_engine
from booking_core.domain.schedule import Interval, slot_starts
from booking_core.testing import ManualClock

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
CORES = os.cpu_count() or 1
PARIS = ZoneInfo("Europe/Paris")
#: The benchmark's "now" (a Friday): fixed, so no hold lapses while it runs.
NOW = dt.datetime(2030, 6, 28, 12, 0, tzinfo=dt.UTC)
#: The searched window: 31 days from Monday 2030-07-01, local midnight in Paris.
WINDOW_START = dt.datetime(2030, 7, 1, tzinfo=PARIS)
WINDOW_END = WINDOW_START + dt.timedelta(days=31)
RESOURCES = 20
DURATION = dt.timedelta(minutes=30)
INTERVAL = dt.timedelta(minutes=15)
OPENS, CLOSES = dt.time(8), dt.time(18)
#: Seeded bookings sit on the half hours of a resource's day: 20 places per resource and weekday.
PLACES_PER_DAY = 20
#: The 10,000 lie in these local dates (weekdays), the window inside; the 90,000 more of the
#: 100k table lie in the two spans of EXTRA (history before, later bookings after).
CORE_SPAN = (dt.date(2030, 4, 1), dt.date(2030, 9, 30))
EXTRA_SPANS = (
    (dt.date(2028, 10, 1), dt.date(2030, 3, 31)),
    (dt.date(2030, 10, 1), dt.date(2031, 3, 31)),
)
CUSTOMERS = 2_000
PRICE, COMMISSION = 8_000, 800
#: What part 4 reports the contention p99 against (issue 14's goal for holds).
P99_GOAL = 0.050


@dataclass(frozen=True)
class Sizes:
    search_rounds: int
    searches_per_round: int
    growth_rounds: int
    hold_rounds: int
    holds_per_round: int
    hold_warmup: int
    contention_rounds: int
    sizes: tuple[int, ...] = (0, 10_000, 100_000)


FULL = Sizes(
    search_rounds=11,
    searches_per_round=4,
    growth_rounds=11,
    hold_rounds=13,
    holds_per_round=100,
    hold_warmup=20,
    contention_rounds=40,
)
QUICK = Sizes(
    search_rounds=3,
    searches_per_round=2,
    growth_rounds=3,
    hold_rounds=3,
    holds_per_round=20,
    hold_warmup=10,
    contention_rounds=20,
)


# --- output: printed and kept for the results file ---------------------------------------------


class Tee(io.TextIOBase):
    """Everything printed goes to the terminal and into :attr:`text`."""

    def __init__(self, out: Any) -> None:
        self._out = out
        self._buffer = io.StringIO()

    def write(self, data: str) -> int:
        self._out.write(data)
        self._buffer.write(data)
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    @property
    def text(self) -> str:
        return self._buffer.getvalue()


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def progress(message: str) -> None:
    print(f"... {message} ({load()})", file=sys.stderr, flush=True)


# --- scratch databases and Redis ---------------------------------------------------------------


class SlotScratch(Scratch):
    """``bench_hold_floor``'s scratch databases under this benchmark's name."""

    def create(self, label: str) -> str:
        name = f"bench_slots_{os.getpid()}_{label}"
        with self.admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return name


class RedisRoundTrips:
    """Counts what redis-py sends in this process (one send = one request/response exchange:
    a command, an ``MGET`` or a pipeline), while :attr:`on`."""

    def __init__(self) -> None:
        self.count = 0
        self.on = False
        self._saved: tuple[Any, Any] | None = None

    def install(self) -> None:
        from redis.connection import AbstractConnection  # noqa: PLC0415 - optional

        original = AbstractConnection.send_packed_command
        counter = self

        def counted(conn: Any, command: Any, check_health: bool = True) -> Any:
            if counter.on:
                counter.count += 1
            return original(conn, command, check_health)

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        self._saved = (AbstractConnection, original)

    def uninstall(self) -> None:
        if self._saved is not None:
            cls, original = self._saved
            cls.send_packed_command = original
            self._saved = None

    @contextlib.contextmanager
    def recording(self) -> Iterator[RedisRoundTrips]:
        self.count, self.on = 0, True
        try:
            yield self
        finally:
            self.on = False


def redis_reachable(url: str) -> bool:
    try:
        import redis  # noqa: PLC0415 - optional

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception:
        return False
    return True


def drop_redis_prefix(url: str, prefix: str) -> None:
    import redis  # noqa: PLC0415 - optional

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for at in range(0, len(keys), 500):
            client.delete(*keys[at : at + 500])
    finally:
        client.close()


# --- the month world: a tenant, 20 resources, one package; bulk seeding ----------------------


@dataclass(frozen=True)
class World:
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    resource_ids: tuple[uuid.UUID, ...]


WEEKDAYS = WorkingHours(weekly=tuple(WeeklyHours(day, OPENS, CLOSES) for day in range(5)))
ALWAYS = WorkingHours(weekly=tuple(WeeklyHours(day, dt.time(0), dt.time(0)) for day in range(7)))
MONTH_TIMING = SlotTiming(duration=DURATION, slot_interval=INTERVAL)


def new_app(url: str, cache_url: str | None = None, **engine_options: Any) -> BookingApp:
    return connect(url, cache_url=cache_url, clock=ManualClock(NOW), **engine_options)


def new_tenant(app: BookingApp, slug: str, **policy: Any) -> uuid.UUID:
    return app.tenants.create(
        slug=slug,
        name=slug.title(),
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
        policy=BookingPolicy(**policy) if policy else None,
    ).id


def make_world(app: BookingApp) -> World:
    tenant_id = new_tenant(app, "month")
    ids = tuple(
        app.catalog.create_resource(
            tenant_id, name=f"Adviser {n:02d}", kind="staff", hours=WEEKDAYS
        ).id
        for n in range(RESOURCES)
    )
    package = app.catalog.create_package(
        tenant_id,
        slug="consult",
        name="Consultation",
        base_price=PRICE,
        schedule=PackageSchedule(MONTH_TIMING, resource_ids=ids),
    )
    return World(tenant_id, package.id, ids)


def _weekdays(first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@dataclass(frozen=True)
class Placed:
    resource: int
    start: dt.datetime  # UTC
    local_date: dt.date


def places(spans: Sequence[tuple[dt.date, dt.date]], count: int, seed: int) -> list[Placed]:
    """``count`` distinct half-hour places (resource, weekday, 08:00 + 30 min x k), chosen at
    random (fixed seed) over ``spans``: never two on one resource at once."""
    days = [day for first, last in spans for day in _weekdays(first, last)]
    total = len(days) * RESOURCES * PLACES_PER_DAY
    if count > total:
        msg = f"{count} bookings do not fit in {total} places"
        raise ValueError(msg)
    chosen = random.Random(seed).sample(range(total), count)
    found = []
    for index in chosen:
        day_index, rest = divmod(index, RESOURCES * PLACES_PER_DAY)
        resource, place = divmod(rest, PLACES_PER_DAY)
        day = days[day_index]
        local = dt.datetime.combine(day, OPENS, tzinfo=PARIS) + place * DURATION
        found.append(Placed(resource, local.astimezone(dt.UTC), day))
    return found


def seed_customers(conn: psycopg.Connection[Any], tenant_id: uuid.UUID) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(CUSTOMERS)]
    with conn.cursor().copy(
        "COPY bc_customers (tenant_id, id, name, email, phone, created_at) FROM STDIN"
    ) as copy:
        for n, customer_id in enumerate(ids):
            copy.write_row(
                (tenant_id, customer_id, f"Seeded {n}", f"seed{n}@example.com", None, NOW)
            )
    return ids


#: The rows a hold + confirm leaves, made on the server from three arrays (start, resource
#: index, local date): a CONFIRMED booking and its settled claim (lane 0, no day seat).
_SEED_ROWS = """
CREATE TEMPORARY TABLE seed ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, s.start, s.res, s.day, s.n
FROM unnest(%(starts)s::timestamptz[], %(resources)s::int[], %(days)s::date[])
    WITH ORDINALITY AS s(start, res, day, n)
"""
_SEED_BOOKINGS = """
INSERT INTO bc_bookings (tenant_id, id, package_id, customer_id, event_date, status,
    package_price, total, commission, currency, created_at, expires_at, confirmed_at,
    payment_ref, amount_paid, version, starts_at, ends_at, resource_ids)
SELECT %(tenant_id)s, id, %(package_id)s,
    (%(customers)s::uuid[])[1 + n %% %(customer_count)s], day, 'CONFIRMED',
    %(price)s, %(price)s, %(commission)s, 'EUR', start - interval '7 days',
    start - interval '7 days' + interval '15 minutes',
    start - interval '7 days' + interval '5 minutes',
    'seed-' || left(replace(id::text, '-', ''), 12), %(price)s, 2,
    start, start + %(duration)s, json_build_array((%(resource_ids)s::text[])[res + 1])
FROM seed
"""
_SEED_CLAIMS = """
INSERT INTO bc_time_claims (tenant_id, booking_id, resource_id, package_id, lane, starts_at,
    ends_at, claim_day, day_seat, expires_at)
SELECT %(tenant_id)s, id, (%(resource_ids)s::uuid[])[res + 1], %(package_id)s, 0,
    start, start + %(duration)s, day, NULL, NULL
FROM seed
"""


def seed_bookings(
    conn: psycopg.Connection[Any],
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    resource_ids: Sequence[uuid.UUID],
    placed: Sequence[Placed],
    customers: Sequence[uuid.UUID],
) -> None:
    """Confirmed timed bookings and their settled time claims, as a hold + confirm writes
    them (lane 0, no day seat, ``expires_at`` NULL on the claim), in bulk on the server."""
    params = {
        "starts": [p.start for p in placed],
        "resources": [p.resource for p in placed],
        "days": [p.local_date for p in placed],
        "tenant_id": tenant_id,
        "package_id": package_id,
        "customers": list(customers),
        "customer_count": len(customers),
        "price": PRICE,
        "commission": COMMISSION,
        "duration": DURATION,
        "resource_ids": [str(r) for r in resource_ids],
    }
    conn.execute(_SEED_ROWS, params)
    conn.execute(_SEED_BOOKINGS, params)
    conn.execute(_SEED_CLAIMS, params)


def fast_load(conn: psycopg.Connection[Any]) -> None:
    """Bulk-load settings for this transaction: foreign-key triggers off (the rows are
    consistent by construction, as in a pg_restore with --disable-triggers) and no wait for
    the WAL flush. Every index and the exclusion constraint still check every row."""
    conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute("SET LOCAL synchronous_commit = off")


@dataclass
class SeededDb:
    bookings: int
    name: str
    url: str
    world: World
    seconds: float = 0.0


def seeded_db(scratch: SlotScratch, bookings: int) -> SeededDb:
    """A scratch database with the month world and ``bookings`` confirmed bookings (the first
    10,000 always the same ones, around the window)."""
    name = scratch.create(f"b{bookings}")
    url = scratch.sa_url(name)
    with new_app(url, create_schema=True) as app:
        world = make_world(app)
    t0 = time.perf_counter()
    core = min(bookings, 10_000)
    placed = places([CORE_SPAN], core, seed=1)
    if bookings > core:
        placed += places(EXTRA_SPANS, bookings - core, seed=2)
    with psycopg.connect(scratch.conninfo(name)) as conn:
        fast_load(conn)
        customers = seed_customers(conn, world.tenant_id)
        if placed:
            seed_bookings(
                conn, world.tenant_id, world.package_id, world.resource_ids, placed, customers
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a table after a bulk load
    return SeededDb(bookings, name, url, world, time.perf_counter() - t0)


# --- 1. the searches ---------------------------------------------------------------------------


def ours(app: BookingApp, world: World) -> Callable[[], list[Any]]:
    def search() -> list[Any]:
        return app.availability.slots(world.tenant_id, world.package_id, WINDOW_START, WINDOW_END)

    return search


#: The naive search's per-day read: one resource's live claims that touch one day's starts,
#: its index range bounded at both ends (no claim is longer than LONGEST_CLAIM) ...
NAIVE_CLAIMS = text(
    "SELECT starts_at, ends_at, lane FROM bc_time_claims"
    " WHERE tenant_id = :tenant_id AND resource_id = :resource_id"
    " AND starts_at < :until AND starts_at > :lowest AND ends_at > :since"
    " AND (expires_at IS NULL OR expires_at > :now)"
)
#: ... or open below, as the library's reads write it (the index range then starts at the
#: resource's first claim).
NAIVE_CLAIMS_OPEN = text(
    "SELECT starts_at, ends_at, lane FROM bc_time_claims"
    " WHERE tenant_id = :tenant_id AND resource_id = :resource_id"
    " AND starts_at < :until AND ends_at > :since"
    " AND (expires_at IS NULL OR expires_at > :now)"
)
#: No claim is longer than a 7-day service with a day of buffer each side (SlotTiming.check).
LONGEST_CLAIM = dt.timedelta(days=9)
NAIVE_PACKAGE = text("SELECT schedule FROM bc_packages WHERE tenant_id = :tenant_id AND id = :id")
NAIVE_RESOURCE = text(
    "SELECT hours, timezone, capacity FROM bc_resources WHERE tenant_id = :tenant_id AND id = :id"
)


def naive(
    engine: sqlalchemy.Engine, world: World, *, open_below: bool = False
) -> Callable[[], list[tuple[Any, ...]]]:
    """The search written the simple way: for each day and each resource, read that
    resource's claims of that day and keep the grid's starts no claim overlaps.

    Kind to it: the library's engine settings, one pooled connection and one transaction
    for the whole search, statements prepared by psycopg after their fifth run (and kept:
    the transaction commits); the package and each resource read once; its claims read
    bounded at both ends unless ``open_below``.
    """
    claims_sql = NAIVE_CLAIMS_OPEN if open_below else NAIVE_CLAIMS

    def search() -> list[tuple[Any, ...]]:
        now = NOW
        takers: dict[dt.datetime, list[uuid.UUID]] = {}
        # Committed, not rolled back: psycopg drops the statements it prepared inside a
        # transaction that rolls back (DEALLOCATE ALL), and would prepare them again each time.
        with engine.begin() as conn:
            schedule = conn.execute(
                NAIVE_PACKAGE, {"tenant_id": world.tenant_id, "id": world.package_id}
            ).scalar_one()
            timing = SlotTiming(
                duration=dt.timedelta(seconds=schedule["timing"]["duration"]),
                slot_interval=dt.timedelta(seconds=schedule["timing"]["slot_interval"]),
            )
            resources = []
            for resource_id in schedule["resource_ids"]:
                row = conn.execute(
                    NAIVE_RESOURCE, {"tenant_id": world.tenant_id, "id": uuid.UUID(resource_id)}
                ).one()
                hours = WorkingHours.from_primitive(row.hours)
                resources.append(
                    (
                        uuid.UUID(resource_id),
                        hours,
                        ZoneInfo(row.timezone or "Europe/Paris"),
                        row.capacity,
                    )
                )
            day = WINDOW_START
            while day < WINDOW_END:
                following = (day + dt.timedelta(days=1)).replace(tzinfo=PARIS)
                day_utc = Interval(day.astimezone(dt.UTC), following.astimezone(dt.UTC))
                for resource_id, hours, tz, capacity in resources:
                    since = day_utc.start - timing.buffer_before
                    claims = conn.execute(
                        claims_sql,
                        {
                            "tenant_id": world.tenant_id,
                            "resource_id": resource_id,
                            "lowest": since - LONGEST_CLAIM,
                            "since": since,
                            "until": day_utc.end + timing.duration + timing.buffer_after,
                            "now": now,
                        },
                    ).all()
                    opens = hours.open_intervals(tz, day_utc.start, day_utc.end)
                    earliest = max(day_utc.start, now + timing.min_notice)
                    if earliest >= day_utc.end:
                        continue
                    for start in slot_starts(opens, timing, Interval(earliest, day_utc.end)):
                        occupied = timing.occupied(start)
                        busy = sum(
                            1
                            for c in claims
                            if c.starts_at < occupied.end and c.ends_at > occupied.start
                        )
                        if busy < capacity:
                            takers.setdefault(start, []).append(resource_id)
                day = following
        return [(start, tuple(ids)) for start, ids in sorted(takers.items())]

    return search


def as_answer(slots: Sequence[Any]) -> list[tuple[dt.datetime, tuple[uuid.UUID, ...]]]:
    """A search's answer in a comparable form: (UTC start, resources), by start."""
    if slots and isinstance(slots[0], tuple):
        return [(start.astimezone(dt.UTC), tuple(ids)) for start, ids in slots]
    return [(slot.start.astimezone(dt.UTC), tuple(slot.resource_ids)) for slot in slots]


@dataclass
class SearchRow:
    name: str
    p50: float = 0.0
    p99: float = 0.0
    best: float = 0.0
    statements: int = 0
    queries: int = 0
    round_trips: int = 0
    redis_trips: int | None = None
    slots: int = 0
    pairs: int = 0
    cpu: float = 0.0
    # from a separate interleaved batch: wall per search, inside psycopg, inside free_slots
    wall: float = 0.0
    driver: float = 0.0
    compute: float | None = None


_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


def _is_query(statement: str) -> bool:
    return statement.split(" ", 1)[0].upper().rstrip(";") not in _CONTROL


def count_on_wire(
    operation: Callable[[], object], wire: WireCounter, redis_trips: RedisRoundTrips | None
) -> tuple[int, int, int, int | None, list[list[str]]]:
    """(statements, queries, round trips, Redis round trips, exchanges) of one warm call, the
    last of three recorded after eight unrecorded ones (psycopg prepares a statement at its
    fifth run); a note is printed when the three differ."""
    for _ in range(8):
        operation()
    seen = []
    for _ in range(3):
        with contextlib.ExitStack() as stack:
            tally = stack.enter_context(wire.recording())
            redis = stack.enter_context(redis_trips.recording()) if redis_trips else None
            operation()
        seen.append((tally, None if redis is None else redis.count))
    tally, redis_count = seen[-1]
    if len({(len(t.statements), t.round_trips, r) for t, r in seen}) > 1:
        print(
            f"   (round trips varied between three calls: {[(t.round_trips, r) for t, r in seen]})"
        )
    statements = tally.statements
    return (
        len(statements),
        sum(1 for s in statements if _is_query(s)),
        tally.round_trips,
        redis_count,
        tally.exchanges,
    )


def timed_with_cpu(operation: Callable[[], object]) -> tuple[Callable[[], object], list[float]]:
    """``operation`` wrapped to record its client CPU (process_time) per call."""
    cpu: list[float] = []

    def run() -> object:
        c0 = time.process_time()
        try:
            return operation()
        finally:
            cpu.append(time.process_time() - c0)

    return run, cpu


class ComputeClock:
    """Wall time inside ``availability.free_slots`` (the pure computation of a slot search
    from its facts), when the library has that function; else nothing is measured."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.found = False
        self._saved: Any = None

    def __enter__(self) -> ComputeClock:
        from booking_core.services import availability  # noqa: PLC0415

        original = getattr(availability, "free_slots", None)
        if original is None:
            return self
        self.found, self._saved = True, original
        clock = time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += clock() - t0

        availability.free_slots = timed  # type: ignore[assignment]
        return self

    def __exit__(self, *_exc: object) -> None:
        from booking_core.services import availability  # noqa: PLC0415

        if self._saved is not None:
            availability.free_slots = self._saved  # type: ignore[attr-defined]


def split_time(sides: dict[str, Callable[[], Any]], rows: dict[str, SearchRow], batch: int) -> None:
    """Where a search's wall time goes: a batch per side, interleaved (forward, then back),
    with psycopg's calls and ``free_slots`` timed."""
    driver = DriverClock()
    compute = ComputeClock()
    with driver, compute:
        for name in list(sides) + list(sides)[::-1]:
            walls, drivers, computes = [], [], []
            for _ in range(batch):
                driver.reset()
                compute.seconds = 0.0
                t0 = time.perf_counter()
                sides[name]()
                walls.append(time.perf_counter() - t0)
                drivers.append(driver.seconds)
                computes.append(compute.seconds)
            row = rows[name]
            row.wall += median(walls) / 2
            row.driver += median(drivers) / 2
            if compute.found and not name.startswith("naive"):
                row.compute = (row.compute or 0.0) + median(computes) / 2


NAIVE = "naive: a query per day and resource"
NAIVE_OPEN = "naive, its range open below"


def bench_month(
    scratch: SlotScratch, db: SeededDb, sizes: Sizes, redis_url: str | None
) -> tuple[list[SearchRow], list[str]]:
    """Part 1 on the 10,000-booking database."""
    wire = WireCounter(scratch.url.host or "127.0.0.1", scratch.url.port or 5432)
    redis_trips = RedisRoundTrips()
    prefix = f"bench-slots-{os.getpid()}"
    notes: list[str] = []
    apps: list[BookingApp] = []
    engines: list[sqlalchemy.Engine] = []

    def app_for(url: str, cache_url: str | None = None) -> BookingApp:
        app = new_app(url, cache_url)
        apps.append(app)
        return app

    def engine_for(url: str) -> sqlalchemy.Engine:
        engine = make_engine(url, pool_size=1)
        engines.append(engine)
        return engine

    def caches(url: str) -> dict[str, str]:
        found = {"ours, MemoryCache warm": "memory://"}
        if redis_url is not None:
            found["ours, Redis warm"] = f"{redis_url}?prefix={prefix}-{len(apps)}"
        return found

    redis_trips.install()
    try:
        world = db.world
        sides: dict[str, Callable[[], Any]] = {
            "ours, no cache": ours(app_for(db.url), world),
            NAIVE: naive(engine_for(db.url), world),
            NAIVE_OPEN: naive(engine_for(db.url), world, open_below=True),
        }
        for name, cache_url in caches(db.url).items():
            sides[name] = ours(app_for(db.url, cache_url), world)
        # The same answer from every side (and the naive one equal to ours).
        answers = {name: as_answer(side()) for name, side in sides.items()}
        reference = answers["ours, no cache"]
        for name, answer in answers.items():
            if answer != reference:
                msg = f"{name} answers differently from ours ({len(answer)} vs {len(reference)})"
                raise AssertionError(msg)
        cpu: dict[str, list[float]] = {}
        timed_sides = {}
        for name, side in sides.items():
            timed_sides[name], cpu[name] = timed_with_cpu(side)
        timed = interleaved_rounds(
            timed_sides,
            rounds=sizes.search_rounds,
            ops_per_round=sizes.searches_per_round,
            warmup=2,
        )
        rows = {
            name: SearchRow(
                name,
                p50=side.median_op,
                p99=percentile(side.op_seconds, 99),
                best=min(side.op_seconds),
                slots=len(reference),
                pairs=sum(len(ids) for _, ids in reference),
                cpu=median(cpu[name]),
            )
            for name, side in timed.items()
        }
        split_time(sides, rows, batch=max(2, sizes.searches_per_round))
        # Twins through the counting proxy, counted warm.
        twins: dict[str, Callable[[], Any]] = {
            "ours, no cache": ours(app_for(scratch.sa_url(db.name, wire.port)), world),
            NAIVE: naive(engine_for(scratch.sa_url(db.name, wire.port)), world),
            NAIVE_OPEN: naive(
                engine_for(scratch.sa_url(db.name, wire.port)), world, open_below=True
            ),
        }
        for name, cache_url in caches(db.url).items():
            twins[name] = ours(app_for(scratch.sa_url(db.name, wire.port), cache_url), world)
        for name, twin in twins.items():
            statements, queries, trips, redis, exchanges = count_on_wire(twin, wire, redis_trips)
            row = rows[name]
            row.statements, row.queries, row.round_trips = statements, queries, trips
            row.redis_trips = redis if "Redis" in name else None
            if name == "ours, no cache":
                notes.append(
                    "   ours, no cache, on the wire: " + " | ".join(_trip(t) for t in exchanges)
                )
        return list(rows.values()), notes
    finally:
        redis_trips.uninstall()
        for app in apps:
            app.close()
        for engine in engines:
            engine.dispose()
        wire.close()
        if redis_url is not None:
            with contextlib.suppress(Exception):
                drop_redis_prefix(redis_url, f"{prefix}-")


def report_month(rows: list[SearchRow], sizes: Sizes, db: SeededDb) -> None:
    by = {r.name: r for r in rows}
    base = by["ours, no cache"]
    naive_row = by[NAIVE]
    naive_open = by[NAIVE_OPEN]
    print_table(
        f"1. Month of slots: {RESOURCES} resources (weekdays {OPENS:%H:%M}-{CLOSES:%H:%M}"
        f" Europe/Paris), any one of them, {int(DURATION.total_seconds() // 60)}-minute service"
        f" every {int(INTERVAL.total_seconds() // 60)} minutes, 31 days from"
        f" {WINDOW_START:%Y-%m-%d}; {db.bookings:,} confirmed bookings in the table."
        f" {sizes.search_rounds} interleaved rounds x {sizes.searches_per_round} searches per"
        " side, medians; statements and round trips counted on the wire (BEGIN/COMMIT"
        " included); 'vs ours' = p50 / p50 of ours without a cache; the last three time"
        " columns split one search's wall time (a separate interleaved batch, medians): inside"
        " psycopg calls (network, server, row decoding), inside availability.free_slots (the"
        " computation from the facts; for naive the per-day computation is in 'rest'), and"
        " the rest (SQLAlchemy, rows to objects, cache reads and decoding, validation)",
        [
            "side",
            "p50",
            "p99",
            "best",
            "vs ours",
            "statements",
            "SQL queries",
            "PG round trips",
            "Redis round trips",
            "client CPU",
            "in psycopg",
            "in free_slots",
            "rest (Python)",
            "slots",
            "(start, resource) pairs",
        ],
        [
            [
                r.name,
                fmt_ms(r.p50, 1),
                fmt_ms(r.p99, 1),
                fmt_ms(r.best, 1),
                f"{r.p50 / base.p50:.2f}x",
                r.statements,
                r.queries,
                r.round_trips,
                "-" if r.redis_trips is None else r.redis_trips,
                fmt_ms(r.cpu, 1),
                fmt_ms(r.driver, 1),
                "-" if r.compute is None else fmt_ms(r.compute, 1),
                fmt_ms(r.wall - r.driver - (r.compute or 0.0), 1),
                f"{r.slots:,}",
                f"{r.pairs:,}",
            ]
            for r in rows
        ],
    )
    ratio = naive_row.p50 / base.p50
    print(
        f"   naive / ours (no cache), p50: {ratio:.1f}x"
        f" (goal >= 10x: {'met' if ratio >= 10 else 'NOT met'});"
        f" every answer equal ({base.slots:,} starts)"
    )
    print(
        f"   (the naive search reads each day's claims with starts_at > since - 9 days as well:"
        f" without that bound, as the library's own reads write the range, it takes"
        f" {naive_open.p50 / base.p50:.1f}x)"
    )


# --- 2. growth -----------------------------------------------------------------------------------

#: The claims read of a search as ``held_time`` sends it (``_statements.HELD_TIME``) ...
HELD_TIME_SQL = (
    "SELECT * FROM bc_time_claims WHERE tenant_id = %(tenant_id)s"
    " AND resource_id = ANY(%(resource_ids)s) AND starts_at < %(window_end)s"
    " AND ends_at > %(window_start)s ORDER BY resource_id, starts_at, lane"
)
#: ... and two forms whose index scan is bounded at both ends: a lower bound on ``starts_at``
#: (no claim is longer than 7 days + 2 buffers of a day, SlotTiming.check), or the range
#: overlap that the exclusion constraint's GiST index answers.
BOUNDED_SQL = HELD_TIME_SQL.replace(
    "AND ends_at >", "AND starts_at > %(lowest_start)s AND ends_at >"
)
RANGE_SQL = (
    "SELECT * FROM bc_time_claims WHERE tenant_id = %(tenant_id)s"
    " AND resource_id = ANY(%(resource_ids)s)"
    " AND tstzrange(starts_at, ends_at, '[)') && tstzrange(%(window_start)s, %(window_end)s, '[)')"
    " ORDER BY resource_id, starts_at, lane"
)


@dataclass
class Explained:
    plan: str
    rows: int
    read: int  # rows the scans returned + removed by their filters
    ms: float


def explain(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> Explained:
    timings = []
    found: dict[str, Any] = {}
    for _ in range(5):
        row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()
        assert row is not None
        found = row[0][0]
        timings.append(found["Execution Time"])
    scans: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if "Scan" in node["Node Type"]:
            scans.append(node)
        for child in node.get("Plans", ()):
            walk(child)

    walk(found["Plan"])
    plan = " + ".join(
        f"{n['Node Type']}" + (f" on {n['Index Name']}" if "Index Name" in n else "") for n in scans
    )
    read = sum(
        n.get("Actual Rows", 0)
        + n.get("Rows Removed by Filter", 0)
        + n.get("Rows Removed by Index Recheck", 0)
        for n in scans
        if n["Node Type"] != "Bitmap Index Scan"
    )
    return Explained(plan, found["Plan"]["Actual Rows"], read, median(timings))


@dataclass
class GrowthRow:
    bookings: int
    in_reach: int
    p50: float
    p99: float
    statements: int
    round_trips: int
    held_time: Explained
    bounded: Explained
    ranged: Explained
    slots: int
    seed_seconds: float


def bench_growth(scratch: SlotScratch, dbs: list[SeededDb], sizes: Sizes) -> list[GrowthRow]:
    wire = WireCounter(scratch.url.host or "127.0.0.1", scratch.url.port or 5432)
    apps = [new_app(db.url) for db in dbs]
    twins: list[BookingApp] = []
    try:
        sides = {f"{db.bookings:,}": ours(app, db.world) for db, app in zip(dbs, apps, strict=True)}
        answers = {name: as_answer(side()) for name, side in sides.items()}
        # Each database has its own resource ids: compare by the resource's place in the package.
        by_size = {
            db.bookings: [
                (start, tuple(db.world.resource_ids.index(r) for r in ids))
                for start, ids in answers[f"{db.bookings:,}"]
            ]
            for db in dbs
        }
        if 10_000 in by_size and 100_000 in by_size and by_size[10_000] != by_size[100_000]:
            raise AssertionError("the 10k and 100k searches answer differently")
        timed = interleaved_rounds(
            sides, rounds=sizes.growth_rounds, ops_per_round=sizes.searches_per_round, warmup=2
        )
        rows = []
        for db in dbs:
            name = f"{db.bookings:,}"
            twin_app = new_app(scratch.sa_url(db.name, wire.port))
            twins.append(twin_app)
            statements, _queries, trips, _redis, _exchanges = count_on_wire(
                ours(twin_app, db.world), wire, None
            )
            reach = Interval(
                WINDOW_START.astimezone(dt.UTC) - dt.timedelta(days=1),
                WINDOW_END.astimezone(dt.UTC) + DURATION + dt.timedelta(days=1),
            )
            params = {
                "tenant_id": db.world.tenant_id,
                "resource_ids": list(db.world.resource_ids),
                "window_start": reach.start,
                "window_end": reach.end,
                "lowest_start": reach.start - LONGEST_CLAIM,
            }
            with psycopg.connect(scratch.conninfo(db.name), autocommit=True) as conn:
                in_reach = conn.execute(
                    "SELECT count(*) FROM bc_time_claims WHERE tenant_id = %(tenant_id)s"
                    " AND starts_at < %(window_end)s AND ends_at > %(window_start)s",
                    params,
                ).fetchone()[0]
                held, bounded, ranged = (
                    explain(conn, sql, params) for sql in (HELD_TIME_SQL, BOUNDED_SQL, RANGE_SQL)
                )
            side = timed[name]
            rows.append(
                GrowthRow(
                    db.bookings,
                    in_reach,
                    side.median_op,
                    percentile(side.op_seconds, 99),
                    statements,
                    trips,
                    held,
                    bounded,
                    ranged,
                    len(answers[name]),
                    db.seconds,
                )
            )
        return rows
    finally:
        for app in apps + twins:
            app.close()
        wire.close()


def report_growth(rows: list[GrowthRow], sizes: Sizes) -> None:
    base = rows[0]
    print_table(
        f"2. Growth: the same search (no cache) with 0 / 10,000 / 100,000 bookings in the table"
        f" ({sizes.growth_rounds} interleaved rounds x {sizes.searches_per_round}, medians). The"
        " 10k lie around the window; the 100k add 90k over the 18 months before and the 6 after"
        " (the window's claims are the same, so are the answers). 'claims in reach' = claims"
        " overlapping the window +/- a day",
        [
            "bookings",
            "seeded in",
            "claims in reach",
            "p50",
            "p99",
            "vs 0",
            "goal <= 2x",
            "statements",
            "round trips",
            "slots",
        ],
        [
            [
                f"{r.bookings:,}",
                f"{r.seed_seconds:.1f} s",
                f"{r.in_reach:,}",
                fmt_ms(r.p50, 1),
                fmt_ms(r.p99, 1),
                f"{r.p50 / base.p50:.2f}x",
                "yes" if r.p50 / base.p50 <= 2 else "NO",
                r.statements,
                r.round_trips,
                f"{r.slots:,}",
            ]
            for r in rows
        ],
    )
    print_table(
        "   The claims read alone (EXPLAIN ANALYZE, median of 5 executions on the server): as"
        " held_time sends it (starts_at < end AND ends_at > start: the btree range is open"
        " below), with a lower bound starts_at > start - 9 days (the longest claim), and as a"
        " tstzrange overlap (the exclusion constraint's GiST index)",
        ["bookings", "form", "plan (scans)", "rows returned", "rows read", "server time"],
        [
            [f"{r.bookings:,}", form, e.plan, f"{e.rows:,}", f"{e.read:,}", fmt_ms(e.ms / 1000, 2)]
            for r in rows
            for form, e in (
                ("as sent", r.held_time),
                ("lower bound", r.bounded),
                ("tstzrange &&", r.ranged),
            )
        ],
    )


# --- 3. timed holds on PostgreSQL --------------------------------------------------------------

RAW = "raw INSERT+COMMIT"
DATE_HOLD = "date hold (capacity 1)"
SOLO = "timed, 1 resource"
PAIR = "timed, all of 2 resources"
POOL = "timed, any of 20 (assigned)"
HISTORY = "timed, 1 resource with 5,000 past claims"
HOLD_SIDES = (RAW, DATE_HOLD, SOLO, PAIR, POOL, HISTORY)
#: Timed holds start from here, one every 30 minutes (the resources are open around the clock).
HOLD_BASE = dt.datetime(2030, 7, 1, tzinfo=dt.UTC)
HOLD_DAY0 = dt.date(2030, 7, 1)


@dataclass(frozen=True)
class HoldWorld:
    tenant_id: uuid.UUID
    packages: dict[str, uuid.UUID]
    date_tenant: uuid.UUID
    date_package: uuid.UUID
    history_resource: uuid.UUID


def make_hold_world(app: BookingApp) -> HoldWorld:
    tenant_id = new_tenant(app, "holds")

    def resources(prefix: str, count: int) -> tuple[uuid.UUID, ...]:
        return tuple(
            app.catalog.create_resource(
                tenant_id, name=f"{prefix} {n}", kind="staff", hours=ALWAYS
            ).id
            for n in range(count)
        )

    def package(slug: str, ids: tuple[uuid.UUID, ...], need: ResourceNeed) -> uuid.UUID:
        timing = SlotTiming(duration=DURATION, slot_interval=INTERVAL)
        return app.catalog.create_package(
            tenant_id,
            slug=slug,
            name=slug.title(),
            base_price=PRICE,
            schedule=PackageSchedule(timing, resource_ids=ids, need=need),
        ).id

    history = resources("history", 1)
    packages = {
        SOLO: package("solo", resources("solo", 1), ResourceNeed.ANY),
        PAIR: package("pair", resources("pair", 2), ResourceNeed.ALL),
        POOL: package("pool", resources("pool", 20), ResourceNeed.ANY),
        HISTORY: package("history", history, ResourceNeed.ANY),
    }
    date_tenant = new_tenant(app, "dates", capacity_per_date=1, horizon_days=3650)
    date_package = app.catalog.create_package(
        date_tenant, slug="classic", name="Classic", base_price=95_000
    ).id
    return HoldWorld(tenant_id, packages, date_tenant, date_package, history[0])


def seed_history(conninfo: str, world: HoldWorld) -> None:
    """5,000 confirmed bookings of the history resource, every 30 minutes in the ~104 days
    before the benchmark's first hold (all in its past, as a resource's history is)."""
    first = HOLD_BASE - 5_000 * DURATION
    placed = [
        Placed(0, first + n * DURATION, (first + n * DURATION).astimezone(PARIS).date())
        for n in range(5_000)
    ]
    with psycopg.connect(conninfo) as conn:
        fast_load(conn)
        customers = seed_customers(conn, world.tenant_id)
        seed_bookings(
            conn,
            world.tenant_id,
            world.packages[HISTORY],
            [world.history_resource],
            placed,
            customers,
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a table after a bulk load


def hold_sides(
    app: BookingApp, raw_conn: psycopg.Connection[Any], world: HoldWorld, counters: dict[str, Any]
) -> dict[str, Callable[[], object]]:
    """The sides of part 3 through ``app``; ``counters`` hand out starts and dates once across
    every app (the timed and the counting twins)."""
    serial = itertools.count()

    def customer() -> CustomerDetails:
        n = next(serial)
        return CustomerDetails(f"Guest {n}", f"g{os.getpid()}x{n}@example.com")

    def timed(name: str) -> Callable[[], object]:
        package_id = world.packages[name]

        def hold() -> object:
            start = HOLD_BASE + next(counters[name]) * DURATION
            return app.bookings.hold(
                world.tenant_id, package_id=package_id, start=start, customer=customer()
            )

        return hold

    def date_hold() -> object:
        day = HOLD_DAY0 + dt.timedelta(days=next(counters[DATE_HOLD]))
        return app.bookings.hold(
            world.date_tenant, package_id=world.date_package, date=day, customer=customer()
        )

    return {
        RAW: raw_insert(raw_conn),
        DATE_HOLD: date_hold,
        **{name: timed(name) for name in (SOLO, PAIR, POOL, HISTORY)},
    }


@dataclass
class HoldRow:
    name: str
    per_s: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    cpu: float = 0.0
    statements: int = 0
    round_trips: int = 0
    wire: list[list[str]] = field(default_factory=list)


#: The read of a timed hold's claim (the ``near`` part of the statement): the resource's live
#: claims in the way of the new one, as sent, with a lower bound, and as a range overlap.
NEAR_SQL = (
    "SELECT lane, day_seat FROM bc_time_claims WHERE tenant_id = %(tenant_id)s"
    " AND resource_id = %(resource_id)s AND (expires_at IS NULL OR expires_at > %(now)s)"
    " AND starts_at < %(occupied_end)s AND ends_at > %(occupied_start)s"
)
NEAR_BOUNDED_SQL = NEAR_SQL.replace(
    "AND ends_at >", "AND starts_at > %(lowest_start)s AND ends_at >"
)
NEAR_RANGE_SQL = (
    "SELECT lane, day_seat FROM bc_time_claims WHERE tenant_id = %(tenant_id)s"
    " AND resource_id = %(resource_id)s AND (expires_at IS NULL OR expires_at > %(now)s)"
    " AND tstzrange(starts_at, ends_at, '[)')"
    " && tstzrange(%(occupied_start)s, %(occupied_end)s, '[)')"
)


def explain_near(
    conninfo: str, world: HoldWorld, counters: dict[str, Any]
) -> list[tuple[str, Explained]]:
    start = HOLD_BASE + (next(counters[HISTORY]) + 1) * DURATION
    params = {
        "tenant_id": world.tenant_id,
        "resource_id": world.history_resource,
        "now": NOW,
        "occupied_start": start,
        "occupied_end": start + DURATION,
        "lowest_start": start - LONGEST_CLAIM,
    }
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("ANALYZE bc_time_claims")
        claims = conn.execute(
            "SELECT count(*) FROM bc_time_claims WHERE tenant_id = %(tenant_id)s"
            " AND resource_id = %(resource_id)s",
            params,
        ).fetchone()[0]
        return [
            (f"as sent ({claims:,} claims on the resource)", explain(conn, NEAR_SQL, params)),
            ("lower bound", explain(conn, NEAR_BOUNDED_SQL, params)),
            ("tstzrange &&", explain(conn, NEAR_RANGE_SQL, params)),
        ]


def bench_holds(
    scratch: SlotScratch, sizes: Sizes
) -> tuple[list[HoldRow], list[tuple[str, Explained]]]:
    name = scratch.create("holds")
    url = scratch.sa_url(name)
    with new_app(url, create_schema=True) as setup:
        world = make_hold_world(setup)
    seed_history(scratch.conninfo(name), world)
    with psycopg.connect(scratch.conninfo(name), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE raw_inserts (id UUID PRIMARY KEY, resource_id BIGINT NOT NULL,"
            " event_date DATE NOT NULL, status TEXT NOT NULL, total BIGINT NOT NULL,"
            " created_at TIMESTAMPTZ NOT NULL)"
        )
        conn.execute("CREATE INDEX ix_raw ON raw_inserts (resource_id, event_date)")
    counters = {side: itertools.count() for side in HOLD_SIDES}
    wire = WireCounter(scratch.url.host or "127.0.0.1", scratch.url.port or 5432)
    app = new_app(url, "memory://")
    raw_conn = psycopg.connect(scratch.conninfo(name))
    twin_app = new_app(scratch.sa_url(name, wire.port), "memory://")
    twin_raw = psycopg.connect(scratch.conninfo(name, wire.port))
    try:
        cpu: dict[str, list[float]] = {}
        sides = {}
        for side, call in hold_sides(app, raw_conn, world, counters).items():
            sides[side], cpu[side] = timed_with_cpu(call)
        timed = interleaved_rounds(
            sides,
            rounds=sizes.hold_rounds,
            ops_per_round=sizes.holds_per_round,
            warmup=sizes.hold_warmup,
        )
        rows = {
            side: HoldRow(
                side,
                per_s=t.median_rate,
                p50=t.median_op,
                p99=percentile(t.op_seconds, 99),
                cpu=median(cpu[side]),
            )
            for side, t in timed.items()
        }
        for side, twin in hold_sides(twin_app, twin_raw, world, counters).items():
            statements, _queries, trips, _redis, exchanges = count_on_wire(twin, wire, None)
            row = rows[side]
            row.statements, row.round_trips, row.wire = statements, trips, exchanges
        near = explain_near(scratch.conninfo(name), world, counters)
        return [rows[side] for side in HOLD_SIDES], near
    finally:
        raw_conn.close()
        twin_raw.close()
        app.close()
        twin_app.close()
        wire.close()


def report_holds(rows: list[HoldRow], near: list[tuple[str, Explained]], sizes: Sizes) -> None:
    raw = next(r for r in rows if r.name == RAW)
    date = next(r for r in rows if r.name == DATE_HOLD)
    print_table(
        f"3. Holds on PostgreSQL ({sizes.hold_rounds} interleaved rounds x"
        f" {sizes.holds_per_round} per side, medians; warm memory cache; round trips counted on"
        " the wire incl. BEGIN/COMMIT; 'vs raw' = p50 / raw p50; each timed hold a fresh"
        " 30-minute start on resources open around the clock)",
        [
            "side",
            "holds/s",
            "p50",
            "p99",
            "vs raw",
            "client CPU",
            "statements",
            "round trips",
            "vs date hold",
        ],
        [
            [
                r.name,
                fmt_rate(r.per_s),
                fmt_ms(r.p50, 3),
                fmt_ms(r.p99, 3),
                f"{r.p50 / raw.p50:.1f}x",
                fmt_ms(r.cpu, 3),
                r.statements,
                r.round_trips,
                f"{r.round_trips - date.round_trips:+d}",
            ]
            for r in rows
        ],
    )
    for r in rows:
        if r.name != RAW:
            print(f"   {r.name}: " + " | ".join(_trip(t) for t in r.wire))
    print_table(
        "   The hold's read of the claims in its way on the resource with history (EXPLAIN"
        " ANALYZE, median of 5 executions on the server; the hold statement reads this twice:"
        " the lapsed claims it ends, then the live ones)",
        ["form", "plan (scans)", "rows returned", "rows read", "server time"],
        [[form, e.plan, f"{e.rows:,}", f"{e.read:,}", fmt_ms(e.ms / 1000, 3)] for form, e in near],
    )


# --- 4. contention across processes ------------------------------------------------------------

#: The raced package: 4 hours every 15 minutes, so 16 starts 15 minutes apart all overlap.
RACE_TIMING = SlotTiming(duration=dt.timedelta(hours=4), slot_interval=INTERVAL)
RACE_DAY0 = dt.date(2030, 7, 1)
RACE_WARM_DAY0 = dt.date(2031, 1, 1)


@dataclass(frozen=True)
class RaceConfig:
    url: str
    tenant_id: uuid.UUID
    race_package: uuid.UUID
    race_resource: uuid.UUID
    warm_packages: tuple[uuid.UUID, ...]  # one per process, on a resource of its own
    processes: int
    rounds: int


@dataclass(frozen=True)
class Attempt:
    round: int
    index: int
    start: dt.datetime
    outcome: str  # won / taken / an exception's name
    released: float  # perf_counter (CLOCK_MONOTONIC: comparable across processes)
    woke: float
    ended: float
    cpu: float


def race_start(day: dt.date, index: int, round_no: int, processes: int) -> dt.datetime:
    """Process ``index``'s start on ``day``: 08:00 UTC + 15 min x a per-round rotation."""
    offset = (index + round_no) % processes
    return dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC) + offset * INTERVAL


def set_start(start_at: Any, margin: float) -> None:
    """The barrier's action: the common start instant of the round, ``margin`` ahead."""
    start_at.value = time.perf_counter() + margin


def race_worker(config: RaceConfig, index: int, barrier: Any, start_at: Any, results: Any) -> None:
    try:
        results.put(_race_worker(config, index, barrier, start_at))
    except BaseException as error:  # report, never hang the parent
        barrier.abort()
        results.put({"index": index, "fatal": f"{type(error).__name__}: {error}"})


def _race_worker(config: RaceConfig, index: int, barrier: Any, start_at: Any) -> dict[str, Any]:
    app = new_app(config.url, "memory://", pool_size=1, max_overflow=2)
    customer = CustomerDetails(f"Racer {index}", f"racer{index}@example.com")
    attempts: list[Attempt] = []
    try:
        # Warm-up on a resource of its own: pool connection open, statements prepared.
        for k in range(6):
            start = (
                dt.datetime.combine(RACE_WARM_DAY0, dt.time(8), tzinfo=dt.UTC) + k * DURATION * 10
            )
            app.bookings.hold(
                config.tenant_id,
                package_id=config.warm_packages[index],
                start=start,
                customer=customer,
            )
        # Round -1 is a contended warm-up, not recorded.
        for round_no in range(-1, config.rounds):
            day = RACE_DAY0 + dt.timedelta(days=round_no + 1)
            start = race_start(day, index, round_no, config.processes)
            barrier.wait(timeout=120)
            released = start_at.value
            pause = released - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            cpu0 = time.process_time()
            woke = time.perf_counter()
            try:
                app.bookings.hold(
                    config.tenant_id,
                    package_id=config.race_package,
                    start=start,
                    customer=customer,
                )
                outcome = "won"
            except BookingConflictError:
                outcome = "taken"
            except Exception as error:
                outcome = type(error).__name__
            ended = time.perf_counter()
            if round_no >= 0:
                attempts.append(
                    Attempt(
                        round_no,
                        index,
                        start,
                        outcome,
                        released,
                        woke,
                        ended,
                        time.process_time() - cpu0,
                    )
                )
    finally:
        app.close()
    return {"index": index, "attempts": attempts, "library": booking_core.__file__}


@dataclass
class RaceResult:
    processes: int
    rounds: int
    winners: list[int]
    errors: dict[str, int]
    stored: list[int]  # claims on the raced resource per round day, read afterwards
    overlapping_pairs: int  # pairs of stored claims on the resource that overlap
    latencies: list[float]
    from_release: list[float]
    wake_delays: list[float]
    makespans: list[float]
    cpu: list[float]
    library: str


def bench_contention(scratch: SlotScratch, sizes: Sizes, processes: int) -> RaceResult:
    name = scratch.create("race")
    url = scratch.sa_url(name)
    with new_app(url, create_schema=True) as setup:
        tenant_id = new_tenant(setup, "race")
        court = setup.catalog.create_resource(tenant_id, name="Court", kind="room", hours=ALWAYS)
        race_package = setup.catalog.create_package(
            tenant_id,
            slug="race",
            name="Race",
            base_price=PRICE,
            schedule=PackageSchedule(RACE_TIMING, resource_ids=(court.id,)),
        ).id
        warm = []
        for n in range(processes):
            own = setup.catalog.create_resource(
                tenant_id, name=f"Warm {n}", kind="room", hours=ALWAYS
            )
            warm.append(
                setup.catalog.create_package(
                    tenant_id,
                    slug=f"warm-{n}",
                    name=f"Warm {n}",
                    base_price=PRICE,
                    schedule=PackageSchedule(MONTH_TIMING, resource_ids=(own.id,)),
                ).id
            )
    config = RaceConfig(
        url, tenant_id, race_package, court.id, tuple(warm), processes, sizes.contention_rounds
    )
    ctx = mp.get_context("forkserver")
    start_at = ctx.Value("d", 0.0, lock=False)
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
    attempts: list[Attempt] = [a for c in collected for a in c["attempts"]]
    by_round: dict[int, list[Attempt]] = {}
    for a in attempts:
        by_round.setdefault(a.round, []).append(a)
    releases = {r: group[0].released for r, group in by_round.items()}
    errors: dict[str, int] = {}
    for a in attempts:
        if a.outcome not in {"won", "taken"}:
            errors[a.outcome] = errors.get(a.outcome, 0) + 1
    days = [RACE_DAY0 + dt.timedelta(days=r + 1) for r in range(config.rounds)]
    with psycopg.connect(scratch.conninfo(name), autocommit=True) as conn:
        per_day = dict(
            conn.execute(
                "SELECT (starts_at AT TIME ZONE 'UTC')::date, count(*) FROM bc_time_claims"
                " WHERE tenant_id = %s AND resource_id = %s GROUP BY 1",
                (tenant_id, court.id),
            ).fetchall()
        )
        overlapping = conn.execute(
            "SELECT count(*) FROM bc_time_claims a JOIN bc_time_claims b"
            " ON a.tenant_id = b.tenant_id AND a.resource_id = b.resource_id"
            " AND a.booking_id < b.booking_id"
            " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
            " WHERE a.tenant_id = %s AND a.resource_id = %s",
            (tenant_id, court.id),
        ).fetchone()[0]
    return RaceResult(
        processes=processes,
        rounds=config.rounds,
        winners=[sum(1 for a in by_round[r] if a.outcome == "won") for r in sorted(by_round)],
        errors=errors,
        stored=[per_day.get(day, 0) for day in days],
        overlapping_pairs=overlapping,
        latencies=[a.ended - a.woke for a in attempts],
        from_release=[a.ended - releases[a.round] for a in attempts],
        wake_delays=[max(0.0, a.woke - releases[a.round]) for a in attempts],
        makespans=[max(a.ended for a in group) - releases[r] for r, group in by_round.items()],
        cpu=[a.cpu for a in attempts],
        library=collected[0]["library"],
    )


def _counts(values: Sequence[int]) -> str:
    found: dict[int, int] = {}
    for v in values:
        found[v] = found.get(v, 0) + 1
    return ", ".join(f"{v}x{n}" for v, n in sorted(found.items()))


def report_contention(race: RaceResult) -> None:
    won = race.latencies
    print_table(
        f"4. Contention: {race.processes} processes (forkserver, an app and a connection each)"
        " released by a barrier onto ONE resource, pairwise overlapping 4-hour intervals (starts"
        f" 15 minutes apart), a fresh day per round, {race.rounds} rounds; latency = own start"
        " -> answer; 'from release' = the common start -> answer; CPU = the attempt's client"
        f" CPU (process_time); CPU floor = N x CPU / {CORES} cores; makespan = the common start"
        " -> last answer",
        [
            "N",
            "rounds",
            "winners/round",
            "claims stored/round",
            "overlapping claims",
            "errors",
            "p50",
            "p99",
            "p99 from release",
            "wake delay p50 / p99",
            "CPU/attempt p50",
            "CPU p99",
            "CPU floor",
            "p50 makespan",
            "p99<50ms",
        ],
        [
            [
                race.processes,
                race.rounds,
                _counts(race.winners),
                _counts(race.stored),
                race.overlapping_pairs,
                ", ".join(f"{k}={v}" for k, v in race.errors.items()) or "0",
                fmt_ms(median(won), 1),
                fmt_ms(percentile(won, 99), 1),
                fmt_ms(percentile(race.from_release, 99), 1),
                f"{fmt_ms(median(race.wake_delays), 1)}"
                f" / {fmt_ms(percentile(race.wake_delays, 99), 1)}",
                fmt_ms(median(race.cpu), 2),
                fmt_ms(percentile(race.cpu, 99), 2),
                fmt_ms(race.processes * median(race.cpu) / CORES, 1),
                fmt_ms(median(race.makespans), 1),
                "yes" if percentile(won, 99) < P99_GOAL else "NO",
            ]
        ],
    )


# --- profiling ---------------------------------------------------------------------------------


def profile_searches(db: SeededDb, count: int) -> tuple[str, list[list[str]]]:
    with new_app(db.url) as app:
        search = ours(app, db.world)
        for _ in range(3):
            search()
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.runcall(lambda: [search() for _ in range(count)])
        wall = time.perf_counter() - t0
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    lines = [
        line
        for line in out.getvalue().splitlines()
        if line.strip() and "bench_slots" not in line and "List reduced" not in line
    ][:24]
    own = io.StringIO()
    pstats.Stats(profiler, stream=own).sort_stats("tottime").print_stats(12)
    own_lines = [
        line for line in own.getvalue().splitlines() if line.strip() and "List reduced" not in line
    ][-13:]
    return (
        f"cProfile of {count} searches (no cache, {db.bookings:,} bookings;"
        f" {fmt_ms(wall / count, 1)} per search under the profiler), top by cumulative time:\n"
        + "\n".join(lines)
        + "\n\n   top by own time:\n"
        + "\n".join(own_lines),
        _own_time_by_place(stats, count),
    )


def _own_time_by_place(stats: pstats.Stats, count: int) -> list[list[str]]:
    """The profile's own (tottime) seconds grouped by where the code lives, per search."""
    groups: dict[str, float] = {}
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, own, *_rest) in entries.items():
        path = filename.replace("\\", "/")
        if "bench_slots" in path:
            group = "the benchmark's loop"
        elif "/psycopg/" in path and function == "wait":
            group = "psycopg wait(): network + server"
        elif "/psycopg" in path:
            group = "psycopg (Python)"
        elif "/sqlalchemy/" in path:
            group = "SQLAlchemy"
        elif "/booking_core/" in path:
            rest = path.split("/booking_core/", 1)[1].removesuffix(".py")
            group = f"booking_core/{rest}"
        elif "/msgspec/" in path:
            group = "msgspec"
        elif "zoneinfo" in path or function in {
            "<method 'astimezone' of 'datetime.datetime' objects>"
        }:
            group = "zoneinfo / astimezone"
        elif path == "~":
            group = f"C builtins: {function}" if "datetime" in function else "C builtins (other)"
        else:
            group = "stdlib / other"
        groups[group] = groups.get(group, 0.0) + own
    total = sum(groups.values())
    ranked = sorted(groups.items(), key=lambda item: -item[1])
    return [
        [group, fmt_ms(seconds / count, 2), f"{seconds / total:.0%}"]
        for group, seconds in ranked[:14]
    ]


# --- main --------------------------------------------------------------------------------------


def write_results(path: Path, text_out: str, mode: str) -> None:
    header = (
        "# Issue 15: time-slot scheduling at scale\n\n"
        f"`benchmarks/bench_slots.py` ({mode} run). Re-run with"
        " `.venv/bin/python benchmarks/bench_slots.py` when the machine is quiet (a 1-minute"
        " load under ~1 on its 2 cores); every compared side runs in the same interleaved"
        " rounds, so only the ratios and counts of one run belong together.\n\n"
    )
    path.write_text(header + "```\n" + text_out.strip("\n") + "\n```\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (under a minute)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile N searches")
    parser.add_argument("--processes", type=int, default=16, help="contending processes (16)")
    parser.add_argument("--output", type=Path, help="write the tables here (markdown)")
    parser.add_argument("--no-output", action="store_true", help="write no results file")
    parser.add_argument(
        "--parts", default="1234", help="which parts to run, e.g. 12 (default 1234)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    output = args.output
    if output is None and not args.quick and not args.no_output:
        output = Path(__file__).resolve().parent / "results" / "issue15-slots.md"
    if args.no_output:
        output = None
    tee = Tee(sys.stdout)
    sys.stdout = tee  # type: ignore[assignment]
    scratch = SlotScratch(os.environ.get("BOOKING_CORE_TEST_POSTGRES_URL", DEFAULT_PG_URL))
    redis_url = os.environ.get("BOOKING_CORE_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    if not redis_reachable(redis_url):
        print(f"(Redis unreachable at {redis_url}: the Redis side is skipped)")
        redis_url = None
    started = time.perf_counter()
    print(f"bench_slots ({mode} run), {dt.datetime.now():%Y-%m-%d %H:%M}, {load()} at the start")
    print(f"booking_core {booking_core.__file__} ({_git_head(booking_core.__file__)})")
    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, psycopg"
        f" {psycopg.__version__}, {CORES} CPUs; {scratch.server}"
    )
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "booking_core.bootstrap", "sqlalchemy", "psycopg"])
    race: RaceResult | None = None
    try:
        dbs: list[SeededDb] = []
        if "1" in args.parts or "2" in args.parts or args.profile:
            for bookings in sizes.sizes if "2" in args.parts or args.profile else (10_000,):
                progress(f"seeding {bookings:,} bookings")
                dbs.append(seeded_db(scratch, bookings))
        if "1" in args.parts:
            progress("1. month of slots")
            month_db = next(db for db in dbs if db.bookings == 10_000)
            rows, notes = bench_month(scratch, month_db, sizes, redis_url)
            print(f"\n[{load()}]")
            report_month(rows, sizes, month_db)
            for note in notes:
                print(note)
        if "2" in args.parts:
            progress("2. growth")
            growth = bench_growth(scratch, dbs, sizes)
            print(f"\n[{load()}]")
            report_growth(growth, sizes)
        if "3" in args.parts:
            progress("3. holds")
            holds, near = bench_holds(scratch, sizes)
            print(f"\n[{load()}]")
            report_holds(holds, near, sizes)
        if "4" in args.parts:
            progress(f"4. contention, {args.processes} processes")
            race = bench_contention(scratch, sizes, args.processes)
            print(f"\n[{load()}]")
            report_contention(race)
            if race.library != booking_core.__file__:
                print(f"!! race workers imported {race.library}")
        if args.profile:
            progress("profile")
            text_out, groups = profile_searches(dbs[-1], args.profile)
            print("\n" + text_out)
            print_table(
                "   The same profile, own time per search grouped by where the code lives"
                " (cProfile's overhead inflates Python's share)",
                ["where", "per search", "share"],
                groups,
            )
    finally:
        scratch.cleanup()
    print(f"\nTotal run time {time.perf_counter() - started:.1f} s, {load()} at the end")
    sys.stdout = tee._out
    if output is not None:
        write_results(output, tee.text, mode)
        print(f"(written to {output})")
    if race is not None:
        assert all(n == 1 for n in race.winners), f"winners per round: {race.winners}"
        assert all(n == 1 for n in race.stored), f"claims stored per round: {race.stored}"
        assert race.overlapping_pairs == 0, f"{race.overlapping_pairs} overlapping claims"
    return 0


if __name__ == "__main__":
    sys.exit(main())
