"""The journal keeper: a database outage noticed, alerted after a while, and caught up from.

The store notices an outage itself (any unit of work that cannot reach the database marks the
outbox unavailable and logs it once). This task then looks every few seconds whether the database
answers again: once it does, the deferred writes are made (the outbox goes first), recovery is
logged and reconciliation is woken, so the journal agrees with the broker at once. An outage
longer than `OUTAGE_ALERT_AFTER` alerts a person (once), and its end is reported too.

While the journal is healthy this task does nothing at all: it never pings the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from catalyst.domain.errors import JournalUnavailable, OperationalError
from catalyst.notify import events
from catalyst.ports import Clock, Notifier
from catalyst.store.repository import Store

log = structlog.get_logger(__name__)

CHECK_SECONDS = 5.0
OUTAGE_ALERT_AFTER = timedelta(minutes=1)


class JournalKeeper:
    """See the module docstring. `on_recovered` runs once at the end of each outage."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        notifier: Notifier,
        on_recovered: Callable[[], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier
        self._on_recovered = on_recovered
        self._down_since: datetime | None = None
        self._alerted = False
        self.outages = 0  # outages seen to their end (for tests)

    async def run(self) -> None:
        """Check every few seconds, forever (cancel to stop)."""
        while True:
            await self._clock.sleep(CHECK_SECONDS)
            await self.check_once()

    async def check_once(self) -> None:
        """One look: nothing to do, still down (alert when long), or back (catch up, wake)."""
        outbox = self._store.outbox
        if self._down_since is None and not outbox.unavailable and not outbox.pending:
            return
        now = self._clock.now()
        if self._down_since is None:
            self._down_since = now
        try:
            await self._store.check_available()
        except JournalUnavailable as exc:
            await self._still_down(now, exc)
            return
        except OperationalError as exc:  # reachable, but a deferred write's table is broken
            log.error("journal reachable but catching up failed", error=str(exc))
            return
        await self._recovered(now)

    async def _still_down(self, now: datetime, exc: JournalUnavailable) -> None:
        since = self._down_since or now
        if self._alerted or now - since < OUTAGE_ALERT_AFTER:
            return
        self._alerted = True
        detail = (
            f"{exc}. No new entries are made; the risk-watch keeps protecting the book from the "
            f"broker; {self._store.outbox.pending} journal writes wait for the database."
        )
        log.error("journal outage", since=since.isoformat(), pending=self._store.outbox.pending)
        await self._notifier.alert(events.dependency_down("database", since, detail, now))

    async def _recovered(self, now: datetime) -> None:
        since = self._down_since or now
        self._down_since = None
        self.outages += 1
        log.warning(
            "journal caught up after a database outage; reconciling with the broker",
            since=since.isoformat(),
            lasted_seconds=(now - since).total_seconds(),
        )
        if self._alerted:
            self._alerted = False
            await self._notifier.alert(
                events.dependency_back(
                    "database",
                    since,
                    "Deferred journal writes are made and reconciliation runs now.",
                    now,
                )
            )
        self._on_recovered()
