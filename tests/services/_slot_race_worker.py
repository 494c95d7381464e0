"""Racers of the time-slot race tests: long-lived processes or threads released together.

Each racer has its own app (``connect(url)``) per database URL and a clock the parent sets per
round. Per round every racer gets one :class:`Attempt` (a timed hold or a reschedule), all wait
at one barrier, run it through the public services and report one :class:`Outcome`.

Starting a process costs about a second on a small machine, so the process racers start once
(per test module) and run every round of every scenario on both databases.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
import threading
import traceback
import uuid
from dataclasses import dataclass
from typing import Any

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import CustomerDetails
from booking_core.errors import BookingConflictError
from booking_core.testing import ManualClock

BARRIER_TIMEOUT = 60.0
ROUND_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """A timed hold of ``package_id`` at ``start``, or a reschedule of ``booking_id`` to it."""

    op: str  # "hold" | "reschedule"
    tenant_id: uuid.UUID
    start: dt.datetime
    package_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    email: str = "racer@example.com"


@dataclass(frozen=True, slots=True)
class Outcome:
    """``won`` (with the booking held or moved), ``BookingConflictError``, or ``error: …``."""

    label: str
    booking_id: uuid.UUID | None = None
    starts_at: dt.datetime | None = None

    @property
    def won(self) -> bool:
        return self.label == "won"


def attempt(app: BookingApp, what: Attempt) -> Outcome:
    """Run one attempt; a lost race is ``BookingConflictError``, anything else an error."""
    try:
        if what.op == "hold":
            assert what.package_id is not None
            booking = app.bookings.hold(
                what.tenant_id,
                package_id=what.package_id,
                start=what.start,
                customer=CustomerDetails("Racer", what.email),
            )
        else:
            assert what.booking_id is not None
            booking = app.bookings.reschedule(what.tenant_id, what.booking_id, new_start=what.start)
    except BookingConflictError as error:
        if error.start != what.start:
            return Outcome(f"error: conflict names {error.start}, not {what.start}")
        return Outcome(type(error).__name__)
    except Exception as error:
        return Outcome(f"error: {type(error).__name__}: {error}"[:300])
    return Outcome("won", booking.id, booking.starts_at)


def open_app(
    url: str, now: dt.datetime, cache_url: str | None = None
) -> tuple[BookingApp, ManualClock]:
    """An app of one racer: its own engine (one connection on PostgreSQL), clock and cache
    (with a cache, PostgreSQL places a plain timed hold in one statement from cached terms)."""
    clock = ManualClock(now)
    pool: dict[str, Any] = (
        {"pool_size": 1, "max_overflow": 1} if url.startswith("postgresql") else {}
    )
    return connect(url, clock=clock, cache_url=cache_url, **pool), clock


# --- processes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Task:
    number: int
    url: str
    cache_url: str | None
    now: dt.datetime
    what: Attempt


def serve(index: int, tasks: Any, results: Any, barrier: Any) -> None:
    """A racer process: per task, set the clock, meet the others at the barrier, attempt."""
    apps: dict[tuple[str, str | None], tuple[BookingApp, ManualClock]] = {}
    while True:
        task: _Task | None = tasks.get()
        if task is None:
            break
        try:
            where = (task.url, task.cache_url)
            if where not in apps:
                apps[where] = open_app(task.url, task.now, task.cache_url)
            app, clock = apps[where]
            clock.set(task.now)
        except Exception:
            results.put((index, task.number, Outcome(f"error: setup {traceback.format_exc()}")))
            _meet(barrier)
            continue
        if not _meet(barrier):
            results.put((index, task.number, Outcome("error: barrier broken")))
            continue
        results.put((index, task.number, attempt(app, task.what)))
    for app, _clock in apps.values():
        app.close()


def _meet(barrier: Any) -> bool:
    try:
        barrier.wait(timeout=BARRIER_TIMEOUT)
    except threading.BrokenBarrierError:
        return False
    return True


class ProcessRacers:
    """``size`` spawned processes, each with its own engine, that race once per round."""

    kind = "processes"

    def __init__(self, size: int) -> None:
        self.size = size
        ctx = multiprocessing.get_context("spawn")
        self._barrier = ctx.Barrier(size)
        self._results: Any = ctx.Queue()
        self._tasks: list[Any] = [ctx.Queue() for _ in range(size)]
        self._procs = [
            ctx.Process(
                target=serve,
                args=(i, self._tasks[i], self._results, self._barrier),
                daemon=True,
            )
            for i in range(size)
        ]
        for proc in self._procs:
            proc.start()
        self._number = 0

    def run(
        self, url: str, cache_url: str | None, now: dt.datetime, attempts: list[Attempt]
    ) -> list[Outcome]:
        """Racer ``i`` runs ``attempts[i]``; their outcomes, in that order."""
        assert len(attempts) == self.size
        self._number += 1
        for i, what in enumerate(attempts):
            self._tasks[i].put(_Task(self._number, url, cache_url, now, what))
        outcomes: list[Outcome | None] = [None] * self.size
        pending = self.size
        while pending:
            try:
                index, number, outcome = self._results.get(timeout=ROUND_TIMEOUT)
            except queue.Empty:
                self._barrier.reset()
                raise TimeoutError(f"round {self._number}: a racer did not answer") from None
            if number == self._number:
                outcomes[index] = outcome
                pending -= 1
        if self._barrier.broken:
            self._barrier.reset()
        return [o for o in outcomes if o is not None]

    def close(self) -> None:
        for tasks in self._tasks:
            tasks.put(None)
        for proc in self._procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


# --- threads ----------------------------------------------------------------------------------


class ThreadRacers:
    """``size`` threads per round, each with its own app (engine and clock) per URL."""

    kind = "threads"

    def __init__(self, size: int) -> None:
        self.size = size
        self._apps: dict[tuple[str, str | None], list[tuple[BookingApp, ManualClock]]] = {}

    def run(
        self, url: str, cache_url: str | None, now: dt.datetime, attempts: list[Attempt]
    ) -> list[Outcome]:
        """Thread ``i`` runs ``attempts[i]`` on app ``i``; their outcomes, in that order."""
        assert len(attempts) == self.size
        where = (url, cache_url)
        if where not in self._apps:
            self._apps[where] = [open_app(url, now, cache_url) for _ in range(self.size)]
        apps = self._apps[where]
        for _app, clock in apps:
            clock.set(now)
        barrier = threading.Barrier(self.size)
        outcomes: list[Outcome] = [Outcome("error: did not finish")] * self.size

        def run(i: int) -> None:
            try:
                barrier.wait(timeout=BARRIER_TIMEOUT)
            except threading.BrokenBarrierError:
                outcomes[i] = Outcome("error: barrier broken")
                return
            outcomes[i] = attempt(apps[i][0], attempts[i])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(self.size)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=ROUND_TIMEOUT)
        return outcomes

    def close(self) -> None:
        for apps in self._apps.values():
            for app, _clock in apps:
                app.close()
        self._apps.clear()


#: What the tests take: either kind of racers.
Racers = ProcessRacers | ThreadRacers
