"""Higher lows, on 5-minute bars (`higher_lows_bar_minutes`) of the regular session: each
pullback stops above the one before, buyers stepping in ever higher. Read on 5-minute bars
because 1-minute swing lows are mostly noise.

Rule, with `w = higher_lows_swing_window` and `c = higher_lows_swing_count`:

1. A swing low is a bar whose low is strictly below the lows of the w bars before it and not
   above those of the w bars after it: of a flat bottom (equal lows) its first bar counts, so a
   double bottom is a swing low too. The last w bars cannot be swing lows yet: nothing has
   confirmed them.
2. The last c swing lows rise: each at least `higher_lows_min_rise_pct` % above the one before.
3. No bar since the last swing low L traded below it, and the last close is above L.

Invalidation: L, the last higher low.
Strength: 0.5 + 0.25 * clip((r - c) / c) + 0.25 * clip(average rise / full rise), where r is
how many swing lows in a row rise (r >= c), the average rise is the mean % step between the
last c swing lows and full rise is `higher_lows_full_rise_pct`: a long, steep staircase scores
highest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from catalyst.pipeline.patterns.frames import (
    DayBars,
    matched_strength,
    price,
    trailing_run,
    unit,
)
from catalyst.pipeline.patterns.models import (
    PatternContext,
    PatternKind,
    PatternMatch,
    PatternParams,
)

KIND = PatternKind.HIGHER_LOWS


def detect_higher_lows(
    bars: pd.DataFrame, context: PatternContext, params: PatternParams
) -> PatternMatch:
    """Today's 1-minute `bars`, as 5-minute bars, against the higher-lows rule (module doc)."""
    return match_higher_lows(DayBars.of(bars, context.session_open), context, params)


def match_higher_lows(day: DayBars, context: PatternContext, params: PatternParams) -> PatternMatch:
    """`detect_higher_lows` on bars already prepared (what `detect_patterns` calls)."""
    size = params.higher_lows_bar_minutes
    session = day.regular_resampled(size)
    lows = session["low"].to_numpy()
    swings = swing_lows(lows, params.higher_lows_swing_window)
    needed = params.higher_lows_swing_count
    if len(swings) < needed:
        return PatternMatch.no_match(
            KIND, f"only {len(swings)} swing lows on {size}-min bars (need {needed})"
        )
    levels = lows[swings]
    rises = levels[1:] > levels[:-1] * (1 + params.higher_lows_min_rise_pct / 100)
    # A run of r rising steps joins r + 1 swing lows.
    in_a_row = trailing_run(rises) + 1
    if in_a_row < needed:
        return PatternMatch.no_match(
            KIND,
            f"the last {needed} swing lows do not each rise "
            f"{params.higher_lows_min_rise_pct:.1f}%: "
            + ", ".join(price(float(level)) for level in levels[-needed:]),
        )
    last_swing = int(swings[-1])
    last_low = float(lows[last_swing])
    last_close = float(session["close"].iloc[-1])
    since_low = float(lows[last_swing + 1 :].min())
    if since_low < last_low or last_close <= last_low:
        return PatternMatch.no_match(KIND, f"broke below the last higher low {price(last_low)}")
    recent = levels[-needed:]
    average_rise_pct = float(np.mean((recent[1:] - recent[:-1]) / recent[:-1] * 100))
    length = unit((in_a_row - needed) / needed)
    steepness = unit(average_rise_pct / params.higher_lows_full_rise_pct)
    return PatternMatch(
        kind=KIND,
        matched=True,
        strength=matched_strength(0.5 * length + 0.5 * steepness),
        invalidation=last_low,
        reason=f"{in_a_row} higher lows on {size}-min bars, the last {price(last_low)} "
        f"({average_rise_pct:.1f}% a step)",
    )


def swing_lows(lows: np.ndarray, window: int) -> np.ndarray:
    """Positions of the bars whose low is below the `window` lows before it and not above the
    `window` lows after it (rule 1 of the module doc)."""
    count = len(lows)
    if count < 2 * window + 1:
        return np.array([], dtype=int)
    centre = lows[window : count - window]
    is_swing = np.ones(len(centre), dtype=bool)
    for shift in range(1, window + 1):
        is_swing &= centre < lows[window - shift : count - window - shift]
        is_swing &= centre <= lows[window + shift : count - window + shift]
    return np.flatnonzero(is_swing) + window
