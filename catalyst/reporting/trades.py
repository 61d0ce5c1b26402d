"""A day's round trips: each entry paired with the fills that closed it, and why they closed it.

Pure: the day's fills, the journaled orders they belong to (by client_order_id, bracket legs
included) and the recovered purposes of Catalyst's closing orders in; trades out.

- A buy fill of a Catalyst entry order opens (or, partly filled, adds to) that entry's trade; a
  buy of any other order (someone else on the account) opens an external trade.
- A sell fill closes shares: first of the trade its bracket leg belongs to (a leg names its
  entry as parent), then of the symbol's open trades, oldest first. A sell with nothing open
  (a position from an earlier day) is kept apart as unmatched.
- The exit reason comes from the closing order as journaled: its role (a bracket's stop or
  target), else the purpose its id was derived from (end of day, max hold, ...), else who placed
  it (someone else: manual/external).
- The R multiple is the P&L per share closed over the entry's planned risk per share: the entry
  order's limit (its fill price when it had none) less the bracket's stop. No stop, or a stop at
  or above the entry: no R.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from catalyst.domain.models import Fill, LegRole, Side
from catalyst.execution.purposes import ClosePurpose
from catalyst.store.records import OrderRecord, OrderSource


class ExitReason(StrEnum):
    """Why shares were sold, as the report says it."""

    STOP = "stop"
    TARGET = "target"
    MAX_HOLD = "max hold"
    END_OF_DAY = "end of day"
    EMERGENCY = "emergency"  # the daily loss limit's flatten, or a close while halted
    FLATTEN = "flatten"  # the operator's `catalyst flatten`
    EXTERNAL = "manual/external"  # an order Catalyst did not place
    CLOSED = "closed"  # a Catalyst close whose purpose the journal does not name


_BY_PURPOSE: Mapping[ClosePurpose, ExitReason] = {
    ClosePurpose.END_OF_DAY: ExitReason.END_OF_DAY,
    ClosePurpose.EMERGENCY: ExitReason.EMERGENCY,
    ClosePurpose.HALTED_EXPOSURE: ExitReason.EMERGENCY,
    ClosePurpose.MAX_HOLD: ExitReason.MAX_HOLD,
    ClosePurpose.MANUAL_FLATTEN: ExitReason.FLATTEN,
    ClosePurpose.PROTECTIVE: ExitReason.STOP,  # closed at market, already below its stop
}


@dataclass(frozen=True, slots=True)
class Execution:
    """Shares bought or sold at one price and moment; exits carry their reason."""

    at: datetime
    qty: int
    price: Decimal
    reason: ExitReason | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    """One entry and what closed it so far (long: Catalyst buys to enter)."""

    symbol: str
    entry_id: str  # the entry order's client_order_id
    source: OrderSource
    entries: tuple[Execution, ...]
    exits: tuple[Execution, ...] = ()
    planned_entry: Decimal | None = None  # the entry order's limit price
    stop: Decimal | None = None  # the bracket's stop
    target: Decimal | None = None  # the bracket's take-profit

    @property
    def qty(self) -> int:
        """Shares bought."""
        return sum(e.qty for e in self.entries)

    @property
    def exited_qty(self) -> int:
        return sum(e.qty for e in self.exits)

    @property
    def open_qty(self) -> int:
        """Shares still held at the end of the fills (0: the trade is closed)."""
        return self.qty - self.exited_qty

    @property
    def is_open(self) -> bool:
        return self.open_qty > 0

    @property
    def entered_at(self) -> datetime:
        return self.entries[0].at

    @property
    def exited_at(self) -> datetime | None:
        return self.exits[-1].at if self.exits else None

    @property
    def entry_price(self) -> Decimal:
        """Average price of the shares bought."""
        return _average(self.entries)

    @property
    def exit_price(self) -> Decimal | None:
        """Average price of the shares sold, None before any was."""
        return _average(self.exits) if self.exits else None

    @property
    def exit_reasons(self) -> tuple[ExitReason, ...]:
        """Each reason shares were sold for, in the order they first were."""
        seen: dict[ExitReason, None] = {}
        for e in self.exits:
            if e.reason is not None:
                seen.setdefault(e.reason)
        return tuple(seen)

    @property
    def exit_reason(self) -> str:
        """The reasons as the report prints them ("target, stop"), "open" before any exit."""
        return ", ".join(self.exit_reasons) if self.exits else "open"

    @property
    def pnl(self) -> Decimal:
        """Realised on the shares sold so far."""
        entry = self.entry_price
        return sum(((e.price - entry) * e.qty for e in self.exits), Decimal(0))

    @property
    def risk_per_share(self) -> Decimal | None:
        """Planned entry less the bracket's stop; None without a stop, or when it is not below
        the entry (no risk to divide by)."""
        if self.stop is None:
            return None
        entry = self.planned_entry if self.planned_entry is not None else self.entry_price
        risk = entry - self.stop
        return risk if risk > 0 else None

    @property
    def r_multiple(self) -> Decimal | None:
        """P&L per share sold over the planned risk per share; None without risk or exits."""
        risk = self.risk_per_share
        if risk is None or not self.exits:
            return None
        return self.pnl / self.exited_qty / risk


@dataclass(frozen=True, slots=True)
class DayTrades:
    """The day's trades in entry order, and the sell fills no trade of the day explains."""

    trades: tuple[Trade, ...]
    unmatched: tuple[Fill, ...] = ()


def pair_trades(
    fills: Iterable[Fill],
    orders: Mapping[str, OrderRecord],
    purposes: Mapping[str, ClosePurpose],
) -> DayTrades:
    """Pair the day's fills (oldest first) into trades; see the module's docstring."""
    book = _Book(orders)
    unmatched: list[Fill] = []
    for fill in fills:
        order = orders.get(fill.client_order_id)
        if fill.side is Side.BUY:
            book.buy(fill, order)
            continue
        reason = exit_reason(order, purposes)
        left = book.sell(fill, order, reason)
        if left:
            unmatched.append(replace(fill, qty=left))
    return DayTrades(tuple(book.trades()), tuple(unmatched))


def exit_reason(order: OrderRecord | None, purposes: Mapping[str, ClosePurpose]) -> ExitReason:
    """Why the shares `order` sold were sold (None: an order the journal does not know)."""
    if order is None or order.source == OrderSource.EXTERNAL:
        return ExitReason.EXTERNAL
    if order.role is LegRole.STOP_LOSS:
        return ExitReason.STOP
    if order.role is LegRole.TAKE_PROFIT:
        return ExitReason.TARGET
    purpose = purposes.get(order.client_order_id)
    return _BY_PURPOSE[purpose] if purpose is not None else ExitReason.CLOSED


class _Book:
    """Open trades per symbol while the fills are walked."""

    def __init__(self, orders: Mapping[str, OrderRecord]) -> None:
        self._orders = orders
        self._trades: dict[str, Trade] = {}  # by entry id, in the order they opened
        self._open: dict[str, list[str]] = {}  # symbol -> entry ids with shares held, oldest first

    def trades(self) -> list[Trade]:
        return sorted(self._trades.values(), key=lambda t: t.entered_at)

    def buy(self, fill: Fill, order: OrderRecord | None) -> None:
        key = fill.client_order_id
        bought = Execution(fill.timestamp, fill.qty, fill.price)
        trade = self._trades.get(key)
        if trade is None:
            trade = self._new_trade(fill, order, bought)
            self._open.setdefault(fill.symbol, []).append(key)
        else:
            trade = replace(trade, entries=(*trade.entries, bought))
            if key not in self._open.get(fill.symbol, []):
                self._open.setdefault(fill.symbol, []).append(key)
        self._trades[key] = trade

    def sell(self, fill: Fill, order: OrderRecord | None, reason: ExitReason) -> int:
        """Close `fill.qty` shares; returns those no open trade held."""
        held = self._open.get(fill.symbol, [])
        parent = order.parent_client_order_id if order is not None else None
        ordered = sorted(held, key=lambda key: key != parent)  # its own bracket's entry first
        left = fill.qty
        for key in ordered:
            if left == 0:
                break
            trade = self._trades[key]
            closing = min(left, trade.open_qty)
            sold = Execution(fill.timestamp, closing, fill.price, reason)
            trade = replace(trade, exits=(*trade.exits, sold))
            self._trades[key] = trade
            left -= closing
            if not trade.is_open:
                held.remove(key)
        return left

    def _new_trade(self, fill: Fill, order: OrderRecord | None, bought: Execution) -> Trade:
        ours = (
            order is not None
            and order.source == OrderSource.CATALYST
            and order.role is LegRole.ENTRY
        )
        if order is None or not ours:
            return Trade(fill.symbol, fill.client_order_id, OrderSource.EXTERNAL, (bought,))
        legs = [
            o for o in self._orders.values() if o.parent_client_order_id == order.client_order_id
        ]
        stop = order.stop_loss_price or _leg_price(legs, LegRole.STOP_LOSS)
        target = order.take_profit_price or _leg_price(legs, LegRole.TAKE_PROFIT)
        return Trade(
            fill.symbol,
            order.client_order_id,
            OrderSource.CATALYST,
            (bought,),
            planned_entry=order.limit_price,
            stop=stop,
            target=target,
        )


def _leg_price(legs: Sequence[OrderRecord], role: LegRole) -> Decimal | None:
    for leg in legs:
        if leg.role is role:
            return leg.stop_price if role is LegRole.STOP_LOSS else leg.limit_price
    return None


def _average(executions: Sequence[Execution]) -> Decimal:
    shares = sum(e.qty for e in executions)
    return sum((e.price * e.qty for e in executions), Decimal(0)) / shares
