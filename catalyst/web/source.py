"""The dashboard's source: the journal, through the reporting layer, read only."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from catalyst.config.models import Settings
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.ports import Clock
from catalyst.reporting.cycles import CycleDetail
from catalyst.reporting.dashboard import (
    DashboardView,
    chart_version,
    collect_cycle,
    collect_dashboard,
)
from catalyst.reporting.journal_day import load_day_report
from catalyst.reporting.report_chart import equity_chart_png
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import SessionCalendar

MAX_CACHED_CHARTS = 4


class JournalSource:
    """Implements `catalyst.web.app.DashboardSource` over one store."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        calendar: SessionCalendar,
        *,
        host: str,
        state_dir: Path,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._host = host
        self._state_dir = state_dir
        # Drawing the chart takes a second or more of CPU; a page refreshes every few seconds.
        # So the last drawing per day is kept, keyed by what it shows (`chart_version`).
        self._charts: dict[date, tuple[str, bytes | None]] = {}

    async def dashboard(self, day: date | None) -> DashboardView:
        """The page for `day` (None: today in New York), the live state as of now."""
        return await collect_dashboard(
            self._settings,
            self._store,
            self._clock,
            self._calendar,
            day=day,
            host=self._host,
            state_dir=self._state_dir,
        )

    async def cycle(self, cycle_id: str) -> CycleDetail | None:
        """One cycle's detail, None if the journal has no such cycle."""
        return await collect_cycle(self._store, cycle_id)

    async def chart(self, day: date | None) -> bytes | None:
        """The day's equity chart (PNG), None without equity samples; drawn in a worker thread
        and only again when the day's samples or trades changed."""
        chosen = day if day is not None else self._clock.now().astimezone(EXCHANGE_TZ).date()
        report = await load_day_report(
            self._store,
            chosen,
            environment=self._settings.trading.broker.environment.value,
            session=self._calendar.session(chosen),
        )
        version = chart_version(report)
        cached = self._charts.get(chosen)
        if cached is not None and cached[0] == version:
            return cached[1]
        png = await asyncio.to_thread(equity_chart_png, report)
        if len(self._charts) >= MAX_CACHED_CHARTS:
            self._charts.pop(next(iter(self._charts)))
        self._charts[chosen] = (version, png)
        return png
