"""Provider event fuzzing: shuffled, duplicated and re-id'd provider events for one booking.

A provider may deliver its events in any order, more than once (the same event id), and may
report one payment or refund under several event ids. For one booking (a checkout), Hypothesis
draws a set of events and host actions in one of three families:

- ``payments``: payment succeeded (under 0-3 event ids), failed, expired; the host cancelling
  under a 100, 50 or 0 % refund tier; the provider's refund.succeeded for the refunds
  booking_core asked for (possibly re-id'd);
- ``refunds``: the payment, and refunds made at the provider's dashboard (re-id'd too);
- ``late`` (in order only: the clock moves): the hold lapses, another customer takes the date
  and later lets it go, while the payment's events (re-id'd) and a failure arrive.

Each event is delivered 1-3 times, in a shuffled order, through ``webhooks.receive``: one by
one in order (memory, SQLite, PostgreSQL), from two threads (same), or from two worker
processes (SQLite, PostgreSQL). Failed events are then redelivered (``retry_failed``) and
refunds retried, as a host's periodic jobs would.

The final money must be what the event set implies, whatever the order: exactly (``implied``)
for in-order delivery, and along whichever path the booking took for concurrent delivery. One
payment reference is counted once (never a second confirmation or late-payment refund for it);
refunds never exceed the payment; a booking cancelled when paid is refunded its tier once, so
nothing under 0 %; a payment for a booking already cancelled or whose date was taken is refunded
in full and never confirms it later; a confirmed booking keeps its payment less the dashboard
refunds, each recorded once; the provider agrees with the stored refunds. The state invariants
of ``_invariants`` hold too (gapless outbox, claims).

Every example runs (a broken invariant is tallied rather than raised, so one defect does not
hide another); the test then fails listing each broken invariant with its shortest sequence,
shrunk to a minimal one for in-order delivery. The figures (sequences, events per sequence,
broken invariants) are printed in the "fault harness figures" section.
``BOOKING_CORE_LONG=1`` runs ten times the examples.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.money import refund_for
from booking_core.ports.payments import RefundRequest
from booking_core.testing import ManualClock, in_memory_app

from . import _invariants as inv
from ._provider import NAME, SECRET, InspectableProvider, SharedProvider
from ._race_worker import Step, Target, WorkerPool, run_step
from ._scenario import CAPACITY, START, Calendar, checkout, webhook
from .conftest import LONG

pytestmark = pytest.mark.timeout(3600 if LONG else 600)

NOW = START
SCALE = 10 if LONG else 1
#: Amounts of the refunds made at the provider's dashboard (their sum stays below the price).
DASHBOARD = (25_000, 50_000)


# --- the event set ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery: ``ident`` names the fact (which dashboard refund), ``variant`` its event id
    (0 the provider's first id, others re-ids of the same fact), ``copy`` a redelivery.

    Besides provider events: ``cancel`` (the host cancels), ``confirm_refunds`` (the provider's
    refund.succeeded for the refunds booking_core asked for so far), and for late payments
    ``lapse`` (the hold's time runs out), ``rival`` (another customer holds the date) and
    ``rival_gone`` (that customer cancels).
    """

    kind: str
    ident: int = 0
    variant: int = 0
    copy: int = 0

    def __str__(self) -> str:
        extra = f"#{self.ident}" if self.kind == "dash" else ""
        reid = f"'{self.variant}" if self.variant else ""
        dup = f"(dup {self.copy})" if self.copy else ""
        return f"{self.kind}{extra}{reid}{dup}"


@dataclass(frozen=True, slots=True)
class Scenario:
    tier: int
    order: tuple[Delivery, ...]

    def has(self, kind: str) -> bool:
        return any(d.kind == kind for d in self.order)

    def dashboard_total(self) -> int:
        return sum(DASHBOARD[i] for i in {d.ident for d in self.order if d.kind == "dash"})

    def canonical(self) -> Scenario:
        """The same scenario with event ids and redeliveries numbered in order of appearance."""
        variants: dict[tuple[str, int], dict[int, int]] = {}
        copies: Counter[tuple[str, int, int]] = Counter()
        order = []
        for d in self.order:
            seen = variants.setdefault((d.kind, d.ident), {})
            variant = seen.setdefault(d.variant, len(seen))
            copy = copies[d.kind, d.ident, variant]
            copies[d.kind, d.ident, variant] += 1
            order.append(Delivery(d.kind, d.ident, variant, copy))
        return Scenario(self.tier, tuple(order))

    def __str__(self) -> str:
        return f"{self.tier}% tier: " + " ".join(str(d) for d in self.order)


HOST_ACTIONS = ("lapse", "rival", "rival_gone")


def _sometimes(tenths: int) -> st.SearchStrategy[bool]:
    """True in ``tenths`` of ten draws."""
    return st.integers(0, 9).map(lambda x: x < tenths)


@st.composite
def _facts(draw: st.DrawFn, family: str) -> list[Delivery]:
    """The distinct events (with their re-ids) of one scenario, before duplication."""
    facts: list[Delivery] = []
    if family == "payments":
        facts += [Delivery("pay", variant=v) for v in range(draw(st.sampled_from((0, 1, 2, 2, 3))))]
        facts += [Delivery(k) for k in ("fail", "expired") if draw(_sometimes(3))]
        if draw(_sometimes(7)):
            facts.append(Delivery("cancel"))
        refunding = any(f.kind in ("fail", "expired", "cancel") for f in facts)
        if refunding and draw(st.booleans()):
            reids = draw(st.integers(1, 2))
            facts += [Delivery("confirm_refunds", variant=v) for v in range(reids)]
    elif family == "refunds":
        facts += [Delivery("pay", variant=v) for v in range(draw(st.integers(1, 3)))]
        for ident in range(draw(st.integers(1, len(DASHBOARD)))):
            reids = draw(st.integers(1, 2))
            facts += [Delivery("dash", ident, v) for v in range(reids)]
    else:  # late payments
        facts += [Delivery("pay", variant=v) for v in range(draw(st.integers(1, 3)))]
        if draw(st.booleans()):
            facts.append(Delivery("fail"))
        facts += [Delivery(k) for k in HOST_ACTIONS[: draw(st.integers(1, 3))]]
    if not facts:
        facts.append(Delivery("pay"))
    return facts


@st.composite
def scenarios(draw: st.DrawFn, family: str) -> Scenario:
    """A shuffled multiset of deliveries: every event delivered 1-3 times, in any order (host
    actions once each, lapse before rival before rival_gone)."""
    facts = draw(_facts(family))
    deliveries = [
        dataclasses.replace(fact, copy=c)
        for fact in facts
        for c in range(1 if fact.kind in ("cancel", *HOST_ACTIONS) else draw(st.integers(1, 3)))
    ]
    order = list(draw(st.permutations(deliveries)))
    slots = [i for i, d in enumerate(order) if d.kind in HOST_ACTIONS]
    actions = sorted((order[i] for i in slots), key=lambda d: HOST_ACTIONS.index(d.kind))
    for i, action in zip(slots, actions, strict=True):
        order[i] = action
    # the 0 % tier twice as often: a refund there is the costliest kind of double count
    return Scenario(draw(st.sampled_from((100, 50, 0, 0))), tuple(order))


# --- what the events imply ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Money:
    status: str
    paid: int
    refunded: int


def implied(scn: Scenario, total: int) -> Money:
    """The final state an in-order delivery implies.

    A payment counts once per payment reference: the first success event decides (confirm the
    hold; keep a lapsed hold whose date is still free; refund in full a booking that was
    cancelled or whose date was taken), later ones change nothing. Failure or expiry releases
    an unpaid hold. The host's cancellation of a paid booking refunds its tier, once.
    """
    state, lapsed, taken = "pending", False, False
    for kind in (d.kind for d in scn.order):
        if kind == "lapse":
            lapsed = True
        elif kind == "rival":
            taken = state != "confirmed" and (lapsed or state != "pending")
        elif kind == "rival_gone":
            taken = False
        elif kind == "pay" and state == "pending":
            state = "expired_paid" if lapsed and taken else "confirmed"
        elif kind == "pay" and state == "canceled":
            state = "canceled_paid_late"
        elif state == "pending" and (
            kind in ("fail", "expired") or (kind == "cancel" and not lapsed)
        ):
            state = "canceled"
        elif kind == "cancel" and state == "confirmed":
            state = "canceled_after_pay"
    return {
        "pending": Money("PENDING", 0, 0),
        "confirmed": Money("CONFIRMED", total, scn.dashboard_total()),
        "canceled": Money("CANCELED", 0, 0),
        "canceled_paid_late": Money("CANCELED", total, total),
        "canceled_after_pay": Money("CANCELED", total, refund_for(total, scn.tier, 0)),
        "expired_paid": Money("EXPIRED", total, total),
    }[state]


def money_checks(scn: Scenario, snap: inv.Snapshot, target: Target, *, ordered: bool) -> list[str]:
    """The booking's money against the event set: exact for in-order delivery, and by the path
    the outbox shows (paid or not when cancelled) for any delivery."""
    booking = snap.bookings[target.booking_id]
    got = Money(booking.status, booking.amount_paid, booking.amount_refunded)
    total = target.total
    found = []
    if ordered and got != implied(scn, total):
        found.append(f"money-vs-events: expected {implied(scn, total)}, got {got}")
    canceled = sorted(
        (
            e
            for e in snap.events
            if e.type == "booking.canceled" and e.booking_id == target.booking_id
        ),
        key=lambda e: e.sequence,
    )
    paid_when_canceled = bool(canceled) and canceled[0].amount_paid == total
    if got.paid != (total if scn.has("pay") else 0):
        found.append(f"payment-counted-wrong: paid {got.paid} for one payment of {total}")
    if got.status == "CONFIRMED" and got.refunded != scn.dashboard_total():
        found.append(
            f"confirmed-refunds-vs-events: refunded {got.refunded}, "
            f"dashboard refunds {scn.dashboard_total()}"
        )
    if got.status == "CANCELED" and paid_when_canceled:
        due = refund_for(total, scn.tier, 0)
        if got.refunded != due:
            name = "zero-tier-refunded" if scn.tier == 0 else "tier-refund-vs-events"
            found.append(
                f"{name}: cancelled when paid, {scn.tier}% tier owes {due}, refunded {got.refunded}"
            )
    if (
        got.status in ("CANCELED", "EXPIRED")
        and not paid_when_canceled
        and got.refunded != got.paid
    ):
        found.append(
            f"late-payment-kept: {got.status} before paying, paid {got.paid}, "
            f"refunded {got.refunded}"
        )
    return found


# --- delivering ---------------------------------------------------------------------------

#: How far ``lapse`` moves the clock: well past the 15-minute hold.
LAPSE = dt.timedelta(hours=1)


@dataclass
class Run:
    """One scenario on one backend: its booking, the provider, and the rival's booking."""

    app: BookingApp
    clock: ManualClock
    provider: InspectableProvider | SharedProvider
    target: Target
    scn: Scenario
    dashboard_ids: dict[int, str]
    rival: uuid.UUID | None = None


def dashboard_refunds(
    provider: InspectableProvider | SharedProvider, target: Target, scn: Scenario
) -> dict[int, str]:
    """Refunds made at the provider's dashboard (before any delivery): ident -> provider id."""
    ids = {}
    for ident in sorted({d.ident for d in scn.order if d.kind == "dash"}):
        result = provider.refund(
            RefundRequest(
                tenant_id=target.tenant_id,
                booking_id=target.booking_id,
                payment_ref=target.payment_ref,
                amount=DASHBOARD[ident],
                currency="EUR",
                reason="dashboard",
                idempotency_key=f"dash-{target.booking_id}-{ident}",
            )
        )
        ids[ident] = result.provider_refund_id
    return ids


def to_step(run: Run, delivery: Delivery) -> Step:
    """A provider event (signed now) or the host's cancellation, as a step any process runs."""
    target, at = run.target, run.clock.now()
    base = f"evt_{target.booking_id.hex[:12]}"
    if delivery.kind == "cancel":
        return Step("cancel", target, label=str(delivery))
    if delivery.kind == "dash":
        return webhook(
            "refunded",
            target,
            event_id=f"{base}_dash{delivery.ident}_{delivery.variant}",
            at=at,
            amount=DASHBOARD[delivery.ident],
            provider_refund_id=run.dashboard_ids[delivery.ident],
        )
    event_id = f"{base}_{delivery.kind}_{delivery.variant}"
    return webhook(delivery.kind, target, event_id=event_id, at=at)


def confirm_refunds(run: Run, variant: int) -> list[str]:
    """The provider's refund.succeeded for every refund booking_core made so far."""
    labels = []
    for refund in run.app.bookings.refunds(run.target.tenant_id, run.target.booking_id):
        if refund.provider_refund_id is None:
            continue
        step = webhook(
            "refunded",
            run.target,
            event_id=f"evt_rc_{refund.provider_refund_id}_{variant}",
            at=run.clock.now(),
            amount=refund.amount,
            provider_refund_id=refund.provider_refund_id,
        )
        labels.append(run_step(run.app, step))
    return labels


def act(run: Run, delivery: Delivery) -> list[str]:
    """Deliver one event, or do one host action, in this process."""
    if delivery.kind == "confirm_refunds":
        return confirm_refunds(run, delivery.variant)
    if delivery.kind == "lapse":
        run.clock.advance(LAPSE)
        return ["ok:lapsed"]
    if delivery.kind == "rival":
        label = run_step(run.app, Step("hold", run.target))
        if label.startswith("ok:held"):
            run.rival = uuid.UUID(label.split()[-1])
        return [label]
    if delivery.kind == "rival_gone":
        if run.rival is None:
            return ["ok:no rival"]
        run.app.bookings.cancel(run.target.tenant_id, run.rival)
        return ["ok:rival gone"]
    return [run_step(run.app, to_step(run, delivery))]


def deliver_in_order(run: Run) -> list[str]:
    return [label for delivery in run.scn.order for label in act(run, delivery)]


def split(run: Run, lanes: int) -> list[list[Step]]:
    """The deliveries dealt round-robin to ``lanes`` concurrent senders (refund confirmations,
    which need the refunds to exist, are left to the end)."""
    steps = [to_step(run, d) for d in run.scn.order if d.kind != "confirm_refunds"]
    return [steps[i::lanes] for i in range(lanes)]


def deliver_from_threads(run: Run, lanes: int = 2) -> list[str]:
    barrier = threading.Barrier(lanes)
    labels: list[list[str]] = [[] for _ in range(lanes)]

    def send(i: int, steps: list[Step]) -> None:
        barrier.wait(timeout=30)
        labels[i] = [run_step(run.app, step) for step in steps]

    threads = [
        threading.Thread(target=send, args=(i, steps)) for i, steps in enumerate(split(run, lanes))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return [label for lane in labels for label in lane] + finish_confirmations(run)


def finish_confirmations(run: Run) -> list[str]:
    variants = {d.variant for d in run.scn.order if d.kind == "confirm_refunds"}
    return [label for v in sorted(variants) for label in confirm_refunds(run, v)]


def converge(run: Run) -> None:
    """What a host's periodic jobs do: redeliver failed events, retry unsettled refunds."""
    for _ in range(2):
        run.app.webhooks.retry_failed(tenant_id=run.target.tenant_id, max_attempts=100)
    run.app.bookings.retry_refunds(tenant_id=run.target.tenant_id)


def check(run: Run, labels: list[str], *, ordered: bool) -> list[str]:
    ids = {run.target.booking_id} | ({run.rival} if run.rival else set())
    snap = inv.read(run.app, run.target.tenant_id, ids, {run.target.date})
    found = [
        f"unexpected-error: {x[len('unexpected:') :]}"
        for x in labels
        if x.startswith("unexpected:")
    ]
    found += money_checks(run.scn, snap, run.target, ordered=ordered)
    now = run.clock.now()
    found += inv.broken(snap, now=now, capacity=CAPACITY, provider=run.provider.refunds_of)
    return found


# --- figures ------------------------------------------------------------------------------


@dataclass
class Tally:
    """Sequences delivered, events per sequence and what broke, for one harness variant."""

    name: str
    sequences: int = 0
    events: int = 0
    longest: int = 0
    broken: Counter[str] = dataclasses.field(default_factory=Counter)
    example: dict[str, tuple[int, Scenario, str]] = dataclasses.field(default_factory=dict)
    minimal: dict[str, str] = dataclasses.field(default_factory=dict)
    began: float = dataclasses.field(default_factory=time.perf_counter)

    def add(self, scn: Scenario, found: list[str]) -> None:
        self.sequences += 1
        self.events += len(scn.order)
        self.longest = max(self.longest, len(scn.order))
        for line in found:
            name = line.split(":")[0]
            self.broken[name] += 1
            shortest = self.example.get(name)
            if shortest is None or len(scn.order) < shortest[0]:
                self.example[name] = (len(scn.order), scn, line)

    def lines(self) -> list[str]:
        mean = self.events / self.sequences if self.sequences else 0
        head = (
            f"provider events [{self.name}]: {self.sequences} sequences, {mean:.1f} events per "
            f"sequence (max {self.longest}), {time.perf_counter() - self.began:.0f} s; "
            f"broken invariants: {dict(self.broken) or 0}"
        )
        lines = [head]
        for name, (_, scn, line) in sorted(self.example.items()):
            lines.append(f"  BROKEN {name} [{self.name}] in {self.broken[name]} sequences")
            lines.append(f"    shortest seen: {scn.canonical()} -> {line}")
            if name in self.minimal:
                lines.append(f"    minimal (in order): {self.minimal[name]}")
        return lines


@pytest.fixture
def tally(request: pytest.FixtureRequest, figures: list[str]) -> Iterator[Tally]:
    made = Tally(request.node.name.split("[", 1)[-1].rstrip("]") + " " + request.node.originalname)
    yield made
    figures.extend(made.lines())


# --- backends -----------------------------------------------------------------------------


@dataclass
class Backend:
    kind: str
    app: BookingApp
    clock: ManualClock
    provider: InspectableProvider | SharedProvider
    calendar: Calendar
    url: str | None


def _open(kind: str, request: pytest.FixtureRequest) -> Iterator[Backend]:
    clock = ManualClock(NOW)
    provider = InspectableProvider(SECRET, name=NAME, clock=clock)
    if kind == "memory":
        app, url = in_memory_app(clock=clock, payments=provider), None
    else:
        fixture = "pg_database_url" if kind == "postgres" else "sqlite_file_url"
        url = str(request.getfixturevalue(fixture))
        app = connect(url, clock=clock, payments=provider)
    with app:
        yield Backend(kind, app, clock, provider, Calendar(app, tenant_per_booking=True), url)


BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    yield from _open(str(request.param), request)


def new_run(b: Backend, scn: Scenario) -> Run:
    """A fresh checkout at NOW (lapses of earlier runs moved the clock on)."""
    b.clock.set(NOW)
    target = checkout(b.app, b.calendar, scn.tier)
    dashboard = dashboard_refunds(b.provider, target, scn)
    return Run(b.app, b.clock, b.provider, target, scn, dashboard)


#: Examples per family and backend (CI budget; x10 in long mode).
_IN_ORDER = {"memory": 400, "sqlite": 80, "postgres": 60}
_THREADS = {"memory": 100, "sqlite": 40, "postgres": 40}


def examples(base: int) -> int:
    return base * SCALE


FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def play_in_order(b: Backend, scn: Scenario) -> list[str]:
    run = new_run(b, scn)
    labels = deliver_in_order(run)
    converge(run)
    return check(run, labels, ordered=True)


def minimize(b: Backend, scn: Scenario, name: str) -> Scenario:
    """Drop deliveries one at a time while the invariant still breaks: a 1-minimal repro."""
    shrunk = True
    while shrunk:
        shrunk = False
        for i in range(len(scn.order)):
            smaller = Scenario(scn.tier, scn.order[:i] + scn.order[i + 1 :])
            if smaller.order and any(x.startswith(name) for x in play_in_order(b, smaller)):
                scn, shrunk = smaller, True
                break
    return scn.canonical()


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["payments", "refunds", "late"])
def test_events_in_any_order_imply_the_money(backend: Backend, family: str, tally: Tally) -> None:
    """Delivered one by one in a shuffled order: the exact money the order implies.

    Every example runs (each broken invariant is tallied, not raised, so one defect does not
    hide the others), then each broken invariant's shortest example is shrunk to a minimal
    sequence.
    """

    @settings(FUZZ, max_examples=examples(_IN_ORDER[backend.kind]))
    @given(scn=scenarios(family))
    def deliver(scn: Scenario) -> None:
        tally.add(scn, play_in_order(backend, scn))

    deliver()
    for name, (_, scn, _) in sorted(tally.example.items()):
        tally.minimal[name] = str(minimize(backend, scn, name))
    assert not tally.broken, "\n".join(tally.lines())


@pytest.mark.parametrize("family", ["payments", "refunds"])
def test_events_from_threads_imply_the_money(backend: Backend, family: str, tally: Tally) -> None:
    """Delivered by two threads at once: the money of whichever path the booking took."""

    @settings(FUZZ, max_examples=examples(_THREADS[backend.kind]))
    @given(scn=scenarios(family))
    def deliver(scn: Scenario) -> None:
        run = new_run(backend, scn)
        labels = deliver_from_threads(run)
        converge(run)
        tally.add(scn, check(run, labels, ordered=False))

    deliver()
    assert not tally.broken, "\n".join(tally.lines())


@pytest.fixture(scope="module", params=SQL_BACKENDS)
def shared_backend(
    request: pytest.FixtureRequest, shared_provider: SharedProvider
) -> Iterator[Backend]:
    """A SQL backend whose provider is the one the worker processes share."""
    kind = str(request.param)
    fixture = "pg_database_url" if kind == "postgres" else "sqlite_file_url"
    url = str(request.getfixturevalue(fixture))
    clock = ManualClock(NOW)
    with connect(url, clock=clock, payments=shared_provider) as app:
        yield Backend(
            kind, app, clock, shared_provider, Calendar(app, tenant_per_booking=True), url
        )


@pytest.mark.slow
@pytest.mark.parametrize("family", ["payments", "refunds"])
def test_events_from_two_processes_imply_the_money(
    shared_backend: Backend, worker_pool: WorkerPool, family: str, tally: Tally
) -> None:
    """Provider event scenarios delivered by two processes released at a barrier leave every
    booking's money and status as the events imply, with no invariant broken."""
    b = shared_backend
    url = b.url
    assert url is not None

    @settings(FUZZ, max_examples=examples(25))
    @given(scn=scenarios(family))
    def deliver(scn: Scenario) -> None:
        run = new_run(b, scn)
        lanes = worker_pool.run(url, NOW, split(run, WorkerPool.size))
        labels = [label for lane in lanes for label in lane] + finish_confirmations(run)
        converge(run)
        tally.add(scn, check(run, labels, ordered=False))

    deliver()
    assert not tally.broken, "\n".join(tally.lines())


def test_implied_money_of_a_few_sequences() -> None:
    """The oracle itself, on sequences whose outcome is known by hand."""
    pay, fail, cancel = Delivery("pay"), Delivery("fail"), Delivery("cancel")
    lapse, rival, gone = Delivery("lapse"), Delivery("rival"), Delivery("rival_gone")
    total = 250_000
    assert implied(Scenario(0, (pay, cancel)), total) == Money("CANCELED", total, 0)
    assert implied(Scenario(50, (pay, cancel)), total) == Money("CANCELED", total, total // 2)
    assert implied(Scenario(0, (cancel, pay)), total) == Money("CANCELED", total, total)
    assert implied(Scenario(0, (fail, pay)), total) == Money("CANCELED", total, total)
    assert implied(Scenario(0, (pay, fail)), total) == Money("CONFIRMED", total, 0)
    assert implied(Scenario(0, (fail,)), total) == Money("CANCELED", 0, 0)
    dash = Delivery("dash", 1)
    assert implied(Scenario(0, (dash, pay, dash)), total) == Money("CONFIRMED", total, 50_000)
    assert implied(Scenario(0, (Delivery("confirm_refunds"),)), total) == Money("PENDING", 0, 0)
    assert implied(Scenario(0, (lapse, pay)), total) == Money("CONFIRMED", total, 0)
    assert implied(Scenario(0, (lapse, rival, pay)), total) == Money("EXPIRED", total, total)
    late_again = (lapse, rival, pay, gone, Delivery("pay", variant=1))
    assert implied(Scenario(0, late_again), total) == Money("EXPIRED", total, total)
    assert implied(Scenario(0, (lapse, cancel, pay)), total) == Money("CONFIRMED", total, 0)
    assert implied(Scenario(0, (pay, rival)), total) == Money("CONFIRMED", total, 0)
