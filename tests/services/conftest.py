"""Backends for the service-level contract suite: memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from booking_core.adapters.cache import MemoryCache
from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import AddOn, BookingPolicy, Package, Segment, Tenant
from booking_core.testing import ManualClock, in_memory_app
from tests.conftest import scratch_database

#: 2030-06-15 09:00 UTC: a Saturday, far from DST changes in Europe/Paris.
START = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def pg_database_url(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with scratch_database(postgres_url, "bc_test") as url:
        connect(url, create_schema=True).close()
        yield url


@pytest.fixture(scope="session")
def sqlite_file_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "booking.db"
    url = f"sqlite:///{path}"
    connect(url, create_schema=True).close()
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


BACKENDS = [
    "memory",
    "memory+cache",
    "sqlite",
    "sqlite+cache",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(backend: str, clock: ManualClock, request: pytest.FixtureRequest) -> Iterator[BookingApp]:
    """The same services on each backend, with and without a cache in front of the reads.

    Tests use fresh random tenants, so nothing is wiped between them. A cached backend must
    answer exactly like an uncached one: every test is also a staleness test.
    """
    payments = FakePaymentProvider(clock=clock)
    if backend == "memory":
        built = in_memory_app(clock=clock, payments=payments)
    elif backend == "memory+cache":
        built = in_memory_app(clock=clock, cache=MemoryCache(), payments=payments)
    elif backend == "sqlite":
        built = connect(request.getfixturevalue("sqlite_file_url"), clock=clock, payments=payments)
    elif backend == "sqlite+cache":  # date holds from cached terms take the short path
        built = connect(
            request.getfixturevalue("sqlite_file_url"),
            clock=clock,
            cache=MemoryCache(),
            payments=payments,
        )
    elif backend == "postgres":
        built = connect(request.getfixturevalue("pg_database_url"), clock=clock, payments=payments)
    else:
        redis_url = request.getfixturevalue("redis_url")
        built = connect(
            request.getfixturevalue("pg_database_url"),
            clock=clock,
            cache_url=f"{redis_url}?prefix=bc-test-{uuid.uuid4().hex[:8]}",
            payments=payments,
        )
    with built:
        yield built


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Shop:
    """A tenant with a minimal catalog: one segment, one package, two add-ons (one offered)."""

    tenant: Tenant
    segment: Segment
    package: Package
    album: AddOn
    drone: AddOn


def make_shop(
    app: BookingApp,
    *,
    timezone: str = "Europe/Paris",
    commission: int | str = 12,
    policy: BookingPolicy | None = None,
) -> Shop:
    tenant = app.tenants.create(
        slug=unique_slug(),
        name="Studio Lumière",
        timezone=timezone,
        currency="EUR",
        commission_percent=commission,
        policy=policy,
    )
    segment = app.catalog.create_segment(tenant.id, slug="weddings", name="Weddings")
    package = app.catalog.create_package(
        tenant.id, slug="gold", name="Gold", base_price=250_000, segment_id=segment.id
    )
    album = app.catalog.create_add_on(tenant.id, slug="album", name="Album", price=4_500)
    drone = app.catalog.create_add_on(tenant.id, slug="drone", name="Drone", price=30_000)
    app.catalog.offer_add_on(tenant.id, package.id, album.id)
    return Shop(tenant, segment, package, album, drone)


@pytest.fixture
def shop(app: BookingApp) -> Shop:
    return make_shop(app)
