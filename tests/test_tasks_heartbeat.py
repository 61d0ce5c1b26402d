"""The daemon heartbeat: written to the journal, judged alive or not, and never a danger."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from catalyst.domain.heartbeat import (
    ALIVE_WITHIN,
    HeartbeatRecord,
    Liveness,
    judge,
    others_alive,
    presence_for,
)
from catalyst.domain.trading_state import TradingState, TradingStateRecord
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.repository import Store
from catalyst.tasks.heartbeat import Heartbeat, HeartbeatJournal
from catalyst.timekeeping.clock import SimClock

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _heartbeat(
    journal: HeartbeatJournal,
    clock: SimClock,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Heartbeat:
    """The heartbeat of daemon pid 7 on host alpha, for /srv/state."""
    return Heartbeat(
        journal,
        clock,
        host="alpha",
        state_dir="/srv/state",
        pid=7,
        version="0.1.0",
        stopping=lambda: False,
        sleep=sleep,
    )


def _beat(age: timedelta, *, stopped: bool = False, host: str = "alpha") -> HeartbeatRecord:
    at = NOW - age
    return HeartbeatRecord(
        host=host,
        state_dir="/var/lib/catalyst",
        pid=4242,
        version="0.1.0",
        trading_state="active",
        started_at=at - timedelta(hours=1),
        beat_at=at,
        stopped_at=at if stopped else None,
    )


@pytest.mark.parametrize(
    ("beat", "liveness"),
    [
        (None, Liveness.NONE),
        (_beat(timedelta(seconds=3)), Liveness.ALIVE),
        (_beat(ALIVE_WITHIN), Liveness.ALIVE),
        (_beat(ALIVE_WITHIN + timedelta(seconds=1)), Liveness.SILENT),
        (_beat(timedelta(days=1)), Liveness.SILENT),
        (_beat(timedelta(seconds=1), stopped=True), Liveness.STOPPED),
    ],
)
def test_a_daemon_is_alive_only_when_it_beat_lately_and_did_not_sign_off(
    beat: HeartbeatRecord | None, liveness: Liveness
) -> None:
    verdict = judge(beat, NOW)
    assert verdict.liveness is liveness
    assert verdict.alive is (liveness is Liveness.ALIVE)
    text = verdict.describe()
    if liveness is Liveness.NONE:
        assert text == "no daemon has ever checked in for this state dir"
    elif liveness is Liveness.ALIVE:
        assert text.startswith("alive: pid 4242 on host alpha")
    else:
        assert text.startswith("not running: pid 4242 on host alpha")


def test_presence_is_per_host_and_state_dir() -> None:
    beats = [_beat(timedelta(seconds=2), host="beta"), _beat(timedelta(days=1))]
    assert presence_for(beats, "alpha", "/var/lib/catalyst", NOW).liveness is Liveness.SILENT
    assert presence_for(beats, "gamma", "/var/lib/catalyst", NOW).liveness is Liveness.NONE
    (other,) = others_alive(beats, "alpha", "/var/lib/catalyst", NOW)
    assert other.beat is not None
    assert other.beat.host == "beta"


async def test_heartbeat_rows_are_written_overwritten_and_signed_off(
    migrated_store: Store,
) -> None:
    clock = SimClock(NOW)
    heartbeat = _heartbeat(migrated_store, clock)
    assert await heartbeat.beat_once()
    clock.advance_to(NOW + timedelta(seconds=5))
    assert await heartbeat.beat_once()
    (row,) = await migrated_store.heartbeats()
    assert (row.host, row.state_dir, row.pid, row.trading_state) == (
        "alpha",
        "/srv/state",
        7,
        "active",
    )
    assert row.started_at == NOW
    assert row.beat_at == NOW + timedelta(seconds=5)
    assert row.stopped_at is None

    await migrated_store.halt("test", "pytest", clock.now())
    assert await heartbeat.beat_once()
    assert (await migrated_store.heartbeats())[0].trading_state == "halted"

    clock.advance_to(NOW + timedelta(seconds=9))
    await heartbeat.sign_off()
    (row,) = await migrated_store.heartbeats()
    assert row.stopped_at == NOW + timedelta(seconds=9)
    assert judge(row, NOW + timedelta(seconds=10)).liveness is Liveness.STOPPED


async def test_a_heartbeat_that_cannot_be_written_never_raises_and_keeps_beating(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}")
    store = Store(make_session_factory(engine))
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise asyncio.CancelledError

    heartbeat = _heartbeat(store, SimClock(NOW), sleep)
    try:
        with pytest.raises(asyncio.CancelledError):
            await heartbeat.run()  # three failed beats, then the cancellation ends it
    finally:
        await engine.dispose()
    assert slept == [5.0, 5.0, 5.0]
    assert heartbeat.beats == 0


class CancelledMidWrite:
    """A journal whose write cancels the heartbeat task just as the write completes."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None

    async def get_trading_state(self) -> TradingStateRecord:
        return TradingStateRecord(TradingState.ACTIVE, None, None, None, None)

    async def record_heartbeat(self, beat: HeartbeatRecord) -> None:
        assert self.task is not None
        self.task.cancel()  # the supervisor's stop lands now

    async def mark_heartbeat_stopped(
        self, host: str, state_dir: str, pid: int, at: datetime
    ) -> None:
        pass


async def test_a_stop_landing_as_a_beat_is_written_ends_the_heartbeat() -> None:
    journal = CancelledMidWrite()

    async def sleep(_seconds: float) -> None:
        await asyncio.Event().wait()  # a swallowed cancellation would hang here forever

    heartbeat = _heartbeat(journal, SimClock(NOW), sleep)
    journal.task = asyncio.create_task(heartbeat.run())
    done, _ = await asyncio.wait({journal.task}, timeout=30)
    if not done:
        journal.task.cancel()
    assert done, "the heartbeat swallowed the cancellation and kept beating"
    assert journal.task.cancelled()
