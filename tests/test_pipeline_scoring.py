import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stubs import asset, snapshot

from catalyst.domain.models import NewsItem
from catalyst.pipeline.candidates import CatalystFeatures, UniverseMember
from catalyst.pipeline.scoring import confidence, score_catalysts

D = Decimal
NOW = datetime(2024, 5, 1, 15, 0, tzinfo=UTC)


def member(symbol: str = "AAA", **changes: Any) -> UniverseMember:
    # $10.40: 4 % above the day's open, 9.5 % above the previous close.
    prices = {
        "last_price": "10.40",
        "day_open": "10.00",
        "day_high": "10.50",
        "day_low": "9.90",
        "prev_close": "9.50",
    }
    return UniverseMember(
        asset=asset(symbol, exchange="NYSE", sector="Energy"),
        snapshot=snapshot(symbol, timestamp=NOW, **{**prices, **changes}),
    )


def news(item_id: str, *symbols: str) -> NewsItem:
    return NewsItem(id=item_id, headline="h", symbols=symbols, created_at=NOW)


def score_one(
    m: UniverseMember,
    avg: float = 2_000_000.0,
    fraction: float = 0.25,
    items: tuple[NewsItem, ...] = (),
) -> Any:
    [candidate] = score_catalysts(
        [m], avg_daily_volume={m.symbol: avg}, news=items, session_fraction_elapsed=fraction
    )
    return candidate


def test_scoring_in_session_measures_momentum_from_open_and_gap_from_previous_close() -> None:
    c = score_one(member())
    assert c.features.momentum_pct == pytest.approx(4.0)
    assert c.features.gap_pct == pytest.approx(100 * 0.5 / 9.5)
    assert c.features.relative_volume == pytest.approx(2.0)  # 1M / (2M x 0.25)
    assert c.symbol == "AAA"
    assert c.sector == "Energy"
    assert c.last_price == D("10.40")
    assert any("momentum +4.0% vs open" in r for r in c.reasons)


def test_scoring_before_the_open_measures_momentum_from_previous_close_and_no_gap() -> None:
    c = score_one(member(day_open=D("0"), day_volume=0, last_price=D("9.88")), fraction=0.0)
    assert c.features.momentum_pct == pytest.approx(4.0)
    assert c.features.gap_pct == 0.0
    assert c.features.relative_volume == 0.0


def test_scoring_floors_the_session_fraction_so_early_volume_is_not_extrapolated_wildly() -> None:
    c = score_one(member(day_volume=100_000), avg=1_000_000.0, fraction=0.0)
    assert c.features.relative_volume == pytest.approx(2.0)  # 100k / (1M x 0.05)


def test_scoring_counts_distinct_news_items_for_the_symbol_only() -> None:
    items = (news("1", "AAA"), news("1", "AAA"), news("2", "AAA", "BBB"), news("3", "BBB"))
    c = score_one(member(), items=items)
    assert c.features.news_count == 2
    assert "2 news items" in c.reasons


@pytest.mark.parametrize("avg", [0.0, -5.0, math.nan, math.inf, -math.inf])
def test_scoring_without_a_usable_volume_baseline_uses_zero_relative_volume(avg: float) -> None:
    c = score_one(member(), avg=avg)
    assert c.features.relative_volume == 0.0
    assert "no volume baseline" in c.reasons


def test_scoring_caps_relative_volume_when_the_baseline_is_absurdly_small() -> None:
    c = score_one(member(), avg=1e-300)
    assert c.features.relative_volume == 1e6
    assert 0.0 <= c.confidence <= 1.0


def test_scoring_missing_average_is_reported_as_no_baseline() -> None:
    [c] = score_catalysts([member()], avg_daily_volume={}, news=(), session_fraction_elapsed=0.5)
    assert c.features.relative_volume == 0.0
    assert "no volume baseline" in c.reasons


def test_scoring_a_strong_catalyst_scores_one() -> None:
    m = member(
        day_open=D("10.00"), prev_close=D("9.00"), last_price=D("10.50"), day_volume=5_000_000
    )
    items = tuple(news(str(i), "AAA") for i in range(3))
    assert score_one(m, avg=1_000_000.0, fraction=1.0, items=items).confidence == pytest.approx(1.0)


def test_scoring_a_falling_stock_scores_zero_however_loud_its_volume_and_news() -> None:
    m = member(last_price=D("9.70"), day_volume=50_000_000)  # -3 % from the open
    items = tuple(news(str(i), "AAA") for i in range(5))
    c = score_one(m, items=items)
    assert c.confidence == 0.0
    assert any("falling" in r for r in c.reasons)


def test_scoring_a_quiet_flat_stock_scores_low() -> None:
    c = score_one(
        member(last_price=D("10.00"), prev_close=D("10.00")), avg=4_000_000.0, fraction=1.0
    )
    assert c.confidence == 0.0


@pytest.mark.parametrize(
    "changes",
    [
        {"day_open": D("NaN")},
        {"prev_close": D("0")},
        {"last_price": D("Infinity")},
        {"last_price": D("sNaN")},
        {"prev_close": D("1E-999999")},
        {"day_volume": -1},
    ],
)
def test_scoring_never_raises_on_odd_snapshot_numbers(changes: dict[str, Any]) -> None:
    c = score_one(member(**changes), fraction=math.nan)
    assert 0.0 <= c.confidence <= 1.0
    for value in (c.features.momentum_pct, c.features.gap_pct, c.features.relative_volume):
        assert math.isfinite(value)


any_float = st.floats(allow_nan=True, allow_infinity=True)
feature_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(any_float, any_float, any_float, st.integers(min_value=-10, max_value=10**6))
def test_confidence_is_always_finite_and_within_zero_and_one(
    momentum: float, gap: float, rel_volume: float, news_count: int
) -> None:
    value = confidence(CatalystFeatures(momentum, gap, rel_volume, news_count))
    assert math.isfinite(value)
    assert 0.0 <= value <= 1.0


@given(feature_floats, feature_floats, feature_floats, feature_floats, st.integers(0, 10))
def test_confidence_never_falls_when_relative_volume_rises(
    momentum: float, gap: float, rv_a: float, rv_b: float, news_count: int
) -> None:
    low, high = sorted((rv_a, rv_b))
    assert confidence(CatalystFeatures(momentum, gap, low, news_count)) <= confidence(
        CatalystFeatures(momentum, gap, high, news_count)
    )


@given(feature_floats, feature_floats, feature_floats, feature_floats, st.integers(0, 10))
def test_confidence_never_falls_when_momentum_rises(
    m_a: float, m_b: float, gap: float, rel_volume: float, news_count: int
) -> None:
    low, high = sorted((m_a, m_b))
    assert confidence(CatalystFeatures(low, gap, rel_volume, news_count)) <= confidence(
        CatalystFeatures(high, gap, rel_volume, news_count)
    )


decimals = st.decimals(allow_nan=True, allow_infinity=True)


@given(
    last=decimals,
    day_open=decimals,
    prev_close=decimals,
    day_volume=st.integers(min_value=-(10**12), max_value=10**12),
    avg=any_float,
    fraction=any_float,
)
def test_score_catalysts_is_total_over_arbitrary_numbers(
    last: Decimal,
    day_open: Decimal,
    prev_close: Decimal,
    day_volume: int,
    avg: float,
    fraction: float,
) -> None:
    m = member(last_price=last, day_open=day_open, prev_close=prev_close, day_volume=day_volume)
    [c] = score_catalysts(
        [m], avg_daily_volume={"AAA": avg}, news=(), session_fraction_elapsed=fraction
    )
    assert 0.0 <= c.confidence <= 1.0
    assert all(
        math.isfinite(v)
        for v in (c.features.momentum_pct, c.features.gap_pct, c.features.relative_volume)
    )
