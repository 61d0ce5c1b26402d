"""Fault injection and the trade_updates websocket of the fake Alpaca server."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import requests
from support import eventually
from test_fake_alpaca_env import KEY, SECRET, Env, serving

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.common.exceptions import APIError
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.models import TradeUpdate
    from alpaca.trading.requests import MarketOrderRequest
    from alpaca.trading.stream import TradingStream


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    """A fake server at 2026-11-24 10:00 ET (in session)."""
    async with serving() as running:
        yield running


def _order(symbol: str, cid: str) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=symbol, qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, client_order_id=cid
    )


async def test_429_fault_answers_with_rate_limit_headers(env: Env) -> None:
    env.faults.fail(429, count=1, path="/v2/account")
    with pytest.raises(APIError) as caught:
        await env.call(env.trading.get_account)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["X-Ratelimit-Remaining"] == "0"
    assert "X-Ratelimit-Reset" in caught.value.response.headers
    await env.call(env.trading.get_account)


@pytest.mark.parametrize("status", [500, 503])
async def test_5xx_faults_hit_only_the_next_n_matching_requests(env: Env, status: int) -> None:
    env.faults.fail(status, count=2, path="/v2/clock", method="GET")
    await env.call(env.trading.get_account)  # another path: untouched
    for _ in range(2):
        with pytest.raises(APIError) as caught:
            await env.call(env.trading.get_clock)
        assert caught.value.status_code == status
    await env.call(env.trading.get_clock)


async def test_latency_fault_delays_answers(env: Env) -> None:
    env.faults.latency(150, path="/v2/clock")
    started = time.monotonic()
    await env.call(env.trading.get_clock)
    assert time.monotonic() - started >= 0.15


async def test_timeout_fault_outlasts_the_client_timeout(env: Env) -> None:
    env.faults.timeout(2.0, path="/v2/clock")
    url = f"{env.server.base_url}/v2/clock"
    headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
    with pytest.raises(requests.Timeout):
        await asyncio.to_thread(requests.get, url, headers=headers, timeout=0.3)


async def test_drop_fault_closes_the_connection_without_doing_anything(env: Env) -> None:
    env.faults.drop(path="/v2/orders", method="POST")
    with pytest.raises(requests.ConnectionError):
        await env.call(env.trading.submit_order, _order(env.symbol(), "dropped"))
    with pytest.raises(APIError) as missing:
        await env.call(env.trading.get_order_by_client_id, "dropped")
    assert missing.value.status_code == 404


async def test_lost_response_still_creates_the_order(env: Env) -> None:
    env.faults.lose_response(path="/v2/orders", method="POST")
    with pytest.raises(requests.ConnectionError):
        await env.call(env.trading.submit_order, _order(env.symbol(), "lost"))
    found = await env.call(env.trading.get_order_by_client_id, "lost")
    assert found.client_order_id == "lost"


async def _connect(env: Env, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(env.server.stream_url)
    await ws.send_json({"action": "authenticate", "data": {"key_id": KEY, "secret_key": SECRET}})
    assert json.loads(await ws.receive_bytes())["data"]["status"] == "authorized"
    await ws.send_json({"action": "listen", "data": {"streams": ["trade_updates"]}})
    assert json.loads(await ws.receive_bytes()) == {
        "stream": "listening",
        "data": {"streams": ["trade_updates"]},
    }
    return ws


async def test_stream_sends_new_then_fill_that_alpaca_py_parses(env: Env) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await _connect(env, session)
        order = await env.call(env.trading.submit_order, _order(env.symbol(), "s-1"))
        frames: list[dict[str, Any]] = []
        while len(frames) < 2:
            frames.append(json.loads(await asyncio.wait_for(ws.receive_bytes(), 5)))
        updates = [TradeUpdate(**f["data"]) for f in frames]
        assert [u.event for u in updates] == ["new", "fill"]
        fill = updates[1]
        assert str(fill.order.id) == str(order.id)
        assert fill.qty == 2
        assert fill.position_qty == 2
        assert fill.price is not None
        await ws.close()


async def test_stream_refuses_bad_credentials(env: Env) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(env.server.stream_url)
        await ws.send_json({"action": "authenticate", "data": {"key_id": "", "secret_key": ""}})
        reply = json.loads(await ws.receive_bytes())
        assert reply["data"]["status"] == "unauthorized"


async def test_stream_disconnect_fault_closes_every_socket(env: Env) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await _connect(env, session)
        async with session.post(f"{env.server.base_url}/__faults/stream_disconnect") as answer:
            assert (await answer.json())["closed"] == 1
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_alpaca_py_trading_stream_receives_a_fill(env: Env) -> None:
    stream = TradingStream(KEY, SECRET, paper=True, url_override=env.server.stream_url)
    received: list[TradeUpdate] = []
    filled = asyncio.Event()

    async def handler(update: TradeUpdate) -> None:
        received.append(update)
        if update.event == "fill":
            filled.set()

    stream.subscribe_trade_updates(handler)
    runner = asyncio.create_task(stream._run_forever())
    try:
        hub = env.server.app
        from catalyst.fake_alpaca import STATE

        await eventually(lambda: hub[STATE].hub.listeners > 0)  # alpaca-py authenticated
        await env.call(env.trading.submit_order, _order(env.symbol(), "ts-1"))
        await asyncio.wait_for(filled.wait(), 5)
    finally:
        await stream.stop_ws()
        await asyncio.wait_for(runner, 10)  # alpaca-py closes its socket and returns
    assert [u.event for u in received][-2:] == ["new", "fill"]
    assert received[-1].order.client_order_id == "ts-1"
