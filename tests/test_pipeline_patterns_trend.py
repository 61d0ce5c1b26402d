"""Bull flag, VWAP reclaim and higher lows on constructed 1-minute series."""

from __future__ import annotations

import numpy as np
import pytest
from pattern_bars import SESSION_OPEN, Candle, context, five_minute, flat, frame, walk

from catalyst.pipeline.patterns import (
    PatternParams,
    detect_bull_flag,
    detect_higher_lows,
    detect_vwap_reclaim,
)
from catalyst.pipeline.technicals import session_vwap

PARAMS = PatternParams()  # flag: 3 % pole, half retrace, 2-8 bars; VWAP: 2 holds in 15; 3 lows

# 5-minute (open, high, low, close, volume): a pole from 9.98 to 10.75 on heavy volume.
POLE = [
    (10.00, 10.12, 9.98, 10.10, 5000),
    (10.10, 10.42, 10.08, 10.40, 8000),
    (10.40, 10.75, 10.38, 10.70, 9000),
]
# Three quiet bars drifting down to 10.52: 30 % of the pole given back.
FLAG = [
    (10.70, 10.72, 10.55, 10.60, 3000),
    (10.60, 10.66, 10.52, 10.58, 2500),
    (10.58, 10.65, 10.54, 10.62, 2000),
]


# --- bull flag --------------------------------------------------------------------------------


def test_bull_flag_pole_then_shallow_quiet_flag_matches_with_the_flag_low_as_invalidation():
    match = detect_bull_flag(frame(five_minute(POLE + FLAG)), context(), PARAMS)

    assert match.matched
    assert match.invalidation == pytest.approx(10.52)
    assert match.reason == "7.7% pole to 10.75, 3-bar 5-min flag holding 10.52 (30% retrace)"
    retrace = (10.75 - 10.52) / (10.75 - 9.98)
    dry_up = 1 - 2500 / np.mean([5000, 8000, 9000])
    assert match.strength == pytest.approx(0.5 + 0.25 * (1 - retrace / 0.5) + 0.25 * dry_up)


def test_bull_flag_still_matches_on_the_bar_breaking_out_of_it():
    breakout = (10.62, 10.85, 10.60, 10.82, 6000)

    match = detect_bull_flag(frame(five_minute([*POLE, *FLAG, breakout])), context(), PARAMS)

    assert match.matched
    assert match.invalidation == pytest.approx(10.52)


def test_bull_flag_pullback_deeper_than_half_the_pole_does_not_match():
    deep = [*FLAG[:2], (10.58, 10.60, 10.20, 10.30, 2000)]

    match = detect_bull_flag(frame(five_minute(POLE + deep)), context(), PARAMS)

    assert not match.matched
    assert match.reason == "the pullback gave back 71% of the 7.7% pole (at most 50%)"


def test_bull_flag_without_a_pole_does_not_match():
    drift = [(10.00, 10.05, 9.98, 10.04, 5000), (10.04, 10.10, 10.02, 10.08, 5000)]
    sideways = [(10.08, 10.09, 10.03, 10.05, 2000)] * 3

    match = detect_bull_flag(frame(five_minute(drift + sideways)), context(), PARAMS)

    assert not match.matched
    assert match.reason.startswith("no pole: 1.2% rise")


def test_bull_flag_a_rise_with_no_pullback_yet_is_not_a_flag():
    rising = [
        (10 + 0.2 * i, 10.25 + 0.2 * i, 9.98 + 0.2 * i, 10.2 + 0.2 * i, 5000) for i in range(6)
    ]

    match = detect_bull_flag(frame(five_minute(rising)), context(), PARAMS)

    assert not match.matched
    assert match.reason.startswith("still rising")


def test_bull_flag_a_consolidation_longer_than_a_flag_does_not_match():
    long_drift = [(10.62, 10.66, 10.55, 10.60, 2000)] * 9

    match = detect_bull_flag(frame(five_minute(POLE + long_drift)), context(), PARAMS)

    assert not match.matched
    assert "9 5-min bars ago" in match.reason


def test_bull_flag_closing_on_the_flag_low_does_not_match():
    on_the_low = [*FLAG[:2], (10.58, 10.60, 10.52, 10.52, 2000)]

    assert not detect_bull_flag(frame(five_minute(POLE + on_the_low)), context(), PARAMS).matched


def test_bull_flag_reads_only_the_regular_session():
    # The same pole and flag, but traded before the open: nothing of it counts.
    pre_market = frame(five_minute(POLE + FLAG, start=-30))

    assert not detect_bull_flag(pre_market, context(), PARAMS).matched


# --- VWAP reclaim -----------------------------------------------------------------------------


def _vwap(bars) -> float:
    typical = (bars["high"] + bars["low"] + bars["close"]) / 3
    return float((typical * bars["volume"]).sum() / bars["volume"].sum())


def _sell_off_then_recover(recovery: list[float], volume: float = 1500) -> list[Candle]:
    """Up from 10.00 to 10.50, down to 10.00 (below VWAP), then `recovery`."""
    rise = [10.0 + 0.05 * i for i in range(11)]
    fall = [10.45 - 0.05 * i for i in range(10)]
    return walk(rise + fall) + walk(recovery, start=21, volume=volume)


def test_vwap_reclaim_two_closes_back_above_vwap_match_with_vwap_as_invalidation():
    bars = frame(_sell_off_then_recover([10.2, 10.3, 10.35]))

    match = detect_vwap_reclaim(bars, context(), PARAMS)

    assert match.matched
    assert match.invalidation == pytest.approx(_vwap(bars))
    assert match.invalidation == pytest.approx(session_vwap(bars, SESSION_OPEN))  # the technicals'
    assert match.invalidation < 10.3  # the second-to-last close was above VWAP too
    assert match.reason.startswith("reclaimed VWAP ")


def test_vwap_reclaim_on_rising_volume_is_stronger():
    quiet = frame(_sell_off_then_recover([10.2, 10.3, 10.35], volume=1000))
    loud = frame(_sell_off_then_recover([10.2, 10.3, 10.35], volume=2000))

    assert (
        detect_vwap_reclaim(quiet, context(), PARAMS).strength
        < detect_vwap_reclaim(loud, context(), PARAMS).strength
    )


def test_vwap_reclaim_still_below_vwap_does_not_match():
    bars = frame(_sell_off_then_recover([10.05, 10.1]))

    match = detect_vwap_reclaim(bars, context(), PARAMS)

    assert not match.matched
    assert match.reason.startswith("not 2 closes above VWAP")


def test_vwap_reclaim_one_close_above_is_not_yet_a_reclaim():
    bars = frame(_sell_off_then_recover([10.1, 10.35]))

    assert not detect_vwap_reclaim(bars, context(), PARAMS).matched


def test_vwap_reclaim_a_stock_that_never_lost_vwap_does_not_match():
    bars = frame(walk([10.0 + 0.02 * i for i in range(30)], wick=0))

    match = detect_vwap_reclaim(bars, context(), PARAMS)

    assert not match.matched
    assert "nothing to reclaim" in match.reason


def test_vwap_reclaim_older_than_the_lookback_does_not_match():
    bars = frame(_sell_off_then_recover([10.2 + 0.02 * i for i in range(20)]))

    match = detect_vwap_reclaim(bars, context(), PARAMS)

    assert not match.matched
    assert "older than 15" in match.reason


def test_vwap_reclaim_needs_a_few_session_bars():
    bars = frame(walk([10.0, 9.9, 10.1, 10.2]))

    match = detect_vwap_reclaim(bars, context(), PARAMS)

    assert not match.matched
    assert match.reason == "only 4 regular-session bars (VWAP needs 5)"


# --- higher lows ------------------------------------------------------------------------------


def _staircase(lows: list[float], last_close: float | None = None) -> list[Candle]:
    """5-minute blocks with the given lows; each trades 0.3 above its low, closing mid-way."""
    blocks = [(low + 0.15, low + 0.3, low, low + 0.15, 4000) for low in lows]
    if last_close is not None:
        o, h, lo, _, v = blocks[-1]
        blocks[-1] = (o, max(h, last_close), min(lo, last_close), last_close, v)
    return five_minute(blocks)


def test_higher_lows_three_rising_swing_lows_match_with_the_last_as_invalidation():
    # Swing lows at 10.00, 10.15, 10.30 (bars 1, 3, 5).
    bars = frame(_staircase([10.2, 10.0, 10.4, 10.15, 10.5, 10.3, 10.6, 10.7]))

    match = detect_higher_lows(bars, context(), PARAMS)

    assert match.matched
    assert match.invalidation == pytest.approx(10.3)
    assert match.reason == "3 higher lows on 5-min bars, the last 10.30 (1.5% a step)"
    assert match.strength == pytest.approx(0.5 + 0.25 * 0 + 0.25 * 1.0)


def test_higher_lows_a_lower_low_among_the_last_three_does_not_match():
    bars = frame(_staircase([10.2, 10.0, 10.4, 10.15, 10.5, 10.05, 10.6, 10.7]))

    match = detect_higher_lows(bars, context(), PARAMS)

    assert not match.matched
    assert "10.00, 10.15, 10.05" in match.reason


def test_higher_lows_a_double_bottom_below_the_previous_swing_low_breaks_the_staircase():
    # 10.00, 10.15, then two bars bottoming at 9.90 together, then 10.30: not three higher lows.
    lows = [10.2, 10.0, 10.4, 10.15, 10.5, 9.9, 9.9, 10.6, 10.3, 10.7, 10.8]

    match = detect_higher_lows(frame(_staircase(lows)), context(), PARAMS)

    assert not match.matched
    assert "10.15, 9.90, 10.30" in match.reason


def test_higher_lows_a_trade_below_the_last_higher_low_breaks_it():
    bars = frame(_staircase([10.2, 10.0, 10.4, 10.15, 10.5, 10.3, 10.6, 10.7], last_close=10.25))

    match = detect_higher_lows(bars, context(), PARAMS)

    assert not match.matched
    assert match.reason == "broke below the last higher low 10.30"


def test_higher_lows_two_swings_are_not_enough():
    bars = frame(_staircase([10.2, 10.0, 10.4, 10.15, 10.5, 10.6]))

    match = detect_higher_lows(bars, context(), PARAMS)

    assert not match.matched
    assert match.reason == "only 2 swing lows on 5-min bars (need 3)"


def test_higher_lows_steps_smaller_than_the_minimum_rise_do_not_count():
    tiny = frame(_staircase([10.2, 10.0, 10.4, 10.005, 10.5, 10.01, 10.6, 10.7]))

    assert not detect_higher_lows(tiny, context(), PARAMS).matched
    assert detect_higher_lows(tiny, context(), PatternParams(higher_lows_min_rise_pct=0)).matched


def test_higher_lows_flat_bars_have_no_swing_lows():
    match = detect_higher_lows(frame(flat(range(60))), context(), PARAMS)

    assert match.reason == "only 0 swing lows on 5-min bars (need 3)"
