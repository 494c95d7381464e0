"""Shared fixtures: where the real services are, and how their absence is reported.

A test that needs PostgreSQL or Redis asks for ``postgres_url`` / ``redis_url``. When the service
is unreachable the test is skipped with the reason printed (``-ra``), except under ``CI=true``,
where an unreachable service fails the test: CI must never count a test that could not run as
passed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from booking_core import _retry
from booking_core.testing import set_testing

# Every write of every test checks that its retried work cannot leak a rolled-back attempt's
# effects (it captures no list, dict or set): the rule holds by construction, not by review.
_retry.check_rerunnable(True)

#: Where transient errors are injected (no real contention): the retries need no backoff, and
#: without it these tests do not sleep. Tests of real races keep the backoff, which is what
#: lets the contenders' retries stop colliding.
_INJECTED_FAULTS = (
    Path(__file__).parent / "faultinjection",
    Path(__file__).parent / "test_retry.py",
)


@pytest.fixture(autouse=True)
def _fast_retries(request: pytest.FixtureRequest) -> Iterator[None]:
    """Retries without backoff sleeps (``booking_core.testing.set_testing``) where faults are
    injected; elsewhere the production backoff."""
    path = Path(request.node.path)
    if not any(path == where or where in path.parents for where in _INJECTED_FAULTS):
        yield
        return
    with set_testing(True):
        yield


ON_CI = os.environ.get("CI", "").lower() == "true"
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPORA = SHARED / "corpora"


def _reachable(url: str) -> bool:
    parts = urlsplit(url.replace("+psycopg", ""))
    host = parts.hostname or "127.0.0.1"
    port = parts.port or {"postgresql": 5432, "redis": 6379}.get(parts.scheme, 0)
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(env_var: str, what: str) -> str:
    """Return the service URL from ``env_var`` or skip (fail on CI) with a printed reason."""
    url = os.environ.get(env_var)
    if not url:
        reason = f"{what} tests need {env_var} (not set)"
    elif not _reachable(url):
        reason = f"{what} at {url} is unreachable"
    else:
        return url
    if ON_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def require_corpora() -> Path:
    """Return ``../shared/corpora`` or skip (fail on CI) when it is absent."""
    if CORPORA.is_dir():
        return CORPORA
    reason = f"attack/validation corpora not found at {CORPORA}"
    if ON_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@contextlib.contextmanager
def scratch_database(postgres_url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards (``WITH (FORCE)``).

    Its commits do not wait for the disk: it is thrown away anyway.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return require_service("BOOKING_CORE_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_service("BOOKING_CORE_TEST_REDIS_URL", "Redis")


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    return require_corpora()


def pytest_report_header() -> list[str]:
    import importlib.metadata as md

    names = ["sqlalchemy", "psycopg", "redis", "nh3", "email-validator", "hypothesis", "tenacity"]
    versions = []
    for name in names:
        try:
            versions.append(f"{name}={md.version(name)}")
        except md.PackageNotFoundError:
            versions.append(f"{name}=absent")
    try:
        installed = f"booking-core-sdk={md.version('booking-core-sdk')}"  # the distribution's name
    except md.PackageNotFoundError:
        installed = "booking-core-sdk=absent (python3 dev.py setup installs it)"
    return [
        f"{installed}; booking_core deps: " + ", ".join(versions),
        f"CI={ON_CI} python={sys.version.split()[0]}",
        "postgres: " + os.environ.get("BOOKING_CORE_TEST_POSTGRES_URL", "(unset)"),
        "redis: " + os.environ.get("BOOKING_CORE_TEST_REDIS_URL", "(unset)"),
    ]


@pytest.fixture
def tmp_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'booking.db'}"
