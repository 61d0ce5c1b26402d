"""AlpacaBroker over a scripted local HTTP server: error translation, retries, timeouts, ticks.

The stub answers each (method, path) from a script of responses (the last one repeats) and records
every request it receives, so a test can count exactly how many times an order was POSTed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from alpaca_broker import alpaca_broker

from catalyst.brokers.alpaca import AlpacaBroker
from catalyst.domain.errors import (
    BrokerAccessDenied,
    DuplicateClientOrderId,
    InsufficientBuyingPower,
    NotFound,
    OrderRejected,
    RetryableBrokerError,
    UnknownOrderOutcome,
)
from catalyst.domain.models import (
    BracketSpec,
    LegRole,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.timekeeping.clock import SimClock

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: Any


class ScriptedAlpaca:
    """An HTTP server answering from per-route scripts and recording every request."""

    def __init__(self) -> None:
        self.scripts: dict[tuple[str, str], list[Reply]] = {}
        self.seen: list[Seen] = []

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.scripts[(method, path)] = list(replies)

    def count(self, method: str, path: str) -> int:
        return sum(1 for s in self.seen if s.method == method and s.path == path)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.seen.append(Seen(request.method, request.path, dict(request.query), body))
        script = self.scripts.get((request.method, request.path))
        if not script:
            return web.json_response({"code": 40410000, "message": "no route"}, status=404)
        reply = script.pop(0) if len(script) > 1 else script[0]
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)


@dataclass
class Rig:
    server: ScriptedAlpaca
    broker: AlpacaBroker
    clock: SimClock


def make_broker(url: str, clock: SimClock, **options: Any) -> AlpacaBroker:
    options.setdefault("timeout_seconds", 2.0)
    return alpaca_broker(url, clock, requests_per_minute=190, **options)


@pytest.fixture
async def rig_factory() -> AsyncIterator[Callable[..., Any]]:
    runners: list[web.AppRunner] = []

    async def build(**options: Any) -> Rig:
        server = ScriptedAlpaca()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", server.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        clock = SimClock(START)
        return Rig(server, make_broker(f"http://127.0.0.1:{port}", clock, **options), clock)

    yield build
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def rig(rig_factory: Callable[..., Any]) -> Rig:
    built: Rig = await rig_factory()
    return built


def order_json(cid: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "client_order_id": cid,
        "created_at": "2026-11-24T15:00:00.123456789Z",
        "updated_at": "2026-11-24T15:00:00.123456789Z",
        "submitted_at": "2026-11-24T15:00:00.123456789Z",
        "asset_id": str(uuid.uuid4()),
        "symbol": "ACME",
        "asset_class": "us_equity",
        "notional": None,
        "qty": "10",
        "filled_qty": "0",
        "filled_avg_price": None,
        "order_class": "",
        "order_type": "market",
        "type": "market",
        "side": "buy",
        "time_in_force": "day",
        "limit_price": None,
        "stop_price": None,
        "status": "accepted",
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }
    body.update(overrides)
    return body


ACCOUNT = {
    "id": str(uuid.uuid4()),
    "account_number": "PA123",
    "status": "ACTIVE",
    "equity": "100250.50",
    "last_equity": "100000",
    "cash": "50000.25",
    "buying_power": "200000",
    "trading_blocked": False,
    "account_blocked": False,
    "trade_suspended_by_user": False,
}

MARKET_BUY = OrderRequest("cid-1", "ACME", Side.BUY, 10)


def error(status: int, message: str, code: int = 42210000, **headers: str) -> Reply:
    return Reply(status, {"code": code, "message": message}, headers)


# ----------------------------------------------------------------------------- submit


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (error(500, "internal error", 50010000), UnknownOrderOutcome),
        (error(502, "bad gateway", 50010000), UnknownOrderOutcome),
        (error(504, "gateway timeout", 50010000), UnknownOrderOutcome),
        (Reply(503, None), UnknownOrderOutcome),
        (error(429, "rate limit exceeded", 42910000), RetryableBrokerError),
        (error(403, "insufficient buying power", 40310000), InsufficientBuyingPower),
        (error(422, "client_order_id must be unique", 40010001), DuplicateClientOrderId),
        (error(422, "invalid limit_price 290.123. sub-penny increment"), OrderRejected),
        (error(403, "potential wash trade detected. use complex orders", 40310000), OrderRejected),
        (error(401, "unauthorized", 40110000), BrokerAccessDenied),
    ],
)
async def test_submit_when_alpaca_fails_translates_and_never_resends(
    rig: Rig, reply: Reply, expected: type[Exception]
) -> None:
    rig.server.on("POST", "/v2/orders", reply)
    with pytest.raises(expected) as caught:
        await rig.broker.submit_order(MARKET_BUY)
    assert rig.server.count("POST", "/v2/orders") == 1
    if isinstance(caught.value, UnknownOrderOutcome | OrderRejected | DuplicateClientOrderId):
        assert caught.value.client_order_id == "cid-1"
    if expected is OrderRejected:
        assert reply.body["message"] in str(caught.value)


async def test_submit_when_response_is_lost_raises_unknown_outcome_after_one_post(
    rig_factory: Callable[..., Any],
) -> None:
    rig: Rig = await rig_factory(timeout_seconds=0.3)
    rig.server.on("POST", "/v2/orders", Reply(200, order_json("cid-1"), delay=1.0))
    with pytest.raises(UnknownOrderOutcome, match="cid-1"):
        await rig.broker.submit_order(MARKET_BUY)
    assert rig.server.count("POST", "/v2/orders") == 1


async def test_submit_when_server_is_unreachable_raises_unknown_outcome(rig: Rig) -> None:
    broker = make_broker("http://127.0.0.1:9", rig.clock)  # discard port: connection refused
    with pytest.raises(UnknownOrderOutcome):
        await broker.submit_order(MARKET_BUY)


async def test_submit_when_2xx_body_is_garbage_raises_unknown_outcome(rig: Rig) -> None:
    rig.server.on("POST", "/v2/orders", Reply(200, {"unexpected": True}))
    with pytest.raises(UnknownOrderOutcome):
        await rig.broker.submit_order(MARKET_BUY)


async def test_submit_sends_whole_shares_day_tif_client_id_and_valid_ticks(rig: Rig) -> None:
    rig.server.on("POST", "/v2/orders", Reply(200, order_json("cid-2", order_class="bracket")))
    request = OrderRequest(
        "cid-2",
        "ACME",
        Side.BUY,
        7,
        type=OrderType.LIMIT,
        limit_price=Decimal("10.129"),
        bracket=BracketSpec(take_profit_limit=Decimal("11.001"), stop_loss_stop=Decimal("9.999")),
    )
    await rig.broker.submit_order(request)
    sent = rig.server.seen[-1].body
    assert sent["client_order_id"] == "cid-2"
    assert sent["qty"] == 7
    assert sent["time_in_force"] == "day"
    assert sent["order_class"] == "bracket"
    assert sent["limit_price"] == 10.12  # a buy limit never rounds up
    assert sent["take_profit"] == {"limit_price": 11.01}  # a long's target rounds up
    assert sent["stop_loss"] == {"stop_price": 9.99}  # and its stop down


async def test_submit_rounds_sub_dollar_prices_to_four_decimals(rig: Rig) -> None:
    rig.server.on("POST", "/v2/orders", Reply(200, order_json("cid-3")))
    request = OrderRequest(
        "cid-3", "PENNY", Side.SELL, 100, type=OrderType.LIMIT, limit_price=Decimal("0.123449")
    )
    await rig.broker.submit_order(request)
    assert rig.server.seen[-1].body["limit_price"] == 0.1235  # a sell limit never rounds down


@pytest.mark.parametrize(
    ("limit", "target", "stop"),
    [
        (None, "9.00", "10.00"),  # stop above target
        ("12.00", "11.00", "9.00"),  # entry above target
        ("8.50", "11.00", "9.00"),  # entry below stop
    ],
)
async def test_submit_when_bracket_prices_are_misordered_rejects_locally(
    rig: Rig, limit: str | None, target: str, stop: str
) -> None:
    request = OrderRequest(
        "cid-4",
        "ACME",
        Side.BUY,
        5,
        type=OrderType.LIMIT if limit else OrderType.MARKET,
        limit_price=Decimal(limit) if limit else None,
        bracket=BracketSpec(take_profit_limit=Decimal(target), stop_loss_stop=Decimal(stop)),
    )
    with pytest.raises(OrderRejected, match="bracket"):
        await rig.broker.submit_order(request)
    assert rig.server.seen == []


async def test_submit_when_not_a_day_order_rejects_locally(rig: Rig) -> None:
    request = OrderRequest("cid-5", "ACME", Side.BUY, 5, time_in_force="gtc")
    with pytest.raises(OrderRejected, match="day"):
        await rig.broker.submit_order(request)
    assert rig.server.seen == []


async def test_submit_translates_bracket_legs_with_roles(rig: Rig) -> None:
    parent = order_json(
        "cid-6",
        order_class="bracket",
        legs=[
            order_json("cid-6-tp", side="sell", type="limit", limit_price="11", status="new"),
            order_json("cid-6-sl", side="sell", type="stop", stop_price="9", status="held"),
        ],
    )
    rig.server.on("POST", "/v2/orders", Reply(200, parent))
    order = await rig.broker.submit_order(MARKET_BUY)
    assert order.role is LegRole.ENTRY
    assert order.status is OrderStatus.ACCEPTED
    assert [(leg.role, leg.status) for leg in order.legs] == [
        (LegRole.TAKE_PROFIT, OrderStatus.NEW),
        (LegRole.STOP_LOSS, OrderStatus.HELD),
    ]
    assert order.submitted_at == datetime(2026, 11, 24, 15, 0, 0, 123456, tzinfo=UTC)


# ------------------------------------------------------------------------------ reads


async def test_read_when_server_errors_then_recovers_retries_with_backoff(rig: Rig) -> None:
    rig.server.on(
        "GET",
        "/v2/account",
        error(503, "unavailable", 50310000),
        error(500, "boom", 50010000),
        Reply(200, ACCOUNT),
    )
    account = await rig.broker.get_account()
    assert account.equity == Decimal("100250.50")
    assert account.last_equity == Decimal("100000")
    assert account.day_pnl == Decimal("250.50")
    assert rig.server.count("GET", "/v2/account") == 3
    assert rig.clock.now() > START  # the retries waited on the injected clock


async def test_read_when_server_keeps_failing_gives_up_after_bounded_attempts(
    rig_factory: Callable[..., Any],
) -> None:
    rig: Rig = await rig_factory(read_attempts=3)
    rig.server.on("GET", "/v2/account", error(500, "boom", 50010000))
    with pytest.raises(RetryableBrokerError):
        await rig.broker.get_account()
    assert rig.server.count("GET", "/v2/account") == 3


async def test_read_when_rate_limited_waits_for_the_reset_header(rig: Rig) -> None:
    reset = START + timedelta(seconds=20)
    rig.server.on(
        "GET",
        "/v2/account",
        error(
            429, "rate limit exceeded", 42910000, **{"X-RateLimit-Reset": str(reset.timestamp())}
        ),
        Reply(200, ACCOUNT),
    )
    await rig.broker.get_account()
    assert rig.server.count("GET", "/v2/account") == 2
    assert rig.clock.now() >= reset


async def test_alpaca_py_blind_retries_are_off(rig_factory: Callable[..., Any]) -> None:
    rig: Rig = await rig_factory(read_attempts=1)
    rig.server.on("GET", "/v2/account", error(429, "rate limit exceeded", 42910000))
    with pytest.raises(RetryableBrokerError):
        await rig.broker.get_account()
    assert rig.server.count("GET", "/v2/account") == 1


async def test_read_when_response_is_slow_times_out_and_retries(
    rig_factory: Callable[..., Any],
) -> None:
    rig: Rig = await rig_factory(timeout_seconds=0.3)
    rig.server.on("GET", "/v2/account", Reply(200, ACCOUNT, delay=1.0), Reply(200, ACCOUNT))
    account = await rig.broker.get_account()
    assert account.cash == Decimal("50000.25")
    assert rig.server.count("GET", "/v2/account") == 2


async def test_get_order_by_client_id_when_absent_returns_none(rig: Rig) -> None:
    rig.server.on("GET", "/v2/orders:by_client_order_id", error(404, "order not found", 40410000))
    assert await rig.broker.get_order_by_client_id("nope") is None
    assert rig.server.seen[-1].query == {"client_order_id": "nope", "nested": "True"}


ORDER_ID = "7b08df51-c1ac-453c-99f9-323a5f075f0d"


async def test_cancel_order_when_already_final_is_a_no_op(rig: Rig) -> None:
    path = f"/v2/orders/{ORDER_ID}"
    rig.server.on("DELETE", path, error(422, 'order is already in "filled" state'))
    await rig.broker.cancel_order(ORDER_ID)
    assert rig.server.count("DELETE", path) == 1


async def test_cancel_order_when_unknown_raises_not_found(rig: Rig) -> None:
    rig.server.on("DELETE", f"/v2/orders/{ORDER_ID}", error(404, "order not found", 40410000))
    with pytest.raises(NotFound):
        await rig.broker.cancel_order(ORDER_ID)
    with pytest.raises(NotFound):
        await rig.broker.cancel_order("not-a-uuid")


async def test_cancel_all_orders_when_some_fail_logs_and_returns(rig: Rig) -> None:
    rig.server.on(
        "DELETE",
        "/v2/orders",
        Reply(
            207,
            [
                {"id": str(uuid.uuid4()), "status": 200},
                {
                    "id": str(uuid.uuid4()),
                    "status": 500,
                    "body": {"code": 50010000, "message": "failed to cancel"},
                },
            ],
        ),
    )
    await rig.broker.cancel_all_orders()
    assert rig.server.count("DELETE", "/v2/orders") == 1


async def test_get_session_reads_new_york_times_and_detects_early_close(rig: Rig) -> None:
    rig.server.on(
        "GET",
        "/v2/calendar",
        Reply(200, [{"date": "2026-11-27", "open": "09:30", "close": "13:00"}]),
    )
    session = await rig.broker.get_session(datetime(2026, 11, 27).date())
    assert session is not None
    assert session.early_close
    assert session.open == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
    assert session.close == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    assert rig.server.seen[-1].query == {"start": "2026-11-27", "end": "2026-11-27"}


async def test_get_session_on_a_holiday_is_none(rig: Rig) -> None:
    rig.server.on("GET", "/v2/calendar", Reply(200, []))
    assert await rig.broker.get_session(datetime(2026, 11, 26).date()) is None


async def test_get_fills_pages_and_maps_client_order_ids(rig_factory: Callable[..., Any]) -> None:
    rig: Rig = await rig_factory()
    order = order_json("cid-fill", status="filled")

    def activity(n: int) -> dict[str, Any]:
        at = START + timedelta(seconds=n)
        return {
            "id": f"{at:%Y%m%d%H%M%S}000::{n:04d}",
            "activity_type": "FILL",
            "transaction_time": at.isoformat().replace("+00:00", "Z"),
            "type": "partial_fill",
            "price": "10.5",
            "qty": "1",
            "side": "buy",
            "symbol": "ACME",
            "leaves_qty": "0",
            "order_id": order["id"],
            "cum_qty": str(n + 1),
            "order_status": "partially_filled",
        }

    rig.server.on(
        "GET",
        "/v2/account/activities/FILL",
        Reply(200, [activity(n) for n in range(100)]),
        Reply(200, [activity(n) for n in range(100, 130)]),
    )
    rig.server.on("GET", f"/v2/orders/{order['id']}", Reply(200, order))
    fills = await rig.broker.get_fills(START + timedelta(seconds=5))
    assert len(fills) == 125
    assert {f.client_order_id for f in fills} == {"cid-fill"}
    assert all(f.qty == 1 and f.price == Decimal("10.5") for f in fills)
    assert rig.server.count("GET", f"/v2/orders/{order['id']}") == 1  # cached after one lookup
    pages = [s.query for s in rig.server.seen if s.path == "/v2/account/activities/FILL"]
    assert len(pages) == 2
    assert pages[1]["page_token"] == activity(99)["id"]
    assert pages[0]["direction"] == "asc"


async def test_close_position_cancels_symbol_orders_then_sells_with_the_given_id(
    rig: Rig,
) -> None:
    position = {
        "asset_id": str(uuid.uuid4()),
        "symbol": "ACME",
        "exchange": "NASDAQ",
        "asset_class": "us_equity",
        "avg_entry_price": "10",
        "qty": "12",
        "side": "long",
        "cost_basis": "120",
        "current_price": "10.5",
    }
    leg = order_json("leg-sl", side="sell", type="stop", stop_price="9", status="held")
    rig.server.on("GET", "/v2/orders:by_client_order_id", error(404, "not found", 40410000))
    rig.server.on("GET", "/v2/positions/ACME", Reply(200, position))
    rig.server.on(
        "GET",
        "/v2/orders",
        Reply(200, [order_json("entry", status="filled", order_class="bracket", legs=[leg])]),
        Reply(200, []),
    )
    rig.server.on("DELETE", f"/v2/orders/{leg['id']}", Reply(204))
    rig.server.on("POST", "/v2/orders", Reply(200, order_json("close-1", side="sell", qty="12")))
    order = await rig.broker.close_position("ACME", "close-1")
    assert order.client_order_id == "close-1"
    assert order.role is LegRole.EXIT
    sent = rig.server.seen[-1]
    assert sent.body["side"] == "sell"
    assert sent.body["qty"] == 12
    assert sent.body["type"] == "market"
    assert sent.body["client_order_id"] == "close-1"
    assert rig.server.count("DELETE", f"/v2/orders/{leg['id']}") == 1


async def test_requests_carry_credentials_in_headers_only(rig: Rig) -> None:
    rig.server.on("GET", "/v2/account", Reply(200, ACCOUNT))
    await rig.broker.get_account()
    assert all("secret" not in json.dumps(s.query) for s in rig.server.seen)
