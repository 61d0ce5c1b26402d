"""The final rank: catalyst score, best pattern and technicals into a confidence, with a stop."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stubs import candidate

from catalyst.config.strategy import StopSettings
from catalyst.pipeline.patterns import PatternKind, PatternMatch
from catalyst.pipeline.ranking import Analysis, RankParams, rank_candidates, technical_score
from catalyst.pipeline.stops import StopParams
from catalyst.pipeline.technicals import Technicals

PARAMS = RankParams()
STOPS = StopParams.of(StopSettings(), max_stop_pct=0.02)
BULLISH = Technicals(
    rsi=62,
    macd_histogram=0.05,
    ema_fast=10.2,
    ema_slow=10.0,
    vwap=10.1,
    bollinger_percent_b=0.8,
    volume_surge=3.0,
    bars=60,
)
ORB = PatternMatch(PatternKind.OPENING_RANGE_BREAKOUT, True, 0.8, 9.90, "broke the range high")


def analysis(
    *,
    technicals: Technicals | None = BULLISH,
    pattern: PatternMatch | None = ORB,
    atr: float | None = 0.5,
    session_bars: bool = True,
) -> Analysis:
    return Analysis(
        patterns=() if pattern is None else (pattern,),
        technicals=technicals,
        has_session_bars=session_bars,
        daily_atr=atr,
    )


def test_every_bullish_technical_scores_one() -> None:
    assert technical_score(BULLISH, 10.3, PARAMS) == 1.0


@pytest.mark.parametrize(
    ("change", "sub_score"),
    [
        ({"rsi": 90.0}, 0.0),  # overbought: late, not strong
        ({"rsi": 45.0}, 0.5),
        ({"macd_histogram": -0.01}, 0.0),
        ({"vwap": 10.5}, 0.0),  # below VWAP
        ({"volume_surge": 2.0}, 0.5),
        ({"bollinger_percent_b": 1.15}, 0.5),  # stretched past the upper band
    ],
)
def test_each_technical_counts_for_a_sixth(change: dict[str, float], sub_score: float) -> None:
    assert technical_score(replace(BULLISH, **change), 10.3, PARAMS) == pytest.approx(
        (5 + sub_score) / 6
    )


def test_no_indicator_means_no_technical_score() -> None:
    assert technical_score(Technicals(), 10.0, PARAMS) is None
    assert technical_score(None, 10.0, PARAMS) is None


def test_confidence_is_the_weighted_composite_and_the_stop_comes_from_the_pattern() -> None:
    strong = candidate("AAA", last_price="10.30")
    strong = replace(strong, catalyst_score=0.8, reasons=("gap +5.0%",))

    (ranked,) = rank_candidates([strong], {"AAA": analysis()}, params=PARAMS, stops=STOPS).kept

    assert ranked.confidence == pytest.approx(0.5 * 0.8 + 0.25 * 0.8 + 0.25 * 1.0)
    assert ranked.pattern == ORB
    assert ranked.technicals == BULLISH
    # 0.5 x ATR 0.50 -> 10.05 (2.4 %: too wide); under the range low 9.90 -> 9.89 (4 %): too wide
    assert ranked.stop_price == Decimal("10.09")  # so 2 % below the entry
    assert ranked.reasons[0] == "gap +5.0%"
    assert "broke the range high" in ranked.reasons


def test_without_session_bars_only_the_catalyst_score_counts() -> None:
    # 09:30: no completed bar yet, nothing to judge a pattern or an indicator on.
    early = replace(candidate("AAA"), catalyst_score=0.9)
    result = rank_candidates(
        [early],
        {"AAA": analysis(technicals=None, pattern=None, session_bars=False)},
        params=PARAMS,
        stops=STOPS,
    )
    assert result.kept[0].confidence == pytest.approx(0.9)


def test_session_bars_without_a_pattern_score_zero_for_the_pattern() -> None:
    plain = replace(candidate("AAA", last_price="10.30"), catalyst_score=0.8)
    result = rank_candidates([plain], {"AAA": analysis(pattern=None)}, params=PARAMS, stops=STOPS)
    assert result.kept[0].confidence == pytest.approx(0.5 * 0.8 + 0.25 * 1.0)
    assert "no chart pattern" in result.kept[0].reasons


def test_the_best_keep_go_on_best_first_and_the_rest_say_why() -> None:
    names = {"LOW": 0.2, "HIGH": 0.9, "MID": 0.5}
    candidates = [replace(candidate(s), catalyst_score=v) for s, v in names.items()]
    result = rank_candidates(candidates, {}, params=RankParams(keep=2), stops=STOPS)
    assert [c.symbol for c in result.kept] == ["HIGH", "MID"]
    assert result.rejected[0].symbol == "LOW"
    assert "not in the top 2 (rank 3)" in result.rejected[0].reason


optional = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))


@given(
    rsi=optional,
    hist=optional,
    fast=optional,
    slow=optional,
    vwap=optional,
    percent_b=optional,
    surge=optional,
    close=st.floats(min_value=0.01, max_value=1e5),
    catalyst=st.floats(min_value=0, max_value=1),
    strength=st.floats(min_value=0.01, max_value=1),
)
def test_confidence_is_always_in_zero_one(
    rsi: float | None,
    hist: float | None,
    fast: float | None,
    slow: float | None,
    vwap: float | None,
    percent_b: float | None,
    surge: float | None,
    close: float,
    catalyst: float,
    strength: float,
) -> None:
    technicals = Technicals(
        rsi=rsi,
        macd_histogram=hist,
        ema_fast=fast,
        ema_slow=slow,
        vwap=vwap,
        bollinger_percent_b=percent_b,
        volume_surge=surge,
    )
    score = technical_score(technicals, close, PARAMS)
    assert score is None or 0.0 <= score <= 1.0
    pattern = replace(ORB, strength=strength)
    item = replace(candidate("AAA", last_price="10.00"), catalyst_score=catalyst)
    (ranked,) = rank_candidates(
        [item],
        {"AAA": analysis(technicals=technicals, pattern=pattern)},
        params=PARAMS,
        stops=STOPS,
    ).kept
    assert math.isfinite(ranked.confidence)
    assert 0.0 <= ranked.confidence <= 1.0
