"""Opening-range breakout, on 1-minute bars of the regular session (pre-market bars ignored).

Rule, with `m = opening_range_minutes` and `k = breakout_volume_multiple`:

1. The opening range is the bars that start in [open, open + m): its high H and low L. It has
   formed once a bar starts at or after open + m, and needs at least `opening_range_min_bars`
   bars (a halt or an untraded open leaves no range to break).
2. The breakout bar is the first bar of the trailing run of post-range bars that closed above
   H: after a break that fell back into the range, the latest break is the one that counts.
3. Matched when the last close is above H and the breakout bar's volume is at least k times the
   opening range's average bar volume.

Invalidation: L, the range's low (a trade back through the whole range breaks the setup).
Strength: 0.5 + 0.5 * clip((volume multiple - k) / k): 0.5 on exactly k, 1 from 2k up.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from catalyst.pipeline.patterns.frames import (
    DayBars,
    matched_strength,
    price,
    ratio,
    trailing_run,
)
from catalyst.pipeline.patterns.models import (
    PatternContext,
    PatternKind,
    PatternMatch,
    PatternParams,
)

KIND = PatternKind.OPENING_RANGE_BREAKOUT


def detect_opening_range_breakout(
    bars: pd.DataFrame, context: PatternContext, params: PatternParams
) -> PatternMatch:
    """Today's 1-minute `bars` against the opening-range breakout rule (module doc)."""
    return match_opening_range_breakout(DayBars.of(bars, context.session_open), context, params)


def match_opening_range_breakout(
    day: DayBars, context: PatternContext, params: PatternParams
) -> PatternMatch:
    """`detect_opening_range_breakout` on bars already prepared (what `detect_patterns` calls)."""
    session = day.regular
    minutes = params.opening_range_minutes
    range_end = pd.Timestamp(context.session_open) + timedelta(minutes=minutes)
    if session.empty:
        return PatternMatch.no_match(KIND, "no regular-session bars yet")
    in_range = session[session.index < range_end]
    after = session[session.index >= range_end]
    if after.empty:
        local_end = range_end.tz_convert(context.session_open.tzinfo).strftime("%H:%M")
        return PatternMatch.no_match(
            KIND, f"the {minutes}-min opening range has not formed yet (ends {local_end})"
        )
    if len(in_range) < params.opening_range_min_bars:
        return PatternMatch.no_match(
            KIND,
            f"only {len(in_range)} bars in the {minutes}-min opening range "
            f"(need {params.opening_range_min_bars})",
        )
    range_high = float(in_range["high"].max())
    range_low = float(in_range["low"].min())
    closes = after["close"].to_numpy()
    last_close = float(closes[-1])
    if last_close <= range_high:
        where = "below the low" if last_close < range_low else "inside the range"
        return PatternMatch.no_match(
            KIND,
            f"last close {price(last_close)} {where} of the {minutes}-min opening range "
            f"{price(range_low)}-{price(range_high)}",
        )
    above = closes > range_high  # its trailing run ends at the last bar (the last close is above)
    breakout_volume = float(after["volume"].iloc[len(after) - trailing_run(above)])
    multiple = ratio(breakout_volume, float(in_range["volume"].mean()))
    needed = params.breakout_volume_multiple
    if multiple < needed:
        return PatternMatch.no_match(
            KIND,
            f"broke the {minutes}-min opening range high {price(range_high)} on only "
            f"{multiple:.1f}x volume (need {needed:.1f}x)",
        )
    return PatternMatch(
        kind=KIND,
        matched=True,
        strength=matched_strength((multiple - needed) / needed),
        invalidation=range_low,
        reason=f"broke the {minutes}-min opening range high {price(range_high)} "
        f"on {multiple:.1f}x volume",
    )
