"""The exchange simulator: a deterministic matching engine and a simulated cash account.

`SimExchange` trades against a `SyntheticMarketFeed`. It matches lazily: every public call first
catches up to the clock (`advance_to(clock.now())`), replaying each minute bar since the last call
in order. Per bar, two phases:

- at the bar's start, market orders waiting for an open (queued overnight, or the second piece of
  a partial fill) fill at the bar's open, plus slippage;
- at the bar's end, resting limit and stop orders eligible for that bar are matched against its
  high and low: a limit fills at its price or the better open (a gap through it), a stop at its
  price or the worse open. Stop-loss legs are evaluated first, so when a bracket's stop and target
  both trade in one minute the stop wins (the conservative assumption). Fills are stamped with
  the bar's end, the instant the simulator can know they happened.

Market orders that arrive during the session fill at once at the current price (the open of the
minute containing the instant) moved 1 bp against the order and rounded to the tick against it.
Orders that arrive outside regular hours are ACCEPTED and wait for the next session's open, as
Alpaca queues them; `day` orders expire at their session's close.

The account is a cash account (no margin): buying power = cash minus the notional open buy orders
reserve; equity = cash + sum(qty x current price); `last_equity` = equity at the previous close.
Rejections follow `catalyst.sim.rules`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from catalyst.domain.errors import DuplicateClientOrderId, NotFound
from catalyst.domain.models import (
    Account,
    Asset,
    Fill,
    LegRole,
    Order,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TradingSession,
)
from catalyst.sim.account import CashAccount
from catalyst.sim.exchange_time import exchange_midnight, require_aware
from catalyst.sim.feed import SyntheticMarketFeed
from catalyst.sim.market import MINUTE, SyntheticMarket
from catalyst.sim.matching import slipped_price, trigger_price
from catalyst.sim.orders import SimOrder
from catalyst.sim.rules import OrderContext, check_order
from catalyst.sim.ticks import price_from_float

_ORDER_ID_NAMESPACE = uuid.UUID("9a0c1e7e-3b1f-5c7a-9f62-2d5b8f0c4e11")
SIM_ACCOUNT_NUMBER = "SIM000000001"  # one simulated account: its journal is one account's

FillListener = Callable[[Fill], None]


class NowSource(Protocol):
    """The one thing the exchange needs from a clock."""

    def now(self) -> datetime:
        """Current instant, timezone-aware."""
        ...


class SimExchange:
    """A simulated broker account and matching engine over a synthetic market.

    `partial_fill_symbols`: market orders (of 2+ shares) in these symbols fill in two pieces, half
    now and the rest at the next minute's open, for tests of partial-fill handling.
    Fill listeners are called synchronously inside the exchange; they must not call back into it
    (queue the fill and react later).
    """

    def __init__(
        self,
        feed: SyntheticMarketFeed,
        starting_cash: Decimal,
        clock: NowSource,
        *,
        partial_fill_symbols: Iterable[str] = (),
    ) -> None:
        self._feed = feed
        self._clock = clock
        self._partial = frozenset(partial_fill_symbols)
        self._account = CashAccount(starting_cash)
        self.last_equity = starting_cash
        self._orders: dict[str, SimOrder] = {}
        self._by_client_id: dict[str, str] = {}
        self._fills: list[Fill] = []
        self._listeners: list[FillListener] = []
        self._seq = 0
        start = clock.now()
        require_aware(start)
        self._now = start
        self._market = feed.market_for(feed.session_at(start))
        k = self._market.minute_index(start)
        self._next_bar = min(max(k, 0), self._market.minutes)
        self._bar_opened = 0 <= k < self._market.minutes
        session = self._market.session
        self._expired_day: date | None = session.day if start >= session.close else None

    # ---------------------------------------------------------------------------------- time

    @property
    def now(self) -> datetime:
        """The instant the exchange has processed up to."""
        return self._now

    @property
    def market(self) -> SyntheticMarket:
        """Today's market (the session governing the clock's now; catches up first)."""
        self.sync()
        return self._market

    @property
    def feed(self) -> SyntheticMarketFeed:
        """The market feed (for shocks and inspection)."""
        return self._feed

    def sync(self) -> None:
        """Catch up to the clock."""
        self.advance_to(self._clock.now())

    def advance_to(self, when: datetime) -> None:
        """Process every bar, close and day rollover up to `when`. Never goes backwards."""
        require_aware(when)
        if when <= self._now:
            return
        while True:
            self._run_bars(when)
            session = self._market.session
            if when >= session.close and self._expired_day != session.day:
                self._expire(session.day)
                self._expired_day = session.day
            following = self._feed.sessions.next_session(session.day)
            if when < exchange_midnight(following.day):
                break
            self._roll_to(following)
        self._now = when

    def _run_bars(self, until: datetime) -> None:
        market = self._market
        while self._next_bar < market.minutes:
            index = self._next_bar
            start = market.bar_start(index)
            if not self._bar_opened:
                if start > until:
                    return
                self._open_bar(index)
                self._bar_opened = True
            if start + MINUTE > until:
                return
            self._close_bar(index)
            self._next_bar += 1
            self._bar_opened = False

    def _open_bar(self, index: int) -> None:
        market = self._market
        day, start = market.session.day, market.bar_start(index)
        for order in self._working(day):
            if index == 0 and order.status is OrderStatus.ACCEPTED:
                order.status = OrderStatus.NEW  # released at the open
            if order.is_working and order.awaiting_open and order.eligible_from <= start:
                column = self._column(order.symbol)
                bar_open = price_from_float(float(market.open[index, column]))
                self._fill(
                    order, self._piece(order, start), slipped_price(bar_open, order.side), start
                )

    def _close_bar(self, index: int) -> None:
        market = self._market
        start = market.bar_start(index)
        candidates = [
            order
            for order in self._working(market.session.day)
            if order.type is not OrderType.MARKET and order.eligible_from <= start
        ]
        candidates.sort(key=lambda order: (order.role is not LegRole.STOP_LOSS, order.seq))
        for order in candidates:
            if not order.is_working:  # canceled by a sibling that filled earlier in this bar
                continue
            bar_open, high, low, _ = market.bar_prices(self._column(order.symbol), index)
            price = trigger_price(order, bar_open, high, low)
            if price is not None:
                self._fill(order, order.remaining, price, start + MINUTE)

    def _expire(self, day: date) -> None:
        for order in self._working(day):
            if order.time_in_force == "day":
                self._end_group(order, OrderStatus.EXPIRED)

    def _roll_to(self, session: TradingSession) -> None:
        closes = self._market.close[-1]
        self.last_equity = self._account.cash + self._account.market_value(
            lambda symbol: price_from_float(float(closes[self._column(symbol)]))
        )
        old_day = self._market.session.day
        for order in self._orders.values():
            if order.is_open and order.time_in_force == "gtc" and order.session_day == old_day:
                order.session_day = session.day
        self._market = self._feed.market_for(session)
        self._next_bar = 0
        self._bar_opened = False

    # -------------------------------------------------------------------------------- orders

    def submit(self, request: OrderRequest) -> Order:
        """Place an order (a bracket when `request.bracket` is set); see the module docstring."""
        self.sync()
        now, market = self._now, self._market
        take_profit_id = f"{request.client_order_id}-tp"
        stop_loss_id = f"{request.client_order_id}-sl"
        client_ids = [request.client_order_id]
        if request.bracket is not None:
            client_ids += [take_profit_id, stop_loss_id]
        for client_id in client_ids:
            if client_id in self._by_client_id:
                raise DuplicateClientOrderId(client_id)
        column = market.universe.column(request.symbol)
        reserve = check_order(
            request,
            OrderContext(
                asset=None if column is None else market.universe.asset(column),
                last_price=market.price_at(request.symbol, now),
                position_qty=self._account.shares(request.symbol),
                committed_sell_qty=self._committed_sells(request.symbol),
                buying_power=self._buying_power(),
            ),
        )
        session = market.session
        in_session = session.open <= now < session.close
        day = (
            session.day
            if now < session.close
            else self._feed.sessions.next_session(session.day).day
        )
        order_class = OrderClass.BRACKET if request.bracket is not None else OrderClass.SIMPLE
        role = LegRole.ENTRY if request.side is Side.BUY else LegRole.EXIT
        parent = self._register(
            request.client_order_id,
            request,
            side=request.side,
            qty=request.qty,
            type_=request.type,
            role=role,
            order_class=order_class,
            status=OrderStatus.NEW if in_session else OrderStatus.ACCEPTED,
            day=day,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            reserve=reserve,
        )
        if request.bracket is not None:
            take_profit = self._register(
                take_profit_id,
                request,
                side=Side.SELL,
                qty=request.qty,
                type_=OrderType.LIMIT,
                role=LegRole.TAKE_PROFIT,
                order_class=order_class,
                status=OrderStatus.HELD,
                day=day,
                limit_price=request.bracket.take_profit_limit,
                parent_id=parent.id,
            )
            stop_loss = self._register(
                stop_loss_id,
                request,
                side=Side.SELL,
                qty=request.qty,
                type_=OrderType.STOP,
                role=LegRole.STOP_LOSS,
                order_class=order_class,
                status=OrderStatus.HELD,
                day=day,
                stop_price=request.bracket.stop_loss_stop,
                parent_id=parent.id,
            )
            parent.leg_ids = (take_profit.id, stop_loss.id)
        if in_session:
            self._execute_on_arrival(parent)
        return self._view(parent)

    def _register(
        self,
        client_order_id: str,
        request: OrderRequest,
        *,
        side: Side,
        qty: int,
        type_: OrderType,
        role: LegRole,
        order_class: OrderClass,
        status: OrderStatus,
        day: date,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        reserve: Decimal = Decimal(0),
        parent_id: str | None = None,
    ) -> SimOrder:
        self._seq += 1
        order = SimOrder(
            seq=self._seq,
            id=str(uuid.uuid5(_ORDER_ID_NAMESPACE, f"{self._seq}:{client_order_id}")),
            client_order_id=client_order_id,
            symbol=request.symbol,
            side=side,
            qty=qty,
            type=type_,
            time_in_force=request.time_in_force,
            order_class=order_class,
            role=role,
            submitted_at=self._now,
            status=status,
            session_day=day,
            eligible_from=self._now,
            limit_price=limit_price,
            stop_price=stop_price,
            reserve_price=reserve,
            awaiting_open=type_ is OrderType.MARKET and parent_id is None,
            parent_id=parent_id,
        )
        self._orders[order.id] = order
        self._by_client_id[client_order_id] = order.id
        return order

    def _execute_on_arrival(self, order: SimOrder) -> None:
        now = self._now
        price = self._market.price_at(order.symbol, now)
        if price is None:
            return
        if order.type is OrderType.MARKET:
            self._fill(order, self._piece(order, now), slipped_price(price, order.side), now)
        elif order.type is OrderType.LIMIT and order.limit_price is not None:
            limit = order.limit_price
            if order.side is Side.BUY and limit >= price:
                self._fill(order, order.qty, min(limit, slipped_price(price, Side.BUY)), now)
            elif order.side is Side.SELL and limit <= price:
                self._fill(order, order.qty, max(limit, slipped_price(price, Side.SELL)), now)

    def _piece(self, order: SimOrder, at: datetime) -> int:
        """How much of a market order fills at `at`; in partial mode, half now, half next minute."""
        if order.symbol in self._partial and order.filled_qty == 0 and order.qty >= 2:
            index = self._market.minute_index(at)
            order.eligible_from = self._market.bar_start(max(index, 0) + 1)
            return order.qty // 2
        return order.remaining

    def _fill(self, order: SimOrder, qty: int, price: Decimal, at: datetime) -> None:
        notional = price * qty
        if order.side is Side.BUY:
            if not self._account.can_pay(notional):
                # A cash account cannot pay: e.g. a queued market buy that gapped up overnight.
                rejected = OrderStatus.REJECTED if order.filled_qty == 0 else OrderStatus.CANCELED
                self._end_group(order, rejected)
                return
            self._account.buy(order.symbol, qty, price)
        else:
            if qty > self._account.shares(order.symbol):
                # Cannot happen while submissions reserve shares; never let the account go short.
                self._end_group(order, OrderStatus.CANCELED)
                return
            self._account.sell(order.symbol, qty, price)
        order.filled_qty += qty
        order.filled_notional += notional
        if order.remaining == 0:
            order.status = OrderStatus.FILLED
            order.awaiting_open = False
        else:
            order.status = OrderStatus.PARTIALLY_FILLED
        fill = Fill(
            order_id=order.id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            qty=qty,
            price=price,
            timestamp=at,
        )
        self._fills.append(fill)
        for listener in self._listeners:
            listener(fill)
        if order.status is OrderStatus.FILLED:
            self._after_complete_fill(order, at)

    def _after_complete_fill(self, order: SimOrder, at: datetime) -> None:
        for leg_id in order.leg_ids:  # entry done: legs go live, sized to what filled
            leg = self._orders[leg_id]
            if leg.status is OrderStatus.HELD:
                leg.qty = order.filled_qty
                leg.status = OrderStatus.NEW
                leg.eligible_from = at
                leg.session_day = self._market.session.day
        if order.parent_id is not None:  # one exit leg done: the other is canceled (OCO)
            for sibling_id in self._orders[order.parent_id].leg_ids:
                sibling = self._orders[sibling_id]
                if sibling.is_open:
                    sibling.status = OrderStatus.CANCELED
                    sibling.awaiting_open = False

    def _end_group(self, order: SimOrder, status: OrderStatus) -> None:
        """Finish `order` with `status` and cancel the rest of its bracket group."""
        root = self._orders[order.parent_id] if order.parent_id is not None else order
        for member in (root, *(self._orders[leg_id] for leg_id in root.leg_ids)):
            if member.is_open:
                member.status = status if member is order else OrderStatus.CANCELED
                member.awaiting_open = False
        if order.is_open:  # not reached through the group (cannot happen; kept for safety)
            order.status = status

    def cancel(self, order_id: str) -> None:
        """Cancel an order and the rest of its bracket group; a no-op if it is already final."""
        self.sync()
        order = self._orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        if order.is_open:
            self._end_group(order, OrderStatus.CANCELED)

    def cancel_all(self) -> None:
        """Cancel every open order, bracket legs included."""
        self.sync()
        for order in self._orders.values():
            if order.is_open:
                self._end_group(order, OrderStatus.CANCELED)

    def close_position(self, symbol: str, client_order_id: str) -> Order:
        """Cancel `symbol`'s open orders, then sell the whole position at market."""
        self.sync()
        if client_order_id in self._by_client_id:
            raise DuplicateClientOrderId(client_order_id)
        shares = self._account.shares(symbol)
        if shares == 0:
            raise NotFound(f"position does not exist: {symbol}")
        for order in self._orders.values():
            if order.symbol == symbol and order.is_open:
                self._end_group(order, OrderStatus.CANCELED)
        return self.submit(OrderRequest(client_order_id, symbol, Side.SELL, shares))

    # ------------------------------------------------------------------------------- queries

    def order(self, order_id: str) -> Order:
        """One order by id, legs nested."""
        self.sync()
        order = self._orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return self._view(order)

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        """The order (parent with legs, or a single leg) with this client_order_id, or None."""
        self.sync()
        order_id = self._by_client_id.get(client_order_id)
        return None if order_id is None else self._view(self._orders[order_id])

    def open_orders(self) -> list[Order]:
        """Open orders with legs nested, oldest first.

        A bracket whose entry has filled is listed through its (filled) parent while any leg is
        open, as Alpaca's nested listing does; held legs are included.
        """
        self.sync()
        return [
            self._view(order)
            for order in self._orders.values()
            if order.parent_id is None
            and (order.is_open or any(self._orders[i].is_open for i in order.leg_ids))
        ]

    def account(self) -> Account:
        """Equity, last_equity, cash and buying power now."""
        self.sync()
        return Account(
            equity=self._equity(),
            last_equity=self.last_equity,
            cash=self._account.cash,
            buying_power=self._buying_power(),
            account_number=SIM_ACCOUNT_NUMBER,
        )

    def positions(self) -> list[Position]:
        """Every open position, by symbol."""
        self.sync()
        return self._account.positions(self._price)

    @property
    def fills(self) -> tuple[Fill, ...]:
        """Every fill up to the clock's now, in order (per-fill quantities)."""
        self.sync()
        return tuple(self._fills)

    def fills_since(self, index: int) -> list[Fill]:
        """Fills from position `index` of `fills` on (pass the count you have already seen)."""
        self.sync()
        return self._fills[index:]

    def fills_at_or_after(self, since: datetime) -> list[Fill]:
        """Fills stamped at or after `since`, oldest first."""
        self.sync()
        return sorted((f for f in self._fills if f.timestamp >= since), key=lambda f: f.timestamp)

    def add_fill_listener(self, listener: FillListener) -> None:
        """Call `listener(fill)` for every future fill."""
        self._listeners.append(listener)

    def shock(self, at: datetime, pct: float) -> None:
        """Move every price by `pct` from the minute containing `at` (not yet processed) on."""
        require_aware(at)
        index = self._market.minute_index(at)
        processed = index < self._next_bar or (index == self._next_bar and self._bar_opened)
        if processed and at < self._market.session.close:
            raise ValueError("cannot shock a minute the exchange has already processed")
        self._feed.shock(at, pct)

    # --------------------------------------------------------------------------- market data

    def assets(self) -> list[Asset]:
        """Every symbol of the universe (untradable ones flagged `tradable=False`)."""
        universe = self._feed.universe
        return [universe.asset(i) for i in range(universe.size)]

    # ------------------------------------------------------------------------------- helpers

    def _view(self, order: SimOrder) -> Order:
        return order.to_order(tuple(self._orders[i].to_order() for i in order.leg_ids))

    def _working(self, day: date) -> list[SimOrder]:
        return [o for o in self._orders.values() if o.is_working and o.session_day == day]

    def _column(self, symbol: str) -> int:
        column = self._feed.universe.column(symbol)
        if column is None:
            raise NotFound(f"unknown symbol {symbol}")
        return column

    def _price(self, symbol: str) -> Decimal:
        return price_from_float(float(self._market.last_prices(self._now)[self._column(symbol)]))

    def _equity(self) -> Decimal:
        return self._account.cash + self._account.market_value(self._price)

    def _buying_power(self) -> Decimal:
        reserved = sum(
            (
                o.reserve_price * o.remaining
                for o in self._orders.values()
                if o.is_working and o.side is Side.BUY
            ),
            Decimal(0),
        )
        return max(self._account.cash - reserved, Decimal(0))

    def _committed_sells(self, symbol: str) -> int:
        committed = 0
        for order in self._orders.values():
            if order.symbol != symbol or order.side is not Side.SELL or not order.is_working:
                continue
            # The two exit legs of one bracket promise the same shares: count the pair once.
            if order.role is LegRole.TAKE_PROFIT:
                continue
            committed += order.remaining
        return committed
