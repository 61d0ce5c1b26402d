"""The composition root: builds every part of the daemon once, around one session factory.

This is the only place that knows which adapters are in use; everything it builds depends on the
ports (`Broker`, `Clock`, `Notifier`) and the `Store`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from catalyst.config.models import Settings
from catalyst.execution.flatten import Flattener
from catalyst.execution.reconcile import Reconciler
from catalyst.execution.submitter import OrderSubmitter
from catalyst.notify.dispatcher import AlertDispatcher
from catalyst.ops.failpoints import NO_FAILPOINTS, Failpoints
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.ops.pause_flag import PauseFlag
from catalyst.ports import Broker, Clock
from catalyst.redaction import redact_url
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import check_schema_current
from catalyst.store.outbox import HaltSpool, JournalOutbox
from catalyst.store.repository import Store
from catalyst.tasks.approvals import ApprovalWatch
from catalyst.tasks.day_report import DayReportAfterClose, alert_sink
from catalyst.tasks.end_of_day import EndOfDayFlattener
from catalyst.tasks.flatten_requests import FlattenRequestWatch
from catalyst.tasks.max_hold import MaxHoldWatch
from catalyst.tasks.risk_watch import RiskWatch
from catalyst.tasks.scan_cycle import ScanCycle
from catalyst.tasks.watch_journal import WatchJournal
from catalyst.timekeeping.calendar import SessionCalendar


@dataclass
class Components:
    """Everything a running daemon is made of."""

    settings: Settings
    clock: Clock
    broker: Broker
    calendar: SessionCalendar
    engine: AsyncEngine
    store: Store
    notifier: AlertDispatcher
    pause_flag: PauseFlag
    submitter: OrderSubmitter
    flattener: Flattener
    scan_cycle: ScanCycle
    approvals: ApprovalWatch
    risk_watch: RiskWatch
    max_hold: MaxHoldWatch
    flatten_requests: FlattenRequestWatch
    end_of_day: EndOfDayFlattener
    day_report: DayReportAfterClose
    reconciler: Reconciler

    async def close(self) -> None:
        await self.engine.dispose()


async def build_components(
    settings: Settings,
    *,
    clock: Clock,
    broker: Broker,
    calendar: SessionCalendar,
    notifier: AlertDispatcher,
    database_url: str,
    entries_stopped: Callable[[], bool],
    failpoints: Failpoints = NO_FAILPOINTS,
) -> Components:
    """Wire the daemon. Refuses an un-migrated database (DatabaseNotMigratedError).

    `failpoints` (crash-safety tests only) are handed to the order submitter.
    """
    engine = make_engine(database_url, echo=settings.trading.database.echo)
    try:
        await check_schema_current(engine)
    except BaseException:
        await engine.dispose()
        raise
    # Journal writes deferred during a database outage; a halt among them is spooled to disk.
    spool = HaltSpool.for_database(settings.trading.paths.state_dir, redact_url(database_url))
    outbox = JournalOutbox(spool)
    store = Store(make_session_factory(engine), outbox)
    store.restore_spooled_halt()  # a halt a previous process could not journal goes in first
    pause_flag = PauseFlag(settings.trading.paths.resolved_pause_file)
    alerts = notifier  # a queue of its own: alerts never hold up the risk-watch
    alerts.attach_journal(store)  # undelivered alerts survive a restart
    submitter = OrderSubmitter(broker, store, clock, failpoints=failpoints)
    flattener = Flattener(broker, store, clock, submitter)
    approvals = ApprovalWatch(
        broker=broker,
        store=store,
        clock=clock,
        calendar=calendar,
        settings=settings,
        submitter=submitter,
        pause_flag=pause_flag,
        entries_stopped=entries_stopped,
    )
    scan_cycle = ScanCycle(
        broker=broker,
        store=store,
        clock=clock,
        calendar=calendar,
        settings=settings,
        submitter=submitter,
        pause_flag=pause_flag,
        entries_stopped=entries_stopped,
        on_proposed=approvals.wake,
        notifier=alerts,
    )
    watch_journal = WatchJournal(store)  # one view of the journal for the three watches
    risk_watch = RiskWatch(
        broker=broker,
        store=store,
        clock=clock,
        calendar=calendar,
        risk=settings.risk,
        flattener=flattener,
        notifier=alerts,
        journal=watch_journal,
    )
    max_hold = MaxHoldWatch(
        broker=broker,
        clock=clock,
        calendar=calendar,
        flattener=flattener,
        journal=watch_journal,
        max_hold=timedelta(minutes=settings.trading.trading_session.max_hold_time_minutes),
        book_kept_flat=lambda: risk_watch.standing,
    )
    flatten_requests = FlattenRequestWatch(
        request=FlattenRequest(
            settings.trading.paths.state_dir,
            max_age=timedelta(
                seconds=settings.trading.trading_session.flatten_request_max_age_seconds
            ),
        ),
        clock=clock,
        calendar=calendar,
        flattener=flattener,
        journal=watch_journal,
        risk=settings.risk,
    )
    end_of_day = EndOfDayFlattener(
        clock=clock,
        calendar=calendar,
        schedule=settings.trading.schedule,
        flattener=flattener,
        enabled=settings.trading.trading_session.auto_close_at_market_close,
    )
    day_report = DayReportAfterClose(
        clock=clock,
        calendar=calendar,
        store=store,
        environment=settings.trading.broker.environment.value,
        # Only email shows the HTML and its chart; the log and webhooks take the text.
        on_report=alert_sink(alerts, clock, with_html=settings.trading.notifications.email_enabled),
    )
    reconciler = Reconciler(
        broker=broker,
        store=store,
        clock=clock,
        submitter=submitter,
        stop_loss_pct=settings.trading.workflow.stop_loss_pct,
        flatten_lock=flattener.lock,
    )
    return Components(
        settings=settings,
        clock=clock,
        broker=broker,
        calendar=calendar,
        engine=engine,
        store=store,
        notifier=alerts,
        pause_flag=pause_flag,
        submitter=submitter,
        flattener=flattener,
        scan_cycle=scan_cycle,
        approvals=approvals,
        risk_watch=risk_watch,
        max_hold=max_hold,
        flatten_requests=flatten_requests,
        end_of_day=end_of_day,
        day_report=day_report,
        reconciler=reconciler,
    )
