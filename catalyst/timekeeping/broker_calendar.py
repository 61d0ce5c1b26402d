"""Session times as the broker reports them (Alpaca's /v2/calendar), for trading with real money.

The broker's calendar is the one its matching engine follows, including closures announced at
short notice that a calendar library may not know yet. Sessions are fetched ahead (a few weeks)
and served synchronously from a cache, so the scheduler and the risk rules keep their pure,
synchronous view of time. Days the cache does not cover fall back to the exchange calendar, and
every disagreement between the two is logged as a warning when the cache is refreshed.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

import structlog

from catalyst.domain.models import TradingSession
from catalyst.ports import Broker
from catalyst.timekeeping.calendar import ExchangeCalendar

log = structlog.get_logger(__name__)

LOOK_BACK_DAYS = 10
LOOK_AHEAD_DAYS = 30
_SEARCH_LIMIT_DAYS = 15  # longer than any US market closure on record


class BrokerSessionCalendar:
    """A session calendar backed by the broker, falling back to `ExchangeCalendar` off-cache."""

    def __init__(self, broker: Broker, fallback: ExchangeCalendar) -> None:
        self._broker = broker
        self._fallback = fallback
        self._cache: dict[date, TradingSession | None] = {}

    @property
    def name(self) -> str:
        return f"broker calendar (fallback {self._fallback.name})"

    async def refresh(self, around: date) -> list[str]:
        """Fetch the sessions from `around` - 10 days to `around` + 30 days; returns the days on
        which the broker and the exchange calendar disagree (also logged)."""
        disagreements: list[str] = []
        for offset in range(-LOOK_BACK_DAYS, LOOK_AHEAD_DAYS + 1):
            day = around + timedelta(days=offset)
            session = await self._broker.get_session(day)
            self._cache[day] = session
            expected = self._fallback.session(day)
            if _describe(session) != _describe(expected):
                disagreements.append(day.isoformat())
                log.warning(
                    "broker calendar differs from the exchange calendar; following the broker",
                    day=day.isoformat(),
                    broker=_describe(session),
                    exchange_calendar=_describe(expected),
                )
        return disagreements

    def session(self, day: date) -> TradingSession | None:
        """The session on `day`, or None when the market is closed all day."""
        if day in self._cache:
            return self._cache[day]
        return self._fallback.session(day)

    def is_trading_day(self, day: date) -> bool:
        return self.session(day) is not None

    def next_session(self, after: date) -> TradingSession:
        """The first session strictly after `after`."""
        for offset in range(1, _SEARCH_LIMIT_DAYS + 1):
            found = self.session(after + timedelta(days=offset))
            if found is not None:
                return found
        return self._fallback.next_session(after)

    def sessions_from(self, start: date, count: int) -> tuple[TradingSession, ...]:
        """`count` consecutive sessions, the first on or after `start`."""
        first = self.session(start) or self.next_session(start)
        sessions = [first]
        while len(sessions) < count:
            sessions.append(self.next_session(sessions[-1].day))
        return tuple(sessions)

    def previous_session(self, before: date) -> TradingSession:
        """The last session strictly before `before`."""
        for offset in range(1, _SEARCH_LIMIT_DAYS + 1):
            found = self.session(before - timedelta(days=offset))
            if found is not None:
                return found
        return self._fallback.previous_session(before)


def _describe(session: TradingSession | None) -> str:
    if session is None:
        return "closed"
    opens, closes = session.open.astimezone(UTC), session.close.astimezone(UTC)
    return f"{opens:%Y-%m-%d %H:%M}–{closes:%H:%M} UTC"
