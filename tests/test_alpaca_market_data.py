"""The Alpaca adapter's market data through real alpaca-py, over HTTP, against the fake server:
the pre-market snapshot shape, and how many requests each read takes (counted at the server)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from alpaca.data.historical.stock import StockHistoricalDataClient

from catalyst.brokers.alpaca import AlpacaBroker, make_clients
from catalyst.brokers.alpaca.batching import REQUEST_TARGET_BUDGET, symbol_batches
from catalyst.brokers.alpaca.json_pieces import PiecewiseJsonResponse
from catalyst.brokers.alpaca.news_cache import REREAD
from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.config.models import SimulationConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import NewsItem
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
    data: StockHistoricalDataClient
    url: str

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
    clients = make_clients("key", "secret", paper=True, trading_url=url, data_url=url)
    broker = AlpacaBroker(
        trading=clients.trading,
        data=clients.data,
        news=clients.news,
        clock=clock,
        limiter=RequestLimiter(clock, 100_000),
        live=False,
        timeout_seconds=60.0,  # a loaded machine must not turn a slow answer into a retry
    )
    try:
        yield Rig(broker, server.app[STATE], sim.exchange, clock, clients.data, url)
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


async def test_snapshots_of_2000_symbols_take_2_concurrent_requests() -> None:
    async with rig(OPEN + timedelta(minutes=30), symbols=2000) as r:
        symbols = r.symbols()
        snapshots = await r.broker.get_snapshots([*symbols, "NOPE"])
        assert len(snapshots) == 2000
        # 3 with the commas escaped as %2C, 4 in 500-symbol batches.
        assert r.requests("/v2/stocks/snapshots") == 2
        assert r.server.longest_target <= REQUEST_TARGET_BUDGET  # aiohttp's limit: 8,190 bytes


async def test_symbols_that_need_escaping_still_keep_the_request_target_in_its_budget() -> None:
    async with rig(OPEN + timedelta(minutes=30)) as r:
        unknown = [f"Z{i:06d}/W.X" for i in range(3000)]  # each "/" goes as %2F
        assert await r.broker.get_snapshots(unknown) == {}
        assert r.requests("/v2/stocks/snapshots") >= 5
        assert r.server.longest_target <= REQUEST_TARGET_BUDGET


async def test_the_symbols_go_comma_separated_with_the_commas_unescaped() -> None:
    async with rig(OPEN + timedelta(minutes=30)) as r:
        symbols = r.symbols()
        await r.broker.get_snapshots(symbols)
        joined = ",".join(symbols)  # 3-4 letters each: nothing else to escape
        assert r.server.longest_target == len(f"/v2/stocks/snapshots?symbols={joined}&feed=iex")


async def test_daily_bars_for_2000_symbols_take_one_page_per_batch() -> None:
    async with rig(OPEN + timedelta(minutes=30), symbols=2000) as r:
        symbols = r.symbols()
        bars = await r.broker.get_daily_bars(symbols, 5)
        assert len(bars) == 2000
        assert all(len(series) == 5 for series in bars.values())
        # Batches of 1,405 and 595 symbols x 10 completed daily bars, 10,000 bars a page.
        assert r.requests("/v2/stocks/bars") == 3


async def test_minute_bars_of_50_symbols_over_a_whole_session_take_2_pages() -> None:
    async with rig(CLOSE) as r:
        symbols = r.symbols()[:50]
        bars = await r.broker.get_intraday_bars(symbols, OPEN, CLOSE)
        assert sorted(bars) == sorted(symbols)
        assert all(len(series) == 390 for series in bars.values())
        # 19,500 bars, 10,000 a page: two batches of 25 names, a page each, read side by side.
        assert r.requests("/v2/stocks/bars") == 2


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
        # 2 symbol batches; each pages 50 items at a time until its last (short) page.
        batches = symbol_batches(r.symbols())
        assert len(batches) == 2
        per_batch = [sum(1 for n in planted if set(n.symbols) & set(b)) for b in batches]
        assert r.requests("/v1beta1/news") == sum(max(1, -(-n // 50)) for n in per_batch)


def _news_pages(items: int) -> int:
    return max(1, -(-items // 50))


def _mentioning(items: list[NewsItem], symbols: list[str]) -> int:
    return sum(1 for n in items if set(n.symbols) & set(symbols))


async def test_news_asked_again_the_same_day_reads_only_the_headlines_since_the_last_read() -> None:
    async with rig(OPEN + timedelta(minutes=5), symbols=2000) as r:
        symbols, batches = r.symbols(), symbol_batches(r.symbols())
        await r.broker.get_news(symbols, OPEN - timedelta(hours=4))
        first = r.requests("/v1beta1/news")
        read_at = r.clock.now()
        r.clock.advance_to(OPEN + timedelta(hours=2))
        since = OPEN - timedelta(hours=3)  # the window moved on with the clock
        items = await r.broker.get_news(symbols, since)
        planted = [n for n in r.market.news if since <= n.created_at <= r.clock.now()]
        assert sorted(i.id for i in items) == sorted(str(news_id(n.id)) for n in planted)
        # Each symbol batch reads only from REREAD before the first read on.
        reread = [n for n in planted if n.created_at >= read_at - REREAD]
        incremental = sum(_news_pages(_mentioning(reread, b)) for b in batches)
        whole = sum(_news_pages(_mentioning(planted, b)) for b in batches)
        assert r.requests("/v1beta1/news") - first == incremental
        assert incremental < whole  # what reading the whole window again would have taken


async def test_news_for_symbols_new_to_the_day_reads_the_whole_window() -> None:
    async with rig(OPEN - timedelta(hours=1), symbols=2000) as r:
        symbols = r.symbols()
        known = symbols[:1000]  # the other half is new to the day at the second read
        await r.broker.get_news(known, OPEN - timedelta(hours=4))
        read_at, first = r.clock.now(), r.requests("/v1beta1/news")
        r.clock.advance_to(OPEN + timedelta(minutes=30))
        since = OPEN - timedelta(hours=3)
        items = await r.broker.get_news(symbols, since)
        planted = [n for n in r.market.news if since <= n.created_at <= r.clock.now()]
        assert sorted(i.id for i in items) == sorted(str(news_id(n.id)) for n in planted)
        held = [n for n in planted if n.created_at <= read_at]
        # The known half holds under a page in the window: a read of its own would cost a
        # request more, so it is read again with the new half, everything over the window.
        assert _mentioning(held, known) < 50
        whole = sum(_news_pages(_mentioning(planted, b)) for b in symbol_batches(symbols))
        assert r.requests("/v1beta1/news") - first == whole


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


async def test_the_adapters_data_answers_decode_their_json_in_pieces() -> None:
    # A 12,000-symbol snapshot page decoded by json.loads held the GIL (and the loop) ~18 ms.
    async with rig(PRE_MARKET) as r:
        symbol = r.symbols()[0]
        headers = {"APCA-API-KEY-ID": "key", "APCA-API-SECRET-KEY": "secret"}
        response = await asyncio.to_thread(
            r.data._session.request,
            "GET",
            f"{r.url}/v2/stocks/snapshots",
            params={"symbols": symbol},
            headers=headers,
        )
        assert isinstance(response, PiecewiseJsonResponse)
        assert symbol in response.json()
