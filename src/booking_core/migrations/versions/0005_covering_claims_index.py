"""The time claims' (tenant, resource, start) index covers what the slot search reads.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

PostgreSQL only: the index gains ``INCLUDE (ends_at, lane, claim_day, package_id, expires_at)``,
so a month of claims is read by an index-only scan (the table's pages are not visited once
autovacuum has marked them all-visible). SQLite has no INCLUDE; its index stays as it is.
Frozen like 0001: no booking_core imports.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_bc_time_claims_tenant_id_resource_id_starts_at"
_KEY = ["tenant_id", "resource_id", "starts_at"]


def _on_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if not _on_postgresql():
        return
    op.drop_index(_INDEX, table_name="bc_time_claims")
    op.create_index(
        _INDEX,
        "bc_time_claims",
        _KEY,
        postgresql_include=["ends_at", "lane", "claim_day", "package_id", "expires_at"],
    )


def downgrade() -> None:
    if not _on_postgresql():
        return
    op.drop_index(_INDEX, table_name="bc_time_claims")
    op.create_index(_INDEX, "bc_time_claims", _KEY)
