"""Alerts that never hold up trading: `notify` only queues; a task of its own delivers.

The risk-watch must keep measuring while an SMTP server times out, so it hands alerts to a
bounded queue and returns at once. The supervisor runs `deliver_forever` as one of its tasks.
When the queue is full the oldest non-critical alert is dropped (and logged) to make room; a
critical alert is never dropped for a lesser one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

import structlog

from catalyst.ports import Notifier

log = structlog.get_logger(__name__)

DEFAULT_CAPACITY = 100


@dataclass(frozen=True, slots=True)
class _Alert:
    subject: str
    body: str
    critical: bool


class QueuedNotifier:
    """A `Notifier` whose `notify` returns at once; `deliver_forever` sends through `inner`."""

    def __init__(self, inner: Notifier, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._inner = inner
        self._capacity = capacity
        self._pending: deque[_Alert] = deque()
        self._ready = asyncio.Event()
        self.dropped = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def notify(self, subject: str, body: str, *, critical: bool = False) -> None:
        """Queue one alert for delivery; never waits on the mail server."""
        if len(self._pending) >= self._capacity and not self._make_room(critical):
            self.dropped += 1
            log.error("alert queue full; alert dropped", subject=subject)
            return
        self._pending.append(_Alert(subject, body, critical))
        self._ready.set()

    def _make_room(self, critical: bool) -> bool:
        for alert in self._pending:
            if not alert.critical:
                self._pending.remove(alert)
                self.dropped += 1
                log.error("alert queue full; oldest routine alert dropped", subject=alert.subject)
                return True
        return False if not critical else self._drop_oldest()

    def _drop_oldest(self) -> bool:
        oldest = self._pending.popleft()
        self.dropped += 1
        log.error("alert queue full of critical alerts; oldest dropped", subject=oldest.subject)
        return True

    async def deliver_forever(self) -> None:
        """Send queued alerts one by one, forever (cancel to stop)."""
        while True:
            await self._ready.wait()
            await self.drain()
            self._ready.clear()

    async def drain(self) -> None:
        """Send whatever is queued now (also at shutdown, bounded by the caller).

        An alert leaves the queue only once sent: one cancelled mid-send is sent again by the
        next drain (a duplicate email is better than a lost emergency alert)."""
        while self._pending:
            alert = self._pending[0]
            await self._inner.notify(alert.subject, alert.body, critical=alert.critical)
            if self._pending and self._pending[0] is alert:
                self._pending.popleft()
