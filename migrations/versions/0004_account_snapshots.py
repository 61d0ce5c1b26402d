"""Account snapshots: the broker's equity, cash and buying power as the risk-watch saw them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

One row at most every minute while the daemon runs (`catalyst.tasks.risk_watch`): the intraday
equity curve of the daily report and the dashboard, and the account figures `catalyst status`
shows without calling the broker. `day_start_equity` is the day's P&L baseline (the broker's
equity at the previous close, as `daily_equity` keeps it). Same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _money() -> sa.types.TypeEngine[Decimal]:
    return sa.Numeric().with_variant(sa.String(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "account_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("equity", _money(), nullable=False),
        sa.Column("cash", _money(), nullable=False),
        sa.Column("buying_power", _money(), nullable=False),
        sa.Column("day_start_equity", _money(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_snapshots"),
    )
    op.create_index("ix_account_snapshots_at", "account_snapshots", ["at"])


def downgrade() -> None:
    op.drop_index("ix_account_snapshots_at", table_name="account_snapshots")
    op.drop_table("account_snapshots")
