"""Stage 3, the catalyst filter: gap, momentum, relative volume at the time of day, and news."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stubs import asset, snapshot

from catalyst.pipeline.candidates import UniverseMember
from catalyst.pipeline.catalysts import CatalystParams, catalyst_candidate, screen_catalysts
from catalyst.pipeline.news import NewsScore

PARAMS = CatalystParams()
HALF_DAY = 0.5  # half a normal day's volume is expected by now (the U-shaped day)


def member(symbol: str = "AAA", **snap: object) -> UniverseMember:
    return UniverseMember(asset(symbol), snapshot(symbol, **snap))  # type: ignore[arg-type]


def news(score: float, *reasons: str) -> NewsScore:
    return NewsScore(score=score, headlines=(), reasons=reasons, item_count=len(reasons))


def scored(
    m: UniverseMember,
    *,
    average: float | None = 1_000_000,
    story: NewsScore | None = None,
    fraction: float = HALF_DAY,
    premarket: bool = False,
    params: CatalystParams = PARAMS,
):
    return catalyst_candidate(
        m,
        average_daily_volume=average,
        news=story,
        session_fraction=fraction,
        premarket=premarket,
        params=params,
    )


def test_a_gap_and_go_on_heavy_volume_with_strong_news_scores_full_marks() -> None:
    # Open 5 % above the close, up 4 % since, 2.5 days' volume by midday, a strong story.
    strong = member(prev_close="10.00", day_open="10.50", last_price="10.92", day_volume=2_500_000)
    candidate = scored(strong, story=news(0.95, "FDA/clinical: 'wins FDA approval'"))

    assert candidate.catalyst_score == pytest.approx(0.9875)
    assert candidate.features.gap_pct == pytest.approx(5.0)
    assert candidate.features.momentum_pct == pytest.approx(4.0)
    assert candidate.features.relative_volume == pytest.approx(5.0)
    assert "FDA/clinical: 'wins FDA approval'" in candidate.reasons
    assert candidate.news is not None


def test_relative_volume_is_judged_against_the_same_time_of_day() -> None:
    same_volume = member(day_volume=500_000)
    early = scored(same_volume, fraction=0.1)  # 17 % of a day expected 39 minutes in
    late = scored(same_volume, fraction=0.9)
    assert early.features.relative_volume == pytest.approx(500_000 / 172_000)
    assert late.features.relative_volume is not None
    assert early.features.relative_volume > 2 * late.features.relative_volume


def test_a_falling_stock_scores_nothing_however_loud() -> None:
    falling = member(prev_close="10.00", day_open="10.50", last_price="10.29", day_volume=5_000_000)
    assert scored(falling, story=news(0.9)).catalyst_score == 0.0
    assert "falling price: long-only score scaled down" in scored(falling).reasons


def test_bad_news_scales_the_score_down_by_its_size() -> None:
    m = member(prev_close="10.00", day_open="10.30", last_price="10.50", day_volume=1_500_000)
    plain = scored(m).catalyst_score
    assert scored(m, story=news(-0.5)).catalyst_score == pytest.approx(plain * 0.5)
    assert scored(m, story=news(-1.0)).catalyst_score == 0.0


def test_before_the_open_the_pre_market_gap_counts_and_volume_is_not_judged() -> None:
    # The 09:15 shape: no session bar yet, last trade from the pre-market.
    pre = member(prev_close="10.00", day_open="0", day_volume=0, last_price="10.50")
    candidate = scored(pre, premarket=True, fraction=0.0, story=news(0.8))

    assert candidate.features.relative_volume is None
    assert candidate.features.gap_pct == pytest.approx(5.0)
    assert candidate.features.momentum_pct == pytest.approx(5.0)
    # Momentum and gap full, news 0.8: the volume weight shared out over the other three.
    assert candidate.catalyst_score == pytest.approx((0.30 + 0.15 + 0.25 * 0.8) / 0.70)
    assert "pre-market gap +5.0%" in candidate.reasons


def test_no_volume_baseline_counts_as_no_relative_volume() -> None:
    candidate = scored(member(), average=None)
    assert candidate.features.relative_volume == 0.0
    assert "no volume baseline" in candidate.reasons


def test_the_filter_keeps_the_best_k_best_first_ties_by_symbol() -> None:
    members = [
        member("QUIET", last_price="19.55"),
        member("HOT", last_price="20.28", day_volume=3_000_000),
        member("BBB", last_price="19.80"),
        member("AAA", last_price="19.80"),
    ]
    result = screen_catalysts(
        members,
        average_daily_volume={m.symbol: 1_000_000 for m in members},
        news={},
        session_fraction=HALF_DAY,
        premarket=False,
        params=CatalystParams(keep=3),
    )
    assert [c.symbol for c in result.kept] == ["HOT", "AAA", "BBB"]
    (dropped,) = result.rejected
    assert dropped.symbol == "QUIET"
    assert "not in the top 3 (rank 4)" in dropped.reason


def test_params_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="keep"):
        CatalystParams(keep=0)
    with pytest.raises(ValueError, match="catalyst weight"):
        CatalystParams(momentum_weight=0, volume_weight=0, gap_weight=0, news_weight=0)
    with pytest.raises(ValueError, match="rel_volume_full"):
        CatalystParams(rel_volume_full=1.0)


prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("1e6"), allow_nan=False, places=4)


@given(
    last=prices,
    day_open=prices,
    prev_close=prices,
    day_volume=st.integers(min_value=0, max_value=10**12),
    average=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    news_score=st.floats(min_value=-1, max_value=1),
    fraction=st.floats(allow_nan=True, allow_infinity=True),
    premarket=st.booleans(),
)
def test_the_score_is_always_in_zero_one_and_every_feature_finite(
    last: Decimal,
    day_open: Decimal,
    prev_close: Decimal,
    day_volume: int,
    average: float | None,
    news_score: float,
    fraction: float,
    premarket: bool,
) -> None:
    m = member(last_price=last, day_open=day_open, prev_close=prev_close, day_volume=day_volume)
    candidate = scored(
        m, average=average, story=news(news_score), fraction=fraction, premarket=premarket
    )
    assert 0.0 <= candidate.catalyst_score <= 1.0
    values = candidate.features.as_dict().values()
    assert all(v is None or math.isfinite(v) for v in values)
