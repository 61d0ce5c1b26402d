"""What the pattern detectors take (context, parameters) and what they return (a match).

Every threshold a detector applies is a field of `PatternParams` (the `strategy.patterns`
section of the configuration, `catalyst.config.strategy`), so a trader can read and set each
one. The rules that use them are documented in each detector's module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from catalyst.config.strategy import PatternParams

__all__ = ["PatternContext", "PatternKind", "PatternMatch", "PatternParams"]


class PatternKind(Enum):
    """The chart patterns the stage looks for, in the order `detect_patterns` returns them.

    The order also breaks ties in `best_match`: an earlier kind wins an equal strength.
    """

    OPENING_RANGE_BREAKOUT = "opening_range_breakout"
    BULL_FLAG = "bull_flag"
    PREVIOUS_DAY_HIGH_BREAKOUT = "previous_day_high_breakout"
    VWAP_RECLAIM = "vwap_reclaim"
    HIGHER_LOWS = "higher_lows"


@dataclass(frozen=True, slots=True)
class PatternMatch:
    """One detector's verdict on one symbol's bars.

    - `strength` is in [0, 1] and finite; exactly 0 when not matched, above 0 when matched.
    - `invalidation` is the price below which the setup is broken (the level a stop belongs
      under); set exactly when matched, and then below the last close.
    - `reason` is one short line a person can check against the chart.
    """

    kind: PatternKind
    matched: bool
    strength: float
    invalidation: float | None
    reason: str

    def __post_init__(self) -> None:
        if not math.isfinite(self.strength) or not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"{self.kind.value}: strength {self.strength} is not in [0, 1]")
        if self.matched:
            if self.strength == 0.0:
                raise ValueError(f"{self.kind.value}: a match needs a strength above 0")
            if self.invalidation is None or not math.isfinite(self.invalidation):
                raise ValueError(f"{self.kind.value}: a match needs a finite invalidation price")
        elif self.strength != 0.0 or self.invalidation is not None:
            raise ValueError(f"{self.kind.value}: no match carries no strength or invalidation")

    @classmethod
    def no_match(cls, kind: PatternKind, reason: str) -> PatternMatch:
        """The verdict when the pattern is not there, with why."""
        return cls(kind=kind, matched=False, strength=0.0, invalidation=None, reason=reason)


@dataclass(frozen=True, slots=True)
class PatternContext:
    """What the detectors need about the symbol's day that the bars do not carry.

    - `session_open`: the regular session's open (aware); bars before it are pre-market.
    - `previous_day_high`: the prior session's high; None when unknown (no breakout is seen).
    - `previous_close`: the prior session's close, for the stages that weigh a gap; no detector
      reads it today.
    """

    session_open: datetime
    previous_day_high: float | None = None
    previous_close: float | None = None

    def __post_init__(self) -> None:
        if self.session_open.tzinfo is None or self.session_open.utcoffset() is None:
            raise ValueError("PatternContext.session_open must be timezone-aware")
