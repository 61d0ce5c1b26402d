"""The end-of-day flattener: cancel, close and verify flat a few minutes before *that day's* close.

The time comes from the day plan (exchange calendar + `flatten_minutes_before_close`), so a 13:00
early close is flattened at 12:50, not at a fixed 15:50. Nothing is sent once the close has passed.
"""

from __future__ import annotations

from datetime import date, datetime

import structlog

from catalyst.config.models import ScheduleConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.execution.flatten import Flattener, FlattenResult
from catalyst.execution.purposes import end_of_day_purpose
from catalyst.ports import Clock
from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.calendar import SessionCalendar
from catalyst.timekeeping.day_plan import DayPlan, plan_day

log = structlog.get_logger(__name__)


def next_flatten(calendar: SessionCalendar, schedule: ScheduleConfig, now: datetime) -> DayPlan:
    """The day plan whose flatten is due next: today's until its close (a daemon restarted
    between the flatten time and the close flattens at once), else the next session's."""
    local_day = now.astimezone(EXCHANGE_TZ).date()
    session = calendar.session(local_day)
    if session is not None:
        plan = plan_day(session, schedule, scan_frequency_minutes=None)  # scans do not matter here
        if now < session.close:
            return plan
    return plan_day(calendar.next_session(local_day), schedule, scan_frequency_minutes=None)


class EndOfDayFlattener:
    """Sleeps until each session's flatten time, then flattens."""

    def __init__(
        self,
        *,
        clock: Clock,
        calendar: SessionCalendar,
        schedule: ScheduleConfig,
        flattener: Flattener,
        enabled: bool,
    ) -> None:
        self._clock = clock
        self._calendar = calendar
        self._schedule = schedule
        self._flattener = flattener
        self._enabled = enabled
        self._alarm = Alarm(clock, "eod-flattener")
        self.results: list[FlattenResult] = []

    def update(self, schedule: ScheduleConfig, *, enabled: bool) -> None:
        """Use a reloaded schedule and auto-close switch now: the flatten is re-planned at once."""
        self._schedule = schedule
        self._enabled = enabled
        self._alarm.wake()

    async def run(self) -> None:
        """Flatten at every session's flatten time, forever (cancel to stop)."""
        flattened: date | None = None  # never flatten the same session twice
        while True:
            plan = next_flatten(self._calendar, self._schedule, self._clock.now())
            if plan.session.day == flattened:
                await self._alarm.sleep_until(plan.session.close)
                continue
            log.info("end-of-day flatten armed", at=plan.flatten_at.isoformat())
            await self._alarm.sleep_until(plan.flatten_at)
            if self._clock.now() < plan.flatten_at:
                continue  # woken by a reload: plan again with the new schedule
            if not self._enabled:
                log.info("auto_close_at_market_close is off; positions stay open overnight")
                # Until the close, or until a reload switches auto-close back on.
                await self._alarm.sleep_until(plan.session.close)
                continue
            result = await self._flattener.flatten_all(
                end_of_day_purpose(plan.session.day), deadline=plan.session.close
            )
            self.results.append(result)
            flattened = plan.session.day
            log.info("end-of-day flatten done", flat=result.flat, closed=result.closed_symbols)
