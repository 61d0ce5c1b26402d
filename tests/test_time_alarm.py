"""The interval loops' sleep (`Alarm`) and the clocks' interruptible naps under it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.clock import AcceleratedClock, RealClock, SimClock

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
HOUR = 3600.0


async def _within(awaitable: object, seconds: float = 5.0) -> object:
    """A real-time bound: a nap that never ends fails the test instead of hanging it."""
    return await asyncio.wait_for(awaitable, timeout=seconds)  # type: ignore[arg-type]


async def test_on_the_simulated_clock_a_sleep_moves_time_to_its_deadline() -> None:
    clock = SimClock(START)
    alarm = Alarm(clock, "test")

    async def sleeper() -> None:
        async with clock.participant():
            await alarm.sleep(90)

    await _within(asyncio.create_task(sleeper()))
    assert clock.now() == START + timedelta(seconds=90)


async def _hour_sleeper(clock: SimClock, alarm: Alarm, on_waking: Callable[[], None]) -> None:
    """A participant that sleeps an hour on `alarm`, then calls `on_waking`."""
    async with clock.participant():
        await alarm.sleep(HOUR)
        on_waking()


async def test_a_wake_ends_a_simulated_sleep_at_the_current_instant() -> None:
    clock = SimClock(START)
    alarm = Alarm(clock, "test")
    woke_at: list[datetime] = []

    async def waker() -> None:
        async with clock.participant():
            await clock.sleep(60)
            alarm.wake()

    sleeper = _hour_sleeper(clock, alarm, lambda: woke_at.append(clock.now()))
    await _within(asyncio.gather(sleeper, waker()))
    assert woke_at == [START + timedelta(seconds=60)]
    assert clock.pending_deadlines() == []  # the hour-long timer went with the wake


async def test_a_woken_sleeper_waits_for_its_turn_while_the_waker_works() -> None:
    clock = SimClock(START)
    alarm = Alarm(clock, "test")
    trace: list[str] = []

    async def waker() -> None:
        async with clock.participant():
            await clock.sleep(60)
            alarm.wake()
            trace.append("waker still working")
            await asyncio.sleep(0)  # a turn of the loop, not of the clock: still its turn
            trace.append("waker done")

    sleeper = _hour_sleeper(clock, alarm, lambda: trace.append("sleeper woke"))
    await _within(asyncio.gather(sleeper, waker()))
    assert trace == ["waker still working", "waker done", "sleeper woke"]


async def test_a_wake_while_busy_makes_only_the_next_sleep_return_at_once() -> None:
    clock = SimClock(START)
    alarm = Alarm(clock, "test")
    times: list[datetime] = []

    async def loop() -> None:
        async with clock.participant():
            alarm.wake()
            alarm.wake()  # several wakes count as one
            await alarm.sleep(HOUR)
            times.append(clock.now())
            await alarm.sleep(30)
            times.append(clock.now())

    await _within(asyncio.create_task(loop()))
    assert times == [START, START + timedelta(seconds=30)]


async def test_a_cancelled_simulated_sleep_leaves_no_timer_behind() -> None:
    clock = SimClock(START)
    alarm = Alarm(clock, "test")
    task = asyncio.create_task(alarm.sleep(HOUR))
    await asyncio.sleep(0)
    assert clock.pending_deadlines() == [START + timedelta(seconds=HOUR)]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert clock.pending_deadlines() == []
    alarm.wake()  # nothing to interrupt any more: harmless


async def test_on_the_wall_clock_a_wake_ends_a_long_sleep_at_once() -> None:
    alarm = Alarm(RealClock(), "test")
    sleeper = asyncio.create_task(alarm.sleep(HOUR))
    await asyncio.sleep(0.01)
    assert not sleeper.done()
    alarm.wake()
    await _within(sleeper)


async def test_on_the_wall_clock_an_unwoken_sleep_lasts_its_length() -> None:
    alarm = Alarm(RealClock(max_chunk_seconds=0.02), "test")
    started = time.monotonic()
    await _within(alarm.sleep(0.1))
    assert time.monotonic() - started >= 0.1


async def test_on_an_accelerated_clock_the_sleep_is_in_simulated_time() -> None:
    clock = AcceleratedClock(START, datetime.now(UTC), speed=3600.0)
    alarm = Alarm(clock, "test")
    before = clock.now()
    await _within(alarm.sleep(360))  # a tenth of a wall second
    assert clock.now() - before >= timedelta(seconds=360)
    sleeper = asyncio.create_task(alarm.sleep(HOUR * 24))
    await asyncio.sleep(0.01)
    alarm.wake()
    await _within(sleeper)
