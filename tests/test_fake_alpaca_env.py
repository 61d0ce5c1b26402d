"""Shared set-up for the fake Alpaca tests (a server on a free port, real alpaca-py clients),
plus the tests of the server's own plumbing: auth, rate-limit headers, the admin endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import aiohttp
import pytest

with warnings.catch_warnings():
    # alpaca-py 0.44 imports websockets.legacy, which warns on import (websockets >= 14).
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.common.exceptions import APIError
    from alpaca.data.historical import StockHistoricalDataClient
    from alpaca.data.historical.news import NewsClient
    from alpaca.data.historical.screener import ScreenerClient
    from alpaca.trading.client import TradingClient

from catalyst.config.models import SimulationConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import Snapshot
from catalyst.fake_alpaca import RunningServer, start_fake_alpaca
from catalyst.fake_alpaca.faults import FaultPlan
from catalyst.sim.broker import build_sim_broker
from catalyst.sim.exchange import SimExchange
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

T = TypeVar("T")

CALENDAR = ExchangeCalendar(first_day=date(2026, 1, 1), last_day=date(2027, 12, 31))
START = datetime(2026, 11, 24, 10, 0, tzinfo=EXCHANGE_TZ)
CONFIG = SimulationConfig(seed=11, symbols=300, history_days=10, catalyst_fraction=0.05)
KEY, SECRET = "fake-key", "fake-secret"


@dataclass(eq=False)
class Env:
    """A running fake server over a fresh simulator, with real alpaca-py clients."""

    server: RunningServer
    clock: SimClock
    exchange: SimExchange
    trading: TradingClient
    data: StockHistoricalDataClient
    news: NewsClient
    screener: ScreenerClient

    @property
    def faults(self) -> FaultPlan:
        from catalyst.fake_alpaca import FAULTS

        return self.server.app[FAULTS]

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a synchronous alpaca-py call off the event loop (the server runs on it)."""
        return await asyncio.to_thread(fn, *args)

    def symbol(self, low: float = 10, high: float = 300) -> str:
        """A tradable symbol priced within [low, high]."""
        return next(s for s, _ in self.priced(low, high))

    def priced(self, low: float = 10, high: float = 300) -> list[tuple[str, Snapshot]]:
        """Tradable symbols with their snapshots, priced within [low, high]."""
        tradable = [a.symbol for a in self.exchange.assets() if a.tradable]
        snaps = self.exchange.market.snapshots(tradable, self.exchange.now)
        return [(s, snap) for s, snap in snaps.items() if low <= snap.last_price <= high]


async def start_env(start: datetime = START, **kwargs: Any) -> Env:
    """A fresh simulator and server with the clock at `start`."""
    clock = SimClock(start)
    broker = build_sim_broker(CONFIG, CALENDAR, clock, **kwargs)
    server = await start_fake_alpaca(broker.exchange, CALENDAR, clock)
    url = server.base_url
    trading = TradingClient(KEY, SECRET, paper=True, url_override=url)
    data = StockHistoricalDataClient(KEY, SECRET, url_override=url)
    news = NewsClient(KEY, SECRET, url_override=url)
    screener = ScreenerClient(KEY, SECRET, url_override=url)
    for client in (trading, data, news, screener):
        client._retry = 0  # 429s are tested explicitly; never wait 3 s x 3 retries
        client._retry_wait = 0
    return Env(server, clock, broker.exchange, trading, data, news, screener)


@contextlib.asynccontextmanager
async def serving(start: datetime = START) -> AsyncIterator[Env]:
    """A running `Env`, stopped on exit."""
    running = await start_env(start)
    try:
        yield running
    finally:
        await running.server.stop()


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    """A fake server at 2026-11-24 10:00 ET (in session)."""
    async with serving() as running:
        yield running


async def test_requests_without_keys_get_401_with_alpacas_body(env: Env) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{env.server.base_url}/v2/account") as response,
    ):
        assert response.status == 401
        assert await response.json() == {"code": 40110000, "message": "request is not authorized"}


async def test_configured_credentials_refuse_other_keys() -> None:
    clock = SimClock(START)
    broker = build_sim_broker(CONFIG, CALENDAR, clock)
    server = await start_fake_alpaca(broker.exchange, CALENDAR, clock, credentials=("k", "s"))
    try:
        wrong = TradingClient("k", "nope", url_override=server.base_url)
        with pytest.raises(APIError) as caught:
            await asyncio.to_thread(wrong.get_account)
        assert caught.value.status_code == 401
        right = TradingClient("k", "s", url_override=server.base_url)
        account = await asyncio.to_thread(right.get_account)
        assert account.status.value == "ACTIVE"
    finally:
        await server.stop()


async def test_every_answer_carries_rate_limit_headers(env: Env) -> None:
    headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{env.server.base_url}/v2/clock") as first:
            remaining = int(first.headers["X-Ratelimit-Remaining"])
            assert first.headers["X-Ratelimit-Limit"] == "200"
            assert int(first.headers["X-Ratelimit-Reset"]) > env.clock.now().timestamp()
        async with session.get(f"{env.server.base_url}/v2/clock") as second:
            assert int(second.headers["X-Ratelimit-Remaining"]) == remaining - 1


async def test_unknown_route_answers_alpaca_style_404(env: Env) -> None:
    headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(f"{env.server.base_url}/v2/nothing") as response,
    ):
        assert response.status == 404
        assert (await response.json())["code"] == 40400000


async def test_admin_endpoint_adds_lists_and_clears_faults(env: Env) -> None:
    base = env.server.base_url
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/__faults", json={"kind": "status", "status": 503, "path": "/v2/clock"}
        ) as added:
            assert added.status == 200
        async with session.get(f"{base}/__faults") as listed:
            assert [f["kind"] for f in await listed.json()] == ["status"]
        async with session.post(f"{base}/__faults", json={"kind": "bogus"}) as bad:
            assert bad.status == 400
        with pytest.raises(APIError) as caught:
            await env.call(env.trading.get_clock)
        assert caught.value.status_code == 503
        await env.call(env.trading.get_clock)  # count was 1: healthy again
        await session.post(f"{base}/__faults", json={"kind": "drop"})
        async with session.delete(f"{base}/__faults") as cleared:
            assert await cleared.json() == []
        await env.call(env.trading.get_clock)
