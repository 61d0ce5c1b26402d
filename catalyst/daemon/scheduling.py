"""Drives the scan schedule: APScheduler on the wall clock, a simulated driver under `SimClock`.

Both drivers use the same schedule definition, a `SessionTimesTrigger` whose next fire time is a
pure function of the exchange calendar and the configured scan times, so a simulated day fires
exactly the scans the real daemon would.

A restart does not skip a scan silently: `settle_missed_scans` runs at start-up (after
reconciliation) and applies `catalyst.timekeeping.catch_up`: a scan missed by less than the grace
becomes the driver's first job, older ones are journaled as missed. Both drivers are armed from
that same start-up instant, so the catch-up's own run time never pushes the next scan out.

On the wall clock APScheduler only *announces* a due scan by putting its fire time on a queue; the
scan itself runs in a task the supervisor owns, one cycle at a time. That keeps every piece of
business work inside the supervisor's TaskGroup (bounded shutdown, no fire-and-forget tasks) and
makes overlapping cycles impossible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from catalyst.daemon.stopping import StopRequest
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession
from catalyst.ports import Clock
from catalyst.store.repository import Store
from catalyst.tasks.scan_cycle import ScanCycle, cycle_id_for
from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.calendar import SessionCalendar
from catalyst.timekeeping.catch_up import decide_missed_scans
from catalyst.timekeeping.day_plan import DayPlan
from catalyst.timekeeping.triggers import SessionTimesTrigger

CycleJob = Callable[[datetime], Awaitable[None]]

log = structlog.get_logger(__name__)
_JOB_ID = "scan-cycle"


async def settle_missed_scans(
    *,
    now: datetime,
    grace: timedelta,
    calendar: SessionCalendar,
    plan_for: Callable[[TradingSession], DayPlan],
    store: Store,
    scan_cycle: ScanCycle,
) -> datetime | None:
    """Journal today's scans missed for good; return the one to run now (None: nothing)."""
    session = calendar.session(now.astimezone(EXCHANGE_TZ).date())
    if session is None:
        return None
    plan = plan_for(session)
    ran = {cycle.cycle_id for cycle in await store.cycles_for_day(session.day)}
    journaled = [when for when in plan.scan_times if cycle_id_for(when) in ran]
    decision = decide_missed_scans(plan, now, grace, journaled)
    for miss in decision.missed:
        late = now - miss.scheduled
        log.warning(
            "scan missed while the daemon was down; not running it",
            cycle_id=cycle_id_for(miss.scheduled),
            late_seconds=round(late.total_seconds()),
            reason=miss.reason.value,
        )
        await scan_cycle.record_missed(
            miss.scheduled,
            f"missed: {miss.reason.value} (started {late.total_seconds():.0f} s after the "
            f"scheduled time, grace {grace.total_seconds():.0f} s)",
        )
    if decision.run_now is not None:
        log.info(
            "running a scan missed while the daemon was down",
            cycle_id=cycle_id_for(decision.run_now),
            late_seconds=round((now - decision.run_now).total_seconds()),
        )
    return decision.run_now


async def drive_with_apscheduler(
    trigger: SessionTimesTrigger,
    job: CycleJob,
    stop: StopRequest,
    *,
    start: datetime,
    catch_up: datetime | None = None,
    rearm: asyncio.Event | None = None,
) -> None:
    """Run `catch_up` (if any) and then `job` at each fire time of `trigger` from `start` on,
    on the wall clock, until `stop` is set.

    Setting `rearm` (a reloaded schedule) makes the scheduler recompute the next fire time now.
    """
    rearm = rearm if rearm is not None else asyncio.Event()
    due: asyncio.Queue[datetime] = asyncio.Queue()
    if catch_up is not None:
        due.put_nowait(catch_up)

    def on_submitted(event: JobSubmissionEvent) -> None:
        # The submission event carries the exact scheduled times, which become the cycle ids.
        if event.job_id == _JOB_ID:
            for scheduled in event.scheduled_run_times:
                due.put_nowait(scheduled)

    scheduler = AsyncIOScheduler(timezone=EXCHANGE_TZ)
    scheduler.add_listener(on_submitted, EVENT_JOB_SUBMITTED)
    # Armed from `start`, the instant the missed scans were decided at, not from whenever
    # APScheduler gets to it: a scan falling due in between is neither skipped nor run twice.
    first = trigger.get_next_fire_time(None, start)
    arm: dict[str, Any] = {} if first is None else {"next_run_time": first}
    scheduler.add_job(
        _scan_due,
        trigger=trigger,
        id=_JOB_ID,
        name="scan cycle",
        max_instances=1,
        coalesce=True,  # after a long stall, run one catch-up scan, not a burst
        misfire_grace_time=120,
        **arm,
    )
    scheduler.start()
    armed = scheduler.get_job(_JOB_ID)
    log.info("scheduler armed", next_scan=str(armed.next_run_time if armed else None))
    stop_wait = asyncio.create_task(stop.wait(), name="scheduler-stop-wait")
    try:
        while not stop.requested:
            get_due = asyncio.create_task(due.get(), name="scheduler-next-due")
            rearm_wait = asyncio.create_task(rearm.wait(), name="scheduler-rearm-wait")
            done, _ = await asyncio.wait(
                {get_due, stop_wait, rearm_wait}, return_when=asyncio.FIRST_COMPLETED
            )
            rearm_wait.cancel()
            if get_due not in done:
                get_due.cancel()
                if stop_wait in done:
                    break
                rearm.clear()
                scheduler.reschedule_job(_JOB_ID, trigger=trigger)  # next fire time from now
                job_now = scheduler.get_job(_JOB_ID)
                log.info(
                    "scan schedule re-armed",
                    next_scan=str(job_now.next_run_time if job_now else None),
                )
                continue
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
    stop: StopRequest,
    until: datetime,
    *,
    start: datetime,
    catch_up: datetime | None = None,
    rearm: Alarm | None = None,
) -> None:
    """Run `catch_up` (if any) and then `job` at each fire time of `trigger` from `start` on,
    under a simulated clock, up to `until`.

    Waking `rearm` (a reloaded schedule) makes it recompute the next fire time now.
    """
    alarm = rearm if rearm is not None else Alarm(clock, "scheduler")
    if catch_up is not None and not stop.requested:
        await job(catch_up)
    previous: datetime | None = None
    after = start
    while not stop.requested:
        fire = trigger.get_next_fire_time(previous, after)
        if fire is None or fire >= until:
            return
        await alarm.sleep_until(fire)
        if stop.requested:
            return
        if clock.now() < fire:
            after = clock.now()  # woken: the schedule changed, look again from now
            continue
        await job(fire)
        previous = fire
        after = clock.now()
