"""An APScheduler trigger that fires at times derived from each trading session.

`SessionTimesTrigger(calendar, times_for)` asks `times_for(session)` for the instants to fire at on
that session (for example a `DayPlan`'s scan times, or its flatten time) and returns the earliest
one still ahead. It is pure: `now` always comes from the caller (APScheduler in production, the
simulated driver with `clock.now()` in simulation), never from the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from apscheduler.triggers.base import BaseTrigger

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession
from catalyst.timekeeping.calendar import SessionCalendar

DEFAULT_LOOKAHEAD_SESSIONS = 15


class SessionTimesTrigger(BaseTrigger):  # type: ignore[misc]  # apscheduler ships no types
    """Fire at the times `times_for(session)` returns, session after session.

    The trigger assumes each session's times do not interleave with the next session's (true for
    times on the session's own day). It looks at most `lookahead_sessions` sessions ahead and then
    returns None, which APScheduler treats as "finished".
    """

    __slots__ = ("_calendar", "_lookahead", "_times_for")

    def __init__(
        self,
        calendar: SessionCalendar,
        times_for: Callable[[TradingSession], Sequence[datetime]],
        *,
        lookahead_sessions: int = DEFAULT_LOOKAHEAD_SESSIONS,
    ) -> None:
        if lookahead_sessions < 1:
            raise ValueError("lookahead_sessions must be at least 1")
        self._calendar = calendar
        self._times_for = times_for
        self._lookahead = lookahead_sessions

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """Earliest time after `previous_fire_time` (if any) and at or after `now`, or None."""
        _require_aware(now, "now")
        if previous_fire_time is not None:
            _require_aware(previous_fire_time, "previous_fire_time")
        today = now.astimezone(EXCHANGE_TZ).date()
        for session in self._sessions_around(today):
            candidates = []
            for when in self._times_for(session):
                _require_aware(when, f"a time for the {session.day} session")
                if when >= now and (previous_fire_time is None or when > previous_fire_time):
                    candidates.append(when)
            if candidates:
                return min(candidates)
        return None

    def _sessions_around(self, today: date) -> tuple[TradingSession, ...]:
        # Start one session back so times that spill past midnight are not missed.
        try:
            start = self._calendar.previous_session(today).day
        except ValueError:  # today is at the very start of the calendar's range
            start = today
        return self._calendar.sessions_from(start, self._lookahead + 1)

    def __str__(self) -> str:
        return f"session times on {self._calendar.name}"

    def __repr__(self) -> str:
        name = getattr(self._times_for, "__qualname__", repr(self._times_for))
        return (
            f"<SessionTimesTrigger calendar={self._calendar.name!r} times_for={name} "
            f"lookahead_sessions={self._lookahead}>"
        )


def _require_aware(when: datetime, what: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {when!r}")
