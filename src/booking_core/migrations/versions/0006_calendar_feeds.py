"""Subscribable calendar feeds: a tenant's (or one resource's) bookings behind a secret token.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

The token is stored as its SHA-256 digest, like API keys; ``resource_id`` NULL is the tenant's
whole calendar. Frozen like 0001: no booking_core imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bc_calendar_feeds",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("include_holds", sa.Boolean(), nullable=False),
        sa.Column("include_contact", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["bc_tenants.id"],
            name=op.f("fk_bc_calendar_feeds_tenant_id_bc_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resource_id"],
            ["bc_resources.tenant_id", "bc_resources.id"],
            name=op.f("fk_bc_calendar_feeds_tenant_id_resource_id_bc_resources"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_bc_calendar_feeds")),
        sa.UniqueConstraint(
            "tenant_id", "token_hash", name=op.f("uq_bc_calendar_feeds_tenant_id_token_hash")
        ),
    )


def downgrade() -> None:
    op.drop_table("bc_calendar_feeds")
