"""The pattern stage as a whole: its types, all five detectors together, the best match, and
every detector on degenerate and random bars.

The single patterns' must-match and must-not-match series are in
test_pipeline_patterns_breakouts.py and test_pipeline_patterns_trend.py.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pattern_bars import SESSION_OPEN, Candle, context, flat, frame, walk

from catalyst.pipeline.bars import empty_bars
from catalyst.pipeline.patterns import (
    DETECTORS,
    PatternContext,
    PatternKind,
    PatternMatch,
    PatternParams,
    best_match,
    detect_patterns,
)

PARAMS = PatternParams()
ALL_DETECTORS = pytest.mark.parametrize("kind", list(PatternKind), ids=lambda kind: kind.value)


def _match(kind: PatternKind, strength: float) -> PatternMatch:
    return PatternMatch(kind, True, strength, invalidation=9.0, reason="constructed")


def _check(match: PatternMatch, bars: pd.DataFrame) -> None:
    """The invariants every verdict keeps, whatever the bars."""
    assert math.isfinite(match.strength)
    assert 0.0 <= match.strength <= 1.0
    assert match.reason
    if match.matched:
        assert match.strength > 0
        assert match.invalidation is not None
        assert math.isfinite(match.invalidation)
        assert match.invalidation < bars["close"].iloc[-1]
    else:
        assert match.strength == 0.0
        assert match.invalidation is None


# --- types ------------------------------------------------------------------------------------


def test_pattern_kinds_have_snake_case_values_in_the_documented_order():
    assert [kind.value for kind in PatternKind] == [
        "opening_range_breakout",
        "bull_flag",
        "previous_day_high_breakout",
        "vwap_reclaim",
        "higher_lows",
    ]
    assert list(DETECTORS) == list(PatternKind)


@pytest.mark.parametrize(
    ("matched", "strength", "invalidation"),
    [
        (True, 1.5, 9.0),
        (True, float("nan"), 9.0),
        (True, 0.0, 9.0),
        (True, 0.7, None),
        (True, 0.7, float("inf")),
        (False, 0.3, None),
        (False, 0.0, 9.0),
    ],
)
def test_a_pattern_match_refuses_values_that_break_its_contract(matched, strength, invalidation):
    with pytest.raises(ValueError, match="opening_range_breakout"):
        PatternMatch(PatternKind.OPENING_RANGE_BREAKOUT, matched, strength, invalidation, "x")


def test_a_pattern_context_needs_an_aware_session_open():
    with pytest.raises(ValueError, match="timezone-aware"):
        PatternContext(session_open=datetime(2026, 11, 24, 9, 30))


@pytest.mark.parametrize(
    "overrides",
    [
        {"opening_range_minutes": 0},
        {"breakout_volume_multiple": 0.0},
        {"flag_max_retrace": 1.5},
        {"flag_min_bars": 5, "flag_max_bars": 4},
        {"vwap_reclaim_lookback": 2, "vwap_reclaim_hold_bars": 2},
        {"higher_lows_swing_count": 1},
        {"higher_lows_min_rise_pct": -0.1},
        {"pdh_max_extension_pct": float("nan")},
    ],
)
def test_pattern_params_refuse_nonsense(overrides):
    with pytest.raises(ValueError, match="PatternParams"):
        PatternParams(**overrides)


# --- all five, and the best -------------------------------------------------------------------


def test_detect_patterns_returns_one_verdict_per_kind_in_order():
    bars = frame(walk([10.0 + 0.01 * i for i in range(40)]))

    matches = detect_patterns(bars, context(previous_day_high=10.2), PARAMS)

    assert [match.kind for match in matches] == list(PatternKind)


def test_detect_patterns_agrees_with_each_detector_alone():
    bars = frame(
        [
            *[Candle(minute, 10.2, 10.4, 10.0, 10.2) for minute in range(15)],
            Candle(15, 10.3, 10.6, 10.3, 10.5, volume=3000),
            *walk([10.5, 10.55], start=16),
        ]
    )
    ctx = context(previous_day_high=10.45)

    together = detect_patterns(bars, ctx, PARAMS)

    assert together == tuple(DETECTORS[kind](bars, ctx, PARAMS) for kind in PatternKind)
    assert together[0].matched  # the opening-range breakout is there


def test_best_match_is_the_strongest_matched_pattern():
    matches = [
        _match(PatternKind.OPENING_RANGE_BREAKOUT, 0.6),
        _match(PatternKind.VWAP_RECLAIM, 0.9),
        PatternMatch.no_match(PatternKind.BULL_FLAG, "no pole"),
    ]

    assert best_match(matches) == matches[1]


def test_best_match_breaks_ties_by_the_kinds_order_whatever_the_input_order():
    higher_lows = _match(PatternKind.HIGHER_LOWS, 0.7)
    bull_flag = _match(PatternKind.BULL_FLAG, 0.7)

    assert best_match([higher_lows, bull_flag]) == bull_flag
    assert best_match([bull_flag, higher_lows]) == bull_flag


def test_best_match_of_nothing_matched_is_none():
    assert best_match([PatternMatch.no_match(kind, "no") for kind in PatternKind]) is None
    assert best_match([]) is None


# --- degenerate bars, every detector ----------------------------------------------------------

DEGENERATE = {
    "empty": lambda: empty_bars(),
    "one bar": lambda: frame([Candle(20, 10.0, 10.2, 9.9, 10.1)]),
    "flat": lambda: frame(flat(range(-30, 90))),
    "pre-market only": lambda: frame(walk([10 + 0.02 * i for i in range(60)], start=-60)),
}


@ALL_DETECTORS
@pytest.mark.parametrize("case", list(DEGENERATE))
def test_no_detector_matches_bars_that_hold_no_pattern(kind: PatternKind, case: str):
    bars = DEGENERATE[case]()

    match = DETECTORS[kind](bars, context(previous_day_high=10.0), PARAMS)

    _check(match, bars)
    assert not match.matched


@ALL_DETECTORS
def test_every_detector_copes_with_a_gap_open(kind: PatternKind):
    pre_market = walk([10.0, 10.02, 10.01, 10.03], start=-10)
    gapped = walk([12.0 + 0.03 * math.sin(i) for i in range(40)], volume=5000)
    bars = frame(pre_market + gapped)

    match = DETECTORS[kind](bars, context(previous_day_high=10.5), PARAMS)

    _check(match, bars)
    if kind is PatternKind.PREVIOUS_DAY_HIGH_BREAKOUT:
        assert not match.matched  # 14 % above yesterday's high: a gap, too far up for a break


@ALL_DETECTORS
def test_every_detector_copes_with_a_halt(kind: PatternKind):
    before = walk([10.0 + 0.02 * i for i in range(12)])
    after = walk([10.6 + 0.02 * i for i in range(20)], start=47, volume=4000)  # halted 35 min
    bars = frame(before + after)

    _check(DETECTORS[kind](bars, context(previous_day_high=10.5), PARAMS), bars)


@ALL_DETECTORS
def test_every_detector_skips_rows_a_bars_frame_would_have_dropped(kind: PatternKind):
    clean = frame(walk([10.0 + 0.02 * i for i in range(30)]))
    dirty = clean.copy()
    dirty.iloc[5, 3] = np.nan  # a close
    dirty.iloc[8, 1] = np.inf  # a high
    dirty.iloc[11, 4] = -5.0  # a volume
    dirty.iloc[14, 2] = dirty.iloc[14, 1] + 1  # a low above the high
    ctx = context(previous_day_high=10.3)

    verdict = DETECTORS[kind](dirty, ctx, PARAMS)

    assert verdict == DETECTORS[kind](clean.drop(clean.index[[5, 8, 11, 14]]), ctx, PARAMS)


@ALL_DETECTORS
def test_every_detector_reads_an_unsorted_or_naive_frame_as_the_sorted_utc_one(kind):
    bars = frame(walk([10.0 + 0.03 * math.sin(i / 3) for i in range(45)]))
    shuffled = bars.sample(frac=1.0, random_state=7)
    naive = bars.tz_convert("UTC").tz_localize(None)
    ctx = context(previous_day_high=10.02)

    verdict = DETECTORS[kind](bars, ctx, PARAMS)

    assert DETECTORS[kind](shuffled, ctx, PARAMS) == verdict
    assert DETECTORS[kind](naive, ctx, PARAMS) == verdict


def test_a_frame_without_a_time_index_is_a_callers_bug_and_says_so():
    no_times = frame(walk([10.0, 10.1, 10.2])).reset_index(drop=True)

    with pytest.raises(TypeError, match="DatetimeIndex"):
        detect_patterns(no_times, context(), PARAMS)


# --- random bars ------------------------------------------------------------------------------


@st.composite
def bars_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Valid bars frames: a random walk of 0-150 bars from up to an hour before the open, with
    skipped minutes, 30-minute halts, flat bars (high == low), equal closes and zero volumes.

    Hypothesis draws the shape (length, start, price level, how often each oddity happens) and
    a seed; numpy draws the walk from the seed, which is much faster than drawing every number.
    """
    count = draw(st.integers(0, 150))
    start = SESSION_OPEN.astimezone(UTC) + timedelta(minutes=draw(st.integers(-60, 30)))
    level = draw(st.floats(0.05, 500))
    flat_share = draw(st.sampled_from([0.0, 0.3, 1.0]))
    halt_share = draw(st.sampled_from([0.0, 0.05]))
    drift = draw(st.sampled_from([0.0, 0.001, 0.003]))  # the patterns are bullish: trend up too
    noise = draw(st.sampled_from([0.002, 0.01]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    steps = np.where(rng.random(count) < halt_share, 30, rng.choice([1, 1, 1, 2], count))
    is_flat = rng.random(count) < flat_share
    moves = np.where(is_flat, 0.0, rng.normal(drift, noise, count).clip(-0.05, 0.05))
    wicks = np.where(is_flat, 0.0, rng.exponential(0.003, count))
    volumes = np.where(rng.random(count) < 0.1, 0.0, rng.lognormal(7, 1.5, count).round())
    closes = level * np.cumprod(1 + moves)
    opens = np.concatenate(([level], closes[:-1]))[:count]
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, closes) * (1 + wicks),
            "low": np.minimum(opens, closes) * (1 - wicks),
            "close": closes,
            "volume": volumes,
        },
        index=pd.DatetimeIndex([start + timedelta(minutes=int(m)) for m in np.cumsum(steps)]),
    )
    return frame if count else empty_bars()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    bars=bars_frames(),
    # Yesterday's high relative to today's first price, so that a break is often in reach.
    high_over_first_pct=st.one_of(st.none(), st.floats(-3, 5), st.floats(0, 2)),
    params=st.builds(
        PatternParams,
        opening_range_minutes=st.integers(1, 30),
        opening_range_min_bars=st.integers(1, 5),
        breakout_volume_multiple=st.floats(0.1, 3),
        pdh_max_extension_pct=st.floats(0.5, 20),
        flag_pole_min_pct=st.floats(0.01, 5),
        flag_min_bars=st.integers(1, 3),
        vwap_reclaim_hold_bars=st.integers(1, 3),
        vwap_min_session_bars=st.integers(1, 10),
        higher_lows_swing_count=st.integers(2, 4),
        higher_lows_swing_window=st.integers(1, 2),
        higher_lows_min_rise_pct=st.floats(0, 1),
    ),
)
def test_detectors_on_any_valid_bars_never_raise_and_keep_their_contract(
    bars, high_over_first_pct, params
):
    first = float(bars["open"].iloc[0]) if len(bars) else 10.0
    previous_day_high = (
        None if high_over_first_pct is None else first * (1 + high_over_first_pct / 100)
    )
    ctx = PatternContext(session_open=SESSION_OPEN, previous_day_high=previous_day_high)

    matches = detect_patterns(bars, ctx, params)

    assert [match.kind for match in matches] == list(PatternKind)
    for match in matches:
        _check(match, bars)
    best = best_match(matches)
    assert (best is None) == (not any(match.matched for match in matches))
