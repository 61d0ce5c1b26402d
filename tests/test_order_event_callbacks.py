"""What the recorder tells the rest of the daemon: fills wake the risk-watch, a cancelled or
expired order wakes the reconciler (it may have been a position's stop)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from stubs import fill, order

from catalyst.domain.models import (
    LegRole,
    Order,
    OrderClass,
    OrderEvent,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.store.repository import Store
from catalyst.tasks.order_events import OrderEventRecorder
from catalyst.timekeeping.clock import SimClock

AT = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def _stop_leg(status: OrderStatus) -> Order:
    return order(
        "cat-x-sl",
        broker_id="leg-1",
        side=Side.SELL,
        type=OrderType.STOP,
        status=status,
        order_class=OrderClass.BRACKET,
        submitted_at=AT,
        stop_price="9.50",
        role=LegRole.STOP_LOSS,
    )


@pytest.mark.parametrize(
    ("kind", "status", "woken"),
    [
        ("canceled", OrderStatus.CANCELED, "reconciler"),
        ("expired", OrderStatus.EXPIRED, "reconciler"),
        ("new", OrderStatus.NEW, None),
        ("fill", OrderStatus.FILLED, "risk-watch"),
    ],
)
async def test_recorder_wakes_the_right_task_for_each_event(
    migrated_store: Store, kind: str, status: OrderStatus, woken: str | None
) -> None:
    calls: list[str] = []
    recorder = OrderEventRecorder(
        broker=None,  # type: ignore[arg-type]  # handle() never reads from the broker
        store=migrated_store,
        clock=SimClock(AT),
        on_fill=lambda: calls.append("risk-watch"),
        on_order_ended=lambda: calls.append("reconciler"),
    )
    stop_filled = fill(Side.SELL, 10, "9.50", at=AT, order_id="leg-1", client_order_id="cat-x-sl")
    executed = stop_filled if kind == "fill" else None

    await recorder.handle(OrderEvent(kind, _stop_leg(status), AT, executed))

    assert calls == ([] if woken is None else [woken])


async def test_sim_broker_pushes_cancel_and_expiry_events() -> None:
    from catalyst.config.models import SimulationConfig
    from catalyst.domain.exchange import EXCHANGE_TZ
    from catalyst.domain.models import BracketSpec, OrderRequest
    from catalyst.sim.broker import build_sim_broker
    from catalyst.timekeeping.calendar import ExchangeCalendar

    clock = SimClock(datetime(2026, 11, 24, 10, 0, tzinfo=EXCHANGE_TZ))
    broker = build_sim_broker(SimulationConfig(symbols=30, seed=2), ExchangeCalendar(), clock)
    symbol = sorted(a.symbol for a in await broker.list_assets() if a.tradable)[0]
    price = (await broker.get_snapshots([symbol]))[symbol].last_price
    events: list[OrderEvent] = []

    async def consume() -> None:
        async for event in broker.order_events():
            events.append(event)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)  # subscribed

    def resting(cid: str) -> OrderRequest:
        low = (price * Decimal("0.5")).quantize(Decimal("0.01"))
        return OrderRequest(
            cid,
            symbol,
            Side.BUY,
            1,
            type=OrderType.LIMIT,
            limit_price=low,
            bracket=BracketSpec(take_profit_limit=price * 2, stop_loss_stop=low / 2),
        )

    cancelled = await broker.submit_order(resting("cancel-me"))
    await broker.submit_order(resting("let-expire"))
    await broker.cancel_order(cancelled.id)
    clock.advance_to(datetime(2026, 11, 24, 16, 1, tzinfo=EXCHANGE_TZ))
    await broker.list_open_orders()
    await asyncio.sleep(0)
    consumer.cancel()
    await asyncio.gather(consumer, return_exceptions=True)

    seen = {(e.kind, e.order.client_order_id) for e in events}
    assert ("canceled", "cancel-me") in seen
    assert ("canceled", "cancel-me-sl") in seen
    assert ("expired", "let-expire") in seen
