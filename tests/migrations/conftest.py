"""Empty scratch databases for the migration tests: one PostgreSQL database per test, or a file."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url


@pytest.fixture
def pg_scratch(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Makes empty PostgreSQL databases on demand; every one is dropped after the test."""
    import psycopg

    admin = make_url(postgres_url).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    names: list[str] = []

    def make() -> str:
        name = f"bc_mig_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_scratch(tmp_path: Path) -> Callable[[], str]:
    """Makes URLs of new, empty SQLite files."""
    counter = iter(range(1_000))

    def make() -> str:
        return f"sqlite:///{tmp_path / f'scratch_{next(counter)}.db'}"

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scratch(request: pytest.FixtureRequest) -> Callable[[], str]:
    """Empty databases of the backend under test (SQLite file or PostgreSQL)."""
    fixture = "pg_scratch" if request.param == "postgres" else "sqlite_scratch"
    maker: Callable[[], str] = request.getfixturevalue(fixture)
    return maker
