"""Initial schema: every booking_core table, constraint and index.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Written from ``booking_core.adapters.sqlalchemy.metadata`` and frozen: it imports nothing from
booking_core, so later changes to the tables never change what this revision creates. Timestamps
are ``DateTime(timezone=True)``, the storage type of booking_core's ``UTCDateTime``
(``timestamptz`` on PostgreSQL). Every name is explicit (``op.f``) so that a host's own naming
convention, when these revisions run in its Alembic tree, does not rename anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("booking_core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bc_tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("commission_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("capacity_per_date", sa.Integer(), nullable=False),
        sa.Column("hold_ttl_seconds", sa.Integer(), nullable=False),
        sa.Column("min_notice_days", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("cancellation", sa.JSON(), nullable=False),
        sa.CheckConstraint("capacity_per_date >= 1", name=op.f("ck_bc_tenants_capacity")),
        sa.CheckConstraint(
            "commission_percent >= 0 AND commission_percent <= 50",
            name=op.f("ck_bc_tenants_commission"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bc_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_bc_tenants_slug")),
    )
    op.create_table(
        "bc_blackout_dates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["bc_tenants.id"], name=op.f("fk_bc_blackout_dates_tenant_id_bc_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "date", name=op.f("pk_bc_blackout_dates")),
    )
    op.create_table(
        "bc_customers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["bc_tenants.id"], name=op.f("fk_bc_customers_tenant_id_bc_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_customers")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_bc_customers_tenant_id_email")),
    )
    op.create_index(
        op.f("ix_bc_customers_tenant_id_created_at"), "bc_customers", ["tenant_id", "created_at"]
    )

    op.create_table(
        "bc_idempotency_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["bc_tenants.id"],
            name=op.f("fk_bc_idempotency_keys_tenant_id_bc_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_bc_idempotency_keys")),
    )
    op.create_index(
        op.f("ix_bc_idempotency_keys_tenant_id_expires_at"),
        "bc_idempotency_keys",
        ["tenant_id", "expires_at"],
    )

    op.create_table(
        "bc_segments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["bc_tenants.id"], name=op.f("fk_bc_segments_tenant_id_bc_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_segments")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_bc_segments_tenant_id_slug")),
    )
    op.create_index(
        op.f("ix_bc_segments_tenant_id_active_sort_order"),
        "bc_segments",
        ["tenant_id", "active", "sort_order"],
    )

    op.create_table(
        "bc_tenant_api_keys",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["bc_tenants.id"],
            name=op.f("fk_bc_tenant_api_keys_tenant_id_bc_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_tenant_api_keys")),
        sa.UniqueConstraint(
            "tenant_id", "key_hash", name=op.f("uq_bc_tenant_api_keys_tenant_id_key_hash")
        ),
    )
    op.create_table(
        "bc_venues",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_bc_venues_capacity")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["bc_tenants.id"], name=op.f("fk_bc_venues_tenant_id_bc_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_venues")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_bc_venues_tenant_id_name")),
    )
    op.create_table(
        "bc_webhook_inbox",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=100), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "state IN ('PENDING', 'PROCESSED', 'FAILED')", name=op.f("ck_bc_webhook_inbox_state")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["bc_tenants.id"], name=op.f("fk_bc_webhook_inbox_tenant_id_bc_tenants")
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "provider", "event_id", name=op.f("pk_bc_webhook_inbox")
        ),
    )
    op.create_index(
        op.f("ix_bc_webhook_inbox_failed"),
        "bc_webhook_inbox",
        ["tenant_id", "received_at"],
        postgresql_where=sa.text("state = 'FAILED'"),
        sqlite_where=sa.text("state = 'FAILED'"),
    )

    op.create_table(
        "bc_add_ons",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("segment_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_bc_add_ons_price")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "segment_id"],
            ["bc_segments.tenant_id", "bc_segments.id"],
            name=op.f("fk_bc_add_ons_tenant_id_segment_id_bc_segments"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["bc_tenants.id"], name=op.f("fk_bc_add_ons_tenant_id_bc_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_add_ons")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_bc_add_ons_tenant_id_slug")),
    )
    op.create_table(
        "bc_packages",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("base_price", sa.BigInteger(), nullable=False),
        sa.Column("segment_id", sa.Uuid(), nullable=True),
        sa.Column("grouping", sa.String(length=100), nullable=False),
        sa.Column("group_order", sa.Integer(), nullable=False),
        sa.Column("photo_urls", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("base_price >= 0", name=op.f("ck_bc_packages_price")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "segment_id"],
            ["bc_segments.tenant_id", "bc_segments.id"],
            name=op.f("fk_bc_packages_tenant_id_segment_id_bc_segments"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["bc_tenants.id"], name=op.f("fk_bc_packages_tenant_id_bc_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_packages")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_bc_packages_tenant_id_slug")),
    )
    op.create_index(
        op.f("ix_bc_packages_tenant_id_segment_id_active_grouping_group_order"),
        "bc_packages",
        ["tenant_id", "segment_id", "active", "grouping", "group_order"],
    )

    op.create_table(
        "bc_bookings",
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
    )
    op.create_index(
        op.f("ix_bc_bookings_pending_expiry"),
        "bc_bookings",
        ["tenant_id", "expires_at"],
        postgresql_where=sa.text("status = 'PENDING'"),
        sqlite_where=sa.text("status = 'PENDING'"),
    )
    op.create_index(
        op.f("ix_bc_bookings_tenant_id_customer_id"), "bc_bookings", ["tenant_id", "customer_id"]
    )
    op.create_index(
        op.f("ix_bc_bookings_tenant_id_event_date"), "bc_bookings", ["tenant_id", "event_date"]
    )

    op.create_table(
        "bc_package_add_ons",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("package_id", sa.Uuid(), nullable=False),
        sa.Column("add_on_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "add_on_id"],
            ["bc_add_ons.tenant_id", "bc_add_ons.id"],
            name=op.f("fk_bc_package_add_ons_tenant_id_add_on_id_bc_add_ons"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "package_id"],
            ["bc_packages.tenant_id", "bc_packages.id"],
            name=op.f("fk_bc_package_add_ons_tenant_id_package_id_bc_packages"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "package_id", "add_on_id", name=op.f("pk_bc_package_add_ons")
        ),
    )
    op.create_table(
        "bc_booking_add_ons",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("add_on_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity >= 1 AND unit_price >= 0", name=op.f("ck_bc_booking_add_ons_line")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "add_on_id"],
            ["bc_add_ons.tenant_id", "bc_add_ons.id"],
            name=op.f("fk_bc_booking_add_ons_tenant_id_add_on_id_bc_add_ons"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "booking_id"],
            ["bc_bookings.tenant_id", "bc_bookings.id"],
            name=op.f("fk_bc_booking_add_ons_tenant_id_booking_id_bc_bookings"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "booking_id", "add_on_id", name=op.f("pk_bc_booking_add_ons")
        ),
    )
    op.create_table(
        "bc_booking_claims",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("claim_date", sa.Date(), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("seat >= 0", name=op.f("ck_bc_booking_claims_seat")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "booking_id"],
            ["bc_bookings.tenant_id", "bc_bookings.id"],
            name=op.f("fk_bc_booking_claims_tenant_id_booking_id_bc_bookings"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "resource_id", "claim_date", "seat", name=op.f("pk_bc_booking_claims")
        ),
    )
    op.create_index(
        op.f("ix_bc_booking_claims_tenant_id_booking_id"),
        "bc_booking_claims",
        ["tenant_id", "booking_id"],
    )

    op.create_table(
        "bc_outbox",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "booking_id"],
            ["bc_bookings.tenant_id", "bc_bookings.id"],
            name=op.f("fk_bc_outbox_tenant_id_booking_id_bc_bookings"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_outbox")),
        sa.UniqueConstraint(
            "tenant_id",
            "booking_id",
            "sequence",
            name=op.f("uq_bc_outbox_tenant_id_booking_id_sequence"),
        ),
    )
    op.create_index(
        op.f("ix_bc_outbox_undelivered"),
        "bc_outbox",
        ["tenant_id", "created_at"],
        postgresql_where=sa.text("done_at IS NULL"),
        sqlite_where=sa.text("done_at IS NULL"),
    )

    op.create_table(
        "bc_refunds",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("commission_refund", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_refund_id", sa.String(length=200), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('PENDING', 'SUCCEEDED', 'FAILED')", name=op.f("ck_bc_refunds_state")
        ),
        sa.CheckConstraint(
            "amount > 0 AND commission_refund >= 0", name=op.f("ck_bc_refunds_amounts")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "booking_id"],
            ["bc_bookings.tenant_id", "bc_bookings.id"],
            name=op.f("fk_bc_refunds_tenant_id_booking_id_bc_bookings"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_refunds")),
    )
    op.create_index(
        op.f("ix_bc_refunds_tenant_id_booking_id"), "bc_refunds", ["tenant_id", "booking_id"]
    )
    op.create_index(
        op.f("ix_bc_refunds_tenant_id_provider_refund_id"),
        "bc_refunds",
        ["tenant_id", "provider_refund_id"],
    )
    op.create_index(
        op.f("ix_bc_refunds_unsettled"),
        "bc_refunds",
        ["tenant_id", "created_at"],
        postgresql_where=sa.text("state <> 'SUCCEEDED'"),
        sqlite_where=sa.text("state <> 'SUCCEEDED'"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    op.drop_table("bc_refunds")
    op.drop_table("bc_outbox")
    op.drop_table("bc_booking_claims")
    op.drop_table("bc_booking_add_ons")
    op.drop_table("bc_package_add_ons")
    op.drop_table("bc_bookings")
    op.drop_table("bc_packages")
    op.drop_table("bc_add_ons")
    op.drop_table("bc_webhook_inbox")
    op.drop_table("bc_venues")
    op.drop_table("bc_tenant_api_keys")
    op.drop_table("bc_segments")
    op.drop_table("bc_idempotency_keys")
    op.drop_table("bc_customers")
    op.drop_table("bc_blackout_dates")
    op.drop_table("bc_tenants")
