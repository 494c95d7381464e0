"""Run one hostile value through one target on every backend, and judge the outcomes.

Four verdicts per call, collected (not raised) so one run reports every root cause at once:
a raw exception (anything but a ``BookingCoreError``), a failing call that wrote rows,
backends that disagree on the outcome (the error class, or success), and a call slower than
``$BOOKING_CORE_HOSTILE_SLOW`` seconds (10 by default: a hostile value that makes the work
grow far past its size; the slowest call of each backend is printed either way).
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from booking_core.errors import BookingCoreError

from ._backends import Backend
from ._shop import given, heal, valid_for
from ._surface import Target, bound
from ._values import Hostile, get_leaf, with_leaf

_SRC = str(Path(__file__).resolve().parents[2] / "src")
#: A call slower than this many seconds is a finding.
SLOW_SECONDS = float(os.environ.get("BOOKING_CORE_HOSTILE_SLOW", "10"))


@dataclass(frozen=True)
class Variant(Target):
    """A target of a method called with some optional parameters given too (``_shop.VARIANTS``
    names them and their valid values): a hold with ``start=`` on the timed package, say."""

    variant: str = ""

    @property
    def id(self) -> str:
        where = self.change or ".".join([self.parameter, *map(str, self.path)])
        return f"{self.method.qualname}[{self.variant}]:{where}"


@dataclass
class Outcome:
    backend: str
    kind: str  # "ok", the BookingCoreError's class name, or "RAW <class name>"
    error: BaseException | None = None
    written: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def raw(self) -> bool:
        return self.kind.startswith("RAW")


@dataclass
class Finding:
    """A problem seen on a call: what, where in booking_core, and how to repeat it."""

    verdict: str  # "raw", "half-written", "disagreement" or "slow"
    cause: str
    repro: str


@dataclass
class Stats:
    """What the harness tried and saw, per backend, over the whole session."""

    inputs: Counter[str] = field(default_factory=Counter)
    raw: Counter[str] = field(default_factory=Counter)
    typed: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    half_written: Counter[str] = field(default_factory=Counter)
    slow: Counter[str] = field(default_factory=Counter)
    slowest: dict[str, tuple[float, str]] = field(default_factory=dict)  # backend -> (s, repro)
    disagreements: int = 0
    known: set[str] = field(default_factory=set)  # targets expected to fail (xfail)
    known_raw: Counter[str] = field(default_factory=Counter)
    known_disagreements: int = 0
    causes: dict[str, str] = field(default_factory=dict)  # root cause -> first repro
    targets: set[str] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)  # backends that could not run, and why


STATS = Stats()


def root_cause(error: BaseException) -> str:
    """``Type at file:line in function`` of the innermost frame in booking_core's source."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(_SRC)]
    if not frames:
        return f"{type(error).__name__} (outside booking_core)"
    last = frames[-1]
    where = last.filename.removeprefix(_SRC + "/")
    return f"{type(error).__name__} at {where}:{last.lineno} in {last.name}"


def arguments(backend: Backend, target: Target, hostile: Hostile) -> dict[str, Any]:
    """The keyword arguments of one call: valid everywhere, hostile at ``target``."""
    method, shop = target.method, backend.shop
    variant = target.variant if isinstance(target, Variant) else ""
    required = [parameter.name for parameter in method.required()]
    names = [*required, *(n for n in given(method.qualname, variant) if n not in required)]
    kwargs: dict[str, Any] = {}
    for name in names:
        if name == target.parameter:
            continue
        valid = valid_for(method.qualname, name, variant)
        if valid is None:
            msg = (
                f"no valid value for required parameter {name!r} of "
                f"{method.qualname}: add one to tests/hostile/_shop.py"
            )
            raise LookupError(msg)
        kwargs[name] = valid(backend, shop)
    if target.change is not None:
        kwargs[target.change] = hostile.make(None)
        return kwargs
    valid = valid_for(method.qualname, target.parameter, variant)
    own = None if valid is None else valid(backend, shop)
    if target.path:
        kwargs[target.parameter] = with_leaf(
            own, target.path, hostile.make(get_leaf(own, target.path))
        )
    else:
        kwargs[target.parameter] = hostile.make(own)
    return kwargs


def call(backend: Backend, target: Target, hostile: Hostile) -> Outcome:
    """One call on one backend; the shop is healed after an accepted write."""
    function = bound(backend.app, target.method)
    factory = backend.factory
    try:
        kwargs = arguments(backend, target, hostile)
    except BookingCoreError as error:  # a value object refused the hostile field itself
        return Outcome(backend.name, type(error).__name__, error)
    written_before = len(factory.written)
    started = time.perf_counter()
    try:
        function(**kwargs)
    except BookingCoreError as error:
        outcome = Outcome(backend.name, type(error).__name__, error)
    except Exception as error:  # what the harness is looking for
        outcome = Outcome(backend.name, f"RAW {type(error).__name__}", error)
    else:
        seconds = time.perf_counter() - started
        if len(factory.written) > written_before:
            heal(backend, target.method.service, target.method.name)
        return Outcome(backend.name, "ok", seconds=seconds)
    outcome.seconds = time.perf_counter() - started
    outcome.written = tuple(factory.written[written_before:])
    return outcome


def run(
    backends: list[Backend], target: Target, hostile: Hostile, *, stats: Stats = STATS
) -> list[Finding]:
    """The value at ``target`` on every backend; returns what went wrong (empty: nothing)."""
    outcomes = [call(backend, target, hostile) for backend in backends]
    counters = [f"{backend.shop.dates}/{backend.shop.starts}" for backend in backends]
    return judge(outcomes, target, hostile, stats=stats, counters=counters)


def judge(
    outcomes: list[Outcome],
    target: Target,
    hostile: Hostile,
    *,
    stats: Stats = STATS,
    counters: list[str] | None = None,
) -> list[Finding]:
    """Count the outcomes of one value on every backend; returns what went wrong."""
    stats.targets.add(target.id)
    repro = f"{target.id} = {hostile.label}"
    findings = []
    for outcome in outcomes:
        stats.inputs[outcome.backend] += 1
        where = f"{repro} on {outcome.backend}"
        if outcome.seconds > stats.slowest.get(outcome.backend, (0.0, ""))[0]:
            stats.slowest[outcome.backend] = (outcome.seconds, where)
        if outcome.seconds > SLOW_SECONDS:
            stats.slow[outcome.backend] += 1
            findings.append(Finding("slow", f"{outcome.seconds:.1f} s ({outcome.kind})", where))
        if outcome.kind == "ok":
            stats.accepted[outcome.backend] += 1
        elif outcome.raw:
            assert outcome.error is not None
            cause = root_cause(outcome.error)
            if target.id in stats.known:
                stats.known_raw[outcome.backend] += 1
                cause += " (known)"
            else:
                stats.raw[outcome.backend] += 1
            stats.causes.setdefault(cause, f"{repro} on {outcome.backend}")
            findings.append(Finding("raw", cause, f"{repro} on {outcome.backend}"))
        else:
            stats.typed[outcome.backend] += 1
        if outcome.kind != "ok" and outcome.written:
            stats.half_written[outcome.backend] += 1
            wrote = ", ".join(sorted(set(outcome.written)))
            findings.append(Finding("half-written", f"{outcome.kind} after writing {wrote}", repro))
    kinds = {o.kind for o in outcomes}
    if len(kinds) > 1:  # the shop's date/start counters tell a drifted fixture from a divergence
        repro += " (date/start counters: " + ", ".join(counters) + ")" if counters else ""
    if len(kinds) > 1 and target.id in stats.known:
        stats.known_disagreements += 1
    elif len(kinds) > 1:
        stats.disagreements += 1
        seen = ", ".join(f"{o.backend}={o.kind}" for o in outcomes)
        findings.append(Finding("disagreement", seen, repro))
    return findings


def report(findings: list[Finding], *, limit: int = 40) -> str:
    """Findings grouped by verdict and cause, one repro each (for an assertion message)."""
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for finding in findings:
        grouped[(finding.verdict, finding.cause)].append(finding.repro)
    lines = [f"{len(findings)} findings, {len(grouped)} distinct:"]
    for (verdict, cause), repros in list(grouped.items())[:limit]:
        lines.append(f"  [{verdict}] {cause}  ({len(repros)}x) e.g. {repros[0]}")
    return "\n".join(lines)


def summary_lines() -> list[str]:
    """The figures of the session, one backend a line (``hostile-input:`` starts each)."""
    lines = []
    for backend in sorted(STATS.inputs):
        lines.append(
            f"hostile-input: backend={backend} inputs={STATS.inputs[backend]} "
            f"typed={STATS.typed[backend]} accepted={STATS.accepted[backend]} "
            f"raw={STATS.raw[backend]} half_written={STATS.half_written[backend]} "
            f"raw_in_known_targets={STATS.known_raw[backend]} slow={STATS.slow[backend]}"
        )
        if backend in STATS.slowest:
            seconds, repro = STATS.slowest[backend]
            lines.append(f"hostile-input: slowest call {seconds:.2f} s: {repro}")
    if STATS.inputs:
        lines.append(
            f"hostile-input: targets={len(STATS.targets)} disagreements={STATS.disagreements} "
            f"known_targets={len(STATS.known)} "
            f"disagreements_in_known_targets={STATS.known_disagreements} "
            f"raw_root_causes={len(STATS.causes)}"
        )
    lines.extend(
        f"hostile-input: root cause {cause} e.g. {repro}" for cause, repro in STATS.causes.items()
    )
    lines.extend(f"hostile-input: backend not run: {why}" for why in STATS.missing)
    return lines
