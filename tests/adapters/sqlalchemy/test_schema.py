"""The schema is shard-ready and refuses cross-tenant references by itself."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, UniqueConstraint, insert
from sqlalchemy.exc import IntegrityError

from booking_core.adapters.sqlalchemy import metadata
from booking_core.adapters.sqlalchemy import tables as t
from booking_core.bootstrap import connect
from booking_core.domain.model import CustomerDetails
from booking_core.testing import ManualClock
from tests.services.conftest import START, make_shop


def test_tenant_id_leads_every_key_and_index() -> None:
    """Citus-style: every PK, unique constraint and index starts with tenant_id."""
    for table in metadata.sorted_tables:
        if table is t.tenants:
            continue
        keys = [
            c for c in table.constraints if isinstance(c, PrimaryKeyConstraint | UniqueConstraint)
        ]
        for key in [*keys, *table.indexes]:
            assert isinstance(key, PrimaryKeyConstraint | UniqueConstraint | Index)
            first = next(iter(key.columns))
            assert first.name == "tenant_id", (table.name, key.name)


def test_references_inside_a_tenant_are_composite() -> None:
    """Every foreign key between tenant-owned tables includes tenant_id."""
    for table in metadata.sorted_tables:
        for fk in (c for c in table.constraints if isinstance(c, ForeignKeyConstraint)):
            columns = [c.name for c in fk.columns]
            assert columns[0] == "tenant_id", (table.name, columns)
            if fk.referred_table is not t.tenants:
                assert next(e.column.name for e in fk.elements) == "tenant_id"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_database_refuses_booking_of_another_tenants_package(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Bypassing the services, a booking row of tenant B pointing at A's package is rejected."""
    fixture = "pg_database_url" if backend == "postgres" else "sqlite_file_url"
    with connect(request.getfixturevalue(fixture), clock=ManualClock(START)) as app:
        shop_a, shop_b = make_shop(app), make_shop(app)
        b_booking = app.bookings.hold(
            shop_b.tenant.id,
            package_id=shop_b.package.id,
            date=dt.date(2030, 9, 1),
            customer=CustomerDetails("B", "b@example.com"),
        )
        row = {
            "tenant_id": shop_b.tenant.id,
            "id": uuid.uuid4(),
            "package_id": shop_a.package.id,  # tenant A's package
            "customer_id": b_booking.customer_id,
            "event_date": dt.date(2030, 9, 2),
            "status": "PENDING",
            "package_price": 1,
            "total": 1,
            "commission": 0,
            "currency": "EUR",
            "created_at": START,
            "expires_at": START,
        }
        engine = app.uow.engine  # type: ignore[attr-defined]
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(t.bookings).values(row))
        row["package_id"] = shop_b.package.id
        with engine.begin() as conn:  # the same row with B's own package is accepted
            conn.execute(insert(t.bookings).values(row))
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                insert(t.booking_claims).values(
                    tenant_id=shop_a.tenant.id,
                    resource_id=uuid.UUID(int=0),
                    claim_date=dt.date(2030, 9, 2),
                    seat=0,
                    booking_id=row["id"],
                    expires_at=None,
                )
            )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_create_schema_is_idempotent(backend: str, request: pytest.FixtureRequest) -> None:
    """create_schema can run twice on SQLite and PostgreSQL without error, and the booking, claim
    and tenant tables exist."""
    fixture = "pg_database_url" if backend == "postgres" else "sqlite_file_url"
    with connect(request.getfixturevalue(fixture)) as app:
        app.create_schema()
        app.create_schema()
        names = set(metadata.tables)
        assert {"bc_bookings", "bc_booking_claims", "bc_tenants"} <= names
