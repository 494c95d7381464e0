"""A slot search reads in a constant number of statements, whatever the range, the number of
resources and of bookings (SQLite and PostgreSQL, without a cache)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from booking_core.adapters.sqlalchemy import SqlUnitOfWorkFactory
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import CustomerDetails, PackageSchedule
from booking_core.domain.schedule import SlotTiming, WeeklyHours, WorkingHours
from booking_core.testing import ManualClock
from tests.services.conftest import unique_slug

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.datetime(2030, 6, 17, tzinfo=PARIS)
HOURS = WorkingHours(weekly=tuple(WeeklyHours(d, dt.time(8), dt.time(18)) for d in range(7)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest) -> Iterator[BookingApp]:
    url_fixture = "sqlite_file_url" if request.param == "sqlite" else "pg_database_url"
    clock = ManualClock(dt.datetime(2030, 6, 15, 9, tzinfo=dt.UTC))
    with connect(request.getfixturevalue(url_fixture), clock=clock) as built:
        yield built


def _statements(app: BookingApp) -> list[str]:
    """A live list of the statements the app's engine runs from now on."""
    assert isinstance(app.uow, SqlUnitOfWorkFactory)
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(app.uow.engine, "before_cursor_execute", record)
    return seen


def _shop(app: BookingApp, resources: int) -> tuple[Any, Any]:
    tenant = app.tenants.create(
        slug=unique_slug(), name="Clinic", timezone="Europe/Paris", currency="EUR"
    )
    ids = tuple(
        app.catalog.create_resource(tenant.id, name=f"Room {n}", hours=HOURS).id
        for n in range(resources)
    )
    package = app.catalog.create_package(
        tenant.id,
        slug="visit",
        name="Visit",
        base_price=5_000,
        schedule=PackageSchedule(
            SlotTiming(duration=dt.timedelta(minutes=30), slot_interval=dt.timedelta(minutes=15)),
            resource_ids=ids,
        ),
    )
    return tenant, package


def _count(app: BookingApp, tenant: Any, package: Any, days: int) -> tuple[int, int]:
    """(statements, slots) of one search of ``days`` days."""
    seen = _statements(app)
    before = len(seen)
    slots = app.availability.slots(tenant.id, package.id, MONDAY, MONDAY + dt.timedelta(days=days))
    return len(seen) - before, len(slots)


def test_statements_do_not_grow_with_range_resources_or_bookings(app: BookingApp) -> None:
    """1 day or 62, 1 resource or 12, no bookings or 30: the same number of statements, and
    no more than six (tenant, package, resources, claims, time off, the transaction's own)."""
    small_tenant, small = _shop(app, 1)
    big_tenant, big = _shop(app, 12)
    counts = {
        "1 day, 1 resource": _count(app, small_tenant, small, 1),
        "62 days, 1 resource": _count(app, small_tenant, small, 62),
        "62 days, 12 resources": _count(app, big_tenant, big, 62),
    }
    for n in range(30):
        app.bookings.hold(
            big_tenant.id,
            package_id=big.id,
            start=MONDAY + dt.timedelta(days=n % 20, hours=9 + n % 8),
            customer=CustomerDetails(f"C {n}", f"c{n}@example.com"),
        )
    counts["62 days, 12 resources, 30 bookings"] = _count(app, big_tenant, big, 62)
    statements = {label: count for label, (count, _) in counts.items()}
    assert len(set(statements.values())) == 1, statements
    assert next(iter(statements.values())) <= 6, statements
    offered = {label: slots for label, (_, slots) in counts.items()}
    assert offered["1 day, 1 resource"] == 39  # 08:00 … 17:30 every 15 minutes
    assert offered["62 days, 1 resource"] == 62 * 39
    # every booked start still has eleven free rooms: the same starts are offered
    assert offered["62 days, 12 resources, 30 bookings"] == offered["62 days, 12 resources"]


@pytest.mark.postgres
def test_postgresql_reads_the_claims_by_an_index_only_scan(pg_database_url: str) -> None:
    """On PostgreSQL the search's claims read can be answered from the covering index alone:
    the planner chooses an Index Only Scan of it (possible only when the index holds every
    column the statement reads; pages vacuum marked all-visible are then never visited)."""
    clock = ManualClock(dt.datetime(2030, 6, 15, 9, tzinfo=dt.UTC))
    with connect(pg_database_url, clock=clock) as app:
        tenant, package = _shop(app, 3)
        for n in range(40):
            app.bookings.hold(
                tenant.id,
                package_id=package.id,
                start=MONDAY + dt.timedelta(days=n % 10, hours=9 + n % 4),
                customer=CustomerDetails(f"C {n}", f"c{n}@example.com"),
            )
        assert isinstance(app.uow, SqlUnitOfWorkFactory)
        engine = app.uow.engine
        sent: list[tuple[str, Any]] = []

        def record(*args: Any) -> None:
            if args[2].startswith("SELECT") and "bc_time_claims" in args[2]:
                sent.append((args[2], args[3]))

        event.listen(engine, "before_cursor_execute", record)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # history, as a table at scale holds it: the 40 claims (ten days) again in each of
            # 1,500 earlier ten-day stretches (so the planner chooses as it would there)
            connection.exec_driver_sql(
                "INSERT INTO bc_time_claims (tenant_id, booking_id, resource_id, package_id,"
                " lane, starts_at, ends_at, claim_day, expires_at)"
                " SELECT tenant_id, gen_random_uuid(), resource_id, package_id, lane,"
                " starts_at - make_interval(days => 10 * n),"
                " ends_at - make_interval(days => 10 * n),"
                " claim_day - 10 * n, NULL FROM bc_time_claims, generate_series(1, 1500) AS n"
            )
            connection.exec_driver_sql("VACUUM ANALYZE bc_time_claims")
            app.availability.slots(tenant.id, package.id, MONDAY, MONDAY + dt.timedelta(days=31))
            assert len(sent) == 1
            statement, params = sent[0]
            plan = "\n".join(
                row[0]
                for row in connection.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, COSTS OFF) {statement}", params
                )
            )
    assert "Index Only Scan using ix_bc_time_claims_tenant_id_resource_id_starts_at" in plan, plan
