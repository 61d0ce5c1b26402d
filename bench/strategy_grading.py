"""Grading a simulated day's picks and trades against what the simulator planted (pure).

Definitions (bench/strategy.py prints them):
- planted up-catalyst: a symbol in `SyntheticMarket.catalyst_symbols` whose gap is positive
  (a long can profit from it); a planted down-catalyst gaps down.
- eligible: a planted up-catalyst whose asset is tradable and whose pre-market price (the price
  the 09:15 scan sees: the previous close moved by the gap) lies in the workflow's price band
  [min_price, max_price]: one the scan could have bought from the open on.
- pick: a symbol whose entry order (role `entry`) filled that day (counted once per day).
- precision = picks that were planted up-catalysts / picks;
  recall = eligible up-catalysts picked / eligible up-catalysts.
- trade: one position in one symbol from flat to flat (entry fills, then its exits: take profit,
  stop loss, or a standalone exit such as the end-of-day flatten or the max-hold close).
  P&L = sells - buys of its fills (long; the reverse for a short);
  R multiple = P&L / (qty x (entry price - the bracket's stop price)), entry price being the
  fill price, summed over the entry fills (so a scaled-in trade's risk is the sum of its pieces).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from catalyst.domain.models import Fill, LegRole, Side
from catalyst.store.records import OrderRecord


@dataclass(frozen=True, slots=True)
class Planted:
    """What the simulator planted on one day (read by the bench only, to grade)."""

    up: frozenset[str]
    down: frozenset[str]
    eligible_up: frozenset[str]


@dataclass(frozen=True, slots=True)
class Trade:
    """One position from flat to flat."""

    symbol: str
    qty: int  # shares entered
    entry_price: Decimal  # average entry fill price
    stop_price: Decimal | None  # the bracket's stop (None: the entry order had none)
    pnl: Decimal
    risk: Decimal | None  # qty x (entry - stop) in the trade's direction; None if not positive
    exit_roles: tuple[str, ...]  # role of each exit fill's order, in time order

    @property
    def r_multiple(self) -> float | None:
        return None if self.risk is None else float(self.pnl / self.risk)


@dataclass(frozen=True, slots=True)
class DayResult:
    """One strategy's run of one seeded simulated day, as the bench grades it."""

    seed: int
    day: date
    kind: str
    planted: Planted
    picks: frozenset[str]
    selected: frozenset[str]  # symbols the scans selected (final candidates, before risk)
    trades: tuple[Trade, ...]
    open_trades: int  # positions still open at the end of the day's fills
    realised_pnl: Decimal  # catalyst.reporting.pnl over the same fills (a cross-check)
    scans: int
    wall_seconds: float


@dataclass
class _OpenTrade:
    symbol: str
    direction: int  # +1 long, -1 short
    position: int = 0
    entered: int = 0
    entry_notional: Decimal = Decimal(0)
    cash: Decimal = Decimal(0)
    stop: Decimal | None = None
    risk: Decimal | None = Decimal(0)
    exit_roles: list[str] = field(default_factory=list)

    def close(self) -> Trade:
        risk = self.risk if self.risk is not None and self.risk > 0 else None
        return Trade(
            symbol=self.symbol,
            qty=self.entered,
            entry_price=self.entry_notional / self.entered,
            stop_price=self.stop,
            pnl=self.cash,
            risk=risk,
            exit_roles=tuple(self.exit_roles),
        )


def trades_from_fills(
    fills: Sequence[Fill], orders: Mapping[str, OrderRecord]
) -> tuple[list[Trade], int]:
    """The day's closed trades from its fills (oldest first) and how many stayed open.

    `orders` maps client order ids to the journal's orders (for roles and bracket stops).
    ValueError when a fill takes a position through zero (one fill both closing and opening).
    """
    trades: list[Trade] = []
    open_trades: dict[str, _OpenTrade] = {}
    for fill in fills:
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        order = orders.get(fill.client_order_id)
        trade = open_trades.get(fill.symbol)
        if trade is None:
            trade = open_trades[fill.symbol] = _OpenTrade(fill.symbol, 1 if signed > 0 else -1)
        if (signed > 0) == (trade.direction > 0):
            _add_entry(trade, fill, order)
        else:
            trade.exit_roles.append(order.role.value if order is not None else "unknown")
            if abs(signed) > abs(trade.position):
                raise ValueError(f"{fill.symbol}: a fill at {fill.timestamp} goes through zero")
        trade.position += signed
        trade.cash -= signed * fill.price
        if trade.position == 0:
            trades.append(trade.close())
            del open_trades[fill.symbol]
    return trades, len(open_trades)


def _add_entry(trade: _OpenTrade, fill: Fill, order: OrderRecord | None) -> None:
    trade.entered += fill.qty
    trade.entry_notional += fill.price * fill.qty
    stop = order.stop_loss_price if order is not None else None
    if stop is None or trade.risk is None:
        trade.risk = None  # an entry without a bracket stop: R is undefined for the trade
        return
    trade.stop = stop
    trade.risk += fill.qty * (fill.price - stop) * trade.direction


def picks_from_fills(fills: Sequence[Fill], orders: Mapping[str, OrderRecord]) -> frozenset[str]:
    """Symbols whose entry order filled."""
    return frozenset(
        fill.symbol
        for fill in fills
        if (order := orders.get(fill.client_order_id)) is not None and order.role is LegRole.ENTRY
    )


@dataclass(frozen=True, slots=True)
class StrategyTotals:
    """One strategy's figures over all its days."""

    days: int
    scans: int
    selected: int
    selected_up: int
    picks: int
    picks_up: int
    picks_down: int
    eligible_up: int
    eligible_picked: int
    trades: int
    wins: int
    r_multiples: tuple[float, ...]
    r_undefined: int
    pnl: Decimal
    day_pnls: tuple[Decimal, ...]
    exits: Mapping[str, int]
    open_trades: int
    wall_seconds: float

    @property
    def precision(self) -> float | None:
        return _ratio(self.picks_up, self.picks)

    @property
    def selection_precision(self) -> float | None:
        return _ratio(self.selected_up, self.selected)

    @property
    def recall(self) -> float | None:
        return _ratio(self.eligible_picked, self.eligible_up)

    @property
    def win_rate(self) -> float | None:
        return _ratio(self.wins, self.trades)

    @property
    def mean_r(self) -> float | None:
        return statistics.fmean(self.r_multiples) if self.r_multiples else None

    @property
    def median_r(self) -> float | None:
        return statistics.median(self.r_multiples) if self.r_multiples else None

    @property
    def pnl_per_trade(self) -> Decimal | None:
        return self.pnl / self.trades if self.trades else None


def totals(results: Sequence[DayResult]) -> StrategyTotals:
    """Pooled figures: every ratio is a sum over the days divided by a sum over the days."""
    trades = [t for r in results for t in r.trades]
    exits: dict[str, int] = {}
    for trade in trades:
        for role in trade.exit_roles:
            exits[role] = exits.get(role, 0) + 1
    return StrategyTotals(
        days=len(results),
        scans=sum(r.scans for r in results),
        selected=sum(len(r.selected) for r in results),
        selected_up=sum(len(r.selected & r.planted.up) for r in results),
        picks=sum(len(r.picks) for r in results),
        picks_up=sum(len(r.picks & r.planted.up) for r in results),
        picks_down=sum(len(r.picks & r.planted.down) for r in results),
        eligible_up=sum(len(r.planted.eligible_up) for r in results),
        eligible_picked=sum(len(r.picks & r.planted.eligible_up) for r in results),
        trades=len(trades),
        wins=sum(1 for t in trades if t.pnl > 0),
        r_multiples=tuple(r for t in trades if (r := t.r_multiple) is not None),
        r_undefined=sum(1 for t in trades if t.r_multiple is None),
        pnl=sum((t.pnl for t in trades), Decimal(0)),
        day_pnls=tuple(sum((t.pnl for t in r.trades), Decimal(0)) for r in results),
        exits=exits,
        open_trades=sum(r.open_trades for r in results),
        wall_seconds=sum(r.wall_seconds for r in results),
    )


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
