"""Time slots: resources, their time off, timed packages and bookings, and claims of time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Adds ``bc_resources``, ``bc_resource_time_off`` and ``bc_time_claims``; ``bc_packages.schedule``
(NULL: a package that sells dates, as every existing one does); ``bc_bookings.starts_at``,
``ends_at`` and ``resource_ids`` (NULL for every existing booking, which stays a date booking).

On PostgreSQL the claims of one resource and lane may not overlap: an exclusion constraint over
``tstzrange(starts_at, ends_at)``, which needs the ``btree_gist`` extension (trusted since
PostgreSQL 13: the database's owner may create it). SQLite has one writer at a time and checks
before it inserts. Frozen like 0001: no booking_core imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMED = "(starts_at IS NULL) = (ends_at IS NULL) AND (starts_at IS NULL OR ends_at > starts_at)"


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _bookings(*, timed: bool) -> sa.Table:
    """``bc_bookings`` as 0003 left it (``timed``: as this revision leaves it), for SQLite's
    batch copy: given the table, Alembic needs no reflection, so ``--sql`` works too."""
    timed_columns: list[sa.Column[object]] = []
    timed_check: list[sa.CheckConstraint] = []
    if timed:
        timed_columns = [
            sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("resource_ids", sa.JSON(), nullable=True),
        ]
        timed_check = [sa.CheckConstraint(_TIMED, name=op.f("ck_bc_bookings_timed"))]
    return sa.Table(
        "bc_bookings",
        sa.MetaData(),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("venue_id", sa.Uuid(), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("package_price", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_ref", sa.String(length=200), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("amount_paid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("commission_refunded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        *timed_columns,
        sa.CheckConstraint(
            "status IN ('PENDING', 'CONFIRMED', 'FULFILLED', 'CANCELED', 'EXPIRED')",
            name=op.f("ck_bc_bookings_status"),
        ),
        sa.CheckConstraint(
            "amount_paid >= 0 AND amount_refunded >= 0 AND amount_refunded <= amount_paid"
            " AND commission_refunded >= 0 AND commission_refunded <= commission",
            name=op.f("ck_bc_bookings_refunds"),
        ),
        sa.CheckConstraint(
            "total >= 0 AND commission >= 0 AND commission <= total",
            name=op.f("ck_bc_bookings_amounts"),
        ),
        *timed_check,
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["bc_customers.tenant_id", "bc_customers.id"],
            name=op.f("fk_bc_bookings_tenant_id_customer_id_bc_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "package_id"],
            ["bc_packages.tenant_id", "bc_packages.id"],
            name=op.f("fk_bc_bookings_tenant_id_package_id_bc_packages"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "venue_id"],
            ["bc_venues.tenant_id", "bc_venues.id"],
            name=op.f("fk_bc_bookings_tenant_id_venue_id_bc_venues"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_bookings")),
        sa.Index(
            op.f("ix_bc_bookings_pending_expiry"),
            "tenant_id",
            "expires_at",
            postgresql_where=sa.text("status = 'PENDING'"),
            sqlite_where=sa.text("status = 'PENDING'"),
        ),
        sa.Index(op.f("ix_bc_bookings_tenant_id_customer_id"), "tenant_id", "customer_id"),
        sa.Index(op.f("ix_bc_bookings_tenant_id_event_date"), "tenant_id", "event_date"),
    )


def upgrade() -> None:
    op.add_column("bc_packages", sa.Column("schedule", sa.JSON(), nullable=True))

    # SQLite adds a CHECK constraint by copying the table (batch mode); PostgreSQL alters it.
    with op.batch_alter_table("bc_bookings", copy_from=_bookings(timed=False)) as batch:
        batch.add_column(sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resource_ids", sa.JSON(), nullable=True))
        batch.create_check_constraint(op.f("ck_bc_bookings_timed"), _TIMED)

    op.create_table(
        "bc_resources",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_bc_resources_capacity")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["bc_tenants.id"], name=op.f("fk_bc_resources_tenant_id_bc_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_resources")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_bc_resources_tenant_id_name")),
    )

    op.create_table(
        "bc_resource_time_off",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bc_resource_time_off_interval")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resource_id"],
            ["bc_resources.tenant_id", "bc_resources.id"],
            name=op.f("fk_bc_resource_time_off_tenant_id_resource_id_bc_resources"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_resource_time_off")),
    )
    op.create_index(
        op.f("ix_bc_resource_time_off_tenant_id_resource_id_starts_at"),
        "bc_resource_time_off",
        ["tenant_id", "resource_id", "starts_at"],
    )

    op.create_table(
        "bc_time_claims",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_day", sa.Date(), nullable=False),
        sa.Column("day_seat", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("lane >= 0", name=op.f("ck_bc_time_claims_lane")),
        sa.CheckConstraint("day_seat >= 0", name=op.f("ck_bc_time_claims_day_seat")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bc_time_claims_interval")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resource_id"],
            ["bc_resources.tenant_id", "bc_resources.id"],
            name=op.f("fk_bc_time_claims_tenant_id_resource_id_bc_resources"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "booking_id", "resource_id", name=op.f("pk_bc_time_claims")
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "resource_id",
            "package_id",
            "claim_day",
            "day_seat",
            name=op.f("uq_bc_time_claims_day_seat"),
        ),
    )
    op.create_index(
        op.f("ix_bc_time_claims_tenant_id_resource_id_starts_at"),
        "bc_time_claims",
        ["tenant_id", "resource_id", "starts_at"],
    )
    if _on_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bc_time_claims ADD CONSTRAINT ex_bc_time_claims_lane_overlap"
            " EXCLUDE USING gist (tenant_id WITH =, resource_id WITH =, lane WITH =,"
            " tstzrange(starts_at, ends_at, '[)') WITH &&)"
        )


def downgrade() -> None:
    # The btree_gist extension stays: other schemas of the database may use it.
    op.drop_table("bc_time_claims")
    op.drop_table("bc_resource_time_off")
    op.drop_table("bc_resources")
    with op.batch_alter_table("bc_bookings", copy_from=_bookings(timed=True)) as batch:
        batch.drop_constraint(op.f("ck_bc_bookings_timed"), type_="check")
        batch.drop_column("resource_ids")
        batch.drop_column("ends_at")
        batch.drop_column("starts_at")
    op.drop_column("bc_packages", "schedule")
