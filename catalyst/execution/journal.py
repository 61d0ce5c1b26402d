"""One way to write down what the broker reports about an order: the order and its bracket legs."""

from __future__ import annotations

from datetime import datetime

from catalyst.domain.models import Order
from catalyst.store.repository import Store


async def journal_broker_order(store: Store, order: Order, *, at: datetime, detail: str) -> int:
    """Record the broker's view of a journaled order and of its legs (journaling new legs under
    it); returns how many rows changed. LookupError if the order itself is not journaled."""
    changed = int(await _update(store, order, at, detail))
    if order.legs:
        await store.record_legs(order.client_order_id, order.legs, at)
        for leg in order.legs:
            changed += int(await _update(store, leg, at, detail))
    return changed


async def _update(store: Store, order: Order, at: datetime, detail: str) -> bool:
    return await store.record_order_update(
        order.client_order_id,
        status=order.status.value,
        at=at,
        broker_order_id=order.id,
        filled_qty=order.filled_qty,
        filled_avg_price=order.filled_avg_price,
        detail=detail,
    )
