"""Realised P&L from a day's fills, by average cost per symbol (long and short alike)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from catalyst.domain.models import Fill, Side


def realised_pnl(fills: Iterable[Fill]) -> Decimal:
    """Profit locked in by fills that reduced a position, oldest fill first.

    Each symbol carries a signed quantity and an average cost; a fill that grows the position moves
    the average, a fill that shrinks it realises (price - average) per share in the position's
    direction. Fills must be in time order.
    """
    qty: dict[str, int] = {}
    avg: dict[str, Decimal] = {}
    realised = Decimal(0)
    for fill in fills:
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        held = qty.get(fill.symbol, 0)
        cost = avg.get(fill.symbol, Decimal(0))
        if held == 0 or (held > 0) == (signed > 0):
            total = held + signed
            avg[fill.symbol] = (cost * abs(held) + fill.price * abs(signed)) / abs(total)
            qty[fill.symbol] = total
            continue
        closing = min(abs(signed), abs(held))
        direction = 1 if held > 0 else -1
        realised += (fill.price - cost) * closing * direction
        remainder = held + signed
        qty[fill.symbol] = remainder
        if remainder == 0:
            avg.pop(fill.symbol, None)
        elif (remainder > 0) != (held > 0):
            avg[fill.symbol] = fill.price  # flipped through zero: the rest opens at this price
    return realised
