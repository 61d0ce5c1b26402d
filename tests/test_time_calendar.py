"""The exchange calendar: sessions, holidays, early closes and DST, checked against XNYS."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.timekeeping.calendar import ExchangeCalendar


@pytest.fixture(scope="module")
def xnys() -> ExchangeCalendar:
    return ExchangeCalendar()


def _et(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=EXCHANGE_TZ)


def test_regular_session_opens_0930_and_closes_1600_exchange_time(
    xnys: ExchangeCalendar,
) -> None:
    session = xnys.session(date(2026, 3, 10))
    assert session is not None
    assert session.day == date(2026, 3, 10)
    assert session.open == _et(date(2026, 3, 10), 9, 30)
    assert session.close == _et(date(2026, 3, 10), 16)
    assert session.open.tzinfo is EXCHANGE_TZ
    assert not session.early_close


def test_session_times_follow_dst_in_utc(xnys: ExchangeCalendar) -> None:
    before = xnys.session(date(2026, 3, 6))
    after = xnys.session(date(2026, 3, 9))
    assert before is not None
    assert after is not None
    assert before.open.utcoffset() == timedelta(hours=-5)
    assert after.open.utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2026, 11, 26), "Thanksgiving"),
        (date(2026, 7, 3), "Independence Day observed (July 4 is a Saturday)"),
        (date(2026, 12, 25), "Christmas"),
        (date(2026, 11, 28), "Saturday"),
        (date(2026, 11, 29), "Sunday"),
    ],
)
def test_closed_days_have_no_session(xnys: ExchangeCalendar, day: date, why: str) -> None:
    assert xnys.session(day) is None, why
    assert not xnys.is_trading_day(day)


@pytest.mark.parametrize("day", [date(2026, 11, 27), date(2026, 12, 24)])
def test_half_days_close_at_1300_and_are_flagged_early(xnys: ExchangeCalendar, day: date) -> None:
    session = xnys.session(day)
    assert session is not None
    assert session.close == _et(day, 13)
    assert session.early_close


def test_next_session_skips_weekend_and_holiday(xnys: ExchangeCalendar) -> None:
    # Wed 2026-11-25 -> Thu Thanksgiving closed -> Fri 2026-11-27 half day.
    assert xnys.next_session(date(2026, 11, 25)).day == date(2026, 11, 27)
    # Fri -> weekend -> Mon.
    assert xnys.next_session(date(2026, 11, 27)).day == date(2026, 11, 30)


def test_next_session_is_strictly_after_even_on_a_trading_day(xnys: ExchangeCalendar) -> None:
    assert xnys.next_session(date(2026, 3, 9)).day == date(2026, 3, 10)


def test_previous_session_is_strictly_before(xnys: ExchangeCalendar) -> None:
    assert xnys.previous_session(date(2026, 3, 10)).day == date(2026, 3, 9)
    assert xnys.previous_session(date(2026, 3, 9)).day == date(2026, 3, 6)
    assert xnys.previous_session(date(2026, 7, 6)).day == date(2026, 7, 2)


def test_sessions_from_includes_the_start_day_when_it_trades(xnys: ExchangeCalendar) -> None:
    days = [s.day for s in xnys.sessions_from(date(2026, 11, 25), 3)]
    assert days == [date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)]


def test_days_outside_the_range_are_refused_not_called_closed(xnys: ExchangeCalendar) -> None:
    with pytest.raises(ValueError, match="outside"):
        xnys.session(date(2031, 6, 2))
    with pytest.raises(ValueError, match="outside"):
        xnys.is_trading_day(date(2019, 6, 3))


def test_next_session_past_the_last_session_is_an_error(xnys: ExchangeCalendar) -> None:
    with pytest.raises(ValueError, match="no XNYS session after"):
        xnys.next_session(date(2030, 12, 31))


def test_a_datetime_is_refused_where_a_date_is_expected(xnys: ExchangeCalendar) -> None:
    with pytest.raises(TypeError, match="expected a date"):
        xnys.session(_et(date(2026, 3, 9), 9, 30))


def test_calendar_is_built_once_per_name_and_range() -> None:
    first = ExchangeCalendar("XNYS")
    second = ExchangeCalendar("XNYS")
    assert first._table is second._table


def test_every_session_in_range_opens_before_it_closes_on_its_own_day(
    xnys: ExchangeCalendar,
) -> None:
    sessions = xnys.sessions_from(date(2020, 1, 1), 10_000)
    assert len(sessions) > 2500
    for session in sessions:
        assert session.open < session.close
        assert session.open.date() == session.day == session.close.date()
        assert session.open.time() == time(9, 30)
        assert session.close.time() in (time(13), time(16))
        assert session.early_close == (session.close.time() == time(13))
