"""What the recorder tells the rest of the daemon: fills wake the risk-watch, a cancelled or
expired order wakes the reconciler (it may have been a position's stop)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalyst.domain.models import (
    Fill,
    LegRole,
    Order,
    OrderClass,
    OrderEvent,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.execution.order_events import OrderEventRecorder
from catalyst.store.repository import Store
from catalyst.timekeeping.clock import SimClock

AT = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def _stop_leg(status: OrderStatus) -> Order:
    return Order(
        id="leg-1",
        client_order_id="cat-x-sl",
        symbol="AAA",
        side=Side.SELL,
        qty=10,
        filled_qty=0,
        type=OrderType.STOP,
        status=status,
        order_class=OrderClass.BRACKET,
        submitted_at=AT,
        stop_price=Decimal("9.50"),
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
    fill = None
    if kind == "fill":
        fill = Fill("leg-1", "cat-x-sl", "AAA", Side.SELL, 10, Decimal("9.50"), AT)

    await recorder.handle(OrderEvent(kind, _stop_leg(status), AT, fill))

    assert calls == ([] if woken is None else [woken])
