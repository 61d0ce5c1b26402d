"""The protective stop a candidate is proposed with: an ATR multiple or the pattern's invalidation.

    atr stop          = entry - atr_multiple x daily ATR(14)
    invalidation stop = the pattern's invalidation price x (1 - invalidation_buffer_pct)
    valid             = min_stop_pct x entry <= entry - stop <= max_stop_pct x entry

The tighter (higher) of the valid ones is proposed; with neither valid (no ATR history, no
matched pattern, or both too close to or too far from the entry) the stop is the plain
`max_stop_pct` below the entry (`workflow.stop_loss_pct`). Too close means noise would take the
trade out (a 1-minute range is not a stop); too far means the position could lose more per share
than the strategy allows. The daily ATR is used because intraday ATRs of the first minutes are
tiny and erratic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from catalyst.config.strategy import StopSettings
from catalyst.domain.ticks import round_down_to_tick


@dataclass(frozen=True, slots=True)
class StopParams:
    """The stop proposal's knobs (module doc): `strategy.stops`, and the widest stop allowed."""

    atr_multiple: float
    min_stop_pct: float
    max_stop_pct: float
    invalidation_buffer_pct: float

    def __post_init__(self) -> None:
        if not (self.atr_multiple > 0 and math.isfinite(self.atr_multiple)):
            raise ValueError("stop atr_multiple must be a positive number")
        if not 0 <= self.min_stop_pct < self.max_stop_pct < 0.5:
            raise ValueError("stops need 0 <= min_stop_pct < max_stop_pct < 0.5")
        if not 0 <= self.invalidation_buffer_pct < 0.1:
            raise ValueError("stop invalidation_buffer_pct must be in [0, 0.1)")

    @classmethod
    def of(cls, settings: StopSettings, *, max_stop_pct: float) -> StopParams:
        """The knobs from the configuration; `max_stop_pct` is `workflow.stop_loss_pct`. A
        `min_stop_pct` at or above it is halved below it, so a valid stop can exist."""
        return cls(
            atr_multiple=settings.atr_multiple,
            min_stop_pct=min(settings.min_stop_pct, max_stop_pct / 2),
            max_stop_pct=max_stop_pct,
            invalidation_buffer_pct=settings.invalidation_buffer_pct,
        )


@dataclass(frozen=True, slots=True)
class ProposedStop:
    """A stop price on a valid tick below the entry, and where it came from (for the reasons)."""

    price: Decimal
    basis: str  # "atr", "pattern" or "percent"
    reason: str


def propose_stop(
    entry: Decimal,
    *,
    daily_atr: float | None,
    invalidation: float | None,
    params: StopParams,
) -> ProposedStop:
    """The stop for a long entry at `entry` (module doc). `entry` must be a positive Decimal."""
    if not (entry.is_finite() and entry > 0):
        raise ValueError(f"propose_stop needs a positive entry, got {entry}")
    options: list[ProposedStop] = []
    if daily_atr is not None and math.isfinite(daily_atr) and daily_atr > 0:
        price = _ticked(float(entry) - params.atr_multiple * daily_atr)
        if price is not None:
            reason = f"stop {price}: {params.atr_multiple:g} x daily ATR {daily_atr:.2f}"
            options.append(ProposedStop(price, "atr", reason))
    if invalidation is not None and math.isfinite(invalidation) and invalidation > 0:
        price = _ticked(invalidation * (1 - params.invalidation_buffer_pct))
        if price is not None:
            reason = f"stop {price}: just below the pattern's invalidation {invalidation:.2f}"
            options.append(ProposedStop(price, "pattern", reason))
    valid = [o for o in options if _within(entry, o.price, params)]
    if valid:
        return max(valid, key=lambda o: (o.price, o.basis))
    fallback = round_down_to_tick(entry * (1 - Decimal(str(params.max_stop_pct))))
    return ProposedStop(
        fallback, "percent", f"stop {fallback}: {params.max_stop_pct:.1%} below the entry"
    )


def _within(entry: Decimal, stop: Decimal, params: StopParams) -> bool:
    distance = (entry - stop) / entry
    return Decimal(str(params.min_stop_pct)) <= distance <= Decimal(str(params.max_stop_pct))


def _ticked(price: float) -> Decimal | None:
    if not (math.isfinite(price) and price > 0):
        return None
    try:
        ticked = round_down_to_tick(Decimal(repr(price)))
    except ArithmeticError:
        return None
    return ticked if ticked > 0 else None
