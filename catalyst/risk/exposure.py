"""Open risk: what the positions already held would lose if every one of them stopped out now."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from catalyst.domain.models import Order, Position
from catalyst.domain.working_orders import STOP_TYPES, working_sells


def open_risk(
    positions: Sequence[Position], open_orders: Sequence[Order], unprotected_stop_pct: Decimal
) -> Decimal:
    """Σ over long positions of qty x (mark - stop), never below zero per share.

    Shares covered by working or held sell stops (bracket legs included) count at their stop
    price, lowest stop first; shares with no stop count as if stopped `unprotected_stop_pct`
    below the mark (the reconciler gives them a stop soon). Short positions are not taken by
    Catalyst and are left out.
    """
    stops: dict[str, list[tuple[Decimal, int]]] = {}
    for order in working_sells(open_orders, STOP_TYPES):
        if order.stop_price is not None:
            remaining = order.qty - order.filled_qty
            stops.setdefault(order.symbol, []).append((order.stop_price, remaining))
    total = Decimal(0)
    for position in positions:
        if position.qty <= 0:
            continue
        remaining = position.qty
        for stop, qty in sorted(stops.get(position.symbol, [])):
            covered = min(qty, remaining)
            total += covered * max(position.current_price - stop, Decimal(0))
            remaining -= covered
            if remaining == 0:
                break
        total += remaining * position.current_price * unprotected_stop_pct
    return total
