"""The submitter's two crash windows, and what reconciliation makes of a crash in each.

A failpoint's `exit` is replaced by raising `_Crashed`, so the test sees exactly what the
process would have left behind (journal rows, broker orders) without exiting.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from faulty_broker import FaultyBroker

from catalyst.config.models import SimulationConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import (
    BracketSpec,
    LegRole,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.execution.reconcile import INTENT_GRACE, Reconciler
from catalyst.execution.submitter import OrderSubmitter
from catalyst.ops.failpoints import AFTER_INTENT_COMMIT, AFTER_SUBMIT_BEFORE_ACK, Failpoints
from catalyst.sim.broker import build_sim_broker
from catalyst.store.records import INTENT_STATUS, OrderIntent
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 3, 10)


class _Crashed(Exception):
    """Stands in for the process exit."""


def _crash(code: int) -> None:
    raise _Crashed(code)


class _LegsApartBroker(FaultyBroker):
    """Lists open orders as Alpaca does once a bracket's entry has filled: the open legs on
    their own, no longer nested under the (filled) parent."""

    async def list_open_orders(self) -> list[Order]:
        listed: list[Order] = []
        for order in await self.inner.list_open_orders():
            if order.status.is_open:
                listed.append(order)
            else:
                listed.extend(leg for leg in order.legs if leg.status.is_open)
        return listed


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.combine(DAY, time(10, 0), tzinfo=EXCHANGE_TZ))


@pytest.fixture
def broker(clock: SimClock) -> _LegsApartBroker:
    sim = build_sim_broker(SimulationConfig(symbols=50, seed=3), ExchangeCalendar(), clock)
    return _LegsApartBroker(sim)


async def _bracket(broker: FaultyBroker, cid: str) -> OrderRequest:
    assets = [a for a in await broker.inner.list_assets() if a.tradable]
    snapshots = await broker.inner.get_snapshots([a.symbol for a in assets])
    symbol, snap = next((s, v) for s, v in sorted(snapshots.items()) if v.last_price > 5)
    cents, price = Decimal("0.01"), snap.last_price
    return OrderRequest(
        client_order_id=cid,
        symbol=symbol,
        side=Side.BUY,
        qty=10,
        type=OrderType.LIMIT,
        limit_price=(price * Decimal("1.002")).quantize(cents),  # marketable: fills at once
        bracket=BracketSpec(
            take_profit_limit=(price * Decimal("1.05")).quantize(cents),
            stop_loss_stop=(price * Decimal("0.97")).quantize(cents),
        ),
    )


async def _crash_at(
    point: str, broker: FaultyBroker, store: Store, clock: SimClock, cid: str
) -> OrderRequest:
    request = await _bracket(broker, cid)
    submitter = OrderSubmitter(broker, store, clock, failpoints=Failpoints({point: 1}, exit=_crash))
    intent = OrderIntent.from_request(request, role=LegRole.ENTRY, created_at=clock.now())
    with pytest.raises(_Crashed):
        await submitter.place(intent, lambda: broker.submit_order(request))
    return request


def _reconciler(broker: FaultyBroker, store: Store, clock: SimClock) -> Reconciler:
    return Reconciler(
        broker=broker,
        store=store,
        clock=clock,
        submitter=OrderSubmitter(broker, store, clock),
        stop_loss_pct=0.02,
        flatten_lock=asyncio.Lock(),
    )


async def test_crash_after_the_intent_commit_leaves_a_journaled_intent_and_nothing_sent(
    broker: _LegsApartBroker, migrated_store: Store, clock: SimClock
) -> None:
    await _crash_at(AFTER_INTENT_COMMIT, broker, migrated_store, clock, "cat-fp-intent")

    journaled = await migrated_store.get_order("cat-fp-intent")
    assert journaled is not None
    assert journaled.status == INTENT_STATUS
    assert broker.submit_calls == 0
    assert await broker.inner.get_order_by_client_id("cat-fp-intent") is None

    clock.advance_to(clock.now() + INTENT_GRACE + timedelta(seconds=1))
    await _reconciler(broker, migrated_store, clock).reconcile()
    resolved = await migrated_store.get_order("cat-fp-intent")
    assert resolved is not None
    assert resolved.status == "not_placed"
    assert broker.submit_calls == 0, "reconciliation never sends an entry"


async def test_crash_after_the_post_leaves_the_order_at_the_broker_and_no_ack(
    broker: _LegsApartBroker, migrated_store: Store, clock: SimClock
) -> None:
    await _crash_at(AFTER_SUBMIT_BEFORE_ACK, broker, migrated_store, clock, "cat-fp-ack")

    journaled = await migrated_store.get_order("cat-fp-ack")
    assert journaled is not None
    assert journaled.status == INTENT_STATUS
    assert journaled.broker_order_id is None
    assert broker.submit_calls == 1
    assert await broker.inner.get_order_by_client_id("cat-fp-ack") is not None


async def test_reconcile_after_a_crash_before_the_ack_journals_listed_legs_under_their_parent(
    broker: _LegsApartBroker, migrated_store: Store, clock: SimClock
) -> None:
    await _crash_at(AFTER_SUBMIT_BEFORE_ACK, broker, migrated_store, clock, "cat-fp-legs")
    at_broker = await broker.inner.get_order_by_client_id("cat-fp-legs")
    assert at_broker is not None
    assert at_broker.status is OrderStatus.FILLED  # so the open listing shows the legs alone
    listed = {o.client_order_id for o in await broker.list_open_orders()}
    assert listed == {leg.client_order_id for leg in at_broker.legs}

    report = await _reconciler(broker, migrated_store, clock).reconcile()

    assert report.orders_adopted == 0, "Catalyst's own legs are not someone else's orders"
    parent = await migrated_store.get_order("cat-fp-legs")
    assert parent is not None
    assert parent.status == OrderStatus.FILLED
    assert parent.broker_order_id == at_broker.id
    legs = await migrated_store.legs_of("cat-fp-legs")
    assert {leg.client_order_id for leg in legs} == listed
    assert {leg.source.value for leg in legs} == {"catalyst"}
    assert report.protected == (), "the bracket's own stop leg protects the position"
