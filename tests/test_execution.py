"""Order placement, flattening and reconciliation against the simulator and a real journal.

Faults come from `FaultyBroker` (the real simulator behind scripted failures), the journal is a
migrated SQLite or PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from faulty_broker import FaultyBroker

from catalyst.config.models import SimulationConfig
from catalyst.domain.errors import OperationalError
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import (
    BracketSpec,
    LegRole,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.execution.flatten import Flattener
from catalyst.execution.reconcile import INTENT_GRACE, Reconciler
from catalyst.execution.submitter import OrderSubmitter, Outcome
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.records import OrderIntent
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.combine(DAY, time(10, 0), tzinfo=EXCHANGE_TZ))


@pytest.fixture
def broker(clock: SimClock) -> FaultyBroker:
    sim = build_sim_broker(SimulationConfig(symbols=50, seed=3), ExchangeCalendar(), clock)
    return FaultyBroker(sim)


@pytest.fixture
def submitter(broker: FaultyBroker, migrated_store: Store, clock: SimClock) -> OrderSubmitter:
    return OrderSubmitter(broker, migrated_store, clock)


async def _tradable_symbol(sim: SimBroker) -> tuple[str, Decimal]:
    assets = [a for a in await sim.list_assets() if a.tradable]
    snapshots = await sim.get_snapshots([a.symbol for a in assets])
    symbol, snap = next((s, v) for s, v in sorted(snapshots.items()) if v.last_price > 5)
    return symbol, snap.last_price


def _bracket(cid: str, symbol: str, price: Decimal, qty: int = 10) -> OrderRequest:
    cents = Decimal("0.01")
    return OrderRequest(
        client_order_id=cid,
        symbol=symbol,
        side=Side.BUY,
        qty=qty,
        type=OrderType.LIMIT,
        limit_price=(price * Decimal("1.002")).quantize(cents),
        bracket=BracketSpec(
            take_profit_limit=(price * Decimal("1.05")).quantize(cents),
            stop_loss_stop=(price * Decimal("0.97")).quantize(cents),
        ),
    )


def _intent(request: OrderRequest, clock: SimClock) -> OrderIntent:
    return OrderIntent.from_request(request, role=LegRole.ENTRY, created_at=clock.now())


async def test_lost_submit_response_is_resolved_by_lookup_without_a_second_order(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    request = _bracket("cat-test-lost", symbol, price)
    broker.faults.lose_submit_response = 1

    result = await submitter.place(_intent(request, clock), lambda: broker.submit_order(request))

    assert result.outcome is Outcome.PLACED
    assert broker.submit_calls == 1, "an unknown outcome must never be re-POSTed"
    journaled = await migrated_store.get_order("cat-test-lost")
    assert journaled is not None
    assert result.order is not None
    assert journaled.broker_order_id == result.order.id
    assert journaled.status == OrderStatus.FILLED


async def test_submit_lost_in_transit_is_confirmed_absent_and_marked_not_placed(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    request = _bracket("cat-test-transit", symbol, price)
    broker.faults.fail_submit_in_transit = 1
    broker.faults.fail_lookups = 2  # the lookups themselves hit a flaky moment first

    result = await submitter.place(_intent(request, clock), lambda: broker.submit_order(request))

    assert result.outcome is Outcome.NOT_PLACED
    assert broker.submit_calls == 1
    assert await broker.inner.get_order_by_client_id("cat-test-transit") is None
    journaled = await migrated_store.get_order("cat-test-transit")
    assert journaled is not None
    assert journaled.status == "not_placed"


async def test_placing_the_same_intent_twice_sends_one_order(
    broker: FaultyBroker, submitter: OrderSubmitter, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    request = _bracket("cat-test-twice", symbol, price)
    intent = _intent(request, clock)

    first = await submitter.place(intent, lambda: broker.submit_order(request))
    second = await submitter.place(intent, lambda: broker.submit_order(request))

    assert first.outcome is Outcome.PLACED
    assert second.outcome is Outcome.PLACED
    assert second.order is not None
    assert first.order is not None
    assert second.order.id == first.order.id
    assert broker.submit_calls == 1


async def test_concurrent_placements_of_one_intent_reach_the_broker_once(
    broker: FaultyBroker, submitter: OrderSubmitter, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    request = _bracket("cat-test-race", symbol, price)
    intent = _intent(request, clock)

    await asyncio.gather(
        *(submitter.place(intent, lambda: broker.submit_order(request)) for _ in range(5))
    )

    assert broker.submit_calls == 1


async def test_an_id_the_broker_already_has_is_adopted_not_duplicated(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    request = _bracket("cat-test-dup", symbol, price)
    existing = await broker.inner.submit_order(request)  # e.g. placed before a crash

    result = await submitter.place(_intent(request, clock), lambda: broker.submit_order(request))

    assert result.outcome is Outcome.PLACED
    assert result.order is not None
    assert result.order.id == existing.id
    journaled = await migrated_store.get_order("cat-test-dup")
    assert journaled is not None
    assert journaled.broker_order_id == existing.id


async def test_rejected_order_is_journaled_with_the_reason(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, _ = await _tradable_symbol(broker.inner)
    request = OrderRequest(
        "cat-test-subpenny",
        symbol,
        Side.BUY,
        1,
        type=OrderType.LIMIT,
        limit_price=Decimal("10.123"),
    )
    result = await submitter.place(_intent(request, clock), lambda: broker.submit_order(request))

    assert result.outcome is Outcome.REJECTED
    assert result.reason is not None
    assert "sub-penny" in result.reason
    journaled = await migrated_store.get_order("cat-test-subpenny")
    assert journaled is not None
    assert journaled.status == "rejected"


async def test_flatten_keeps_retrying_through_broker_failures_until_flat(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    await broker.inner.submit_order(_bracket("cat-test-flat", symbol, price))
    assert await broker.list_positions()
    broker.faults.fail_cancel_all = 2
    broker.faults.fail_close = 3
    flattener = Flattener(broker, migrated_store, clock, submitter)

    result = await flattener.flatten_all("emergency-test", deadline=None)

    assert result.flat
    assert await broker.inner.list_positions() == []
    assert await broker.inner.list_open_orders() == []
    assert broker.close_calls == 4
    assert result.attempts > 3


async def test_flatten_sends_nothing_once_the_session_has_closed(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    await broker.inner.submit_order(_bracket("cat-test-late", symbol, price))
    flattener = Flattener(broker, migrated_store, clock, submitter)

    result = await flattener.flatten_all("eod-test", deadline=clock.now() - timedelta(seconds=1))

    assert not result.flat
    assert result.remaining == (symbol,)
    assert broker.close_calls == 0


def _reconciler(
    broker: FaultyBroker, store: Store, clock: SimClock, sub: OrderSubmitter
) -> Reconciler:
    return Reconciler(
        broker=broker,
        store=store,
        clock=clock,
        submitter=sub,
        stop_loss_pct=0.02,
        flatten_lock=asyncio.Lock(),
    )


async def test_reconcile_puts_a_stop_on_an_unprotected_external_position(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, _ = await _tradable_symbol(broker.inner)
    await broker.inner.submit_order(OrderRequest("manual-buy-1", symbol, Side.BUY, 7))

    report = await _reconciler(broker, migrated_store, clock, submitter).reconcile()

    assert report.positions_added == (symbol,)
    assert report.protected == (symbol,)
    stops = [o for o in await broker.inner.list_open_orders() if o.type is OrderType.STOP]
    assert [(s.symbol, s.side, s.qty) for s in stops] == [(symbol, Side.SELL, 7)]
    kinds = {e.kind for e in await migrated_store.risk_events_since(clock.now() - timedelta(1))}
    assert {"position_appeared", "unprotected_position"} <= kinds
    positions = await migrated_store.list_positions()
    assert [(p.symbol, p.source.value) for p in positions] == [(symbol, "external")]


async def test_reconcile_leaves_bracketed_positions_alone(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    request = _bracket("cat-test-protected", symbol, price)
    await submitter.place(_intent(request, clock), lambda: broker.submit_order(request))

    report = await _reconciler(broker, migrated_store, clock, submitter).reconcile()

    assert report.protected == ()
    assert broker.submit_calls == 1
    legs = await migrated_store.legs_of("cat-test-protected")
    assert {leg.role for leg in legs} == {LegRole.STOP_LOSS, LegRole.TAKE_PROFIT}


async def test_reconcile_journals_the_legs_of_a_bracket_whose_fill_came_before_its_legs(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    # The crash test's window: the stream (which reports an order without its legs) journaled
    # the entry as filled, then the daemon died before the acknowledgement journaled the legs.
    symbol, price = await _tradable_symbol(broker.inner)
    request = _bracket("cat-test-legless", symbol, price)
    assert await migrated_store.record_order_intent(_intent(request, clock))
    placed = await broker.inner.submit_order(request)
    assert placed.status is OrderStatus.FILLED, "a marketable limit fills at once here"
    broker.faults.legs_listed_alone = True
    await migrated_store.record_order_update(
        "cat-test-legless",
        status=OrderStatus.FILLED.value,
        at=clock.now(),
        broker_order_id=placed.id,
        filled_qty=placed.filled_qty,
        detail="stream: fill",
    )

    report = await _reconciler(broker, migrated_store, clock, submitter).reconcile()

    assert report.orders_adopted == 0, "Catalyst's own stop is not someone else's order"
    legs = await migrated_store.legs_of("cat-test-legless")
    assert {(leg.role, leg.source.value) for leg in legs} == {
        (LegRole.STOP_LOSS, "catalyst"),
        (LegRole.TAKE_PROFIT, "catalyst"),
    }
    assert broker.submit_calls == 0, "nothing re-sent, no extra stop placed"


async def test_reconcile_marks_an_intent_the_broker_never_received_as_not_placed(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    request = _bracket("cat-test-crashed", symbol, price)
    assert await migrated_store.record_order_intent(_intent(request, clock))  # then "crashed"
    clock.advance_to(clock.now() + INTENT_GRACE + timedelta(seconds=1))

    await _reconciler(broker, migrated_store, clock, submitter).reconcile()

    journaled = await migrated_store.get_order("cat-test-crashed")
    assert journaled is not None
    assert journaled.status == "not_placed"
    assert broker.submit_calls == 0


async def test_reconcile_adopts_an_order_placed_outside_catalyst(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    symbol, price = await _tradable_symbol(broker.inner)
    far_below = (price * Decimal("0.5")).quantize(Decimal("0.01"))
    await broker.inner.submit_order(
        OrderRequest("web-ui-1", symbol, Side.BUY, 3, type=OrderType.LIMIT, limit_price=far_below)
    )

    report = await _reconciler(broker, migrated_store, clock, submitter).reconcile()

    assert report.orders_adopted == 1
    journaled = await migrated_store.get_order("web-ui-1")
    assert journaled is not None
    assert journaled.source.value == "external"


async def test_reconcile_failure_is_an_operational_error(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    broker.faults.fail_list_positions = 1

    with pytest.raises(OperationalError, match="reconciliation failed"):
        await _reconciler(broker, migrated_store, clock, submitter).reconcile()


async def test_reconcile_tells_catalyst_s_own_entries_and_exits_from_someone_else_s(
    broker: FaultyBroker, submitter: OrderSubmitter, migrated_store: Store, clock: SimClock
) -> None:
    # Every entry and exit of Catalyst's changes the positions; only the others are news for a
    # person (a warning), or the journal would cry wolf on every trade.
    assets = [a.symbol for a in await broker.inner.list_assets() if a.tradable]
    snapshots = await broker.inner.get_snapshots(assets)
    ours, theirs = [s for s, v in sorted(snapshots.items()) if v.last_price > 5][:2]
    entry = _bracket("cat-test-own-entry", ours, snapshots[ours].last_price)
    await submitter.place(_intent(entry, clock), lambda: broker.submit_order(entry))
    await broker.inner.submit_order(OrderRequest("manual-buy-2", theirs, Side.BUY, 5))

    await _reconciler(broker, migrated_store, clock, submitter).reconcile(protect=False)
    await broker.inner.cancel_all_orders()  # the bracket's legs, so the shares can be sold
    await broker.inner.submit_order(OrderRequest("cat-test-own-exit", ours, Side.SELL, 10))
    await broker.inner.submit_order(OrderRequest("manual-sell-2", theirs, Side.SELL, 5))
    await _reconciler(broker, migrated_store, clock, submitter).reconcile(protect=False)

    events = await migrated_store.risk_events_since(clock.now() - timedelta(1))
    seen = {
        (e.kind.value, e.severity.value, symbol)
        for e in events
        for symbol in (ours, theirs)
        if f" {symbol} " in e.message
    }
    assert seen == {
        ("position_appeared", "info", ours),
        ("position_appeared", "warning", theirs),
        ("position_gone", "info", ours),
        ("position_gone", "warning", theirs),
    }
