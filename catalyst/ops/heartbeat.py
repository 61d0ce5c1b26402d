"""The daemon's heartbeat: every few seconds it writes who and where it is to the journal.

`catalyst status` and `catalyst flatten` read it to tell an operator whether a live daemon is
there: a row is alive when it beat within `ALIVE_WITHIN` and was not signed off by a clean stop.
The heartbeat is a bystander: a failed write (database down) is logged once and retried at the
next beat, and never stops anything else.

Beats are stamped with the wall clock the composition root hands in (not a simulated trading
clock): liveness is judged against the operator's wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import structlog

from catalyst.domain.heartbeat import HeartbeatRecord
from catalyst.domain.trading_state import TradingStateRecord
from catalyst.ports import Clock

log = structlog.get_logger(__name__)

HEARTBEAT_INTERVAL = timedelta(seconds=5)
ALIVE_WITHIN = 4 * HEARTBEAT_INTERVAL  # a few missed beats (a slow database) are not death
_WRITE_TIMEOUT_SECONDS = 10.0
_SIGN_OFF_TIMEOUT_SECONDS = 2.0  # on the way out: a stop must not wait on a dead database


class Liveness(StrEnum):
    """What the journal says about a daemon."""

    ALIVE = "alive"  # beat within ALIVE_WITHIN
    SILENT = "silent"  # beat once, not lately, never signed off: crashed or hung
    STOPPED = "stopped"  # signed off by a clean stop
    NONE = "none"  # never checked in


@dataclass(frozen=True, slots=True)
class DaemonPresence:
    """The verdict on one installation (host + state dir), with the beat it rests on."""

    liveness: Liveness
    beat: HeartbeatRecord | None
    age: timedelta | None  # now - last beat

    @property
    def alive(self) -> bool:
        """True when a daemon checked in within `ALIVE_WITHIN`."""
        return self.liveness is Liveness.ALIVE

    def describe(self) -> str:
        """One line for an operator."""
        beat = self.beat
        if beat is None or self.age is None:
            return "no daemon has ever checked in for this state dir"
        who = f"pid {beat.pid} on host {beat.host} (catalyst {beat.version})"
        ago = f"{self.age.total_seconds():.0f} s ago ({beat.beat_at.isoformat(timespec='seconds')})"
        if self.liveness is Liveness.ALIVE:
            return f"alive: {who}, trading {beat.trading_state}, last checked in {ago}"
        if self.liveness is Liveness.STOPPED:
            return f"not running: {who} stopped cleanly {ago}"
        return f"not running: {who} last checked in {ago} and then fell silent"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for `status --json`."""
        beat = self.beat
        return {
            "liveness": self.liveness.value,
            "alive": self.alive,
            "pid": beat.pid if beat else None,
            "host": beat.host if beat else None,
            "version": beat.version if beat else None,
            "trading_state": beat.trading_state if beat else None,
            "last_beat": beat.beat_at.isoformat() if beat else None,
            "seconds_since_beat": round(self.age.total_seconds(), 1) if self.age else None,
        }


def judge(beat: HeartbeatRecord | None, now: datetime) -> DaemonPresence:
    """The verdict on `beat` as of `now` (pure)."""
    if beat is None:
        return DaemonPresence(Liveness.NONE, None, None)
    age = now - beat.beat_at
    if beat.stopped_at is not None:
        return DaemonPresence(Liveness.STOPPED, beat, age)
    if age <= ALIVE_WITHIN:
        return DaemonPresence(Liveness.ALIVE, beat, age)
    return DaemonPresence(Liveness.SILENT, beat, age)


def presence_for(
    beats: Sequence[HeartbeatRecord], host: str, state_dir: str, now: datetime
) -> DaemonPresence:
    """The verdict on the daemon of `state_dir` on `host` (pure)."""
    mine = next((b for b in beats if b.host == host and b.state_dir == state_dir), None)
    return judge(mine, now)


def others_alive(
    beats: Sequence[HeartbeatRecord], host: str, state_dir: str, now: datetime
) -> list[DaemonPresence]:
    """Live daemons on this journal other than the one of `state_dir` on `host` (pure)."""
    verdicts = [judge(b, now) for b in beats if (b.host, b.state_dir) != (host, state_dir)]
    return [v for v in verdicts if v.alive]


class HeartbeatJournal(Protocol):
    """What the heartbeat needs of the store (`catalyst.store.repository.Store` has it)."""

    async def get_trading_state(self) -> TradingStateRecord:
        """The journal's trading state."""
        ...

    async def record_heartbeat(self, beat: HeartbeatRecord) -> None:
        """Insert or overwrite the daemon's row."""
        ...

    async def mark_heartbeat_stopped(
        self, host: str, state_dir: str, pid: int, at: datetime
    ) -> None:
        """Note a clean stop."""
        ...


class Heartbeat:
    """The task that writes this daemon's row every `HEARTBEAT_INTERVAL`."""

    def __init__(
        self,
        store: HeartbeatJournal,
        clock: Clock,
        *,
        host: str,
        state_dir: str,
        pid: int,
        version: str,
        stopping: Callable[[], bool],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`clock` stamps the beats (the wall clock: see the module docstring)."""
        self._store = store
        self._clock = clock
        self._host = host
        self._state_dir = state_dir
        self._pid = pid
        self._version = version
        self._stopping = stopping
        self._sleep = sleep
        self._started_at = clock.now()
        self._failing = False
        self.beats = 0

    async def run(self) -> None:
        """Beat forever (cancel to stop)."""
        while True:
            await self.beat_once()
            await self._sleep(HEARTBEAT_INTERVAL.total_seconds())

    async def beat_once(self) -> bool:
        """Write one beat; False (logged, never raised) when the journal cannot take it."""
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # lands as the write completes, and this loop would then outlive the stop.
            async with asyncio.timeout(_WRITE_TIMEOUT_SECONDS):
                await self._write()
        except Exception as exc:  # any failure: the heartbeat must never take the daemon down
            if not self._failing:
                log.warning("heartbeat not written; retrying every beat", error=str(exc))
            self._failing = True
            return False
        if self._failing:
            log.info("heartbeat written again")
        self._failing = False
        self.beats += 1
        return True

    async def sign_off(self) -> None:
        """Mark a clean stop, so `status` says "stopped" at once rather than "silent" later."""
        with contextlib.suppress(Exception):  # best effort on the way out
            async with asyncio.timeout(_SIGN_OFF_TIMEOUT_SECONDS):
                await self._store.mark_heartbeat_stopped(
                    self._host, self._state_dir, self._pid, self._clock.now()
                )

    async def _write(self) -> None:
        if self._stopping():
            trading_state = "stopping"
        else:
            trading_state = (await self._store.get_trading_state()).status.value
        await self._store.record_heartbeat(
            HeartbeatRecord(
                host=self._host,
                state_dir=self._state_dir,
                pid=self._pid,
                version=self._version,
                trading_state=trading_state,
                started_at=self._started_at,
                beat_at=self._clock.now(),
            )
        )
