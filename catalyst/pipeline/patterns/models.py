"""What the pattern detectors take (context, parameters) and what they return (a match).

Every threshold a detector applies is a field of `PatternParams` with its default here, so the
configuration can set each one and a trader can read them all in one place. The rules that use
them are documented in each detector's module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


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


@dataclass(frozen=True, slots=True)
class PatternParams:
    """Every threshold of the five detectors, with the default the configuration starts from.

    Bar counts for the bull flag and higher lows are counted in their own bar size
    (`flag_bar_minutes`, `higher_lows_bar_minutes`); the others in 1-minute bars.
    """

    # Opening-range breakout (1-minute bars).
    opening_range_minutes: int = 15  # the range is the first 15 minutes of the regular session
    opening_range_min_bars: int = 3  # fewer bars than this (a halt, no trades) is no range
    # The breakout bar's volume over the average bar before it: the ORB compares with the
    # opening range's bars, the previous-day-high breakout with all of today's earlier bars.
    breakout_volume_multiple: float = 1.5

    # Bull flag (5-minute bars).
    flag_bar_minutes: int = 5
    flag_pole_min_pct: float = 3.0  # the pole rises at least 3 % from its base to its top
    flag_pole_max_bars: int = 6  # the pole's base is looked for at most 6 bars before its top
    flag_max_retrace: float = 0.5  # the flag gives back at most half the pole
    flag_min_bars: int = 2  # a flag lasts 2 to 8 bars after the pole's top
    flag_max_bars: int = 8

    # Breakout above the previous day's high (1-minute bars, pre-market included).
    pdh_min_bars_above: int = 2  # closes above the level in a row: one print is not a hold
    pdh_max_extension_pct: float = 3.0  # further above the level than 3 % is a run, not a break

    # VWAP reclaim (1-minute bars, regular session).
    vwap_reclaim_lookback: int = 15  # the loss of VWAP happened within the last 15 bars
    vwap_reclaim_hold_bars: int = 2  # and the last 2 bars closed back above it
    vwap_min_session_bars: int = 5  # VWAP over fewer regular-session bars is not a level yet
    vwap_full_extension_pct: float = 2.0  # strength falls to its floor 2 % above VWAP

    # Higher lows (5-minute bars, regular session).
    higher_lows_bar_minutes: int = 5
    higher_lows_swing_count: int = 3  # the last 3 swing lows each above the one before
    higher_lows_swing_window: int = 1  # a swing low is below this many bars either side
    higher_lows_min_rise_pct: float = 0.1  # each swing low at least 0.1 % above the previous
    higher_lows_full_rise_pct: float = 1.0  # an average rise of 1 % per swing is full strength

    def __post_init__(self) -> None:
        positive_ints = {
            "opening_range_minutes": self.opening_range_minutes,
            "opening_range_min_bars": self.opening_range_min_bars,
            "flag_bar_minutes": self.flag_bar_minutes,
            "flag_pole_max_bars": self.flag_pole_max_bars,
            "flag_min_bars": self.flag_min_bars,
            "pdh_min_bars_above": self.pdh_min_bars_above,
            "vwap_reclaim_hold_bars": self.vwap_reclaim_hold_bars,
            "vwap_min_session_bars": self.vwap_min_session_bars,
            "higher_lows_bar_minutes": self.higher_lows_bar_minutes,
            "higher_lows_swing_window": self.higher_lows_swing_window,
        }
        for name, value in positive_ints.items():
            if value < 1:
                raise ValueError(f"PatternParams.{name} must be at least 1, got {value}")
        positive_floats = {
            "breakout_volume_multiple": self.breakout_volume_multiple,
            "flag_pole_min_pct": self.flag_pole_min_pct,
            "pdh_max_extension_pct": self.pdh_max_extension_pct,
            "vwap_full_extension_pct": self.vwap_full_extension_pct,
            "higher_lows_full_rise_pct": self.higher_lows_full_rise_pct,
        }
        for name, number in positive_floats.items():
            if not math.isfinite(number) or number <= 0:
                raise ValueError(f"PatternParams.{name} must be above 0, got {number}")
        if not 0 < self.flag_max_retrace <= 1:
            raise ValueError(
                f"PatternParams.flag_max_retrace must be in (0, 1], got {self.flag_max_retrace}"
            )
        if self.flag_max_bars < self.flag_min_bars:
            raise ValueError("PatternParams.flag_max_bars must be at least flag_min_bars")
        if self.vwap_reclaim_lookback <= self.vwap_reclaim_hold_bars:
            raise ValueError(
                "PatternParams.vwap_reclaim_lookback must exceed vwap_reclaim_hold_bars"
            )
        if self.higher_lows_swing_count < 2:
            raise ValueError("PatternParams.higher_lows_swing_count must be at least 2")
        if not math.isfinite(self.higher_lows_min_rise_pct) or self.higher_lows_min_rise_pct < 0:
            raise ValueError("PatternParams.higher_lows_min_rise_pct must be 0 or more")
