"""The order journal (intents, broker updates, legs, events) and fills."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalyst.domain.errors import OperationalError
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import (
    Fill,
    LegRole,
    Order,
    OrderClass,
    Side,
)
from catalyst.store.records import (
    FINAL_ORDER_STATUSES,
    INTENT_STATUS,
    ORDER_STATUSES,
    OrderEventRecord,
    OrderIntent,
    OrderRecord,
    OrderSource,
)
from catalyst.store.repository._base import (
    StoreBase,
    _day_bounds,
    _insert,
    _leg_price,
    _order_record,
    _require_aware,
)
from catalyst.store.tables import (
    fills,
    order_events,
    orders,
)


class OrderStore(StoreBase):
    """The order journal (intents, broker updates, legs, events) and fills."""

    # ----------------------------------------------------------------- orders

    async def record_order_intent(self, intent: OrderIntent) -> bool:
        """Journal an order before it is sent, with status `intent`; committed on return.

        Returns False, writing nothing, when the client_order_id is journaled already (also
        when several tasks race with the same id: exactly one of them gets True).
        """
        async with self._transaction("record_order_intent") as session:
            stmt = (
                _insert(session, orders)
                .values(
                    client_order_id=intent.client_order_id,
                    parent_client_order_id=intent.parent_client_order_id,
                    cycle_id=intent.cycle_id,
                    symbol=intent.symbol,
                    side=intent.side.value,
                    qty=intent.qty,
                    order_type=intent.order_type.value,
                    order_class=intent.order_class.value,
                    role=intent.role.value,
                    limit_price=intent.limit_price,
                    stop_price=intent.stop_price,
                    take_profit_price=intent.take_profit_price,
                    stop_loss_price=intent.stop_loss_price,
                    status=INTENT_STATUS,
                    filled_qty=0,
                    created_at=intent.created_at,
                    updated_at=intent.created_at,
                    source=OrderSource.CATALYST.value,
                )
                .on_conflict_do_nothing(index_elements=[orders.c.client_order_id])
                .returning(orders.c.id)
            )
            if (await session.execute(stmt)).first() is None:
                return False
            await session.execute(
                order_events.insert().values(
                    client_order_id=intent.client_order_id,
                    status=INTENT_STATUS,
                    at=intent.created_at,
                )
            )
            return True

    async def get_order(self, client_order_id: str) -> OrderRecord | None:
        """The journaled order with this client_order_id, or None."""
        async with self._transaction("get_order") as session:
            row = (
                await session.execute(
                    select(orders).where(orders.c.client_order_id == client_order_id)
                )
            ).first()
            return None if row is None else _order_record(row)

    async def legs_of(self, parent_client_order_id: str) -> list[OrderRecord]:
        """The journaled bracket legs of one order, oldest first."""
        async with self._transaction("legs_of") as session:
            result = await session.execute(
                select(orders)
                .where(orders.c.parent_client_order_id == parent_client_order_id)
                .order_by(orders.c.created_at, orders.c.id)
            )
            return [_order_record(row) for row in result]

    async def record_order_update(
        self,
        client_order_id: str,
        *,
        status: str,
        at: datetime,
        broker_order_id: str | None = None,
        filled_qty: int | None = None,
        filled_avg_price: Decimal | None = None,
        detail: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Apply what the broker said about an order; True if anything changed.

        An event is appended only when something changed. Stale reports are ignored rather than
        applied: a final status (filled, canceled, expired, rejected) is never replaced by an open
        one, and filled_qty never goes down. LookupError if the order is not journaled;
        OperationalError if the broker order id contradicts the journaled one.
        """
        async with self._transaction("record_order_update") as session:
            return await self._update_in(
                session,
                client_order_id,
                status=status,
                at=at,
                broker_order_id=broker_order_id,
                filled_qty=filled_qty,
                filled_avg_price=filled_avg_price,
                detail=detail,
                error=error,
            )

    async def record_broker_view(self, order: Order, *, at: datetime, detail: str) -> int:
        """Apply what the broker reports about a journaled order *and* its bracket legs (new legs
        journaled under it), all in one transaction; returns how many rows changed.

        One transaction, because a crash between the order's final status and its legs would
        leave the legs unjournaled while the order no longer looks unfinished, and the next
        reconciliation would take Catalyst's own stop for someone else's order.
        LookupError if the order itself is not journaled.
        """
        async with self._transaction("record_broker_view") as session:
            changed = int(await self._apply_view_in(session, order, at, detail))
            if order.legs:
                await self._insert_legs_in(session, order.client_order_id, order.legs, at)
                for leg in order.legs:
                    changed += int(await self._apply_view_in(session, leg, at, detail))
            return changed

    async def _apply_view_in(
        self, session: AsyncSession, order: Order, at: datetime, detail: str
    ) -> bool:
        return await self._update_in(
            session,
            order.client_order_id,
            status=order.status.value,
            at=at,
            broker_order_id=order.id,
            filled_qty=order.filled_qty,
            filled_avg_price=order.filled_avg_price,
            detail=detail,
        )

    async def _update_in(
        self,
        session: AsyncSession,
        client_order_id: str,
        *,
        status: str,
        at: datetime,
        broker_order_id: str | None = None,
        filled_qty: int | None = None,
        filled_avg_price: Decimal | None = None,
        detail: str | None = None,
        error: str | None = None,
    ) -> bool:
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}")
        _require_aware("at", at)
        row = (
            await session.execute(
                select(orders).where(orders.c.client_order_id == client_order_id).with_for_update()
            )
        ).first()
        if row is None:
            raise LookupError(f"no journaled order {client_order_id!r}")
        changes: dict[str, object] = {}
        stale_status = row.status in FINAL_ORDER_STATUSES and status not in FINAL_ORDER_STATUSES
        if status != row.status and not stale_status:
            changes["status"] = status
        if broker_order_id is not None and broker_order_id != row.broker_order_id:
            if row.broker_order_id is not None:
                raise OperationalError(
                    f"order {client_order_id} is journaled with broker id "
                    f"{row.broker_order_id}, the broker now reports {broker_order_id}"
                )
            changes["broker_order_id"] = broker_order_id
        if filled_qty is not None and filled_qty > row.filled_qty:
            changes["filled_qty"] = filled_qty
            if filled_avg_price is not None:
                changes["filled_avg_price"] = filled_avg_price
        elif (
            filled_avg_price is not None
            and (filled_qty is None or filled_qty == row.filled_qty)
            and filled_avg_price != row.filled_avg_price
        ):
            changes["filled_avg_price"] = filled_avg_price
        if error is not None and error != row.error:
            changes["error"] = error
        if not changes:
            return False
        await session.execute(
            update(orders)
            .where(orders.c.client_order_id == client_order_id)
            .values(updated_at=at, **changes)
        )
        await session.execute(
            order_events.insert().values(
                client_order_id=client_order_id,
                status=changes.get("status", row.status),
                at=at,
                detail=detail if detail is not None else error,
            )
        )
        return True

    async def _insert_broker_order(
        self,
        session: AsyncSession,
        order: Order,
        *,
        source: OrderSource,
        parent_client_order_id: str | None,
        cycle_id: str | None,
        at: datetime,
        detail: str,
    ) -> bool:
        stmt = (
            _insert(session, orders)
            .values(
                client_order_id=order.client_order_id,
                broker_order_id=order.id,
                parent_client_order_id=parent_client_order_id,
                cycle_id=cycle_id,
                symbol=order.symbol,
                side=order.side.value,
                qty=order.qty,
                order_type=order.type.value,
                order_class=order.order_class.value,
                role=order.role.value,
                limit_price=order.limit_price,
                stop_price=order.stop_price,
                take_profit_price=_leg_price(order, LegRole.TAKE_PROFIT),
                stop_loss_price=_leg_price(order, LegRole.STOP_LOSS),
                status=order.status.value,
                filled_qty=order.filled_qty,
                filled_avg_price=order.filled_avg_price,
                created_at=order.submitted_at,
                updated_at=at,
                source=source.value,
            )
            .on_conflict_do_nothing(index_elements=[orders.c.client_order_id])
            .returning(orders.c.id)
        )
        if (await session.execute(stmt)).first() is None:
            return False
        await session.execute(
            order_events.insert().values(
                client_order_id=order.client_order_id,
                status=order.status.value,
                at=at,
                detail=detail,
            )
        )
        return True

    async def adopt_external_order(self, order: Order, at: datetime) -> bool:
        """Journal an order someone else placed (source 'external'), legs included.

        True if the order was new to the journal; an order already journaled is left as is.
        """
        _require_aware("at", at)
        async with self._transaction("adopt_external_order") as session:
            adopted = await self._insert_broker_order(
                session,
                order,
                source=OrderSource.EXTERNAL,
                parent_client_order_id=None,
                cycle_id=None,
                at=at,
                detail="adopted from broker",
            )
            for leg in order.legs:
                await self._insert_broker_order(
                    session,
                    leg,
                    source=OrderSource.EXTERNAL,
                    parent_client_order_id=order.client_order_id,
                    cycle_id=None,
                    at=at,
                    detail="adopted from broker",
                )
            return adopted

    async def record_legs(
        self, parent_client_order_id: str, legs: Sequence[Order], at: datetime
    ) -> int:
        """Journal the broker-created legs of one of Catalyst's brackets; returns how many were new.

        The legs inherit the parent's cycle; legs already journaled are left as they are.
        LookupError if the parent is not journaled.
        """
        async with self._transaction("record_legs") as session:
            return await self._insert_legs_in(session, parent_client_order_id, legs, at)

    async def _insert_legs_in(
        self,
        session: AsyncSession,
        parent_client_order_id: str,
        legs: Sequence[Order],
        at: datetime,
    ) -> int:
        _require_aware("at", at)
        parent = (
            await session.execute(
                select(orders.c.cycle_id, orders.c.source).where(
                    orders.c.client_order_id == parent_client_order_id
                )
            )
        ).first()
        if parent is None:
            raise LookupError(f"no journaled order {parent_client_order_id!r}")
        inserted = 0
        for leg in legs:
            if await self._insert_broker_order(
                session,
                leg,
                source=OrderSource(parent.source),
                parent_client_order_id=parent_client_order_id,
                cycle_id=parent.cycle_id,
                at=at,
                detail="bracket leg",
            ):
                inserted += 1
        return inserted

    async def filled_brackets_without_legs(self, since: datetime) -> list[OrderRecord]:
        """Catalyst's bracket entries created since `since` that have filled but have no
        journaled legs: the broker holds their stop and target, the journal does not yet."""
        _require_aware("since", since)
        legs = orders.alias("legs")
        async with self._transaction("filled_brackets_without_legs") as session:
            result = await session.execute(
                select(orders)
                .where(
                    orders.c.order_class == OrderClass.BRACKET.value,
                    orders.c.source == OrderSource.CATALYST.value,
                    orders.c.parent_client_order_id.is_(None),
                    orders.c.filled_qty > 0,
                    orders.c.created_at >= since,
                    ~select(legs.c.id)
                    .where(legs.c.parent_client_order_id == orders.c.client_order_id)
                    .exists(),
                )
                .order_by(orders.c.created_at, orders.c.id)
            )
            return [_order_record(row) for row in result]

    async def non_final_orders(self) -> list[OrderRecord]:
        """Orders not yet filled, canceled, expired or rejected (intents included), oldest first."""
        async with self._transaction("non_final_orders") as session:
            result = await session.execute(
                select(orders)
                .where(orders.c.status.not_in(sorted(FINAL_ORDER_STATUSES)))
                .order_by(orders.c.created_at, orders.c.id)
            )
            return [_order_record(row) for row in result]

    async def latest_filled_entries(self, symbols: Sequence[str]) -> dict[str, OrderRecord]:
        """For each of `symbols`, the newest top-level entry order that filled at least in part
        (the one whose bracket legs protect the position now), if the journal has one."""
        if not symbols:
            return {}
        async with self._transaction("latest_filled_entries") as session:
            result = await session.execute(
                select(orders)
                .where(
                    orders.c.symbol.in_(sorted(set(symbols))),
                    orders.c.role == LegRole.ENTRY.value,
                    orders.c.parent_client_order_id.is_(None),
                    orders.c.filled_qty > 0,
                )
                .order_by(orders.c.created_at, orders.c.id)
            )
            return {record.symbol: record for record in map(_order_record, result)}

    async def order_events_for(self, client_order_id: str) -> list[OrderEventRecord]:
        """The status history of one order, oldest first."""
        async with self._transaction("order_events_for") as session:
            result = await session.execute(
                select(order_events)
                .where(order_events.c.client_order_id == client_order_id)
                .order_by(order_events.c.at, order_events.c.id)
            )
            return [
                OrderEventRecord(
                    client_order_id=row.client_order_id,
                    status=row.status,
                    at=row.at,
                    detail=row.detail,
                )
                for row in result
            ]

    async def orders_for_day(self, day: date, tz: tzinfo = EXCHANGE_TZ) -> list[OrderRecord]:
        """Every order of the local `day`: created on it or filled on it (an order from an
        earlier day that filled today), with the parents of those, bracket legs and external
        orders included; oldest first."""
        start, end = _day_bounds(day, tz)
        filled = select(fills.c.client_order_id).where(and_(fills.c.at >= start, fills.c.at < end))
        of_day = or_(
            and_(orders.c.created_at >= start, orders.c.created_at < end),
            orders.c.client_order_id.in_(filled),
        )
        async with self._transaction("orders_for_day") as session:
            found = [
                _order_record(row)
                for row in await session.execute(
                    select(orders).where(of_day).order_by(orders.c.created_at, orders.c.id)
                )
            ]
            known = {o.client_order_id for o in found}
            parents = sorted(
                {o.parent_client_order_id for o in found if o.parent_client_order_id} - known
            )
            if parents:
                result = await session.execute(
                    select(orders).where(orders.c.client_order_id.in_(parents))
                )
                found += [_order_record(row) for row in result]
        return sorted(found, key=lambda o: o.created_at)

    async def order_counts_for_day(self, day: date, tz: tzinfo = EXCHANGE_TZ) -> dict[str, int]:
        """Catalyst's own top-level orders created on the local `day`, counted by status.

        Bracket legs and external orders are not counted.
        """
        start, end = _day_bounds(day, tz)
        async with self._transaction("order_counts_for_day") as session:
            result = await session.execute(
                select(orders.c.status, func.count())
                .where(
                    and_(
                        orders.c.created_at >= start,
                        orders.c.created_at < end,
                        orders.c.source == OrderSource.CATALYST.value,
                        orders.c.parent_client_order_id.is_(None),
                    )
                )
                .group_by(orders.c.status)
            )
            return {str(status): int(count) for status, count in result}

    # ----------------------------------------------------------------- fills

    async def record_fill(self, fill: Fill) -> bool:
        """Journal one execution; False if this very fill was journaled already."""
        async with self._transaction("record_fill") as session:
            stmt = (
                _insert(session, fills)
                .values(
                    broker_order_id=fill.order_id,
                    client_order_id=fill.client_order_id,
                    symbol=fill.symbol,
                    side=fill.side.value,
                    qty=fill.qty,
                    price=fill.price,
                    at=fill.timestamp,
                )
                .on_conflict_do_nothing(
                    index_elements=[fills.c.broker_order_id, fills.c.at, fills.c.qty, fills.c.price]
                )
                .returning(fills.c.id)
            )
            return (await session.execute(stmt)).first() is not None

    async def fills_for_day(self, day: date, tz: tzinfo = EXCHANGE_TZ) -> list[Fill]:
        """Fills whose time falls on the local calendar `day` in `tz`, oldest first."""
        start, end = _day_bounds(day, tz)
        async with self._transaction("fills_for_day") as session:
            result = await session.execute(
                select(fills)
                .where(and_(fills.c.at >= start, fills.c.at < end))
                .order_by(fills.c.at, fills.c.id)
            )
            return [_fill(row) for row in result]

    async def fills_since(self, since: datetime) -> list[Fill]:
        """Fills at or after `since`, oldest first."""
        _require_aware("since", since)
        async with self._transaction("fills_since") as session:
            result = await session.execute(
                select(fills).where(fills.c.at >= since).order_by(fills.c.at, fills.c.id)
            )
            return [_fill(row) for row in result]

    async def stop_outs_for_day(self, day: date, tz: tzinfo = EXCHANGE_TZ) -> dict[str, datetime]:
        """Each symbol whose protective stop filled on the local `day`, and its latest such fill."""
        start, end = _day_bounds(day, tz)
        async with self._transaction("stop_outs_for_day") as session:
            result = await session.execute(
                select(fills.c.symbol, func.max(fills.c.at))
                .join(orders, orders.c.client_order_id == fills.c.client_order_id)
                .where(
                    and_(
                        fills.c.at >= start,
                        fills.c.at < end,
                        orders.c.role == LegRole.STOP_LOSS.value,
                    )
                )
                .group_by(fills.c.symbol)
            )
            return {symbol: at for symbol, at in result}


def _fill(row: Row[Any]) -> Fill:
    return Fill(
        order_id=row.broker_order_id,
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        qty=row.qty,
        price=row.price,
        timestamp=row.at,
    )
