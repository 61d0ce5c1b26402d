"""Bull flag, on 5-minute bars (`flag_bar_minutes`) of the regular session: a sharp rise (the
pole) then a short, shallow pullback or sideways drift (the flag), read on 5-minute bars because
1-minute noise makes every wiggle a flag.

Rule, over the 5-minute bars b_0 .. b_last (halted intervals simply absent):

1. Pole top: the first bar p holding the highest high T of all bars but the last (the last bar
   may already be breaking out of the flag, above T).
2. Flag: the bars after p, from `flag_min_bars` to `flag_max_bars` of them. Fewer means the rise
   is still going (no flag yet); more means the top is too old to be a flag.
3. Pole base: the lowest low B among bar p and the `flag_pole_max_bars` bars before it. The pole
   rises at least `flag_pole_min_pct`: (T - B) / B * 100 >= that.
4. Flag low F: the lowest low of the flag's bars. The flag gives back at most
   `flag_max_retrace` of the pole: (T - F) / (T - B) <= that.
5. The last close is above F.

Invalidation: F, the flag's low.
Strength: 0.5 + 0.25 * (1 - retrace / flag_max_retrace) + 0.25 * clip(1 - flag volume / pole
volume), the volumes being average bar volumes (flag: its bars; pole: bars from the base to p):
shallow flags on drying volume score highest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from catalyst.pipeline.patterns.frames import (
    DayBars,
    matched_strength,
    price,
    ratio,
    unit,
)
from catalyst.pipeline.patterns.models import (
    PatternContext,
    PatternKind,
    PatternMatch,
    PatternParams,
)

KIND = PatternKind.BULL_FLAG


def detect_bull_flag(
    bars: pd.DataFrame, context: PatternContext, params: PatternParams
) -> PatternMatch:
    """Today's 1-minute `bars`, resampled to 5 minutes, against the bull-flag rule (module doc)."""
    return match_bull_flag(DayBars.of(bars, context.session_open), context, params)


def match_bull_flag(day: DayBars, context: PatternContext, params: PatternParams) -> PatternMatch:
    """`detect_bull_flag` on bars already prepared (what `detect_patterns` calls)."""
    size = params.flag_bar_minutes
    session = day.regular_resampled(size)
    needed = params.flag_min_bars + 1
    if len(session) < needed:
        return PatternMatch.no_match(
            KIND, f"only {len(session)} {size}-min bars (a pole and a flag need {needed})"
        )
    highs = session["high"].to_numpy()
    lows = session["low"].to_numpy()
    volumes = session["volume"].to_numpy()
    top_index = int(np.argmax(highs[:-1]))  # argmax: the first bar holding the high
    top = float(highs[top_index])
    flag_bars = len(session) - 1 - top_index
    if flag_bars < params.flag_min_bars:
        return PatternMatch.no_match(
            KIND, f"still rising: {flag_bars} {size}-min bar(s) since the high {price(top)}"
        )
    if flag_bars > params.flag_max_bars:
        return PatternMatch.no_match(
            KIND,
            f"the high {price(top)} was {flag_bars} {size}-min bars ago "
            f"(a flag lasts at most {params.flag_max_bars})",
        )
    first_pole_bar = max(0, top_index - params.flag_pole_max_bars)
    base_index = first_pole_bar + int(np.argmin(lows[first_pole_bar : top_index + 1]))
    base = float(lows[base_index])
    pole_pct = (top - base) / base * 100
    if pole_pct < params.flag_pole_min_pct:
        return PatternMatch.no_match(
            KIND,
            f"no pole: {pole_pct:.1f}% rise to {price(top)} (need {params.flag_pole_min_pct:.1f}%)",
        )
    flag_low = float(lows[top_index + 1 :].min())
    retrace = (top - flag_low) / (top - base)
    if retrace > params.flag_max_retrace:
        return PatternMatch.no_match(
            KIND,
            f"the pullback gave back {retrace:.0%} of the {pole_pct:.1f}% pole "
            f"(at most {params.flag_max_retrace:.0%})",
        )
    last_close = float(session["close"].iloc[-1])
    if last_close <= flag_low:
        return PatternMatch.no_match(KIND, f"last close {price(last_close)} on the flag low")
    shallowness = 1 - retrace / params.flag_max_retrace
    flag_volume = float(volumes[top_index + 1 :].mean())
    pole_volume = float(volumes[base_index : top_index + 1].mean())
    dry_up = unit(1 - ratio(flag_volume, pole_volume))  # a silent flag (ratio 0) is driest
    return PatternMatch(
        kind=KIND,
        matched=True,
        strength=matched_strength(0.5 * shallowness + 0.5 * dry_up),
        invalidation=flag_low,
        reason=f"{pole_pct:.1f}% pole to {price(top)}, {flag_bars}-bar {size}-min flag "
        f"holding {price(flag_low)} ({retrace:.0%} retrace)",
    )
