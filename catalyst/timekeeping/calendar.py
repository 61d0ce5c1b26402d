"""The exchange calendar: which days the market opens, and when it opens and closes.

A thin wrapper over the `exchange_calendars` library (holidays, early closes, DST all handled
there). The library is slow to build, so each calendar is built once per (name, range) and turned
into a plain table of `TradingSession`s; every lookup afterwards is a dict hit or a bisect.
Session times are aware datetimes in America/New_York (zoneinfo, never pytz).
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

import exchange_calendars

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession

DEFAULT_FIRST_DAY = date(2020, 1, 1)
DEFAULT_LAST_DAY = date(2030, 12, 31)
# A close earlier than this (exchange time) is an early close (13:00 on half days).
_REGULAR_CLOSE = time(16, 0)


@dataclass(frozen=True, slots=True)
class _SessionTable:
    first_day: date
    last_day: date
    days: tuple[date, ...]  # sorted
    by_day: dict[date, TradingSession]


@functools.lru_cache(maxsize=8)
def _load(name: str, first_day: date, last_day: date) -> _SessionTable:
    library_calendar = exchange_calendars.get_calendar(
        name, start=first_day.isoformat(), end=last_day.isoformat()
    )
    sessions: list[TradingSession] = []
    for label, opens_at, closes_at in zip(
        library_calendar.sessions, library_calendar.opens, library_calendar.closes, strict=True
    ):
        open_local = opens_at.to_pydatetime().astimezone(EXCHANGE_TZ)
        close_local = closes_at.to_pydatetime().astimezone(EXCHANGE_TZ)
        sessions.append(
            TradingSession(
                day=label.date(),
                open=open_local,
                close=close_local,
                early_close=close_local.time() < _REGULAR_CLOSE,
            )
        )
    return _SessionTable(
        first_day=first_day,
        last_day=last_day,
        days=tuple(s.day for s in sessions),
        by_day={s.day: s for s in sessions},
    )


class SessionCalendar(Protocol):
    """What the daemon asks of a calendar: `ExchangeCalendar`, or the broker's own."""

    @property
    def name(self) -> str:
        """A short name for logs."""
        ...

    def session(self, day: date) -> TradingSession | None:
        """The session on `day`, or None when the market is closed all day."""
        ...

    def is_trading_day(self, day: date) -> bool:
        """Whether the market opens on `day`."""
        ...

    def next_session(self, after: date) -> TradingSession:
        """The first session strictly after `after`."""
        ...

    def previous_session(self, before: date) -> TradingSession:
        """The last session strictly before `before`."""
        ...

    def sessions_from(self, start: date, count: int) -> tuple[TradingSession, ...]:
        """`count` consecutive sessions, the first on or after `start`."""
        ...


class ExchangeCalendar:
    """Trading sessions of one exchange (XNYS by default) between `first_day` and `last_day`.

    Asking about a day outside that range raises ValueError rather than guessing "closed".
    """

    def __init__(
        self,
        name: str = "XNYS",
        *,
        first_day: date = DEFAULT_FIRST_DAY,
        last_day: date = DEFAULT_LAST_DAY,
    ) -> None:
        if first_day >= last_day:
            raise ValueError("first_day must be before last_day")
        self.name = name
        self._table = _load(name, first_day, last_day)

    def __repr__(self) -> str:
        return (
            f"ExchangeCalendar({self.name!r}, first_day={self._table.first_day}, "
            f"last_day={self._table.last_day})"
        )

    def session(self, day: date) -> TradingSession | None:
        """The session on `day`, or None when the exchange is closed all day."""
        self._check_in_range(day)
        return self._table.by_day.get(_as_date(day))

    def is_trading_day(self, day: date) -> bool:
        """Whether the exchange has a session on `day`."""
        return self.session(day) is not None

    def next_session(self, after: date) -> TradingSession:
        """The first session strictly after `after`."""
        self._check_in_range(after)
        index = bisect.bisect_right(self._table.days, _as_date(after))
        if index >= len(self._table.days):
            raise ValueError(f"no {self.name} session after {after} within the calendar range")
        return self._table.by_day[self._table.days[index]]

    def previous_session(self, before: date) -> TradingSession:
        """The last session strictly before `before`."""
        self._check_in_range(before)
        index = bisect.bisect_left(self._table.days, _as_date(before))
        if index == 0:
            raise ValueError(f"no {self.name} session before {before} within the calendar range")
        return self._table.by_day[self._table.days[index - 1]]

    def sessions_from(self, start: date, count: int) -> tuple[TradingSession, ...]:
        """Up to `count` sessions on or after `start`, in order (fewer at the range's end)."""
        self._check_in_range(start)
        index = bisect.bisect_left(self._table.days, _as_date(start))
        return tuple(self._table.by_day[d] for d in self._table.days[index : index + count])

    def _check_in_range(self, day: date) -> None:
        if not self._table.first_day <= _as_date(day) <= self._table.last_day:
            raise ValueError(
                f"{day} is outside the {self.name} calendar range "
                f"{self._table.first_day}..{self._table.last_day}"
            )


def _as_date(day: date) -> date:
    # A datetime is a date subclass; comparing one against dates would raise or mislead.
    if isinstance(day, datetime):
        raise TypeError(f"expected a date, got the datetime {day!r}; pass .date() explicitly")
    return day
