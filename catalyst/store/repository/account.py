"""Account snapshots: the broker's equity over the day, as the risk-watch saw it."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

from sqlalchemy import Row, insert, select

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.store.records import AccountSnapshotRecord
from catalyst.store.repository._base import StoreBase, _day_bounds
from catalyst.store.tables import account_snapshots


class AccountStore(StoreBase):
    """Append-only account snapshots, read back as the day's equity curve or the latest one."""

    async def record_account_snapshot(self, snapshot: AccountSnapshotRecord) -> None:
        """Append one snapshot."""
        async with self._transaction("record_account_snapshot") as session:
            await session.execute(
                insert(account_snapshots).values(
                    at=snapshot.at,
                    equity=snapshot.equity,
                    cash=snapshot.cash,
                    buying_power=snapshot.buying_power,
                    day_start_equity=snapshot.day_start_equity,
                )
            )

    async def latest_account_snapshot(self) -> AccountSnapshotRecord | None:
        """The newest snapshot, or None when the daemon never recorded one."""
        async with self._transaction("latest_account_snapshot") as session:
            result = await session.execute(
                select(account_snapshots)
                .order_by(account_snapshots.c.at.desc(), account_snapshots.c.id.desc())
                .limit(1)
            )
            row = result.first()
            return None if row is None else _snapshot_record(row)

    async def account_snapshots_for_day(
        self, day: date, tz: tzinfo = EXCHANGE_TZ
    ) -> list[AccountSnapshotRecord]:
        """The snapshots taken on `day` (a calendar day in `tz`), oldest first."""
        start, end = _day_bounds(day, tz)
        async with self._transaction("account_snapshots_for_day") as session:
            result = await session.execute(
                select(account_snapshots)
                .where(account_snapshots.c.at >= start, account_snapshots.c.at < end)
                .order_by(account_snapshots.c.at, account_snapshots.c.id)
            )
            return [_snapshot_record(row) for row in result]


def _snapshot_record(row: Row[Any]) -> AccountSnapshotRecord:
    return AccountSnapshotRecord(
        at=row.at,
        equity=row.equity,
        cash=row.cash,
        buying_power=row.buying_power,
        day_start_equity=row.day_start_equity,
    )
