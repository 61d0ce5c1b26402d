"""What the web dashboard shows: the live state, and one trading day's cycles, curve and events.

Gathered from the journal (and the pause flag) only, like `catalyst status`: the dashboard needs
no broker and no credentials, and reads the same records that `status`, `cycles` and `report`
read, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from catalyst.config.models import Settings
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.ports import Clock
from catalyst.reporting.cycles import CycleDetail, CycleList
from catalyst.reporting.day_report import DayReport
from catalyst.reporting.journal_day import load_day_report
from catalyst.reporting.proposals import ProposalList
from catalyst.reporting.status import StatusReport, collect_status
from catalyst.store.records import AccountSnapshotRecord, RiskEventRecord
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import SessionCalendar


@dataclass(frozen=True, slots=True)
class DashboardView:
    """The page's content: `status` is as of `as_of`; the rest belongs to `day`."""

    day: date
    as_of: datetime
    status: StatusReport
    cycles: CycleList
    risk_events: tuple[RiskEventRecord, ...]
    equity: tuple[AccountSnapshotRecord, ...]
    report: DayReport  # the day's trades, P&L, drawdown and equity curve, as `catalyst report`
    proposals: ProposalList  # supervised mode: the day's entry proposals, open ones first

    @property
    def chart_version(self) -> str:
        """Changes whenever the day's chart would: the page's image address carries it."""
        return chart_version(self.report)

    @property
    def is_today(self) -> bool:
        return self.day == self.as_of.astimezone(EXCHANGE_TZ).date()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (the dashboard's `/api/dashboard`): Decimals as strings, ISO times."""
        return {
            "day": self.day.isoformat(),
            "as_of": self.as_of.isoformat(),
            "status": self.status.as_dict(),
            "cycles": self.cycles.as_dict()["cycles"],
            "risk_events": [
                {
                    "at": e.at.isoformat(),
                    "kind": e.kind.value,
                    "severity": e.severity.value,
                    "message": e.message,
                }
                for e in self.risk_events
            ],
            "equity": [
                {"at": s.at.isoformat(), "equity": str(s.equity), "day_pnl": str(s.day_pnl)}
                for s in self.equity
            ],
            "report": self.report.as_dict(),
            "proposals": self.proposals.as_dict(),
        }


def chart_version(report: DayReport) -> str:
    """What the chart of `report` shows, as a short key: its samples and its trades' fills."""
    last = report.equity[-1].at.isoformat() if report.equity else "-"
    fills = sum(len(t.entries) + len(t.exits) for t in report.trades)
    return f"{len(report.equity)}-{last}-{fills}"


async def collect_dashboard(
    settings: Settings,
    store: Store,
    clock: Clock,
    calendar: SessionCalendar,
    *,
    day: date | None = None,
    host: str | None = None,
    state_dir: Path | None = None,
) -> DashboardView:
    """The dashboard for `day` (default: today in New York), the live state as of now."""
    now = clock.now()
    chosen = day if day is not None else now.astimezone(EXCHANGE_TZ).date()
    start = datetime.combine(chosen, time(), tzinfo=EXCHANGE_TZ)
    end = start + timedelta(days=1)
    status = await collect_status(settings, store, clock, calendar, host=host, state_dir=state_dir)
    events = [e for e in await store.risk_events_since(start) if e.at < end]
    report = await load_day_report(
        store,
        chosen,
        environment=settings.trading.broker.environment.value,
        session=calendar.session(chosen),
    )
    day_proposals = tuple(p for p in await store.proposals(since=start) if p.created_at < end)
    return DashboardView(
        day=chosen,
        as_of=now,
        status=status,
        cycles=CycleList(chosen, tuple(await store.cycles_for_day(chosen))),
        risk_events=tuple(events),
        equity=tuple(await store.account_snapshots_for_day(chosen)),
        report=report,
        proposals=ProposalList(now, day_proposals, where="", everything=True),
    )


async def collect_cycle(store: Store, cycle_id: str) -> CycleDetail | None:
    """One cycle with every symbol at every stage it reached, or None if there is no such cycle."""
    cycle = await store.get_cycle(cycle_id)
    if cycle is None:
        return None
    return CycleDetail(cycle, tuple(await store.scan_results_for_cycle(cycle_id)))
