"""`SimBroker`: the `Broker` port over the exchange simulator.

Every call first brings the exchange up to the clock, so the matching engine only ever sees time
move forward with the daemon. `list_assets` returns the whole simulated universe, untradable
symbols included with `tradable=False` (as Alpaca's asset list has them), so the pipeline's own
filter is exercised.

`order_events` pushes fills from the exchange's fill listener, and "canceled" / "expired" /
"rejected" events found by comparing the open orders before and after each call. The exchange only
moves when someone calls the broker (every call catches it up to the clock), so an event is pushed
during the first call made after simulated time passes it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from catalyst.config.models import SimulationConfig
from catalyst.domain.models import (
    Account,
    Asset,
    Bar,
    Fill,
    NewsItem,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderRequest,
    OrderStatus,
    Position,
    Snapshot,
    TradingSession,
)
from catalyst.sim.exchange import NowSource, SimExchange
from catalyst.sim.feed import SessionSource, SyntheticMarketFeed
from catalyst.sim.market import SyntheticMarket

_AVG_PRICE_PLACES = Decimal("0.0001")
_ENDED_WITHOUT_FILL = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})


@dataclass(frozen=True, slots=True)
class _Execution:
    """One fill and its order's running totals right after it."""

    fill: Fill
    cum_qty: int
    cum_notional: Decimal


class SimBroker:
    """Implements `catalyst.ports.Broker` against a `SimExchange`."""

    def __init__(self, exchange: SimExchange, calendar: SessionSource, clock: NowSource) -> None:
        self._exchange = exchange
        self._calendar = calendar
        self._clock = clock
        self._totals: dict[str, tuple[int, Decimal]] = {}
        self._subscribers: list[asyncio.Queue[_Execution | OrderEvent]] = []
        self._open: frozenset[str] = frozenset()  # ids of open orders and legs at the last look
        for fill in exchange.fills:  # fills before this broker existed count toward the totals
            self._on_fill(fill)
        exchange.add_fill_listener(self._on_fill)

    def _on_fill(self, fill: Fill) -> None:
        # Called synchronously inside the exchange: only bookkeeping and put_nowait here.
        qty, notional = self._totals.get(fill.order_id, (0, Decimal(0)))
        totals = (qty + fill.qty, notional + fill.price * fill.qty)
        self._totals[fill.order_id] = totals
        execution = _Execution(fill, *totals)
        for queue in self._subscribers:
            queue.put_nowait(execution)

    async def order_events(self) -> AsyncGenerator[OrderEvent, None]:
        """From now on: a fill or partial_fill event for every fill, and a canceled, expired or
        rejected event for every order or leg that was open and has ended without filling (see
        the module docstring for when). "new", "accepted" and the like are not pushed, nor a
        rejection at submission, which `submit_order` raises instead.

        A fill event's order is the order as it stood right after that fill (legs nested); an
        ending event's order is the order as the broker found it ended.
        """
        queue: asyncio.Queue[_Execution | OrderEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            while True:
                item = await queue.get()
                yield item if isinstance(item, OrderEvent) else self._event(item)
        finally:
            self._subscribers.remove(queue)

    def _event(self, execution: _Execution) -> OrderEvent:
        fill = execution.fill
        current = self._exchange.order(fill.order_id)
        done = execution.cum_qty >= current.qty
        order = dataclasses.replace(
            current,
            status=OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
            filled_qty=execution.cum_qty,
            filled_avg_price=(execution.cum_notional / execution.cum_qty).quantize(
                _AVG_PRICE_PLACES
            ),
        )
        kind = OrderEventKind.FILL if done else OrderEventKind.PARTIAL_FILL
        return OrderEvent(kind=kind, order=order, timestamp=fill.timestamp, fill=fill)

    @property
    def exchange(self) -> SimExchange:
        """The simulator behind this broker (for tests, shocks and the demo)."""
        return self._exchange

    @property
    def fills(self) -> tuple[Fill, ...]:
        """Every fill so far."""
        return self._exchange.fills

    def _sync(self) -> None:
        self._exchange.advance_to(self._clock.now())
        self._note_ended_orders()

    def _note_ended_orders(self) -> None:
        # Orders open at the last look that are now canceled, expired or rejected.
        current = frozenset(
            member.id
            for order in self._exchange.open_orders()
            for member in (order, *order.legs)
            if member.status.is_open
        )
        if self._subscribers:
            now = self._clock.now()
            for order_id in sorted(self._open - current):
                order = self._exchange.order(order_id)
                if order.status in _ENDED_WITHOUT_FILL:
                    event = OrderEvent(
                        kind=OrderEventKind(order.status.value), order=order, timestamp=now
                    )
                    for queue in self._subscribers:
                        queue.put_nowait(event)
        self._open = current

    async def get_account(self) -> Account:
        """Equity, the previous close's equity, cash and buying power."""
        self._sync()
        return self._exchange.account()

    @property
    def market(self) -> SyntheticMarket:
        """Today's synthetic market: what it planted is for grading a strategy (tests, bench),
        never for the pipeline, which sees only what the `Broker` port returns."""
        return self._exchange.market

    async def get_session(self, day: date) -> TradingSession | None:
        """The exchange session on `day` from the calendar."""
        return self._calendar.session(day)

    async def list_assets(self) -> Sequence[Asset]:
        """Every simulated symbol; untradable ones carry `tradable=False`."""
        self._sync()
        return self._exchange.assets()

    async def get_snapshots(self, symbols: Sequence[str]) -> dict[str, Snapshot]:
        """Snapshots now; unknown symbols are left out.

        Built off the event loop, as a real broker's answer would arrive (at 12,000 symbols
        the objects take some 40 ms): the day's market arrays are only read, and the exchange
        moved to now before.
        """
        self._sync()
        market, now = self._exchange.market, self._exchange.now
        return await asyncio.to_thread(market.snapshots, symbols, now)

    async def get_daily_bars(self, symbols: Sequence[str], days: int) -> dict[str, list[Bar]]:
        """Up to `days` completed daily bars before today, oldest first (off the event loop,
        like the snapshots)."""
        self._sync()
        return await asyncio.to_thread(self._exchange.market.daily_bars, symbols, days)

    async def get_intraday_bars(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Bar]]:
        """Completed minute bars in [start, end) (today's and the previous session's), built
        off the event loop like the snapshots (50 symbols at 15:00 are 16,500 bars)."""
        self._sync()
        markets, now = self._visible_markets(), self._exchange.now

        def build() -> dict[str, list[Bar]]:
            result: dict[str, list[Bar]] = {}
            for market in markets:
                for symbol, bars in market.minute_bars(symbols, start, end, now).items():
                    result.setdefault(symbol, []).extend(bars)
            return result

        return await asyncio.to_thread(build)

    async def get_news(self, symbols: Sequence[str], since: datetime) -> list[NewsItem]:
        """News about `symbols` created at or after `since` (and not in the future)."""
        self._sync()
        items: list[NewsItem] = []
        for market in self._visible_markets():
            items.extend(market.news_since(symbols, since, self._exchange.now))
        return items

    def _visible_markets(self) -> list[SyntheticMarket]:
        # The feed keeps yesterday's market too; never one ahead of the exchange's day.
        today = self._exchange.market.session.day
        return [m for m in self._exchange.feed.recent_markets() if m.session.day <= today]

    async def submit_order(self, request: OrderRequest) -> Order:
        """Place an order; rejections raise the `catalyst.domain.errors` classes."""
        self._sync()
        result = self._exchange.submit(request)
        self._note_ended_orders()
        return result

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        """A parent (legs nested) or a single leg by client_order_id, or None."""
        self._sync()
        return self._exchange.order_by_client_id(client_order_id)

    async def list_open_orders(self) -> list[Order]:
        """Open orders with legs nested, held legs included."""
        self._sync()
        return self._exchange.open_orders()

    async def cancel_order(self, order_id: str) -> None:
        """Cancel one order (and its bracket group); a no-op if already final."""
        self._sync()
        self._exchange.cancel(order_id)
        self._note_ended_orders()

    async def cancel_all_orders(self) -> None:
        """Cancel every open order, legs included."""
        self._sync()
        self._exchange.cancel_all()
        self._note_ended_orders()

    async def list_positions(self) -> list[Position]:
        """Every open position."""
        self._sync()
        return self._exchange.positions()

    async def get_fills(self, since: datetime) -> list[Fill]:
        """Every fill at or after `since`, per-fill quantities, oldest first."""
        self._sync()
        return self._exchange.fills_at_or_after(since)

    async def close_position(self, symbol: str, client_order_id: str) -> Order:
        """Cancel the symbol's open orders, then sell the position at market."""
        self._sync()
        result = self._exchange.close_position(symbol, client_order_id)
        self._note_ended_orders()
        return result


def build_sim_broker(
    simulation: SimulationConfig,
    calendar: SessionSource,
    clock: NowSource,
    *,
    partial_fill_symbols: Sequence[str] = (),
) -> SimBroker:
    """A `SimBroker` over a fresh synthetic market and account configured by `simulation`."""
    feed = SyntheticMarketFeed(
        seed=simulation.seed,
        n_symbols=simulation.symbols,
        sessions=calendar,
        history_days=simulation.history_days,
        catalyst_fraction=simulation.catalyst_fraction,
    )
    exchange = SimExchange(
        feed, simulation.starting_cash, clock, partial_fill_symbols=partial_fill_symbols
    )
    return SimBroker(exchange, calendar, clock)
