"""Per-day plans across DST switches, holidays and early closes, against the real XNYS calendar.

Every row was checked against exchange_calendars 4.13 (XNYS): it agreed with each expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from catalyst.config.models import ScheduleConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.day_plan import plan_day

DEFAULT = ScheduleConfig()  # scans 09:15 09:30 10:30 12:00 13:30 15:00; cutoff 30; flatten 10
ALL_SCANS = ("09:15", "09:30", "10:30", "12:00", "13:30", "15:00")
HALF_DAY_SCANS = ("09:15", "09:30", "10:30", "12:00")


@pytest.fixture(scope="module")
def xnys() -> ExchangeCalendar:
    return ExchangeCalendar()


@dataclass(frozen=True)
class Day:
    """One row of the table: what the plan for `day` must say (times as UTC / ET wall clock)."""

    day: date
    why: str
    open_utc: str | None = None  # None: the market is closed all day
    close_utc: str | None = None
    scans_et: tuple[str, ...] = ()
    entry_cutoff_et: str | None = None
    flatten_et: str | None = None
    early_close: bool = False


TABLE = [
    Day(date(2026, 3, 6), "last Friday on EST", "14:30", "21:00", ALL_SCANS, "15:30", "15:50"),
    Day(date(2026, 3, 9), "Monday after DST start", "13:30", "20:00", ALL_SCANS, "15:30", "15:50"),
    Day(date(2026, 10, 30), "last Friday on EDT", "13:30", "20:00", ALL_SCANS, "15:30", "15:50"),
    Day(date(2026, 11, 2), "Monday after DST end", "14:30", "21:00", ALL_SCANS, "15:30", "15:50"),
    Day(date(2026, 11, 26), "Thanksgiving: closed"),
    Day(
        date(2026, 11, 27),
        "day after Thanksgiving: 13:00 close",
        "14:30",
        "18:00",
        HALF_DAY_SCANS,
        "12:30",
        "12:50",
        early_close=True,
    ),
    Day(
        date(2026, 12, 24),
        "Christmas Eve: 13:00 close",
        "14:30",
        "18:00",
        HALF_DAY_SCANS,
        "12:30",
        "12:50",
        early_close=True,
    ),
    Day(date(2026, 11, 28), "Saturday: closed"),
    Day(date(2026, 7, 3), "Independence Day observed: closed"),
]


def _utc(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=UTC)


def _et(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=EXCHANGE_TZ)


@pytest.mark.parametrize("row", TABLE, ids=[f"{r.day}-{r.why}" for r in TABLE])
def test_day_plan_matches_the_table(xnys: ExchangeCalendar, row: Day) -> None:
    session = xnys.session(row.day)
    if row.open_utc is None:
        assert session is None, row.why
        return
    assert session is not None, row.why
    assert row.close_utc is not None
    assert row.entry_cutoff_et is not None
    assert row.flatten_et is not None
    plan = plan_day(session, DEFAULT, scan_frequency_minutes=None)

    assert session.open == _utc(row.day, row.open_utc)
    assert session.close == _utc(row.day, row.close_utc)
    assert session.early_close is row.early_close
    assert plan.scan_times == tuple(_et(row.day, t) for t in row.scans_et)
    assert plan.entry_cutoff == _et(row.day, row.entry_cutoff_et)
    assert plan.flatten_at == _et(row.day, row.flatten_et)


def test_scan_times_carry_the_days_own_utc_offset(xnys: ExchangeCalendar) -> None:
    # 09:15 wall time is 14:15 UTC on EST and 13:15 UTC on EDT: never a fixed UTC time.
    est = xnys.session(date(2026, 3, 6))
    edt = xnys.session(date(2026, 3, 9))
    assert est is not None
    assert edt is not None
    assert plan_day(est, DEFAULT, scan_frequency_minutes=None).scan_times[0] == _utc(
        date(2026, 3, 6), "14:15"
    )
    assert plan_day(edt, DEFAULT, scan_frequency_minutes=None).scan_times[0] == _utc(
        date(2026, 3, 9), "13:15"
    )


def _session(day: date, close: str = "16:00") -> TradingSession:
    return TradingSession(
        day=day, open=_et(day, "09:30"), close=_et(day, close), early_close=close != "16:00"
    )


def test_a_scan_exactly_at_the_close_is_dropped() -> None:
    schedule = ScheduleConfig(scan_times=(time(12, 0), time(13, 0)))
    plan = plan_day(
        _session(date(2026, 11, 27), close="13:00"), schedule, scan_frequency_minutes=None
    )
    assert plan.scan_times == (_et(date(2026, 11, 27), "12:00"),)


def test_premarket_scan_times_are_kept() -> None:
    plan = plan_day(_session(date(2026, 3, 10)), DEFAULT, scan_frequency_minutes=None)
    assert plan.scan_times[0] == _et(date(2026, 3, 10), "09:15")
    assert plan.is_premarket(plan.scan_times[0])


def test_minutes_before_close_come_from_the_schedule() -> None:
    schedule = ScheduleConfig(entry_cutoff_minutes_before_close=0, flatten_minutes_before_close=1)
    plan = plan_day(_session(date(2026, 3, 10)), schedule, scan_frequency_minutes=None)
    assert plan.entry_cutoff == _et(date(2026, 3, 10), "16:00")
    assert plan.flatten_at == _et(date(2026, 3, 10), "15:59")


@pytest.mark.parametrize(
    ("wall_time", "allowed", "premarket"),
    [
        ("09:29:59", False, True),
        ("09:30", True, False),
        ("15:29:59", True, False),
        ("15:30", False, False),  # the entry cutoff itself is too late
        ("16:00", False, False),
        ("17:00", False, False),
    ],
)
def test_entries_allowed_from_the_open_until_the_cutoff(
    wall_time: str, allowed: bool, premarket: bool
) -> None:
    plan = plan_day(_session(date(2026, 3, 10)), DEFAULT, scan_frequency_minutes=None)
    when = _et(date(2026, 3, 10), wall_time)
    assert plan.entries_allowed_at(when) is allowed
    assert plan.is_premarket(when) is premarket
    # The same instant written in UTC gives the same answers.
    assert plan.entries_allowed_at(when.astimezone(UTC)) is allowed


def test_early_close_moves_the_entry_cutoff_with_the_close() -> None:
    plan = plan_day(
        _session(date(2026, 11, 27), close="13:00"), DEFAULT, scan_frequency_minutes=None
    )
    assert plan.entries_allowed_at(_et(date(2026, 11, 27), "12:29"))
    assert not plan.entries_allowed_at(_et(date(2026, 11, 27), "12:30"))
    assert not plan.entries_allowed_at(_et(date(2026, 11, 27), "15:00"))


def test_a_timezone_aware_scan_time_is_refused() -> None:
    # The pytz trap: a zone stuck on a bare time. Config validation refuses it too; this is the
    # second line of defence for a schedule built without validation.
    schedule = ScheduleConfig.model_construct(scan_times=(time(9, 15, tzinfo=UTC),))
    with pytest.raises(ValueError, match="naive exchange-local"):
        plan_day(_session(date(2026, 3, 10)), schedule, scan_frequency_minutes=None)


def test_plan_times_are_in_the_exchange_zone() -> None:
    plan = plan_day(_session(date(2026, 3, 10)), DEFAULT, scan_frequency_minutes=None)
    for when in (*plan.scan_times, plan.entry_cutoff, plan.flatten_at):
        assert when.tzinfo == EXCHANGE_TZ
    assert plan.flatten_at - plan.entry_cutoff == timedelta(minutes=20)


# Scan frequency: interval scans from the first scan time at or after the open up to (not
# including) the entry cutoff, merged with the fixed scan times. Regular day: close 16:00,
# cutoff 15:30; early close: close 13:00, cutoff 12:30.
FREQUENCY_TABLE = [
    ("off: the scan times only", None, ALL_SCANS, "16:00", " ".join(ALL_SCANS)),
    (
        "seed: every 30 minutes",
        30,
        ALL_SCANS,
        "16:00",
        "09:15 09:30 10:00 10:30 11:00 11:30 12:00 12:30 13:00 13:30 14:00 14:30 15:00",
    ),
    ("seed on an early close", 30, ALL_SCANS, "13:00", "09:15 09:30 10:00 10:30 11:00 11:30 12:00"),
    (
        "grid anchored at the first regular-session scan, not the clock",
        45,
        ("09:15", "09:40", "15:00"),
        "16:00",
        "09:15 09:40 10:25 11:10 11:55 12:40 13:25 14:10 14:55 15:00",
    ),
    (
        "only pre-market scan times: grid from the open",
        120,
        ("09:00",),
        "16:00",
        "09:00 09:30 11:30 13:30",
    ),
    ("interval longer than the day adds only the anchor", 390, ("10:00",), "16:00", "10:00"),
    (
        "a fixed scan after the cutoff is kept",
        60,
        ("09:30", "15:45"),
        "16:00",
        "09:30 10:30 11:30 12:30 13:30 14:30 15:45",
    ),
]


@pytest.mark.parametrize(
    ("why", "minutes", "scan_times", "close", "expected"),
    FREQUENCY_TABLE,
    ids=[row[0] for row in FREQUENCY_TABLE],
)
def test_scan_frequency_adds_interval_scans_up_to_the_entry_cutoff(
    why: str, minutes: int | None, scan_times: tuple[str, ...], close: str, expected: str
) -> None:
    day = date(2026, 3, 10)
    schedule = ScheduleConfig(scan_times=tuple(time.fromisoformat(t) for t in scan_times))

    plan = plan_day(_session(day, close=close), schedule, scan_frequency_minutes=minutes)

    assert plan.scan_times == tuple(_et(day, t) for t in expected.split()), why
    assert all(when.tzinfo == EXCHANGE_TZ for when in plan.scan_times)


def test_scan_frequency_keeps_the_days_own_utc_offset_across_dst(xnys: ExchangeCalendar) -> None:
    edt = xnys.session(date(2026, 3, 9))  # the Monday after the switch to daylight time
    assert edt is not None

    plan = plan_day(edt, DEFAULT, scan_frequency_minutes=30)

    assert plan.scan_times[2] == _utc(date(2026, 3, 9), "14:00")  # 10:00 EDT
