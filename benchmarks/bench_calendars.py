"""External calendars (issue 16, section 5): busy time read from an ICS document.

    .venv/bin/python benchmarks/bench_calendars.py [--quick] [--parts 12]
                                                   [--output PATH | --no-output]

1. Import and expand a busy calendar: 1,000 events, 200 of them recurring weekly, over a
   62-day window. ``booking_core.calendar._ics_in.read_busy`` (parse, X-WR-TIMEZONE, bounding
   the rules, expansion, the mapping to merged UTC intervals) against recurring-ical-events
   alone, ``of(Calendar.from_ical(doc)).between(start, end)`` (parse included on both sides),
   interleaved rounds, medians. The goal: at most 1.2x recurring-ical-events alone.

2. A 62-day slot search with a cached external calendar: bench_slots' world (one tenant in
   Europe/Paris, 20 resources open on weekdays 08:00-18:00, a timed package needing any one
   of them, 30 minutes every 15 minutes) with 4,000 confirmed bookings seeded in bulk, and an
   ICS feed per resource (50 events, 10 of them weekly series, part 1's kind) read by
   ``IcsCalendar`` through the app's own cache. ``app.availability.slots`` over the 62 days
   without a calendar, with the calendar's months cached (warm) and cold (the months dropped
   before each search: every feed fetched and expanded), on a MemoryCache and on Redis, all
   in the same interleaved rounds; every answer checked against an uncached IcsCalendar's.
   The goal: warm at most 1.5x the search without a calendar, on the same cache.

Each part is a ``bench_*`` function returning its result and a ``report_*`` one printing it,
registered in :data:`PARTS`. Part 2 needs PostgreSQL (``BOOKING_CORE_TEST_POSTGRES_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``; a scratch database, dropped at
the end; SQLite with fewer bookings, said in the output, when it is unreachable) and Redis
(``BOOKING_CORE_TEST_REDIS_URL``, a random key prefix deleted at the end; its sides are left
out when it is unreachable). A full run (about 1.5 minutes) writes its tables to
``results/issue16-calendars.md`` unless ``--no-output``; ``--quick`` (under a minute) writes
nothing unless ``--output`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import psycopg
import recurring_ical_events
import sqlalchemy
from _common import fmt_ms, interleaved_rounds, median, percentile, print_table
from bench_hold_floor import Scratch, _git_head
from bench_slots import (
    DEFAULT_PG_URL,
    DEFAULT_REDIS_URL,
    RESOURCES,
    ComputeClock,
    RedisRoundTrips,
    Tee,
    World,
    as_answer,
    drop_redis_prefix,
    fast_load,
    make_world,
    places,
    redis_reachable,
    seed_bookings,
    seed_customers,
)

import booking_core
from booking_core import BookingApp, CustomerDetails, connect
from booking_core.adapters.cache import cache_from_url
from booking_core.calendar import IcsCalendar, IcsFeed
from booking_core.calendar._ics_in import read_busy
from booking_core.domain.model import SlotList
from booking_core.domain.schedule import Interval
from booking_core.ports.cache import CacheLookup, CachePort, CacheStats, GenerationToken
from booking_core.testing import ManualClock

PARIS = ZoneInfo("Europe/Paris")
#: The 62-day window: local midnights in Paris, across the October DST change.
WINDOW_START = dt.datetime(2030, 9, 1, tzinfo=PARIS)
WINDOW_END = WINDOW_START + dt.timedelta(days=62)
EVENTS = 1_000
RECURRING = 200
#: What part 1 reports ours against: recurring-ical-events alone times this.
IMPORT_GOAL = 1.2


@dataclass(frozen=True)
class Sizes:
    import_rounds: int
    imports_per_round: int
    warmup: int
    search_rounds: int
    searches_per_round: int


FULL = Sizes(
    import_rounds=11, imports_per_round=5, warmup=2, search_rounds=11, searches_per_round=4
)
QUICK = Sizes(import_rounds=3, imports_per_round=2, warmup=1, search_rounds=3, searches_per_round=2)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def progress(message: str) -> None:
    print(f"... {message} ({load()})", file=sys.stderr, flush=True)


# --- the busy calendar -------------------------------------------------------------------------

_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


def busy_calendar(seed: int = 16, *, events: int = EVENTS, recurring: int = RECURRING) -> bytes:
    """A calendar as a busy person's export looks: ``events - recurring`` (800) single events
    over the four months around the window (a tenth all-day, a tenth transparent) and
    ``recurring`` (200) weekly series that began up to a year before it (some with an UNTIL or
    a COUNT, some with an EXDATE or an edited occurrence), times in Europe/Paris with its
    VTIMEZONE."""
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//booking_core//bench//EN", _VTIMEZONE]
    stamp = "DTSTAMP:20300101T000000Z"
    first_day = (WINDOW_START - dt.timedelta(days=30)).date()
    for n in range(events - recurring):
        day = first_day + dt.timedelta(days=rng.randrange(122))
        lines += ["BEGIN:VEVENT", f"UID:single-{n}@bench", stamp, f"SUMMARY:Meeting {n}"]
        if n % 10 == 0:
            lines += [
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
            ]
        else:
            begin = dt.datetime.combine(day, dt.time(rng.randrange(7, 19), rng.choice((0, 30))))
            finish = begin + dt.timedelta(minutes=rng.choice((30, 60, 90)))
            lines += [
                f"DTSTART;TZID=Europe/Paris:{begin:%Y%m%dT%H%M%S}",
                f"DTEND;TZID=Europe/Paris:{finish:%Y%m%dT%H%M%S}",
            ]
        if n % 10 == 5:
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
    for n in range(recurring):
        day = WINDOW_START.date() - dt.timedelta(days=rng.randrange(7, 365))
        begin = dt.datetime.combine(day, dt.time(rng.randrange(7, 19)))
        rule = "FREQ=WEEKLY"
        if n % 5 == 1:
            rule += f";UNTIL={(WINDOW_END + dt.timedelta(days=60)):%Y%m%dT000000Z}"
        elif n % 5 == 2:
            rule += ";COUNT=60"
        uid = f"weekly-{n}@bench"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            stamp,
            f"SUMMARY:Weekly {n}",
            f"DTSTART;TZID=Europe/Paris:{begin:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Paris:{begin + dt.timedelta(hours=1):%Y%m%dT%H%M%S}",
            f"RRULE:{rule}",
        ]
        weeks_in = (WINDOW_START.date() - day).days // 7 + 2
        moved = begin + dt.timedelta(weeks=weeks_in)
        if n % 4 == 0:
            lines.append(f"EXDATE;TZID=Europe/Paris:{moved:%Y%m%dT%H%M%S}")
        lines.append("END:VEVENT")
        if n % 4 == 1:
            later = moved + dt.timedelta(hours=2)
            lines += [
                "BEGIN:VEVENT",
                f"UID:{uid}",
                stamp,
                f"RECURRENCE-ID;TZID=Europe/Paris:{moved:%Y%m%dT%H%M%S}",
                f"DTSTART;TZID=Europe/Paris:{later:%Y%m%dT%H%M%S}",
                f"DTEND;TZID=Europe/Paris:{later + dt.timedelta(hours=1):%Y%m%dT%H%M%S}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


# --- 1. import and expand ----------------------------------------------------------------------


def ours(document: bytes) -> Callable[[], object]:
    def run() -> object:
        return read_busy(
            document, start=WINDOW_START, end=WINDOW_END, zone=PARIS, feed="bench"
        ).intervals

    return run


def library_alone(document: bytes) -> Callable[[], object]:
    def run() -> object:
        calendar = icalendar.Calendar.from_ical(document)
        return recurring_ical_events.of(calendar).between(WINDOW_START, WINDOW_END)

    return run


def bench_import(sizes: Sizes) -> list[list[str]]:
    document = busy_calendar()
    occurrences = len(library_alone(document)())
    busy = read_busy(document, start=WINDOW_START, end=WINDOW_END, zone=PARIS, feed="bench")
    sides = {
        "recurring-ical-events alone": library_alone(document),
        "booking_core read_busy": ours(document),
    }
    times = interleaved_rounds(
        sides,
        rounds=sizes.import_rounds,
        ops_per_round=sizes.imports_per_round,
        warmup=sizes.warmup,
    )
    base = median(times["recurring-ical-events alone"].op_seconds)
    mine = median(times["booking_core read_busy"].op_seconds)
    ratio = mine / base
    verdict = "meets" if ratio <= IMPORT_GOAL else "MISSES"
    print(
        f"   document {len(document):,} bytes; {occurrences:,} occurrences in the window"
        f" (recurring-ical-events), {len(busy.intervals):,} merged busy intervals (ours)"
    )
    return [
        ["recurring-ical-events alone", f"{base * 1000:.1f} ms", "1.00x", ""],
        [
            "booking_core read_busy",
            f"{mine * 1000:.1f} ms",
            f"{ratio:.2f}x",
            f"{verdict} <= {IMPORT_GOAL}x",
        ],
    ]


def report_import(rows: list[list[str]], sizes: Sizes) -> None:
    print_table(
        f"1. Import and expand: {EVENTS:,} events ({RECURRING} weekly series), 62-day window;"
        f" median of {sizes.import_rounds} x {sizes.imports_per_round} imports, interleaved",
        ["side", "per import", "ratio", "goal"],
        rows,
    )


# --- 2. a slot search with a cached external calendar ------------------------------------------

#: What part 2 reports against: the same search without a calendar times this.
SEARCH_GOAL = 1.5
#: Each resource's feed: this many events, this many of them weekly series.
FEED_EVENTS, FEED_RECURRING = 50, 10
#: Confirmed bookings in the table, on the weekdays of these local dates (the window inside).
SEARCH_BOOKINGS = 4_000
BOOKED_SPAN = (dt.date(2030, 8, 1), dt.date(2030, 11, 28))
#: The searched 62 days: from part 1's window start, 62 x 24 hours (a search's limit; the
#: October DST change makes the local-midnight end of part 1's window an hour longer).
SEARCH_START = WINDOW_START
SEARCH_END = (WINDOW_START.astimezone(dt.UTC) + dt.timedelta(days=62)).astimezone(PARIS)
#: The search's "now" (a Friday before the window): fixed, so nothing lapses while it runs.
SEARCH_NOW = dt.datetime(2030, 8, 30, 12, tzinfo=dt.UTC)
#: SQLite fallback: bookings made through the API (hold + confirm), so fewer of them.
SQLITE_BOOKINGS = 400
NO_CALENDAR = "no calendar"
WARM = "calendar, months cached (warm)"
COLD = "calendar, cold (fetch + parse)"


class CalendarScratch(Scratch):
    """``bench_hold_floor``'s scratch databases under this benchmark's name."""

    def create(self, label: str) -> str:
        name = f"bench_calendars_{os.getpid()}_{label}"
        with self.admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return name


class CountingCache:
    """A cache port in front of another that counts the calls made through it (each is one
    round trip on Redis: a ``get_many`` is one MGET)."""

    def __init__(self, inner: CachePort) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def get(self, tenant_id: uuid.UUID, namespace: str, key: str) -> CacheLookup:
        self._count("get")
        return self.inner.get(tenant_id, namespace, key)

    def get_many(
        self, tenant_id: uuid.UUID, namespace: str, keys: Iterable[str]
    ) -> dict[str, CacheLookup]:
        self._count("get_many")
        return self.inner.get_many(tenant_id, namespace, keys)

    def set(
        self,
        tenant_id: uuid.UUID,
        namespace: str,
        key: str,
        value: Any,
        *,
        ttl: float,
        token: GenerationToken | None = None,
    ) -> bool:
        self._count("set")
        return self.inner.set(tenant_id, namespace, key, value, ttl=ttl, token=token)

    def delete(self, tenant_id: uuid.UUID, namespace: str, key: str) -> None:
        self._count("delete")
        self.inner.delete(tenant_id, namespace, key)

    def invalidate_namespace(self, tenant_id: uuid.UUID, namespace: str) -> None:
        self._count("invalidate")
        self.inner.invalidate_namespace(tenant_id, namespace)

    def invalidate_tenant(self, tenant_id: uuid.UUID) -> None:
        self._count("invalidate")
        self.inner.invalidate_tenant(tenant_id)

    def ping(self) -> bool:
        return self.inner.ping()

    def stats(self) -> CacheStats:
        return self.inner.stats()

    def close(self) -> None:
        self.inner.close()

    def tally(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in sorted(self.calls.items())) or "0"


@dataclass
class SearchDb:
    url: str
    world: World
    kind: str
    bookings: int


def search_db_pg(scratch: CalendarScratch) -> SearchDb:
    """bench_slots' month world (20 resources, one any-of package) and SEARCH_BOOKINGS
    confirmed bookings around the window, seeded in bulk on the server."""
    name = scratch.create("search")
    url = scratch.sa_url(name)
    with connect(url, clock=ManualClock(SEARCH_NOW), create_schema=True) as app:
        world = make_world(app)
    placed = places([BOOKED_SPAN], SEARCH_BOOKINGS, seed=16)
    with psycopg.connect(scratch.conninfo(name)) as conn:
        fast_load(conn)
        customers = seed_customers(conn, world.tenant_id)
        seed_bookings(
            conn, world.tenant_id, world.package_id, world.resource_ids, placed, customers
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a table after a bulk load
    return SearchDb(url, world, "PostgreSQL", SEARCH_BOOKINGS)


def search_db_sqlite(folder: str) -> SearchDb:
    """The same world on SQLite, SQLITE_BOOKINGS bookings held and confirmed through the API."""
    url = f"sqlite:///{folder}/bench_calendars.db"
    with connect(url, clock=ManualClock(SEARCH_NOW), create_schema=True) as app:
        world = make_world(app)
        for n, place in enumerate(places([BOOKED_SPAN], SQLITE_BOOKINGS, seed=16)):
            held = app.bookings.hold(
                world.tenant_id,
                package_id=world.package_id,
                start=place.start,
                resource_id=world.resource_ids[place.resource],
                customer=CustomerDetails(f"Seeded {n}", f"seed{n % 500}@example.com"),
            )
            app.bookings.confirm(world.tenant_id, held.id, payment_ref=f"seed-{n}")
    return SearchDb(url, world, "SQLite", SQLITE_BOOKINGS)


def feeds_of(world: World) -> dict[tuple[uuid.UUID, uuid.UUID | None], IcsFeed]:
    """A busy calendar per resource (part 1's kind, FEED_EVENTS events each, its own seed)."""
    return {
        (world.tenant_id, resource_id): IcsFeed(
            name=f"adviser-{n:02d}",
            zone="Europe/Paris",
            document=busy_calendar(seed=100 + n, events=FEED_EVENTS, recurring=FEED_RECURRING),
        )
        for n, resource_id in enumerate(world.resource_ids)
    }


@dataclass
class Backend:
    """One cache (MemoryCache or Redis) shared by two apps: one without a calendar, one with
    an IcsCalendar reading the feeds through the same cache (counted)."""

    name: str
    cache: CachePort
    counted: CountingCache
    calendar: IcsCalendar
    plain: BookingApp
    with_calendar: BookingApp


def search_of(app: BookingApp, world: World) -> Callable[[], SlotList]:
    def search() -> SlotList:
        return app.availability.slots(world.tenant_id, world.package_id, SEARCH_START, SEARCH_END)

    return search


def cold_search_of(backend: Backend, world: World) -> Callable[[], SlotList]:
    """Drop the calendar's cached months, then search: every feed is read and expanded."""
    search = search_of(backend.with_calendar, world)

    def cold() -> SlotList:
        backend.calendar.forget(world.tenant_id)
        return search()

    return cold


@contextlib.contextmanager
def calendar_clock(calendars: Sequence[IcsCalendar]) -> Iterator[list[float]]:
    """Wall time inside the calendars' ``busy_intervals`` (the port call of a search)."""
    spent = [0.0]
    clock = time.perf_counter
    for calendar in calendars:
        original = calendar.busy_intervals

        def timed(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[0] += clock() - t0

        calendar.busy_intervals = timed  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        for calendar in calendars:
            del calendar.busy_intervals


@dataclass
class CalendarRow:
    backend: str
    side: str
    p50: float
    p99: float
    best: float
    base_p50: float
    base_p99: float
    cache_calls: str = "-"
    redis_trips: int | None = None
    in_calendar: float | None = None
    in_free_slots: float | None = None


@dataclass
class SearchResult:
    db: SearchDb
    rows: list[CalendarRow]
    notes: list[str]


def _pairs(answer: Sequence[tuple[dt.datetime, tuple[uuid.UUID, ...]]]) -> int:
    return sum(len(ids) for _, ids in answer)


def _check_answers(sides: dict[str, Callable[[], SlotList]], reference: list[Any]) -> list[str]:
    """Every side with a calendar answers as the uncached calendar does; every side without
    answers alike, a superset of it."""
    notes = []
    answers = {name: as_answer(side()) for name, side in sides.items()}
    plain = [a for name, a in answers.items() if NO_CALENDAR in name]
    for name, answer in answers.items():
        expected = plain[0] if NO_CALENDAR in name else reference
        if answer != expected:
            msg = f"{name} answers differently ({len(answer)} starts vs {len(expected)})"
            raise AssertionError(msg)
    free = {(start, rid) for start, ids in plain[0] for rid in ids}
    busy_aware = {(start, rid) for start, ids in reference for rid in ids}
    assert busy_aware < free, "the calendar took no (start, resource) pair away"
    notes.append(
        f"   every answer checked: with the calendar (cached or cold, either cache) equal to an"
        f" uncached IcsCalendar's, {len(reference):,} starts / {_pairs(reference):,}"
        f" (start, resource) pairs; without it {len(plain[0]):,} / {_pairs(plain[0]):,}"
    )
    return notes


def bench_search(sizes: Sizes) -> SearchResult:
    """Part 2: the search without a calendar, with a warm one and with a cold one, on a
    MemoryCache and on Redis, interleaved in the same rounds."""
    notes: list[str] = []
    scratch: CalendarScratch | None = None
    pg_url = os.environ.get("BOOKING_CORE_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    redis_url = os.environ.get("BOOKING_CORE_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    prefix = f"bench-calendars-{os.getpid()}"
    folder = tempfile.TemporaryDirectory(prefix="bench_calendars_")
    backends: list[Backend] = []
    apps: list[BookingApp] = []
    redis_trips = RedisRoundTrips()
    caches: dict[str, str] = {}
    db: SearchDb | None = None
    try:
        try:
            scratch = CalendarScratch(pg_url)
        except psycopg.OperationalError as error:
            notes.append(f"   (PostgreSQL unreachable, {type(error).__name__}: SQLite instead)")
        if scratch is not None:
            notes.append(f"   {scratch.server}")
            db = search_db_pg(scratch)
        else:
            db = search_db_sqlite(folder.name)
        world = db.world
        feeds = feeds_of(world)
        caches["MemoryCache"] = "memory://"
        if redis_reachable(redis_url):
            caches["Redis"] = f"{redis_url}?prefix={prefix}"
        else:
            notes.append(f"   (Redis unreachable at {redis_url}: its sides are left out)")
        for name, cache_url in caches.items():
            cache = cache_from_url(cache_url)
            counted = CountingCache(cache)
            calendar = IcsCalendar(feeds, cache=counted)
            plain = connect(db.url, cache=cache, clock=ManualClock(SEARCH_NOW))
            with_calendar = connect(
                db.url, cache=cache, calendar=calendar, clock=ManualClock(SEARCH_NOW)
            )
            apps += [plain, with_calendar]
            backends.append(Backend(name, cache, counted, calendar, plain, with_calendar))
        uncached = connect(
            db.url, calendar=IcsCalendar(feeds, cache=None), clock=ManualClock(SEARCH_NOW)
        )
        apps.append(uncached)
        reference = as_answer(search_of(uncached, world)())
        sides: dict[str, Callable[[], SlotList]] = {}
        for backend in backends:
            sides[f"{backend.name}: {NO_CALENDAR}"] = search_of(backend.plain, world)
            sides[f"{backend.name}: {WARM}"] = search_of(backend.with_calendar, world)
            sides[f"{backend.name}: {COLD}"] = cold_search_of(backend, world)
        notes += _check_answers(sides, reference)
        document_sizes = [len(feed.document or b"") for feed in feeds.values()]
        reach = backends[0].calendar.busy_intervals(
            world.tenant_id, list(world.resource_ids), Interval(SEARCH_START, SEARCH_END)
        )
        stretches = sum(len(found) for found in reach.intervals.values())
        notes.append(
            f"   feeds: {len(feeds)} x ~{median(document_sizes) / 1000:.0f} kB"
            f" ({FEED_EVENTS} events each, {FEED_RECURRING} weekly series);"
            f" {stretches:,} merged busy stretches in the window over the {len(feeds)} resources"
        )
        # The comparison: without and with the warm calendar, both caches, in the same rounds.
        # The cold searches (a heap of garbage each) get rounds of their own after them.
        timed = interleaved_rounds(
            {name: side for name, side in sides.items() if COLD not in name},
            rounds=sizes.search_rounds,
            ops_per_round=sizes.searches_per_round,
            warmup=2,
        )
        timed |= interleaved_rounds(
            {name: side for name, side in sides.items() if COLD in name},
            rounds=sizes.search_rounds,
            ops_per_round=max(1, sizes.searches_per_round // 2),
        )
        # Where a search's time goes: a separate batch per side (forward, then back).
        in_calendar: dict[str, list[float]] = {name: [] for name in sides}
        in_free_slots: dict[str, list[float]] = {name: [] for name in sides}
        with (
            calendar_clock([b.calendar for b in backends]) as spent,
            ComputeClock() as compute,
        ):
            for name in list(sides) + list(sides)[::-1]:
                for _ in range(max(2, sizes.searches_per_round)):
                    spent[0] = compute.seconds = 0.0
                    sides[name]()
                    in_calendar[name].append(spent[0])
                    in_free_slots[name].append(compute.seconds)
        # Cache calls of the calendar and Redis round trips of the whole search, one search.
        redis_trips.install()
        calls: dict[str, str] = {}
        trips: dict[str, int] = {}
        for backend in backends:
            for name, side in sides.items():
                if not name.startswith(backend.name):
                    continue
                side()
                backend.counted.calls.clear()
                with redis_trips.recording():
                    side()
                calls[name] = backend.counted.tally() if NO_CALENDAR not in name else "-"
                trips[name] = redis_trips.count
        rows = []
        for backend in backends:
            base = timed[f"{backend.name}: {NO_CALENDAR}"]
            for kind in (NO_CALENDAR, WARM, COLD):
                name = f"{backend.name}: {kind}"
                side = timed[name]
                rows.append(
                    CalendarRow(
                        backend.name,
                        kind,
                        p50=side.median_op,
                        p99=percentile(side.op_seconds, 99),
                        best=min(side.op_seconds),
                        base_p50=base.median_op,
                        base_p99=percentile(base.op_seconds, 99),
                        cache_calls=calls[name],
                        redis_trips=trips[name] if backend.name == "Redis" else None,
                        in_calendar=median(in_calendar[name]) if NO_CALENDAR not in name else None,
                        in_free_slots=median(in_free_slots[name]) if compute.found else None,
                    )
                )
        return SearchResult(db, rows, notes)
    finally:
        redis_trips.uninstall()
        for app in apps:
            app.close()
        for backend in backends:
            if db is not None:
                with contextlib.suppress(Exception):
                    backend.calendar.forget(db.world.tenant_id)
            backend.cache.close()
        if "Redis" in caches:
            with contextlib.suppress(Exception):
                drop_redis_prefix(redis_url, prefix)
        if scratch is not None:
            scratch.cleanup()
        folder.cleanup()


def report_search(result: SearchResult, sizes: Sizes) -> None:
    rows = []
    for row in result.rows:
        ratio = row.p50 / row.base_p50
        if row.side == NO_CALENDAR:
            goal = ""
        elif row.side == WARM:
            goal = f"{'meets' if ratio <= SEARCH_GOAL else 'MISSES'} <= {SEARCH_GOAL}x"
        else:
            goal = "(for information)"
        rows.append(
            [
                row.backend,
                row.side,
                fmt_ms(row.p50, 1),
                fmt_ms(row.p99, 1),
                fmt_ms(row.best, 1),
                f"{ratio:.2f}x",
                f"{row.p99 / row.base_p99:.2f}x",
                goal,
                row.cache_calls,
                "-" if row.redis_trips is None else row.redis_trips,
                "-" if row.in_calendar is None else fmt_ms(row.in_calendar, 1),
                "-" if row.in_free_slots is None else fmt_ms(row.in_free_slots, 1),
            ]
        )
    db = result.db
    print_table(
        f"2. A 62-day slot search ({SEARCH_START:%Y-%m-%d %H:%M} to {SEARCH_END:%Y-%m-%d %H:%M},"
        " Europe/Paris)"
        f" on {db.kind}: {RESOURCES} resources (weekdays 08:00-18:00), any one of them, 30-minute"
        f" service every 15 minutes, {db.bookings:,} confirmed bookings in the table; an ICS feed"
        f" per resource ({FEED_EVENTS} events, {FEED_RECURRING} weekly series) through"
        " IcsCalendar on the app's own cache. Per cache: the app without a calendar, with the"
        " calendar's months cached, in the same"
        f" {sizes.search_rounds} interleaved rounds x {sizes.searches_per_round} searches, and"
        " cold (the calendar's months dropped before each search: every feed read and expanded)"
        f" in {sizes.search_rounds} interleaved rounds x {max(1, sizes.searches_per_round // 2)}"
        " of their own; the slot search's own cache entries warm; 'vs none' = p50 (p99) / p50"
        " (p99) of the same cache without a calendar; 'calendar cache calls' = what the"
        " calendar asked of the cache in one search; 'Redis round trips' = the whole search;"
        " the last two columns split a search's wall time (a separate batch, medians): inside"
        " IcsCalendar.busy_intervals and inside availability.free_slots",
        [
            "cache",
            "side",
            "p50",
            "p99",
            "best",
            "vs none p50",
            "vs none p99",
            "goal",
            "calendar cache calls",
            "Redis round trips",
            "in the calendar",
            "in free_slots",
        ],
        rows,
    )
    for note in result.notes:
        print(note)


#: The parts by number: what runs them and what prints them.
PARTS: dict[str, tuple[Callable[[Sizes], Any], Callable[[Any, Sizes], None]]] = {
    "1": (bench_import, report_import),
    "2": (bench_search, report_search),
}


def write_results(path: Path, text_out: str, mode: str) -> None:
    header = (
        "# Issue 16: external calendars\n\n"
        f"`benchmarks/bench_calendars.py` ({mode} run). Re-run with"
        " `.venv/bin/python benchmarks/bench_calendars.py` when the machine is quiet (a 1-minute"
        " load under ~1.5 on its 2 cores); every compared side runs in the same interleaved"
        " rounds, so only the ratios and counts of one run belong together.\n\n"
    )
    path.write_text(header + "```\n" + text_out.strip("\n") + "\n```\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few rounds (under a minute)")
    parser.add_argument("--parts", default="".join(PARTS), help="which parts, e.g. 12")
    parser.add_argument("--output", type=Path, help="write the tables here (markdown)")
    parser.add_argument("--no-output", action="store_true", help="write no results file")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    output = args.output
    if output is None and not args.quick:
        output = Path(__file__).resolve().parent / "results" / "issue16-calendars.md"
    if args.no_output:
        output = None
    tee = Tee(sys.stdout)
    sys.stdout = tee  # type: ignore[assignment]
    started = time.perf_counter()
    print(f"bench_calendars ({mode} run), {dt.datetime.now():%Y-%m-%d %H:%M}, {load()} at start")
    print(f"booking_core {booking_core.__file__} ({_git_head(booking_core.__file__)})")
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("icalendar", "recurring-ical-events", "x-wr-timezone", "python-dateutil")
    )
    print(
        f"Python {platform.python_version()}, {versions}, SQLAlchemy {sqlalchemy.__version__},"
        f" psycopg {psycopg.__version__}, redis {metadata.version('redis')}, {os.cpu_count()} CPUs"
    )
    for number, (bench, report) in PARTS.items():
        if number in args.parts:
            progress(f"part {number}")
            result = bench(sizes)
            print(f"\n[{load()}]")
            report(result, sizes)
    print(f"\nTotal run time {time.perf_counter() - started:.1f} s, {load()} at the end")
    sys.stdout = tee._out
    if output is not None:
        write_results(output, tee.text, mode)
        print(f"(written to {output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
