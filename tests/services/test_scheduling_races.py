"""No two live bookings of a resource overlap past its capacity, under real concurrency.

Racers (8 spawned processes, or 8 threads, each with its own ``connect(url)``) are released
together by a barrier and book time through the public services, on PostgreSQL (the exclusion
constraint over ``tstzrange``; ``postgres+cache``: each racer has a cache, so plain timed holds
take the one-statement path) and on a SQLite file (one writer, check-then-insert inside
``BEGIN IMMEDIATE``). Five scenarios, each repeated for several rounds on a fresh tenant:

- ``overlap``: 10:00–11:00, 10:30–11:30 and 10:59–12:00 on a capacity-1 resource (packages of
  60 and 61 minutes on a one-minute grid): exactly one wins;
- ``buffer``: 11:00–12:00 and 12:10–13:10, apart but for a 15-minute buffer (after the first in
  even rounds, before the second in odd ones): exactly one wins;
- ``touch``: 10:00–11:00 and 11:00–12:00, no buffers: both times are booked, once each;
- ``class``: every racer at one start of a capacity-3 resource: exactly three win;
- ``reschedule``: four bookings rescheduled to 10:00 racing four holds of 10:00: exactly one
  wins, and every loser changed nothing (its booking keeps its time, status and claims).

After every round the database itself is read: no two live claims of one lane overlap, the live
bookings' occupied intervals (buffers included) never exceed the capacity at any instant (a
sweep), every winner's booking is live with its claims, and no live claim lacks its booking.
``BOOKING_CORE_LONG=1`` runs 30 rounds per scenario instead of 5.

A last test shows why a unique key on the start time is not enough: it lets 10:00–11:00 and
10:30–11:30 both in, where booking_core refuses the second.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import IntegrityError

from booking_core.adapters.sqlalchemy import tables as t
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import BookingStatus, CustomerDetails, PackageSchedule, Resource
from booking_core.domain.schedule import SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import BookingConflictError
from booking_core.testing import ManualClock

from ._slot_race_worker import Attempt, Outcome, ProcessRacers, Racers, ThreadRacers
from .conftest import START, unique_slug

LONG = os.environ.get("BOOKING_CORE_LONG", "") == "1"
RACERS = 8
ROUNDS = 30 if LONG else 5
SCENARIOS = ("overlap", "buffer", "touch", "class", "reschedule")

PARIS = ZoneInfo("Europe/Paris")
#: Monday 2030-06-17, two days after START (Saturday 2030-06-15 09:00 UTC).
MONDAY = dt.date(2030, 6, 17)
HOURS = WorkingHours(weekly=tuple(WeeklyHours(day, dt.time(9), dt.time(17)) for day in range(5)))
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
LIVE = ("PENDING", "CONFIRMED", "FULFILLED")


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    """A wall-clock time in Paris on ``day``, as UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(dt.UTC)


# --- the parent's side: studios, rounds, and what the database must say afterwards ------------


@dataclass
class Studio:
    """A tenant with one resource and the timed packages it serves."""

    tenant_id: uuid.UUID
    resource: Resource
    packages: dict[str, uuid.UUID]
    timings: dict[uuid.UUID, SlotTiming]


def make_studio(app: BookingApp, capacity: int, timings: dict[str, SlotTiming]) -> Studio:
    tenant = app.tenants.create(
        slug=unique_slug("race"),
        name="Race studio",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
    )
    resource = app.catalog.create_resource(
        tenant.id, name="Room", kind="room", capacity=capacity, hours=HOURS
    )
    packages: dict[str, uuid.UUID] = {}
    by_id: dict[uuid.UUID, SlotTiming] = {}
    for name, timing in timings.items():
        package = app.catalog.create_package(
            tenant.id,
            slug=name,
            name=name,
            base_price=5_000,
            schedule=PackageSchedule(timing, resource_ids=(resource.id,)),
        )
        packages[name] = package.id
        by_id[package.id] = timing
    return Studio(tenant.id, resource, packages, by_id)


@dataclass
class Round:
    """One round of a scenario: the studio, each racer's attempt, and what must come of it."""

    scenario: str
    number: int
    studio: Studio
    attempts: list[Attempt]
    wins: int
    #: rescheduled bookings: their rows and claims before the race
    before: dict[uuid.UUID, tuple[Any, ...]] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.scenario} round {self.number}"


def _holds(studio: Studio, plan: list[tuple[str, dt.datetime]], number: int) -> list[Attempt]:
    """Racer ``i`` holds ``plan[i % len(plan)]`` (package name, start)."""
    return [
        Attempt(
            "hold",
            studio.tenant_id,
            plan[i % len(plan)][1],
            package_id=studio.packages[plan[i % len(plan)][0]],
            email=f"r{i}-{number}@example.com",
        )
        for i in range(RACERS)
    ]


def prepare(app: BookingApp, scenario: str, number: int) -> Round:
    """A fresh studio for one round of ``scenario`` and the racers' attempts."""
    if scenario == "overlap":
        grid = {
            "p60": SlotTiming(duration=60 * MINUTE, slot_interval=MINUTE),
            "p61": SlotTiming(duration=61 * MINUTE, slot_interval=MINUTE),
        }
        studio = make_studio(app, 1, grid)
        plan = [("p60", at(10)), ("p60", at(10, 30)), ("p61", at(10, 59))]
        return Round(scenario, number, studio, _holds(studio, plan, number), wins=1)
    if scenario == "buffer":
        after = number % 2 == 0  # the first's buffer_after, or the second's buffer_before
        buffer = 15 * MINUTE
        timings = {
            "first": SlotTiming(
                duration=HOUR, buffer_after=buffer if after else dt.timedelta(0),
                slot_interval=10 * MINUTE,
            ),
            "second": SlotTiming(
                duration=HOUR, buffer_before=dt.timedelta(0) if after else buffer,
                slot_interval=10 * MINUTE,
            ),
        }  # fmt: skip
        studio = make_studio(app, 1, timings)
        plan = [("first", at(11)), ("second", at(12, 10))]
        return Round(scenario, number, studio, _holds(studio, plan, number), wins=1)
    if scenario == "touch":
        studio = make_studio(app, 1, {"p60": SlotTiming(duration=HOUR)})
        plan = [("p60", at(10)), ("p60", at(11))]
        return Round(scenario, number, studio, _holds(studio, plan, number), wins=2)
    if scenario == "class":
        studio = make_studio(app, 3, {"yoga": SlotTiming(duration=HOUR)})
        plan = [("yoga", at(16))]
        return Round(scenario, number, studio, _holds(studio, plan, number), wins=3)
    assert scenario == "reschedule"
    studio = make_studio(app, 1, {"p60": SlotTiming(duration=HOUR)})
    package_id = studio.packages["p60"]
    moving = []
    for n, hour in enumerate((13, 14, 15, 16)):
        booking = app.bookings.hold(
            studio.tenant_id,
            package_id=package_id,
            start=at(hour),
            customer=CustomerDetails("Mover", f"m{n}-{number}@example.com"),
        )
        if n % 2 == 0:
            app.bookings.confirm(studio.tenant_id, booking.id, payment_ref=f"pay-{n}")
        moving.append(booking.id)
    attempts = [
        Attempt("reschedule", studio.tenant_id, at(10), booking_id=booking_id)
        for booking_id in moving
    ]
    attempts += _holds(studio, [("p60", at(10))], number)[len(moving) :]
    engine = _engine(app)
    before = {booking_id: _row_and_claims(engine, studio, booking_id) for booking_id in moving}
    return Round(scenario, number, studio, attempts, wins=1, before=before)


def _engine(app: BookingApp) -> Engine:
    engine: Engine = app.uow.engine  # type: ignore[attr-defined]
    return engine


def _row_and_claims(engine: Engine, studio: Studio, booking_id: uuid.UUID) -> tuple[Any, ...]:
    """What a losing reschedule must leave as it was: the booking's row and its claims."""
    b, c = t.bookings.c, t.time_claims.c
    with engine.connect() as conn:
        row = conn.execute(
            select(b.status, b.starts_at, b.ends_at, b.resource_ids, b.version, b.expires_at).where(
                b.tenant_id == studio.tenant_id, b.id == booking_id
            )
        ).one()
        claims = conn.execute(
            select(c.resource_id, c.lane, c.starts_at, c.ends_at, c.expires_at)
            .where(c.tenant_id == studio.tenant_id, c.booking_id == booking_id)
            .order_by(c.resource_id)
        ).all()
    return (tuple(row), tuple(tuple(claim) for claim in claims))


def max_overlap(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most half-open intervals sharing one instant (a sweep: ends before starts)."""
    events = sorted([(lo, 1) for lo, _ in intervals] + [(hi, -1) for _, hi in intervals])
    running = most = 0
    for _, delta in events:
        running += delta
        most = max(most, running)
    return most


def broken(app: BookingApp, rnd: Round, outcomes: list[Outcome], now: dt.datetime) -> list[str]:
    """Every way the database or the racers' answers break the guarantee after a round."""
    studio = rnd.studio
    found = [f"racer {i}: {o.label}" for i, o in enumerate(outcomes) if o.label.startswith("err")]
    winners = [o for o in outcomes if o.won]
    if len(winners) != rnd.wins:
        found.append(f"{len(winners)} won, expected {rnd.wins}")
    starts = sorted(o.starts_at for o in winners if o.starts_at is not None)
    if rnd.scenario == "touch" and starts != [at(10), at(11)]:
        found.append(f"touching intervals: winners start at {starts}")

    b, c = t.bookings.c, t.time_claims.c
    engine = _engine(app)
    with engine.connect() as conn:
        bookings = conn.execute(
            select(
                b.id, b.package_id, b.status, b.starts_at, b.ends_at, b.expires_at, b.resource_ids
            ).where(b.tenant_id == studio.tenant_id)
        ).all()
        claims = conn.execute(
            select(c.booking_id, c.resource_id, c.lane, c.starts_at, c.ends_at, c.expires_at).where(
                c.tenant_id == studio.tenant_id
            )
        ).all()

    def live_claim(row: Any) -> bool:
        return row.expires_at is None or row.expires_at > now

    def live_booking(row: Any) -> bool:
        return row.status in LIVE and (row.status != "PENDING" or row.expires_at > now)

    # 1. the claims: no two live ones of one lane overlap, no lane past the capacity
    lanes: dict[tuple[uuid.UUID, int], list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for claim in filter(live_claim, claims):
        lanes[claim.resource_id, claim.lane].append((claim.starts_at, claim.ends_at))
        if claim.lane >= studio.resource.capacity:
            found.append(f"claim of booking {claim.booking_id} on lane {claim.lane}")
    for (resource_id, lane), spans in lanes.items():
        if max_overlap(spans) > 1:
            found.append(f"overlapping live claims on lane {lane} of {resource_id}: {spans}")

    # 2. the bookings: occupied intervals (buffers included) within the capacity at any instant
    live = {row.id: row for row in bookings if live_booking(row)}
    occupied = {}
    for row in live.values():
        timing = studio.timings[row.package_id]
        occupied[row.id] = (row.starts_at - timing.buffer_before, row.ends_at + timing.buffer_after)
        if [uuid.UUID(r) for r in row.resource_ids] != [studio.resource.id]:
            found.append(f"booking {row.id} occupies {row.resource_ids}")
    most = max_overlap(list(occupied.values()))
    if most > studio.resource.capacity:
        found.append(f"{most} live bookings overlap, capacity {studio.resource.capacity}")

    # 3. every live booking (every winner's among them) has its claim, and nothing else does
    claimed = defaultdict(list)
    for claim in filter(live_claim, claims):
        claimed[claim.booking_id].append((claim.resource_id, claim.starts_at, claim.ends_at))
    for booking_id, span in occupied.items():
        if claimed.get(booking_id) != [(studio.resource.id, *span)]:
            found.append(f"booking {booking_id} over {span} has claims {claimed.get(booking_id)}")
    orphans = set(claimed) - set(live)
    if orphans:
        found.append(f"live claims without a live booking: {orphans}")
    for winner in winners:
        won = live.get(winner.booking_id) if winner.booking_id else None
        if won is None or won.starts_at != winner.starts_at:
            found.append(f"winner's booking {winner.booking_id} is not live at its start")

    # 4. a reschedule race: losers changed nothing, and a losing hold left no booking
    if rnd.scenario == "reschedule":
        moved = [o.booking_id for o in winners if o.booking_id in rnd.before]
        for booking_id, was in rnd.before.items():
            if booking_id not in moved and _row_and_claims(engine, studio, booking_id) != was:
                found.append(f"the losing reschedule of {booking_id} changed it")
        expected = len(rnd.before) + len(winners) - len(moved)
        if len(bookings) != expected:
            found.append(f"{len(bookings)} bookings, expected {expected}")
    elif len(bookings) != len(winners):
        found.append(f"{len(bookings)} bookings for {len(winners)} winners")
    return found


def play(
    app: BookingApp, racers: Racers, url: str, cache_url: str | None, scenario: str
) -> Counter[str]:
    """Every round of ``scenario``; fails with each broken round's findings. Returns the
    outcomes seen (``won hold``, ``won reschedule``, ``BookingConflictError``…)."""
    now = START
    seen: Counter[str] = Counter()
    problems = []
    for number in range(ROUNDS):
        rnd = prepare(app, scenario, number)
        outcomes = racers.run(url, cache_url, now, rnd.attempts)
        for what, outcome in zip(rnd.attempts, outcomes, strict=True):
            seen[f"won {what.op}" if outcome.won else outcome.label] += 1
        problems += [f"{rnd.describe()}: {p}" for p in broken(app, rnd, outcomes, now)]
    where = f"{url.split(':', maxsplit=1)[0]}{'+cache' if cache_url else ''}"
    print(f"{racers.kind} x{racers.size}, {where}, {scenario}, {ROUNDS} rounds: {dict(seen)}")
    assert not problems, "\n".join(problems)
    return seen


def _db_url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend.startswith("postgres"):
        return str(request.getfixturevalue("pg_database_url"))
    return str(request.getfixturevalue("sqlite_file_url"))


def _cache_url(backend: str) -> str | None:
    """``postgres+cache``: each racer caches the package's terms, so PostgreSQL places its
    plain timed holds in one statement (the others go through the transaction)."""
    return "memory://" if backend.endswith("+cache") else None


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
RACED = [*DATABASES, pytest.param("postgres+cache", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module")
def process_racers() -> Iterator[ProcessRacers]:
    """Eight spawned racer processes, started once for every process test of this module."""
    racers = ProcessRacers(RACERS)
    try:
        yield racers
    finally:
        racers.close()


@pytest.fixture(scope="module")
def thread_racers() -> Iterator[ThreadRacers]:
    """Eight racer threads' apps (one engine each per database), kept for the module."""
    racers = ThreadRacers(RACERS)
    try:
        yield racers
    finally:
        racers.close()


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("backend", RACED)
def test_processes_racing_for_time(
    backend: str, scenario: str, process_racers: ProcessRacers, request: pytest.FixtureRequest
) -> None:
    """8 processes x 5 rounds per scenario: overlapping or buffer-separated intervals have one
    winner, touching ones two, a class of 3 three, a reschedule racing holds one; after every
    round the claims and the bookings in the database stay within capacity."""
    url = _db_url(backend, request)
    with connect(url, clock=ManualClock(START)) as app:
        seen = play(app, process_racers, url, _cache_url(backend), scenario)
    if scenario == "reschedule":
        assert seen["won reschedule"] + seen["won hold"] == ROUNDS


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("backend", RACED)
def test_threads_racing_for_time(
    backend: str, scenario: str, thread_racers: ThreadRacers, request: pytest.FixtureRequest
) -> None:
    """8 threads (an app each) x 5 rounds per scenario: the same outcomes and the same
    database invariants as the processes."""
    url = _db_url(backend, request)
    with connect(url, clock=ManualClock(START)) as app:
        play(app, thread_racers, url, _cache_url(backend), scenario)


# --- what a unique key on the start time would have allowed --------------------------------


@pytest.fixture
def scratch_engine(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, str]]:
    """An engine and a schema prefix of the test's own: a SQLite file, or a PostgreSQL schema
    of the session database (dropped afterwards)."""
    if backend == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield engine, ""
        engine.dispose()
        return
    url = str(request.getfixturevalue("pg_database_url"))
    schema = f"scratch_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield engine, f'"{schema}".'
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.mark.parametrize("backend", DATABASES)
def test_a_unique_key_on_the_start_time_double_books(
    backend: str, scratch_engine: tuple[Engine, str], request: pytest.FixtureRequest
) -> None:
    """A table with UNIQUE (resource_id, starts_at) takes 10:00–11:00 and 10:30–11:30 of one
    resource (two overlapping rows, only an equal start is refused); booking_core refuses the
    second."""
    engine, schema = scratch_engine
    table = f"{schema}naive_slots"
    resource = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {table} (resource_id VARCHAR(36) NOT NULL, "
                "starts_at VARCHAR(32) NOT NULL, ends_at VARCHAR(32) NOT NULL, "
                "UNIQUE (resource_id, starts_at))"
            )
        )
    insert = text(f"INSERT INTO {table} VALUES (:r, :s, :e)")
    for lo, hi in ((at(10), at(11)), (at(10, 30), at(11, 30))):
        with engine.begin() as conn:
            conn.execute(insert, {"r": resource, "s": lo.isoformat(), "e": hi.isoformat()})
    with pytest.raises(IntegrityError), engine.begin() as conn:  # only an equal start clashes
        conn.execute(insert, {"r": resource, "s": at(10).isoformat(), "e": at(10, 45).isoformat()})
    with engine.connect() as conn:
        overlapping = conn.execute(
            text(
                f"SELECT a.starts_at, b.starts_at FROM {table} a JOIN {table} b "
                "ON a.resource_id = b.resource_id AND a.starts_at < b.starts_at "
                "AND b.starts_at < a.ends_at AND a.starts_at < b.ends_at"
            )
        ).all()
    assert [tuple(row) for row in overlapping] == [(at(10).isoformat(), at(10, 30).isoformat())]

    with connect(_db_url(backend, request), clock=ManualClock(START)) as app:
        studio = make_studio(app, 1, {"p60": SlotTiming(duration=HOUR, slot_interval=30 * MINUTE)})
        package_id = studio.packages["p60"]
        first = app.bookings.hold(
            studio.tenant_id,
            package_id=package_id,
            start=at(10),
            customer=CustomerDetails("A", "a@example.com"),
        )
        assert first.status is BookingStatus.PENDING
        with pytest.raises(BookingConflictError) as refused:
            app.bookings.hold(
                studio.tenant_id,
                package_id=package_id,
                start=at(10, 30),
                customer=CustomerDetails("B", "b@example.com"),
            )
        assert refused.value.start == at(10, 30)
        live = [
            booking
            for booking in app.bookings.list_for_dates(studio.tenant_id, MONDAY, MONDAY)
            if booking.status is BookingStatus.PENDING
        ]
        assert [booking.id for booking in live] == [first.id]
