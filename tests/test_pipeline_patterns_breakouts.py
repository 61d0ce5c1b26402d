"""Opening-range breakout and previous-day-high breakout on constructed 1-minute series."""

from __future__ import annotations

import pytest
from pattern_bars import Candle, context, flat, frame, walk

from catalyst.pipeline.patterns import (
    PatternParams,
    detect_opening_range_breakout,
    detect_previous_day_high_breakout,
)

PARAMS = PatternParams()  # 15-min range, 1.5x breakout volume, PDH: 2 closes, at most 3 % over


def _opening_range(volume: float = 1000) -> list[Candle]:
    """09:30-09:44: every bar trades 10.00-10.40."""
    return [Candle(minute, 10.2, 10.4, 10.0, 10.2, volume) for minute in range(15)]


# --- opening-range breakout -------------------------------------------------------------------


def test_orb_close_above_the_range_high_on_volume_matches_with_the_range_low_as_invalidation():
    bars = frame(
        [
            *_opening_range(),
            Candle(15, 10.2, 10.35, 10.15, 10.3),
            Candle(16, 10.3, 10.55, 10.3, 10.5, volume=2000),
        ]
    )

    match = detect_opening_range_breakout(bars, context(), PARAMS)

    assert match.matched
    assert match.invalidation == pytest.approx(10.0)
    assert match.strength == pytest.approx(0.5 + 0.5 * (2.0 - 1.5) / 1.5)
    assert match.reason == "broke the 15-min opening range high 10.40 on 2.0x volume"


def test_orb_strength_grows_with_the_breakout_volume():
    def strength(volume: float) -> float:
        bars = frame([*_opening_range(), Candle(15, 10.3, 10.6, 10.3, 10.5, volume)])
        return detect_opening_range_breakout(bars, context(), PARAMS).strength

    assert 0.5 == strength(1500) < strength(2000) < strength(3000) == 1.0


def test_orb_break_on_ordinary_volume_does_not_match():
    bars = frame([*_opening_range(), Candle(15, 10.3, 10.6, 10.3, 10.5, volume=1200)])

    match = detect_opening_range_breakout(bars, context(), PARAMS)

    assert not match.matched
    assert "only 1.2x volume (need 1.5x)" in match.reason


def test_orb_still_inside_the_range_does_not_match():
    bars = frame([*_opening_range(), Candle(15, 10.2, 10.45, 10.1, 10.35, volume=5000)])

    match = detect_opening_range_breakout(bars, context(), PARAMS)

    assert not match.matched
    assert "inside the range" in match.reason


def test_orb_breaking_down_through_the_range_low_does_not_match():
    bars = frame([*_opening_range(), Candle(15, 10.1, 10.1, 9.7, 9.8, volume=5000)])

    match = detect_opening_range_breakout(bars, context(), PARAMS)

    assert not match.matched
    assert "below the low" in match.reason


def test_orb_before_the_range_has_formed_does_not_match_even_on_a_new_high():
    bars = frame([*_opening_range()[:10], Candle(10, 10.3, 11.0, 10.3, 10.9, volume=9000)])

    match = detect_opening_range_breakout(bars, context(), PARAMS)

    assert not match.matched
    assert match.reason == "the 15-min opening range has not formed yet (ends 09:45)"


def test_orb_ignores_pre_market_bars_when_drawing_the_range():
    # A pre-market spike to 11.00 is not part of the range: the break of 10.40 still counts.
    pre_market = [Candle(minute, 10.5, 11.0, 10.5, 10.8, 500) for minute in range(-20, 0)]
    bars = frame([*pre_market, *_opening_range(), Candle(15, 10.3, 10.6, 10.3, 10.5, 2000)])

    match = detect_opening_range_breakout(bars, context(), PARAMS)

    assert match.matched
    assert "10.40" in match.reason


def test_orb_only_pre_market_bars_is_no_range():
    bars = frame(flat(range(-30, 0)))

    match = detect_opening_range_breakout(bars, context(), PARAMS)

    assert not match.matched
    assert match.reason == "no regular-session bars yet"


def test_orb_the_latest_break_is_the_one_whose_volume_counts():
    # A loud first break fails back into the range; the quiet second break is not confirmed.
    bars = frame(
        [
            *_opening_range(),
            Candle(15, 10.3, 10.6, 10.3, 10.5, volume=4000),
            Candle(16, 10.5, 10.5, 10.2, 10.3),
            Candle(17, 10.3, 10.6, 10.3, 10.5, volume=1000),
        ]
    )

    assert not detect_opening_range_breakout(bars, context(), PARAMS).matched


def test_orb_a_halt_that_leaves_too_few_range_bars_is_no_range():
    range_bars = [Candle(minute, 10.2, 10.4, 10.0, 10.2) for minute in (0, 1)]  # halted 09:32-
    bars = frame([*range_bars, Candle(40, 10.3, 10.8, 10.3, 10.7, volume=5000)])

    match = detect_opening_range_breakout(bars, context(), PARAMS)

    assert not match.matched
    assert match.reason == "only 2 bars in the 15-min opening range (need 3)"


def test_orb_range_length_is_a_parameter():
    bars = frame([*_opening_range()[:5], Candle(5, 10.3, 10.6, 10.3, 10.5, volume=2000)])

    five_minute_range = PatternParams(opening_range_minutes=5)

    assert detect_opening_range_breakout(bars, context(), five_minute_range).matched
    assert not detect_opening_range_breakout(bars, context(), PARAMS).matched


# --- previous-day high ------------------------------------------------------------------------


def _below_the_level() -> list[Candle]:
    """Five pre-market and twenty regular bars below 10.00, 1000 shares a bar."""
    return walk([9.8, 9.85, 9.9, 9.85, 9.8], start=-5) + walk([9.8 + 0.005 * i for i in range(20)])


def test_pdh_two_closes_above_yesterdays_high_on_volume_match_with_it_as_invalidation():
    bars = frame([*_below_the_level(), *walk([10.05, 10.08], start=20, volume=[3000, 1500])])

    match = detect_previous_day_high_breakout(bars, context(previous_day_high=10.0), PARAMS)

    assert match.matched
    assert match.invalidation == 10.0
    assert (
        match.reason == "broke the prior-day high 10.00 on 3.0x volume, 2 closes above, 0.8% over"
    )
    assert match.strength == pytest.approx(0.5 + 0.25 * 1.0 + 0.25 * (1 - 0.8 / 3.0))


def test_pdh_a_break_made_in_the_pre_market_counts():
    before = walk([9.8, 9.85, 9.9, 9.85, 9.8, 9.9], start=-30)
    bars = frame([*before, *walk([10.05, 10.1, 10.12], start=-24, volume=[4000, 1000, 1000])])

    assert detect_previous_day_high_breakout(bars, context(previous_day_high=10.0), PARAMS).matched


def test_pdh_one_close_above_is_not_a_hold():
    bars = frame([*_below_the_level(), *walk([10.05], start=20, volume=3000)])

    match = detect_previous_day_high_breakout(bars, context(previous_day_high=10.0), PARAMS)

    assert not match.matched
    assert match.reason == "1 close(s) above the prior-day high 10.00 (need 2)"


def test_pdh_opening_above_it_is_a_gap_not_a_breakout():
    bars = frame(walk([10.3, 10.35, 10.4, 10.38], volume=[5000, 1000, 1000, 1000]))

    match = detect_previous_day_high_breakout(bars, context(previous_day_high=10.0), PARAMS)

    assert not match.matched
    assert "a gap, not a breakout" in match.reason


def test_pdh_far_above_the_level_is_a_run_not_a_break():
    bars = frame([*_below_the_level(), *walk([10.2, 10.5], start=20, volume=[3000, 3000])])

    match = detect_previous_day_high_breakout(bars, context(previous_day_high=10.0), PARAMS)

    assert not match.matched
    assert "5.0% above" in match.reason


def test_pdh_break_on_ordinary_volume_does_not_match():
    bars = frame([*_below_the_level(), *walk([10.05, 10.08], start=20)])

    match = detect_previous_day_high_breakout(bars, context(previous_day_high=10.0), PARAMS)

    assert not match.matched
    assert "only 1.0x volume" in match.reason


def test_pdh_back_below_the_level_does_not_match():
    bars = frame([*_below_the_level(), *walk([10.05, 10.08, 9.95], start=20, volume=3000)])

    assert not detect_previous_day_high_breakout(bars, context(10.0), PARAMS).matched


@pytest.mark.parametrize("level", [None, float("nan"), 0.0, -1.0])
def test_pdh_without_a_usable_previous_day_high_does_not_match(level: float | None):
    bars = frame([*_below_the_level(), *walk([10.05, 10.08], start=20, volume=3000)])

    match = detect_previous_day_high_breakout(bars, context(level), PARAMS)

    assert not match.matched
    assert match.reason == "no previous-day high to break"
