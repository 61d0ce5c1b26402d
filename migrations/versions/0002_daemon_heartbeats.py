"""Daemon heartbeats: a running daemon's check-in (time, pid, host, version, state, state dir).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

One row per (host, state dir), rewritten every few seconds; `catalyst status` and `catalyst
flatten` read it to tell whether a live daemon is there. Same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daemon_heartbeats",
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("state_dir", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("trading_state", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("host", "state_dir", name="pk_daemon_heartbeats"),
    )
    op.create_index("ix_daemon_heartbeats_beat_at", "daemon_heartbeats", ["beat_at"])


def downgrade() -> None:
    op.drop_index("ix_daemon_heartbeats_beat_at", table_name="daemon_heartbeats")
    op.drop_table("daemon_heartbeats")
