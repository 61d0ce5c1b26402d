"""The day report after each session's close: read from the journal, logged as one line, and
handed to `on_report` (in the daemon: the alerts, as a daily-report alert; see `alert_sink`).

It runs a few minutes after the close, so that the last fills of the end-of-day flatten and the
risk-watch's last equity sample are journaled. A journal that cannot be read, or any other
failure, is logged and that day's report skipped: reporting never stops the daemon.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from catalyst.domain.alerts import Alert, AlertKind, Attachment, Severity
from catalyst.domain.errors import JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession
from catalyst.ports import Clock, Notifier
from catalyst.reporting.day_report import DayReport
from catalyst.reporting.journal_day import load_day_report
from catalyst.reporting.report_email import report_email
from catalyst.store.repository import Store
from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.calendar import SessionCalendar

log = structlog.get_logger(__name__)

REPORT_DELAY = timedelta(minutes=2)  # after the close: the day's last fills are journaled

ReportSink = Callable[[DayReport], Awaitable[None]]


def next_report(calendar: SessionCalendar, now: datetime) -> TradingSession:
    """The session whose report is due next: today's until its close plus `REPORT_DELAY`,
    else the next session's (a daemon started later reports from the next day on)."""
    local_day = now.astimezone(EXCHANGE_TZ).date()
    session = calendar.session(local_day)
    if session is not None and now < session.close + REPORT_DELAY:
        return session
    return calendar.next_session(local_day)


def report_alert(report: DayReport, at: datetime, *, with_html: bool) -> Alert:
    """The day report as a daily-report alert: the text, and with `with_html` the HTML page
    with the equity chart inline (drawing it takes seconds of CPU: only for channels that show
    it). One per day: the day is its dedup key."""
    email = report_email(report) if with_html else None
    return Alert(
        kind=AlertKind.DAILY_REPORT,
        severity=Severity.INFO,
        headline=f"{report.day.isoformat()}: {report.figures()}",
        body=report.render(),
        at=at,
        dedup_key=report.day.isoformat(),
        html=email.html if email is not None else None,
        attachments=()
        if email is None
        else tuple(
            Attachment(i.filename, i.mime_type, i.data, content_id=i.content_id)
            for i in email.images
        ),
    )


def alert_sink(alerts: Notifier, clock: Clock, *, with_html: bool) -> ReportSink:
    """An `on_report` that sends each day report through `alerts`; the chart and HTML are
    rendered in a worker thread, so the event loop (and the risk-watch) never waits on them."""

    async def send(report: DayReport) -> None:
        alert = await asyncio.to_thread(report_alert, report, clock.now(), with_html=with_html)
        await alerts.alert(alert)

    return send


class DayReportAfterClose:
    """Sleeps until each session's close plus `REPORT_DELAY`, then reports that day."""

    def __init__(
        self,
        *,
        clock: Clock,
        calendar: SessionCalendar,
        store: Store,
        environment: str,
        on_report: ReportSink | None = None,
    ) -> None:
        self._clock = clock
        self._calendar = calendar
        self._store = store
        self._environment = environment
        self._on_report = on_report
        self._alarm = Alarm(clock, "day-report")

    async def run(self) -> None:
        """Report every session after its close, forever (cancel to stop)."""
        while True:
            session = next_report(self._calendar, self._clock.now())
            await self._alarm.sleep_until(session.close + REPORT_DELAY)
            try:
                await self.report(session)
            except Exception:  # a report is a bystander: its failure must not stop the daemon
                log.exception("day report failed", day=session.day.isoformat())

    async def report(self, session: TradingSession) -> DayReport | None:
        """Report `session`'s day now; None when the journal cannot be read."""
        try:
            report = await load_day_report(
                self._store, session.day, environment=self._environment, session=session
            )
        except JournalUnavailable as exc:
            log.warning("day report skipped: the journal is unavailable", error=str(exc))
            return None
        dd = report.drawdown
        log.info(
            "day report",
            day=session.day.isoformat(),
            headline=report.headline(),
            day_pnl=str(report.day_pnl),
            realised_pnl=str(report.realised_pnl),
            trades=len(report.trades),
            open_trades=len(report.open_trades),
            win_rate=None if report.win_rate is None else float(report.win_rate),
            max_drawdown=None if dd is None else str(dd.amount),
            cycles_run=len(report.cycles_run),
            risk_events=len(report.risk_events),
        )
        if self._on_report is not None:
            await self._on_report(report)
        return report
