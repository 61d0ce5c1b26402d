"""VWAP reclaim, on 1-minute bars of the regular session (VWAP is anchored at the open, so
pre-market bars are ignored): the price lost the session VWAP and has closed back above it.

VWAP_i is the session VWAP at bar i (see `frames`: cumulative typical price x volume over
cumulative volume). Rule, with `h = vwap_reclaim_hold_bars` and `n = vwap_reclaim_lookback`:

1. At least `vwap_min_session_bars` regular-session bars (over fewer, VWAP is just the price).
2. The loss: the most recent bar that closed below its VWAP is one of the last n bars.
3. The hold: each of the last h bars closed above its VWAP.

Invalidation: the latest VWAP (a close back under it fails the reclaim).
Strength: 0.5 + 0.25 * clip(volume multiple - 1) + 0.25 * (1 - clip(extension / full)), where
the volume multiple is the average bar volume since the loss over the session's average bar
volume up to and including it, the extension is the last close's % above VWAP and full is
`vwap_full_extension_pct`: a reclaim on rising volume that is still near VWAP scores highest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from catalyst.pipeline.patterns.frames import (
    DayBars,
    matched_strength,
    price,
    ratio,
    session_vwap,
    unit,
)
from catalyst.pipeline.patterns.models import (
    PatternContext,
    PatternKind,
    PatternMatch,
    PatternParams,
)

KIND = PatternKind.VWAP_RECLAIM


def detect_vwap_reclaim(
    bars: pd.DataFrame, context: PatternContext, params: PatternParams
) -> PatternMatch:
    """Today's 1-minute `bars` against the VWAP-reclaim rule (module doc)."""
    return match_vwap_reclaim(DayBars.of(bars, context.session_open), context, params)


def match_vwap_reclaim(
    day: DayBars, context: PatternContext, params: PatternParams
) -> PatternMatch:
    """`detect_vwap_reclaim` on bars already prepared (what `detect_patterns` calls)."""
    session = day.regular
    count = len(session)
    if count < params.vwap_min_session_bars:
        return PatternMatch.no_match(
            KIND,
            f"only {count} regular-session bars (VWAP needs {params.vwap_min_session_bars})",
        )
    vwap = session_vwap(session)
    closes = session["close"].to_numpy()
    last_close = float(closes[-1])
    last_vwap = float(vwap[-1])
    hold = params.vwap_reclaim_hold_bars
    if not (closes[-hold:] > vwap[-hold:]).all():
        return PatternMatch.no_match(
            KIND,
            f"not {hold} closes above VWAP {price(last_vwap)} (last close {price(last_close)})",
        )
    below = np.flatnonzero(closes < vwap)
    if len(below) == 0:
        return PatternMatch.no_match(
            KIND, f"never closed below VWAP {price(last_vwap)} today: nothing to reclaim"
        )
    lost_at = int(below[-1])
    bars_since = count - 1 - lost_at
    if bars_since >= params.vwap_reclaim_lookback:
        return PatternMatch.no_match(
            KIND,
            f"above VWAP {price(last_vwap)} for {bars_since} bars: the reclaim is older "
            f"than {params.vwap_reclaim_lookback}",
        )
    volumes = session["volume"].to_numpy()
    multiple = ratio(float(volumes[lost_at + 1 :].mean()), float(volumes[: lost_at + 1].mean()))
    extension_pct = (last_close - last_vwap) / last_vwap * 100
    loudness = unit(multiple - 1)
    closeness = 1 - unit(extension_pct / params.vwap_full_extension_pct)
    return PatternMatch(
        kind=KIND,
        matched=True,
        strength=matched_strength(0.5 * loudness + 0.5 * closeness),
        invalidation=last_vwap,
        reason=f"reclaimed VWAP {price(last_vwap)} {bars_since} bars after closing below it, "
        f"on {multiple:.1f}x volume",
    )
