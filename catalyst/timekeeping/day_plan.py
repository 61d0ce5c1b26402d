"""One trading day's plan: when to scan, when entries stop, when to flatten. Pure.

Everything is computed per day from that day's session, so DST switches and 13:00 early closes come
out right without special cases: scan times are exchange-local wall times combined with the
session date through zoneinfo, and the entry cutoff and flatten time count back from *that day's*
close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from catalyst.config.models import ScheduleConfig
from catalyst.domain.models import TradingSession


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The schedule of one session; every datetime is aware, in the exchange time zone."""

    session: TradingSession
    scan_times: tuple[datetime, ...]  # sorted; only those strictly before the close
    entry_cutoff: datetime  # no new entries at or after this
    flatten_at: datetime  # close every position from here on

    def entries_allowed_at(self, when: datetime) -> bool:
        """Whether a new entry may be sent at `when`: open <= when < entry_cutoff."""
        return self.session.open <= when < self.entry_cutoff

    def is_premarket(self, when: datetime) -> bool:
        """Whether `when` is before the session opens."""
        return when < self.session.open


def plan_day(session: TradingSession, schedule: ScheduleConfig) -> DayPlan:
    """Build the plan for `session` from the configured scan times and minutes-before-close."""
    zone = ZoneInfo(schedule.timezone)
    scan_times: list[datetime] = []
    for wall_time in schedule.scan_times:
        # A tz-aware time (pytz's LMT trap) would silently shift the scan; insist on wall times.
        if wall_time.tzinfo is not None:
            raise ValueError(f"scan time {wall_time} must be a naive exchange-local wall time")
        when = datetime.combine(session.day, wall_time, tzinfo=zone)
        if when < session.close:
            scan_times.append(when)
    return DayPlan(
        session=session,
        scan_times=tuple(sorted(scan_times)),
        entry_cutoff=_before(session.close, schedule.entry_cutoff_minutes_before_close, zone),
        flatten_at=_before(session.close, schedule.flatten_minutes_before_close, zone),
    )


def _before(instant: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    # Subtract in UTC: aware arithmetic in a local zone is wall-clock arithmetic across DST.
    return (instant.astimezone(UTC) - timedelta(minutes=minutes)).astimezone(zone)
