"""Long-lived worker processes for the fault harnesses (importable by spawned processes).

Starting a process costs seconds on a small machine, so two workers start once and run many
rounds: per round each gets a list of steps, both wait at one barrier, run their steps and
report one outcome label per step. Workers keep one app per database URL and a clock the parent
sets per round, so expiry is the same in every process.
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
from booking_core.errors import (
    BookingCoreError,
    LockTimeoutError,
    StorageError,
)
from booking_core.testing import ManualClock

from ._provider import SharedProvider

#: Errors a racing operation may legitimately end with (it lost, or the state moved on).
EXPECTED = (BookingCoreError,)
#: ...except these: storage giving up is never a legitimate answer to a two-process race.
UNEXPECTED = (StorageError, LockTimeoutError)

BARRIER_TIMEOUT = 60.0
ROUND_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class Target:
    """One booking under test and what operations on it need."""

    tenant_id: uuid.UUID
    package_id: uuid.UUID
    booking_id: uuid.UUID
    date: dt.date
    other_date: dt.date
    payment_ref: str
    total: int
    key: str
    customer: CustomerDetails
    refund_amount: int


@dataclass(frozen=True, slots=True)
class Step:
    """One operation; webhooks carry their signed body and headers."""

    op: str
    target: Target
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    label: str = ""


def run_step(app: BookingApp, step: Step) -> str:
    """Run one step; its outcome as a short label (``ok:…``, an error name, or ``unexpected:…``)."""
    try:
        return OPS[step.op](app, step)
    except UNEXPECTED as error:
        return f"unexpected:{type(error).__name__}: {error}"[:300]
    except EXPECTED as error:
        return type(error).__name__
    except Exception as error:
        return f"unexpected:{type(error).__name__}: {error}"[:300]


def _hold(app: BookingApp, step: Step) -> str:
    """Another customer holds the target's date."""
    tgt = step.target
    booking = app.bookings.hold(
        tgt.tenant_id,
        package_id=tgt.package_id,
        date=tgt.date,
        customer=CustomerDetails("Rival", f"rival-{uuid.uuid4().hex[:8]}@example.com"),
    )
    return f"ok:held {booking.id}"


def _confirm(app: BookingApp, step: Step) -> str:
    tgt = step.target
    booking = app.bookings.confirm(tgt.tenant_id, tgt.booking_id, payment_ref=tgt.payment_ref)
    return f"ok:{booking.status.value}"


def _cancel(app: BookingApp, step: Step) -> str:
    tgt = step.target
    result = app.bookings.cancel(tgt.tenant_id, tgt.booking_id, reason="race")
    return f"ok:refund {result.refund_amount}"


def _reschedule(app: BookingApp, step: Step) -> str:
    tgt = step.target
    booking = app.bookings.reschedule(tgt.tenant_id, tgt.booking_id, new_date=tgt.other_date)
    return f"ok:{booking.status.value}"


def _expire(app: BookingApp, step: Step) -> str:
    expired = app.bookings.expire_holds(tenant_id=step.target.tenant_id)
    mine = any(b.id == step.target.booking_id for b in expired)
    return "ok:expired" if mine else "ok:none"


def _webhook(app: BookingApp, step: Step) -> str:
    receipt = app.webhooks.receive(None, step.body, dict(step.headers))
    if receipt.state.value == "FAILED":
        return f"FAILED:{(receipt.error or '').split(':')[0]}"
    return f"{receipt.state.value}:{'duplicate' if receipt.duplicate else receipt.outcome}"


def _refund(app: BookingApp, step: Step) -> str:
    tgt = step.target
    refund = app.bookings.refund(tgt.tenant_id, tgt.booking_id, amount=tgt.refund_amount)
    return f"ok:refund {refund.state.value}"


def _replay(app: BookingApp, step: Step) -> str:
    """The client retries its checkout with the same idempotency key."""
    tgt = step.target
    checkout = app.bookings.checkout(
        tgt.tenant_id,
        package_id=tgt.package_id,
        date=tgt.date,
        customer=tgt.customer,
        idempotency_key=tgt.key,
    )
    return f"ok:{checkout.booking.status.value}"


OPS = {
    "hold": _hold,
    "confirm": _confirm,
    "cancel": _cancel,
    "reschedule": _reschedule,
    "expire": _expire,
    "pay": _webhook,
    "fail": _webhook,
    "expired": _webhook,
    "refunded": _webhook,
    "refund": _refund,
    "replay": _replay,
}


# --- the worker side -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Task:
    number: int
    url: str
    now: dt.datetime
    steps: tuple[Step, ...]
    #: A Redis cache shared by the workers and the parent (None: no cache).
    cache_url: str | None = None


def serve(index: int, tasks: Any, results: Any, barrier: Any, address: Any, authkey: bytes) -> None:
    """Worker loop: per task, set the clock, meet the other worker at the barrier, run."""
    provider = SharedProvider(address, authkey)
    apps: dict[tuple[str, str | None], tuple[BookingApp, ManualClock]] = {}
    while True:
        task: Task | None = tasks.get()
        if task is None:
            break
        try:
            where = (task.url, task.cache_url)
            if where not in apps:
                apps[where] = _connect(task.url, task.now, provider, task.cache_url)
            app, clock = apps[where]
            clock.set(task.now)
        except Exception:
            results.put((index, task.number, [f"unexpected:setup {traceback.format_exc()}"]))
            _meet(barrier)
            continue
        if not _meet(barrier):
            results.put((index, task.number, ["unexpected:barrier broken"] * len(task.steps)))
            continue
        results.put((index, task.number, [run_step(app, step) for step in task.steps]))
    for app, _clock in apps.values():
        app.close()


def _connect(
    url: str, now: dt.datetime, provider: SharedProvider, cache_url: str | None
) -> tuple[BookingApp, Any]:
    clock = ManualClock(now)
    pool: dict[str, Any] = (
        {"pool_size": 2, "max_overflow": 2} if url.startswith("postgresql") else {}
    )
    return connect(url, clock=clock, payments=provider, cache_url=cache_url, **pool), clock


def _meet(barrier: Any) -> bool:
    try:
        barrier.wait(timeout=BARRIER_TIMEOUT)
    except threading.BrokenBarrierError:
        return False
    return True


# --- the parent side -----------------------------------------------------------------------


class WorkerPool:
    """Two spawned workers that run rounds of steps released together at a barrier."""

    size = 2

    def __init__(self, address: Any, authkey: bytes) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._barrier = ctx.Barrier(self.size)
        self._results: Any = ctx.Queue()
        self._tasks: list[Any] = [ctx.Queue() for _ in range(self.size)]
        self._procs = [
            ctx.Process(
                target=serve,
                args=(i, self._tasks[i], self._results, self._barrier, address, authkey),
                daemon=True,
            )
            for i in range(self.size)
        ]
        for proc in self._procs:
            proc.start()
        self._number = 0

    def run(
        self,
        url: str,
        now: dt.datetime,
        steps: list[list[Step]],
        cache_url: str | None = None,
    ) -> list[list[str]]:
        """Give worker ``i`` the steps ``steps[i]``; return each worker's outcome labels."""
        self._number += 1
        for i, mine in enumerate(steps):
            self._tasks[i].put(Task(self._number, url, now, tuple(mine), cache_url))
        outcomes: list[list[str]] = [[] for _ in steps]
        pending = len(steps)
        while pending:
            try:
                index, number, labels = self._results.get(timeout=ROUND_TIMEOUT)
            except queue.Empty:
                self._barrier.reset()
                raise TimeoutError(f"round {self._number}: a worker did not answer") from None
            if number == self._number:
                outcomes[index] = labels
                pending -= 1
        if self._barrier.broken:
            self._barrier.reset()
        return outcomes

    def close(self) -> None:
        for tasks in self._tasks:
            tasks.put(None)
        for proc in self._procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
