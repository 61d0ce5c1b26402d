"""Price ticks for US equities: $0.01 at or above $1, $0.0001 below.

The one statement of the tick rule: the pipeline and the Alpaca adapter round order prices here
(the caller picks the conservative direction: stops down, targets up), and the exchange simulator
validates and rounds its prices on the same grid.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

PENNY = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
_ONE = Decimal(1)


def tick_size(price: Decimal) -> Decimal:
    """The minimum price increment at `price`: $0.01 at or above $1, $0.0001 below."""
    _require_finite(price)
    return PENNY if price >= _ONE else SUB_PENNY


def is_valid_tick(price: Decimal) -> bool:
    """True when `price` is finite, positive and a whole multiple of its tick (trailing zeros are
    fine: 1.50 and 1.5000 are both on the cent grid)."""
    if not price.is_finite() or price <= 0:
        return False
    try:
        return price % tick_size(price) == 0
    except ArithmeticError:  # beyond Decimal precision: not a price we would ever send
        return False


def round_down_to_tick(price: Decimal) -> Decimal:
    """The largest valid tick price at or below `price` (0 when nothing positive fits)."""
    _require_finite(price)
    rounded = price.quantize(tick_size(price), rounding=ROUND_FLOOR)
    return _normalise(rounded)


def round_up_to_tick(price: Decimal) -> Decimal:
    """The smallest valid tick price at or above `price`."""
    _require_finite(price)
    rounded = price.quantize(tick_size(price), rounding=ROUND_CEILING)
    return _normalise(rounded)


def _normalise(price: Decimal) -> Decimal:
    # Rounding 0.99995 up yields 1.0000: show it with the penny exponent of its new tick band.
    return price.quantize(tick_size(price)) if price > 0 else Decimal("0.0000")


def _require_finite(price: Decimal) -> None:
    if not isinstance(price, Decimal) or not price.is_finite():
        raise ValueError(f"price must be a finite Decimal, got {price!r}")
