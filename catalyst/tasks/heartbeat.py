"""The daemon's heartbeat: every few seconds it writes who and where it is to the journal.

`catalyst status` and `catalyst flatten` read it to tell an operator whether a live daemon is
there (the verdict is `catalyst.domain.heartbeat`).
The heartbeat is a bystander: a failed write (database down) is logged once and retried at the
next beat, and never stops anything else.

Beats are stamped with the wall clock the composition root hands in (not a simulated trading
clock): liveness is judged against the operator's wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

import structlog

from catalyst.domain.heartbeat import HEARTBEAT_INTERVAL, HeartbeatRecord
from catalyst.domain.trading_state import TradingStateRecord
from catalyst.ports import Clock

log = structlog.get_logger(__name__)

_WRITE_TIMEOUT_SECONDS = 10.0
_SIGN_OFF_TIMEOUT_SECONDS = 2.0  # on the way out: a stop must not wait on a dead database


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
