"""How `catalyst run` stops, and the wall-clock bound on it.

A stop is requested by SIGTERM or SIGINT (handlers installed before any start-up work) or by the
end of a simulated span. From that moment no new entry is sent. Then:

- during start-up (the broker's calendar, the database checks, start-up reconciliation) the
  start-up work is cancelled at once and the process exits 0 without having traded;
- once running, the scan cycle in flight may finish within `DRAIN_SECONDS`; every task is then
  cancelled, and cancelled again until it has ended, within `CANCEL_SECONDS` (a retry loop ends at
  its next await; a library that swallows one cancellation gets another); journal writes deferred
  by a database outage get `JOURNAL_SECONDS`, queued alerts `ALERT_DRAIN_SECONDS`; the heartbeat,
  the account lock and the database are closed within `CLOSE_SECONDS`;
- worker threads still blocked in a broker call (alpaca-py runs in `asyncio.to_thread`) are not
  waited for: the process leaves them behind after at most `EXIT_SECONDS`.

`STOP_BOUND_SECONDS` is the sum, 10 s of wall time from the request to the end of the process. It
is also enforced: a watchdog thread (a thread, because a stuck event loop could not run a timer)
armed at the request ends the process with `ExitCode.STOP_OVERRUN` if it is still alive then.
Bracket protection stays at the broker throughout; the next start reconciles.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from catalyst.daemon.startup import StopDuringStartup
from catalyst.exit_codes import ExitCode

log = structlog.get_logger(__name__)

T = TypeVar("T")

DRAIN_SECONDS = 4.0  # the scan cycle in flight may finish (its entries stopped at the request)
CANCEL_SECONDS = 1.0  # every task cancelled, again and again, until it has ended
JOURNAL_SECONDS = 1.0  # journal writes deferred by a database outage get a last chance
ALERT_DRAIN_SECONDS = 2.0  # alerts still queued (an emergency just before the stop) go out
CLOSE_SECONDS = 1.0  # heartbeat signed off, account lock released, database connections closed
EXIT_SECONDS = 1.0  # the event loop closed and the interpreter gone
STOP_BOUND_SECONDS = (
    DRAIN_SECONDS
    + CANCEL_SECONDS
    + JOURNAL_SECONDS
    + ALERT_DRAIN_SECONDS
    + CLOSE_SECONDS
    + EXIT_SECONDS
)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_RECANCEL_SECONDS = 0.05  # how often a task that is still running is cancelled again
_WORKER_PREFIX = "catalyst-io"


class StopRequest:
    """The one stop request of a daemon: set once, by a signal or by the end of a simulated span.

    `on_request` listeners run at the moment of the request (the process arms its exit deadline
    there). `unless_requested` runs start-up work that a stop cancels at once.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []
        self.reason: str | None = None

    @property
    def requested(self) -> bool:
        """True from the moment a stop was requested."""
        return self._event.is_set()

    def on_request(self, listener: Callable[[], None]) -> None:
        """Call `listener` when the stop is requested (at once if it already was)."""
        self._listeners.append(listener)
        if self.requested:
            listener()

    def request(self, reason: str) -> None:
        """Request the stop (idempotent: a second request is only logged)."""
        if self.requested:
            log.info("stop already in progress", reason=reason)
            return
        self.reason = reason
        log.info("stop requested", reason=reason, bound_seconds=STOP_BOUND_SECONDS)
        self._event.set()
        for listener in self._listeners:
            listener()

    async def wait(self) -> None:
        """Return once the stop has been requested."""
        await self._event.wait()

    async def unless_requested(self, work: Awaitable[T]) -> T:
        """The result of `work`, unless a stop is requested first: then `work` is cancelled
        (within `CANCEL_SECONDS`) and `StopDuringStartup` is raised."""
        if self.requested:
            if asyncio.iscoroutine(work):
                work.close()  # never started: no "never awaited" warning
            raise StopDuringStartup(self.reason)
        task = asyncio.ensure_future(work)
        waiter = asyncio.ensure_future(self._event.wait())
        abandoned = False
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if not task.done():
                abandoned = True
                await cancel_and_wait([task], CANCEL_SECONDS)
        if not abandoned:
            return task.result()  # finished as the stop came: the caller sees `requested`
        if task.done() and not task.cancelled():
            task.exception()  # whatever the cancelled work raised on its way out is moot
        raise StopDuringStartup(self.reason)

    @contextlib.contextmanager
    def on_signals(self, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
        """SIGTERM and SIGINT request the stop while the block runs."""
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self.request, signal.Signals(signum).name)
        try:
            yield
        finally:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)


async def cancel_and_wait(
    tasks: Collection[asyncio.Task[Any]], seconds: float
) -> set[asyncio.Task[Any]]:
    """Cancel `tasks` and wait until they have ended, cancelling the stragglers again every
    few milliseconds: in Python 3.11 `asyncio.wait_for` swallows a cancellation that arrives as
    its inner future completes, and one lost cancellation must not keep a task alive.

    Returns the tasks still running after `seconds` of wall time (logged by name).
    """
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.error(
                "tasks still running after being cancelled",
                tasks=sorted(task.get_name() for task in pending),
            )
            break
        _, pending = await asyncio.wait(pending, timeout=min(_RECANCEL_SECONDS, remaining))
    return pending


def exit_on_stop_signals_until_running() -> None:
    """Until the daemon's event loop takes SIGTERM and SIGINT over, either ends the process at
    once with status 0: nothing has started yet (importing the daemon takes seconds)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _exit_before_start)


def _exit_before_start(signum: int, _frame: object) -> None:
    sys.stderr.write(f"catalyst: {signal.Signals(signum).name} before start-up; nothing started\n")
    _flush_stdio()
    os._exit(0)


def arm_exit_deadline(seconds: float = STOP_BOUND_SECONDS) -> None:
    """End the process `seconds` from now, whatever is still running (a daemon thread)."""
    timer = threading.Timer(seconds, _overrun, args=(seconds,))
    timer.name = "catalyst-stop-deadline"
    timer.daemon = True
    timer.start()


def _overrun(seconds: float) -> None:
    log.error(
        "stop overran its bound; exiting now",
        bound_seconds=seconds,
        exit_code=int(ExitCode.STOP_OVERRUN),
        threads=sorted(
            t.name for t in threading.enumerate() if t is not threading.current_thread()
        ),
    )
    _flush_stdio()
    os._exit(ExitCode.STOP_OVERRUN)


def run_daemon_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` for the daemon, except that nothing blocked in a thread holds the exit.

    `asyncio.run` waits for every worker thread of the default executor; one blocked in an HTTP
    call would hold the process for that call's whole timeout. Here the executor is shut down
    without waiting, and tasks left over are cancelled within `CANCEL_SECONDS`.
    """
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(thread_name_prefix=_WORKER_PREFIX)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            leftovers = asyncio.all_tasks(loop)
            if leftovers:
                loop.run_until_complete(cancel_and_wait(leftovers, CANCEL_SECONDS))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            asyncio.set_event_loop(None)
            loop.close()


@contextlib.contextmanager
def exiting_promptly() -> Iterator[None]:
    """At the end of the block, leave threads still blocked in I/O behind instead of joining them.

    The interpreter joins every non-daemon thread at exit: a worker blocked in an HTTP call, or a
    database connection thread, would hold the process. They get `EXIT_SECONDS` to end; after
    that the process ends at once with the block's exit status.
    """
    try:
        yield
    except SystemExit as exc:
        _leave_blocked_threads(exc.code if isinstance(exc.code, int) else 1)
        raise
    _leave_blocked_threads(0)


def _leave_blocked_threads(code: int) -> None:
    me = threading.current_thread()
    deadline = time.monotonic() + EXIT_SECONDS  # process housekeeping, not business time
    for thread in threading.enumerate():
        if thread is not me and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    blocked = [t.name for t in threading.enumerate() if t is not me and not t.daemon]
    if blocked:
        log.warning("exiting without waiting for threads still blocked in I/O", threads=blocked)
        _flush_stdio()
        os._exit(code)


def _flush_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or broken: nothing more to save
            stream.flush()
