"""The store: explicit async methods over the journal, one short transaction each.

Rows never leave this module: every method takes and returns frozen records
(`catalyst.store.records`) or domain objects. Idempotent writes use INSERT ... ON CONFLICT DO
NOTHING RETURNING, which SQLite and PostgreSQL both speak, so "already there" is an answer rather
than an exception, even when several tasks race. Database failures surface as
`catalyst.domain.errors.OperationalError`: when the journal cannot be written, nobody should trade.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Table, and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.domain.errors import OperationalError
from catalyst.domain.models import (
    Asset,
    Fill,
    LegRole,
    Order,
    OrderClass,
    OrderType,
    Position,
    Side,
)
from catalyst.store.records import (
    FINAL_ORDER_STATUSES,
    INTENT_STATUS,
    ORDER_STATUSES,
    CycleRecord,
    CycleStart,
    OrderEventRecord,
    OrderIntent,
    OrderRecord,
    OrderSource,
    PositionDiff,
    PositionRecord,
    RiskEventRecord,
    ScanResultRecord,
    TradingStateChange,
    TradingStateRecord,
    TradingStatus,
)
from catalyst.store.tables import (
    daily_equity,
    fills,
    order_events,
    orders,
    positions,
    risk_events,
    scan_results,
    securities,
    trading_cycles,
    trading_state,
    trading_state_history,
)
from catalyst.store.types import dump_json

EXCHANGE_TZ = ZoneInfo("America/New_York")
_STATE_ROW_ID = 1

_Insert = sqlite.Insert | postgresql.Insert


def _insert(session: AsyncSession, table: Table) -> _Insert:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL do)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar `day` in `tz` (23 or 25 hours on DST days)."""
    return (
        datetime.combine(day, time(), tzinfo=tz),
        datetime.combine(day + timedelta(days=1), time(), tzinfo=tz),
    )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _order_record(row: Row[Any]) -> OrderRecord:
    return OrderRecord(
        client_order_id=row.client_order_id,
        broker_order_id=row.broker_order_id,
        parent_client_order_id=row.parent_client_order_id,
        cycle_id=row.cycle_id,
        symbol=row.symbol,
        side=Side(row.side),
        qty=row.qty,
        order_type=OrderType(row.order_type),
        order_class=OrderClass(row.order_class),
        role=LegRole(row.role),
        limit_price=row.limit_price,
        stop_price=row.stop_price,
        take_profit_price=row.take_profit_price,
        stop_loss_price=row.stop_loss_price,
        status=row.status,
        filled_qty=row.filled_qty,
        filled_avg_price=row.filled_avg_price,
        created_at=row.created_at,
        updated_at=row.updated_at,
        source=OrderSource(row.source),
        error=row.error,
    )


def _cycle_record(row: Row[Any]) -> CycleRecord:
    return CycleRecord(
        cycle_id=row.cycle_id,
        cycle_date=row.cycle_date,
        cycle_number=row.cycle_number,
        session_mode=row.session_mode,
        triggered_by=row.triggered_by,
        status=row.status,
        started_at=row.started_at,
        scan_completed_at=row.scan_completed_at,
        finished_at=row.finished_at,
        candidates_identified=row.candidates_identified,
        trades_executed=row.trades_executed,
        error_message=row.error_message,
        funnel=dict(row.funnel or {}),
    )


def _position_record(row: Row[Any]) -> PositionRecord:
    return PositionRecord(
        symbol=row.symbol,
        qty=row.qty,
        avg_entry_price=row.avg_entry_price,
        current_price=row.current_price,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        source=OrderSource(row.source),
    )


def _leg_price(order: Order, role: LegRole) -> Decimal | None:
    for leg in order.legs:
        if leg.role is role:
            return leg.limit_price if role is LegRole.TAKE_PROFIT else leg.stop_price
    return None


class Store:
    """The journal. Share one per process; every method is its own unit of work."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    @asynccontextmanager
    async def _transaction(self, operation: str) -> AsyncIterator[AsyncSession]:
        """One session and transaction: committed on success, rolled back on any error."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except StatementError as exc:
            if isinstance(exc.orig, ValueError | TypeError):
                # A bad value (naive datetime, float money) is the caller's bug, not the database's.
                raise exc.orig from exc
            raise OperationalError(
                f"database {operation} failed: {type(exc).__name__}: {_first_line(exc)}"
            ) from exc
        except SQLAlchemyError as exc:
            raise OperationalError(
                f"database {operation} failed: {type(exc).__name__}: {_first_line(exc)}"
            ) from exc

    # ----------------------------------------------------------------- securities

    async def upsert_securities(self, assets: Sequence[Asset], at: datetime) -> int:
        """Insert or refresh the scan universe; returns how many distinct symbols were written."""
        _require_aware("at", at)
        by_symbol = {asset.symbol: asset for asset in assets}  # last one wins, as the broker said
        if not by_symbol:
            return 0
        rows = [
            {
                "symbol": asset.symbol,
                "name": asset.name,
                "exchange": asset.exchange,
                "sector": asset.sector,
                "tradable": asset.tradable,
                "updated_at": at,
            }
            for asset in by_symbol.values()
        ]
        async with self._transaction("upsert_securities") as session:
            stmt = _insert(session, securities)
            stmt = stmt.on_conflict_do_update(
                index_elements=[securities.c.symbol],
                set_={
                    "name": stmt.excluded.name,
                    "exchange": stmt.excluded.exchange,
                    "sector": stmt.excluded.sector,
                    "tradable": stmt.excluded.tradable,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            await session.execute(stmt, rows)
        return len(rows)

    async def sectors(self, symbols: Collection[str]) -> dict[str, str | None]:
        """Known sector per symbol (None when the broker gave none); unknown symbols left out."""
        if not symbols:
            return {}
        async with self._transaction("sectors") as session:
            result = await session.execute(
                select(securities.c.symbol, securities.c.sector).where(
                    securities.c.symbol.in_(sorted(set(symbols)))
                )
            )
            return {row.symbol: row.sector for row in result}

    # ----------------------------------------------------------------- cycles and scans

    async def start_cycle(self, cycle: CycleStart) -> None:
        """Journal a cycle as running."""
        async with self._transaction("start_cycle") as session:
            await session.execute(
                trading_cycles.insert().values(
                    cycle_id=cycle.cycle_id,
                    cycle_date=cycle.cycle_date,
                    cycle_number=cycle.cycle_number,
                    session_mode=cycle.session_mode,
                    triggered_by=cycle.triggered_by,
                    status="running",
                    started_at=cycle.started_at,
                    candidates_identified=0,
                    trades_executed=0,
                )
            )

    async def finish_cycle(
        self,
        cycle_id: str,
        *,
        status: str,
        scan_completed_at: datetime | None,
        finished_at: datetime,
        candidates_identified: int,
        trades_executed: int,
        funnel: Mapping[str, int],
        error_message: str | None = None,
    ) -> None:
        """Record a cycle's outcome; LookupError if it was never started."""
        async with self._transaction("finish_cycle") as session:
            result = await session.execute(
                update(trading_cycles)
                .where(trading_cycles.c.cycle_id == cycle_id)
                .values(
                    status=status,
                    scan_completed_at=scan_completed_at,
                    finished_at=finished_at,
                    candidates_identified=candidates_identified,
                    trades_executed=trades_executed,
                    funnel=dict(funnel),
                    error_message=error_message,
                )
                .returning(trading_cycles.c.cycle_id)
            )
            if result.first() is None:
                raise LookupError(f"no trading cycle {cycle_id!r} to finish")

    async def get_cycle(self, cycle_id: str) -> CycleRecord | None:
        """One cycle, or None."""
        async with self._transaction("get_cycle") as session:
            row = (
                await session.execute(
                    select(trading_cycles).where(trading_cycles.c.cycle_id == cycle_id)
                )
            ).first()
            return None if row is None else _cycle_record(row)

    async def cycles_for_day(self, day: date) -> list[CycleRecord]:
        """The cycles of one trading day, by cycle number."""
        async with self._transaction("cycles_for_day") as session:
            result = await session.execute(
                select(trading_cycles)
                .where(trading_cycles.c.cycle_date == day)
                .order_by(trading_cycles.c.cycle_number)
            )
            return [_cycle_record(row) for row in result]

    async def next_cycle_number(self, day: date) -> int:
        """1 + the highest cycle number journaled for `day` (1 for the day's first cycle)."""
        async with self._transaction("next_cycle_number") as session:
            highest = await session.scalar(
                select(func.max(trading_cycles.c.cycle_number)).where(
                    trading_cycles.c.cycle_date == day
                )
            )
            return 1 if highest is None else int(highest) + 1

    async def record_scan_results(self, rows: Sequence[ScanResultRecord]) -> None:
        """Append one cycle's scan outcomes."""
        if not rows:
            return
        values = [
            {
                "cycle_id": row.cycle_id,
                "symbol": row.symbol,
                "scan_timestamp": row.scan_timestamp,
                "price_at_scan": row.price_at_scan,
                "volume_at_scan": row.volume_at_scan,
                "rank_in_scan": row.rank_in_scan,
                "scan_type": row.scan_type,
                "composite_score": row.composite_score,
                "final_candidate": row.final_candidate,
                "reject_reason": row.reject_reason,
            }
            for row in rows
        ]
        async with self._transaction("record_scan_results") as session:
            await session.execute(scan_results.insert(), values)

    async def scan_results_for_cycle(self, cycle_id: str) -> list[ScanResultRecord]:
        """A cycle's scan outcomes, by rank."""
        async with self._transaction("scan_results_for_cycle") as session:
            result = await session.execute(
                select(scan_results)
                .where(scan_results.c.cycle_id == cycle_id)
                .order_by(scan_results.c.rank_in_scan, scan_results.c.id)
            )
            return [
                ScanResultRecord(
                    cycle_id=row.cycle_id,
                    symbol=row.symbol,
                    scan_timestamp=row.scan_timestamp,
                    price_at_scan=row.price_at_scan,
                    volume_at_scan=row.volume_at_scan,
                    rank_in_scan=row.rank_in_scan,
                    scan_type=row.scan_type,
                    composite_score=row.composite_score,
                    final_candidate=row.final_candidate,
                    reject_reason=row.reject_reason,
                )
                for row in result
            ]

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
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}")
        _require_aware("at", at)
        async with self._transaction("record_order_update") as session:
            row = (
                await session.execute(
                    select(orders)
                    .where(orders.c.client_order_id == client_order_id)
                    .with_for_update()
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
        _require_aware("at", at)
        async with self._transaction("record_legs") as session:
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

    async def non_final_orders(self) -> list[OrderRecord]:
        """Orders not yet filled, canceled, expired or rejected (intents included), oldest first."""
        async with self._transaction("non_final_orders") as session:
            result = await session.execute(
                select(orders)
                .where(orders.c.status.not_in(sorted(FINAL_ORDER_STATUSES)))
                .order_by(orders.c.created_at, orders.c.id)
            )
            return [_order_record(row) for row in result]

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
            return [
                Fill(
                    order_id=row.broker_order_id,
                    client_order_id=row.client_order_id,
                    symbol=row.symbol,
                    side=Side(row.side),
                    qty=row.qty,
                    price=row.price,
                    timestamp=row.at,
                )
                for row in result
            ]

    # ----------------------------------------------------------------- positions

    async def sync_positions(
        self,
        current: Sequence[Position],
        at: datetime,
        *,
        catalyst_symbols: Collection[str] = (),
    ) -> PositionDiff:
        """Make the mirror equal the broker's `current` positions and report the difference.

        New positions are marked source 'catalyst' when their symbol is in `catalyst_symbols`,
        else 'external'; a symbol named there later is re-marked 'catalyst'. `changed` lists
        positions whose qty or average entry price moved; a new mark price alone is stored quietly.
        """
        _require_aware("at", at)
        by_symbol = {position.symbol: position for position in current}
        if len(by_symbol) != len(current):
            raise ValueError("broker positions list a symbol twice")
        ours = set(catalyst_symbols)
        async with self._transaction("sync_positions") as session:
            existing = {
                row.symbol: row
                for row in await session.execute(select(positions).with_for_update())
            }
            removed = sorted(set(existing) - set(by_symbol))
            if removed:
                await session.execute(delete(positions).where(positions.c.symbol.in_(removed)))
            added: list[str] = []
            changed: list[str] = []
            for symbol in sorted(by_symbol):
                position = by_symbol[symbol]
                old = existing.get(symbol)
                if old is None:
                    added.append(symbol)
                    source = OrderSource.CATALYST if symbol in ours else OrderSource.EXTERNAL
                    stmt = _insert(session, positions).values(
                        symbol=symbol,
                        qty=position.qty,
                        avg_entry_price=position.avg_entry_price,
                        current_price=position.current_price,
                        opened_at=at,
                        updated_at=at,
                        source=source.value,
                    )
                    # A concurrent sync may have added it a moment ago: same facts, keep one row.
                    await session.execute(
                        stmt.on_conflict_do_update(
                            index_elements=[positions.c.symbol],
                            set_={
                                "qty": stmt.excluded.qty,
                                "avg_entry_price": stmt.excluded.avg_entry_price,
                                "current_price": stmt.excluded.current_price,
                                "updated_at": stmt.excluded.updated_at,
                            },
                        )
                    )
                    continue
                if old.qty != position.qty or old.avg_entry_price != position.avg_entry_price:
                    changed.append(symbol)
                source = OrderSource.CATALYST if symbol in ours else OrderSource(old.source)
                await session.execute(
                    update(positions)
                    .where(positions.c.symbol == symbol)
                    .values(
                        qty=position.qty,
                        avg_entry_price=position.avg_entry_price,
                        current_price=position.current_price,
                        updated_at=at,
                        source=source.value,
                    )
                )
            return PositionDiff(added=tuple(added), removed=tuple(removed), changed=tuple(changed))

    async def list_positions(self) -> list[PositionRecord]:
        """The mirrored positions, by symbol."""
        async with self._transaction("list_positions") as session:
            result = await session.execute(select(positions).order_by(positions.c.symbol))
            return [_position_record(row) for row in result]

    # ----------------------------------------------------------------- risk

    async def record_risk_event(
        self,
        kind: str,
        severity: str,
        message: str,
        at: datetime,
        details: Mapping[str, object] | None = None,
    ) -> RiskEventRecord:
        """Append one risk event (details are stored as JSON; Decimals and datetimes as text)."""
        _require_aware("at", at)
        # What comes back from the database: JSON, with Decimals and datetimes as text.
        stored = None if details is None else json.loads(dump_json(dict(details)))
        async with self._transaction("record_risk_event") as session:
            event_id = await session.scalar(
                risk_events.insert()
                .values(at=at, kind=kind, severity=severity, message=message, details=stored)
                .returning(risk_events.c.id)
            )
        return RiskEventRecord(
            id=int(event_id) if event_id is not None else 0,
            at=at,
            kind=kind,
            severity=severity,
            message=message,
            details=stored,
        )

    async def risk_events_since(self, at: datetime) -> list[RiskEventRecord]:
        """Risk events at or after `at`, oldest first."""
        async with self._transaction("risk_events_since") as session:
            result = await session.execute(
                select(risk_events)
                .where(risk_events.c.at >= at)
                .order_by(risk_events.c.at, risk_events.c.id)
            )
            return [
                RiskEventRecord(
                    id=row.id,
                    at=row.at,
                    kind=row.kind,
                    severity=row.severity,
                    message=row.message,
                    details=row.details,
                )
                for row in result
            ]

    async def get_trading_state(self) -> TradingStateRecord:
        """The current trading state (active if it was never set)."""
        async with self._transaction("get_trading_state") as session:
            row = (
                await session.execute(
                    select(trading_state).where(trading_state.c.id == _STATE_ROW_ID)
                )
            ).first()
        if row is None:
            return TradingStateRecord(TradingStatus.ACTIVE, None, None, None, None)
        return TradingStateRecord(
            status=TradingStatus(row.status),
            reason=row.reason,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
            halt_day=row.halt_day,
        )

    async def _change_state(
        self,
        *,
        to: TradingStatus,
        reason: str,
        by: str,
        at: datetime,
        halt_day: date | None,
    ) -> bool:
        _require_aware("at", at)
        if not by.strip():
            raise ValueError("a trading state change must name who made it")
        async with self._transaction(f"change trading state to {to}") as session:
            row = (
                await session.execute(
                    select(trading_state.c.status)
                    .where(trading_state.c.id == _STATE_ROW_ID)
                    .with_for_update()
                )
            ).first()
            current = TradingStatus.ACTIVE if row is None else TradingStatus(row.status)
            if current is to:
                return False
            values = {
                "status": to.value,
                "reason": reason,
                "changed_by": by,
                "changed_at": at,
                "halt_day": halt_day,
            }
            if row is None:
                await session.execute(trading_state.insert().values(id=_STATE_ROW_ID, **values))
            else:
                await session.execute(
                    update(trading_state).where(trading_state.c.id == _STATE_ROW_ID).values(values)
                )
            await session.execute(trading_state_history.insert().values(values))
            return True

    async def halt(self, reason: str, by: str, at: datetime, *, day: date | None = None) -> bool:
        """Halt new entries (durably) and record why; True if it was active until now.

        `day` is the trading day the halt belongs to, if any. Halting an already halted state
        changes nothing and keeps the first reason.
        """
        if not reason.strip():
            raise ValueError("a halt needs a reason")
        return await self._change_state(
            to=TradingStatus.HALTED, reason=reason, by=by, at=at, halt_day=day
        )

    async def resume(self, ack: str, by: str, at: datetime) -> bool:
        """Lift a halt; `ack` is the person's acknowledgement. True if it was halted until now."""
        if not ack.strip():
            raise ValueError("resuming needs an acknowledgement")
        return await self._change_state(
            to=TradingStatus.ACTIVE, reason=ack, by=by, at=at, halt_day=None
        )

    async def trading_state_history(self) -> list[TradingStateChange]:
        """Every change of the trading state, oldest first."""
        async with self._transaction("trading_state_history") as session:
            result = await session.execute(
                select(trading_state_history).order_by(
                    trading_state_history.c.changed_at, trading_state_history.c.id
                )
            )
            return [
                TradingStateChange(
                    status=TradingStatus(row.status),
                    reason=row.reason,
                    changed_by=row.changed_by,
                    changed_at=row.changed_at,
                    halt_day=row.halt_day,
                )
                for row in result
            ]

    # ----------------------------------------------------------------- daily equity

    async def get_or_set_day_start_equity(self, day: date, equity: Decimal) -> Decimal:
        """The day's starting equity: `equity` if this is the first call for `day`, else the
        value stored by the first caller (a restart must not move the day's baseline)."""
        async with self._transaction("get_or_set_day_start_equity") as session:
            await session.execute(
                _insert(session, daily_equity)
                .values(day=day, starting_equity=equity)
                .on_conflict_do_nothing(index_elements=[daily_equity.c.day])
            )
            stored = await session.scalar(
                select(daily_equity.c.starting_equity).where(daily_equity.c.day == day)
            )
        if not isinstance(stored, Decimal):
            raise OperationalError(f"starting equity for {day} did not persist")
        return stored

    async def mark_warning_sent(self, day: date, at: datetime) -> bool:
        """Note that the day's loss warning went out; True only for the first caller.

        LookupError if the day's starting equity was never recorded.
        """
        _require_aware("at", at)
        async with self._transaction("mark_warning_sent") as session:
            marked = (
                await session.execute(
                    update(daily_equity)
                    .where(and_(daily_equity.c.day == day, daily_equity.c.warned_at.is_(None)))
                    .values(warned_at=at)
                    .returning(daily_equity.c.day)
                )
            ).first()
            if marked is not None:
                return True
            exists = await session.scalar(
                select(func.count()).select_from(daily_equity).where(daily_equity.c.day == day)
            )
            if not exists:
                raise LookupError(f"no starting equity recorded for {day}")
            return False
