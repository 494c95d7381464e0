"""A provider's refund id is recorded at most once per tenant.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Two reports of one refund made at the provider (under two event ids, processed at once) were
both recorded; the unique index makes the second wait for the first and then fail, so its
transaction reruns and finds the refund recorded. Frozen like 0001: no booking_core imports.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_bc_refunds_tenant_id_provider_refund_id"
_COLUMNS = ["tenant_id", "provider_refund_id"]


def upgrade() -> None:
    op.drop_index(op.f(_INDEX), table_name="bc_refunds")
    op.create_index(op.f(_INDEX), "bc_refunds", _COLUMNS, unique=True)


def downgrade() -> None:
    op.drop_index(op.f(_INDEX), table_name="bc_refunds")
    op.create_index(op.f(_INDEX), "bc_refunds", _COLUMNS)
