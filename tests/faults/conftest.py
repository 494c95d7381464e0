"""Fixtures of the fault harnesses: databases, one shared payment provider, a worker pool,
and the figures each harness prints at the end of the run.

``BOOKING_CORE_LONG=1`` turns on the long mode (many more rounds and examples) for deeper runs
before a release; the default fits the CI budget.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from tests.services.conftest import pg_database_url, sqlite_file_url

from ._provider import SharedProvider, start_manager
from ._race_worker import WorkerPool

__all__ = ["pg_database_url", "sqlite_file_url"]

LONG = os.environ.get("BOOKING_CORE_LONG", "") == "1"

_FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def long_mode() -> bool:
    return LONG


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> list[str]:
    """Lines a harness wants printed in the terminal summary (rounds run, what broke)."""
    return pytestconfig.stash.setdefault(_FIGURES, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(_FIGURES, [])
    if lines:
        terminalreporter.section("fault harness figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def provider_server() -> Iterator[tuple[object, bytes]]:
    """The address and key of the one payment provider every process shares."""
    manager, authkey = start_manager()
    try:
        yield manager.address, authkey
    finally:
        manager.shutdown()


@pytest.fixture(scope="session")
def shared_provider(provider_server: tuple[object, bytes]) -> SharedProvider:
    address, authkey = provider_server
    return SharedProvider(address, authkey)


@pytest.fixture(scope="session")
def worker_pool(provider_server: tuple[object, bytes]) -> Iterator[WorkerPool]:
    """Two long-lived worker processes, started once for every process test of the run."""
    address, authkey = provider_server
    pool = WorkerPool(address, authkey)
    try:
        yield pool
    finally:
        pool.close()


def fresh_slug(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"
