"""The store's shared base: the transaction helper and the row-to-record converters.

The store is split by aggregate (cycles, orders, positions, risk), each part a class over this
base; `catalyst.store.repository.Store` combines them. Rows never leave this package: every method
takes and returns frozen records (`catalyst.store.records`) or domain objects. Idempotent writes
use INSERT ... ON CONFLICT DO NOTHING RETURNING, which SQLite and PostgreSQL both speak, so
"already there" is an answer rather than an exception, even when several tasks race. Database
failures surface as `catalyst.domain.errors.OperationalError`: when the journal cannot be written,
nobody should trade. A database that cannot be reached for now raises its subclass
`JournalUnavailable` (classified in `catalyst.store.failures`); writes that may lag are deferred
to the store's `JournalOutbox`, which every later unit of work first catches up with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Table, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalyst.domain.errors import JournalUnavailable, OperationalError
from catalyst.domain.models import (
    LegRole,
    Order,
    OrderClass,
    OrderType,
    Side,
)
from catalyst.store.engine import settle_abandoned_connections
from catalyst.store.failures import is_journal_unavailable
from catalyst.store.outbox import JournalOutbox, SpooledHalt
from catalyst.store.records import (
    CycleRecord,
    CycleStatus,
    OrderRecord,
    OrderSource,
    PositionRecord,
)

STATE_ROW_ID = 1

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
        status=CycleStatus(row.status),
        started_at=row.started_at,
        scan_completed_at=row.scan_completed_at,
        finished_at=row.finished_at,
        candidates_identified=row.candidates_identified,
        trades_executed=row.trades_executed,
        error_message=row.error_message,
        funnel=dict(row.funnel or {}),
        skipped=dict(row.skipped or {}),
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


class StoreBase:
    """Owns the session factory, the outbox and the one transaction helper every part uses."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        outbox: JournalOutbox | None = None,
    ) -> None:
        self._sessions = session_factory
        self.outbox = outbox if outbox is not None else JournalOutbox()

    @asynccontextmanager
    async def _transaction(self, operation: str) -> AsyncIterator[AsyncSession]:
        """One session and transaction: committed on success, rolled back on any error.

        Writes deferred during an outage are made first, so this unit of work sees them.
        """
        try:
            await self.outbox.catch_up()
        except JournalUnavailable as exc:
            raise JournalUnavailable(f"database {operation} not attempted: {exc}") from exc
        await settle_abandoned_connections(self._sessions)
        try:
            # The sessionmaker's begin() ends the transaction and closes the session as one
            # step run to completion: the daemon's stop cancels tasks again and again, and a
            # rollback cut short there leaves a connection for the garbage collector to reset.
            async with self._sessions.begin() as session:
                yield session
        except StatementError as exc:
            if isinstance(exc.orig, ValueError | TypeError):
                # A bad value (naive datetime, float money) is the caller's bug, not the database's.
                raise exc.orig from exc
            raise self._translate(operation, exc) from exc
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            # asyncpg raises OSError/TimeoutError itself when it cannot connect.
            raise self._translate(operation, exc) from exc
        self.outbox.note_available()

    def _translate(self, operation: str, exc: Exception) -> OperationalError:
        detail = f"database {operation} failed: {type(exc).__name__}: {_first_line(exc)}"
        if is_journal_unavailable(exc):
            self.outbox.note_unavailable(operation, exc)
            return JournalUnavailable(detail)
        return OperationalError(detail)

    async def check_available(self) -> None:
        """Catch up with the deferred writes and reach the database; JournalUnavailable if not."""
        async with self._transaction("check_available") as session:
            await session.execute(select(literal(1)))

    def defer(self, what: str, write: Callable[[], Awaitable[object]]) -> None:
        """Queue `write` for when the journal is back (see `catalyst.store.outbox`)."""
        self.outbox.defer(what, write)

    async def write_or_defer(
        self,
        what: str,
        write: Callable[[], Awaitable[object]],
        *,
        halt: SpooledHalt | None = None,
    ) -> bool:
        """Make `write` now; while the journal is unavailable defer it instead (False)."""
        try:
            await write()
        except JournalUnavailable:
            self.outbox.defer(what, write, halt=halt)
            return False
        return True
