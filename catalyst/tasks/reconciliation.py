"""Periodic reconciliation: the journal brought back to what the broker says, every five minutes.

Start-up reconciliation is the supervisor's (it must succeed before the scheduler is armed); this
loop keeps the two in step afterwards, at once when woken (an order ended, so a protective stop
may be gone; or the journal is back after an outage). While the journal is unreachable it does
nothing: it could not record what it found. Once a day it also refreshes the cached calendar.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import structlog

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.execution.reconcile import Reconciler
from catalyst.notify import events
from catalyst.ports import Clock, Notifier
from catalyst.store.repository import Store
from catalyst.timekeeping.alarm import Alarm

log = structlog.get_logger(__name__)

RECONCILE_INTERVAL = timedelta(minutes=5)
FAILURES_ALERTED = 3  # failed runs in a row that make a person look


class PeriodicReconciliation:
    """Reconciles every `RECONCILE_INTERVAL`, or at once after `wake()`."""

    def __init__(
        self,
        *,
        reconciler: Reconciler,
        store: Store,
        clock: Clock,
        refresh_calendar: Callable[[date], Awaitable[object]] | None = None,
        on_reconciled: Callable[[], None] = lambda: None,
        notifier: Notifier | None = None,
    ) -> None:
        """`notifier` hears of corrections and of repeated failures."""
        self._reconciler = reconciler
        self._store = store
        self._clock = clock
        self._refresh_calendar = refresh_calendar
        self._on_reconciled = on_reconciled
        self._alarm = Alarm(clock, "reconciler")
        self._notifier = notifier
        self._failures = 0

    def wake(self) -> None:
        """Reconcile now instead of at the next interval."""
        self._alarm.wake()

    async def run(self) -> None:
        """Reconcile forever (cancel to stop); a failed run is logged and tried again."""
        calendar_day = self._clock.now().astimezone(EXCHANGE_TZ).date()
        while True:
            await self._alarm.sleep(RECONCILE_INTERVAL.total_seconds())
            if self._store.outbox.unavailable:
                continue  # it could not journal anything; the journal keeper wakes us when back
            try:
                report = await self._reconciler.reconcile()
                self._failures = 0
                self._on_reconciled()
                corrections = events.reconciliation_corrections(report, self._clock.now())
                if corrections is not None and self._notifier is not None:
                    await self._notifier.alert(corrections)
                today = self._clock.now().astimezone(EXCHANGE_TZ).date()
                if self._refresh_calendar is not None and today != calendar_day:
                    await self._refresh_calendar(today)  # keep weeks of sessions cached ahead
                    calendar_day = today
            except Exception as exc:  # keep reconciling; the risk-watch keeps running too
                log.error("periodic reconciliation failed", error=str(exc))
                self._failures += 1
                if self._failures == FAILURES_ALERTED and self._notifier is not None:
                    await self._notifier.alert(
                        events.repeated_errors(
                            "reconciliation", self._failures, str(exc), self._clock.now()
                        )
                    )
