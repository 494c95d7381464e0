"""Several processes, one PostgreSQL and one Redis: a bounded mixed load, then its invariants.

    .venv/bin/python benchmarks/load.py [--workers 8] [--seconds 30] [--short]
        [--profile read-heavy|write-heavy|both]

Issue 6, part 4. A scratch PostgreSQL database and a unique Redis key prefix are created and
seeded with a few tenants (capacity 1 and 3, one with a venue of capacity 2, one with a
blackout inside the hot window). N worker processes (``multiprocessing`` spawn), each with its
own ``connect()`` to the same PostgreSQL and Redis, then run a mixed workload for a bounded time:

- 95 % reads: ``list_packages``, ``get_package``, ``availability.check`` and the
  ``unavailable_dates`` of a month;
- 5 % writes: holds (``checkout``: hold + fake payment) on a five-date window, so they collide
  all the time; confirms of a worker's own holds (some holds, at most one live per worker, are
  abandoned and left to lapse: every tenant has the minimum 1-minute hold TTL, so runs of 60 s
  and more see live expiries); cancels of pending and confirmed bookings (with refunds);
  ``expire_holds`` sweeps (the setup also places holds with a clock three minutes in the past,
  so even a short run's sweeps race real lapsed holds against new holds on their dates);
  ``outbox.drain`` batches.

That is the default ``read-heavy`` profile. ``--profile write-heavy`` (issue 14) runs the same
operations with 34 % holds, confirms and cancels (22 % holds, 7 % confirms, 5 % cancels, 1 %
sweeps, 1 % drains, 64 % reads); ``--profile both`` runs one after the other and compares their
operations per second.

Afterwards the database is checked (no date over capacity, claims agree with bookings, every
booking's outbox events present and ordered and delivered in order, expiry sweeps complete and
exactly-once, cache answers equal to database answers), the tables are printed, and the exit
status is 1 when an invariant fails. The database and the Redis keys are dropped at the end.

Environment: ``BOOKING_CORE_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, used only to create and drop the scratch
database) and ``BOOKING_CORE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``). Loopback
only: the script refuses other hosts.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import ipaddress
import multiprocessing as mp
import os
import queue
import random
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg
import redis
from _common import fmt_ms, fmt_rate, percentile, print_table
from sqlalchemy.engine import make_url

from booking_core import (
    BookingApp,
    BookingConflictError,
    BookingCoreError,
    BookingPolicy,
    CustomerDetails,
    DateUnavailableError,
    HoldExpiredError,
    InvalidTransitionError,
    connect,
)
from booking_core.adapters.payments import FakePaymentProvider
from booking_core.testing import ManualClock

PG = os.environ.get(
    "BOOKING_CORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("BOOKING_CORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

HOLD_TTL = dt.timedelta(minutes=1)  # the minimum: holds lapse during runs of 60 s and more
HOT_DAYS = 5  # the hold window: every write lands on one of these dates

READS = ("list_packages", "get_package", "check", "unavailable_dates")
WRITES = ("hold", "confirm", "cancel", "expire_holds", "outbox_drain")
OPS = READS + WRITES
#: Percent of operations; reads sum to 95, writes to 5.
WEIGHTS = {
    "list_packages": 20.0,
    "get_package": 30.0,
    "check": 25.0,
    "unavailable_dates": 20.0,
    "hold": 2.25,
    "confirm": 1.0,
    "cancel": 1.0,
    "expire_holds": 0.4,
    "outbox_drain": 0.35,
}
#: The write-heavy mix (issue 14): 34 % holds, confirms and cancels, 36 % writes in all.
WRITE_HEAVY = {
    "list_packages": 13.0,
    "get_package": 20.0,
    "check": 17.0,
    "unavailable_dates": 14.0,
    "hold": 22.0,
    "confirm": 7.0,
    "cancel": 5.0,
    "expire_holds": 1.0,
    "outbox_drain": 1.0,
}
PROFILES = {"read-heavy": WEIGHTS, "write-heavy": WRITE_HEAVY}
#: Share of holds never confirmed nor cancelled: they lapse after HOLD_TTL. Each worker keeps at
#: most one such hold alive at a time: with 60 s holds on a 34-seat window, abandoning more
#: would leave the window blocked by lapsing holds for most of a 30 s run.
ABANDON = 0.2

#: Outcomes a booking workload expects (not errors): counted per name.
EXPECTED = (BookingConflictError, DateUnavailableError, HoldExpiredError, InvalidTransitionError)

STATUS_OF_EVENT = {
    "booking.held": "PENDING",
    "booking.confirmed": "CONFIRMED",
    "booking.canceled": "CANCELED",
    "booking.expired": "EXPIRED",
    "booking.fulfilled": "FULFILLED",
}
NEXT_STATUSES = {
    "PENDING": {"CONFIRMED", "CANCELED", "EXPIRED"},
    "CONFIRMED": {"CANCELED", "FULFILLED"},
    "CANCELED": set(),
    "EXPIRED": set(),
    "FULFILLED": set(),
}


# --- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantSpec:
    """What the workers need to know about one seeded tenant (plain data: it is pickled)."""

    id: uuid.UUID
    slug: str
    capacity: int
    package_ids: tuple[uuid.UUID, ...]
    package_slugs: tuple[str, ...]
    add_on_ids: tuple[uuid.UUID, ...]  # offered by the first package
    venue_id: uuid.UUID | None
    venue_capacity: int
    blackout: dt.date | None


@dataclass(frozen=True)
class LoadConfig:
    database_url: str
    cache_url: str  # redis://…?prefix=<unique>
    workers: int
    seconds: float
    seed: int
    tenants: tuple[TenantSpec, ...]
    hot_dates: tuple[dt.date, ...]
    month: tuple[dt.date, dt.date]  # the month of the hot window
    profile: str = "read-heavy"  # a key of PROFILES


@dataclass
class Invariant:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    """Everything one run measured and checked (what the test asserts on)."""

    workers: int
    seconds: float
    profile: str = "read-heavy"
    elapsed: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    error_samples: list[str] = field(default_factory=list)
    cache: collections.Counter[str] = field(default_factory=collections.Counter)
    invariants: list[Invariant] = field(default_factory=list)

    @property
    def ops(self) -> dict[str, int]:
        return {op: len(self.latencies.get(op, [])) for op in OPS}

    @property
    def conflicts(self) -> int:
        return self.outcomes["hold: BookingConflictError"]

    @property
    def ok(self) -> bool:
        return bool(self.invariants) and all(check.ok for check in self.invariants)


# --- URLs and scratch resources ----------------------------------------------------------------


def _require_loopback(url: str) -> None:
    host = urlsplit(url.replace("+psycopg", "")).hostname or "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        msg = f"load runs on loopback only, refusing {host!r}"
        raise SystemExit(msg)


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_prefix(redis_url: str, prefix: str) -> str:
    base = redis_url.rstrip("?&")
    return f"{base}{'&' if '?' in base else '?'}prefix={prefix}"


def _drop_redis_keys(redis_url: str, prefix: str) -> int:
    client = redis.Redis.from_url(redis_url.split("?", 1)[0])
    try:
        dropped = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                dropped += client.delete(*batch)
                batch.clear()
        if batch:
            dropped += client.delete(*batch)
        return dropped
    finally:
        client.close()


# --- seeding -----------------------------------------------------------------------------------


def _hot_window(today: dt.date) -> tuple[tuple[dt.date, ...], tuple[dt.date, dt.date]]:
    """Five dates from the 10th of the month 60 days ahead (30+ days out: full refunds)."""
    first = (today + dt.timedelta(days=60)).replace(day=10)
    dates = tuple(first + dt.timedelta(days=n) for n in range(HOT_DAYS))
    month_start = first.replace(day=1)
    month_end = (month_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return dates, (month_start, month_end)


def _seed(app: BookingApp, hot_dates: tuple[dt.date, ...]) -> tuple[TenantSpec, ...]:
    plans = [
        # slug, capacity, venue capacity (0: no venue), blackout inside the window
        ("solo", 1, 0, None),
        ("trio", 3, 2, None),
        ("atelier", 1, 0, hot_dates[2]),
    ]
    specs = []
    for slug, capacity, venue_capacity, blackout in plans:
        tenant = app.tenants.create(
            slug=slug,
            name=f"Load {slug}",
            timezone="Europe/Paris",
            currency="EUR",
            commission_percent=10,
            policy=BookingPolicy(capacity_per_date=capacity, hold_ttl=HOLD_TTL),
        )
        packages = [
            app.catalog.create_package(
                tenant.id,
                slug=f"pkg-{n}",
                name=f"Package {n}",
                base_price=100_000 + 25_000 * n,
                description="A package of the load run. " * 8,
            )
            for n in range(4)
        ]
        add_ons = [
            app.catalog.create_add_on(tenant.id, slug=f"extra-{n}", name=f"Extra {n}", price=5_000)
            for n in range(2)
        ]
        for add_on in add_ons:
            app.catalog.offer_add_on(tenant.id, packages[0].id, add_on.id)
        venue_id = None
        if venue_capacity:
            venue_id = app.catalog.create_venue(
                tenant.id, name="Grand Hall", city="Lyon", country="FR", capacity=venue_capacity
            ).id
        if blackout is not None:
            app.availability.add_blackout(tenant.id, blackout, reason="closed")
        specs.append(
            TenantSpec(
                id=tenant.id,
                slug=slug,
                capacity=capacity,
                package_ids=tuple(p.id for p in packages),
                package_slugs=tuple(p.slug for p in packages),
                add_on_ids=tuple(a.id for a in add_ons),
                venue_id=venue_id,
                venue_capacity=venue_capacity,
                blackout=blackout,
            )
        )
    return tuple(specs)


def _seed_lapsed_holds(
    url: str, specs: tuple[TenantSpec, ...], hot_dates: tuple[dt.date, ...]
) -> int:
    """Holds placed three minutes ago (lapsed two minutes ago): work for the first sweeps."""
    past = ManualClock(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3))
    placed = 0
    with connect(url, clock=past) as app:
        for spec in specs:
            for n, date in enumerate(d for d in hot_dates if d != spec.blackout):
                app.bookings.hold(
                    spec.id,
                    package_id=spec.package_ids[n % len(spec.package_ids)],
                    date=date,
                    customer=CustomerDetails("Early Bird", f"early{n}@example.com"),
                )
                placed += 1
    return placed


# --- the worker process ------------------------------------------------------------------------


@dataclass
class _Held:
    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    payment_ref: str


def worker_main(config: LoadConfig, index: int, start: Any, results: Any) -> None:
    """Entry point of one worker process: run the mix, put a result dict on ``results``."""
    try:
        result = _run_worker(config, index, start)
    except BaseException:  # report, never hang the parent
        result = {"index": index, "fatal": traceback.format_exc()}
    results.put(result)


def _run_worker(config: LoadConfig, index: int, start: Any) -> dict[str, Any]:
    rng = random.Random(config.seed * 1000 + index)
    app = connect(
        config.database_url,
        cache_url=config.cache_url,
        payments=FakePaymentProvider(),
        pool_size=2,
        max_overflow=2,
    )
    latencies: dict[str, list[float]] = {op: [] for op in OPS}
    outcomes: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    samples: list[str] = []
    delivered: list[tuple[str, int, float]] = []  # (booking id, sequence, when)
    pending: list[_Held] = []
    confirmed: list[_Held] = []
    abandoned_until = [0.0]  # when this worker's abandoned hold lapses
    mix = PROFILES[config.profile]
    ops = list(mix)
    weights = [mix[op] for op in ops]
    clock = time.perf_counter

    def pick_tenant() -> TenantSpec:
        return rng.choice(config.tenants)

    def pick_venue(spec: TenantSpec) -> uuid.UUID | None:
        return spec.venue_id if spec.venue_id is not None and rng.random() < 0.4 else None

    def do_list_packages() -> None:
        app.catalog.list_packages(pick_tenant().id)

    def do_get_package() -> None:
        spec = pick_tenant()
        app.catalog.get_package(spec.id, rng.choice(spec.package_slugs))

    def do_check() -> None:
        spec = pick_tenant()
        if rng.random() < 0.7:
            date = rng.choice(config.hot_dates)
        else:
            date = config.month[0] + dt.timedelta(days=rng.randrange(28))
        app.availability.check(spec.id, date, venue_id=pick_venue(spec))

    def do_unavailable_dates() -> None:
        spec = pick_tenant()
        app.availability.unavailable_dates(spec.id, *config.month, venue_id=pick_venue(spec))

    def do_hold() -> None:
        spec = pick_tenant()
        n = rng.randrange(len(spec.package_ids))
        add_ons = {spec.add_on_ids[0]: rng.randint(1, 3)} if n == 0 and rng.random() < 0.5 else None
        guest = rng.randrange(40)
        checkout = app.bookings.checkout(
            spec.id,
            package_id=spec.package_ids[n],
            date=rng.choice(config.hot_dates),
            customer=CustomerDetails(f"Guest {index}-{guest}", f"w{index}g{guest}@example.com"),
            add_ons=add_ons,
            venue_id=pick_venue(spec),
        )
        outcomes["hold: placed"] += 1
        if abandoned_until[0] < time.time() and rng.random() < ABANDON:
            outcomes["hold: abandoned (left to lapse)"] += 1
            abandoned_until[0] = time.time() + HOLD_TTL.total_seconds()
        else:
            pending.append(_Held(spec.id, checkout.booking.id, checkout.session.payment_ref))

    def do_confirm() -> None:
        # Mostly a random one, sometimes the oldest (the one most likely to have lapsed).
        held = pending.pop(0 if rng.random() < 0.3 else rng.randrange(len(pending)))
        app.bookings.confirm(held.tenant_id, held.booking_id, payment_ref=held.payment_ref)
        confirmed.append(held)
        outcomes["confirm: confirmed"] += 1

    def do_cancel() -> None:
        pool = pending if pending and (not confirmed or rng.random() < 0.4) else confirmed
        held = pool.pop(rng.randrange(len(pool)))
        cancellation = app.bookings.cancel(held.tenant_id, held.booking_id, reason="load run")
        kind = "confirmed" if pool is confirmed else "pending"
        outcomes[f"cancel: {kind}"] += 1
        if cancellation.refund is not None:
            outcomes[f"cancel: refund {cancellation.refund.state.value.lower()}"] += 1

    def do_expire_holds() -> None:
        expired = app.bookings.expire_holds(limit=50)
        after = dt.datetime.now(dt.UTC)
        outcomes["expire_holds: expired"] += len(expired)
        for booking in expired:
            lapsed = booking.expires_at is not None and booking.expires_at <= after
            if booking.status.value != "EXPIRED" or not lapsed:
                outcomes["expire_holds: returned an unexpired hold"] += 1

    def handler(event: Any) -> None:
        delivered.append((str(event.booking_id), event.sequence, time.time()))

    def do_outbox_drain() -> None:
        outcomes["outbox_drain: delivered"] += app.outbox.drain(
            handler, batch_size=50, max_batches=1
        )

    actions: dict[str, Callable[[], None]] = {
        "list_packages": do_list_packages,
        "get_package": do_get_package,
        "check": do_check,
        "unavailable_dates": do_unavailable_dates,
        "hold": do_hold,
        "confirm": do_confirm,
        "cancel": do_cancel,
        "expire_holds": do_expire_holds,
        "outbox_drain": do_outbox_drain,
    }
    try:
        start.wait(timeout=120)
        deadline = clock() + config.seconds
        began = clock()
        while clock() < deadline:
            op = rng.choices(ops, weights)[0]
            if (op == "confirm" and not pending) or (op == "cancel" and not pending + confirmed):
                outcomes[f"{op}: nothing of this worker's to {op}, held instead"] += 1
                op = "hold"
            t0 = clock()
            try:
                actions[op]()
            except EXPECTED as outcome:
                outcomes[f"{op}: {type(outcome).__name__}"] += 1
            except BookingCoreError as error:  # documented but not expected here (lock timeout…)
                outcomes[f"{op}: {type(error).__name__}"] += 1
                errors[f"{op}: {type(error).__name__} (booking_core)"] += 1
                if len(samples) < 5:
                    samples.append(f"worker {index} {op}: {error!r}")
            except Exception as error:  # any other exception is an error of the library
                errors[f"{op}: {type(error).__name__}"] += 1
                if len(samples) < 5:
                    samples.append(f"worker {index} {op}: {traceback.format_exc(limit=6)}")
            latencies[op].append(clock() - t0)
        elapsed = clock() - began
        stats = app.cache.stats() if app.cache is not None else None
    finally:
        app.close()
    return {
        "index": index,
        "elapsed": elapsed,
        "latencies": latencies,
        "outcomes": dict(outcomes),
        "errors": dict(errors),
        "samples": samples,
        "delivered": delivered,
        "cache": {}
        if stats is None
        else {
            "hits": stats.hits,
            "misses": stats.misses,
            "errors": stats.errors,
            "sets": stats.sets,
        },
    }


# --- checks ------------------------------------------------------------------------------------


def _check_capacity(conn: psycopg.Connection[Any], config: LoadConfig) -> list[Invariant]:
    now = dt.datetime.now(dt.UTC)
    capacity: dict[tuple[str, str], int] = {}
    for spec in config.tenants:
        capacity[(str(spec.id), "tenant")] = spec.capacity
        if spec.venue_id is not None:
            capacity[(str(spec.id), str(spec.venue_id))] = spec.venue_capacity
    booked = conn.execute(
        """
        SELECT tenant_id::text, coalesce(venue_id::text, 'tenant'), event_date, count(*)
        FROM bc_bookings
        WHERE status = 'CONFIRMED' OR (status = 'PENDING' AND expires_at > %(now)s)
        GROUP BY 1, 2, 3
        """,
        {"now": now},
    ).fetchall()
    over = [row for row in booked if row[3] > capacity[(row[0], row[1])]]
    full = sum(1 for row in booked if row[3] == capacity[(row[0], row[1])])
    checks = [
        Invariant(
            "no date over capacity (bookings)",
            not over,
            f"dates in use {len(booked)}, full {full}, over {len(over)}"
            + (f": {over[:3]}" if over else ""),
        )
    ]
    # The seat claims that enforce capacity must agree with the bookings they stand for.
    claims = conn.execute(
        """
        SELECT c.booking_id, c.seat, c.tenant_id::text,
               CASE WHEN c.resource_id = '00000000-0000-0000-0000-000000000000'
                    THEN 'tenant' ELSE c.resource_id::text END
        FROM bc_booking_claims c
        WHERE c.expires_at IS NULL OR c.expires_at > %(now)s
        """,
        {"now": now},
    ).fetchall()
    active = {
        row[0]
        for row in conn.execute(
            """
            SELECT id FROM bc_bookings
            WHERE status = 'CONFIRMED' OR (status = 'PENDING' AND expires_at > %(now)s)
            """,
            {"now": now},
        )
    }
    claimed = [row[0] for row in claims]
    bad_seats = [row for row in claims if row[1] >= capacity[(row[2], row[3])]]
    agree = set(claimed) == active and len(claimed) == len(set(claimed)) and not bad_seats
    checks.append(
        Invariant(
            "live seat claims = active bookings",
            agree,
            f"live claims {len(claimed)}, active bookings {len(active)}, "
            f"seats >= capacity {len(bad_seats)}",
        )
    )
    return checks


def _check_sweep(app: BookingApp, conn: psycopg.Connection[Any]) -> tuple[Invariant, int]:
    """A final ``expire_holds`` at the real clock: only lapsed holds, none left behind."""
    expired: list[Any] = []
    while True:
        batch = app.bookings.expire_holds(limit=500)
        expired.extend(batch)
        if len(batch) < 500:
            break
    now = dt.datetime.now(dt.UTC)
    wrong = [
        b
        for b in expired
        if b.status.value != "EXPIRED" or b.expires_at is None or b.expires_at > now
    ]
    left = conn.execute(
        "SELECT count(*) FROM bc_bookings WHERE status = 'PENDING' AND expires_at <= %(now)s",
        {"now": now - dt.timedelta(seconds=1)},
    ).fetchone()
    left_count = left[0] if left else -1
    ok = not wrong and left_count == 0
    return (
        Invariant(
            "expire_holds: lapsed only, none left",
            ok,
            f"final sweep expired {len(expired)}, not lapsed {len(wrong)}, "
            f"lapsed PENDING left {left_count}",
        ),
        len(expired),
    )


def _check_outbox(
    app: BookingApp,
    conn: psycopg.Connection[Any],
    in_run: list[tuple[str, int, float]],
    expired_by_sweeps: int,
) -> tuple[list[Invariant], int]:
    final: list[tuple[str, int, float]] = []

    def handler(event: Any) -> None:
        final.append((str(event.booking_id), event.sequence, time.time()))

    drained = app.outbox.drain(handler, batch_size=1000)
    undelivered = conn.execute("SELECT count(*) FROM bc_outbox WHERE done_at IS NULL").fetchone()
    events: dict[str, list[tuple[int, str, Any]]] = collections.defaultdict(list)
    for booking_id, sequence, kind, payload in conn.execute(
        "SELECT booking_id::text, sequence, type, payload FROM bc_outbox"
        " ORDER BY booking_id, sequence"
    ):
        events[booking_id].append((sequence, kind, payload))
    bookings = {
        row[0]: (row[1], row[2])
        for row in conn.execute("SELECT id::text, status, version FROM bc_bookings")
    }
    problems: list[str] = []
    for booking_id, (status, version) in bookings.items():
        rows = events.get(booking_id, [])
        if not rows:
            problems.append(f"{booking_id}: no events")
            continue
        sequences = [row[0] for row in rows]
        if rows[0][1] != "booking.held" or sequences[0] != 1:
            problems.append(f"{booking_id}: first event {rows[0][1]} #{sequences[0]}")
        if sequences != list(range(1, len(rows) + 1)) or sequences[-1] != version:
            problems.append(f"{booking_id}: sequences {sequences}, version {version}")
        current = None
        for sequence, kind, payload in rows:
            reached = STATUS_OF_EVENT.get(kind)
            if reached is None:
                continue
            if current is not None and reached not in NEXT_STATUSES[current]:
                problems.append(f"{booking_id}: {current} -> {reached} at #{sequence}")
            if isinstance(payload, dict) and payload.get("status") != reached:
                problems.append(f"{booking_id}: {kind} #{sequence} payload {payload.get('status')}")
            current = reached
        if current != status:
            problems.append(f"{booking_id}: events end in {current}, booking is {status}")
    orphans = set(events) - set(bookings)
    checks = [
        Invariant(
            "outbox: events present and ordered",
            not problems and not orphans,
            f"bookings {len(bookings)}, events {sum(map(len, events.values()))}"
            + (f"; {len(problems)} problems, e.g. {problems[:2]}" if problems else "")
            + (f"; {len(orphans)} orphan bookings" if orphans else ""),
        )
    ]
    # Delivery: every event exactly once (no lease ran out), each booking's in sequence order,
    # across the workers' drains and the final one.
    delivered: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
    for booking_id, sequence, when in in_run + final:
        delivered[booking_id].append((when, sequence))
    disorder = []
    for booking_id, rows in events.items():
        got = [sequence for _when, sequence in sorted(delivered.get(booking_id, []))]
        if got != [row[0] for row in rows]:
            disorder.append(f"{booking_id}: delivered {got}")
    left = undelivered[0] if undelivered else -1
    checks.append(
        Invariant(
            "outbox: delivered once, in order",
            not disorder and left == 0,
            f"delivered {len(in_run)} during the run + {drained} after, undelivered {left}"
            + (f"; {len(disorder)} bookings out of order, e.g. {disorder[:1]}" if disorder else ""),
        )
    )
    expired_events = sum(
        1 for rows in events.values() for row in rows if row[1] == "booking.expired"
    )
    expired_rows = sum(1 for status, _version in bookings.values() if status == "EXPIRED")
    checks.append(
        Invariant(
            "expiries: once each",
            expired_events == expired_rows == expired_by_sweeps,
            f"returned by sweeps {expired_by_sweeps}, EXPIRED bookings {expired_rows}, "
            f"booking.expired events {expired_events}",
        )
    )
    return checks, drained


def _check_cache(cached: BookingApp, plain: BookingApp, config: LoadConfig) -> Invariant:
    compared = 0
    mismatches: list[str] = []
    before = cached.cache.stats().hits if cached.cache is not None else 0

    def same(what: str, read: Callable[[BookingApp], Any]) -> None:
        nonlocal compared
        compared += 1
        if read(cached) != read(plain):
            mismatches.append(what)

    for spec in config.tenants:
        tid = spec.id
        same(f"{spec.slug} list_packages", lambda app, t=tid: app.catalog.list_packages(t))
        for slug in spec.package_slugs:
            same(
                f"{spec.slug} get_package {slug}",
                lambda app, t=tid, s=slug: app.catalog.get_package(t, s),
            )
        for venue in (None, spec.venue_id) if spec.venue_id else (None,):
            same(
                f"{spec.slug} unavailable_dates venue={venue}",
                lambda app, t=tid, v=venue: app.availability.unavailable_dates(
                    t, *config.month, venue_id=v
                ),
            )
            for date in config.hot_dates:
                same(
                    f"{spec.slug} check {date} venue={venue}",
                    lambda app, t=tid, d=date, v=venue: app.availability.check(t, d, venue_id=v),
                )
    hits = (cached.cache.stats().hits if cached.cache is not None else 0) - before
    return Invariant(
        "cache answers = database answers",
        not mismatches,
        f"reads compared {compared} (served from Redis {hits}), differ {len(mismatches)}"
        + (f": {mismatches[:3]}" if mismatches else ""),
    )


# --- the run -----------------------------------------------------------------------------------


def run(
    *,
    workers: int = 8,
    seconds: float = 30.0,
    postgres_url: str = PG,
    redis_url: str = REDIS,
    seed: int | None = None,
    profile: str = "read-heavy",
    log: Callable[[str], None] = lambda _message: None,
) -> Report:
    """Set up, load, check, tear down; returns the :class:`Report` (never raises on a check)."""
    _require_loopback(postgres_url)
    _require_loopback(redis_url)
    token = uuid.uuid4().hex[:10]
    name = f"bc_load_{token}"
    prefix = f"bc-load-{token}"
    if profile not in PROFILES:
        msg = f"unknown profile {profile!r} (one of {', '.join(PROFILES)})"
        raise ValueError(msg)
    report = Report(workers=workers, seconds=seconds, profile=profile)
    admin = _admin_dsn(postgres_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    cache_url = _with_prefix(redis_url, prefix)
    try:
        with connect(url, create_schema=True) as setup:
            hot_dates, month = _hot_window(dt.date.today())
            specs = _seed(setup, hot_dates)
        report.outcomes["setup: lapsed holds seeded"] = _seed_lapsed_holds(url, specs, hot_dates)
        config = LoadConfig(
            database_url=url,
            cache_url=cache_url,
            workers=workers,
            seconds=seconds,
            seed=seed if seed is not None else random.randrange(1 << 30),
            tenants=specs,
            hot_dates=hot_dates,
            month=month,
            profile=profile,
        )
        delivered = _load(config, report, log)
        log("checking invariants")
        with (
            connect(url) as plain,
            connect(url, cache_url=cache_url) as cached,
            psycopg.connect(_admin_dsn(url), autocommit=True) as conn,
        ):
            report.invariants.extend(_check_capacity(conn, config))
            report.invariants.append(_check_cache(cached, plain, config))
            sweep, swept = _check_sweep(plain, conn)
            report.invariants.append(sweep)
            report.outcomes["final sweep: expired"] = swept
            expired_total = report.outcomes["expire_holds: expired"] + swept
            checks, drained = _check_outbox(plain, conn, delivered, expired_total)
            report.invariants.extend(checks)
            report.outcomes["final drain: delivered"] = drained
        report.invariants.append(
            Invariant(
                "no errors",
                not report.errors,
                "none"
                if not report.errors
                else ", ".join(f"{k} x{v}" for k, v in report.errors.most_common(4)),
            )
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        report.outcomes["teardown: redis keys dropped"] = _drop_redis_keys(redis_url, prefix)
    return report


def _load(
    config: LoadConfig, report: Report, log: Callable[[str], None]
) -> list[tuple[str, int, float]]:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    procs = [
        ctx.Process(target=worker_main, args=(config, n, start, results), name=f"load-{n}")
        for n in range(config.workers)
    ]
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # imports and connects happen before the clock starts
    log(f"{config.workers} workers started, running {config.seconds:g} s")
    start.set()
    began = time.perf_counter()
    collected = []
    limit = time.monotonic() + config.seconds + 120
    while len(collected) < len(procs) and time.monotonic() < limit:
        try:
            collected.append(results.get(timeout=1.0))
        except queue.Empty:
            if not any(proc.is_alive() for proc in procs) and results.empty():
                break
    report.elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    delivered: list[tuple[str, int, float]] = []
    report.latencies = {op: [] for op in OPS}
    missing = config.workers - len(collected)
    if missing:
        report.errors["worker: no result"] += missing
    for result in collected:
        if "fatal" in result:
            report.errors["worker: crashed"] += 1
            report.error_samples.append(result["fatal"])
            continue
        for op, values in result["latencies"].items():
            report.latencies[op].extend(values)
        report.outcomes.update(result["outcomes"])
        report.errors.update(result["errors"])
        report.error_samples.extend(result["samples"])
        report.cache.update(result["cache"])
        delivered.extend(result["delivered"])
    report.elapsed = max([r.get("elapsed", 0.0) for r in collected] or [report.elapsed])
    return delivered


# --- output ------------------------------------------------------------------------------------


def print_report(report: Report) -> None:
    total = sum(report.ops.values())
    elapsed = report.elapsed or float("nan")
    reads = sum(report.ops[op] for op in READS)
    writes = sum(report.ops[op] for op in WRITES)
    every = [v for op in OPS for v in report.latencies.get(op, [])]
    rows = []
    for op in OPS:
        values = report.latencies.get(op, [])
        rows.append(
            [
                op,
                f"{len(values):,}",
                f"{100 * len(values) / total:.2f}%" if total else "n/a",
                fmt_rate(len(values) / elapsed),
                fmt_ms(percentile(values, 50)),
                fmt_ms(percentile(values, 99)),
            ]
        )
    rows.append(
        [
            "all",
            f"{total:,}",
            "100.00%",
            fmt_rate(total / elapsed),
            fmt_ms(percentile(every, 50)),
            fmt_ms(percentile(every, 99)),
        ]
    )
    print_table(
        f"Load ({report.profile}): {report.workers} worker processes x {report.seconds:g} s,"
        " one PostgreSQL + one "
        f"Redis (loopback); {reads:,} reads / {writes:,} writes "
        f"({100 * writes / total if total else 0:.1f}% writes), {fmt_rate(total / elapsed)}",
        ["operation", "ops", "share", "throughput", "p50", "p99"],
        rows,
    )
    print_table(
        "Outcomes (expected booking_core answers are not errors)",
        ["outcome", "count"],
        [[name, f"{count:,}"] for name, count in sorted(report.outcomes.items())]
        + [[f"ERROR {name}", f"{count:,}"] for name, count in sorted(report.errors.items())],
    )
    hits, misses = report.cache["hits"], report.cache["misses"]
    print_table(
        "Redis cache, all workers (stats() summed)",
        ["hits", "misses", "hit rate", "errors", "sets"],
        [
            [
                f"{hits:,}",
                f"{misses:,}",
                f"{100 * hits / (hits + misses):.1f}%" if hits + misses else "n/a",
                f"{report.cache['errors']:,}",
                f"{report.cache['sets']:,}",
            ]
        ],
    )
    print_table(
        "Invariants",
        ["check", "result", "details"],
        [[c.name, "pass" if c.ok else "FAIL", c.detail] for c in report.invariants],
    )
    for sample in report.error_samples[:5]:
        print("\n" + sample.rstrip())


def print_profiles(reports: list[Report]) -> None:
    """Operations per second of each profile run (the line to compare before/after)."""
    rows = []
    for report in reports:
        ops = report.ops
        total = sum(ops.values())
        elapsed = report.elapsed or float("nan")
        writes = sum(ops[op] for op in WRITES)
        hcc = ops["hold"] + ops["confirm"] + ops["cancel"]
        every = [v for op in OPS for v in report.latencies.get(op, [])]
        holds = report.latencies.get("hold", [])
        rows.append(
            [
                report.profile,
                report.workers,
                f"{report.seconds:g} s",
                f"{total:,}",
                fmt_rate(total / elapsed),
                f"{100 * writes / total if total else 0:.1f}%",
                f"{100 * hcc / total if total else 0:.1f}%",
                fmt_rate(ops["hold"] / elapsed),
                fmt_ms(percentile(every, 50)),
                fmt_ms(percentile(every, 99)),
                fmt_ms(percentile(holds, 50)),
                fmt_ms(percentile(holds, 99)),
                "pass" if report.ok else "FAIL",
            ]
        )
    print_table(
        "Operations per second per profile",
        [
            "profile",
            "workers",
            "duration",
            "ops",
            "ops/s",
            "writes",
            "hold+confirm+cancel",
            "holds/s",
            "p50 all",
            "p99 all",
            "p50 hold",
            "p99 hold",
            "invariants",
        ],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8, help="worker processes (default 8)")
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration (default 30)")
    parser.add_argument("--short", action="store_true", help="4 workers x 5 s (smoke run)")
    parser.add_argument("--seed", type=int, default=None, help="workload seed (default random)")
    parser.add_argument(
        "--profile",
        choices=[*PROFILES, "both"],
        default="read-heavy",
        help="operation mix (default read-heavy; both = one run of each)",
    )
    args = parser.parse_args(argv)
    workers, seconds = (
        (min(args.workers, 4), min(args.seconds, 5.0))
        if args.short
        else (
            args.workers,
            args.seconds,
        )
    )
    if not 1 <= workers <= 32 or not 0 < seconds <= 600:
        parser.error("--workers must be 1..32 and --seconds 0..600")

    def log(message: str) -> None:
        print(f"[load] {message}", file=sys.stderr, flush=True)

    import booking_core  # noqa: PLC0415 - only to name the checkout measured

    print(f"booking_core {booking_core.__file__}")
    profiles = list(PROFILES) if args.profile == "both" else [args.profile]
    reports = []
    for profile in profiles:
        log(f"profile {profile}")
        report = run(workers=workers, seconds=seconds, seed=args.seed, profile=profile, log=log)
        print_report(report)
        reports.append(report)
    print_profiles(reports)
    failed = [f"{r.profile}: {c.name}" for r in reports for c in r.invariants if not c.ok]
    failed += [f"{r.profile}: no checks ran" for r in reports if not r.invariants]
    print()
    print("all invariants hold" if not failed else f"FAILED: {', '.join(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
