"""Every public method, every parameter, hostile values: typed errors, nothing written, one answer.

The targets are found by introspection (``_surface``): a new method or parameter is covered
without being listed, and a new required parameter name without a valid value in ``_shop``
fails :func:`test_every_required_parameter_has_a_valid_value` with its name.

Each target meets the whole fixed corpus (``_values.CORPUS``), then values Hypothesis draws:
scalars of every type, containers, and the target's own valid value with hostile fragments.
Every value runs on every backend. ``BOOKING_CORE_LONG=1`` draws many more.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from booking_core.services.catalog import CatalogService

from ._backends import Backend, build
from ._harness import STATS, Finding, call, judge, report, run
from ._shop import fresh, make_shop, valid_for
from ._surface import Method, Target, public_methods, services, targets
from ._values import CORPUS, LONG_CORPUS, hostile_values, leaves
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


def _nested(method: Method, parameter: str) -> Any:
    valid = valid_for(method.qualname, parameter)
    if valid is None:
        return iter(())
    return leaves(valid(_BACKEND, _BACKEND.shop))


TARGETS = targets(METHODS, _nested)

#: Targets expected to let a raw exception through (strict xfail: fixing one fails the run until
#: it is removed from here). None today.
KNOWN: dict[str, str] = {}


STATS.known.update(KNOWN)


def _params(*, strict: bool) -> list[Any]:
    """The targets, the known ones expected to fail (``strict``: and flagged once fixed)."""
    return [
        pytest.param(
            t,
            id=t.id,
            marks=[pytest.mark.xfail(reason=KNOWN[t.id], strict=strict)] if t.id in KNOWN else [],
        )
        for t in TARGETS
    ]


def test_the_surface_is_found_by_introspection() -> None:
    """Introspection finds every service, at least 55 public methods, and targets for value-object
    fields, **changes fields and nested policy fields."""
    assert set(services(_BACKEND.app)) == {
        "availability",
        "bookings",
        "catalog",
        "customers",
        "outbox",
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


@pytest.mark.parametrize("target", _params(strict=True))
def test_corpus(target: Target, hostile_backends: list[Backend]) -> None:
    """The whole fixed corpus at one target, on every backend."""
    findings: list[Finding] = []
    for hostile in LONG_CORPUS if LONG else CORPUS:
        findings.extend(run(hostile_backends, target, hostile))
    _check(findings)


@pytest.mark.parametrize("target", _params(strict=False))
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
    target = data.draw(st.sampled_from([t for t in TARGETS if t.id not in KNOWN]), "target")
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
        "postgres",
        "postgres+redis",
    ]
