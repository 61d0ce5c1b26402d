"""Daemon heartbeats: the running daemon's check-in, and what `status` and `flatten` read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, select, update

from catalyst.domain.heartbeat import HeartbeatRecord
from catalyst.store.repository._base import StoreBase, _insert, _require_aware
from catalyst.store.tables import daemon_heartbeats


class HeartbeatStore(StoreBase):
    """One row per (host, state dir), rewritten by every beat."""

    async def record_heartbeat(self, beat: HeartbeatRecord) -> None:
        """Insert or overwrite this daemon's row (a restart takes over its predecessor's)."""
        values = {
            "host": beat.host,
            "state_dir": beat.state_dir,
            "pid": beat.pid,
            "version": beat.version,
            "trading_state": beat.trading_state,
            "started_at": beat.started_at,
            "beat_at": beat.beat_at,
            "stopped_at": beat.stopped_at,
        }
        async with self._transaction("record_heartbeat") as session:
            statement = _insert(session, daemon_heartbeats).values(values)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[daemon_heartbeats.c.host, daemon_heartbeats.c.state_dir],
                    set_={k: v for k, v in values.items() if k not in ("host", "state_dir")},
                )
            )

    async def mark_heartbeat_stopped(
        self, host: str, state_dir: str, pid: int, at: datetime
    ) -> None:
        """Note a clean stop in this daemon's row (left alone if another pid took it over)."""
        _require_aware("at", at)
        async with self._transaction("mark_heartbeat_stopped") as session:
            await session.execute(
                update(daemon_heartbeats)
                .where(
                    and_(
                        daemon_heartbeats.c.host == host,
                        daemon_heartbeats.c.state_dir == state_dir,
                        daemon_heartbeats.c.pid == pid,
                    )
                )
                .values(stopped_at=at, beat_at=at)
            )

    async def heartbeats(self) -> list[HeartbeatRecord]:
        """Every daemon that ever checked in to this journal, latest beat first."""
        async with self._transaction("heartbeats") as session:
            result = await session.execute(
                select(daemon_heartbeats).order_by(
                    daemon_heartbeats.c.beat_at.desc(),
                    daemon_heartbeats.c.host,
                    daemon_heartbeats.c.state_dir,
                )
            )
            return [_heartbeat_record(row) for row in result]


def _heartbeat_record(row: Row[Any]) -> HeartbeatRecord:
    return HeartbeatRecord(
        host=row.host,
        state_dir=row.state_dir,
        pid=row.pid,
        version=row.version,
        trading_state=row.trading_state,
        started_at=row.started_at,
        beat_at=row.beat_at,
        stopped_at=row.stopped_at,
    )
