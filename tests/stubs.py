"""Builders with defaults: the domain objects the tests build by hand, the daemon's components
over the simulator, and the risk-watch with its siblings. Each builder takes keyword overrides;
prices may be given as strings.

(Settings come from `support.make_settings`.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from catalyst.config.models import RiskFile, Settings
from catalyst.daemon.components import Components, build_components
from catalyst.domain.alerts import Alert
from catalyst.domain.models import (
    Asset,
    Fill,
    LegRole,
    Order,
    OrderClass,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Snapshot,
)
from catalyst.domain.plans import TradePlan
from catalyst.execution.flatten import Flattener
from catalyst.execution.submitter import OrderSubmitter
from catalyst.notify import AlertDispatcher, AlertThrottle, LogChannel
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.pipeline.candidates import Candidate, CatalystFeatures
from catalyst.ports import Broker, Clock, Notifier
from catalyst.risk.rules import BookState
from catalyst.sim.broker import build_sim_broker
from catalyst.store.repository import Store
from catalyst.tasks.flatten_requests import FlattenRequestWatch
from catalyst.tasks.max_hold import MaxHoldWatch
from catalyst.tasks.risk_watch import RiskWatch
from catalyst.tasks.watch_journal import WatchJournal
from catalyst.timekeeping.calendar import ExchangeCalendar, SessionCalendar

Price = str | Decimal

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 New York, a regular trading day


def position(
    symbol: str = "AAA", qty: int = 100, entry: Price = "50.00", mark: Price | None = None
) -> Position:
    """`qty` shares bought at `entry`, marked at `mark` (at `entry` unless given)."""
    return Position(symbol, qty, Decimal(entry), Decimal(entry if mark is None else mark))


def fill(
    side: Side = Side.BUY,
    qty: int = 10,
    price: Price = "50.00",
    *,
    symbol: str = "AAA",
    at: datetime = AT,
    order_id: str = "b-1",
    client_order_id: str = "cat-1",
) -> Fill:
    return Fill(order_id, client_order_id, symbol, side, qty, Decimal(price), at)


def order(
    client_order_id: str = "cat-1",
    *,
    broker_id: str | None = None,
    symbol: str = "AAA",
    side: Side = Side.BUY,
    qty: int = 10,
    filled_qty: int = 0,
    type: OrderType = OrderType.MARKET,
    status: OrderStatus = OrderStatus.NEW,
    order_class: OrderClass = OrderClass.SIMPLE,
    submitted_at: datetime = AT,
    limit_price: Price | None = None,
    stop_price: Price | None = None,
    role: LegRole = LegRole.ENTRY,
    legs: tuple[Order, ...] = (),
) -> Order:
    """An order as the broker reports it; its broker id is `b-<client_order_id>` unless given."""
    return Order(
        id=broker_id if broker_id is not None else f"b-{client_order_id}",
        client_order_id=client_order_id,
        symbol=symbol,
        side=side,
        qty=qty,
        filled_qty=filled_qty,
        type=type,
        status=status,
        order_class=order_class,
        submitted_at=submitted_at,
        limit_price=None if limit_price is None else Decimal(limit_price),
        stop_price=None if stop_price is None else Decimal(stop_price),
        role=role,
        legs=legs,
    )


def plan(
    symbol: str = "NEW",
    sector: str | None = "Tech",
    *,
    qty: int = 100,
    entry_price: Price = "50.00",
    stop_price: Price = "49.00",
    target_price: Price = "52.00",
    confidence: float = 0.8,
) -> TradePlan:
    """By default 100 shares at $50, stop $49 (max loss $100), target $52 (reward:risk 2):
    notional $5000."""
    return TradePlan(
        symbol,
        sector,
        qty,
        Decimal(entry_price),
        Decimal(stop_price),
        Decimal(target_price),
        confidence,
    )


def book(
    positions: Iterable[Position] = (),
    *,
    equity: Price = "100000",
    buying_power: Price = "100000",
    open_entry_symbols: frozenset[str] = frozenset(),
    sectors: Mapping[str, str | None] | None = None,
    day_pnl: Price = "0",
    trading_halted: bool = False,
    paused: bool = False,
    entries_allowed_now: bool = True,
    pending_plans: tuple[TradePlan, ...] = (),
    open_risk: Price = "0",
    cooling_down: Mapping[str, datetime] | None = None,
) -> BookState:
    """A $100k account free to trade, holding `positions` (all in Tech unless `sectors` says)."""
    held = tuple(positions)
    return BookState(
        equity=Decimal(equity),
        buying_power=Decimal(buying_power),
        positions=held,
        open_entry_symbols=open_entry_symbols,
        sectors={p.symbol: "Tech" for p in held} if sectors is None else sectors,
        day_pnl=Decimal(day_pnl),
        trading_halted=trading_halted,
        paused=paused,
        entries_allowed_now=entries_allowed_now,
        pending_plans=pending_plans,
        open_risk=Decimal(open_risk),
        cooling_down=cooling_down or {},
    )


def candidate(
    symbol: str = "AAA",
    *,
    sector: str | None = "Tech",
    last_price: Price = "10.00",
    confidence: float = 0.8,
    features: CatalystFeatures = CatalystFeatures(0.0, 0.0, 0.0, 0),  # noqa: B008 - frozen
    reasons: tuple[str, ...] = (),
) -> Candidate:
    return Candidate(symbol, sector, Decimal(last_price), confidence, features, reasons)


def asset(
    symbol: str = "AAA",
    *,
    name: str | None = None,
    exchange: str = "NASDAQ",
    sector: str | None = "Tech",
    tradable: bool = True,
    shortable: bool = False,
    fractionable: bool = False,
) -> Asset:
    return Asset(
        symbol,
        name if name is not None else f"{symbol} Inc",
        exchange,
        sector,
        tradable,
        shortable,
        fractionable,
    )


def snapshot(
    symbol: str = "AAA",
    *,
    timestamp: datetime = AT,
    last_price: Price = "20.00",
    day_open: Price = "19.50",
    day_high: Price = "20.10",
    day_low: Price = "19.40",
    day_volume: int = 1_000_000,
    prev_close: Price = "19.00",
    prev_volume: int = 2_000_000,
    bid: Price | None = "19.99",
    ask: Price | None = "20.01",
) -> Snapshot:
    """A liquid $20 stock up 5 % on the day, its latest trade at `timestamp`."""
    return Snapshot(
        symbol=symbol,
        timestamp=timestamp,
        last_price=Decimal(last_price),
        day_open=Decimal(day_open),
        day_high=Decimal(day_high),
        day_low=Decimal(day_low),
        day_volume=day_volume,
        prev_close=Decimal(prev_close),
        prev_volume=prev_volume,
        bid=None if bid is None else Decimal(bid),
        ask=None if ask is None else Decimal(ask),
    )


async def sim_components(
    settings: Settings,
    clock: Clock,
    database_url: str,
    *,
    broker: Broker | None = None,
    calendar: ExchangeCalendar | None = None,
    entries_stopped: Callable[[], bool] = lambda: False,
) -> Components:
    """The daemon's components as the daemon-level tests build them: the exchange calendar, log
    notifications and, unless `broker` is given, a simulated broker for `settings`.

    The database at `database_url` must be migrated already.
    """
    calendar = calendar if calendar is not None else ExchangeCalendar()
    if broker is None:
        broker = build_sim_broker(settings.trading.simulation, calendar, clock)
    return await build_components(
        settings,
        clock=clock,
        broker=broker,
        calendar=calendar,
        notifier=log_dispatcher(clock),
        database_url=database_url,
        entries_stopped=entries_stopped,
    )


class RecordingNotifier:
    """Keeps every alert handed to it (the Notifier port), unthrottled."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)


def log_dispatcher(clock: Clock, environment: str = "paper") -> AlertDispatcher:
    """The daemon's alert queue with the log as its only channel."""
    return AlertDispatcher(
        [LogChannel()],
        environment=environment,
        clock=clock,
        throttle=AlertThrottle(dedup_window=timedelta(minutes=10), per_hour=12),
    )


def risk_watch(
    broker: Broker,
    store: Store,
    clock: Clock,
    *,
    risk: RiskFile | None = None,
    calendar: SessionCalendar | None = None,
    notifier: Notifier | None = None,
    flattener: Flattener | None = None,
) -> RiskWatch:
    """A risk-watch over `broker` and `store` as the daemon wires it: default risk file, the
    exchange calendar, log notifications and a flattener with its own order submitter."""
    return RiskWatch(
        broker=broker,
        store=store,
        clock=clock,
        calendar=calendar if calendar is not None else ExchangeCalendar(),
        risk=risk if risk is not None else RiskFile(),
        flattener=flattener if flattener is not None else _flattener(broker, store, clock),
        notifier=notifier if notifier is not None else RecordingNotifier(),
        journal=WatchJournal(store),
    )


def flatten_request_watch(
    request: FlattenRequest, broker: Broker, store: Store, clock: Clock
) -> FlattenRequestWatch:
    """The watch that carries out `request`, wired as the daemon wires it."""
    return FlattenRequestWatch(
        request=request,
        clock=clock,
        calendar=ExchangeCalendar(),
        flattener=_flattener(broker, store, clock),
        journal=WatchJournal(store),
        risk=RiskFile(),
    )


def _flattener(broker: Broker, store: Store, clock: Clock) -> Flattener:
    return Flattener(broker, store, clock, OrderSubmitter(broker, store, clock))


def max_hold_watch(
    broker: Broker,
    store: Store,
    clock: Clock,
    max_hold: timedelta,
    *,
    book_kept_flat: Callable[[], bool] = lambda: False,
) -> MaxHoldWatch:
    """The max-hold watch, wired as the daemon wires it."""
    return MaxHoldWatch(
        broker=broker,
        clock=clock,
        calendar=ExchangeCalendar(),
        flattener=_flattener(broker, store, clock),
        journal=WatchJournal(store),
        max_hold=max_hold,
        book_kept_flat=book_kept_flat,
    )
