"""A hand-written Broker that hands every call to the broker behind it: the base of the wrappers
tests put at the seam (counting calls, scripting faults).

A wrapper overrides the methods it changes and calls `super()` for the real answer; `before` is
called first with each method's name, so a wrapper that only watches overrides that alone.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from datetime import date, datetime

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
from catalyst.ports import Broker


class DelegatingBroker:
    """Implements `catalyst.ports.Broker` by delegating every call to `inner`."""

    inner: Broker

    def __init__(self, inner: Broker) -> None:
        self.inner = inner

    def before(self, method: str) -> None:
        """Called with the method's name before each call is handed on (nothing by default)."""

    async def get_account(self) -> Account:
        self.before("get_account")
        return await self.inner.get_account()

    async def get_session(self, day: date) -> TradingSession | None:
        self.before("get_session")
        return await self.inner.get_session(day)

    async def list_assets(self) -> Sequence[Asset]:
        self.before("list_assets")
        return await self.inner.list_assets()

    async def get_snapshots(self, symbols: Sequence[str]) -> dict[str, Snapshot]:
        self.before("get_snapshots")
        return await self.inner.get_snapshots(symbols)

    async def get_daily_bars(self, symbols: Sequence[str], days: int) -> dict[str, list[Bar]]:
        self.before("get_daily_bars")
        return await self.inner.get_daily_bars(symbols, days)

    async def get_intraday_bars(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Bar]]:
        self.before("get_intraday_bars")
        return await self.inner.get_intraday_bars(symbols, start, end)

    async def get_news(self, symbols: Sequence[str], since: datetime) -> list[NewsItem]:
        self.before("get_news")
        return await self.inner.get_news(symbols, since)

    async def submit_order(self, request: OrderRequest) -> Order:
        self.before("submit_order")
        return await self.inner.submit_order(request)

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        self.before("get_order_by_client_id")
        return await self.inner.get_order_by_client_id(client_order_id)

    async def list_open_orders(self) -> list[Order]:
        self.before("list_open_orders")
        return await self.inner.list_open_orders()

    async def cancel_order(self, order_id: str) -> None:
        self.before("cancel_order")
        await self.inner.cancel_order(order_id)

    async def cancel_all_orders(self) -> None:
        self.before("cancel_all_orders")
        await self.inner.cancel_all_orders()

    async def list_positions(self) -> list[Position]:
        self.before("list_positions")
        return await self.inner.list_positions()

    async def get_fills(self, since: datetime) -> list[Fill]:
        self.before("get_fills")
        return await self.inner.get_fills(since)

    async def order_events(self) -> AsyncGenerator[OrderEvent, None]:
        self.before("order_events")  # one subscription; pushed events are not requests
        async for event in self.inner.order_events():
            yield event

    async def close_position(self, symbol: str, client_order_id: str) -> Order:
        self.before("close_position")
        return await self.inner.close_position(symbol, client_order_id)
