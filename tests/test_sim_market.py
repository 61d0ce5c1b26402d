"""Synthetic market: determinism, bar sanity, catalysts and no look-ahead."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from catalyst.domain.models import Bar, TradingSession
from catalyst.domain.ticks import is_valid_tick, tick_size
from catalyst.sim.feed import SyntheticMarketFeed
from catalyst.sim.market import SyntheticMarket
from catalyst.sim.ticks import round_to_tick, sub_penny_reason
from catalyst.sim.universe import GICS_SECTORS, build_universe
from catalyst.timekeeping.calendar import ExchangeCalendar

CALENDAR = ExchangeCalendar(first_day=date(2026, 1, 1), last_day=date(2027, 12, 31))
DAY = date(2026, 11, 24)
OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
CLOSE = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
SESSION = TradingSession(day=DAY, open=OPEN, close=CLOSE)


def _market(
    seed: int = 7, n: int = 200, previous_closes: dict[str, Decimal] | None = None
) -> SyntheticMarket:
    return SyntheticMarket(
        seed, n, SESSION, history_days=10, catalyst_fraction=0.05, previous_closes=previous_closes
    )


def _assert_sane(bars: list[Bar]) -> None:
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.low > 0
        assert bar.volume >= 0
        assert all(is_valid_tick(p) for p in (bar.open, bar.high, bar.low, bar.close))


# ---------------------------------------------------------------------------------- ticks


def test_sub_penny_reason_matches_alpacas_message() -> None:
    assert sub_penny_reason("limit_price", Decimal("290.123")) == (
        "invalid limit_price 290.123. sub-penny increment does not fulfill minimum pricing criteria"
    )
    assert sub_penny_reason("limit_price", Decimal("290.12")) is None


def test_round_to_tick_respects_direction_and_the_one_dollar_boundary() -> None:
    assert round_to_tick(Decimal("10.011"), "up") == Decimal("10.02")
    assert round_to_tick(Decimal("10.019"), "down") == Decimal("10.01")
    assert round_to_tick(Decimal("0.99996"), "up") == Decimal("1.00")
    assert round_to_tick(Decimal("0.123456")) == Decimal("0.1235")
    assert tick_size(Decimal("0.5")) == Decimal("0.0001")


# ------------------------------------------------------------------------------- universe


def test_universe_has_unique_three_or_four_letter_tickers_with_sectors_and_few_untradable() -> None:
    universe = build_universe(7, 3000)
    assert len(set(universe.symbols)) == 3000
    assert all(re.fullmatch(r"[A-Z]{3,4}", s) for s in universe.symbols)
    assert {s for s in universe.sectors if s is not None} == set(GICS_SECTORS)
    unknown = sum(s is None for s in universe.sectors)
    assert 20 <= unknown <= 110  # ~2 %
    untradable = int((~universe.tradable).sum())
    assert 8 <= untradable <= 60  # ~1 %
    assert universe.base_price.max() <= 400
    assert 10 <= int((universe.base_price < 1).sum()) <= 100


def test_universe_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    assert build_universe(7, 300).symbols == build_universe(7, 300).symbols
    assert build_universe(7, 300).symbols != build_universe(8, 300).symbols


# ---------------------------------------------------------------------------------- market


def test_market_is_deterministic_for_a_seed_and_date() -> None:
    first, second = _market(), _market()
    for name in ("open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert first.news == second.news


def test_market_differs_on_another_date_with_the_same_seed() -> None:
    other = TradingSession(
        day=date(2026, 11, 25), open=OPEN + timedelta(days=1), close=CLOSE + timedelta(days=1)
    )
    assert not np.array_equal(
        _market().close, SyntheticMarket(7, 200, other, history_days=10).close
    )


def test_regular_day_has_390_minutes_and_early_close_210() -> None:
    early = CALENDAR.session(date(2026, 11, 27))
    assert early is not None
    assert _market().minutes == 390
    assert SyntheticMarket(7, 50, early, history_days=5).minutes == 210


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_minute_and_daily_bar_satisfies_ohlc_invariants(seed: int) -> None:
    market = SyntheticMarket(seed, 40, SESSION, history_days=5, catalyst_fraction=0.2)
    symbols = list(market.universe.symbols)
    for bars in market.minute_bars(symbols, OPEN, CLOSE, CLOSE).values():
        assert len(bars) == 390
        _assert_sane(bars)
    for bars in market.daily_bars(symbols, 5).values():
        assert len(bars) == 5
        _assert_sane(bars)


def test_minute_bars_only_include_minutes_completed_before_the_asking_instant() -> None:
    market = _market()
    symbol = market.universe.symbols[0]
    at = OPEN + timedelta(minutes=30, seconds=30)
    bars = market.minute_bars([symbol], OPEN - timedelta(hours=1), CLOSE, at)[symbol]
    assert len(bars) == 30
    assert bars[-1].timestamp == OPEN + timedelta(minutes=29)
    assert all(bar.timestamp + timedelta(minutes=1) <= at for bar in bars)


def test_minute_bars_respect_a_half_open_window() -> None:
    market = _market()
    symbol = market.universe.symbols[0]
    bars = market.minute_bars(
        [symbol], OPEN + timedelta(minutes=10), OPEN + timedelta(minutes=20), CLOSE
    )
    assert [b.timestamp for b in bars[symbol]] == [
        OPEN + timedelta(minutes=m) for m in range(10, 20)
    ]


def test_snapshot_and_bars_before_an_instant_do_not_depend_on_prices_after_it() -> None:
    plain, shocked = _market(), _market()
    shock_at = OPEN + timedelta(minutes=90)
    shocked.shock(shock_at, -0.3)
    symbols = list(plain.universe.symbols)
    before = shock_at - timedelta(seconds=1)
    assert plain.snapshots(symbols, before) == shocked.snapshots(symbols, before)
    assert plain.minute_bars(symbols, OPEN, CLOSE, before) == shocked.minute_bars(
        symbols, OPEN, CLOSE, before
    )
    assert plain.snapshots(symbols, shock_at) != shocked.snapshots(symbols, shock_at)


def test_price_inside_a_minute_is_that_minutes_open_and_after_close_the_last_close() -> None:
    market = _market()
    symbol = market.universe.symbols[3]
    opens = market.minute_bars([symbol], OPEN, CLOSE, CLOSE)[symbol]
    assert market.price_at(symbol, OPEN + timedelta(minutes=5, seconds=40)) == opens[5].open
    assert market.price_at(symbol, CLOSE + timedelta(hours=2)) == opens[-1].close


def test_news_is_visible_only_once_created() -> None:
    market = _market(n=1000)
    symbols = list(market.universe.symbols)
    midday = OPEN + timedelta(hours=3)
    seen = market.news_since(symbols, OPEN - timedelta(days=1), midday)
    assert seen
    assert all(item.created_at <= midday for item in seen)
    later = market.news_since(symbols, OPEN - timedelta(days=1), CLOSE)
    assert len(later) > len(seen)  # routine news during the afternoon were hidden at midday


def test_catalyst_symbols_gap_trade_heavy_volume_and_have_news_before_the_open() -> None:
    market = _market(n=400)
    catalysts = market.catalyst_symbols
    assert len(catalysts) == 20
    news = market.news_since(catalysts, OPEN - timedelta(days=1), OPEN)
    assert {item.symbols[0] for item in news} == set(catalysts)
    assert all(item.created_at <= OPEN for item in news)
    daily = market.daily_bars(catalysts, 10)
    for symbol in catalysts:
        col = market.universe.index[symbol]
        prev_close = float(market.history.close[-1, col])
        gap = abs(float(market.open[0, col]) / prev_close - 1)
        slack = float(tick_size(Decimal(str(prev_close)))) / prev_close
        assert 0.03 - slack <= gap <= 0.12 + slack
        average = sum(bar.volume for bar in daily[symbol]) / len(daily[symbol])
        assert 2.9 <= int(market.volume[:, col].sum()) / average <= 8.0


def test_ordinary_symbols_gap_at_most_two_percent() -> None:
    market = _market(n=400)
    ordinary = ~market.catalyst
    prev_close = market.history.close[-1, ordinary]
    gaps = np.abs(market.open[0, ordinary] / prev_close - 1)
    rounding = np.where(prev_close >= 1, 0.005, 0.00005) / prev_close
    assert (gaps <= 0.02 + rounding + 1e-9).all()


def test_premarket_snapshot_shows_the_gap_against_the_previous_close() -> None:
    market = _market(n=400)
    symbol = market.catalyst_symbols[0]
    snapshot = market.snapshot(symbol, OPEN - timedelta(minutes=15))
    assert snapshot is not None
    col = market.universe.index[symbol]
    assert snapshot.last_price == Decimal(f"{market.open[0, col]:.2f}")
    assert snapshot.prev_close == market.daily_bars([symbol], 1)[symbol][0].close
    assert snapshot.last_price != snapshot.prev_close
    assert 0 < snapshot.day_volume < snapshot.prev_volume
    assert snapshot.bid is not None
    assert snapshot.ask is not None
    assert snapshot.bid < snapshot.last_price < snapshot.ask


def test_shock_moves_every_price_from_its_minute_on() -> None:
    plain, shocked = _market(), _market()
    shocked.shock(OPEN + timedelta(minutes=100, seconds=20), -0.1)
    assert np.array_equal(plain.close[:100], shocked.close[:100])
    ratio = shocked.close[100:] / plain.close[100:]
    big = plain.close[100:] >= 5  # rounding dominates on penny stocks
    assert np.allclose(ratio[big], 0.9, atol=0.003)


def test_next_day_opens_from_todays_closes_and_rolls_the_history() -> None:
    today = _market()
    session = CALENDAR.session(date(2026, 11, 25))
    assert session is not None
    tomorrow = today.next_day(session)
    assert np.array_equal(tomorrow.history.close[-1], today.close[-1])
    assert tomorrow.history.dates[-1] == DAY
    assert tomorrow.history.dates[:-1] == today.history.dates[1:]
    assert tomorrow.universe is today.universe


def test_fresh_market_history_ends_at_the_given_previous_closes() -> None:
    symbol = build_universe(7, 200).symbols[0]
    market = _market(previous_closes={symbol: Decimal("12.34")})
    assert market.daily_bars([symbol], 1)[symbol][0].close == Decimal("12.34")


def test_feed_uses_calendar_sessions_for_history_dates() -> None:
    feed = SyntheticMarketFeed(seed=1, n_symbols=20, sessions=CALENDAR, history_days=5)
    session = CALENDAR.session(date(2026, 11, 30))
    assert session is not None
    market = feed.market_for(session)
    # Thanksgiving (11-26) is not a session; the early-close 11-27 is.
    assert market.history.dates == (
        date(2026, 11, 20),
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 27),
    )
