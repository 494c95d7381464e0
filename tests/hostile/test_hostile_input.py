"""Every public method, every parameter, hostile values: typed errors, nothing written, one answer.

The targets are found by introspection (``_surface``): a new method or parameter is covered
without being listed, and a new required parameter name without a valid value in ``_shop``
fails :func:`test_every_required_parameter_has_a_valid_value` with its name.

Each target meets the whole fixed corpus (``_values.CORPUS``), then values Hypothesis draws:
scalars of every type, containers, and the target's own valid value with hostile fragments.
Every value runs on every backend. ``BOOKING_CORE_LONG=1`` draws many more.

The variants of ``_shop.VARIANTS`` are targets too (a hold with ``start=`` on the timed
package, a slot search narrowed to a resource in a zone), and the targets of one kind (an
aware datetime, working hours, a package schedule, a zone, resource ids, an RRULE) also meet
the hostile values of that kind (:func:`test_kind`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from booking_core.domain.model import BookingStatus, PackageSchedule
from booking_core.errors import BookingCoreError
from booking_core.services.catalog import CatalogService

from ._backends import START, Backend, build
from ._harness import SLOW_SECONDS, STATS, Finding, Variant, call, judge, report, run
from ._shop import CUSTOMER, RICH_HOURS, TIMING, VARIANTS, fresh, local, make_shop, valid_for
from ._surface import Method, Target, public_methods, services, targets
from ._values import (
    CORPUS,
    HOSTILE_HOURS,
    HOSTILE_SCHEDULES,
    LONG_CORPUS,
    Hostile,
    corpus_for,
    get_leaf,
    hostile_values,
    leaves,
)
from .conftest import LONG

ON_CI = os.environ.get("CI", "").lower() == "true"
#: Drawn values per target (each runs on every backend).
EXAMPLES = 300 if LONG else 6


def _collection_backend() -> Backend:
    """An in-memory shop, only to learn the shape of each valid value at collection time."""
    backend = build("memory", {})
    backend.shop = make_shop(backend, fresh("collect"))
    return backend


_BACKEND = _collection_backend()
METHODS = public_methods(_BACKEND.app)


def _valid(method: Method, parameter: str, variant: str = "") -> Any:
    valid = valid_for(method.qualname, parameter, variant)
    return None if valid is None else valid(_BACKEND, _BACKEND.shop)


def _nested(method: Method, parameter: str) -> Any:
    return leaves(_valid(method, parameter))


def _variants() -> list[Target]:
    """Every target of each variant (its parameters and their fields)."""
    by_name = {m.qualname: m for m in METHODS}
    found: list[Target] = []
    for (qualname, variant), _given in VARIANTS.items():
        method = by_name[qualname]

        def nested(m: Method, parameter: str, variant: str = variant) -> Any:
            return leaves(_valid(m, parameter, variant))

        found.extend(
            Variant(t.method, t.parameter, t.path, t.change, variant=variant)
            for t in targets([method], nested)
        )
    return found


TARGETS = targets(METHODS, _nested) + _variants()


def _kind(target: Target) -> tuple[Hostile, ...]:
    """The hostile values of the target's kind (see ``_values.corpus_for``)."""
    if target.change is not None:
        return ()
    variant = target.variant if isinstance(target, Variant) else ""
    valid = _valid(target.method, target.parameter, variant)
    if target.path:
        valid = get_leaf(valid, target.path)
    last = target.path[-1] if target.path else target.parameter
    return corpus_for(str(last), valid)


KINDS = {t.id: _kind(t) for t in TARGETS}

#: Targets expected to let a raw exception through (strict xfail: fixing one fails the run until
#: it is removed from here). None today.
KNOWN: dict[str, str] = {}

#: Targets whose own kind of hostile values (``test_kind``) still finds a raw exception (strict
#: xfail, like :data:`KNOWN`). None today: the endless resource lists and the ZoneInfo subclass
#: that issue 15's sweep found are fixed and pinned in test_regressions.
KNOWN_KINDS: dict[str, str] = {}


#: Hostile values of a kind that meet a known bug wherever they go (the tests that use those
#: values one by one leave them out).
KNOWN_VALUES: dict[str, str] = {}  # none today

STATS.known.update(KNOWN)
STATS.known.update(KNOWN_KINDS)


def _params(known: dict[str, str], *, strict: bool, only_kinds: bool = False) -> list[Any]:
    """The targets, the ``known`` ones expected to fail (``strict``: and flagged once fixed);
    ``only_kinds``: only those with hostile values of their own kind."""
    return [
        pytest.param(
            t,
            id=t.id,
            marks=[pytest.mark.xfail(reason=known[t.id], strict=strict)] if t.id in known else [],
        )
        for t in TARGETS
        if KINDS[t.id] or not only_kinds
    ]


def test_the_surface_is_found_by_introspection() -> None:
    """Introspection finds every service, at least 55 public methods, and targets for value-object
    fields, **changes fields and nested policy fields."""
    assert set(services(_BACKEND.app)) == {
        "availability",
        "bookings",
        "catalog",
        "customers",
        "feeds",
        "outbox",
        "series",
        "tenants",
        "webhooks",
    }
    names = {m.qualname for m in METHODS}
    assert {"bookings.hold", "outbox.drain", "webhooks.receive", "catalog.update_venue"} <= names
    assert len(METHODS) >= 55
    ids = {t.id for t in TARGETS}
    assert "tenants.create:policy.hold_ttl" in ids  # fields of a value object
    assert "catalog.update_venue:country" in ids  # the fields **changes stands for
    assert "catalog.update_venue:no_such_field" in ids
    assert "tenants.update_cancellation_policy:cancellation.tiers.0.percent" in ids
    assert "catalog.create_resource:hours.recurring.0.rrule" in ids  # working hours, field by field
    assert "catalog.create_package:schedule.timing.duration" in ids
    assert {"bookings.hold[timed]:start", "availability.slots[narrowed]:tz"} <= ids  # variants


def test_the_timed_targets_meet_hostile_values_of_their_kind() -> None:
    """Datetimes, hours, schedules, zones, ids and RRULEs have hostile values of their own."""
    assert KINDS["bookings.hold[timed]:start"] == KINDS["availability.slots:end"]
    assert len(KINDS["availability.slots:start"]) >= 30
    assert KINDS["catalog.create_resource:hours"]
    assert KINDS["catalog.update_resource:hours.recurring.0.rrule"]
    assert KINDS["catalog.create_package:schedule"]
    assert KINDS["availability.slots[narrowed]:resource_ids"]
    assert KINDS["availability.slots[narrowed]:tz"]
    assert not KINDS["bookings.hold:start"]  # the date path's start is no datetime


def test_a_new_method_is_covered_without_listing_it() -> None:
    """A method added to a service becomes a target for each of its parameters without being listed
    anywhere."""

    class Extended(CatalogService):
        def rename_all(self, tenant_id: Any, *, prefix: str, dry_run: bool = False) -> int:
            raise NotImplementedError

    app = build("memory", {}).app
    app.catalog = Extended(app.uow, app.clock)
    found = {t.id for t in targets(public_methods(app), lambda m, p: iter(()))}
    assert {
        "catalog.rename_all:tenant_id",
        "catalog.rename_all:prefix",
        "catalog.rename_all:dry_run",
    } <= found


def test_every_required_parameter_has_a_valid_value() -> None:
    """Every required parameter of every public method has a valid value in tests/hostile/_shop.py,
    so each hostile value is tried alone."""
    missing = [
        f"{m.qualname}({p.name})"
        for m in METHODS
        for p in m.required()
        if valid_for(m.qualname, p.name) is None
    ]
    assert missing == [], "add valid values to tests/hostile/_shop.py"


def _check(findings: list[Finding]) -> None:
    assert not findings, report(findings)


@pytest.mark.parametrize("target", _params(KNOWN, strict=True))
def test_corpus(target: Target, hostile_backends: list[Backend]) -> None:
    """The whole fixed corpus at one target, on every backend."""
    findings: list[Finding] = []
    for hostile in LONG_CORPUS if LONG else CORPUS:
        findings.extend(run(hostile_backends, target, hostile))
    _check(findings)


@pytest.mark.parametrize("target", _params(KNOWN | KNOWN_KINDS, strict=True, only_kinds=True))
def test_kind(target: Target, hostile_backends: list[Backend]) -> None:
    """The hostile values of the target's own kind (datetimes, hours, ...), on every backend."""
    findings: list[Finding] = []
    for hostile in KINDS[target.id]:
        findings.extend(run(hostile_backends, target, hostile))
    _check(findings)


@pytest.mark.parametrize("target", _params(KNOWN, strict=False))
def test_drawn(target: Target, hostile_backends: list[Backend]) -> None:
    """Values Hypothesis draws at one target, on every backend (findings are collected, so
    every root cause shows in one run; nothing to shrink: each value is one value)."""
    findings: list[Finding] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=ON_CI and not LONG,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile=hostile_values(long=LONG))
    def check(hostile: Any) -> None:
        findings.extend(run(hostile_backends, target, hostile))

    check()
    _check(findings)


@settings(
    max_examples=1000 if LONG else 25,
    deadline=None,
    derandomize=ON_CI and not LONG,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_a_refused_call_leaves_every_row_as_it_was(
    hostile_backends: list[Backend], data: st.DataObject
) -> None:
    """The rows themselves, before and after, for drawn targets and values (the sweeps above
    rely on the cheaper count of rows written by committed transactions)."""
    known = KNOWN | KNOWN_KINDS
    target = data.draw(st.sampled_from([t for t in TARGETS if t.id not in known]), "target")
    hostile = data.draw(hostile_values(long=LONG), "value")
    outcomes, changed = [], []
    for backend in hostile_backends:
        before = backend.snapshot()
        outcomes.append(call(backend, target, hostile))
        if outcomes[-1].kind != "ok" and backend.snapshot() != before:
            changed.append(backend.name)
    assert changed == [], f"{target.id} = {hostile} changed rows and failed"
    _check(judge(outcomes, target, hostile))


def test_every_backend_ran(hostile_backends: list[Backend]) -> None:
    """Memory and SQLite always run; PostgreSQL (and with Redis) when the services exist."""
    if STATS.missing:
        pytest.skip("; ".join(STATS.missing))
    assert [b.name for b in hostile_backends] == [
        "memory",
        "memory+cache",
        "sqlite",
        "sqlite+cache",
        "postgres",
        "postgres+redis",
    ]


# --- what an accepted hostile schedule or set of hours leads to ------------------------------

#: 62 days of elapsed time (the longest search) around the fall-back night of 2030-10-27 in
#: Europe/Paris (in wall-clock time that is 62 days and an hour).
_USE_FROM = local(dt.date(2030, 10, 1), 0).astimezone(dt.UTC)
USE_WINDOW = (_USE_FROM, _USE_FROM + dt.timedelta(days=62))


def _attempt(step: str, work: Callable[[], Any], seen: list[str]) -> Any:
    """Run ``work``; note ``step=outcome`` in ``seen`` (a raw exception or a slow call is marked
    for the assertion) and return its result (None when it raised)."""
    started = time.perf_counter()
    result, outcome = None, "ok"
    try:
        result = work()
    except BookingCoreError as error:
        outcome = type(error).__name__
    except Exception as error:  # what the test is looking for
        outcome = f"RAW {type(error).__name__}: {error}"
    seconds = time.perf_counter() - started
    seen.append(f"{step}={outcome}" + (f" SLOW {seconds:.1f} s" if seconds > SLOW_SECONDS else ""))
    return result


def _use(backend: Backend, package_id: Any, seen: list[str]) -> None:
    """Search 62 days of the package, then hold its first offered start (or 08:00 on the
    fall-back day when none is offered), then search again."""
    app, tid = backend.app, backend.shop.tenant.id
    found = _attempt("slots", lambda: app.availability.slots(tid, package_id, *USE_WINDOW), seen)
    start = found[0].start if found else local(dt.date(2030, 10, 27), 8)
    _attempt(
        "hold",
        lambda: app.bookings.hold(tid, package_id=package_id, start=start, customer=CUSTOMER),
        seen,
    )
    _attempt("slots again", lambda: app.availability.slots(tid, package_id, *USE_WINDOW), seen)


def _hours_then_use(backend: Backend, hostile: Hostile) -> list[str]:
    app, tid, seen = backend.app, backend.shop.tenant.id, [hostile.label]

    def create() -> Any:
        return app.catalog.create_resource(tid, name=fresh("R"), hours=hostile.make(RICH_HOURS))

    resource = _attempt("create_resource", create, seen)
    if resource is not None:
        schedule = PackageSchedule(TIMING, resource_ids=(resource.id,))
        package = app.catalog.create_package(
            tid, slug=fresh("h"), name="Hours", base_price=100, schedule=schedule
        )
        _use(backend, package.id, seen)
    return seen


def _schedule_then_use(backend: Backend, hostile: Hostile) -> list[str]:
    app, shop, seen = backend.app, backend.shop, [hostile.label]

    def create() -> Any:
        schedule = hostile.make(shop.schedule)
        return app.catalog.create_package(
            shop.tenant.id, slug=fresh("s"), name="Timed", base_price=100, schedule=schedule
        )

    package = _attempt("create_package", create, seen)
    if package is not None:
        _use(backend, package.id, seen)
    return seen


@pytest.mark.parametrize(
    ("values", "then_use"),
    [(HOSTILE_HOURS, _hours_then_use), (HOSTILE_SCHEDULES, _schedule_then_use)],
    ids=["hours", "schedules"],
)
def test_what_hostile_hours_or_schedules_let_through_can_be_searched_and_held(
    hostile_backends: list[Backend],
    values: tuple[Hostile, ...],
    then_use: Callable[[Backend, Hostile], list[str]],
) -> None:
    """Accepted hostile hours or schedules give packages that search 62 days and hold safely."""
    problems, held = [], 0
    for hostile in (h for h in values if h.label not in KNOWN_VALUES):
        runs = {backend.name: then_use(backend, hostile) for backend in hostile_backends}
        steps = [step for seen in runs.values() for step in seen]
        if any("RAW" in step or "SLOW" in step for step in steps):
            problems.append(" | ".join(steps))
        if len({tuple(seen) for seen in runs.values()}) > 1:
            problems.append(f"backends disagree: {runs}")
        held += "hold=ok" in steps
    assert problems == [], "\n".join(problems)
    assert held >= 3, "the accepted values were used: searched and held"


def test_no_two_live_timed_bookings_of_the_shop_resource_overlap(
    hostile_backends: list[Backend],
) -> None:
    """After the hostile calls, the shop resource's live bookings never overlap, on any backend."""
    held = {}
    for backend in hostile_backends:
        app, shop = backend.app, backend.shop
        every = app.bookings.list_for_dates(
            shop.tenant.id, START.date(), START.date() + dt.timedelta(days=800)
        )
        live = sorted(
            (b.starts_at, b.ends_at)
            for b in every
            if b.starts_at is not None
            and b.ends_at is not None
            and shop.resource.id in b.resource_ids
            and b.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
        )
        overlapping = [(a, b) for a, b in itertools.pairwise(live) if b[0] < a[1]]
        assert overlapping == [], f"{backend.name}: overlapping live bookings {overlapping[:3]}"
        held[backend.name] = live
    assert len({tuple(live) for live in held.values()}) == 1, "backends hold different bookings"
    assert all(held.values()), "the shop's timed hold at least"
