"""The schema as SQLAlchemy Core tables: the journal of intents and events.

The broker is the truth of holdings; these tables record what Catalyst intended, what the broker
said back, and the few durable facts the daemon must not forget across a restart (the halt, the
day's starting equity, whether today's loss warning went out).

The schema is created and changed only by Alembic revisions in `migrations/versions`; this module
mirrors the latest revision (a test compares the two on both backends).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from catalyst.store.types import JSONText, Money, UTCDateTime

# Named constraints, so SQLite batch migrations can find them again later.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

securities = Table(
    "securities",
    metadata,
    Column("symbol", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("exchange", String, nullable=False),
    Column("sector", String, nullable=True),
    Column("tradable", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

trading_cycles = Table(
    "trading_cycles",
    metadata,
    Column("cycle_id", String, primary_key=True),
    Column("cycle_date", Date, nullable=False),
    Column("cycle_number", Integer, nullable=False),
    Column("session_mode", String, nullable=False),
    Column("triggered_by", String, nullable=False),
    Column("status", String, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("scan_completed_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("candidates_identified", Integer, nullable=False),
    Column("trades_executed", Integer, nullable=False),
    Column("error_message", Text, nullable=True),
    Column("funnel", JSONText, nullable=True),  # {"stage": count} in pipeline order
    Column("skipped", JSONText, nullable=True),  # the universe's {"reason": count}
    UniqueConstraint("cycle_date", "cycle_number"),
)

scan_results = Table(
    "scan_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cycle_id", String, ForeignKey("trading_cycles.cycle_id"), nullable=False),
    Column("symbol", String, nullable=False),
    Column("scan_timestamp", UTCDateTime, nullable=False),
    Column("price_at_scan", Money, nullable=False),
    Column("volume_at_scan", BigInteger, nullable=False),
    Column("rank_in_scan", Integer, nullable=False),
    Column("scan_type", String, nullable=False),
    Column("composite_score", Float, nullable=True),
    Column("final_candidate", Boolean, nullable=False),
    Column("reject_reason", Text, nullable=True),
    # One row per symbol per funnel stage reached (catalyst.domain.funnel.FunnelStage).
    Column("stage", String, nullable=False, server_default="catalysts"),
    Column("kept", Boolean, nullable=True),  # went on to the next stage
    Column("pattern", String, nullable=True),
    Column("features", JSONText, nullable=True),
    Column("indicators", JSONText, nullable=True),
    Column("reasons", JSONText, nullable=True),  # ["why", ...] for a person
    Column("plan", JSONText, nullable=True),  # {"entry", "stop", "target"} once sized
    Index(None, "cycle_id"),
    Index(None, "cycle_id", "stage"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_order_id", String, nullable=False, unique=True),
    Column("broker_order_id", String, nullable=True, unique=True),
    Column(
        "parent_client_order_id",
        String,
        ForeignKey("orders.client_order_id"),
        nullable=True,
    ),
    Column("cycle_id", String, ForeignKey("trading_cycles.cycle_id"), nullable=True),
    Column("symbol", String, nullable=False),
    Column("side", String, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("order_type", String, nullable=False),
    Column("order_class", String, nullable=False),
    Column("role", String, nullable=False),
    Column("limit_price", Money, nullable=True),
    Column("stop_price", Money, nullable=True),
    Column("take_profit_price", Money, nullable=True),
    Column("stop_loss_price", Money, nullable=True),
    Column("status", String, nullable=False),
    Column("filled_qty", Integer, nullable=False),
    Column("filled_avg_price", Money, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("source", String, nullable=False),
    Column("error", Text, nullable=True),
    CheckConstraint("qty > 0", name="qty_positive"),
    CheckConstraint("filled_qty >= 0", name="filled_qty_not_negative"),
    CheckConstraint("side IN ('buy', 'sell')", name="side"),
    CheckConstraint("source IN ('catalyst', 'external')", name="source"),
    Index(None, "status"),
    Index(None, "created_at"),
    Index(None, "parent_client_order_id"),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "client_order_id",
        String,
        ForeignKey("orders.client_order_id"),
        nullable=False,
    ),
    Column("status", String, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("detail", Text, nullable=True),
    Index(None, "client_order_id"),
)

fills = Table(
    "fills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("broker_order_id", String, nullable=False),
    Column("client_order_id", String, nullable=False),
    Column("symbol", String, nullable=False),
    Column("side", String, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("price", Money, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # The same execution reported twice (stream and poll) is one fill.
    UniqueConstraint("broker_order_id", "at", "qty", "price"),
    CheckConstraint("qty > 0", name="qty_positive"),
    CheckConstraint("side IN ('buy', 'sell')", name="side"),
    Index(None, "at"),
)

positions = Table(
    "positions",
    metadata,
    Column("symbol", String, primary_key=True),
    Column("qty", Integer, nullable=False),
    Column("avg_entry_price", Money, nullable=False),
    Column("current_price", Money, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("source", String, nullable=False),
    CheckConstraint("source IN ('catalyst', 'external')", name="source"),
)

risk_events = Table(
    "risk_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("message", Text, nullable=False),
    Column("details", JSONText, nullable=True),
    Index(None, "at"),
)

trading_state = Table(
    "trading_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("status", String, nullable=False),
    Column("reason", Text, nullable=True),
    Column("changed_by", String, nullable=True),
    Column("changed_at", UTCDateTime, nullable=True),
    Column("halt_day", Date, nullable=True),
    CheckConstraint("id = 1", name="single_row"),
    CheckConstraint("status IN ('active', 'halted')", name="status"),
)

trading_state_history = Table(
    "trading_state_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String, nullable=False),
    Column("reason", Text, nullable=True),
    Column("changed_by", String, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("halt_day", Date, nullable=True),
    CheckConstraint("status IN ('active', 'halted')", name="status"),
    Index(None, "changed_at"),
)

daily_equity = Table(
    "daily_equity",
    metadata,
    Column("day", Date, primary_key=True),
    Column("starting_equity", Money, nullable=False),
    Column("warned_at", UTCDateTime, nullable=True),
)

# The broker's account as the risk-watch saw it, at most once a minute
# (`catalyst.tasks.risk_watch`): the intraday equity curve, and the account figures of `status`.
account_snapshots = Table(
    "account_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("equity", Money, nullable=False),
    Column("cash", Money, nullable=False),
    Column("buying_power", Money, nullable=False),
    Column("day_start_equity", Money, nullable=False),
    Index(None, "at"),
)

# Written every few seconds by a running daemon (`catalyst.tasks.heartbeat`); read by `status`
# and `flatten` to tell whether a daemon is there. One row per (host, state dir).
daemon_heartbeats = Table(
    "daemon_heartbeats",
    metadata,
    Column("host", String, primary_key=True),
    Column("state_dir", String, primary_key=True),
    Column("pid", Integer, nullable=False),
    Column("version", String, nullable=False),
    Column("trading_state", String, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime, nullable=True),
    Index(None, "beat_at"),
)

# Supervised sessions: each entry a cycle would place, waiting for a person's decision
# (`catalyst.domain.proposals`). One per (cycle, symbol); decided by `catalyst approve/reject`,
# acted on by `catalyst.tasks.approvals`.
entry_proposals = Table(
    "entry_proposals",
    metadata,
    Column("proposal_id", String, primary_key=True),
    Column("cycle_id", String, ForeignKey("trading_cycles.cycle_id"), nullable=False),
    Column("symbol", String, nullable=False),
    Column("sector", String, nullable=True),
    Column("qty", Integer, nullable=False),
    Column("entry_price", Money, nullable=False),
    Column("stop_price", Money, nullable=False),
    Column("target_price", Money, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("reasons", JSONText, nullable=True),  # ["why", ...] for a person
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("status", String, nullable=False),
    Column("decided_by", String, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("outcome", Text, nullable=True),
    Column("client_order_id", String, nullable=True),
    UniqueConstraint("cycle_id", "symbol"),
    CheckConstraint("qty > 0", name="qty_positive"),
    CheckConstraint(
        "status IN ('pending', 'approved', 'rejected', 'expired', 'sent', 'refused')",
        name="status",
    ),
    Index(None, "status"),
)

# Alerts the delivery task could not (yet) send to every channel, and those it sent: the queue
# that survives a restart (`catalyst.notify.dispatcher`). `payload` is the whole alert as JSON;
# `delivered_channels` lists the channels that have it. Never holds a URL or credential.
alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("kind", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("subject", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String, nullable=False),
    Column("delivered_channels", JSONText, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
    Index(None, "status"),
)
