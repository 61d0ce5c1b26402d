"""The fake Alpaca market-data API, driven by alpaca-py's real data clients over HTTP."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from test_fake_alpaca_env import START, Env, serving

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.data.enums import MostActivesBy
    from alpaca.data.requests import (
        MostActivesRequest,
        NewsRequest,
        StockBarsRequest,
        StockSnapshotRequest,
    )
    from alpaca.data.timeframe import TimeFrame

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.fake_alpaca import STATE
from catalyst.fake_alpaca.wire import rfc3339


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    """A fake server at 2026-11-24 10:00 ET (in session)."""
    async with serving() as running:
        yield running


OPEN = START.replace(hour=9, minute=30)


async def test_snapshots_map_symbols_and_skip_unknown_ones(env: Env) -> None:
    symbols = [s for s, _ in env.priced()[:2]]
    snaps = await env.call(
        env.data.get_stock_snapshot, StockSnapshotRequest(symbol_or_symbols=[*symbols, "ZZZZZ"])
    )
    assert sorted(snaps) == sorted(symbols)
    snap = snaps[symbols[0]]
    expected = env.exchange.market.snapshots([symbols[0]], env.exchange.now)[symbols[0]]
    assert snap.latest_trade is not None
    assert snap.latest_trade.price == float(expected.last_price)
    assert snap.daily_bar is not None
    assert snap.daily_bar.volume == expected.day_volume
    assert snap.previous_daily_bar is not None
    assert snap.previous_daily_bar.close == float(expected.prev_close)
    assert snap.minute_bar is not None
    assert snap.minute_bar.timestamp == START - timedelta(minutes=1)


async def test_minute_bars_paginate_across_symbols_with_a_user_limit(env: Env) -> None:
    symbols = [s for s, _ in env.priced()[:2]]
    request = StockBarsRequest(
        symbol_or_symbols=symbols, timeframe=TimeFrame.Minute, start=OPEN, end=START
    )
    everything = await env.call(env.data.get_stock_bars, request)
    assert [len(everything.data[s]) for s in symbols] == [30, 30]  # completed bars only
    env.data._use_raw_data = True
    raw = await env.call(
        env.data.get,
        "/stocks/bars",
        {"symbols": ",".join(symbols), "timeframe": "1Min", "start": OPEN.isoformat(), "limit": 40},
    )
    assert raw["next_page_token"] is not None
    assert sum(len(v) for v in raw["bars"].values()) == 40
    env.data._use_raw_data = False
    limited = StockBarsRequest(
        symbol_or_symbols=symbols, timeframe=TimeFrame.Minute, start=OPEN, limit=45
    )
    some = await env.call(env.data.get_stock_bars, limited)
    assert sum(len(v) for v in some.data.values()) == 45


async def test_daily_bars_end_with_todays_bar_so_far(env: Env) -> None:
    symbol = env.symbol()
    request = StockBarsRequest(
        symbol_or_symbols=symbol,
        timeframe=TimeFrame.Day,
        start=datetime(2026, 11, 1, tzinfo=START.tzinfo),
    )
    bars = (await env.call(env.data.get_stock_bars, request)).data[symbol]
    assert bars[-1].timestamp.date() == START.date()
    assert all(a.timestamp < b.timestamp for a, b in itertools.pairwise(bars))


async def test_news_pages_to_the_end_and_never_shows_the_future(env: Env) -> None:
    news = await env.call(env.news.get_news, NewsRequest(start=START - timedelta(days=1)))
    items = news.data["news"]
    assert items
    assert all(item.created_at <= env.clock.now() for item in items)
    env.news._use_raw_data = True
    page = await env.call(env.news.get, "/news", {"limit": 1})
    assert len(page["news"]) == 1
    assert page["next_page_token"] is not None or len(items) == 1


async def test_most_actives_are_ranked_by_volume(env: Env) -> None:
    actives = await env.call(
        env.screener.get_most_actives, MostActivesRequest(top=5, by=MostActivesBy.VOLUME)
    )
    volumes = [a.volume for a in actives.most_actives]
    assert len(volumes) == 5
    assert volumes == sorted(volumes, reverse=True)


PRE_MARKET = START.replace(hour=9, minute=15)
PREVIOUS_SESSION = START.date() - timedelta(days=1)  # Monday 2026-11-23


async def test_snapshots_before_the_open_carry_yesterdays_bar_and_the_premarket_trade() -> None:
    async with serving(PRE_MARKET) as env:
        symbols = [a.symbol for a in env.exchange.assets()]
        snaps = await env.call(
            env.data.get_stock_snapshot, StockSnapshotRequest(symbol_or_symbols=symbols)
        )
        market = env.exchange.market
        assert sorted(snaps) == sorted(symbols)  # a snapshot for every symbol, none left out
        history = market.daily_bars(symbols, 2)
        premarket = market.snapshots(symbols, env.exchange.now)
        for symbol, snap in snaps.items():
            before, yesterday = history[symbol]
            assert snap.daily_bar is not None
            assert snap.daily_bar.timestamp.astimezone(EXCHANGE_TZ).date() == PREVIOUS_SESSION
            assert snap.daily_bar.close == float(yesterday.close)
            assert snap.daily_bar.volume == yesterday.volume
            assert snap.previous_daily_bar is not None
            assert snap.previous_daily_bar.close == float(before.close)
            assert snap.latest_trade is not None
            assert snap.latest_trade.price == float(premarket[symbol].last_price)
            assert snap.latest_trade.timestamp <= env.clock.now()
            assert snap.minute_bar is None  # yesterday's minutes were never built


async def test_snapshots_before_the_open_show_yesterdays_last_minute_once_it_was_served() -> None:
    async with serving(START - timedelta(days=1)) as env:
        symbol = env.symbol()
        await env.call(env.data.get_stock_snapshot, StockSnapshotRequest(symbol_or_symbols=symbol))
        env.clock.advance_to(PRE_MARKET)
        snap = (
            await env.call(
                env.data.get_stock_snapshot, StockSnapshotRequest(symbol_or_symbols=symbol)
            )
        )[symbol]
        assert snap.minute_bar is not None
        assert snap.minute_bar.timestamp == datetime.combine(
            PREVIOUS_SESSION, time(15, 59), EXCHANGE_TZ
        )
        assert snap.daily_bar is not None
        assert snap.daily_bar.close == snap.minute_bar.close  # the session's last close


async def test_snapshots_at_the_open_have_todays_bar_and_no_minute_bar_yet() -> None:
    async with serving(OPEN) as env:
        symbol = env.symbol()
        snap = (
            await env.call(
                env.data.get_stock_snapshot, StockSnapshotRequest(symbol_or_symbols=symbol)
            )
        )[symbol]
        assert snap.daily_bar is not None
        assert snap.daily_bar.timestamp.astimezone(EXCHANGE_TZ).date() == START.date()
        assert snap.previous_daily_bar is not None
        assert snap.previous_daily_bar.timestamp.astimezone(EXCHANGE_TZ).date() == PREVIOUS_SESSION
        assert snap.minute_bar is None


async def test_every_request_is_counted_with_its_target_length(env: Env) -> None:
    state = env.server.app[STATE]
    before = state.request_count("GET /v2/stocks/")
    symbols = [a.symbol for a in env.exchange.assets()]
    await env.call(env.data.get_stock_snapshot, StockSnapshotRequest(symbol_or_symbols=symbols))
    await env.call(env.trading.get_clock)
    assert state.request_count("GET /v2/stocks/snapshots") - before == 1
    assert state.request_count("GET /v2/clock") == 1
    # 300 symbols of 3-4 letters, "%2C" between them, plus "/v2/stocks/snapshots?symbols=".
    assert (
        state.longest_target
        == len("/v2/stocks/snapshots?symbols=") + sum(len(s) + 3 for s in symbols) - 3
    )


async def _all_pages(env: Env, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(symbol, timestamp) of every bar, page by page, in the order served."""
    env.data._use_raw_data = True
    rows: list[tuple[str, str]] = []
    token = None
    while True:
        query = {**params, **({"page_token": token} if token else {})}
        page = await env.call(env.data.get, "/stocks/bars", query)
        rows += [(symbol, bar["t"]) for symbol, bars in page["bars"].items() for bar in bars]
        token = page["next_page_token"]
        if token is None:
            return rows


@pytest.mark.parametrize("sort", ["asc", "desc"])
async def test_minute_bar_pages_cut_the_symbol_then_time_list_without_gaps(sort: str) -> None:
    async with serving(START - timedelta(days=1)) as env:
        symbols = [s for s, _ in env.priced()[:3]]
        await env.call(env.trading.get_clock)  # builds yesterday's market
        env.clock.advance_to(START)
        start = START - timedelta(days=1, minutes=20)  # yesterday 09:40 to today 10:00
        rows = await _all_pages(
            env,
            {
                "symbols": ",".join(symbols),
                "timeframe": "1Min",
                "start": start.isoformat(),
                "end": START.isoformat(),
                "limit": 7,
                "sort": sort,
            },
        )
        expected = [
            (symbol, rfc3339(bar.timestamp))
            for symbol in sorted(symbols)
            for market in env.exchange.feed.recent_markets()
            for bar in market.minute_bars([symbol], start, START, env.exchange.now)[symbol]
        ]
        assert len(expected) == 3 * (380 + 30)  # yesterday from 09:40, today's first 30
        if sort == "desc":
            expected = [
                row
                for symbol in sorted(symbols)
                for row in reversed([r for r in expected if r[0] == symbol])
            ]
        assert rows == expected


async def test_daily_bar_pages_hold_history_then_todays_bar(env: Env) -> None:
    symbols = [s for s, _ in env.priced()[:4]]
    params = {
        "symbols": ",".join(symbols),
        "timeframe": "1Day",
        "start": datetime(2026, 11, 17, tzinfo=EXCHANGE_TZ).isoformat(),
        "end": START.isoformat(),
    }
    one_page = await _all_pages(env, {**params, "limit": 10000})
    assert await _all_pages(env, {**params, "limit": 3}) == one_page
    per_symbol = [t for s, t in one_page if s == sorted(symbols)[0]]
    # History from Tue 17th to Mon 23rd (no weekend bars), then today's bar so far.
    assert [t[:10] for t in per_symbol] == [
        "2026-11-17",
        "2026-11-18",
        "2026-11-19",
        "2026-11-20",
        "2026-11-23",
        "2026-11-24",
    ]
