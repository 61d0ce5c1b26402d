"""Frozen records the store takes and returns; nothing outside `catalyst.store` sees a table row.

Order statuses in the journal are the broker's (`OrderStatus` values) plus two of its own:
`intent`, written and committed before the order is sent, so a crash between the two leaves a
trace that reconciliation resolves by client_order_id; and `not_placed`, final, for an intent the
broker confirmed it never received.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from catalyst.domain.alerts import Alert, AlertDelivery
from catalyst.domain.funnel import FunnelStage
from catalyst.domain.models import LegRole, OrderClass, OrderRequest, OrderStatus, OrderType, Side
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.domain.trading_state import TradingState

INTENT_STATUS = "intent"
NOT_PLACED_STATUS = "not_placed"
FINAL_ORDER_STATUSES: frozenset[str] = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        NOT_PLACED_STATUS,
    }
)
ORDER_STATUSES: frozenset[str] = frozenset(
    {INTENT_STATUS, NOT_PLACED_STATUS, *(status.value for status in OrderStatus)}
)


class CycleStatus(StrEnum):
    """A trading cycle's state in the journal."""

    RUNNING = "running"  # started; a cycle killed mid-way stays so (it ran: never run again)
    COMPLETED = "completed"
    FAILED = "failed"
    MISSED = "missed"  # scheduled while the daemon was down, and too late to run at start-up


class OrderSource(StrEnum):
    """Who placed an order (or opened a position): Catalyst, or someone else on the account."""

    CATALYST = "catalyst"
    EXTERNAL = "external"


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class CycleStart:
    """A trading cycle as it begins."""

    cycle_id: str
    cycle_date: date
    cycle_number: int
    session_mode: str  # the session mode: "autonomous" or "scan_only"
    triggered_by: str  # "schedule", "manual", ...
    started_at: datetime

    def __post_init__(self) -> None:
        _require_aware("started_at", self.started_at)


@dataclass(frozen=True, slots=True)
class CycleRecord:
    cycle_id: str
    cycle_date: date
    cycle_number: int
    session_mode: str
    triggered_by: str
    status: CycleStatus  # RUNNING until finish_cycle sets the outcome
    started_at: datetime
    scan_completed_at: datetime | None
    finished_at: datetime | None
    candidates_identified: int
    trades_executed: int
    error_message: str | None
    funnel: Mapping[str, int] = field(default_factory=dict)  # stage -> count, in pipeline order
    skipped: Mapping[str, int] = field(default_factory=dict)  # universe skip reason -> count


@dataclass(frozen=True, slots=True)
class ScanResultRecord:
    """One symbol at one funnel stage of one cycle: its figures, and whether it went on."""

    cycle_id: str
    symbol: str
    scan_timestamp: datetime
    price_at_scan: Decimal
    volume_at_scan: int
    rank_in_scan: int
    scan_type: str
    composite_score: float | None
    final_candidate: bool
    reject_reason: str | None = None
    stage: FunnelStage = FunnelStage.CATALYSTS
    kept: bool | None = None  # went on to the next stage (None: rows from before stages)
    pattern: str | None = None
    features: Mapping[str, float | int | str | None] = field(default_factory=dict)
    indicators: Mapping[str, float | None] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    plan: Mapping[str, str] | None = None  # entry / stop / target as decimal strings


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order Catalyst is about to send, journaled (and committed) before it is sent."""

    client_order_id: str
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    order_class: OrderClass
    role: LegRole
    created_at: datetime
    cycle_id: str | None = None
    parent_client_order_id: str | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    stop_loss_price: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.client_order_id:
            raise ValueError("an order intent needs a client_order_id")
        if self.qty <= 0:
            raise ValueError(f"order qty must be a positive whole number, got {self.qty}")
        _require_aware("created_at", self.created_at)

    @classmethod
    def from_request(
        cls,
        request: OrderRequest,
        *,
        role: LegRole,
        created_at: datetime,
        cycle_id: str | None = None,
    ) -> OrderIntent:
        """The intent for `request` (a bracket's prices go to take_profit/stop_loss)."""
        bracket = request.bracket
        return cls(
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            qty=request.qty,
            order_type=request.type,
            order_class=OrderClass.SIMPLE if bracket is None else OrderClass.BRACKET,
            role=role,
            created_at=created_at,
            cycle_id=cycle_id,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            take_profit_price=None if bracket is None else bracket.take_profit_limit,
            stop_loss_price=None if bracket is None else bracket.stop_loss_stop,
        )


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as the journal knows it."""

    client_order_id: str
    broker_order_id: str | None
    parent_client_order_id: str | None
    cycle_id: str | None
    symbol: str
    side: Side
    qty: int
    order_type: OrderType
    order_class: OrderClass
    role: LegRole
    limit_price: Decimal | None
    stop_price: Decimal | None
    take_profit_price: Decimal | None
    stop_loss_price: Decimal | None
    status: str  # INTENT_STATUS, NOT_PLACED_STATUS or an OrderStatus value
    filled_qty: int
    filled_avg_price: Decimal | None
    created_at: datetime
    updated_at: datetime
    source: OrderSource
    error: str | None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_ORDER_STATUSES


@dataclass(frozen=True, slots=True)
class OrderEventRecord:
    client_order_id: str
    status: str
    at: datetime
    detail: str | None


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """The store's mirror of one broker position."""

    symbol: str
    qty: int
    avg_entry_price: Decimal
    current_price: Decimal
    opened_at: datetime  # when the mirror first saw it
    updated_at: datetime
    source: OrderSource


@dataclass(frozen=True, slots=True)
class PositionDiff:
    """What one `sync_positions` changed; each tuple is sorted by symbol."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # qty or average entry price differ (not just the mark)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True, slots=True)
class RiskEventRecord:
    id: int
    at: datetime
    kind: RiskEventKind
    severity: Severity
    message: str
    details: Mapping[str, object] | None


@dataclass(frozen=True, slots=True)
class TradingStateChange:
    """One row of the trading state's history."""

    status: TradingState
    reason: str | None
    changed_by: str
    changed_at: datetime
    halt_day: date | None


@dataclass(frozen=True, slots=True)
class AccountSnapshotRecord:
    """The broker's account at `at`, as the risk-watch read it; `day_pnl` against the baseline.

    `day_start_equity` is the day's P&L baseline (`daily_equity`: the broker's equity at the
    previous close), so `day_pnl` is realised plus unrealised since the open.
    """

    at: datetime
    equity: Decimal
    cash: Decimal
    buying_power: Decimal
    day_start_equity: Decimal

    def __post_init__(self) -> None:
        _require_aware("at", self.at)

    @property
    def day_pnl(self) -> Decimal:
        return self.equity - self.day_start_equity


@dataclass(frozen=True, slots=True)
class JournaledAlert:
    """One row of the alert journal: the alert and how far its delivery got."""

    id: int
    alert: Alert
    subject: str
    status: AlertDelivery
    delivered_channels: frozenset[str]
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
