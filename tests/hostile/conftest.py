"""Backends for the hostile-input harness, and its figures in the terminal summary.

Each backend gets its own database, so states never mix: memory, memory with a MemoryCache,
SQLite, PostgreSQL, and PostgreSQL with Redis. PostgreSQL and Redis come from the environment
as in ``tests/conftest.py``: when one is missing its backends are left out (the reason is
printed, and ``test_every_backend_ran`` skips with it), and under ``CI=true`` that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service, scratch_database

from ._backends import Backend, build
from ._harness import STATS, summary_lines
from ._shop import fresh, make_shop

#: Many more examples per target, and the slower hostile values (BOOKING_CORE_LONG=1).
LONG = os.environ.get("BOOKING_CORE_LONG", "") == "1"
ALL_BACKENDS = ("memory", "memory+cache", "sqlite", "sqlite+cache", "postgres", "postgres+redis")


def _service(env_var: str, what: str) -> str | None:
    """The service URL, or None with the reason noted (a failure under CI=true)."""
    try:
        return require_service(env_var, what)
    except pytest.skip.Exception as skipped:
        STATS.missing.append(str(skipped))
        return None


@pytest.fixture(scope="session")
def hostile_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A database per SQL backend (and the Redis URL), dropped at the end of the session."""
    folder = tmp_path_factory.mktemp("hostile")
    urls = {
        "sqlite": f"sqlite:///{folder / 'hostile.db'}",
        "sqlite+cache": f"sqlite:///{folder / 'hostile-cached.db'}",
    }
    postgres = _service("BOOKING_CORE_TEST_POSTGRES_URL", "PostgreSQL")
    redis = _service("BOOKING_CORE_TEST_REDIS_URL", "Redis")
    with contextlib.ExitStack() as databases:
        if postgres is not None:
            for backend in ("postgres", "postgres+redis"):
                if backend.endswith("+redis") and redis is None:
                    continue
                urls[backend] = databases.enter_context(scratch_database(postgres, "bc_hostile"))
        if redis is not None:
            urls["redis"] = redis
        yield urls


@pytest.fixture(scope="session")
def hostile_backends(hostile_urls: dict[str, str]) -> Iterator[list[Backend]]:
    """Every available backend, each holding the same small shop."""
    backends = []
    slug = fresh("hostile-shop")
    for name in ALL_BACKENDS:
        if name.startswith("memory") or name in hostile_urls:
            backend = build(name, hostile_urls)
            backend.shop = make_shop(backend, slug)
            backends.append(backend)
    yield backends
    for backend in backends:
        backend.app.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the harness's figures; also write them as JSON to $BOOKING_CORE_HOSTILE_REPORT."""
    lines = summary_lines()
    if not lines:
        return
    terminalreporter.section("hostile input")
    for line in lines:
        terminalreporter.write_line(line)
    path = os.environ.get("BOOKING_CORE_HOSTILE_REPORT")
    if path:
        figures = {
            "long": LONG,
            "inputs": dict(STATS.inputs),
            "typed": dict(STATS.typed),
            "accepted": dict(STATS.accepted),
            "raw": dict(STATS.raw),
            "raw_in_known_targets": dict(STATS.known_raw),
            "known_targets": sorted(STATS.known),
            "disagreements_in_known_targets": STATS.known_disagreements,
            "half_written": dict(STATS.half_written),
            "disagreements": STATS.disagreements,
            "targets": len(STATS.targets),
            "root_causes": STATS.causes,
            "missing": STATS.missing,
        }
        Path(path).write_text(json.dumps(figures, indent=2, sort_keys=True))


@pytest.fixture(params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest, hostile_urls: dict[str, str]) -> Iterator[Backend]:
    """One backend per test (for the regression tests); a missing service skips, or fails on CI."""
    name = str(request.param)
    if name.startswith("postgres"):
        request.getfixturevalue("postgres_url")
    if name.endswith("redis"):
        request.getfixturevalue("redis_url")
    built = build(name, hostile_urls)
    yield built
    built.app.close()
