"""The few number rules every stage shares: what counts as a usable price, and clipping.

Market data arrives as Decimals that may be NaN, infinite, zero or negative (and, through a bug
elsewhere, as floats or bools): a stage asks these functions rather than comparing by hand,
since a Decimal NaN raises on `<`.
"""

from __future__ import annotations

import math
from decimal import Decimal

FEATURE_CAP = 1e6  # keeps a stored feature finite when its baseline is absurdly small


def is_finite_price(value: object) -> bool:
    """A finite Decimal (or int; never a float or a bool)."""
    return (
        isinstance(value, Decimal | int)
        and not isinstance(value, bool)
        and Decimal(value).is_finite()
    )


def is_positive_price(value: object) -> bool:
    """A finite Decimal above 0."""
    return is_finite_price(value) and Decimal(value) > 0  # type: ignore[arg-type]


def clip01(value: float) -> float:
    """`value` within [0, 1]; NaN is 0."""
    if math.isnan(value):
        return 0.0
    return min(max(value, 0.0), 1.0)


def bounded(value: float) -> float:
    """`value` within +-FEATURE_CAP; NaN is 0."""
    if math.isnan(value):
        return 0.0
    return min(max(value, -FEATURE_CAP), FEATURE_CAP)


def pct_change(new: Decimal, base: Decimal) -> float:
    """(new - base) / base in percent, bounded; 0 when either price is unusable."""
    if not (is_positive_price(new) and is_positive_price(base)):
        return 0.0
    try:
        return bounded(float((new - base) / base * 100))
    except ArithmeticError:
        return 0.0
