"""Racers of the series race test: long-lived spawned processes, each with its own app per
database URL, released together by a barrier to hold one recurring series each."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import traceback
import uuid
from dataclasses import dataclass
from typing import Any

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import CustomerDetails, SeriesConflicts
from booking_core.errors import BookingConflictError
from booking_core.testing import ManualClock

BARRIER_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class SeriesAttempt:
    url: str
    now: dt.datetime
    tenant_id: uuid.UUID
    package_id: uuid.UUID
    first: dt.datetime
    rule: str
    conflicts: SeriesConflicts
    email: str


@dataclass(frozen=True, slots=True)
class SeriesOutcome:
    """``held`` (with the series id, its occurrences' starts and the skipped ones), ``conflict``
    (all-or-nothing lost), or ``error: …``."""

    label: str
    series_id: uuid.UUID | None = None
    starts: tuple[dt.datetime, ...] = ()
    skipped: tuple[tuple[dt.datetime, str], ...] = ()


def _attempt(apps: dict[str, tuple[BookingApp, ManualClock]], what: SeriesAttempt) -> SeriesOutcome:
    if what.url not in apps:
        clock = ManualClock(what.now)
        apps[what.url] = (connect(what.url, clock=clock), clock)
    app, clock = apps[what.url]
    clock.set(what.now)
    try:
        series = app.series.hold(
            what.tenant_id,
            package_id=what.package_id,
            first=what.first,
            rule=what.rule,
            customer=CustomerDetails("Racer", what.email),
            conflicts=what.conflicts,
        )
    except BookingConflictError:
        return SeriesOutcome("conflict")
    except Exception:  # reported to the parent, which fails the test with it
        return SeriesOutcome(f"error: {traceback.format_exc()}")
    starts = tuple(b.starts_at for b in series.bookings if b.starts_at is not None)
    skipped = tuple((s.start, s.reason) for s in series.skipped)
    return SeriesOutcome("held", series.series_id, starts, skipped)


def _serve(tasks: Any, results: Any, barrier: Any) -> None:
    apps: dict[str, tuple[BookingApp, ManualClock]] = {}
    try:
        while (what := tasks.get()) is not None:
            barrier.wait(BARRIER_TIMEOUT)
            results.put(_attempt(apps, what))
    finally:
        for app, _ in apps.values():
            app.close()


class SeriesRacers:
    """``count`` spawned processes; :meth:`race` gives each one attempt and returns the
    outcomes in the order of the attempts."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._barrier = context.Barrier(count)
        self._tasks = [context.Queue() for _ in range(count)]
        self._results = [context.Queue() for _ in range(count)]
        self._processes = [
            context.Process(target=_serve, args=(tasks, results, self._barrier), daemon=True)
            for tasks, results in zip(self._tasks, self._results, strict=True)
        ]
        for process in self._processes:
            process.start()

    def race(self, attempts: list[SeriesAttempt]) -> list[SeriesOutcome]:
        for tasks, what in zip(self._tasks, attempts, strict=True):
            tasks.put(what)
        return [results.get(timeout=120) for results in self._results]

    def close(self) -> None:
        for tasks in self._tasks:
            tasks.put(None)
        for process in self._processes:
            process.join(timeout=30)
