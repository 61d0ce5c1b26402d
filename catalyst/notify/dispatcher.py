"""Alert delivery that never holds up trading, and never loses an alert without saying so.

`alert()` only throttles (duplicates, rate limit) and queues in memory; it never waits on a mail
server, a webhook or the database. The supervisor runs `deliver_forever`, which sends each queued
alert to every channel and then journals how far it got (`alert_outbox`):

- a channel that fails is backed off as a whole (capped exponential backoff), so a dead relay
  costs one attempt per backoff step, not one per alert; its alerts wait, in order;
- a channel that refuses an alert for good (5xx SMTP reply, 4xx webhook status) is not retried
  for that alert: it is journaled as failed, with the error, and logged;
- an alert still pending is journaled as such and retried, by this task or, after a restart, by
  the next one (it loads the journal's pending alerts first); a delivered one is marked so;
- the queue is bounded: when it is full, an alert already journaled leaves memory (it is reloaded
  from the journal when there is room); only when none is journaled (the database is down as
  well) is the oldest routine alert given up, logged as an error, and counted in the next alert.

Sending comes before journaling, so a database outage never delays an alert: the journal record
is then best-effort (kept in memory and written once the database is back). An alert cancelled
mid-send is sent again: a duplicate email beats a lost emergency alert.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import structlog

from catalyst.domain.alerts import Alert, AlertDelivery, subject_of
from catalyst.domain.errors import OperationalError
from catalyst.notify.channel import AlertChannel, DeliveryError
from catalyst.notify.throttle import AlertThrottle
from catalyst.ports import Clock
from catalyst.store.records import JournaledAlert

__all__ = ["AlertDispatcher", "AlertJournal", "ChannelBackoff"]

log = structlog.get_logger(__name__)

DEFAULT_CAPACITY = 100
JOURNAL_RETRY_SECONDS = 5.0  # a pending journal write (database down) is tried again this often


class AlertJournal(Protocol):
    """The store's alert journal (`catalyst.store.repository.alerts.AlertStore`)."""

    async def journal_alert(
        self,
        alert: Alert,
        *,
        subject: str,
        status: AlertDelivery,
        delivered_channels: Collection[str],
        attempts: int,
        last_error: str | None,
        at: datetime,
    ) -> int: ...

    async def update_alert(
        self,
        alert_id: int,
        *,
        status: AlertDelivery,
        delivered_channels: Collection[str],
        attempts: int,
        last_error: str | None,
        at: datetime,
    ) -> None: ...

    async def pending_alerts(
        self, limit: int, *, exclude: Collection[int] = ()
    ) -> list[JournaledAlert]: ...


@dataclass(frozen=True, slots=True)
class ChannelBackoff:
    """Seconds a failing channel rests: first, then doubled per failure, at most cap."""

    first_seconds: float = 5.0
    cap_seconds: float = 300.0

    def delay(self, failures: int) -> float:
        return float(min(self.cap_seconds, self.first_seconds * 2 ** (failures - 1)))


@dataclass
class _Channel:
    channel: AlertChannel
    failures: int = 0
    retry_at: float = 0.0  # monotonic seconds


@dataclass
class _Pending:
    alert: Alert
    subject: str
    remaining: set[str]
    delivered: set[str] = field(default_factory=set)
    refused: bool = False  # some channel refused it for good
    row_id: int | None = None
    attempts: int = 0
    last_error: str | None = None
    dirty: bool = True  # the journal does not know the latest state yet

    @property
    def done(self) -> bool:
        return not self.remaining

    @property
    def status(self) -> AlertDelivery:
        if self.remaining:
            return AlertDelivery.PENDING
        return AlertDelivery.FAILED if self.refused else AlertDelivery.DELIVERED


class AlertDispatcher:
    """Implements `catalyst.ports.Notifier`: see the module docstring."""

    def __init__(
        self,
        channels: Sequence[AlertChannel],
        *,
        environment: str,
        clock: Clock,
        throttle: AlertThrottle,
        journal: AlertJournal | None = None,
        capacity: int = DEFAULT_CAPACITY,
        backoff: ChannelBackoff | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not channels:
            raise ValueError("an AlertDispatcher needs at least one channel")
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        names = [c.name for c in channels]
        if len(set(names)) != len(names):
            raise ValueError(f"channel names must be unique, got {names}")
        self._channels = {c.name: _Channel(c) for c in channels}
        self._environment = environment
        self._clock = clock
        self._throttle = throttle
        self._journal = journal
        self._capacity = capacity
        self._backoff = backoff if backoff is not None else ChannelBackoff()
        self._monotonic = monotonic
        self._queue: deque[_Pending] = deque()
        self._ready = asyncio.Event()
        self._backlog = True  # the journal may hold pending alerts not in memory
        self._lost_unreported = 0
        self.lost = 0  # alerts given up (queue full, journal down): logged, never silent

    def attach_journal(self, journal: AlertJournal, *, load_backlog: bool = True) -> None:
        """Journal from now on (the database is reached after the first alerts may be raised).

        `load_backlog=False` (a CLI command's own alert) leaves the journal's pending alerts to
        the daemon, which delivers them."""
        self._journal = journal
        self._backlog = load_backlog
        self._ready.set()

    @property
    def pending(self) -> int:
        """Alerts in memory not yet delivered to every channel."""
        return sum(1 for item in self._queue if not item.done)

    async def alert(self, alert: Alert) -> None:
        """Throttle and queue `alert`; returns at once."""
        self.submit(alert)

    def submit(self, alert: Alert) -> bool:
        """`alert` as a plain call: True if queued, False if suppressed (duplicate or limit)."""
        admitted = self._throttle.admit(alert)
        if admitted is None:
            log.info("alert suppressed", kind=alert.kind.value, headline=alert.headline)
            return False
        if self._lost_unreported:
            admitted = _with_note(
                admitted,
                f"{self._lost_unreported} earlier alert(s) could not be kept (queue full while "
                "the journal was unavailable); see the log",
            )
            self._lost_unreported = 0
        subject = subject_of(admitted, self._environment)
        log.info("alert raised", subject=subject, kind=admitted.kind.value)
        item = _Pending(admitted, subject, remaining=set(self._channels))
        if len(self._queue) >= self._capacity:
            victim = self._make_room(item)
            if victim is item:
                return True  # given up at once (logged); counted in the next alert
        self._queue.append(item)
        self._ready.set()
        return True

    def _make_room(self, new: _Pending) -> _Pending:
        """Take one alert out of a full queue (or give up `new`); the one taken out."""
        items = list(self._queue)
        journaled = [i for i in items if i.row_id is not None and not i.dirty]
        routine = [i for i in items if not i.alert.critical]
        # An alert the journal already holds leaves memory (reloaded later): nothing is lost.
        spillable = [i for i in journaled if not i.alert.critical] + journaled
        if spillable:
            victim = spillable[0]
            self._queue.remove(victim)
            self._backlog = True
            log.warning("alert queue full; journaled alert left for later", id=victim.row_id)
            return victim
        # None journaled (the database is down too): the oldest routine alert is given up, or
        # the new one if it is routine and every queued one critical.
        if routine:
            victim = routine[0]
            self._queue.remove(victim)
        elif new.alert.critical:
            victim = self._queue.popleft()
        else:
            victim = new
        self.lost += 1
        self._lost_unreported += 1
        log.error(
            "alert queue full and journal unavailable; alert given up",
            subject=victim.subject,
            body=victim.alert.full_body(),
        )
        return victim

    async def deliver_forever(self) -> None:
        """Deliver and journal, forever (cancel to stop)."""
        while True:
            self._ready.clear()
            await self.drain()
            wait = self._next_wake()
            try:
                async with asyncio.timeout(wait):
                    await self._ready.wait()
            except TimeoutError:
                pass

    async def drain(self) -> None:
        """One pass: reload journaled backlog, send what each channel can take, journal."""
        await self._load_backlog()
        for item in list(self._queue):
            for name in sorted(item.remaining):
                await self._try(item, self._channels[name])
        await self._journal_all()

    async def _try(self, item: _Pending, state: _Channel) -> None:
        if self._monotonic() < state.retry_at:
            return
        name = state.channel.name
        try:
            await state.channel.send(item.alert, item.subject)
        except DeliveryError as exc:
            error = str(exc)
            failed = exc.permanent
        except Exception as exc:  # a channel's bug must not stop delivery; no traceback (secrets)
            error, failed = f"{type(exc).__name__}: {exc}", False
        else:
            state.failures = 0
            state.retry_at = 0.0
            item.remaining.discard(name)
            item.delivered.add(name)
            item.dirty = True
            log.info("alert delivered", channel=name, subject=item.subject)
            return
        item.attempts += 1
        item.last_error = f"{name}: {error}"
        item.dirty = True
        if failed:
            item.remaining.discard(name)
            item.refused = True
            log.error("alert refused by channel for good", channel=name, error=error)
            return
        state.failures += 1
        delay = self._backoff.delay(state.failures)
        state.retry_at = self._monotonic() + delay
        log.warning("alert channel failed; backing off", channel=name, error=error, retry_in=delay)

    async def journal_pending(self) -> None:
        """Journal what memory knows and the journal does not (at shutdown: the next start
        delivers it)."""
        await self._journal_all()

    async def _journal_all(self) -> None:
        for item in list(self._queue):
            if item.dirty and self._journal is not None:
                try:
                    await self._write(item, self._journal)
                except OperationalError as exc:
                    log.warning("alert not journaled yet", subject=item.subject, error=str(exc))
                    if item.done:  # delivered: the record is bookkeeping, not worth holding on
                        item.dirty = False
                    else:
                        break  # the database is down: try again later, in order
                else:
                    item.dirty = False
            if item.done and (not item.dirty or self._journal is None):
                self._queue.remove(item)

    async def _write(self, item: _Pending, journal: AlertJournal) -> None:
        now = self._clock.now()
        if item.row_id is None:
            item.row_id = await journal.journal_alert(
                item.alert,
                subject=item.subject,
                status=item.status,
                delivered_channels=item.delivered,
                attempts=item.attempts,
                last_error=item.last_error,
                at=now,
            )
        else:
            await journal.update_alert(
                item.row_id,
                status=item.status,
                delivered_channels=item.delivered,
                attempts=item.attempts,
                last_error=item.last_error,
                at=now,
            )

    async def _load_backlog(self) -> None:
        room = self._capacity - len(self._queue)
        if not self._backlog or self._journal is None or room <= 0:
            return
        in_memory = [i.row_id for i in self._queue if i.row_id is not None]
        try:
            rows = await self._journal.pending_alerts(room, exclude=in_memory)
        except OperationalError as exc:
            log.warning("journaled alerts not loaded yet", error=str(exc))
            return
        self._backlog = len(rows) >= room
        for row in rows:
            remaining = set(self._channels) - row.delivered_channels
            self._queue.append(
                _Pending(
                    row.alert,
                    row.subject,
                    remaining=remaining,
                    delivered=set(row.delivered_channels),
                    row_id=row.id,
                    attempts=row.attempts,
                    last_error=row.last_error,
                    dirty=not remaining,  # nothing left for today's channels: mark it done
                )
            )
        if rows:
            log.info("journaled alerts loaded for delivery", count=len(rows))

    def _next_wake(self) -> float | None:
        now = self._monotonic()
        waits: list[float] = []
        for item in self._queue:
            if item.dirty and self._journal is not None:
                waits.append(JOURNAL_RETRY_SECONDS)
            waits += [max(0.0, self._channels[n].retry_at - now) for n in item.remaining]
        if self._backlog and self._journal is not None and len(self._queue) < self._capacity:
            waits.append(JOURNAL_RETRY_SECONDS)
        return min(waits) if waits else None


def _with_note(alert: Alert, note: str) -> Alert:
    return replace(alert, body=f"{alert.body}\n\n{note}")
