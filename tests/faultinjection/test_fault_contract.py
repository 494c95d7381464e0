"""booking_core's adapters through the fault-injection contract (booking_core.testing.faults).

Every public write scenario runs once fault-free, then once per step with a transient failure
there, and once per commit with a lost COMMIT reply, on memory, SQLite and PostgreSQL; the
statement-level variant below fails each SQL statement in turn through the real driver error
path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from booking_core.adapters.cache import MemoryCache, cache_from_url
from booking_core.adapters.memory import MemoryUnitOfWorkFactory
from booking_core.adapters.sqlalchemy import SqlUnitOfWorkFactory, make_engine
from booking_core.errors import TransientStorageError
from booking_core.ports.cache import CachePort
from booking_core.ports.repositories import UnitOfWorkFactory
from booking_core.testing.faults import (
    SCENARIOS,
    Fault,
    FaultInjectionContract,
    FaultReport,
    FaultyUnitOfWorkFactory,
    Scenario,
    run_scenario,
)
from tests.conftest import scratch_database
from tests.faultinjection.conftest import FIGURES


class _Counted(FaultInjectionContract):
    def record(self, scenario: Scenario, fault: Fault, report: FaultReport) -> None:
        FIGURES.append((type(self).__name__, scenario.name, fault.value, report))


class TestMemoryUnderFaults(_Counted):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryUnitOfWorkFactory()


class TestMemoryCacheUnderFaults(_Counted):
    """Cached reads stay exact whatever step fails (invalidation follows the landed attempt)."""

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryUnitOfWorkFactory()

    @pytest.fixture
    def cache(self) -> CachePort:
        return MemoryCache()


@pytest.fixture(scope="module")
def sqlite_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlUnitOfWorkFactory]:
    path: Path = tmp_path_factory.mktemp("faults-sqlite") / "faults.db"
    factory = SqlUnitOfWorkFactory(make_engine(f"sqlite:///{path}"))
    factory.create_schema()
    yield factory
    factory.dispose()


class TestSqliteUnderFaults(_Counted):
    @pytest.fixture
    def uow_factory(self, sqlite_factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        return sqlite_factory


class TestSqliteCacheUnderFaults(_Counted):
    """With a cache, date holds take SQLite's short path from cached terms: a transient fault
    before it, a lost reply after it, and the cached availability exact afterwards."""

    @pytest.fixture
    def uow_factory(self, sqlite_factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        return sqlite_factory

    @pytest.fixture
    def cache(self) -> CachePort:
        return MemoryCache()


@pytest.fixture(scope="module")
def pg_factory(postgres_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    """A scratch PostgreSQL database for this module, dropped at the end."""
    with scratch_database(postgres_url, "bc_faults") as url:
        factory = SqlUnitOfWorkFactory(make_engine(url))
        try:
            factory.create_schema()
            yield factory
        finally:
            factory.dispose()


@pytest.mark.postgres
class TestPostgresUnderFaults(_Counted):
    @pytest.fixture
    def uow_factory(self, pg_factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        return pg_factory


class _InjectedDriverError(Exception):
    """Looks like a driver's serialization failure / SQLite busy error to the adapter."""

    sqlstate = "40001"


class StatementFaults(FaultyUnitOfWorkFactory):
    """Counts each SQL statement sent as a step and fails the armed one with a driver error.

    The error takes the adapter's real path: SQLAlchemy's OperationalError, translated at the
    adapter edge into a TransientStorageError and retried by the service.
    """

    def __init__(self, inner: SqlUnitOfWorkFactory) -> None:
        super().__init__(inner)
        self._engine = inner.engine
        event.listen(self._engine, "before_cursor_execute", self._before)

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._before)

    def __call__(self, *, read_only: bool = False) -> Any:
        return self.inner(read_only=read_only)

    def _before(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        try:
            self._call_step()
        except TransientStorageError:
            driver_error = _InjectedDriverError("database is locked (injected)")
            raise sa_exc.OperationalError(statement, params, driver_error) from None


def _statement_suite(
    factory: SqlUnitOfWorkFactory, scenario: Scenario, suite: str, cache: CachePort | None = None
) -> None:
    injector = StatementFaults(factory)
    try:
        report = run_scenario(factory, scenario, Fault.TRANSIENT, injector=injector, cache=cache)
    finally:
        injector.close()
    FIGURES.append((suite, scenario.name, "statement", report))
    assert report.runs > 0
    assert report.injected == report.runs
    assert report.broken == [], "\n".join(report.broken)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_sqlite_every_statement(sqlite_factory: SqlUnitOfWorkFactory, scenario: Scenario) -> None:
    """Each SQL statement of each write failing in turn (SQLite busy) changes no outcome."""
    _statement_suite(sqlite_factory, scenario, "SQLite statements")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_sqlite_cache_every_statement(
    sqlite_factory: SqlUnitOfWorkFactory, scenario: Scenario
) -> None:
    """The same with a cache: a date hold's statements are then those of the short path from
    cached terms (a gate, the live seats, the customer, booking, lines, seat, event, key)."""
    _statement_suite(sqlite_factory, scenario, "SQLite statements, cached", MemoryCache())


@pytest.mark.postgres
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_postgres_every_statement(pg_factory: SqlUnitOfWorkFactory, scenario: Scenario) -> None:
    """Each SQL statement of each write failing in turn (serialization failure): same."""
    _statement_suite(pg_factory, scenario, "PostgreSQL statements")


@pytest.mark.postgres
@pytest.mark.redis
class TestPostgresRedisUnderFaults(_Counted):
    @pytest.fixture
    def uow_factory(self, pg_factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        return pg_factory

    @pytest.fixture
    def cache(self, redis_url: str) -> Iterator[CachePort]:
        cache = cache_from_url(f"{redis_url}?prefix=bc-faults-{uuid.uuid4().hex[:8]}")
        yield cache
        cache.close()
