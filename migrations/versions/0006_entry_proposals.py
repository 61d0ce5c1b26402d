"""Entry proposals: a supervised session's entries, waiting for a person's decision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

One row per (cycle, symbol) a supervised cycle would have entered: the sized bracket, confidence
and reasons, when it was made and when it expires, its status (pending, approved, rejected,
expired, sent, refused), who decided and when, and the entry's client_order_id once sent. Same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _money() -> sa.types.TypeEngine[Decimal]:
    return sa.Numeric().with_variant(sa.String(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "entry_proposals",
        sa.Column("proposal_id", sa.String(), nullable=False),
        sa.Column("cycle_id", sa.String(), nullable=False),
        sa.Column("symbol", sa.String(), nullable=False),
        sa.Column("sector", sa.String(), nullable=True),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("entry_price", _money(), nullable=False),
        sa.Column("stop_price", _money(), nullable=False),
        sa.Column("target_price", _money(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("expires_at", _timestamp(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", _timestamp(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", _timestamp(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("client_order_id", sa.String(), nullable=True),
        sa.CheckConstraint("qty > 0", name="ck_entry_proposals_qty_positive"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'expired', 'sent', 'refused')",
            name="ck_entry_proposals_status",
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["trading_cycles.cycle_id"],
            name="fk_entry_proposals_cycle_id_trading_cycles",
        ),
        sa.PrimaryKeyConstraint("proposal_id", name="pk_entry_proposals"),
        sa.UniqueConstraint("cycle_id", "symbol", name="uq_entry_proposals_cycle_id_symbol"),
    )
    op.create_index("ix_entry_proposals_status", "entry_proposals", ["status"])


def downgrade() -> None:
    op.drop_index("ix_entry_proposals_status", table_name="entry_proposals")
    op.drop_table("entry_proposals")
