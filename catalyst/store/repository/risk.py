"""Risk events, the durable trading state and each day's starting equity."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal

from sqlalchemy import and_, func, select, update

from catalyst.domain.errors import OperationalError
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.domain.trading_state import (
    HaltRequested,
    PersonAcknowledged,
    TradingEvent,
    TradingState,
    TradingStateRecord,
    next_state,
)
from catalyst.store.outbox import SpooledHalt, Write
from catalyst.store.records import RiskEventRecord, TradingStateChange
from catalyst.store.repository._base import (
    STATE_ROW_ID,
    StoreBase,
    _day_bounds,
    _insert,
    _require_aware,
)
from catalyst.store.tables import (
    daily_equity,
    risk_events,
    trading_state,
    trading_state_history,
)
from catalyst.store.types import dump_json


class RiskStore(StoreBase):
    """Risk events, the durable trading state and each day's starting equity."""

    # ----------------------------------------------------------------- risk

    async def record_risk_event(
        self,
        kind: RiskEventKind,
        severity: Severity,
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
                    kind=RiskEventKind(row.kind),
                    severity=Severity(row.severity),
                    message=row.message,
                    details=row.details,
                )
                for row in result
            ]

    async def risk_events_for_day(
        self, day: date, tz: tzinfo = EXCHANGE_TZ
    ) -> list[RiskEventRecord]:
        """Risk events on the local calendar `day` in `tz`, oldest first."""
        start, end = _day_bounds(day, tz)
        return [e for e in await self.risk_events_since(start) if e.at < end]

    async def get_trading_state(self) -> TradingStateRecord:
        """The current trading state (active if it was never set)."""
        async with self._transaction("get_trading_state") as session:
            row = (
                await session.execute(
                    select(trading_state).where(trading_state.c.id == STATE_ROW_ID)
                )
            ).first()
        if row is None:
            return TradingStateRecord(TradingState.ACTIVE, None, None, None, None)
        return TradingStateRecord(
            status=TradingState(row.status),
            reason=row.reason,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
            halt_day=row.halt_day,
        )

    async def _change_state(
        self,
        *,
        event: TradingEvent,
        reason: str,
        by: str,
        at: datetime,
        halt_day: date | None,
    ) -> bool:
        _require_aware("at", at)
        async with self._transaction(f"change trading state ({type(event).__name__})") as session:
            row = (
                await session.execute(
                    select(trading_state.c.status)
                    .where(trading_state.c.id == STATE_ROW_ID)
                    .with_for_update()
                )
            ).first()
            current = TradingState.ACTIVE if row is None else TradingState(row.status)
            # The pure state machine decides: automatic events only lower, a person raises.
            to = next_state(current, event)
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
                await session.execute(trading_state.insert().values(id=STATE_ROW_ID, **values))
            else:
                await session.execute(
                    update(trading_state).where(trading_state.c.id == STATE_ROW_ID).values(values)
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
        _require_actor(by)
        return await self._change_state(
            event=HaltRequested(by=by, reason=reason), reason=reason, by=by, at=at, halt_day=day
        )

    async def resume(self, ack: str, by: str, at: datetime) -> bool:
        """Lift a halt; `ack` is the person's acknowledgement. True if it was halted until now."""
        if not ack.strip():
            raise ValueError("resuming needs an acknowledgement")
        _require_actor(by)
        return await self._change_state(
            event=PersonAcknowledged(by=by, note=ack), reason=ack, by=by, at=at, halt_day=None
        )

    def restore_spooled_halt(self) -> SpooledHalt | None:
        """At start-up: queue the halt that a process which died during a database outage
        spooled to disk; it is journaled before any other unit of work (returned, if any)."""

        def write(halt: SpooledHalt) -> Write:
            async def journal() -> None:
                if await self.halt(halt.reason, halt.by, halt.at, day=halt.day):
                    await self.record_risk_event(
                        RiskEventKind.EMERGENCY_STOP,
                        Severity.CRITICAL,
                        f"{halt.reason} (journaled late: spooled during a database outage)",
                        halt.at,
                    )

            return journal

        return self.outbox.restore_spooled_halt(write)

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
                    status=TradingState(row.status),
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

    async def day_start_equity(self, day: date) -> Decimal | None:
        """The day's starting equity as the risk-watch recorded it; None if it never did."""
        async with self._transaction("day_start_equity") as session:
            stored = await session.scalar(
                select(daily_equity.c.starting_equity).where(daily_equity.c.day == day)
            )
        return stored if isinstance(stored, Decimal) else None

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


def _require_actor(by: str) -> None:
    if not by.strip():
        raise ValueError("a trading state change must name who made it")
