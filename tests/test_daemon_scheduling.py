"""Both schedule drivers after a restart: the catch-up scan first, then the trigger armed from the
start-up instant, so a scan falling due while the catch-up runs (or before APScheduler is armed)
is neither skipped nor run twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest

from catalyst.config.models import ScheduleConfig
from catalyst.daemon.scheduling import drive_simulated, drive_with_apscheduler
from catalyst.daemon.stopping import StopRequest
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock
from catalyst.timekeeping.day_plan import plan_day
from catalyst.timekeeping.triggers import SessionTimesTrigger

DAY = date(2026, 11, 24)
REARM_DEADLINE_SECONDS = 30.0  # generous: only a stalled loop takes this long


def _et(hhmm: str) -> datetime:
    return datetime.combine(DAY, time.fromisoformat(hhmm), tzinfo=EXCHANGE_TZ)


@pytest.fixture(scope="module")
def xnys() -> ExchangeCalendar:
    return ExchangeCalendar()


async def test_simulated_driver_runs_the_catch_up_then_every_scan_from_the_start_up_instant(
    xnys: ExchangeCalendar,
) -> None:
    clock = SimClock(_et("10:30:08"))
    trigger = SessionTimesTrigger(
        xnys, lambda s: plan_day(s, ScheduleConfig(), scan_frequency_minutes=None).scan_times
    )
    ran: list[tuple[datetime, datetime]] = []

    async def job(fire: datetime) -> None:
        ran.append((fire, clock.now()))
        if fire == _et("10:30"):
            await clock.sleep(2 * 3600)  # a catch-up that overruns the 12:00 scan

    await drive_simulated(
        trigger,
        job,
        clock,
        StopRequest(),
        _et("14:00"),
        start=_et("10:30:08"),
        catch_up=_et("10:30"),
    )

    assert [fire for fire, _ in ran] == [_et("10:30"), _et("12:00"), _et("13:30")]
    assert ran[1][1] == _et("12:30:08")  # late, after the catch-up, but not skipped


async def test_apscheduler_driver_runs_the_catch_up_then_a_scan_due_since_start_up(
    xnys: ExchangeCalendar,
) -> None:
    # APScheduler runs on the wall clock: the only wall-clock reads in these tests.
    now = datetime.now(UTC)
    start = now - timedelta(seconds=2)  # when the missed scans were decided
    due_in_between = now - timedelta(seconds=1)  # fell due before the scheduler was armed
    later = now + timedelta(hours=1)
    trigger = SessionTimesTrigger(xnys, lambda session: [due_in_between, later])
    stop = StopRequest()
    ran: list[datetime] = []

    async def job(fire: datetime) -> None:
        ran.append(fire)
        if len(ran) == 2:
            stop.request("test done")

    await asyncio.wait_for(
        drive_with_apscheduler(
            trigger, job, stop, start=start, catch_up=now - timedelta(minutes=3)
        ),
        timeout=30,
    )

    assert ran == [now - timedelta(minutes=3), due_in_between]


async def test_apscheduler_driver_rearmed_by_a_reload_fires_a_newly_added_earlier_scan(
    xnys: ExchangeCalendar,
) -> None:
    now = datetime.now(UTC)
    times = [now + timedelta(hours=1)]  # the start-up schedule: nothing due soon

    def times_for(_session: TradingSession) -> list[datetime]:
        return list(times)

    trigger = SessionTimesTrigger(xnys, times_for)
    fired: asyncio.Queue[datetime] = asyncio.Queue()

    async def job(fire_time: datetime) -> None:
        fired.put_nowait(fire_time)

    stop, rearm = StopRequest(), asyncio.Event()
    driver = asyncio.create_task(drive_with_apscheduler(trigger, job, stop, start=now, rearm=rearm))
    try:
        await asyncio.sleep(0)  # let the driver arm the scheduler with the start-up schedule
        soon = datetime.now(UTC) + timedelta(seconds=1)
        times.append(soon)  # a reload added a scan in a second
        rearm.set()

        fire_time = await asyncio.wait_for(fired.get(), REARM_DEADLINE_SECONDS)

        assert fire_time == soon
        assert not rearm.is_set(), "the driver consumed the re-arm request"
    finally:
        stop.request("test done")
        await asyncio.wait_for(driver, REARM_DEADLINE_SECONDS)
