"""The dashboard's source: the journal, through the reporting layer, read only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from catalyst.config.models import Settings
from catalyst.ports import Clock
from catalyst.reporting.cycles import CycleDetail
from catalyst.reporting.dashboard import DashboardView, collect_cycle, collect_dashboard
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import SessionCalendar


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
