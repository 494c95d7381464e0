"""Tenants may have recurring blackout dates.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

``bc_tenants.blackout_rules``: a JSON list of ``{rrule, starts_on, except_on, reason}``, NULL
for none. Frozen like 0001: no booking_core imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bc_tenants", sa.Column("blackout_rules", sa.JSON(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN on both backends (SQLite has it since 3.35)
    op.execute("ALTER TABLE bc_tenants DROP COLUMN blackout_rules")
