"""When the end-of-day flatten is due, including after a restart late in the session."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from catalyst.config.models import ScheduleConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.tasks.end_of_day import next_flatten
from catalyst.timekeeping.calendar import ExchangeCalendar

CALENDAR = ExchangeCalendar()


def at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=EXCHANGE_TZ)


@pytest.mark.parametrize(
    ("now", "flatten_at"),
    [
        (at(date(2026, 11, 24), 8, 0), at(date(2026, 11, 24), 15, 50)),
        # restarted after the flatten time but before the close: flatten now (time in the past)
        (at(date(2026, 11, 24), 15, 55), at(date(2026, 11, 24), 15, 50)),
        # after the close: the next session, skipping Thanksgiving, to the 13:00 early close
        (at(date(2026, 11, 25), 16, 0), at(date(2026, 11, 27), 12, 50)),
        (at(date(2026, 11, 28), 12, 0), at(date(2026, 11, 30), 15, 50)),
    ],
)
def test_next_flatten_time(now: datetime, flatten_at: datetime) -> None:
    assert next_flatten(CALENDAR, ScheduleConfig(), now).flatten_at == flatten_at
