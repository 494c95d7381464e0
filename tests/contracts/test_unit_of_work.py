"""booking_core's own adapters against the public contract suites of booking_core.testing.

UnitOfWorkContract runs on the in-memory adapter, on SQLite (a temporary file) and on PostgreSQL
(a scratch database of this module, dropped afterwards). PostgreSQL tests skip with a printed
reason when the service is absent, and fail under ``CI=true``. CacheContract runs in one place,
``tests/adapters/cache/test_contract.py`` (MemoryCache, RedisCache on Redis and on a Redis Cluster).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from booking_core.adapters.cache import NullCache
from booking_core.adapters.memory import MemoryUnitOfWorkFactory
from booking_core.adapters.sqlalchemy import SqlUnitOfWorkFactory, make_engine
from booking_core.ports.repositories import UnitOfWorkFactory
from booking_core.testing.contracts import UnitOfWorkContract
from tests.conftest import scratch_database


class TestMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryUnitOfWorkFactory()


@pytest.fixture(scope="module")
def sqlite_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlUnitOfWorkFactory]:
    """One SQLite file for the module's tests (they use fresh tenants, nothing is wiped)."""
    path: Path = tmp_path_factory.mktemp("contract-sqlite") / "contract.db"
    factory = SqlUnitOfWorkFactory(make_engine(f"sqlite:///{path}"))
    factory.create_schema()
    yield factory
    factory.dispose()


class TestSqliteUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def uow_factory(self, sqlite_factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        return sqlite_factory


@pytest.fixture(scope="module")
def pg_contract_url(postgres_url: str) -> Iterator[str]:
    """A scratch PostgreSQL database for this module, dropped at the end."""
    with scratch_database(postgres_url, "bc_contract") as url:
        yield url


@pytest.fixture(scope="module")
def pg_factory(pg_contract_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    factory = SqlUnitOfWorkFactory(make_engine(pg_contract_url, pool_size=10))
    factory.create_schema()
    yield factory
    factory.dispose()


@pytest.mark.postgres
class TestPostgresUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def uow_factory(self, pg_factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        return pg_factory


def test_null_cache_is_excluded_from_the_cache_contract() -> None:
    """NullCache stores nothing by design, so it cannot pass CacheContract: a set is refused
    and every read misses with an unknown token (read-throughs then never write)."""
    cache = NullCache()
    tenant = uuid.uuid4()
    assert cache.set(tenant, "catalog", "a", 1, ttl=60) is False
    lookup = cache.get(tenant, "catalog", "a")
    assert (lookup.hit, lookup.value, lookup.token.known) == (False, None, False)
