"""One trading day's plan: when to scan, when entries stop, when to flatten. Pure.

Everything is computed per day from that day's session, so DST switches and 13:00 early closes come
out right without special cases: scan times are exchange-local wall times combined with the
session date through zoneinfo, and the entry cutoff and flatten time count back from *that day's*
close.

Scan times: every `schedule.scan_times` entry before the close, plus, when
`workflow.scan_frequency_minutes` is set, a scan every that many minutes counted from the first
scan time at or after the open (the open itself if no scan time falls in the session) up to, not
including, the entry cutoff. The two sets are merged and de-duplicated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from catalyst.config.models import ScheduleConfig, TradingFile
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


def plan_day(
    session: TradingSession, schedule: ScheduleConfig, *, scan_frequency_minutes: int | None
) -> DayPlan:
    """Build the plan for `session` from the configured scan times, the optional scan frequency
    (`workflow.scan_frequency_minutes`; see the module docstring) and minutes-before-close."""
    zone = ZoneInfo(schedule.timezone)
    scan_times: set[datetime] = set()
    for wall_time in schedule.scan_times:
        # A tz-aware time (pytz's LMT trap) would silently shift the scan; insist on wall times.
        if wall_time.tzinfo is not None:
            raise ValueError(f"scan time {wall_time} must be a naive exchange-local wall time")
        when = datetime.combine(session.day, wall_time, tzinfo=zone)
        if when < session.close:
            scan_times.add(when)
    entry_cutoff = _before(session.close, schedule.entry_cutoff_minutes_before_close, zone)
    if scan_frequency_minutes is not None:
        scan_times |= _every(session, scan_times, scan_frequency_minutes, entry_cutoff, zone)
    return DayPlan(
        session=session,
        scan_times=tuple(sorted(scan_times)),
        entry_cutoff=entry_cutoff,
        flatten_at=_before(session.close, schedule.flatten_minutes_before_close, zone),
    )


def plan_for(session: TradingSession, trading: TradingFile) -> DayPlan:
    """`plan_day` with the schedule and scan frequency of a loaded trading configuration."""
    return plan_day(
        session,
        trading.schedule,
        scan_frequency_minutes=trading.workflow.scan_frequency_minutes,
    )


def _every(
    session: TradingSession,
    fixed: set[datetime],
    minutes: int,
    entry_cutoff: datetime,
    zone: ZoneInfo,
) -> set[datetime]:
    """Interval scans from the first regular-session scan time up to the entry cutoff."""
    if minutes <= 0:
        raise ValueError(f"scan frequency must be positive, got {minutes}")
    in_session = [when for when in fixed if when >= session.open]
    when = min(in_session) if in_session else session.open
    step = timedelta(minutes=minutes)
    found: set[datetime] = set()
    while when < entry_cutoff:
        found.add(when.astimezone(zone))
        when = (when.astimezone(UTC) + step).astimezone(zone)  # UTC: see _before
    return found


def _before(instant: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    # Subtract in UTC: aware arithmetic in a local zone is wall-clock arithmetic across DST.
    return (instant.astimezone(UTC) - timedelta(minutes=minutes)).astimezone(zone)
