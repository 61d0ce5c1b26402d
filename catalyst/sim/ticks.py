"""Price ticks: the increments US equities may be quoted and ordered in.

Reg NMS rule 612 (and so Alpaca): prices at or above $1.00 use whole cents, prices below $1.00 use
$0.0001. An order price off that grid is rejected with Alpaca's "sub-penny increment" message.
The grid itself is `catalyst.domain.ticks.tick_size`; these are the simulator's own uses of it
(nearest rounding, Alpaca's rejection message, vectorised rounding of generated prices).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt

from catalyst.domain.ticks import is_valid_tick, tick_size

_ROUNDING = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}

Direction = Literal["nearest", "down", "up"]


def round_to_tick(price: Decimal, direction: Direction = "nearest") -> Decimal:
    """Round `price` onto the tick grid; `down`/`up` never round in the other direction."""
    rounding = _ROUNDING[direction]
    rounded = price.quantize(tick_size(price), rounding=rounding)
    # Rounding 0.99996 up lands on 1.0000, which must be expressed on the cent grid.
    return rounded.quantize(tick_size(rounded), rounding=rounding)


def sub_penny_reason(field: str, price: Decimal) -> str | None:
    """Alpaca's rejection message when `price` is off the tick grid, else None.

    Callers reject a price that is not positive first, with a message of its own.
    """
    if is_valid_tick(price):
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
