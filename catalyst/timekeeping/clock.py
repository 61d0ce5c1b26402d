"""The clocks: the wall clock, a simulated clock that jumps to the next due timer, and an
accelerated clock (simulated time anchored to the wall clock, for multi-process rehearsals).

This is the only module in Catalyst that reads the wall clock. Everything else receives a `Clock`
(see `catalyst.ports`) and asks it for `now()` or to sleep.

`RealClock` sleeps in bounded chunks and re-reads the wall clock after each one, so a long sleep
never returns early: asyncio times sleeps on the monotonic clock, which drifts from wall time (NTP
steps, suspend) and may fire a hair early.

`SimClock` design
-----------------
Simulated time only moves forward, and only in two ways:

* `advance_to(when)`, by hand: every timer due at or before `when` fires, in deadline order, and the
  clock ends at `when` (a woken sleeper sees `now() >= ` its deadline, never less).
* automatically, driven by *participants*. A task becomes one with
  `async with clock.participant(): ...`. The clock moves only when every live participant is
  blocked in one of this clock's waits. A participant waiting on anything else (a database call in
  a thread, an `asyncio.Event`, another task) holds time still. Sleepers that are not participants
  (a test's main coroutine, say) never hold the clock, but are woken when time reaches their
  deadline. With no participants, a sleep advances time at once (after the same quiet rounds).

Participants take turns: at most one of them works at a time. Each time every participant is
blocked, the clock wakes exactly one waiter, the earliest by (deadline, order) where participants
come first, in registration order, then other sleepers in the order they went to sleep; the next
waiter is woken only once that one is blocked again. A participant that becomes ready for another
reason also waits for its turn first: on registering, and on leaving `idle()` (which is how it
waits on a queue or event fed by another participant), it queues a wait due *now*. So two
participants never run side by side, and the order of their work at one simulated instant is a
fixed function of who was registered first, never of which database thread happened to answer
first. That is what makes a simulated day a pure function of its seed, date and configuration.

The check is event-driven, not polled: entering or leaving a wait, registering or unregistering a
participant, or entering or leaving `idle()` restarts a countdown of `quiet_rounds` event-loop
iterations (a `loop.call_soon` chain). Only when the loop has been quiet that long, so that freshly
created tasks have started and registered and ready callbacks have run, does the clock look at its
participants.

`idle()` lets a participant wait on a queue or event without holding the clock (its producer is
usually another participant that needs time to move): `async with clock.idle(): item = await
queue.get()`. A participant that awaits child tasks (`gather`, `TaskGroup`) is not asleep either:
make the children participants and wrap the parent's wait in `idle()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# RealClock wakes at least this often during a long sleep to re-read the wall clock.
_DEFAULT_MAX_CHUNK_SECONDS = 30.0
# Event-loop iterations without a state change before SimClock may move time forward.
_DEFAULT_QUIET_ROUNDS = 4


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"clock deadlines must be timezone-aware, got naive {when!r}")


class WallNap:
    """An interruptible sleep on a clock whose time moves on its own (wall or accelerated).

    `real_seconds_left()` is re-read after every chunk, so the nap never ends before its deadline
    unless interrupted (asyncio times waits on the monotonic clock; see the module doc). The
    clocks' `sleep_until` is such a nap that nothing interrupts.
    """

    def __init__(self, real_seconds_left: Callable[[], float], max_chunk: float) -> None:
        self._left = real_seconds_left
        self._max_chunk = max_chunk
        self._interrupted = asyncio.Event()

    def interrupt(self) -> None:
        """End the sleep now (or make `wait()` return at once if it has not begun)."""
        self._interrupted.set()

    async def wait(self) -> None:
        """Sleep until the deadline or the interruption, whichever comes first."""
        while not self._interrupted.is_set():
            left = self._left()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, self._max_chunk)):
                    await self._interrupted.wait()


class RealClock:
    """The wall clock: `now()` is aware UTC; sleeps use the running event loop."""

    def __init__(self, *, max_chunk_seconds: float = _DEFAULT_MAX_CHUNK_SECONDS) -> None:
        if max_chunk_seconds <= 0:
            raise ValueError("max_chunk_seconds must be positive")
        self._max_chunk = max_chunk_seconds

    def now(self) -> datetime:
        """Current wall-clock instant, timezone-aware UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of real time (zero or negative just yields to the loop)."""
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, when: datetime) -> None:
        """Wait until the wall clock reads `when` or later; never returns before it."""
        await self.nap_until(when).wait()  # one that nothing interrupts

    def nap_until(self, when: datetime) -> WallNap:
        """A sleep until the wall clock reads `when`, which `interrupt()` ends early."""
        _require_aware(when)
        return WallNap(lambda: (when - self.now()).total_seconds(), self._max_chunk)

    def participant(self) -> AbstractAsyncContextManager[None]:
        """No-op: real time moves on its own. Present so code runs against either clock."""
        return nullcontext()

    def idle(self) -> AbstractAsyncContextManager[None]:
        """No-op: real time moves on its own. Present so code runs against either clock."""
        return nullcontext()


class AcceleratedClock:
    """Simulated time running `speed` times faster than the wall clock, on a shared anchor.

    now = sim_start + (wall_now - wall_anchor) x speed. The three parameters are explicit so that
    several processes given the same values (the daemon and the fake Alpaca server in a crash
    test or a rehearsal) read the same simulated instant at the same moment. Time moves on its
    own, as with `RealClock`; it is never driven by sleepers.
    """

    def __init__(
        self,
        sim_start: datetime,
        wall_anchor: datetime,
        speed: float,
        *,
        max_chunk_seconds: float = _DEFAULT_MAX_CHUNK_SECONDS,
    ) -> None:
        _require_aware(sim_start)
        _require_aware(wall_anchor)
        if not speed > 0 or speed == float("inf"):
            raise ValueError(f"speed must be a positive finite number, got {speed!r}")
        if max_chunk_seconds <= 0:
            raise ValueError("max_chunk_seconds must be positive")
        self.sim_start = sim_start.astimezone(UTC)
        self.wall_anchor = wall_anchor.astimezone(UTC)
        self.speed = speed
        self._max_chunk = max_chunk_seconds
        self._last: datetime | None = None

    def now(self) -> datetime:
        """Current simulated instant, timezone-aware UTC; never goes backwards in this process
        (a wall clock stepped back holds it still)."""
        scaled = self.sim_start + (datetime.now(UTC) - self.wall_anchor) * self.speed
        if self._last is None or scaled > self._last:
            self._last = scaled
        return self._last

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of simulated time (`seconds / speed` of real time)."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    async def sleep_until(self, when: datetime) -> None:
        """Wait until simulated time reads `when` or later; never returns before it."""
        await self.nap_until(when).wait()  # one that nothing interrupts

    def nap_until(self, when: datetime) -> WallNap:
        """A sleep until simulated time reads `when`, which `interrupt()` ends early."""
        _require_aware(when)
        return WallNap(lambda: (when - self.now()).total_seconds() / self.speed, self._max_chunk)

    def participant(self) -> AbstractAsyncContextManager[None]:
        """No-op: accelerated time moves on its own."""
        return nullcontext()

    def idle(self) -> AbstractAsyncContextManager[None]:
        """No-op: accelerated time moves on its own."""
        return nullcontext()

    def spec(self) -> str:
        """This clock as a `parse_clock_spec` string (to hand the same timeline to a process)."""
        return f"{self.sim_start.isoformat()}@{self.wall_anchor.isoformat()}x{self.speed!r}"


def parse_clock_spec(spec: str) -> AcceleratedClock:
    """Parse `SIM_START@WALL_ANCHORxSPEED` into an `AcceleratedClock`.

    Both instants are ISO 8601 with a UTC offset, e.g.
    `2026-11-24T09:25:00-05:00@2026-11-25T12:40:00+00:00x60`: simulated time starts at 09:25
    New York time on 24 November when the wall clock reads 12:40 UTC on the 25th, and runs 60
    times faster than real time. Raises ValueError naming what is wrong.
    """
    start_text, at, rest = spec.strip().partition("@")
    if not at or not start_text:
        raise ValueError(f"clock spec {spec!r} must read SIM_START@WALL_ANCHORxSPEED")
    anchor_text, times, speed_text = rest.rpartition("x")
    if not times or not anchor_text:
        raise ValueError(f"clock spec {spec!r} lacks the xSPEED suffix (e.g. x60)")
    sim_start = _parse_instant(start_text, "SIM_START", spec)
    wall_anchor = _parse_instant(anchor_text, "WALL_ANCHOR", spec)
    try:
        speed = float(speed_text)
    except ValueError:
        raise ValueError(f"clock spec {spec!r}: SPEED {speed_text!r} is not a number") from None
    if not speed > 0 or speed == float("inf"):
        raise ValueError(f"clock spec {spec!r}: SPEED must be a positive finite number")
    return AcceleratedClock(sim_start, wall_anchor, speed)


def _parse_instant(text: str, what: str, spec: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"clock spec {spec!r}: {what} {text!r} is not an ISO 8601 time") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"clock spec {spec!r}: {what} {text!r} needs a UTC offset")
    return when


@dataclass(slots=True)
class _Participant:
    rank: int  # registration order: breaks ties between timers due at the same instant
    depth: int = 1  # nested `participant()` blocks in the same task
    idle_depth: int = 0


@dataclass(slots=True, eq=False)  # identity: list membership means "this very timer"
class _Timer:
    deadline: datetime
    order: tuple[int, int, int]  # (participants first, participant rank or seq, seq)
    future: asyncio.Future[None]
    task: asyncio.Task[object] | None = field(default=None)

    @property
    def key(self) -> tuple[datetime, tuple[int, int, int]]:
        return (self.deadline, self.order)


class SimClock:
    """Simulated time that jumps to the next due timer (see the module docstring)."""

    def __init__(self, start: datetime, *, quiet_rounds: int = _DEFAULT_QUIET_ROUNDS) -> None:
        _require_aware(start)
        if quiet_rounds < 1:
            raise ValueError("quiet_rounds must be at least 1")
        self._now = start.astimezone(UTC)
        self._quiet_rounds = quiet_rounds
        self._timers: list[_Timer] = []
        self._participants: dict[asyncio.Task[object], _Participant] = {}
        self._ranks = itertools.count()
        self._seqs = itertools.count()
        # The pending countdown, if any: its loop and how many quiet rounds it still needs.
        self._countdown_loop: asyncio.AbstractEventLoop | None = None
        self._rounds_left = 0

    def now(self) -> datetime:
        """Current simulated instant, timezone-aware UTC."""
        return self._now

    def pending_deadlines(self) -> list[datetime]:
        """Deadlines of every sleeper still waiting, in the order they will fire."""
        return [timer.deadline for timer in sorted(self._timers, key=lambda t: t.key)]

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of simulated time (zero or negative just yields to the loop)."""
        await self.sleep_until(self._now + timedelta(seconds=max(0.0, seconds)))

    async def sleep_until(self, when: datetime) -> None:
        """Wait until simulated time reaches `when`; returns at once (after a yield) if it has."""
        _require_aware(when)
        if when <= self._now:
            await asyncio.sleep(0)
            return
        await self._wait(when.astimezone(UTC))

    def nap_until(self, when: datetime) -> SimNap:
        """A sleep until `when` that `interrupt()` moves to now: the sleeper then wakes at its
        next turn, as a participant leaving `idle()` does (one timer, no helper task: the
        risk-watch and the other interval loops nap tens of thousands of times a day)."""
        _require_aware(when)
        return SimNap(self, when.astimezone(UTC))

    async def _wait(self, deadline: datetime, nap: SimNap | None = None) -> None:
        """Block on a timer until the clock fires it (a deadline of `now` is a turn)."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        seq = next(self._seqs)
        participant = self._participants.get(task) if task is not None else None
        order = (0, participant.rank, seq) if participant is not None else (1, seq, seq)
        timer = _Timer(deadline, order, loop.create_future(), task)
        self._timers.append(timer)
        if nap is not None:
            nap.timer = timer
        self._kick()
        try:
            await timer.future
        finally:
            # Fired timers were removed when they fired; a cancelled wait removes its own.
            if timer in self._timers:
                self._timers.remove(timer)
                self._kick()

    def advance_to(self, when: datetime) -> list[datetime]:
        """Move time to `when`, waking every sleeper due by then; returns the deadlines fired.

        Raises ValueError if `when` is before `now()`: time never goes backwards.
        """
        _require_aware(when)
        if when < self._now:
            raise ValueError(f"cannot move the clock back from {self._now} to {when}")
        due = sorted(
            (t for t in self._timers if t.deadline <= when and not t.future.done()),
            key=lambda t: t.key,
        )
        self._now = when.astimezone(UTC)
        fired = [self._fire(timer) for timer in due]
        if fired:
            self._kick()
        return fired

    @asynccontextmanager
    async def participant(self) -> AsyncIterator[None]:
        """Register the current task as a participant for the duration of the block.

        While registered, the clock moves on its own only when this task is blocked on it (or
        inside `idle()`). Entering waits for this task's turn (see the module docstring).
        Nesting, or registering the same task twice, is safe.
        """
        task = _current_task("participant()")
        record = self._participants.get(task)
        if record is None:
            self._participants[task] = _Participant(rank=next(self._ranks))
        else:
            record.depth += 1
        self._kick()
        try:
            if record is None:
                await self._wait(self._now)  # start working only when the others are blocked
            yield
        finally:
            record = self._participants[task]
            record.depth -= 1
            if record.depth == 0:
                del self._participants[task]
            self._kick()

    @asynccontextmanager
    async def idle(self) -> AsyncIterator[None]:
        """Within the block, the current participant does not hold the clock still.

        For a participant that waits on a queue or event fed by other participants. Leaving the
        block normally waits for this participant's turn before its work goes on. Outside a
        participant it does nothing.
        """
        task = _current_task("idle()")
        record = self._participants.get(task)
        if record is None:
            yield
            return
        record.idle_depth += 1
        self._kick()
        try:
            yield
        finally:
            record.idle_depth -= 1
            self._kick()
        if record.idle_depth == 0:
            await self._wait(self._now)  # woken by another participant: wait until it blocks

    def _bring_forward(self, timer: _Timer) -> None:
        """Make a pending timer due now (an interrupted nap): it fires at its turn."""
        if timer in self._timers and not timer.future.done() and timer.deadline > self._now:
            timer.deadline = self._now
            self._kick()

    def _fire(self, timer: _Timer) -> datetime:
        self._timers.remove(timer)
        timer.future.set_result(None)
        return timer.deadline

    def _kick(self) -> None:
        """Something changed: restart the quiet-rounds countdown before the next check."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # e.g. participant() exited while the loop is shutting down
            return
        self._rounds_left = self._quiet_rounds
        if self._countdown_loop is not loop:
            self._countdown_loop = loop
            loop.call_soon(self._count_down, loop)

    def _count_down(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._countdown_loop is not loop:
            return  # superseded by a countdown on another loop
        if self._rounds_left > 0:
            self._rounds_left -= 1
            loop.call_soon(self._count_down, loop)
            return
        self._countdown_loop = None
        self._advance_if_all_asleep()

    def _advance_if_all_asleep(self) -> None:
        waiting = [t for t in self._timers if not t.future.done()]
        if not waiting:
            return
        asleep = {t.task for t in waiting}
        for task, record in self._participants.items():
            if task.done() or record.idle_depth > 0:
                continue
            if task not in asleep:
                return  # a participant is busy: time stands still, and nobody else starts
        # One waiter at a time: the next wakes only once this one is blocked again, so
        # participants due at the same instant never interleave their work.
        first = min(waiting, key=lambda t: t.key)
        self._now = max(self._now, first.deadline)
        self._fire(first)
        self._kick()


class SimNap:
    """An interruptible sleep on a `SimClock` (see `SimClock.nap_until`)."""

    def __init__(self, clock: SimClock, deadline: datetime) -> None:
        self._clock = clock
        self._deadline = deadline
        self._interrupted = False
        self.timer: _Timer | None = None  # while waiting: the clock's timer for this nap

    def interrupt(self) -> None:
        """Wake the sleeper at its next turn (at once if it has not begun to wait)."""
        self._interrupted = True
        if self.timer is not None:
            self._clock._bring_forward(self.timer)

    async def wait(self) -> None:
        """Sleep until the deadline, or until the turn after an interruption."""
        now = self._clock.now()
        due = now if self._interrupted or self._deadline <= now else self._deadline
        try:
            await self._clock._wait(due, self)
        finally:
            self.timer = None


def _current_task(what: str) -> asyncio.Task[object]:
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running event loop
        task = None
    if task is None:
        raise RuntimeError(f"SimClock.{what} must be used inside an asyncio task")
    return task
