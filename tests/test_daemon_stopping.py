"""The stop machinery in-process: a cancellation a task loses is sent again, start-up work is
abandoned at a stop, and the parts of the stop add up to the documented bound."""

from __future__ import annotations

import asyncio

import pytest

from catalyst.daemon import stopping
from catalyst.daemon.startup import StopDuringStartup
from catalyst.daemon.stopping import StopRequest, cancel_and_wait


async def _swallows_one_cancellation(swallowed: asyncio.Event) -> None:
    # What asyncio.wait_for does in Python 3.11 when a cancellation meets its result.
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        swallowed.set()
    await asyncio.sleep(3600)  # and the loop carries on as if no stop had been asked for


async def test_cancel_and_wait_ends_a_task_that_swallows_its_first_cancellation() -> None:
    swallowed = asyncio.Event()
    task = asyncio.create_task(_swallows_one_cancellation(swallowed), name="stubborn")
    await asyncio.sleep(0)

    left = await cancel_and_wait([task], seconds=5)

    assert left == set()
    assert swallowed.is_set()
    assert task.cancelled()


async def test_cancel_and_wait_gives_up_on_a_task_that_ignores_every_cancellation_in_time() -> None:
    released = False

    async def immortal() -> None:
        while not released:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(immortal(), name="immortal")
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()

    left = await cancel_and_wait([task], seconds=0.3)

    assert left == {task}
    assert loop.time() - started < 2
    released = True  # (the process-level deadline is what ends such a daemon)
    assert await cancel_and_wait([task], seconds=5) == set()


async def test_a_stop_during_start_up_work_abandons_it_and_raises() -> None:
    stop = StopRequest()
    started, finished = asyncio.Event(), asyncio.Event()

    async def start_up() -> str:
        started.set()
        await asyncio.sleep(3600)  # a broker that never answers
        finished.set()
        return "components"

    attempt = asyncio.create_task(stop.unless_requested(start_up()))
    await started.wait()
    stop.request("SIGTERM")

    with pytest.raises(StopDuringStartup):
        await asyncio.wait_for(attempt, 5)
    assert not finished.is_set()


async def test_start_up_work_that_finishes_returns_its_result_and_a_later_stop_is_seen() -> None:
    stop = StopRequest()
    armed: list[str] = []
    stop.on_request(lambda: armed.append("deadline"))

    assert await stop.unless_requested(asyncio.sleep(0, "components")) == "components"
    stop.request("SIGTERM")
    stop.request("SIGINT")  # a second signal changes nothing

    assert stop.requested
    assert stop.reason == "SIGTERM"
    assert armed == ["deadline"]
    with pytest.raises(StopDuringStartup):
        await stop.unless_requested(asyncio.sleep(3600))


def test_the_stop_bound_is_the_sum_of_its_parts_and_ten_seconds() -> None:
    parts = (
        stopping.DRAIN_SECONDS,
        stopping.CANCEL_SECONDS,
        stopping.JOURNAL_SECONDS,
        stopping.ALERT_DRAIN_SECONDS,
        stopping.CLOSE_SECONDS,
        stopping.EXIT_SECONDS,
    )
    assert sum(parts) == stopping.STOP_BOUND_SECONDS == 10.0
