"""What protects each open position: its working stop and target, from the journal's orders.

Pure: the journal's rows go in, one `PositionLine` per position comes out. A stop counts when a
journaled sell stop (buy stop for a short) for the symbol is working at the broker as far as the
journal knows: a bracket's stop leg (a held leg counts, as at the broker) or a protective stop the
reconciler placed. An intent not yet confirmed does not protect anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from catalyst.domain.models import LegRole, OrderStatus, OrderType, Side
from catalyst.store.records import OrderRecord, OrderSource, PositionRecord

_STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
_WORKING = frozenset(
    {OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.HELD, OrderStatus.PARTIALLY_FILLED}
)


class Protection(StrEnum):
    """How much of a position its working stops cover."""

    PROTECTED = "protected"
    PARTIAL = "partial"  # some shares have no stop behind them
    NONE = "none"  # no working stop at all: a safety problem


@dataclass(frozen=True, slots=True)
class PositionLine:
    """One open position as `catalyst status` shows it."""

    symbol: str
    qty: int  # negative for a short
    avg_entry_price: Decimal
    current_price: Decimal
    price_at: datetime  # when the daemon last marked it (the mirror's updated_at)
    source: OrderSource
    opened_at: datetime | None  # the fill that took it away from zero, else when first mirrored
    opened_by_fill: bool  # False: `opened_at` is only when the mirror first saw it
    stop_price: Decimal | None  # the nearest working stop, None when there is none
    stop_qty: int  # shares covered by working stops
    target_price: Decimal | None  # the working take-profit, if any
    entry_client_order_id: str | None  # the entry whose bracket this is, if the journal has it
    stop_note: str | None  # why there is no working stop, as far as the journal tells

    @property
    def unrealised_pnl(self) -> Decimal:
        return (self.current_price - self.avg_entry_price) * self.qty

    @property
    def protection(self) -> Protection:
        if self.stop_qty <= 0:
            return Protection.NONE
        return Protection.PROTECTED if self.stop_qty >= abs(self.qty) else Protection.PARTIAL

    def age(self, now: datetime) -> timedelta | None:
        return None if self.opened_at is None else now - self.opened_at


def is_working(order: OrderRecord) -> bool:
    """True when the journal last saw `order` open at the broker."""
    return order.status in _WORKING


def position_lines(
    positions: Sequence[PositionRecord],
    open_orders: Sequence[OrderRecord],
    entries: Mapping[str, OrderRecord],
    legs: Mapping[str, Sequence[OrderRecord]],
    opened_by_fills: Mapping[str, datetime],
) -> tuple[PositionLine, ...]:
    """One line per position, by symbol. `entries` maps a symbol to its latest filled entry,
    `legs` an entry's client_order_id to its journaled legs, `opened_by_fills` a symbol to the
    fill that opened it (`position_opened_at`)."""
    return tuple(
        _line(position, open_orders, entries.get(position.symbol), legs, opened_by_fills)
        for position in sorted(positions, key=lambda p: p.symbol)
    )


def _line(
    position: PositionRecord,
    open_orders: Sequence[OrderRecord],
    entry: OrderRecord | None,
    legs: Mapping[str, Sequence[OrderRecord]],
    opened_by_fills: Mapping[str, datetime],
) -> PositionLine:
    closing = Side.SELL if position.qty > 0 else Side.BUY
    mine = [o for o in open_orders if o.symbol == position.symbol and o.side is closing]
    stops = [o for o in mine if is_working(o) and o.order_type in _STOP_TYPES]
    targets = [o for o in mine if is_working(o) and o.role is LegRole.TAKE_PROFIT]
    entry_legs = legs.get(entry.client_order_id, ()) if entry is not None else ()
    opened = opened_by_fills.get(position.symbol)
    return PositionLine(
        symbol=position.symbol,
        qty=position.qty,
        avg_entry_price=position.avg_entry_price,
        current_price=position.current_price,
        price_at=position.updated_at,
        source=position.source,
        opened_at=opened if opened is not None else position.opened_at,
        opened_by_fill=opened is not None,
        stop_price=_nearest(stops, closing),
        stop_qty=sum(o.qty - o.filled_qty for o in stops),
        target_price=_first_price(targets),
        entry_client_order_id=entry.client_order_id if entry is not None else None,
        stop_note=None if stops else _why_unprotected(entry, entry_legs),
    )


def _nearest(stops: Iterable[OrderRecord], closing: Side) -> Decimal | None:
    # The stop that triggers first: the highest for a long, the lowest for a short.
    prices = [o.stop_price for o in stops if o.stop_price is not None]
    if not prices:
        return None
    return max(prices) if closing is Side.SELL else min(prices)


def _first_price(orders: Iterable[OrderRecord]) -> Decimal | None:
    return next((o.limit_price for o in orders if o.limit_price is not None), None)


def _why_unprotected(entry: OrderRecord | None, entry_legs: Sequence[OrderRecord]) -> str:
    if entry is None:
        return "no entry of Catalyst's in the journal (opened elsewhere?)"
    stop_legs = [leg for leg in entry_legs if leg.role is LegRole.STOP_LOSS]
    if not stop_legs:
        return f"entry {entry.client_order_id} has no stop leg in the journal"
    return "; ".join(f"stop leg {leg.client_order_id} is {leg.status}" for leg in stop_legs)
