"""A hand-written counting Broker: any broker behind it, every call noted with its clock time.

Used to measure how hard the daemon leans on the broker (requests per simulated minute), at the
seam every component shares, without patching anything.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
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
from catalyst.ports import Broker, Clock


@dataclass(frozen=True, slots=True)
class Call:
    at: datetime
    method: str


@dataclass
class CountingBroker:
    """Implements `catalyst.ports.Broker` by delegating to `inner`, noting every call."""

    inner: Broker
    clock: Clock
    calls: list[Call] = field(default_factory=list)
    _first_calls: dict[str, asyncio.Event] = field(default_factory=dict)

    def between(self, start: datetime, end: datetime) -> list[Call]:
        """The calls made in [start, end)."""
        return [call for call in self.calls if start <= call.at < end]

    def methods(self, start: datetime, end: datetime) -> Counter[str]:
        """How often each method was called in [start, end)."""
        return Counter(call.method for call in self.between(start, end))

    async def first_call(self, method: str) -> None:
        """Return once `method` has been called (at once if it already was)."""
        await self._first_calls.setdefault(method, asyncio.Event()).wait()

    def _note(self, method: str) -> None:
        self.calls.append(Call(self.clock.now(), method))
        self._first_calls.setdefault(method, asyncio.Event()).set()

    async def get_account(self) -> Account:
        self._note("get_account")
        return await self.inner.get_account()

    async def get_session(self, day: date) -> TradingSession | None:
        self._note("get_session")
        return await self.inner.get_session(day)

    async def list_assets(self) -> Sequence[Asset]:
        self._note("list_assets")
        return await self.inner.list_assets()

    async def get_snapshots(self, symbols: Sequence[str]) -> dict[str, Snapshot]:
        self._note("get_snapshots")
        return await self.inner.get_snapshots(symbols)

    async def get_daily_bars(self, symbols: Sequence[str], days: int) -> dict[str, list[Bar]]:
        self._note("get_daily_bars")
        return await self.inner.get_daily_bars(symbols, days)

    async def get_intraday_bars(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Bar]]:
        self._note("get_intraday_bars")
        return await self.inner.get_intraday_bars(symbols, start, end)

    async def get_news(self, symbols: Sequence[str], since: datetime) -> list[NewsItem]:
        self._note("get_news")
        return await self.inner.get_news(symbols, since)

    async def submit_order(self, request: OrderRequest) -> Order:
        self._note("submit_order")
        return await self.inner.submit_order(request)

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        self._note("get_order_by_client_id")
        return await self.inner.get_order_by_client_id(client_order_id)

    async def list_open_orders(self) -> list[Order]:
        self._note("list_open_orders")
        return await self.inner.list_open_orders()

    async def cancel_order(self, order_id: str) -> None:
        self._note("cancel_order")
        await self.inner.cancel_order(order_id)

    async def cancel_all_orders(self) -> None:
        self._note("cancel_all_orders")
        await self.inner.cancel_all_orders()

    async def list_positions(self) -> list[Position]:
        self._note("list_positions")
        return await self.inner.list_positions()

    async def get_fills(self, since: datetime) -> list[Fill]:
        self._note("get_fills")
        return await self.inner.get_fills(since)

    async def order_events(self) -> AsyncGenerator[OrderEvent, None]:
        self._note("order_events")  # one subscription; pushed events are not requests
        async for event in self.inner.order_events():
            yield event

    async def close_position(self, symbol: str, client_order_id: str) -> Order:
        self._note("close_position")
        return await self.inner.close_position(symbol, client_order_id)
