"""Bookings may be occurrences of a recurring series.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

``bc_bookings.series_id`` (NULL for a single booking) with an index on (tenant_id, series_id):
a series is read, confirmed and cancelled as one. Frozen like 0001: no booking_core imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_bc_bookings_tenant_id_series_id"


def upgrade() -> None:
    op.add_column("bc_bookings", sa.Column("series_id", sa.Uuid(), nullable=True))
    op.create_index(_INDEX, "bc_bookings", ["tenant_id", "series_id"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="bc_bookings")
    # plain ALTER TABLE … DROP COLUMN on both backends (SQLite has it since 3.35): the column
    # has no constraint, so no table copy is needed, and --sql works without reflection
    op.execute("ALTER TABLE bc_bookings DROP COLUMN series_id")
