"""What the fake server remembers about orders beyond the exchange: the record behind events.

The exchange keeps order states but not their history. `OrderJournal` registers every order the
server places, collects fills from the exchange's fill listener, and on each `pump()` turns what
changed since the last pump into Alpaca `trade_updates` events (new, accepted, fill,
partial_fill, canceled, expired, rejected), in the order they happened. It also keeps the
per-fill records behind `/v2/account/activities/FILL` and the timestamps Alpaca reports
(updated_at, filled_at, canceled_at, ...).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from catalyst.domain.models import Fill, Order, OrderStatus, Side
from catalyst.fake_alpaca.payloads import OrderMeta, order_json
from catalyst.fake_alpaca.wire import money, rfc3339
from catalyst.sim.exchange import SimExchange

_AVG_PLACES = Decimal("0.0001")
_FINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED}
)
# Status changes that are events of their own (fills come from the fill listener instead).
_STATUS_EVENTS = {
    OrderStatus.NEW: "new",
    OrderStatus.ACCEPTED: "accepted",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "expired",
    OrderStatus.REJECTED: "rejected",
}


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One execution with the order's running totals right after it (an Alpaca FILL activity)."""

    seq: int
    fill: Fill
    cum_qty: int
    leaves_qty: int
    order_status: OrderStatus

    @property
    def activity_id(self) -> str:
        """Alpaca-style activity id: a sortable time prefix, then a unique suffix."""
        stamp = self.fill.timestamp.strftime("%Y%m%d%H%M%S%f")[:17]
        return f"{stamp}::{self.seq:012d}-{self.fill.order_id}"


class OrderJournal:
    """Order history and event source for one `SimExchange` (see the module docstring)."""

    def __init__(self, exchange: SimExchange) -> None:
        self._exchange = exchange
        self._ids: list[str] = []  # creation order; legs right after their parent
        self._parent: dict[str, str] = {}
        self._meta: dict[str, OrderMeta] = {}
        self._status: dict[str, OrderStatus | None] = {}
        self._cum: dict[str, tuple[int, Decimal]] = {}
        self._positions: dict[str, int] = {}
        self._records: list[FillRecord] = []
        self._pending: list[Fill] = list(exchange.fills)  # fills before the server existed
        exchange.add_fill_listener(self._pending.append)
        self.pump()

    @property
    def meta(self) -> dict[str, OrderMeta]:
        """Per-order facts for rendering (time_in_force, lifecycle timestamps)."""
        return self._meta

    @property
    def fill_records(self) -> list[FillRecord]:
        """Every fill processed so far, oldest first."""
        return self._records

    def register(self, order: Order, time_in_force: str) -> None:
        """Remember an order the server placed (and its legs); its events follow on `pump()`."""
        for member in (order, *order.legs):
            if member.id in self._meta:
                continue
            self._ids.append(member.id)
            self._meta[member.id] = OrderMeta(time_in_force=time_in_force)
            self._status[member.id] = None
            if member is not order:
                self._parent[member.id] = order.id

    def parent_of(self, order_id: str) -> str | None:
        """The bracket parent of a leg, or None."""
        return self._parent.get(order_id)

    def order_ids(self) -> list[str]:
        """Every known order id, in creation order."""
        return list(self._ids)

    def pump(self) -> list[dict[str, Any]]:
        """Bring the journal up to the exchange; the `trade_updates` events since the last pump."""
        self._exchange.sync()
        now = self._exchange.now
        events: list[dict[str, Any]] = []
        fills, self._pending[:] = list(self._pending), []
        for fill in fills:
            events.extend(self._on_fill(fill))
        for order_id in self._ids:
            previous = self._status[order_id]
            if previous in _FINAL:
                continue
            order = self._exchange.order(order_id)
            if order.status is previous:
                continue
            self._status[order_id] = order.status
            name = _STATUS_EVENTS.get(order.status)
            if name is None:  # held (no event) or a fill status (reported by _on_fill)
                continue
            self._stamp(order_id, order.status, now)
            events.append(self._event(name, order, now))
        return events

    def _on_fill(self, fill: Fill) -> list[dict[str, Any]]:
        if fill.order_id not in self._meta:  # placed on the exchange directly, not through us
            self.register(self._exchange.order(fill.order_id), "day")
        order = self._exchange.order(fill.order_id)
        qty_before, notional_before = self._cum.get(fill.order_id, (0, Decimal(0)))
        cum, notional = qty_before + fill.qty, notional_before + fill.price * fill.qty
        self._cum[fill.order_id] = (cum, notional)
        status = OrderStatus.FILLED if cum >= order.qty else OrderStatus.PARTIALLY_FILLED
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        position = self._positions.get(fill.symbol, 0) + signed
        self._positions[fill.symbol] = position
        self._records.append(
            FillRecord(len(self._records) + 1, fill, cum, max(order.qty - cum, 0), status)
        )
        events: list[dict[str, Any]] = []
        if self._status[fill.order_id] in (None, OrderStatus.ACCEPTED, OrderStatus.HELD):
            before = _as_of(order, OrderStatus.NEW, qty_before, notional_before)
            events.append(self._event("new", before, fill.timestamp))
        self._status[fill.order_id] = status
        self._stamp(fill.order_id, status, fill.timestamp)
        event = self._event(
            "fill" if status is OrderStatus.FILLED else "partial_fill",
            _as_of(order, status, cum, notional),
            fill.timestamp,
        )
        event.update(price=money(fill.price), qty=str(fill.qty), position_qty=str(position))
        events.append(event)
        return events

    def _stamp(self, order_id: str, status: OrderStatus, at: datetime) -> None:
        changes: dict[str, datetime] = {"updated_at": at}
        field = {
            OrderStatus.FILLED: "filled_at",
            OrderStatus.CANCELED: "canceled_at",
            OrderStatus.EXPIRED: "expired_at",
            OrderStatus.REJECTED: "failed_at",
        }.get(status)
        if field is not None:
            changes[field] = at
        self._meta[order_id] = dataclasses.replace(self._meta[order_id], **changes)  # type: ignore[arg-type]

    def _event(self, name: str, order: Order, at: datetime) -> dict[str, Any]:
        return {
            "event": name,
            "timestamp": rfc3339(at),
            "order": order_json(order, self._meta, nested=True),
        }


def _as_of(order: Order, status: OrderStatus, filled: int, notional: Decimal) -> Order:
    """`order` as it stood right after a given fill (the exchange may have moved on since)."""
    average = (notional / filled).quantize(_AVG_PLACES) if filled else None
    return dataclasses.replace(order, status=status, filled_qty=filled, filled_avg_price=average)
