"""The fake Alpaca aiohttp application: trading REST, market-data REST and `/stream` on one port.

Every request first brings the shared `SimExchange` up to the injected clock (the exchange
catches up lazily), then runs; afterwards the order journal turns what changed into
`trade_updates` events for the websocket. A background task pumps the journal too, so fills that
happen while nobody calls (time moving on) still reach the stream.

Middleware order, outermost first: request counting and fault injection, authentication,
rate-limit headers and error rendering. `/__faults` (the admin endpoint) bypasses all of them and
is not counted. aiohttp answers 400 to a request target (path and query) over 8,190 bytes (its
`max_line_size`, checked: 8,190 passes, 8,200 is refused), about what nginx and Apache accept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from catalyst.fake_alpaca.data_routes import add_data_routes
from catalyst.fake_alpaca.faults import Fault, FaultPlan, fault_from_json
from catalyst.fake_alpaca.journal import OrderJournal
from catalyst.fake_alpaca.state import FAULTS, STATE, FakeAlpaca
from catalyst.fake_alpaca.stream import StreamHub
from catalyst.fake_alpaca.trading_routes import add_trading_routes
from catalyst.fake_alpaca.wire import UNAUTHORIZED, ApiError, json_response
from catalyst.ports import Clock
from catalyst.sim.exchange import SimExchange
from catalyst.sim.feed import SessionSource

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ADMIN_PREFIX = "/__faults"
_DATA_PREFIXES = ("/v2/stocks", "/v1beta1")


def create_app(
    exchange: SimExchange,
    calendar: SessionSource,
    clock: Clock,
    *,
    faults: FaultPlan | None = None,
    credentials: tuple[str, str] | None = None,
    pump_interval: float = 0.05,
) -> web.Application:
    """The fake Alpaca server over `exchange`.

    `credentials`: the only (key id, secret) pair accepted; None accepts any non-empty pair.
    `pump_interval`: real seconds between background journal pumps (stream delivery latency).
    """

    def check(key: str | None, secret: str | None) -> bool:
        if not key or not secret:
            return False
        return credentials is None or (key, secret) == credentials

    state = FakeAlpaca(
        exchange=exchange,
        calendar=calendar,
        clock=clock,
        journal=OrderJournal(exchange),
        hub=StreamHub(check),
        created_at=clock.now(),
    )
    plan = faults if faults is not None else FaultPlan()
    app = web.Application(
        middlewares=[_faults_middleware, _auth_middleware(check), _api_middleware]
    )
    app[STATE] = state
    app[FAULTS] = plan
    app.router.add_get("/stream", state.hub.handle)
    app.router.add_get(ADMIN_PREFIX, _list_faults)
    app.router.add_post(ADMIN_PREFIX, _add_fault)
    app.router.add_delete(ADMIN_PREFIX, _clear_faults)
    app.router.add_post(f"{ADMIN_PREFIX}/stream_disconnect", _stream_disconnect)
    add_trading_routes(app)
    add_data_routes(app)
    app.cleanup_ctx.append(_background_pump(pump_interval))
    app.on_shutdown.append(_close_streams)
    return app


def _is_data(path: str) -> bool:
    return path.startswith(_DATA_PREFIXES)


def _error_body(path: str, code: int, message: str) -> dict[str, object]:
    return {"message": message} if _is_data(path) else {"code": code, "message": message}


@web.middleware
async def _faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(ADMIN_PREFIX):
        return await handler(request)
    request.app[STATE].record_request(request.method, request.path, request.raw_path)
    fault = request.app[FAULTS].take(request.method, request.path)
    if fault is None:
        return await handler(request)
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
    elif fault.kind == "timeout":
        await asyncio.sleep(fault.seconds)
    elif fault.kind == "status":
        return _fault_status(request, fault)
    elif fault.kind == "drop":
        _drop(request)
        return web.Response(status=500)  # never sent: the connection is gone
    response = await handler(request)
    if fault.kind == "lose_response":
        _drop(request)
    return response


def _fault_status(request: web.Request, fault: Fault) -> web.Response:
    messages = {429: "too many requests.", 500: "internal server error", 503: "service unavailable"}
    message = messages.get(fault.status, f"injected fault {fault.status}")
    code = fault.status * 100000
    response = json_response(_error_body(request.path, code, message), fault.status)
    headers = request.app[STATE].count_request()
    if fault.status == 429:
        headers["X-Ratelimit-Remaining"] = "0"
    response.headers.update(headers)
    return response


def _drop(request: web.Request) -> None:
    # Abort, not close: the client must see the connection vanish with no response at all.
    if request.transport is not None:
        request.transport.abort()


def _auth_middleware(check: Callable[[str | None, str | None], bool]) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX) or request.path == "/stream":
            return await handler(request)
        key = request.headers.get("APCA-API-KEY-ID")
        secret = request.headers.get("APCA-API-SECRET-KEY")
        if not check(key, secret):
            message = "unauthorized." if _is_data(request.path) else "request is not authorized"
            return json_response(_error_body(request.path, UNAUTHORIZED, message), 401)
        return await handler(request)

    return middleware


@web.middleware
async def _api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(ADMIN_PREFIX) or request.path == "/stream":
        return await handler(request)
    state = request.app[STATE]
    headers = state.count_request()
    state.pump()  # events from time passing come before this request's own
    try:
        response = await handler(request)
    except ApiError as exc:
        response = json_response(exc.body, exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        body = _error_body(request.path, exc.status * 100000, exc.reason.lower())
        response = json_response(body, exc.status)
    finally:
        state.pump()
    response.headers.update(headers)
    return response


def _background_pump(
    interval: float,
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def pump(app: web.Application) -> AsyncIterator[None]:
        state = app[STATE]

        async def loop() -> None:
            last = None
            while True:
                # A transport-level poll in real seconds: it must not sleep on (and so drive) a
                # simulated clock. It only reads the clock and catches the exchange up to it.
                await asyncio.sleep(interval)
                now = state.clock.now()
                if now != last and state.hub.listeners:
                    state.pump()
                    last = now

        task = asyncio.create_task(loop(), name="fake-alpaca-pump")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return pump


async def _close_streams(app: web.Application) -> None:
    # Open websockets would otherwise hold the server's shutdown for its whole timeout.
    await app[STATE].hub.disconnect_all()


async def _list_faults(request: web.Request) -> web.Response:
    return json_response(request.app[FAULTS].describe())


async def _add_fault(request: web.Request) -> web.Response:
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        fault = request.app[FAULTS].add(fault_from_json(body))
    except ValueError as exc:
        return json_response({"message": str(exc)}, 400)
    return json_response({"added": fault.kind, "active": request.app[FAULTS].describe()})


async def _clear_faults(request: web.Request) -> web.Response:
    request.app[FAULTS].clear()
    return json_response([])


async def _stream_disconnect(request: web.Request) -> web.Response:
    closed = await request.app[STATE].hub.disconnect_all()
    return json_response({"closed": closed})
