"""`AlpacaBroker`: the `Broker` port over Alpaca's REST API with the official alpaca-py SDK.

Every request goes through one `RestTransport` (`catalyst.brokers.alpaca.transport`: rate limit,
timeouts, retries, a submit sent exactly once); the market-data methods are those of
`MarketData` (`catalyst.brokers.alpaca.market_data`). Accounts, orders, positions and fills are
here.

Closing a position
------------------
Alpaca's `DELETE /v2/positions/{symbol}` takes no client_order_id, so its order would not carry
Catalyst's journaled id. `close_position` therefore cancels the symbol's open orders (held bracket
legs reserve the shares), waits until they are gone, and sends a plain market order for the whole
position with the caller's client_order_id.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from alpaca.data.historical.news import NewsClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide as AlpacaSide
from alpaca.trading.enums import QueryOrderStatus, TimeInForce
from alpaca.trading.models import Calendar as AlpacaCalendar
from alpaca.trading.models import Clock as AlpacaMarketClock
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position as AlpacaPosition
from alpaca.trading.models import TradeAccount
from alpaca.trading.requests import (
    CancelOrderResponse,
    GetCalendarRequest,
    GetOrderByIdRequest,
    GetOrdersRequest,
    MarketOrderRequest,
)
from alpaca.trading.requests import OrderRequest as AlpacaOrderRequest
from pydantic import ValidationError

from catalyst.brokers.alpaca.errors import Call, translating
from catalyst.brokers.alpaca.market_data import MarketData
from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.brokers.alpaca.stream import StreamSettings, TradeUpdateStream, stream_url_for
from catalyst.brokers.alpaca.translate import (
    account_from_alpaca,
    fill_from_json,
    order_event_from_activity,
    order_from_alpaca,
    order_request_to_alpaca,
    parse_timestamp,
    position_from_alpaca,
    rfc3339,
    session_from_alpaca,
)
from catalyst.brokers.alpaca.transport import (
    DEFAULT_READ_ATTEMPTS,
    DEFAULT_TIMEOUT_SECONDS,
    RestTransport,
    as_list,
    expect,
    harden_client,
)
from catalyst.domain.errors import DuplicateClientOrderId, NotFound, OrderRejected
from catalyst.domain.models import (
    Account,
    Asset,
    Bar,
    Fill,
    NewsItem,
    Order,
    OrderEvent,
    OrderRequest,
    Position,
    Snapshot,
    TradingSession,
)
from catalyst.ports import Clock

log = structlog.get_logger(__name__)

FILLS_PAGE_SIZE = 100
OPEN_ORDERS_LIMIT = 500
_FILLS_PATH = "/account/activities/FILL"
# close_position waits this long, in total, for cancels to take effect before selling.
CANCEL_SETTLE_DELAYS_SECONDS = (0.2, 0.5, 1.0, 2.0)


@dataclass(frozen=True, slots=True)
class MarketClock:
    """Alpaca's `/v2/clock`: whether the market is open now and its next open and close."""

    timestamp: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


def _stream_settings(
    trading: TradingClient, url: str | None, poll_seconds: float
) -> StreamSettings:
    """Stream settings from the trading client's own credentials and base URL.

    alpaca-py keeps both in private attributes (`_api_key`, `_secret_key`, `_base_url`); they are
    read here, in one place, so the stream always speaks for the same account as the REST calls.
    Without an explicit `url`, the stream sits beside the trading API (`stream_url_for`).
    """
    key, secret = trading._api_key, trading._secret_key
    if key is None or secret is None:
        raise ValueError("the trading client has no API key pair for the stream")
    base = str(getattr(trading._base_url, "value", trading._base_url))
    return StreamSettings(
        url=url if url is not None else stream_url_for(base),
        key_id=key,
        secret_key=secret,
        poll_seconds=poll_seconds,
    )


class AlpacaBroker:
    """Implements `catalyst.ports.Broker` against Alpaca (paper or live) through alpaca-py."""

    def __init__(
        self,
        *,
        trading: TradingClient,
        data: StockHistoricalDataClient,
        news: NewsClient,
        clock: Clock,
        limiter: RequestLimiter,
        live: bool,
        feed: str | None = "iex",
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        read_attempts: int = DEFAULT_READ_ATTEMPTS,
        backoff_base_seconds: float = 0.5,
        backoff_cap_seconds: float = 30.0,
        rng: random.Random | None = None,
        stream_url: str | None = None,
        stream_poll_seconds: float = 3.0,
    ) -> None:
        self._rng = rng if rng is not None else random.Random()  # jitter only
        self._transport = RestTransport(
            clock=clock,
            limiter=limiter,
            read_attempts=read_attempts,
            backoff_base_seconds=backoff_base_seconds,
            backoff_cap_seconds=backoff_cap_seconds,
            rng=self._rng,
        )
        for client in (trading, data, news):
            harden_client(client, timeout_seconds)
        self._market = MarketData(
            transport=self._transport, trading=trading, data=data, news=news, clock=clock, feed=feed
        )
        self._trading = trading
        self._clock = clock
        self._live = live
        self._client_ids: dict[str, str] = {}  # broker order id -> client_order_id
        self._stream_settings = _stream_settings(trading, stream_url, stream_poll_seconds)
        self.stream: TradeUpdateStream | None = None  # the latest `order_events` stream
        if live:
            log.warning("broker: Alpaca LIVE — REAL MONEY")
        else:
            log.info("broker: Alpaca PAPER")

    @property
    def live(self) -> bool:
        """True when this adapter trades a live (real money) account."""
        return self._live

    @property
    def limiter(self) -> RequestLimiter:
        """The request limiter every call of this adapter goes through."""
        return self._transport.limiter

    # --------------------------------------------------------------------------- account

    async def get_account(self) -> Account:
        """Equity, the previous close's equity, cash and buying power."""
        raw = await self._transport.required("get account", self._trading.get_account)
        return account_from_alpaca(expect(raw, TradeAccount, "get account"))

    async def get_market_clock(self) -> MarketClock:
        """Alpaca's market clock (for operators; the daemon plans from `get_session`)."""
        raw = await self._transport.required("get clock", self._trading.get_clock)
        clock = expect(raw, AlpacaMarketClock, "get clock")
        return MarketClock(
            timestamp=parse_timestamp(clock.timestamp),
            is_open=clock.is_open,
            next_open=parse_timestamp(clock.next_open),
            next_close=parse_timestamp(clock.next_close),
        )

    async def get_session(self, day: date) -> TradingSession | None:
        """The session on `day` from `/v2/calendar`; None on a market holiday or weekend."""
        request = GetCalendarRequest(start=day, end=day)
        raw = await self._transport.required("get calendar", self._trading.get_calendar, request)
        entries = [expect(item, AlpacaCalendar, "get calendar") for item in as_list(raw)]
        return session_from_alpaca(day, entries)

    # ----------------------------------------------------------------------- market data

    async def list_assets(self) -> Sequence[Asset]:
        """Active US equities (untradable ones flagged), fetched once per exchange day."""
        return await self._market.list_assets()

    async def get_snapshots(self, symbols: Sequence[str]) -> dict[str, Snapshot]:
        """Latest snapshot per symbol; symbols without full data are left out."""
        return await self._market.get_snapshots(symbols)

    async def get_daily_bars(self, symbols: Sequence[str], days: int) -> dict[str, list[Bar]]:
        """Up to `days` completed daily bars per symbol before today, oldest first."""
        return await self._market.get_daily_bars(symbols, days)

    async def get_intraday_bars(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Bar]]:
        """Minute bars in [start, end) per symbol, oldest first."""
        return await self._market.get_intraday_bars(symbols, start, end)

    async def get_news(self, symbols: Sequence[str], since: datetime) -> list[NewsItem]:
        """News items mentioning any of `symbols`, created at or after `since`, oldest first."""
        return await self._market.get_news(symbols, since)

    # ---------------------------------------------------------------------------- orders

    async def submit_order(self, request: OrderRequest) -> Order:
        """Place an order (a bracket when `request.bracket` is set); sent exactly once.

        Raises `OrderRejected` locally for an order Alpaca would refuse (bad bracket prices,
        non-day time in force), `UnknownOrderOutcome` when the answer was lost, and the other
        `catalyst.domain.errors` classes as `errors.translate` lists.
        """
        cid = request.client_order_id
        try:
            alpaca_request = order_request_to_alpaca(request)
        except (ValidationError, ValueError) as exc:
            raise OrderRejected(cid, f"invalid order: {exc}") from exc
        return await self._submit(cid, alpaca_request)

    async def _submit(self, client_order_id: str, request: AlpacaOrderRequest) -> Order:
        raw = await self._transport.submit(self._trading.submit_order, request, client_order_id)
        order = expect(raw, AlpacaOrder, "submit order")
        self._client_ids[str(order.id)] = order.client_order_id
        return order_from_alpaca(order)

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        """The order with this client_order_id, legs nested, or None if Alpaca has none."""
        params = {"client_order_id": client_order_id, "nested": True}
        try:
            raw = await self._transport.read(
                "get order by client id", self._trading.get, "/orders:by_client_order_id", params
            )
        except NotFound:
            return None
        if not isinstance(raw, Mapping):
            return None
        with translating(Call.READ, action="get order by client id"):
            order = AlpacaOrder(**raw)
        self._client_ids[str(order.id)] = order.client_order_id
        return order_from_alpaca(order)

    async def list_open_orders(self) -> list[Order]:
        """Open orders with their bracket legs nested (held stop legs included)."""
        orders = await self._open_alpaca_orders()
        return [order_from_alpaca(order) for order in orders]

    async def _open_alpaca_orders(self, symbol: str | None = None) -> list[AlpacaOrder]:
        request = GetOrdersRequest(
            status=QueryOrderStatus.OPEN,
            nested=True,
            limit=OPEN_ORDERS_LIMIT,
            symbols=[symbol] if symbol is not None else None,
        )
        raw = await self._transport.required("list open orders", self._trading.get_orders, request)
        orders = [expect(item, AlpacaOrder, "list open orders") for item in as_list(raw)]
        if len(orders) >= OPEN_ORDERS_LIMIT:
            log.error("open order listing hit Alpaca's page limit", limit=OPEN_ORDERS_LIMIT)
        return orders

    async def cancel_order(self, order_id: str) -> None:
        """Cancel one order; a no-op if it is already final (Alpaca answers 422)."""
        try:
            uuid.UUID(order_id)
        except ValueError as exc:  # Alpaca order ids are UUIDs: this one cannot exist
            raise NotFound(f"order {order_id} not found") from exc
        await self._transport.read(
            "cancel order", self._trading.cancel_order_by_id, order_id, tolerate=frozenset({422})
        )

    async def cancel_all_orders(self) -> None:
        """Cancel every open order, legs included; per-order failures are logged."""
        raw = await self._transport.read("cancel all orders", self._trading.cancel_orders)
        for item in as_list(raw):
            if isinstance(item, CancelOrderResponse) and item.status >= 300:
                log.warning(
                    "alpaca did not cancel an order",
                    order_id=str(item.id),
                    status=item.status,
                    body=item.body,
                )

    # ------------------------------------------------------------------------- positions

    async def list_positions(self) -> list[Position]:
        """Every open position."""
        raw = await self._transport.required("list positions", self._trading.get_all_positions)
        return [
            position_from_alpaca(expect(item, AlpacaPosition, "list positions"))
            for item in as_list(raw)
        ]

    async def close_position(self, symbol: str, client_order_id: str) -> Order:
        """Close one position at market with a journaled client_order_id (see module docs).

        Raises `NotFound` when there is no position and `DuplicateClientOrderId` when an order
        with this id already exists (nothing is canceled then).
        """
        if await self.get_order_by_client_id(client_order_id) is not None:
            raise DuplicateClientOrderId(client_order_id)
        raw = await self._transport.required(
            "get position", self._trading.get_open_position, symbol.replace("/", "")
        )
        position = position_from_alpaca(expect(raw, AlpacaPosition, "get position"))
        if position.qty == 0:
            raise NotFound(f"position does not exist: {symbol}")
        await self._cancel_symbol_orders(symbol)
        request = MarketOrderRequest(
            symbol=symbol,
            qty=abs(position.qty),
            side=AlpacaSide.SELL if position.qty > 0 else AlpacaSide.BUY,
            time_in_force=TimeInForce.DAY,
            client_order_id=client_order_id,
        )
        return await self._submit(client_order_id, request)

    async def _cancel_symbol_orders(self, symbol: str) -> None:
        for delay in (*CANCEL_SETTLE_DELAYS_SECONDS, None):
            open_ids = _open_ids(await self._open_alpaca_orders(symbol), symbol)
            if not open_ids:
                return
            if delay is None:
                log.warning("orders still open before close; sending anyway", symbol=symbol)
                return
            for order_id in open_ids:
                try:
                    await self.cancel_order(order_id)
                except NotFound:
                    continue
            await self._clock.sleep(delay)

    async def get_fills(self, since: datetime) -> list[Fill]:
        """Every execution at or after `since`, one record per fill, oldest first."""
        fills = [fill for _, fill in await self._fill_activities(since)]
        fills.sort(key=lambda fill: fill.timestamp)
        return fills

    async def order_events(self) -> AsyncGenerator[OrderEvent, None]:
        """Order events from the trade_updates stream; fills polled while it is down.

        See `catalyst.brokers.alpaca.stream`. Runs until closed or cancelled.
        """
        stream = TradeUpdateStream(
            self._stream_settings, clock=self._clock, poll=self._poll_fill_events, rng=self._rng
        )
        self.stream = stream
        async for event in stream.events():
            yield event

    async def _poll_fill_events(self, since: datetime) -> list[OrderEvent]:
        """Fill events for every execution at or after `since`, oldest first (the fallback)."""
        orders: dict[str, Order] = {}
        events: list[OrderEvent] = []
        for raw, fill in await self._fill_activities(since):
            current = orders.get(fill.order_id)
            if current is None:
                request = GetOrderByIdRequest(nested=True)
                got = await self._transport.required(
                    "get order", self._trading.get_order_by_id, fill.order_id, request
                )
                current = order_from_alpaca(expect(got, AlpacaOrder, "get order"))
                orders[fill.order_id] = current
            events.append(order_event_from_activity(raw, fill, current))
        events.sort(key=lambda event: event.timestamp)
        return events

    async def _fill_activities(self, since: datetime) -> list[tuple[Mapping[str, Any], Fill]]:
        """Raw FILL activities at or after `since`, each with its `Fill`, in the broker's order."""
        # `after` is exclusive and second-granular at best: ask from a second earlier, filter here.
        params: dict[str, Any] = {
            "after": rfc3339(since - timedelta(seconds=1)),
            "direction": "asc",
            "page_size": FILLS_PAGE_SIZE,
        }
        activities: list[Mapping[str, Any]] = []
        while True:
            raw = await self._transport.read("get fills", self._trading.get, _FILLS_PATH, params)
            page = [item for item in as_list(raw) if isinstance(item, Mapping)]
            activities.extend(page)
            if len(page) < FILLS_PAGE_SIZE:
                break
            params = {**params, "page_token": str(page[-1]["id"])}
        result: list[tuple[Mapping[str, Any], Fill]] = []
        for activity in activities:
            if parse_timestamp(activity["transaction_time"]) < since:
                continue
            cid = await self._client_order_id(str(activity["order_id"]))
            result.append((activity, fill_from_json(activity, cid)))
        return result

    async def _client_order_id(self, order_id: str) -> str:
        known = self._client_ids.get(order_id)
        if known is not None:
            return known
        raw = await self._transport.required("get order", self._trading.get_order_by_id, order_id)
        order = expect(raw, AlpacaOrder, "get order")
        self._client_ids[order_id] = order.client_order_id
        return order.client_order_id


# -------------------------------------------------------------------------------- helpers


def _open_ids(orders: Sequence[AlpacaOrder], symbol: str) -> list[str]:
    """Ids of every open order (legs included) for `symbol`, children before parents."""
    ids: list[str] = []
    final = {"filled", "canceled", "expired", "rejected", "replaced", "done_for_day"}

    def visit(order: AlpacaOrder) -> None:
        for leg in order.legs or ():
            visit(leg)
        status = getattr(order.status, "value", order.status)
        if order.symbol == symbol and status not in final:
            ids.append(str(order.id))

    for order in orders:
        visit(order)
    return ids
