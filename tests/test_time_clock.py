"""The wall clock and the simulated clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalyst.ports import Clock
from catalyst.timekeeping.clock import RealClock, SimClock

T = TypeVar("T")

START = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


async def _within(awaitable: Awaitable[T], seconds: float = 5.0) -> T:
    """Await with a real-time bound so a clock deadlock fails the test instead of hanging it."""
    return await asyncio.wait_for(awaitable, timeout=seconds)


async def _let_loop_run(rounds: int = 50) -> None:
    """Give the event loop many iterations: enough for the clock to advance if it were going to."""
    for _ in range(rounds):
        await asyncio.sleep(0)


# --- RealClock ---------------------------------------------------------------------------------


def test_real_clock_now_is_aware_utc() -> None:
    now = RealClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


async def test_real_clock_sleep_until_never_returns_before_the_deadline() -> None:
    clock = RealClock()
    deadline = clock.now() + timedelta(milliseconds=30)
    await clock.sleep_until(deadline)
    assert clock.now() >= deadline


def test_real_clock_sleep_until_a_past_instant_returns_at_once() -> None:
    clock = RealClock()
    sleeping = clock.sleep_until(clock.now() - timedelta(hours=1))
    # Driven by hand: it finishes on its first step, without ever waiting on the event loop.
    with pytest.raises(StopIteration):
        sleeping.send(None)


class _SteppedBackWallClock(RealClock):
    """A RealClock whose wall time is stepped back (as NTP might) after the first reading."""

    def __init__(self, step_back: timedelta) -> None:
        super().__init__()
        self._step_back = step_back
        self.reads = 0

    def now(self) -> datetime:
        self.reads += 1
        real = super().now()
        return real if self.reads == 1 else real - self._step_back


async def test_real_clock_sleep_until_rechecks_the_wall_clock_after_waking() -> None:
    clock = _SteppedBackWallClock(step_back=timedelta(milliseconds=40))
    deadline = clock.now() + timedelta(milliseconds=20)
    started = time.perf_counter()
    await clock.sleep_until(deadline)
    # The first 20 ms sleep woke with the wall clock still ~40 ms short, so it slept again.
    assert clock.now() >= deadline
    assert time.perf_counter() - started >= 0.055
    assert clock.reads >= 3


async def test_real_clock_participant_and_idle_are_harmless_no_ops() -> None:
    clock = RealClock()
    async with clock.participant(), clock.participant(), clock.idle():
        deadline = clock.now() + timedelta(milliseconds=5)
        await clock.sleep_until(deadline)
    assert clock.now() >= deadline


def test_both_clocks_satisfy_the_clock_port() -> None:
    def accepts(clock: Clock) -> datetime:
        return clock.now()

    assert accepts(RealClock()).tzinfo is not None
    assert accepts(SimClock(START)) == START


def test_real_clock_rejects_a_naive_deadline() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(RealClock().sleep_until(datetime(2026, 1, 1)))


# --- SimClock: manual advancing ----------------------------------------------------------------


def test_sim_clock_starts_where_told_in_utc() -> None:
    eastern = START.astimezone(ZoneInfo("America/New_York"))
    now = SimClock(eastern).now()
    assert now == START
    assert now.utcoffset() == timedelta(0)


def test_sim_clock_rejects_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(datetime(2026, 3, 9, 9, 30))


def test_advance_to_refuses_to_go_backwards() -> None:
    clock = SimClock(START)
    with pytest.raises(ValueError, match="back"):
        clock.advance_to(START - timedelta(seconds=1))
    assert clock.now() == START


async def test_advance_to_wakes_due_sleepers_in_deadline_order_and_returns_them() -> None:
    clock = SimClock(START)
    woken: list[int] = []

    async def sleeper(seconds: int) -> None:
        await clock.sleep(seconds)
        woken.append(seconds)

    # Not participants and no awaits in between: the manual advance is the only thing moving time,
    # so keep the automatic driver from firing first by registering a busy participant.
    release = asyncio.Event()

    async def busy() -> None:
        async with clock.participant():
            await release.wait()

    holder = asyncio.create_task(busy())
    tasks = [asyncio.create_task(sleeper(s)) for s in (30, 10, 20, 40)]
    await _let_loop_run()
    assert clock.now() == START  # the busy participant holds time still

    fired = clock.advance_to(START + timedelta(seconds=30))
    assert fired == [START + timedelta(seconds=s) for s in (10, 20, 30)]
    assert clock.now() == START + timedelta(seconds=30)
    await _let_loop_run()
    assert woken == [10, 20, 30]
    assert clock.pending_deadlines() == [START + timedelta(seconds=40)]

    release.set()
    await _within(asyncio.gather(holder, *tasks))
    assert woken == [10, 20, 30, 40]


# --- SimClock: automatic advancing -------------------------------------------------------------


async def test_sleep_with_no_participants_advances_at_once() -> None:
    clock = SimClock(START)
    await _within(clock.sleep(3600))  # an hour of simulated time, not of the wall clock
    assert clock.now() == START + timedelta(hours=1)


async def test_sleepers_without_participants_wake_one_after_another() -> None:
    clock = SimClock(START)
    woke_at: list[datetime] = []

    async def sleeper(seconds: int) -> None:
        await clock.sleep(seconds)
        woke_at.append(clock.now())

    await _within(asyncio.gather(sleeper(20), sleeper(10), sleeper(30)))
    assert woke_at == [START + timedelta(seconds=s) for s in (10, 20, 30)]


async def test_sleep_until_a_past_instant_returns_without_moving_time() -> None:
    clock = SimClock(START)
    await clock.sleep_until(START - timedelta(minutes=5))
    await clock.sleep(0)
    assert clock.now() == START


async def test_participants_wake_in_deadline_order_each_exactly_at_its_deadline() -> None:
    clock = SimClock(START)
    seen: list[tuple[str, datetime]] = []

    async def run(name: str, seconds: float) -> None:
        async with clock.participant():
            await clock.sleep(seconds)
            seen.append((name, clock.now()))

    await _within(asyncio.gather(run("c", 30), run("a", 10), run("b", 20)))
    assert seen == [
        ("a", START + timedelta(seconds=10)),
        ("b", START + timedelta(seconds=20)),
        ("c", START + timedelta(seconds=30)),
    ]


async def test_same_deadline_wakes_participants_in_registration_order() -> None:
    clock = SimClock(START)
    order: list[str] = []
    registered: list[str] = []

    async def run(name: str, warmup_seconds: float) -> None:
        async with clock.participant():
            registered.append(name)
            # Reach the shared deadline by different routes so arrival order differs.
            await clock.sleep(warmup_seconds)
            await clock.sleep_until(START + timedelta(seconds=60))
            order.append(name)

    await _within(asyncio.gather(run("first", 50), run("second", 10), run("third", 30)))
    assert registered == ["first", "second", "third"]
    assert order == ["first", "second", "third"]


# --- SimClock: participants take turns (what makes a simulated day repeat exactly) -------------


async def test_participants_due_at_the_same_instant_never_interleave_their_work() -> None:
    clock = SimClock(START)
    log: list[str] = []
    gates = {"a": asyncio.Event(), "b": asyncio.Event()}

    async def worker(name: str) -> None:
        async with clock.participant():
            await clock.sleep(10)
            log.append(f"{name} starts")
            await gates[name].wait()  # e.g. a database call that takes a while
            log.append(f"{name} ends")
            await clock.sleep(10)

    tasks = [asyncio.create_task(worker(name)) for name in ("a", "b")]
    await _let_loop_run(200)
    assert log == ["a starts"]  # b is due too, but waits until a blocks on the clock again

    gates["b"].set()  # b's "database" answering first changes nothing
    await _let_loop_run(200)
    assert log == ["a starts"]

    gates["a"].set()
    await _within(asyncio.gather(*tasks))
    assert log == ["a starts", "a ends", "b starts", "b ends"]


async def test_leaving_idle_waits_until_the_participant_that_woke_it_blocks() -> None:
    clock = SimClock(START)
    log: list[tuple[str, datetime]] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    journal_write = asyncio.Event()

    async def producer() -> None:  # a scan placing an order, say
        async with clock.participant():
            await clock.sleep(10)
            queue.put_nowait("fill")
            log.append(("order sent", clock.now()))
            await journal_write.wait()  # still busy: its acknowledgement is being journaled
            log.append(("acknowledgement journaled", clock.now()))
            await clock.sleep(60)

    async def consumer() -> None:  # the order-event recorder
        async with clock.participant():
            async with clock.idle():
                event = await queue.get()
            log.append((f"{event} journaled", clock.now()))

    tasks = [asyncio.create_task(producer()), asyncio.create_task(consumer())]
    await _let_loop_run(200)
    assert [what for what, _ in log] == ["order sent"]

    journal_write.set()
    await _within(asyncio.gather(*tasks))
    ten = START + timedelta(seconds=10)
    assert log == [
        ("order sent", ten),
        ("acknowledgement journaled", ten),
        ("fill journaled", ten),  # after the producer blocked, and before time moved on
    ]


async def test_a_participant_started_by_a_busy_one_waits_for_its_turn() -> None:
    clock = SimClock(START)
    log: list[str] = []
    gate = asyncio.Event()

    async def child() -> None:
        async with clock.participant():
            log.append("child works")

    async def parent() -> None:
        async with clock.participant():
            task = asyncio.create_task(child())
            await gate.wait()
            log.append("parent done")
            async with clock.idle():
                await task

    running = asyncio.create_task(parent())
    await _let_loop_run(200)
    assert log == []
    gate.set()
    await _within(running)
    assert log == ["parent done", "child works"]


async def test_turns_at_one_instant_follow_registration_order_not_wake_order() -> None:
    clock = SimClock(START)
    log: list[str] = []
    events = {"first": asyncio.Event(), "second": asyncio.Event()}

    async def waiter(name: str) -> None:
        async with clock.participant():
            async with clock.idle():
                await events[name].wait()
            log.append(name)

    async def waker() -> None:
        async with clock.participant():
            await clock.sleep(10)
            events["second"].set()
            events["first"].set()

    await _within(asyncio.gather(waiter("first"), waiter("second"), waker()))
    assert log == ["first", "second"]


async def test_participant_waiting_on_an_event_holds_time_still() -> None:
    clock = SimClock(START)
    gate = asyncio.Event()
    woke_at: list[datetime] = []

    async def sleeper() -> None:
        async with clock.participant():
            await clock.sleep(10)
            woke_at.append(clock.now())

    async def waiter() -> None:
        async with clock.participant():
            await gate.wait()  # e.g. a database call: not a clock sleep
            await clock.sleep(5)

    tasks = [asyncio.create_task(sleeper()), asyncio.create_task(waiter())]
    await _let_loop_run(200)
    assert clock.now() == START
    assert woke_at == []

    gate.set()
    await _within(asyncio.gather(*tasks))
    assert woke_at == [START + timedelta(seconds=10)]
    assert clock.now() == START + timedelta(seconds=10)


async def test_participant_in_a_thread_call_holds_time_until_it_returns() -> None:
    clock = SimClock(START)
    observed: list[datetime] = []

    async def ticker() -> None:
        async with clock.participant():
            for _ in range(3):
                await clock.sleep(1)

    async def db_worker() -> None:
        async with clock.participant():
            # Real blocking I/O in a thread, long compared with the clock's quiet rounds.
            await asyncio.to_thread(time.sleep, 0.05)
            observed.append(clock.now())
            await clock.sleep(10)

    await _within(asyncio.gather(ticker(), db_worker()))
    assert observed == [START]
    assert clock.now() == START + timedelta(seconds=10)


async def test_idle_participant_does_not_hold_time() -> None:
    clock = SimClock(START)
    queue: asyncio.Queue[datetime] = asyncio.Queue()
    received: list[tuple[datetime, datetime]] = []

    async def producer() -> None:
        async with clock.participant():
            for _ in range(3):
                await clock.sleep(60)
                queue.put_nowait(clock.now())

    async def consumer() -> None:
        async with clock.participant():
            for _ in range(3):
                async with clock.idle():
                    stamp = await queue.get()
                # Busy again: time must not move while the item is handled.
                await asyncio.to_thread(time.sleep, 0.01)
                received.append((stamp, clock.now()))

    await _within(asyncio.gather(producer(), consumer()))
    assert [stamp for stamp, _ in received] == [
        START + timedelta(seconds=60 * k) for k in (1, 2, 3)
    ]
    assert all(stamp == handled_at for stamp, handled_at in received)


async def test_non_participant_sleeper_wakes_when_time_reaches_it() -> None:
    clock = SimClock(START)

    async def day() -> None:
        async with clock.participant():
            for _ in range(10):
                await clock.sleep(60)

    task = asyncio.create_task(day())
    await _within(clock.sleep_until(START + timedelta(minutes=5)))
    assert clock.now() == START + timedelta(minutes=5)
    await _within(task)
    assert clock.now() == START + timedelta(minutes=10)


async def test_task_created_just_before_a_sleep_registers_before_time_moves() -> None:
    clock = SimClock(START)
    first_seen: list[datetime] = []

    async def late_starter() -> None:
        async with clock.participant():
            first_seen.append(clock.now())
            await clock.sleep(1)

    async def main_participant() -> None:
        async with clock.participant():
            asyncio.create_task(late_starter())  # noqa: RUF006 - awaited via the clock below
            await clock.sleep(100)

    await _within(main_participant())
    assert first_seen == [START]


async def test_cancelling_a_sleeping_task_removes_its_timer() -> None:
    clock = SimClock(START)
    gate = asyncio.Event()

    async def sleeper() -> None:
        async with clock.participant():
            await clock.sleep(10)

    async def holder() -> None:
        async with clock.participant():
            await gate.wait()

    # The sleeper registers first, so it takes its turn (and goes to sleep) before the holder's.
    doomed = asyncio.create_task(sleeper())
    held = asyncio.create_task(holder())
    await _let_loop_run()
    assert clock.pending_deadlines() == [START + timedelta(seconds=10)]

    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert clock.pending_deadlines() == []

    gate.set()
    await _within(held)
    # Nothing fired the cancelled timer: time stayed put, and later sleeps still work.
    assert clock.now() == START
    await clock.sleep(5)
    assert clock.now() == START + timedelta(seconds=5)


async def test_cancelled_sleeper_does_not_block_other_participants() -> None:
    clock = SimClock(START)

    async def long_sleeper() -> None:
        async with clock.participant():
            await clock.sleep(3600)

    async def short_sleeper() -> None:
        async with clock.participant():
            await clock.sleep(1)

    long_task = asyncio.create_task(long_sleeper())
    short_task = asyncio.create_task(short_sleeper())
    await _within(short_task)
    long_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long_task
    assert clock.now() == START + timedelta(seconds=1)
    assert clock.pending_deadlines() == []


async def test_nested_participant_registration_is_safe() -> None:
    clock = SimClock(START)
    gate = asyncio.Event()

    async def nested() -> None:
        async with clock.participant():
            async with clock.participant():
                await clock.sleep(1)
            # Still a participant after the inner block: waiting on the gate holds time.
            await gate.wait()

    async def other() -> None:
        async with clock.participant():
            await clock.sleep(10)

    tasks = [asyncio.create_task(nested()), asyncio.create_task(other())]
    await _let_loop_run(200)
    assert clock.now() == START + timedelta(seconds=1)
    gate.set()
    await _within(asyncio.gather(*tasks))
    assert clock.now() == START + timedelta(seconds=10)


def test_participant_outside_a_task_is_an_error() -> None:
    clock = SimClock(START)
    entering = clock.participant().__aenter__()
    with pytest.raises(RuntimeError, match="inside an asyncio task"):
        entering.send(None)  # driven by hand: no event loop, no task


async def test_a_trading_day_of_five_second_sleeps_wakes_every_sleeper_every_time() -> None:
    clock = SimClock(START)
    close = START + timedelta(hours=6, minutes=30)
    wakes: list[int] = [0, 0]

    async def loop(index: int) -> None:
        async with clock.participant():
            while clock.now() < close:
                await clock.sleep(5)
                wakes[index] += 1

    # How fast it runs is bench/simulated_day.py's to say; here only a bound against a hang.
    await _within(asyncio.gather(loop(0), loop(1)), seconds=60.0)
    assert clock.now() == close
    assert wakes == [6.5 * 3600 / 5] * 2


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=6),
        min_size=1,
        max_size=5,
    )
)
def test_every_participant_wakes_exactly_at_its_deadline_in_time_order(
    plans: list[list[int]],
) -> None:
    clock = SimClock(START)
    wakes: list[tuple[datetime, datetime]] = []  # (deadline, now at wake)

    async def participant(durations: list[int]) -> None:
        async with clock.participant():
            for seconds in durations:
                deadline = clock.now() + timedelta(seconds=seconds)
                await clock.sleep(seconds)
                wakes.append((deadline, clock.now()))

    async def main() -> None:
        await _within(asyncio.gather(*(participant(durations) for durations in plans)))

    asyncio.run(main())
    assert all(deadline == woke_at for deadline, woke_at in wakes)
    times = [woke_at for _, woke_at in wakes]
    assert times == sorted(times)
    assert clock.now() == max(START + timedelta(seconds=sum(d)) for d in plans)
