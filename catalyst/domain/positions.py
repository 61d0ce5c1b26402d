"""Facts about positions that follow from fills alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from catalyst.domain.models import Fill, Side


def position_opened_at(fills: Iterable[Fill]) -> dict[str, datetime]:
    """When each currently open position was opened: the fill that took it away from zero.

    Fills must be in time order. Symbols that are flat after the last fill are left out.
    """
    qty: dict[str, int] = {}
    opened: dict[str, datetime] = {}
    for fill in fills:
        held = qty.get(fill.symbol, 0)
        after = held + (fill.qty if fill.side is Side.BUY else -fill.qty)
        qty[fill.symbol] = after
        if after == 0:
            opened.pop(fill.symbol, None)
        elif held == 0 or (held > 0) != (after > 0):
            opened[fill.symbol] = fill.timestamp
    return opened
