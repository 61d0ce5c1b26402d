"""The exchange simulator's mutable order records and their conversion to domain `Order`s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from catalyst.domain.models import LegRole, Order, OrderClass, OrderStatus, OrderType, Side

_AVG_PRICE_PLACES = Decimal("0.0001")


@dataclass(slots=True)
class SimOrder:
    """One order inside the simulator. Only the exchange mutates it; callers get `Order` copies."""

    seq: int  # creation order: the deterministic tie-break everywhere
    id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: int
    type: OrderType
    time_in_force: str
    order_class: OrderClass
    role: LegRole
    submitted_at: datetime
    status: OrderStatus
    session_day: date  # the session it may execute in (and, for `day` orders, expires after)
    eligible_from: datetime  # only bars starting at or after this instant may trigger it
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    reserve_price: Decimal = Decimal(0)  # per share held back from buying power (buys only)
    awaiting_open: bool = False  # a market order that fills at the next bar's open
    filled_qty: int = 0
    filled_notional: Decimal = Decimal(0)
    parent_id: str | None = None
    leg_ids: tuple[str, ...] = ()

    @property
    def remaining(self) -> int:
        """Shares not filled yet."""
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        """Whether the order can still fill or be canceled."""
        return self.status.is_open

    @property
    def is_working(self) -> bool:
        """Open and not held: it can fill now (or at the next open)."""
        return self.status.is_open and self.status is not OrderStatus.HELD

    def to_order(self, legs: tuple[Order, ...] = ()) -> Order:
        """An immutable domain snapshot of this order, with `legs` nested."""
        average = None
        if self.filled_qty:
            average = (self.filled_notional / self.filled_qty).quantize(_AVG_PRICE_PLACES)
        return Order(
            id=self.id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            qty=self.qty,
            filled_qty=self.filled_qty,
            type=self.type,
            status=self.status,
            order_class=self.order_class,
            submitted_at=self.submitted_at,
            filled_avg_price=average,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            role=self.role,
            legs=legs,
        )
