"""Reconciliation: make the journal agree with the broker, and keep every position protected.

The broker is the truth for holdings. Run at start-up before the scheduler is armed (a failure there
stops the daemon from trading) and every few minutes after:

1. fills since the last run are journaled (idempotently);
2. broker open orders (legs nested) unknown to the journal are adopted as external; journaled
   orders are updated with the broker's status; journaled orders the broker no longer lists as
   open are looked up by client_order_id; an intent the broker never received is marked
   `not_placed` (a crash between the journal commit and the POST);
3. the position mirror is replaced by the broker's positions; every difference is a risk event;
4. a long position without a working protective stop gets one (or is closed at market when its
   price is already below where the stop would go).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from catalyst.domain.errors import BrokerError, OperationalError
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import (
    LegRole,
    Order,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
)
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.domain.ticks import round_down_to_tick
from catalyst.domain.working_orders import STOP_TYPES, working_sells
from catalyst.execution.journal import journal_broker_order
from catalyst.execution.order_ids import PREFIX as ORDER_ID_PREFIX
from catalyst.execution.order_ids import client_order_id
from catalyst.execution.purposes import PROTECTIVE_ORDER_PART, protective_purpose
from catalyst.execution.submitter import OrderSubmitter
from catalyst.ports import Broker, Clock
from catalyst.store.records import INTENT_STATUS, NOT_PLACED_STATUS, OrderIntent
from catalyst.store.repository import Store

log = structlog.get_logger(__name__)

ENTRY_TTL = timedelta(minutes=10)  # an entry not filled by then is stale: the setup has moved on
INTENT_GRACE = timedelta(minutes=2)  # an intent this young may still be on its way to the broker
# How far back to look for filled brackets whose legs the journal lacks (a crash, same day).
LEGLESS_LOOKBACK = timedelta(days=1)
FILL_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    fills_recorded: int
    orders_adopted: int
    orders_updated: int
    positions_added: tuple[str, ...]
    positions_removed: tuple[str, ...]
    protected: tuple[str, ...]


class Reconciler:
    """Brings the journal in line with the broker; never places an entry."""

    def __init__(
        self,
        *,
        broker: Broker,
        store: Store,
        clock: Clock,
        submitter: OrderSubmitter,
        stop_loss_pct: float,
        flatten_lock: asyncio.Lock,
    ) -> None:
        self._broker = broker
        self._store = store
        self._clock = clock
        self._submitter = submitter
        self._stop_loss_pct = Decimal(str(stop_loss_pct))
        self._fills_since: datetime | None = None
        self._flatten_lock = flatten_lock

    def update_stop_loss_pct(self, stop_loss_pct: float) -> None:
        """Place protective stops at a reloaded `workflow.stop_loss_pct` from the next pass on."""
        self._stop_loss_pct = Decimal(str(stop_loss_pct))

    async def reconcile(self, *, protect: bool = True) -> ReconcileReport:
        """One full pass. Raises OperationalError if the broker cannot be read."""
        now = self._clock.now()
        try:
            fills = await self._record_fills(now)
            # Positions before orders: a bracket placed in between has its legs in the order
            # list, so no position can appear without the orders that protect it.
            positions = await self._broker.list_positions()
            open_orders = await self._broker.list_open_orders()
            adopted, updated = await self._sync_orders(open_orders, now)
            await self._cancel_stale_entries(open_orders, now)
        except BrokerError as exc:
            raise OperationalError(f"reconciliation failed: {exc}") from exc
        bought, sold = await self._catalyst_trades_today(now)
        diff = await self._store.sync_positions(positions, now, catalyst_symbols=bought | sold)
        # Catalyst's own entries and exits are bookkeeping (INFO); a position that appears or
        # goes without one of them was opened or closed by someone else: a person should know.
        for symbol in diff.added:
            ours = symbol in bought
            await self._event(
                RiskEventKind.POSITION_APPEARED,
                f"position in {symbol} opened by Catalyst's entry"
                if ours
                else f"broker reports a position in {symbol} that Catalyst did not open",
                now,
                Severity.INFO if ours else Severity.WARNING,
            )
        for symbol in diff.removed:
            ours = symbol in sold
            await self._event(
                RiskEventKind.POSITION_GONE,
                f"position in {symbol} closed by Catalyst's exit"
                if ours
                else f"position in {symbol} is gone at the broker without an exit by Catalyst",
                now,
                Severity.INFO if ours else Severity.WARNING,
            )
        protected: tuple[str, ...] = ()
        if protect and not self._flatten_lock.locked():  # a flatten in progress is closing them
            async with self._flatten_lock:
                protected = await self._protect(positions, open_orders, now)
        report = ReconcileReport(fills, adopted, updated, diff.added, diff.removed, protected)
        if adopted or diff.added or diff.removed or protected:
            log.info("reconciled", **_as_log(report))
        return report

    async def _catalyst_trades_today(self, now: datetime) -> tuple[set[str], set[str]]:
        # Symbols bought and sold by Catalyst's own fills today; any other position is external.
        fills = await self._store.fills_for_day(now.astimezone(EXCHANGE_TZ).date())
        ours = [f for f in fills if f.client_order_id.startswith(ORDER_ID_PREFIX)]
        bought = {f.symbol for f in ours if f.side is Side.BUY}
        sold = {f.symbol for f in ours if f.side is Side.SELL}
        return bought, sold

    async def _record_fills(self, now: datetime) -> int:
        since = self._fills_since if self._fills_since is not None else now - FILL_LOOKBACK
        recorded = 0
        for fill in await self._broker.get_fills(since):
            if await self._store.record_fill(fill):
                recorded += 1
        self._fills_since = now
        return recorded

    async def _sync_orders(self, open_orders: Sequence[Order], now: datetime) -> tuple[int, int]:
        adopted = updated = 0
        seen = {each.client_order_id for order in open_orders for each in (order, *order.legs)}
        # Journaled orders the broker no longer lists as open go first: looking one up journals
        # its bracket legs under it. Once a bracket's entry has filled, the open listing shows
        # the legs on their own, and a crash between the POST and the recorded acknowledgement
        # leaves them unjournaled; adopting them below as someone else's orders would be wrong.
        for journaled in await self._store.non_final_orders():
            if journaled.client_order_id in seen:
                continue
            young_intent = (
                journaled.status == INTENT_STATUS and now - journaled.created_at < INTENT_GRACE
            )
            found = await self._broker.get_order_by_client_id(journaled.client_order_id)
            if found is not None:
                updated += await self._apply(found, now)
            elif young_intent:
                continue  # may still be on its way to the broker
            elif journaled.status == INTENT_STATUS or journaled.parent_client_order_id is None:
                await self._store.record_order_update(
                    journaled.client_order_id,
                    status=(
                        NOT_PLACED_STATUS
                        if journaled.status == INTENT_STATUS
                        else OrderStatus.CANCELED.value
                    ),
                    at=now,
                    detail="broker has no order with this client_order_id",
                )
                updated += 1
        # A bracket whose fill was journaled before its legs were (the stream reports an order
        # without legs; a crash can come before the acknowledgement's legs): its stop and target
        # are Catalyst's own, so look the bracket up and journal them under it first.
        for bracket in await self._store.filled_brackets_without_legs(now - LEGLESS_LOOKBACK):
            found = await self._broker.get_order_by_client_id(bracket.client_order_id)
            if found is not None and found.legs:
                updated += await self._apply(found, now)
        for order in open_orders:
            journaled_order = await self._store.get_order(order.client_order_id)
            if journaled_order is None:
                if await self._store.adopt_external_order(order, now):
                    adopted += 1
                    await self._event(
                        RiskEventKind.EXTERNAL_ORDER_ADOPTED,
                        f"adopted {order.side.value} {order.qty} {order.symbol} "
                        f"({order.client_order_id}) placed outside Catalyst",
                        now,
                    )
                continue
            updated += await self._apply(order, now)
        return adopted, updated

    async def _cancel_stale_entries(self, open_orders: Sequence[Order], now: datetime) -> None:
        for order in open_orders:
            if order.filled_qty or now - order.submitted_at < ENTRY_TTL:
                continue
            journaled = await self._store.get_order(order.client_order_id)
            if journaled is None or journaled.role is not LegRole.ENTRY:
                continue
            log.info("cancelling stale unfilled entry", symbol=order.symbol, order_id=order.id)
            await self._broker.cancel_order(order.id)

    async def _apply(self, order: Order, now: datetime) -> int:
        return await journal_broker_order(self._store, order, at=now, detail="reconciled")

    async def _protect(
        self, positions: Sequence[Position], open_orders: Sequence[Order], now: datetime
    ) -> tuple[str, ...]:
        covered = _stop_covered_qty(open_orders)
        if any(p.qty > covered.get(p.symbol, 0) for p in positions if p.qty > 0):
            # Look again before acting: the journal updates above took time.
            positions = await self._broker.list_positions()
            covered = _stop_covered_qty(await self._broker.list_open_orders())
        protected: list[str] = []
        for position in positions:
            if position.qty <= 0 or covered.get(position.symbol, 0) >= position.qty:
                continue
            missing = position.qty - covered.get(position.symbol, 0)
            await self._place_protective_stop(position, missing, now)
            protected.append(position.symbol)
        return tuple(protected)

    async def _place_protective_stop(self, position: Position, qty: int, now: datetime) -> None:
        stop = round_down_to_tick(position.avg_entry_price * (1 - self._stop_loss_pct))
        cid = client_order_id(protective_purpose(now), position.symbol, PROTECTIVE_ORDER_PART)
        if position.current_price <= stop:
            request = OrderRequest(cid, position.symbol, Side.SELL, qty)
            role, what = LegRole.EXIT, "closing at market: price already below the stop"
        else:
            request = OrderRequest(
                cid, position.symbol, Side.SELL, qty, type=OrderType.STOP, stop_price=stop
            )
            role, what = LegRole.STOP_LOSS, f"placing a protective stop at {stop}"
        log.warning("position without a protective stop", symbol=position.symbol, action=what)
        await self._event(
            RiskEventKind.UNPROTECTED_POSITION, f"{position.symbol}: no working stop; {what}", now
        )
        intent = OrderIntent(
            client_order_id=cid,
            symbol=position.symbol,
            side=Side.SELL,
            qty=qty,
            order_type=request.type,
            order_class=OrderClass.SIMPLE,
            role=role,
            created_at=now,
            stop_price=request.stop_price,
        )
        await self._submitter.place(intent, lambda: self._broker.submit_order(request))

    async def _event(
        self,
        kind: RiskEventKind,
        message: str,
        now: datetime,
        severity: Severity = Severity.WARNING,
    ) -> None:
        await self._store.record_risk_event(kind, severity, message, now)


def _stop_covered_qty(open_orders: Sequence[Order]) -> dict[str, int]:
    """Shares per symbol covered by a working or held sell stop (bracket legs included), or
    already being sold at market."""
    covered: dict[str, int] = {}
    for each in working_sells(open_orders, STOP_TYPES | {OrderType.MARKET}):
        covered[each.symbol] = covered.get(each.symbol, 0) + each.qty - each.filled_qty
    return covered


def _as_log(report: ReconcileReport) -> dict[str, object]:
    return {
        "fills": report.fills_recorded,
        "adopted": report.orders_adopted,
        "updated": report.orders_updated,
        "positions_added": list(report.positions_added),
        "positions_removed": list(report.positions_removed),
        "protected": list(report.protected),
    }
