"""One way to write down what the broker reports about an order: the order and its bracket legs."""

from __future__ import annotations

from datetime import datetime

from catalyst.domain.models import Order
from catalyst.store.repository import Store


async def journal_broker_order(store: Store, order: Order, *, at: datetime, detail: str) -> int:
    """Record the broker's view of a journaled order and of its legs (journaling new legs under
    it) in one transaction; returns how many rows changed. LookupError if the order itself is
    not journaled."""
    return await store.record_broker_view(order, at=at, detail=detail)
