"""Breakout above the previous day's high, on 1-minute bars, pre-market bars included (so the
09:15 pre-market scan sees a break made before the open).

Rule, with P the previous session's high (`PatternContext.previous_day_high`) and
`k = breakout_volume_multiple`:

1. The run: the trailing bars that each closed above P; at least `pdh_min_bars_above` of them
   (one print above the line is not a hold).
2. The break happened today: some earlier bar of today closed at or below P. A day whose every
   bar is above P opened above it (a gap), which is not this pattern.
3. The breakout bar (the run's first) traded at least k times the average volume of today's
   bars before it.
4. The last close is at most `pdh_max_extension_pct` above P: further up it is a run, and P is
   too far below to be a useful stop.

Invalidation: P itself (a close back under yesterday's high fails the break).
Strength: 0.5 + 0.25 * clip((volume multiple - k) / k) + 0.25 * (1 - extension / max extension):
loud breaks that are still close to the level score highest.
"""

from __future__ import annotations

import math

import pandas as pd

from catalyst.pipeline.patterns.frames import (
    DayBars,
    matched_strength,
    price,
    ratio,
    trailing_run,
    unit,
)
from catalyst.pipeline.patterns.models import (
    PatternContext,
    PatternKind,
    PatternMatch,
    PatternParams,
)

KIND = PatternKind.PREVIOUS_DAY_HIGH_BREAKOUT


def detect_previous_day_high_breakout(
    bars: pd.DataFrame, context: PatternContext, params: PatternParams
) -> PatternMatch:
    """Today's 1-minute `bars` against the previous-day-high breakout rule (module doc)."""
    return match_previous_day_high_breakout(DayBars.of(bars, context.session_open), context, params)


def match_previous_day_high_breakout(
    day: DayBars, context: PatternContext, params: PatternParams
) -> PatternMatch:
    """`detect_previous_day_high_breakout` on prepared bars (what `detect_patterns` calls)."""
    level = context.previous_day_high
    if level is None or not math.isfinite(level) or level <= 0:
        return PatternMatch.no_match(KIND, "no previous-day high to break")
    today = day.today
    if today.empty:
        return PatternMatch.no_match(KIND, "no bars today")
    closes = today["close"].to_numpy()
    last_close = float(closes[-1])
    if last_close <= level:
        return PatternMatch.no_match(
            KIND, f"last close {price(last_close)} not above the prior-day high {price(level)}"
        )
    run = trailing_run(closes > level)
    if run < params.pdh_min_bars_above:
        return PatternMatch.no_match(
            KIND,
            f"{run} close(s) above the prior-day high {price(level)} "
            f"(need {params.pdh_min_bars_above})",
        )
    if run == len(closes):
        return PatternMatch.no_match(
            KIND, f"opened above the prior-day high {price(level)}: a gap, not a breakout"
        )
    extension_pct = (last_close - level) / level * 100
    if extension_pct > params.pdh_max_extension_pct:
        return PatternMatch.no_match(
            KIND,
            f"{extension_pct:.1f}% above the prior-day high {price(level)} "
            f"(a break is at most {params.pdh_max_extension_pct:.1f}%)",
        )
    volumes = today["volume"].to_numpy()
    breakout_at = len(closes) - run
    multiple = ratio(float(volumes[breakout_at]), float(volumes[:breakout_at].mean()))
    needed = params.breakout_volume_multiple
    if multiple < needed:
        return PatternMatch.no_match(
            KIND,
            f"broke the prior-day high {price(level)} on only {multiple:.1f}x volume "
            f"(need {needed:.1f}x)",
        )
    loudness = unit((multiple - needed) / needed)
    closeness = 1 - extension_pct / params.pdh_max_extension_pct
    return PatternMatch(
        kind=KIND,
        matched=True,
        strength=matched_strength(0.5 * loudness + 0.5 * closeness),
        invalidation=level,
        reason=f"broke the prior-day high {price(level)} on {multiple:.1f}x volume, "
        f"{run} closes above, {extension_pct:.1f}% over",
    )
