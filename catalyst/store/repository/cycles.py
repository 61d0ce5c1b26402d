"""Securities, trading cycles and their scan results."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, select, update

from catalyst.domain.funnel import FUNNEL_ORDER, FunnelStage
from catalyst.domain.models import Asset
from catalyst.store.records import CycleRecord, CycleStart, CycleStatus, ScanResultRecord
from catalyst.store.repository._base import StoreBase, _cycle_record, _insert, _require_aware
from catalyst.store.tables import (
    scan_results,
    securities,
    trading_cycles,
)

SECURITIES_PER_STATEMENT = 1_000  # rows bound per statement by `upsert_securities`


def _new_cycle(cycle: CycleStart, status: CycleStatus) -> dict[str, object]:
    """The columns of a new `trading_cycles` row for `cycle`, nothing counted yet."""
    return {
        "cycle_id": cycle.cycle_id,
        "cycle_date": cycle.cycle_date,
        "cycle_number": cycle.cycle_number,
        "session_mode": cycle.session_mode,
        "triggered_by": cycle.triggered_by,
        "status": status.value,
        "started_at": cycle.started_at,
        "candidates_identified": 0,
        "trades_executed": 0,
    }


class CycleStore(StoreBase):
    """Securities, trading cycles and their scan results."""

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
            # In slices: binding 12,000 rows is CPU work on the event loop (0.1 s at once);
            # between slices the loop runs the risk-watch. One transaction all the same.
            for first in range(0, len(rows), SECURITIES_PER_STATEMENT):
                await session.execute(stmt, rows[first : first + SECURITIES_PER_STATEMENT])
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
                trading_cycles.insert().values(**_new_cycle(cycle, CycleStatus.RUNNING))
            )

    async def record_missed_cycle(self, cycle: CycleStart, *, reason: str) -> None:
        """Journal a scheduled cycle that never ran: status MISSED, finished when recorded.

        The row is what tells the next start-up that this scan has been dealt with.
        """
        async with self._transaction("record_missed_cycle") as session:
            await session.execute(
                trading_cycles.insert().values(
                    **_new_cycle(cycle, CycleStatus.MISSED),
                    finished_at=cycle.started_at,
                    error_message=reason,
                )
            )

    async def finish_cycle(
        self,
        cycle_id: str,
        *,
        status: CycleStatus,
        scan_completed_at: datetime | None,
        finished_at: datetime,
        candidates_identified: int,
        trades_executed: int,
        funnel: Mapping[str, int],
        error_message: str | None = None,
        skipped: Mapping[str, int] | None = None,
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
                    skipped=dict(skipped) if skipped is not None else None,
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
                "stage": row.stage.value,
                "kept": row.kept,
                "pattern": row.pattern,
                "features": dict(row.features),
                "indicators": dict(row.indicators),
                "reasons": list(row.reasons),
                "plan": dict(row.plan) if row.plan is not None else None,
            }
            for row in rows
        ]
        async with self._transaction("record_scan_results") as session:
            await session.execute(scan_results.insert(), values)

    async def scan_results_for_cycle(
        self, cycle_id: str, stage: FunnelStage | None = None
    ) -> list[ScanResultRecord]:
        """A cycle's scan outcomes (of one stage, or all), in funnel order, then by rank."""
        query = select(scan_results).where(scan_results.c.cycle_id == cycle_id)
        if stage is not None:
            query = query.where(scan_results.c.stage == stage.value)
        async with self._transaction("scan_results_for_cycle") as session:
            result = await session.execute(
                query.order_by(scan_results.c.rank_in_scan, scan_results.c.id)
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
                    stage=FunnelStage(row.stage),
                    kept=row.kept,
                    pattern=row.pattern,
                    features=row.features or {},
                    indicators=row.indicators or {},
                    reasons=tuple(row.reasons or ()),
                    plan=row.plan,
                )
                for row in sorted(result, key=_funnel_position)
            ]


def _funnel_position(row: Row[Any]) -> tuple[int, int, int]:
    return (FUNNEL_ORDER.index(FunnelStage(row.stage)), row.rank_in_scan, row.id)
