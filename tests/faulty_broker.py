"""A hand-written fault-injecting Broker: the real simulator behind it, failures scripted in front.

Used where the daemon must cope with a broker that times out, loses responses or refuses to close:
each fault is a counter the test sets, so every test says exactly what goes wrong and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from delegating_broker import DelegatingBroker

from catalyst.domain.errors import RetryableBrokerError, UnknownOrderOutcome
from catalyst.domain.models import (
    Account,
    Order,
    OrderRequest,
    Position,
    Snapshot,
)
from catalyst.ports import Clock
from catalyst.sim.broker import SimBroker


@dataclass
class Faults:
    lose_submit_response: int = 0  # the order is placed, but the caller sees a timeout
    fail_submit_in_transit: int = 0  # the order never reaches the broker; the caller sees a timeout
    fail_close: int = 0  # close_position answers 503
    fail_cancel_all: int = 0  # cancel_all_orders answers 503
    fail_lookups: int = 0  # get_order_by_client_id answers 503
    fail_list_positions: int = 0  # list_positions answers 503
    fail_account: int = 0  # get_account answers 503
    corrupt_snapshots: frozenset[str] = frozenset()  # these symbols' last price arrives as NaN
    snapshot_delay_seconds: float = 0.0  # snapshots take this long (on the broker's clock)
    # List open orders as Alpaca does once a bracket's entry has filled: its legs on their own.
    legs_listed_alone: bool = False


class FaultyBroker(DelegatingBroker):
    """Implements `catalyst.ports.Broker` by delegating to a SimBroker, with scripted faults."""

    inner: SimBroker

    def __init__(self, inner: SimBroker, clock: Clock | None = None) -> None:
        super().__init__(inner)
        self.clock = clock
        self.faults = Faults()
        self.submit_calls = 0
        self.close_calls = 0

    async def get_account(self) -> Account:
        if self.faults.fail_account > 0:
            self.faults.fail_account -= 1
            raise RetryableBrokerError("503 service unavailable")
        return await super().get_account()

    async def get_snapshots(self, symbols: Sequence[str]) -> dict[str, Snapshot]:
        if self.faults.snapshot_delay_seconds and self.clock is not None:
            await self.clock.sleep(self.faults.snapshot_delay_seconds)
        snapshots = await super().get_snapshots(symbols)
        for symbol in self.faults.corrupt_snapshots & snapshots.keys():
            snapshots[symbol] = replace(snapshots[symbol], last_price=Decimal("NaN"))
        return snapshots

    async def submit_order(self, request: OrderRequest) -> Order:
        self.submit_calls += 1
        if self.faults.fail_submit_in_transit > 0:
            self.faults.fail_submit_in_transit -= 1
            raise UnknownOrderOutcome(request.client_order_id, "connection reset before reply")
        order = await super().submit_order(request)
        if self.faults.lose_submit_response > 0:
            self.faults.lose_submit_response -= 1
            raise UnknownOrderOutcome(request.client_order_id, "read timed out")
        return order

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        if self.faults.fail_lookups > 0:
            self.faults.fail_lookups -= 1
            raise RetryableBrokerError("503 service unavailable")
        return await super().get_order_by_client_id(client_order_id)

    async def list_open_orders(self) -> list[Order]:
        listed = await super().list_open_orders()
        if not self.faults.legs_listed_alone:
            return listed
        return [
            each
            for order in listed
            for each in (
                [order] if order.status.is_open else [g for g in order.legs if g.status.is_open]
            )
        ]

    async def cancel_all_orders(self) -> None:
        if self.faults.fail_cancel_all > 0:
            self.faults.fail_cancel_all -= 1
            raise RetryableBrokerError("503 service unavailable")
        await super().cancel_all_orders()

    async def list_positions(self) -> list[Position]:
        if self.faults.fail_list_positions > 0:
            self.faults.fail_list_positions -= 1
            raise RetryableBrokerError("503 service unavailable")
        return await super().list_positions()

    async def close_position(self, symbol: str, client_order_id: str) -> Order:
        self.close_calls += 1
        if self.faults.fail_close > 0:
            self.faults.fail_close -= 1
            raise RetryableBrokerError("503 service unavailable")
        return await super().close_position(symbol, client_order_id)
