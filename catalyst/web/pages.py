"""The dashboard's HTML: Jinja2 templates (autoescaped) over the reporting layer's records."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FUNNEL_ORDER
from catalyst.reporting.cycles import CycleDetail, outcome
from catalyst.reporting.dashboard import DashboardView


def _local(at: datetime | None, pattern: str = "%H:%M:%S") -> str:
    return at.astimezone(EXCHANGE_TZ).strftime(pattern) if at is not None else "-"


def _money(value: Decimal | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def _sign_class(value: Decimal | None) -> str:
    if value is None or value == 0:
        return ""
    return "up" if value > 0 else "down"


class Pages:
    """Renders the dashboard's pages; `refresh_seconds` is written into them for the reload."""

    def __init__(self, *, refresh_seconds: int) -> None:
        self._refresh_seconds = refresh_seconds
        self._env = Environment(
            loader=PackageLoader("catalyst.web", "templates"),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,  # a misspelt field fails the test, not the page silently
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(local=_local, money=_money, sign_class=_sign_class)

    def dashboard(self, view: DashboardView) -> str:
        """The day's page: state, account, positions, cycles and risk events."""
        status = view.status
        latest = view.equity[-1] if view.equity else None
        return self._env.get_template("dashboard.html").render(
            view=view,
            status=status,
            latest=latest,
            refresh_seconds=self._refresh_seconds if view.is_today else 0,
            previous_day=(view.day - timedelta(days=1)).isoformat(),
            next_day=(view.day + timedelta(days=1)).isoformat(),
            today=view.as_of.astimezone(EXCHANGE_TZ).date(),
        )

    def cycle(self, detail: CycleDetail) -> str:
        """One cycle: every stage's symbols with their outcome, then the final brackets."""
        stages = [
            (stage.value, [(row, *outcome(row)) for row in detail.results if row.stage is stage])
            for stage in FUNNEL_ORDER
        ]
        return self._env.get_template("cycle.html").render(
            cycle=detail.cycle,
            stages=[(name, rows) for name, rows in stages if rows],
            finals=detail.final_candidates(),
            refresh_seconds=0,
        )

    def not_found(self, message: str) -> str:
        """A page that says what was not there."""
        return self._env.get_template("not_found.html").render(message=message, refresh_seconds=0)
