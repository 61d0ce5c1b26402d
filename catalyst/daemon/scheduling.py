"""Drives the scan schedule: APScheduler on the wall clock, a simulated driver under `SimClock`.

Both drivers use the same schedule definition, a `SessionTimesTrigger` whose next fire time is a
pure function of the exchange calendar and the configured scan times, so a simulated day fires
exactly the scans the real daemon would.

On the wall clock APScheduler only *announces* a due scan by putting its fire time on a queue; the
scan itself runs in a task the supervisor owns, one cycle at a time. That keeps every piece of
business work inside the supervisor's TaskGroup (bounded shutdown, no fire-and-forget tasks) and
makes overlapping cycles impossible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from catalyst.ports import Clock
from catalyst.timekeeping.calendar import EXCHANGE_TZ
from catalyst.timekeeping.triggers import SessionTimesTrigger

CycleJob = Callable[[datetime], Awaitable[None]]

log = structlog.get_logger(__name__)
_JOB_ID = "scan-cycle"


async def drive_with_apscheduler(
    trigger: SessionTimesTrigger, job: CycleJob, stop: asyncio.Event
) -> None:
    """Run `job` at each fire time of `trigger` on the wall clock until `stop` is set."""
    due: asyncio.Queue[datetime] = asyncio.Queue()

    def on_submitted(event: JobSubmissionEvent) -> None:
        # The submission event carries the exact scheduled times, which become the cycle ids.
        if event.job_id == _JOB_ID:
            for scheduled in event.scheduled_run_times:
                due.put_nowait(scheduled)

    scheduler = AsyncIOScheduler(timezone=EXCHANGE_TZ)
    scheduler.add_listener(on_submitted, EVENT_JOB_SUBMITTED)
    scheduler.add_job(
        _scan_due,
        trigger=trigger,
        id=_JOB_ID,
        name="scan cycle",
        max_instances=1,
        coalesce=True,  # after a long stall, run one catch-up scan, not a burst
        misfire_grace_time=120,
    )
    scheduler.start()
    armed = scheduler.get_job(_JOB_ID)
    log.info("scheduler armed", next_scan=str(armed.next_run_time if armed else None))
    stop_wait = asyncio.create_task(stop.wait(), name="scheduler-stop-wait")
    try:
        while not stop.is_set():
            get_due = asyncio.create_task(due.get(), name="scheduler-next-due")
            done, _ = await asyncio.wait({get_due, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if get_due not in done:
                get_due.cancel()
                break
            await job(get_due.result())
    finally:
        stop_wait.cancel()
        scheduler.shutdown(wait=False)
        log.info("scheduler stopped")


async def _scan_due() -> None:
    """APScheduler's job body: the submission listener has already queued the scan."""


async def drive_simulated(
    trigger: SessionTimesTrigger,
    job: CycleJob,
    clock: Clock,
    stop: asyncio.Event,
    until: datetime,
) -> None:
    """Run `job` at each fire time of `trigger` under a simulated clock, up to `until`."""
    previous: datetime | None = None
    while not stop.is_set():
        fire = trigger.get_next_fire_time(previous, clock.now())
        if fire is None or fire >= until:
            return
        await clock.sleep_until(fire)
        if stop.is_set():
            return
        await job(fire)
        previous = fire
