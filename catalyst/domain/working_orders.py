"""Which open orders protect or unwind a position: working sells, and the stop types."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from catalyst.domain.models import Order, OrderType, Side


def working_sells(open_orders: Sequence[Order], types: frozenset[OrderType]) -> Iterator[Order]:
    """Open sell orders of `types`, bracket legs included (a held stop leg counts)."""
    for order in open_orders:
        for each in (order, *order.legs):
            if each.side is Side.SELL and each.type in types and each.status.is_open:
                yield each


STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
