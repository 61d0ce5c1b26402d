"""SessionTimesTrigger across weekends, holidays and early closes; accepted by APScheduler."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from catalyst.config.models import ScheduleConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.day_plan import plan_day
from catalyst.timekeeping.triggers import SessionTimesTrigger

SCHEDULE = ScheduleConfig()  # scans 09:15 09:30 10:30 12:00 13:30 15:00


@pytest.fixture(scope="module")
def xnys() -> ExchangeCalendar:
    return ExchangeCalendar()


@pytest.fixture(scope="module")
def scans(xnys: ExchangeCalendar) -> SessionTimesTrigger:
    return SessionTimesTrigger(
        xnys, lambda session: plan_day(session, SCHEDULE, scan_frequency_minutes=None).scan_times
    )


def _et(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=EXCHANGE_TZ)


def _fires(trigger: SessionTimesTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in [start, end), walking the trigger as a scheduler would."""
    fired: list[datetime] = []
    previous: datetime | None = None
    now = start
    while True:
        upcoming = trigger.get_next_fire_time(previous, now)
        if upcoming is None or upcoming >= end:
            return fired
        fired.append(upcoming)
        previous = now = upcoming


def test_before_the_premarket_scan_fires_at_0915_that_day(
    scans: SessionTimesTrigger,
) -> None:
    assert scans.get_next_fire_time(None, _et(date(2026, 3, 9), "04:00")) == _et(
        date(2026, 3, 9), "09:15"
    )


def test_a_time_equal_to_now_fires_unless_it_already_fired(scans: SessionTimesTrigger) -> None:
    at_open = _et(date(2026, 3, 9), "09:30")
    assert scans.get_next_fire_time(None, at_open) == at_open
    assert scans.get_next_fire_time(at_open, at_open) == _et(date(2026, 3, 9), "10:30")


def test_next_fire_is_at_or_after_now_even_when_previous_is_long_ago(
    scans: SessionTimesTrigger,
) -> None:
    long_ago = _et(date(2026, 3, 2), "09:15")
    now = _et(date(2026, 3, 9), "11:00")
    assert scans.get_next_fire_time(long_ago, now) == _et(date(2026, 3, 9), "12:00")


def test_friday_after_the_last_scan_fires_monday_premarket(scans: SessionTimesTrigger) -> None:
    friday_late = _et(date(2026, 11, 20), "15:00")
    assert scans.get_next_fire_time(friday_late, friday_late) == _et(date(2026, 11, 23), "09:15")


def test_weekend_now_fires_monday_premarket(scans: SessionTimesTrigger) -> None:
    saturday = _et(date(2026, 11, 21), "12:00")
    assert scans.get_next_fire_time(None, saturday) == _et(date(2026, 11, 23), "09:15")


def test_thanksgiving_week_skips_the_holiday_and_the_half_days_afternoon(
    scans: SessionTimesTrigger,
) -> None:
    fired = _fires(scans, _et(date(2026, 11, 25), "14:00"), _et(date(2026, 11, 30), "10:00"))
    assert fired == [
        _et(date(2026, 11, 25), "15:00"),
        # Thursday 26th: Thanksgiving, closed. Friday 27th: 13:00 close, so no 13:30 or 15:00.
        _et(date(2026, 11, 27), "09:15"),
        _et(date(2026, 11, 27), "09:30"),
        _et(date(2026, 11, 27), "10:30"),
        _et(date(2026, 11, 27), "12:00"),
        _et(date(2026, 11, 30), "09:15"),
        _et(date(2026, 11, 30), "09:30"),
    ]


def test_independence_day_observed_is_skipped(scans: SessionTimesTrigger) -> None:
    thursday_last = _et(date(2026, 7, 2), "15:00")
    assert scans.get_next_fire_time(thursday_last, thursday_last) == _et(date(2026, 7, 6), "09:15")


def test_fire_times_keep_their_wall_clock_across_the_dst_switch(
    scans: SessionTimesTrigger,
) -> None:
    fired = _fires(scans, _et(date(2026, 3, 6), "15:00"), _et(date(2026, 3, 9), "09:20"))
    assert fired == [_et(date(2026, 3, 6), "15:00"), _et(date(2026, 3, 9), "09:15")]
    assert [f.astimezone(UTC).hour for f in fired] == [20, 13]


def test_now_in_another_zone_means_the_same_instant(scans: SessionTimesTrigger) -> None:
    # 01:00 UTC on Tuesday is still Monday evening in New York: next is Tuesday 09:15 ET.
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    assert scans.get_next_fire_time(None, now) == _et(date(2026, 3, 10), "09:15")


def test_times_past_the_lookahead_are_not_found(xnys: ExchangeCalendar) -> None:
    far_day = date(2026, 6, 1)

    def only_on_far_day(session: TradingSession) -> Sequence[datetime]:
        return [session.open] if session.day == far_day else []

    near = SessionTimesTrigger(xnys, only_on_far_day, lookahead_sessions=15)
    wide = SessionTimesTrigger(xnys, only_on_far_day, lookahead_sessions=60)
    now = _et(date(2026, 3, 9), "08:00")
    assert near.get_next_fire_time(None, now) is None
    assert wide.get_next_fire_time(None, now) == _et(far_day, "09:30")


def test_no_times_at_all_finishes_the_trigger(xnys: ExchangeCalendar) -> None:
    never = SessionTimesTrigger(xnys, lambda session: ())
    assert never.get_next_fire_time(None, _et(date(2026, 3, 9), "08:00")) is None


def test_naive_times_are_refused(xnys: ExchangeCalendar, scans: SessionTimesTrigger) -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        scans.get_next_fire_time(None, datetime(2026, 3, 9, 8, 0))
    naive = SessionTimesTrigger(xnys, lambda s: [datetime.combine(s.day, time(10, 0))])
    with pytest.raises(ValueError, match="timezone-aware"):
        naive.get_next_fire_time(None, _et(date(2026, 3, 9), "08:00"))


def test_trigger_describes_itself(scans: SessionTimesTrigger) -> None:
    assert str(scans) == "session times on XNYS"
    assert "SessionTimesTrigger" in repr(scans)
    assert "XNYS" in repr(scans)


async def test_real_asyncio_scheduler_runs_a_job_on_the_trigger(xnys: ExchangeCalendar) -> None:
    # The only wall-clock read in these tests: APScheduler runs on real time.
    target = datetime.now(UTC) + timedelta(seconds=0.3)
    ran = asyncio.Event()
    seen_fire_times: list[datetime] = []

    async def job() -> None:
        ran.set()

    trigger = SessionTimesTrigger(xnys, lambda session: [target])
    scheduler = AsyncIOScheduler(timezone=EXCHANGE_TZ)
    job_handle = scheduler.add_job(job, trigger=trigger, id="probe", misfire_grace_time=30)
    scheduler.start()
    try:
        seen_fire_times.append(job_handle.next_run_time)
        await asyncio.wait_for(ran.wait(), timeout=5)
    finally:
        scheduler.shutdown(wait=False)
    assert seen_fire_times == [target]
    assert datetime.now(UTC) >= target
