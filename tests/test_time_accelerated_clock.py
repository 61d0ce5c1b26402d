"""The accelerated clock: simulated time on a wall-clock anchor, shared by several processes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.ports import Clock
from catalyst.timekeeping.clock import AcceleratedClock, RealClock, parse_clock_spec

SIM_START = datetime(2026, 11, 24, 9, 25, tzinfo=EXCHANGE_TZ)


def _anchored_now(speed: float) -> AcceleratedClock:
    return AcceleratedClock(SIM_START, RealClock().now(), speed)


def test_accelerated_clock_is_a_clock() -> None:
    clock: Clock = _anchored_now(10)
    assert clock.now().tzinfo is not None


def test_accelerated_clock_starts_at_sim_start_when_the_wall_reads_the_anchor() -> None:
    clock = _anchored_now(60)
    assert timedelta(0) <= clock.now() - SIM_START < timedelta(seconds=60)
    assert clock.now().utcoffset() == timedelta(0)


def test_accelerated_clock_runs_speed_times_faster_than_the_wall() -> None:
    clock = _anchored_now(100)
    wall_before, sim_before = time.monotonic(), clock.now()
    time.sleep(0.2)
    wall_elapsed, sim_elapsed = time.monotonic() - wall_before, clock.now() - sim_before
    assert sim_elapsed.total_seconds() == pytest.approx(wall_elapsed * 100, rel=0.2)


def test_accelerated_clock_never_goes_backwards() -> None:
    clock = _anchored_now(1000)
    readings = [clock.now() for _ in range(2000)]
    assert readings == sorted(readings)


def test_two_clocks_on_the_same_anchor_agree() -> None:
    anchor = RealClock().now() - timedelta(seconds=3)
    first = AcceleratedClock(SIM_START, anchor, 60)
    second = parse_clock_spec(first.spec())
    gap = abs((first.now() - second.now()).total_seconds())
    assert gap < 60 * 0.1  # both read the same timeline, within 0.1 s of wall time
    assert first.now() - SIM_START >= timedelta(minutes=3)  # 3 wall seconds ran 3 minutes


async def test_sleep_waits_seconds_divided_by_speed() -> None:
    clock = _anchored_now(50)
    started = time.monotonic()
    await clock.sleep(10)  # 10 simulated seconds: 0.2 real seconds
    # Never early; and far from the 10 s an undivided sleep would take, even on a loaded box.
    assert 0.19 <= time.monotonic() - started < 5.0


async def test_sleep_until_never_returns_early() -> None:
    clock = _anchored_now(200)
    target = clock.now() + timedelta(seconds=30)
    await asyncio.wait_for(clock.sleep_until(target), timeout=5)
    assert clock.now() >= target


async def test_sleep_until_a_past_instant_returns_at_once() -> None:
    clock = _anchored_now(5)
    await asyncio.wait_for(clock.sleep_until(SIM_START - timedelta(hours=1)), timeout=1)


async def test_participant_and_idle_are_no_ops() -> None:
    # Accelerated time moves on its own: the blocks nest, never give the event loop a turn (as
    # SimClock's do), never hold the task up and never move the timeline.
    clock = _anchored_now(5)
    others_ran = False

    async def other() -> None:
        nonlocal others_ran
        others_ran = True

    task = asyncio.create_task(other())
    before, started = clock.now(), time.monotonic()
    async with clock.participant(), clock.idle(), clock.participant(), clock.idle():
        inside = clock.now()
    wall = time.monotonic() - started
    assert not others_ran
    assert wall < 0.5
    assert timedelta(0) <= inside - before <= timedelta(seconds=5 * (wall + 0.001))
    await task
    assert others_ran


@pytest.mark.parametrize(
    ("speed", "sim_start", "anchor"),
    [
        (0.0, SIM_START, datetime(2026, 1, 1, tzinfo=UTC)),
        (-1.0, SIM_START, datetime(2026, 1, 1, tzinfo=UTC)),
        (float("inf"), SIM_START, datetime(2026, 1, 1, tzinfo=UTC)),
        (float("nan"), SIM_START, datetime(2026, 1, 1, tzinfo=UTC)),
        (1.0, datetime(2026, 11, 24, 9, 25), datetime(2026, 1, 1, tzinfo=UTC)),
        (1.0, SIM_START, datetime(2026, 1, 1)),
    ],
)
def test_accelerated_clock_rejects_bad_parameters(
    speed: float, sim_start: datetime, anchor: datetime
) -> None:
    with pytest.raises(ValueError, match=r"speed|timezone-aware"):
        AcceleratedClock(sim_start, anchor, speed)


def test_parse_clock_spec_reads_start_anchor_and_speed() -> None:
    clock = parse_clock_spec("2026-11-24T09:25:00-05:00@2026-11-25T12:40:00+00:00x60")
    assert clock.sim_start == datetime(2026, 11, 24, 14, 25, tzinfo=UTC)
    assert clock.wall_anchor == datetime(2026, 11, 25, 12, 40, tzinfo=UTC)
    assert clock.speed == 60.0


def test_parse_clock_spec_round_trips_through_spec() -> None:
    clock = parse_clock_spec("2026-11-24T09:25:00.5-05:00@2026-11-25T12:40:00.25+00:00x2.5")
    again = parse_clock_spec(clock.spec())
    assert (again.sim_start, again.wall_anchor, again.speed) == (
        clock.sim_start,
        clock.wall_anchor,
        clock.speed,
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "SIM_START@WALL_ANCHORxSPEED"),
        ("2026-11-24T09:25:00-05:00", "SIM_START@WALL_ANCHORxSPEED"),
        ("@2026-11-25T12:40:00+00:00x60", "SIM_START@WALL_ANCHORxSPEED"),
        ("2026-11-24T09:25:00-05:00@2026-11-25T12:40:00+00:00", "xSPEED"),
        ("2026-11-24T09:25:00-05:00@x60", "xSPEED"),
        ("2026-11-24T09:25:00-05:00@2026-11-25T12:40:00+00:00xfast", "not a number"),
        ("2026-11-24T09:25:00-05:00@2026-11-25T12:40:00+00:00x0", "positive"),
        ("2026-11-24T09:25:00-05:00@2026-11-25T12:40:00+00:00x-3", "positive"),
        ("2026-11-24T09:25:00-05:00@2026-11-25T12:40:00+00:00xinf", "positive"),
        ("yesterday@2026-11-25T12:40:00+00:00x60", "SIM_START 'yesterday' is not an ISO"),
        ("2026-11-24T09:25:00-05:00@noonx60", "WALL_ANCHOR 'noon' is not an ISO"),
        ("2026-11-24T09:25:00@2026-11-25T12:40:00+00:00x60", "SIM_START .* needs a UTC offset"),
        ("2026-11-24T09:25:00-05:00@2026-11-25T12:40:00x60", "WALL_ANCHOR .* needs a UTC offset"),
    ],
)
def test_parse_clock_spec_rejects_malformed_specs_with_a_clear_message(
    spec: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_clock_spec(spec)
