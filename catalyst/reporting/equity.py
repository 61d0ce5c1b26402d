"""The intraday equity curve and its deepest fall: pure arithmetic over (time, equity) samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """The account's equity at one moment of the session."""

    at: datetime
    equity: Decimal


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The largest fall of equity from a peak to a later trough within the samples."""

    amount: Decimal  # >= 0, in the account's currency
    peak: EquityPoint
    trough: EquityPoint

    @property
    def fraction(self) -> Decimal:
        """`amount` as a share of the peak (0 for a peak of 0 or less)."""
        return self.amount / self.peak.equity if self.peak.equity > 0 else Decimal(0)


def max_drawdown(points: Sequence[EquityPoint]) -> Drawdown | None:
    """Peak to trough over `points` (in time order); None without a sample. A curve that never
    falls has a drawdown of 0 at its first point."""
    if not points:
        return None
    peak = points[0]
    best = Drawdown(Decimal(0), points[0], points[0])
    for point in points[1:]:
        if point.equity > peak.equity:
            peak = point
        elif peak.equity - point.equity > best.amount:
            best = Drawdown(peak.equity - point.equity, peak, point)
    return best
