"""The supervisor: reconcile, arm the schedule, run every long-lived task in one TaskGroup.

Long-lived tasks (each in `catalyst.tasks`): the scheduler, the approval watch (supervised
sessions' approved entries), the risk-watch, max hold, the
operator's flatten request, the order-event recorder (fills journaled as the broker pushes them,
each waking the risk-watch), the end-of-day flattener, the periodic reconciler and the journal
keeper (after a database outage: catch up, then reconcile at once); under `catalyst run` also the
heartbeat and the keeper of the account lock.

Start-up order matters: the database must be migrated, the journal reconciled with the broker
(a failure stops the daemon before it trades), scans missed while the daemon was down settled (one
missed by less than `schedule.missed_scan_grace_minutes` runs first, older ones are journaled as
missed), and only then is the scheduler armed and systemd told READY=1 (under `catalyst run`,
right after the heap left by start-up is frozen out of the garbage collector's reach).

Shutdown (SIGTERM, or the end of a simulated day; see `catalyst.daemon.stopping` for the bound):
no new entries from that moment; during start-up the start-up work is cancelled at once; once
running, the scan cycle in flight may finish within `drain_seconds`, then every task is cancelled
until it has ended. Bracket protection stays at the broker; the next start reconciles.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import structlog

from catalyst.config.loader import changed_keys
from catalyst.config.models import Settings
from catalyst.daemon.components import Components
from catalyst.daemon.scheduling import (
    drive_simulated,
    drive_with_apscheduler,
    settle_missed_scans,
)
from catalyst.daemon.startup import StopDuringStartup
from catalyst.daemon.stopping import (
    ALERT_DRAIN_SECONDS,
    CANCEL_SECONDS,
    DRAIN_SECONDS,
    JOURNAL_SECONDS,
    StopRequest,
    cancel_and_wait,
)
from catalyst.domain.errors import JournalUnavailable, OperationalError
from catalyst.domain.models import TradingSession
from catalyst.domain.trading_state import TradingStateRecord
from catalyst.notify import events
from catalyst.notify.dispatcher import AlertDispatcher
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.store.account_lock import AccountLock
from catalyst.tasks.heartbeat import Heartbeat
from catalyst.tasks.journal_keeper import JournalKeeper
from catalyst.tasks.order_events import OrderEventRecorder
from catalyst.tasks.reconciliation import PeriodicReconciliation
from catalyst.tasks.scan_cycle import CycleReport
from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.day_plan import DayPlan, plan_for
from catalyst.timekeeping.triggers import SessionTimesTrigger

log = structlog.get_logger(__name__)

# Sections of trading_config.yaml whose values are built into long-lived objects at start-up
# (the broker adapter, the database engine, the state files, the simulator, the notifier).
RESTART_SECTIONS = frozenset({"broker", "database", "paths", "simulation", "notifications"})


@dataclass(frozen=True, slots=True)
class Reload:
    """What a configuration reload changed, and which of those keys wait for a restart."""

    changed: tuple[str, ...]
    needs_restart: tuple[str, ...]


def _freeze_start_up_heap() -> None:
    """Move every object alive after start-up out of the garbage collector's reach.

    Start-up's objects (modules, config, components: the imports alone leave some 160,000
    tracked objects) live as long as the process, yet every full collection walked them all
    again: at 12,000 symbols the collector took 20-30 % of a scan's CPU (about 260 ms at 09:15),
    and freezing here cut that by 69-80 % (to about 55 ms), its longest pause from 100-250 ms to
    10-80 ms (bench/cycle.py). Only for a process that runs one supervisor (`catalyst run`):
    frozen cyclic garbage is never freed.
    """
    gc.collect()  # garbage first, so none of it is frozen
    gc.freeze()


async def keep_unsent_alerts(notifier: AlertDispatcher) -> None:
    """Journal the alerts still queued (bounded by `ALERT_DRAIN_SECONDS`): a stop before the
    supervisor's delivery runs must not lose them; the next start sends them."""
    try:
        async with asyncio.timeout(ALERT_DRAIN_SECONDS):
            await notifier.journal_pending()
    except TimeoutError:
        log.error("unsent alerts not journaled at shutdown", pending=notifier.pending)


class _StopRequested(Exception):
    """Raised inside the TaskGroup to cancel every task once the drain is over."""


@dataclass
class RunRecord:
    """What happened while the supervisor ran (for the demo summary and tests)."""

    cycles: list[CycleReport] = field(default_factory=list)
    reconcile_runs: int = 0


class Supervisor:
    """Owns the daemon's tasks from start-up reconciliation to a graceful stop."""

    def __init__(
        self,
        components: Components,
        *,
        systemd: SystemdNotifier,
        simulated_until: datetime | None = None,
        stop: StopRequest | None = None,
        drain_seconds: float = DRAIN_SECONDS,
        watchdog_seconds: float | None = None,
        watchdog_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        refresh_calendar: Callable[[date], Awaitable[object]] | None = None,
        heartbeat: Heartbeat | None = None,
        account_lock: AccountLock | None = None,
        freeze_heap: bool = False,  # see _freeze_start_up_heap
    ) -> None:
        self._components = components
        self._freeze_heap = freeze_heap
        self._systemd = systemd
        self._until = simulated_until
        self._drain_seconds = drain_seconds
        self._watchdog_seconds = watchdog_seconds
        self._watchdog_sleep = watchdog_sleep
        self._refresh_calendar = refresh_calendar
        self._heartbeat = heartbeat
        self._account_lock = account_lock
        self._schedule_alarm = Alarm(components.clock, "scheduler")  # simulated driver
        self._rearm_schedule = asyncio.Event()  # APScheduler driver
        self._stop = stop if stop is not None else StopRequest()
        self._cycle_idle = asyncio.Event()
        self._cycle_idle.set()
        self.record = RunRecord()
        self._catch_up: datetime | None = None  # the missed scan run at start-up, if any

    def apply_settings(self, fresh: Settings) -> Reload:
        """Adopt a reloaded configuration (SIGHUP) in every component that uses it.

        Keys under `RESTART_SECTIONS` keep their running values (the objects built from them
        live as long as the process); the result names each such key that changed.
        """
        c = self._components
        current = c.settings
        changed = changed_keys(current, fresh)
        needs_restart = tuple(key for key in changed if key.split(".", 1)[0] in RESTART_SECTIONS)
        kept = {section: getattr(current.trading, section) for section in RESTART_SECTIONS}
        applied = fresh.model_copy(
            update={
                "trading": fresh.trading.model_copy(update=kept),
                "live_trading_confirmed": current.live_trading_confirmed,
            }
        )
        trading = applied.trading
        c.settings = applied  # the scan trigger reads the schedule from here
        c.scan_cycle.update_settings(applied)
        c.approvals.update_settings(applied)
        c.risk_watch.update_risk(applied.risk)
        c.flatten_requests.update_risk(applied.risk)
        c.max_hold.update(timedelta(minutes=trading.trading_session.max_hold_time_minutes))
        c.reconciler.update_stop_loss_pct(trading.workflow.stop_loss_pct)
        c.end_of_day.update(
            trading.schedule, enabled=trading.trading_session.auto_close_at_market_close
        )
        self._rearm_schedule.set()
        self._schedule_alarm.wake()
        return Reload(changed=changed, needs_restart=needs_restart)

    @property
    def stopping(self) -> bool:
        """True from the moment a stop is requested: no new entry is sent after it."""
        return self._stop.requested

    def request_stop(self, reason: str = "requested") -> None:
        """Begin a graceful stop."""
        self._stop.request(reason)

    async def run(self) -> RunRecord:
        """Reconcile, then run until stopped. Raises if start-up reconciliation fails, and
        `StopDuringStartup` when a stop is requested before start-up is done."""
        c = self._components
        try:
            state, start = await self._stop.unless_requested(self._start_up())
        except StopDuringStartup:
            await keep_unsent_alerts(c.notifier)  # start-up reconciliation's, say
            raise
        mode = c.settings.trading.broker.environment.value.upper()
        await c.notifier.alert(
            events.startup(
                mode,
                c.settings.trading.trading_session.mode.value,
                state.status.value,
                state.reason if state.is_halted else None,
                c.clock.now(),
            )
        )
        trigger = SessionTimesTrigger(c.calendar, lambda session: self._plan(session).scan_times)
        reconciliation = PeriodicReconciliation(
            reconciler=c.reconciler,
            store=c.store,
            clock=c.clock,
            refresh_calendar=self._refresh_calendar,
            on_reconciled=self._count_reconcile_run,
            notifier=c.notifier,
        )
        # Fills journaled as they happen; each one makes the risk-watch look at the loss now.
        recorder = OrderEventRecorder(
            c.broker,
            c.store,
            c.clock,
            on_fill=c.risk_watch.wake,
            on_order_ended=reconciliation.wake,  # a stop may be gone: look now
        )
        keeper = JournalKeeper(
            store=c.store,
            clock=c.clock,
            notifier=c.notifier,
            on_recovered=reconciliation.wake,  # journal = broker as soon as it is back
        )
        if self._freeze_heap:
            _freeze_start_up_heap()
        self._systemd.ready()
        self._systemd.status(f"{mode}; trading {state.status.value}")
        schedule = self._schedule(trigger, start)
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._participate(schedule), name="scheduler"),
                    group.create_task(self._participate(c.approvals.run()), name="approvals"),
                    group.create_task(self._participate(c.risk_watch.run()), name="risk-watch"),
                    group.create_task(self._participate(c.max_hold.run()), name="max-hold"),
                    group.create_task(
                        self._participate(c.flatten_requests.run()), name="flatten-request"
                    ),
                    group.create_task(self._participate(recorder.run()), name="order-events"),
                    group.create_task(self._participate(c.end_of_day.run()), name="eod-flattener"),
                    group.create_task(self._participate(c.day_report.run()), name="day-report"),
                    group.create_task(self._participate(reconciliation.run()), name="reconciler"),
                    group.create_task(self._participate(keeper.run()), name="journal-keeper"),
                    group.create_task(c.notifier.deliver_forever(), name="alerts"),
                ]
                if self._watchdog_seconds is not None:
                    watchdog = self._watchdog(self._watchdog_seconds)
                    tasks.append(group.create_task(watchdog, name="watchdog"))
                if self._heartbeat is not None:  # never raises: a bystander
                    tasks.append(group.create_task(self._heartbeat.run(), name="heartbeat"))
                if self._account_lock is not None:  # lost to another daemon: a graceful stop
                    keep = self._account_lock.keep(self.request_stop)
                    tasks.append(group.create_task(keep, name="account-lock"))
                group.create_task(self._stopper(tasks), name="stopper")
        except* _StopRequested:
            pass
        try:  # deferred journal writes, within the stop's bound
            async with asyncio.timeout(JOURNAL_SECONDS):
                await self._last_catch_up()
        except TimeoutError:
            log.error("deferred journal writes not checked in time", seconds=JOURNAL_SECONDS)
        await c.notifier.alert(
            events.shutdown(self._stop.reason or "stop requested", c.clock.now())
        )
        try:  # alerts still queued (an emergency stop just before the end) go out before exit
            async with asyncio.timeout(ALERT_DRAIN_SECONDS):
                await c.notifier.drain()
        except TimeoutError:
            log.error("alerts still unsent at shutdown", pending=c.notifier.pending)
        await keep_unsent_alerts(c.notifier)  # it waits in the alert journal for the next start
        log.info(
            "stopped",
            cycles=len(self.record.cycles),
            reconcile_runs=self.record.reconcile_runs,
        )
        return self.record

    async def _last_catch_up(self) -> None:
        # Writes deferred during an outage that has just ended, or is still going on.
        outbox = self._components.store.outbox
        if not outbox.pending:
            return
        try:
            await self._components.store.check_available()
        except OperationalError as exc:
            log.error(
                "journal writes still deferred at shutdown; the broker keeps the truth and the "
                "next start reconciles (a halt among them is spooled to disk)",
                pending=outbox.pending,
                error=str(exc),
            )

    async def _start_up(self) -> tuple[TradingStateRecord, datetime]:
        """Reconcile and settle missed scans; the trading state and the schedule's start."""
        c = self._components
        state = await c.store.get_trading_state()
        log.info(
            f"starting in {c.settings.trading.broker.environment.value.upper()} mode",
            broker=c.settings.trading.broker.kind,
            session_mode=c.settings.trading.trading_session.mode.value,
            trading_state=state.status.value,
            halt_reason=state.reason,
        )
        report = await c.reconciler.reconcile()
        self.record.reconcile_runs += 1
        log.info("start-up reconciliation done", adopted=report.orders_adopted)
        corrections = events.reconciliation_corrections(report, c.clock.now())
        if corrections is not None:
            await c.notifier.alert(corrections)
        start = c.clock.now()
        self._catch_up = await settle_missed_scans(
            now=start,
            grace=timedelta(minutes=c.settings.trading.schedule.missed_scan_grace_minutes),
            calendar=c.calendar,
            plan_for=self._plan,
            store=c.store,
            scan_cycle=c.scan_cycle,
        )
        return state, start

    def _count_reconcile_run(self) -> None:
        self.record.reconcile_runs += 1

    async def _participate(self, work: Awaitable[None]) -> None:
        async with self._components.clock.participant():
            await work

    def _plan(self, session: TradingSession) -> DayPlan:
        # One source for the scan times the trigger fires and the start-up catch-up looks at.
        return plan_for(session, self._components.settings.trading)

    async def _schedule(self, trigger: SessionTimesTrigger, start: datetime) -> None:
        catch_up = self._catch_up
        if self._until is None:
            await drive_with_apscheduler(
                trigger,
                self._cycle,
                self._stop,
                start=start,
                catch_up=catch_up,
                rearm=self._rearm_schedule,
            )
        else:
            await drive_simulated(
                trigger,
                self._cycle,
                self._components.clock,
                self._stop,
                self._until,
                start=start,
                catch_up=catch_up,
                rearm=self._schedule_alarm,
            )
            # The schedule is done for the simulated span; stay alive until the stopper fires.
            await self._components.clock.sleep_until(self._until + timedelta(days=1))

    async def _cycle(self, fire_time: datetime) -> None:
        if self.stopping:
            return
        self._cycle_idle.clear()
        triggered_by = "catch-up" if fire_time == self._catch_up else "schedule"
        try:
            report = await self._components.scan_cycle.run_scheduled(fire_time, triggered_by)
            self.record.cycles.append(report)
        finally:
            self._cycle_idle.set()
        try:
            trading = (await self._components.store.get_trading_state()).status.value
        except JournalUnavailable:
            trading = "unknown (journal unavailable)"
        mode = self._components.settings.trading.broker.environment.value.upper()
        self._systemd.status(
            f"{mode}; trading {trading}; last scan {report.cycle_id}: {len(report.placed)} entries"
        )

    async def _stopper(self, others: list[asyncio.Task[None]]) -> None:
        if self._until is not None:
            # The end of the simulated span, or a signal (an accelerated-clock run is a real
            # process that SIGTERM must still stop), whichever comes first.
            await self._first_of(self._sleep_until(self._until), self._stop.wait())
            if not self._stop.requested:
                self._stop.request("end of the simulated span")
        else:
            await self._stop.wait()
        self._systemd.stopping()
        log.info(
            "stopping: no new entries; draining the cycle in flight",
            drain_seconds=self._drain_seconds,
        )
        try:
            async with self._components.clock.idle():
                async with asyncio.timeout(self._drain_seconds):
                    await self._cycle_idle.wait()
        except TimeoutError:
            log.warning("cycle still running after the drain period; cancelling it")
        # Cancelled here, not by the TaskGroup: a task that loses one cancellation is cancelled
        # again until it ends (the TaskGroup would wait for it forever).
        await cancel_and_wait(others, CANCEL_SECONDS)
        raise _StopRequested

    async def _sleep_until(self, when: datetime) -> None:
        async with self._components.clock.participant():
            await self._components.clock.sleep_until(when)

    async def _first_of(self, *waits: Coroutine[object, object, object]) -> None:
        # The stopper is no participant itself, so waiting here never holds a simulated clock.
        tasks = [asyncio.create_task(w) for w in waits]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _watchdog(self, interval: float) -> None:
        # Pinged only while the risk-watch is demonstrably alive: a stalled loop gets restarted.
        watch = self._components.risk_watch
        limit = timedelta(
            seconds=max(
                3 * self._components.settings.risk.emergency_actions.risk_watch_interval_seconds, 30
            )
        )
        while True:
            last = watch.last_beat
            if last is not None and self._components.clock.now() - last <= limit:
                self._systemd.watchdog()
            else:
                log.warning("risk-watch silent; withholding the watchdog ping")
            await self._watchdog_sleep(interval)
