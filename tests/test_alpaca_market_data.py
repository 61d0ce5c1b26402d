"""The Alpaca adapter's market data through real alpaca-py, over HTTP, against the fake server:
the pre-market snapshot shape, and how many requests each read takes (counted at the server)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from alpaca_broker import alpaca_broker

from catalyst.brokers.alpaca import AlpacaBroker
from catalyst.brokers.alpaca.batching import symbol_batches
from catalyst.config.models import SimulationConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.fake_alpaca import STATE, FakeAlpaca, start_fake_alpaca
from catalyst.fake_alpaca.payloads import news_id
from catalyst.sim.broker import build_sim_broker
from catalyst.sim.exchange import SimExchange
from catalyst.sim.market import SyntheticMarket
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

CALENDAR = ExchangeCalendar(first_day=date(2026, 1, 1), last_day=date(2027, 12, 31))
DAY = date(2026, 11, 24)  # a Tuesday
OPEN = datetime(2026, 11, 24, 9, 30, tzinfo=EXCHANGE_TZ)
CLOSE = datetime(2026, 11, 24, 16, 0, tzinfo=EXCHANGE_TZ)
PRE_MARKET = OPEN - timedelta(minutes=15)


@dataclass(eq=False)
class Rig:
    broker: AlpacaBroker
    server: FakeAlpaca
    exchange: SimExchange
    clock: SimClock

    @property
    def market(self) -> SyntheticMarket:
        return self.exchange.market

    def symbols(self) -> list[str]:
        return [a.symbol for a in self.exchange.assets()]

    def requests(self, path: str) -> int:
        return self.server.request_count(f"GET {path}")


@contextlib.asynccontextmanager
async def rig(at: datetime, *, symbols: int = 300) -> AsyncIterator[Rig]:
    """The Alpaca adapter against a fake server over a fresh simulator, the clock at `at`."""
    clock = SimClock(at)
    config = SimulationConfig(seed=11, symbols=symbols, history_days=10, catalyst_fraction=0.05)
    sim = build_sim_broker(config, CALENDAR, clock)
    server = await start_fake_alpaca(sim.exchange, CALENDAR, clock)
    url = server.base_url
    broker = alpaca_broker(url, clock, requests_per_minute=100_000, timeout_seconds=5.0)
    try:
        yield Rig(broker, server.app[STATE], sim.exchange, clock)
    finally:
        await server.stop()


# -------------------------------------------------------------------- pre-market snapshots


async def test_premarket_snapshots_cover_every_symbol_with_yesterdays_close() -> None:
    async with rig(PRE_MARKET) as r:
        symbols = r.symbols()
        snapshots = await r.broker.get_snapshots(symbols)
        assert sorted(snapshots) == sorted(symbols)  # not one screened out for want of data
        yesterday = r.market.daily_bars(symbols, 1)
        premarket = r.market.snapshots(symbols, PRE_MARKET)
        for symbol, snap in snapshots.items():
            closed = yesterday[symbol][-1]
            assert closed.timestamp.astimezone(EXCHANGE_TZ).date() == date(2026, 11, 23)
            assert (snap.prev_close, snap.prev_volume) == (closed.close, closed.volume)
            assert (snap.day_open, snap.day_high, snap.day_low, snap.day_volume) == (0, 0, 0, 0)
            assert snap.last_price == premarket[symbol].last_price  # the pre-market trade
            assert snap.timestamp <= PRE_MARKET
            assert snap.bid is not None
            assert snap.ask is not None


async def test_premarket_prices_differ_from_yesterdays_close_for_gapping_symbols() -> None:
    async with rig(PRE_MARKET) as r:
        snapshots = await r.broker.get_snapshots(r.market.catalyst_symbols)
        gaps = [abs(s.last_price / s.prev_close - 1) for s in snapshots.values()]
        assert gaps
        assert min(gaps) >= 0.025  # catalyst names gap 3-12 % (ticks round a little)


async def test_first_minute_snapshots_have_todays_session_and_yesterdays_close() -> None:
    async with rig(OPEN + timedelta(minutes=1)) as r:
        symbols = r.symbols()
        snapshots = await r.broker.get_snapshots(symbols)
        assert sorted(snapshots) == sorted(symbols)
        expected = r.market.snapshots(symbols, r.clock.now())
        yesterday = r.market.daily_bars(symbols, 1)
        for symbol, snap in snapshots.items():
            want = expected[symbol]
            assert (snap.day_open, snap.day_high, snap.day_low, snap.day_volume) == (
                want.day_open,
                want.day_high,
                want.day_low,
                want.day_volume,
            )
            assert snap.day_volume > 0
            assert snap.prev_close == yesterday[symbol][-1].close
            assert snap.last_price == want.last_price


async def test_snapshots_read_today_from_the_adapters_clock() -> None:
    # The clock is the simulated one: a wall-clock "today" (2026-12 or later) would turn
    # today's bar into "yesterday's" and zero the session.
    async with rig(OPEN + timedelta(minutes=5)) as r:
        symbol = r.symbols()[0]
        snap = (await r.broker.get_snapshots([symbol]))[symbol]
        assert snap.day_volume > 0
        assert snap.day_open > 0


# ------------------------------------------------------------------------- request counts


async def test_snapshots_of_2000_symbols_take_3_concurrent_requests() -> None:
    async with rig(OPEN + timedelta(minutes=30), symbols=2000) as r:
        symbols = r.symbols()
        snapshots = await r.broker.get_snapshots([*symbols, "NOPE"])
        assert len(snapshots) == 2000
        assert r.requests("/v2/stocks/snapshots") == 3  # 500-symbol batches took 4
        assert r.server.longest_target <= 6_100  # far under aiohttp's 8,190-byte line limit


async def test_daily_bars_for_2000_symbols_take_one_page_per_batch() -> None:
    async with rig(OPEN + timedelta(minutes=30), symbols=2000) as r:
        symbols = r.symbols()
        bars = await r.broker.get_daily_bars(symbols, 5)
        assert len(bars) == 2000
        assert all(len(series) == 5 for series in bars.values())
        # 3 batches of ~670 symbols x 10 completed daily bars: under 10,000 bars a page each.
        assert r.requests("/v2/stocks/bars") == 3


async def test_minute_bars_of_50_symbols_over_a_whole_session_take_2_pages() -> None:
    async with rig(CLOSE) as r:
        symbols = r.symbols()[:50]
        bars = await r.broker.get_intraday_bars(symbols, OPEN, CLOSE)
        assert sorted(bars) == sorted(symbols)
        assert all(len(series) == 390 for series in bars.values())
        assert r.requests("/v2/stocks/bars") == 2  # 19,500 bars, 10,000 a page


async def test_minute_bars_of_50_symbols_for_the_first_half_hour_take_1_request() -> None:
    async with rig(OPEN + timedelta(minutes=30)) as r:
        symbols = r.symbols()[:50]
        bars = await r.broker.get_intraday_bars(symbols, OPEN, r.clock.now())
        assert all(len(series) == 30 for series in bars.values())
        assert r.requests("/v2/stocks/bars") == 1


async def test_news_for_2000_symbols_pages_each_batch_to_its_end() -> None:
    async with rig(OPEN + timedelta(minutes=30), symbols=2000) as r:
        since = OPEN - timedelta(hours=3)
        items = await r.broker.get_news(r.symbols(), since)
        planted = [n for n in r.market.news if since <= n.created_at <= r.clock.now()]
        assert sorted(i.id for i in items) == sorted(str(news_id(n.id)) for n in planted)
        assert [i.created_at for i in items] == sorted(i.created_at for i in items)
        # 3 symbol batches; each pages 50 items at a time until its last (short) page.
        batches = symbol_batches(r.symbols())
        assert len(batches) == 3
        per_batch = [sum(1 for n in planted if set(n.symbols) & set(b)) for b in batches]
        assert r.requests("/v1beta1/news") == sum(max(1, -(-n // 50)) for n in per_batch)


async def test_daily_bars_are_fetched_once_per_exchange_day_and_symbol() -> None:
    async with rig(OPEN + timedelta(minutes=30)) as r:
        symbols = r.symbols()
        first = await r.broker.get_daily_bars(symbols[:100], 5)
        assert r.requests("/v2/stocks/bars") == 1
        again = await r.broker.get_daily_bars(symbols[:100], 3)
        assert r.requests("/v2/stocks/bars") == 1  # the same day: nothing fetched again
        assert again == {s: bars[-3:] for s, bars in first.items()}
        wider = await r.broker.get_daily_bars(symbols[:150], 5)
        assert r.requests("/v2/stocks/bars") == 2  # only the 50 new symbols
        assert {s: wider[s] for s in first} == first
        await r.broker.get_daily_bars(symbols[:10], 8)
        assert r.requests("/v2/stocks/bars") == 3  # more days than fetched: fetched again
        r.clock.advance_to(OPEN + timedelta(days=1))
        tomorrow = await r.broker.get_daily_bars(symbols[:10], 5)
        assert r.requests("/v2/stocks/bars") == 4  # a new day
        assert all(bars[-1].timestamp.date() == DAY for bars in tomorrow.values())
