"""Broker-neutral domain objects.

Every adapter (the simulator, Alpaca) translates its own payloads into these at its edge, so the
pipeline, risk engine and store never see a third-party type. Money is `Decimal`, quantities are
whole shares (`int`), timestamps are timezone-aware UTC `datetime`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class OrderClass(StrEnum):
    SIMPLE = "simple"
    BRACKET = "bracket"


class OrderStatus(StrEnum):
    """Lifecycle states, named as Alpaca names them."""

    NEW = "new"
    ACCEPTED = "accepted"
    HELD = "held"  # bracket stop leg waiting for its sibling / entry
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in _OPEN_STATUSES


_OPEN_STATUSES = frozenset(
    {OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.HELD, OrderStatus.PARTIALLY_FILLED}
)


class LegRole(StrEnum):
    """What an order is for inside a bracket."""

    ENTRY = "entry"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    EXIT = "exit"  # a standalone closing order (flatten, emergency stop, max hold)


@dataclass(frozen=True, slots=True)
class Asset:
    symbol: str
    name: str
    exchange: str
    sector: str | None
    tradable: bool
    shortable: bool = False
    fractionable: bool = False


@dataclass(frozen=True, slots=True)
class Bar:
    symbol: str
    timestamp: datetime  # start of the bar, UTC
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    vwap: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a scan needs to know about one symbol right now."""

    symbol: str
    timestamp: datetime  # time of the latest trade, UTC
    last_price: Decimal
    day_open: Decimal
    day_high: Decimal
    day_low: Decimal
    day_volume: int
    prev_close: Decimal
    prev_volume: int
    bid: Decimal | None = None
    ask: Decimal | None = None


@dataclass(frozen=True, slots=True)
class NewsItem:
    id: str
    headline: str
    symbols: tuple[str, ...]
    created_at: datetime
    source: str = ""


@dataclass(frozen=True, slots=True)
class Account:
    equity: Decimal
    last_equity: Decimal  # equity at the previous close: the day's starting point for P&L
    cash: Decimal
    buying_power: Decimal
    trading_blocked: bool = False
    # The broker's account number: the key of the one-daemon-per-account lock.
    account_number: str = ""

    @property
    def day_pnl(self) -> Decimal:
        return self.equity - self.last_equity


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    qty: int  # positive long, negative short
    avg_entry_price: Decimal
    current_price: Decimal

    @property
    def market_value(self) -> Decimal:
        return self.current_price * self.qty

    @property
    def unrealized_pnl(self) -> Decimal:
        return (self.current_price - self.avg_entry_price) * self.qty


@dataclass(frozen=True, slots=True)
class BracketSpec:
    take_profit_limit: Decimal
    stop_loss_stop: Decimal


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order Catalyst wants placed. `client_order_id` is deterministic and already journaled."""

    client_order_id: str
    symbol: str
    side: Side
    qty: int
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str = "day"
    bracket: BracketSpec | None = None

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"order qty must be a positive whole number, got {self.qty}")
        if not self.client_order_id:
            raise ValueError("order needs a client_order_id")


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the broker reports it. Bracket legs are nested in `legs`."""

    id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: int
    filled_qty: int
    type: OrderType
    status: OrderStatus
    order_class: OrderClass
    submitted_at: datetime
    filled_avg_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    role: LegRole = LegRole.ENTRY
    legs: tuple[Order, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Fill:
    order_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: int  # this fill only, not cumulative
    price: Decimal
    timestamp: datetime


class OrderEventKind(StrEnum):
    """The broker's names for what happened to an order (Alpaca's `trade_updates` events).

    A name Catalyst does not know arrives as `OTHER`: it changes nothing here, and the order's
    status still comes with the event.
    """

    NEW = "new"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    FILL = "fill"
    PARTIAL_FILL = "partial_fill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    DONE_FOR_DAY = "done_for_day"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    ORDER_CANCEL_REJECTED = "order_cancel_rejected"
    ORDER_REPLACE_REJECTED = "order_replace_rejected"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"
    RESTATED = "restated"
    OTHER = "other"

    @classmethod
    def _missing_(cls, value: object) -> OrderEventKind:
        return cls.OTHER


FILL_EVENT_KINDS = frozenset({OrderEventKind.FILL, OrderEventKind.PARTIAL_FILL})


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """Something the broker pushed about one order, as it happened.

    `kind` is the broker's event (`OrderEventKind`; a name it does not know is `OTHER`).
    `order` is the order as it stood right after the event, bracket legs nested when the broker
    sent them. `fill` is set for fill events only and carries this execution's own quantity and
    price, never the cumulative `order.filled_qty`.
    """

    kind: OrderEventKind
    order: Order
    timestamp: datetime
    fill: Fill | None = None

    @property
    def is_fill(self) -> bool:
        """True for an execution (a fill or a partial fill) carrying its `fill`."""
        return self.fill is not None


@dataclass(frozen=True, slots=True)
class TradingSession:
    """One trading day's hours, all timezone-aware."""

    day: date
    open: datetime
    close: datetime
    early_close: bool = False
