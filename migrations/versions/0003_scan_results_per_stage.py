"""Scan results per stage: one row per symbol per funnel stage, with what moved it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

`stage` names the funnel stage (`catalyst.domain.funnel.FunnelStage`), `kept` whether the symbol
went on from it; `pattern`, `features`, `indicators`, `reasons` and `plan` (entry, stop, target)
explain the score. Rows written before this revision were the catalyst score's, so they get
stage 'catalysts'. `trading_cycles.skipped` holds the universe's skip counts per reason.
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
    with op.batch_alter_table("scan_results") as batch:
        batch.add_column(
            sa.Column("stage", sa.String(), nullable=False, server_default="catalysts")
        )
        batch.add_column(sa.Column("kept", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("pattern", sa.String(), nullable=True))
        batch.add_column(sa.Column("features", sa.Text(), nullable=True))
        batch.add_column(sa.Column("indicators", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reasons", sa.Text(), nullable=True))
        batch.add_column(sa.Column("plan", sa.Text(), nullable=True))
    op.create_index("ix_scan_results_cycle_id_stage", "scan_results", ["cycle_id", "stage"])
    with op.batch_alter_table("trading_cycles") as batch:
        batch.add_column(sa.Column("skipped", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trading_cycles") as batch:
        batch.drop_column("skipped")
    op.drop_index("ix_scan_results_cycle_id_stage", table_name="scan_results")
    with op.batch_alter_table("scan_results") as batch:
        for column in ("plan", "reasons", "indicators", "features", "pattern", "kept", "stage"):
            batch.drop_column(column)
