"""The harness itself: it sees a raw exception, a half-written failure and a disagreement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from booking_core.errors import NotFoundError, ValidationError
from booking_core.services.catalog import CatalogService

from ._backends import Backend, build
from ._harness import Stats, run
from ._shop import fresh, make_shop
from ._surface import public_methods, targets
from ._values import const


class _Faulty(CatalogService):
    """Three ways to get hostile input wrong, for the harness to catch."""

    def rename(self, tenant_id: uuid.UUID, *, name: str) -> None:
        raise KeyError(name)  # a raw exception

    def create_then_refuse(self, tenant_id: uuid.UUID, *, slug: str) -> None:
        self.create_segment(tenant_id, slug=fresh("seg"), name="Committed")
        raise ValidationError("slug", "refused after a commit")  # half-written

    def moody(self, tenant_id: uuid.UUID, *, flag: bool) -> None:
        if self._cache is None:
            raise NotFoundError("thing", flag)
        raise ValidationError("flag", "no")  # another class with a cache


@pytest.fixture
def faulty(hostile_urls: dict[str, str]) -> Iterator[list[Backend]]:
    backends = []
    for name in ("memory", "memory+cache", "sqlite"):
        backend = build(name, hostile_urls)
        backend.shop = make_shop(backend, fresh("faulty"))
        app = backend.app
        app.catalog = _Faulty(app.uow, app.clock, cache=app.cache)
        backends.append(backend)
    yield backends
    for backend in backends:
        backend.app.close()


def _target(backends: list[Backend], qualname: str, parameter: str) -> Any:
    found = targets(public_methods(backends[0].app), lambda m, p: iter(()))
    [target] = [t for t in found if t.id == f"{qualname}:{parameter}"]
    return target


def test_a_raw_exception_is_reported_with_its_root_cause(faulty: list[Backend]) -> None:
    """A method that lets a non-library exception escape is reported as 'raw' on every backend, with
    the exception's origin and a one-line reproduction."""
    stats = Stats()
    findings = run(faulty, _target(faulty, "catalog.rename", "name"), const("x"), stats=stats)
    assert [f.verdict for f in findings] == ["raw", "raw", "raw"]
    assert findings[0].cause == "KeyError (outside booking_core)"
    assert findings[0].repro == "catalog.rename:name = 'x' on memory"
    assert stats.raw == {"memory": 1, "memory+cache": 1, "sqlite": 1}


def test_a_failure_after_a_commit_is_reported_as_half_written(faulty: list[Backend]) -> None:
    """A method that commits and then raises is reported as 'half-written' on every backend, and the
    rows really changed."""
    stats = Stats()
    before = [backend.snapshot() for backend in faulty]
    target = _target(faulty, "catalog.create_then_refuse", "slug")
    findings = run(faulty, target, const("x"), stats=stats)
    assert {f.verdict for f in findings} == {"half-written"}
    assert "ValidationError after writing" in findings[0].cause
    assert stats.half_written == {"memory": 1, "memory+cache": 1, "sqlite": 1}
    # what the commit counter saw is what a snapshot of the rows shows
    assert [backend.snapshot() for backend in faulty] != before


def test_backends_that_disagree_are_reported(faulty: list[Backend]) -> None:
    """When backends answer the same call with different errors, one 'disagreement' finding names
    each backend's error."""
    stats = Stats()
    findings = run(faulty, _target(faulty, "catalog.moody", "flag"), const(True), stats=stats)
    [finding] = findings
    assert finding.verdict == "disagreement"
    assert finding.cause == (
        "memory=NotFoundError, memory+cache=ValidationError, sqlite=NotFoundError"
    )
    assert stats.disagreements == 1


def test_a_refused_call_leaves_the_snapshot_as_it_was(faulty: list[Backend]) -> None:
    """A hostile value refused with ValidationError is not a finding, and no backend's rows change.
    A hostile value refused with ValidationError is not a finding, and no backend's rows change."""
    before = [backend.snapshot() for backend in faulty]
    target = _target(faulty, "catalog.create_segment", "slug")
    assert run(faulty, target, const("\x00"), stats=Stats()) == []
    assert [backend.snapshot() for backend in faulty] == before
