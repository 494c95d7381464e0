"""The race matrix: every pair of state-changing operations on one booking, from two processes.

Operations: hold (the same date, by another customer), confirm, cancel, reschedule, the expiry
sweep, a payment-succeeded and a payment-failed webhook (each a distinct signed delivery), a
partial refund (60 %) and a checkout replay (same idempotency key). Per round the parent sets up
a fresh booking by checkout: unpaid, paid (confirmed), or a hold the clock has let lapse (pairs
with the sweep race only against that one), on a tenant whose cancellation refunds 100, 50 or
0 %. Two long-lived worker processes then run one operation each, released by one barrier, with
the same fixed clock. 45 pairs x 117 (pair, start) combinations, 6 rounds each in CI
(702 rounds per backend), 60 with ``BOOKING_CORE_LONG=1``; SQLite (file) and PostgreSQL.

After each round (and a ``retry_refunds``) the state must be one coherent state (see
``_invariants``): no refund beyond the payment, refund rows summing to the refunded total, the
provider's refunds equal to the stored successful ones, no date over capacity, no cancelled or
expired booking holding a claim, live claims exactly the unexpired holds and paid bookings, a
gapless outbox with each once-only event once. The operations' own answers must agree with it:
the refunds they report are the refunds recorded, one payment never both confirms the booking
and is refunded as a late payment, and a checkout replay never hands out a payment session for
a cancelled booking nor is refused by the provider.

Every round runs; then every broken invariant is listed with its pair, start state, tier and
outcomes, and printed in the "fault harness figures" section with the outcomes per pair.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from booking_core.bootstrap import BookingApp, connect
from booking_core.testing import ManualClock

from . import _invariants as inv
from ._provider import SharedProvider
from ._race_worker import Step, Target, WorkerPool
from ._scenario import CAPACITY, START, Calendar, checkout, webhook
from .conftest import LONG

pytestmark = [pytest.mark.slow, pytest.mark.timeout(7200 if LONG else 600)]

OPS = ("hold", "confirm", "cancel", "reschedule", "expire", "pay", "fail", "refund", "replay")
PAIRS = list(itertools.combinations_with_replacement(OPS, 2))
#: The booking a round starts from: an unpaid hold, a paid booking, or a hold lapsed by the clock.
STARTS = ("pending", "confirmed", "lapsed")
#: Cancellation refund tiers (percent) of the tenants; rounds rotate through them.
TIERS = (100, 50, 0)
#: The instant both workers run at: an hour after START, so a hold made at START has lapsed.
NOW = START + dt.timedelta(hours=1)


def rounds_per_combination(long_mode: bool) -> int:
    return 60 if long_mode else 6


def starts_for(pair: tuple[str, str]) -> tuple[str, ...]:
    """An expiry sweep races only against a lapsed hold; everything else against all three."""
    return ("lapsed",) if "expire" in pair else STARTS


@dataclass(frozen=True, slots=True)
class Round:
    pair: tuple[str, str]
    start: str
    tier: int

    def describe(self) -> str:
        return f"{self.pair[0]} x {self.pair[1]} from {self.start}, {self.tier}% tier"


def schedule(rounds: int) -> Iterator[Round]:
    """Round-major order: a cut-short run has still covered every pair."""
    for repeat in range(rounds):
        for pair in PAIRS:
            for start in starts_for(pair):
                yield Round(pair, start, TIERS[repeat % len(TIERS)])


@dataclass
class Results:
    """What a backend's matrix saw: outcomes per pair and every broken invariant."""

    rounds: int = 0
    outcomes: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    broken: list[tuple[Round, list[str], list[str]]] = field(default_factory=list)

    def names(self) -> Counter[str]:
        return Counter(line.split(":")[0] for _, _, lines in self.broken for line in lines)


def prepare(app: BookingApp, clock: ManualClock, calendar: Calendar, rnd: Round) -> Target:
    """The round's booking: lapsed holds are made an hour before NOW, paid ones confirmed."""
    clock.set(START if rnd.start == "lapsed" else NOW)
    target = checkout(app, calendar, rnd.tier)
    clock.set(NOW)
    if rnd.start == "confirmed":
        app.bookings.confirm(target.tenant_id, target.booking_id, payment_ref=target.payment_ref)
    return target


def step(op: str, target: Target, worker: int) -> Step:
    """One worker's operation; webhooks are distinct deliveries (their own event ids)."""
    if op in ("pay", "fail"):
        event_id = f"evt_{target.booking_id.hex[:16]}_{op}_{worker}"
        return webhook(op, target, event_id=event_id, at=NOW)
    return Step(op, target)


_ID = re.compile(r" [0-9a-f-]{36}")


def outcome_checks(rnd: Round, labels: list[str]) -> list[str]:
    """What the operations' own answers must not say, whatever the interleaving."""
    found = []
    for op, label in zip(rnd.pair, labels, strict=True):
        if label.startswith("unexpected:"):
            found.append(f"unexpected-error: {op} -> {label[len('unexpected:') :]}")
        if op == "replay" and label == "ok:CANCELED":
            found.append("replay-paid-canceled: a checkout replay created a payment session")
        if op == "replay" and label == "PaymentError":
            # the provider here never refuses a payment: the replay itself asked for a
            # different payment under the same key (and a refused checkout cancels its hold)
            found.append("replay-refused: the provider refused the replayed checkout's payment")
    return found


#: Outcomes by which an operation took the booking's payment as its confirmation.
CONFIRMING = ("ok:CONFIRMED", "PROCESSED:confirmed", "PROCESSED:confirmed_after_expiry")
LATE_REFUND = "PROCESSED:refunded_late_payment"


def money_checks(rnd: Round, labels: list[str], target: Target, snap: inv.Snapshot) -> list[str]:
    """The booking's refunds against what the operations said they did, and one payment (one
    payment reference) counted once: never both confirming the booking and refunded as late."""
    refunded = 0
    for op, label in zip(rnd.pair, labels, strict=True):
        if op == "cancel" and label.startswith("ok:refund "):
            refunded += int(label.split()[-1])
        elif op == "refund" and label.startswith("ok:refund"):
            refunded += target.refund_amount
        elif label == LATE_REFUND:
            refunded += target.total
    found = []
    booking = snap.bookings[target.booking_id]
    if booking.amount_refunded != refunded:
        found.append(
            f"refunds-vs-operations: operations report {refunded} refunded, "
            f"booking has {booking.amount_refunded}"
        )
    confirmed = rnd.start == "confirmed" or any(label in CONFIRMING for label in labels)
    if confirmed and LATE_REFUND in labels:
        found.append(
            "payment-counted-twice: one payment confirmed the booking and was refunded as late"
        )
    return found


def play(
    app: BookingApp,
    clock: ManualClock,
    pool: WorkerPool,
    url: str,
    provider: SharedProvider,
    calendar: Calendar,
    rnd: Round,
    cache_url: str | None = None,
) -> tuple[list[str], list[str]]:
    """Run one round; returns the two outcome labels and what broke."""
    target = prepare(app, clock, calendar, rnd)
    steps = [[step(op, target, worker)] for worker, op in enumerate(rnd.pair)]
    labels = [labels[0] for labels in pool.run(url, NOW, steps, cache_url)]
    app.bookings.retry_refunds(tenant_id=target.tenant_id)
    rivals = {uuid.UUID(label.split()[-1]) for label in labels if label.startswith("ok:held")}
    dates = {target.date, target.other_date}
    snap = inv.read(app, target.tenant_id, {target.booking_id, *rivals}, dates)
    broken = outcome_checks(rnd, labels) + money_checks(rnd, labels, target, snap)
    broken += inv.broken(snap, now=NOW, capacity=CAPACITY, provider=provider.refunds_of)
    return labels, broken


def run_matrix(
    url: str,
    pool: WorkerPool,
    provider: SharedProvider,
    rounds: int,
    cache_url: str | None = None,
) -> tuple[Results, float]:
    """``rounds`` of every pair; with ``cache_url`` the parent and both workers share that
    Redis cache (so holds from cached terms take the one-statement path)."""
    clock = ManualClock(NOW)
    results = Results()
    began = time.perf_counter()
    with connect(url, clock=clock, payments=provider, cache_url=cache_url) as app:
        calendar = Calendar(app)
        for rnd in schedule(rounds):
            labels, broken = play(app, clock, pool, url, provider, calendar, rnd, cache_url)
            results.rounds += 1
            results.outcomes[rnd.pair][" | ".join(_ID.sub("", x) for x in labels)] += 1
            if broken:
                results.broken.append((rnd, labels, broken))
    return results, time.perf_counter() - began


def report(backend: str, results: Results, seconds: float) -> list[str]:
    """Figures: pairs x rounds, outcomes per pair, broken invariants with a repro each."""
    lines = [
        f"race matrix [{backend}]: {len(PAIRS)} pairs, {results.rounds} rounds "
        f"({seconds:.0f} s); broken invariants: {dict(results.names()) or 0}"
    ]
    for pair, counts in results.outcomes.items():
        shown = ", ".join(f"{k} ({n})" for k, n in counts.most_common())
        lines.append(f"  {pair[0]} x {pair[1]}: {shown}")
    examples: dict[tuple[str, str], list[str]] = {}
    seen: Counter[tuple[str, str]] = Counter()
    for rnd, labels, broken in results.broken:
        for line in broken:
            key = (rnd.describe(), line.split(":")[0])
            seen[key] += 1
            examples.setdefault(key, [*labels, line])
    for (where, name), count in sorted(seen.items()):
        lines.append(
            f"  BROKEN {name} [{backend}] {where}: {count} rounds, e.g. {examples[where, name]}"
        )
    return lines


def _db_url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend.startswith("postgres"):
        return str(request.getfixturevalue("pg_database_url"))
    return str(request.getfixturevalue("sqlite_file_url"))


def _cache_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    if not backend.endswith("+redis"):
        return None
    return f"{request.getfixturevalue('redis_url')}?prefix=bc-race-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ],
)
def test_every_pair_of_operations_leaves_one_coherent_state(
    backend: str,
    request: pytest.FixtureRequest,
    worker_pool: WorkerPool,
    shared_provider: SharedProvider,
    long_mode: bool,
    figures: list[str],
) -> None:
    """Two processes, one booking, every pair of operations: the state stays coherent
    (``postgres+redis``: with a shared cache, holds take the one-statement path)."""
    url = _db_url(backend, request)
    results, seconds = run_matrix(
        url,
        worker_pool,
        shared_provider,
        rounds_per_combination(long_mode),
        _cache_url(backend, request),
    )
    lines = report(backend, results, seconds)
    figures.extend(lines)
    assert not results.broken, "\n".join(line for line in lines if "BROKEN" in line)
