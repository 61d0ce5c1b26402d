"""Alpaca trading API routes (`/v2/...`) over the shared exchange simulator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from catalyst.domain.errors import (
    DuplicateClientOrderId,
    InsufficientBuyingPower,
    NotFound,
    OrderRejected,
)
from catalyst.domain.models import LegRole, Order, OrderRequest, OrderStatus, Side
from catalyst.fake_alpaca.order_parsing import parse_order_request
from catalyst.fake_alpaca.payloads import (
    PositionFacts,
    account_json,
    asset_id,
    asset_json,
    order_json,
    position_json,
)
from catalyst.fake_alpaca.state import STATE, FakeAlpaca
from catalyst.fake_alpaca.trading_views import activities, calendar_json, clock_json
from catalyst.fake_alpaca.wire import (
    FORBIDDEN,
    NOT_FOUND,
    NOT_UNIQUE,
    UNPROCESSABLE,
    ApiError,
    json_response,
    loads_decimal,
    parse_decimal,
    parse_time,
    query_bool,
    query_int,
    trading_error,
)
from catalyst.sim.exchange_time import exchange_date


def add_trading_routes(app: web.Application) -> None:
    """Register every `/v2` trading route."""
    r = app.router
    r.add_get("/v2/account", get_account)
    r.add_get("/v2/clock", get_clock)
    r.add_get("/v2/calendar", get_calendar)
    r.add_get("/v2/assets", list_assets)
    r.add_get("/v2/assets/{symbol}", get_asset)
    r.add_post("/v2/orders", submit_order)
    r.add_get("/v2/orders", list_orders)
    r.add_delete("/v2/orders", cancel_all_orders)
    r.add_get("/v2/orders:by_client_order_id", get_order_by_client_id)
    r.add_get("/v2/orders/{order_id}", get_order)
    r.add_delete("/v2/orders/{order_id}", cancel_order)
    r.add_get("/v2/positions", list_positions)
    r.add_delete("/v2/positions", close_all_positions)
    r.add_get("/v2/positions/{symbol}", get_position)
    r.add_delete("/v2/positions/{symbol}", close_position)
    r.add_get("/v2/account/activities", list_activities)
    r.add_get("/v2/account/activities/{activity_type}", list_activities)


def _state(request: web.Request) -> FakeAlpaca:
    return request.app[STATE]


def _render(state: FakeAlpaca, order: Order, *, nested: bool) -> dict[str, Any]:
    return order_json(order, state.journal.meta, nested=nested)


def _order_not_found() -> ApiError:
    return trading_error(404, NOT_FOUND, "order not found")


def rejection(state: FakeAlpaca, exc: Exception) -> ApiError:
    """Alpaca's HTTP error for a simulator refusal."""
    if isinstance(exc, DuplicateClientOrderId):
        return trading_error(422, NOT_UNIQUE, "client_order_id must be unique")
    if isinstance(exc, InsufficientBuyingPower):
        bp = str(state.exchange.account().buying_power)
        return trading_error(403, FORBIDDEN, "insufficient buying power", buying_power=bp)
    if isinstance(exc, OrderRejected):
        reason = exc.reason
        if "not allowed to short" in reason or reason.startswith("insufficient qty"):
            return trading_error(403, FORBIDDEN, reason)
        return trading_error(422, UNPROCESSABLE, reason)
    if isinstance(exc, NotFound):
        return trading_error(404, NOT_FOUND, str(exc))
    raise exc


def _place(state: FakeAlpaca, request: OrderRequest) -> Order:
    try:
        order = state.exchange.submit(request)
    except (OrderRejected, DuplicateClientOrderId) as exc:
        raise rejection(state, exc) from exc
    state.journal.register(order, request.time_in_force)
    return order


# ------------------------------------------------------------------------------ account & market


async def get_account(request: web.Request) -> web.Response:
    """GET /v2/account."""
    state = _state(request)
    account = state.exchange.account()
    long_value = sum((p.market_value for p in state.exchange.positions()), Decimal(0))
    return json_response(account_json(account, long_value, state.created_at))


async def get_clock(request: web.Request) -> web.Response:
    """GET /v2/clock."""
    state = _state(request)
    return json_response(clock_json(state.calendar, state.clock.now()))


async def get_calendar(request: web.Request) -> web.Response:
    """GET /v2/calendar?start&end (dates, inclusive)."""
    state = _state(request)
    today = exchange_date(state.clock.now())
    try:
        start = date.fromisoformat(request.query.get("start", today.isoformat())[:10])
        end = date.fromisoformat(
            request.query.get("end", (start + timedelta(days=365)).isoformat())[:10]
        )
        return json_response(calendar_json(state.calendar, start, end))
    except ValueError as exc:
        raise trading_error(422, UNPROCESSABLE, str(exc)) from exc


async def list_assets(request: web.Request) -> web.Response:
    """GET /v2/assets?status&asset_class&exchange."""
    query = request.query
    status = query.get("status", "active")
    asset_class = query.get("asset_class", "us_equity")
    assets = _state(request).exchange.assets()
    if status != "active" or asset_class != "us_equity":
        return json_response([])  # every simulated asset is an active US equity
    exchange = query.get("exchange")
    return json_response(
        [asset_json(a) for a in assets if exchange is None or a.exchange == exchange]
    )


async def get_asset(request: web.Request) -> web.Response:
    """GET /v2/assets/{symbol or asset id}."""
    wanted = request.match_info["symbol"]
    for asset in _state(request).exchange.assets():
        if wanted in (asset.symbol, asset_id(asset.symbol)):
            return json_response(asset_json(asset))
    raise trading_error(404, NOT_FOUND, "asset not found")


# ------------------------------------------------------------------------------------- orders


async def submit_order(request: web.Request) -> web.Response:
    """POST /v2/orders (market/limit/stop; simple or bracket)."""
    state = _state(request)
    try:
        body = await request.json(loads=loads_decimal)
    except ValueError as exc:
        raise trading_error(400, 40010000, "invalid request body") from exc
    if not isinstance(body, dict):
        raise trading_error(400, 40010000, "invalid request body")
    order_request = parse_order_request(body, lambda: state.next_client_order_id("fake"))
    order = _place(state, order_request)
    return json_response(_render(state, order, nested=True))


def _views(state: FakeAlpaca) -> dict[str, Order]:
    return {i: state.exchange.order(i) for i in state.journal.order_ids()}


def _status_filter(name: str) -> Callable[[Order], bool]:
    if name == "open":
        return lambda o: o.status.is_open
    if name == "closed":
        return lambda o: not o.status.is_open
    if name == "all":
        return lambda o: True
    raise trading_error(422, UNPROCESSABLE, f"invalid status: {name}")


async def list_orders(request: web.Request) -> web.Response:
    """GET /v2/orders?status&limit&after&until&direction&nested&symbols&side."""
    state, query = _state(request), request.query
    status = query.get("status", "open")
    by_status = _status_filter(status)
    limit = query_int(query, "limit", 50, 1, 500)
    nested = query_bool(query, "nested")
    symbols = {s for s in query.get("symbols", "").split(",") if s}
    after = parse_time(query["after"], "after") if "after" in query else None
    until = parse_time(query["until"], "until") if "until" in query else None
    side = query.get("side")
    direction = query.get("direction", "desc")
    if direction not in ("asc", "desc"):
        raise trading_error(422, UNPROCESSABLE, f"invalid direction: {direction}")

    def wanted(order: Order) -> bool:
        return (
            by_status(order)
            and (not symbols or order.symbol in symbols)
            and (side is None or order.side.value == side)
            and (after is None or order.submitted_at > after)
            and (until is None or order.submitted_at < until)
        )

    views = _views(state)
    rank = {order_id: k for k, order_id in enumerate(views)}
    chosen: list[Order] = []
    for order_id, order in views.items():
        parent = state.journal.parent_of(order_id)
        if not wanted(order):
            continue
        if nested:
            # A leg stays nested under a parent that is listed; once the parent is not (the entry
            # filled, listing open orders), the legs are listed on their own.
            if parent is not None and wanted(views[parent]):
                continue
        elif status == "open" and order.status is OrderStatus.HELD:
            continue  # Alpaca lists only the live leg of an unfilled bracket
        chosen.append(order)
    chosen.sort(key=lambda o: (o.submitted_at, rank[o.id]), reverse=direction == "desc")
    return json_response([_render(state, o, nested=nested) for o in chosen[:limit]])


def _known(state: FakeAlpaca, order_id: str) -> Order:
    if order_id not in state.journal.meta:
        raise _order_not_found()
    return state.exchange.order(order_id)


async def get_order(request: web.Request) -> web.Response:
    """GET /v2/orders/{id}?nested."""
    state = _state(request)
    order = _known(state, request.match_info["order_id"])
    nested = query_bool(request.query, "nested")
    return json_response(_render(state, order, nested=nested))


async def get_order_by_client_id(request: web.Request) -> web.Response:
    """GET /v2/orders:by_client_order_id?client_order_id= (legs nested)."""
    state = _state(request)
    client_order_id = request.query.get("client_order_id", "")
    order = state.exchange.order_by_client_id(client_order_id) if client_order_id else None
    if order is None or order.id not in state.journal.meta:
        raise _order_not_found()
    return json_response(_render(state, order, nested=True))


async def cancel_order(request: web.Request) -> web.Response:
    """DELETE /v2/orders/{id}: 204 empty; 422 when already final; 404 when unknown."""
    state = _state(request)
    order = _known(state, request.match_info["order_id"])
    if not order.status.is_open:
        raise trading_error(422, UNPROCESSABLE, f'order is already in "{order.status.value}" state')
    state.exchange.cancel(order.id)
    return web.Response(status=204)


async def cancel_all_orders(request: web.Request) -> web.Response:
    """DELETE /v2/orders: 207 with one {id, status, body} per open order."""
    state = _state(request)
    open_orders = [o for o in _views(state).values() if o.status.is_open]
    state.exchange.cancel_all()
    result = [
        {
            "id": o.id,
            "status": 200,
            "body": _render(state, state.exchange.order(o.id), nested=False),
        }
        for o in open_orders
    ]
    return json_response(result, 207)


# ---------------------------------------------------------------------------------- positions


def _facts(state: FakeAlpaca, symbol: str, qty: int, avg_entry: Decimal) -> PositionFacts:
    exchange = state.exchange
    market = exchange.market
    snapshot = market.snapshots([symbol], exchange.now)[symbol]
    column = market.universe.column(symbol)
    venue = market.universe.asset(column).exchange if column is not None else ""
    committed = sum(
        o.qty - o.filled_qty
        for o in _views(state).values()
        if o.symbol == symbol
        and o.side is Side.SELL
        and o.status.is_open
        and o.status is not OrderStatus.HELD
        and o.role is not LegRole.TAKE_PROFIT  # one bracket's two exits promise the same shares
    )
    bought_today = any(
        r.fill.symbol == symbol
        and r.fill.side is Side.BUY
        and r.fill.timestamp >= market.session.open
        for r in state.journal.fill_records
    )
    return PositionFacts(
        exchange=venue,
        lastday_price=snapshot.prev_close,
        intraday_basis=avg_entry if bought_today else snapshot.prev_close,
        qty_available=max(qty - committed, 0),
    )


def _positions(state: FakeAlpaca) -> list[dict[str, Any]]:
    return [
        position_json(p, _facts(state, p.symbol, p.qty, p.avg_entry_price))
        for p in state.exchange.positions()
    ]


async def list_positions(request: web.Request) -> web.Response:
    """GET /v2/positions."""
    return json_response(_positions(_state(request)))


async def get_position(request: web.Request) -> web.Response:
    """GET /v2/positions/{symbol}: 404 when there is none."""
    symbol = request.match_info["symbol"]
    for position in _positions(_state(request)):
        if symbol in (position["symbol"], position["asset_id"]):
            return json_response(position)
    raise trading_error(404, NOT_FOUND, "position does not exist")


def _close(state: FakeAlpaca, symbol: str, qty: int | None) -> Order:
    """Sell `qty` shares (all, cancelling the symbol's open orders first, when None)."""
    client_order_id = state.next_client_order_id("close")
    if qty is None:
        try:
            order = state.exchange.close_position(symbol, client_order_id)
        except (OrderRejected, DuplicateClientOrderId, NotFound) as exc:
            raise rejection(state, exc) from exc
        state.journal.register(order, "day")
        return order
    return _place(state, OrderRequest(client_order_id, symbol, Side.SELL, qty))


async def close_position(request: web.Request) -> web.Response:
    """DELETE /v2/positions/{symbol}?qty|percentage: the closing market order."""
    state, query = _state(request), request.query
    symbol = request.match_info["symbol"]
    held = {p.symbol: p.qty for p in state.exchange.positions()}
    if symbol not in held:
        raise trading_error(404, NOT_FOUND, "position does not exist")
    if "qty" in query and "percentage" in query:
        raise trading_error(422, UNPROCESSABLE, "only one of qty or percentage may be given")
    qty: int | None = None
    if "qty" in query:
        amount = parse_decimal(query["qty"], "qty")
        if amount != amount.to_integral_value() or amount <= 0:
            raise trading_error(422, NOT_UNIQUE, "qty must be integer")
        qty = int(amount)
    elif "percentage" in query:
        pct = parse_decimal(query["percentage"], "percentage")
        if not 0 < pct <= 100:
            raise trading_error(422, UNPROCESSABLE, "percentage must be in (0, 100]")
        qty = int(held[symbol] * pct / 100)
        if qty == 0:
            raise trading_error(422, UNPROCESSABLE, "percentage rounds down to 0 shares")
    if qty is not None and qty >= held[symbol]:
        qty = None if qty == held[symbol] else qty
    order = _close(state, symbol, qty)
    return json_response(_render(state, order, nested=False))


async def close_all_positions(request: web.Request) -> web.Response:
    """DELETE /v2/positions?cancel_orders: 207 with one {symbol, status, body} per position."""
    state = _state(request)
    cancel_orders = query_bool(request.query, "cancel_orders")
    if cancel_orders:
        state.exchange.cancel_all()
    result: list[dict[str, Any]] = []
    for position in state.exchange.positions():
        symbol = position.symbol
        try:
            if cancel_orders:
                order = _close(state, symbol, None)
            else:  # without cancel_orders the shares open orders hold are not available
                order = _place(
                    state,
                    OrderRequest(
                        state.next_client_order_id("close"), symbol, Side.SELL, position.qty
                    ),
                )
        except ApiError as exc:
            result.append({"symbol": symbol, "status": exc.status, "body": exc.body})
            continue
        result.append(
            {"symbol": symbol, "status": 200, "body": _render(state, order, nested=False)}
        )
    return json_response(result, 207)


async def list_activities(request: web.Request) -> web.Response:
    """GET /v2/account/activities[/FILL]?after&until&date&direction&page_size&page_token."""
    query = request.query
    kinds = request.match_info.get("activity_type") or query.get("activity_types", "FILL")
    records = _state(request).journal.fill_records
    if "FILL" not in kinds.upper().split(","):
        return json_response([])  # the simulator has trade activities only
    after = parse_time(query["after"], "after") if "after" in query else None
    until = parse_time(query["until"], "until") if "until" in query else None
    day = date.fromisoformat(query["date"]) if "date" in query else None
    direction = query.get("direction", "desc")
    if direction not in ("asc", "desc"):
        raise trading_error(422, UNPROCESSABLE, f"invalid direction: {direction}")
    page_size = query_int(query, "page_size", 100, 1, 100)
    return json_response(
        activities(
            records,
            after=after,
            until=until,
            day=day,
            descending=direction == "desc",
            page_size=page_size,
            page_token=query.get("page_token"),
        )
    )
