"""Tenants carry a version that grows with every change of what a hold is priced from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

A hold on PostgreSQL prices itself from terms cached at a tenant version and then checks, in the
one statement that writes it, that the version is still current (docs/architecture.md, "A hold
in one round trip"). Existing tenants start at 1. Frozen like 0001: no booking_core imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "bc_tenants",
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("bc_tenants", "version")
