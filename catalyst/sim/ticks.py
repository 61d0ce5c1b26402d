"""Price ticks: the increments US equities may be quoted and ordered in.

Reg NMS rule 612 (and so Alpaca): prices at or above $1.00 use whole cents, prices below $1.00 use
$0.0001. An order price off that grid is rejected with Alpaca's "sub-penny increment" message.
These helpers are shared by the exchange simulator and the pipeline (which rounds the stop and
target prices it computes).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt

CENT = Decimal("0.01")
SUB_PENNY_TICK = Decimal("0.0001")
_ONE_DOLLAR = Decimal(1)
_ROUNDING = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}

Direction = Literal["nearest", "down", "up"]


def tick_size(price: Decimal) -> Decimal:
    """The minimum increment for an order at `price`: $0.01 from $1.00 up, else $0.0001."""
    return CENT if price >= _ONE_DOLLAR else SUB_PENNY_TICK


def is_on_tick(price: Decimal) -> bool:
    """Whether `price` is a whole number of ticks (trailing zeros are fine: 1.50 == 1.5000)."""
    return price == price.quantize(tick_size(price), rounding=ROUND_HALF_UP)


def round_to_tick(price: Decimal, direction: Direction = "nearest") -> Decimal:
    """Round `price` onto the tick grid; `down`/`up` never round in the other direction."""
    rounding = _ROUNDING[direction]
    rounded = price.quantize(tick_size(price), rounding=rounding)
    # Rounding 0.99996 up lands on 1.0000, which must be expressed on the cent grid.
    return rounded.quantize(tick_size(rounded), rounding=rounding)


def sub_penny_reason(field: str, price: Decimal) -> str | None:
    """Alpaca's rejection message when `price` is off the tick grid, else None."""
    if is_on_tick(price):
        return None
    return f"invalid {field} {price}. sub-penny increment does not fulfill minimum pricing criteria"


def price_from_float(value: float) -> Decimal:
    """A float already on the tick grid (see `round_array_to_ticks`) as an exact Decimal."""
    return Decimal(f"{value:.2f}") if value >= 1.0 else Decimal(f"{value:.4f}")


def round_array_to_ticks(prices: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Round float prices to the nearest tick, elementwise.

    Monotone (a <= b implies round(a) <= round(b)), so OHLC orderings survive rounding.
    """
    return np.where(prices >= 1.0, np.round(prices, 2), np.round(prices, 4))
