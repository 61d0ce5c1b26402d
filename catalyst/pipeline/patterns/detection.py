"""All five detectors over one symbol's bars, and the strongest of their matches."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from catalyst.pipeline.patterns.bull_flag import detect_bull_flag, match_bull_flag
from catalyst.pipeline.patterns.frames import DayBars
from catalyst.pipeline.patterns.higher_lows import detect_higher_lows, match_higher_lows
from catalyst.pipeline.patterns.models import (
    PatternContext,
    PatternKind,
    PatternMatch,
    PatternParams,
)
from catalyst.pipeline.patterns.opening_range import (
    detect_opening_range_breakout,
    match_opening_range_breakout,
)
from catalyst.pipeline.patterns.previous_day_high import (
    detect_previous_day_high_breakout,
    match_previous_day_high_breakout,
)
from catalyst.pipeline.patterns.vwap_reclaim import detect_vwap_reclaim, match_vwap_reclaim

Detector = Callable[[pd.DataFrame, PatternContext, PatternParams], PatternMatch]

# The public detectors, in PatternKind's order (the order of detect_patterns' result).
DETECTORS: dict[PatternKind, Detector] = {
    PatternKind.OPENING_RANGE_BREAKOUT: detect_opening_range_breakout,
    PatternKind.BULL_FLAG: detect_bull_flag,
    PatternKind.PREVIOUS_DAY_HIGH_BREAKOUT: detect_previous_day_high_breakout,
    PatternKind.VWAP_RECLAIM: detect_vwap_reclaim,
    PatternKind.HIGHER_LOWS: detect_higher_lows,
}

# The same rules over bars prepared once, which is what detect_patterns runs.
_MATCHERS: dict[PatternKind, Callable[[DayBars, PatternContext, PatternParams], PatternMatch]] = {
    PatternKind.OPENING_RANGE_BREAKOUT: match_opening_range_breakout,
    PatternKind.BULL_FLAG: match_bull_flag,
    PatternKind.PREVIOUS_DAY_HIGH_BREAKOUT: match_previous_day_high_breakout,
    PatternKind.VWAP_RECLAIM: match_vwap_reclaim,
    PatternKind.HIGHER_LOWS: match_higher_lows,
}

_KIND_ORDER = {kind: position for position, kind in enumerate(PatternKind)}


def detect_patterns(
    bars: pd.DataFrame, context: PatternContext, params: PatternParams
) -> tuple[PatternMatch, ...]:
    """Every detector's verdict on today's 1-minute `bars`, one per `PatternKind`, in its order.

    The same verdicts as calling each `detect_*` alone; the bars are cleaned, split at the open
    and resampled once for all five.
    """
    day = DayBars.of(bars, context.session_open)
    return tuple(_MATCHERS[kind](day, context, params) for kind in PatternKind)


def best_match(matches: Iterable[PatternMatch]) -> PatternMatch | None:
    """The strongest matched pattern (an equal strength goes to the earlier `PatternKind`), or
    None when nothing matched."""
    matched = [match for match in matches if match.matched]
    if not matched:
        return None
    return min(matched, key=lambda match: (-match.strength, _KIND_ORDER[match.kind]))
