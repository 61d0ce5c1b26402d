"""The heap left by start-up is frozen out of the garbage collector's reach before READY=1.

Only a supervisor built with `freeze_heap=True` (`catalyst run`, one supervisor per process)
freezes; simulated days and tests run many supervisors in one process and must not.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from stubs import sim_components
from support import make_settings

from catalyst.daemon.supervisor import Supervisor
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.store.migrate import upgrade_database
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)


class ReadyWatcher(SystemdNotifier):
    """A disabled notifier that notes how many objects were frozen when READY=1 was sent."""

    def __init__(self) -> None:
        super().__init__(None)
        self.frozen_at_ready: int | None = None

    def ready(self) -> bool:
        self.frozen_at_ready = gc.get_freeze_count()
        return super().ready()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()  # whatever froze before, the test starts from nothing frozen
    yield
    gc.unfreeze()  # and leaves the test process's collector as it found it


async def _start_and_stop(tmp_path: Path, url: str, *, freeze_heap: bool) -> ReadyWatcher:
    await asyncio.to_thread(upgrade_database, url)
    settings = make_settings(tmp_path, simulation={"symbols": 50})
    start = datetime.combine(DAY, time(8, 0), tzinfo=EXCHANGE_TZ)
    clock = SimClock(start)
    components = await sim_components(settings, clock, url)
    watcher = ReadyWatcher()
    supervisor = Supervisor(
        components,
        systemd=watcher,
        simulated_until=start.replace(minute=1),  # stops before the first scan
        freeze_heap=freeze_heap,
    )
    try:
        await supervisor.run()
    finally:
        await components.close()
    return watcher


@pytest.mark.usefixtures("unfrozen")
async def test_a_supervisor_told_to_freeze_the_heap_has_frozen_it_when_it_reports_ready(
    tmp_path: Path, sqlite_url: str
) -> None:
    watcher = await _start_and_stop(tmp_path, sqlite_url, freeze_heap=True)

    assert watcher.frozen_at_ready is not None
    assert watcher.frozen_at_ready > 10_000  # modules, config, components: the whole heap


@pytest.mark.usefixtures("unfrozen")
async def test_a_supervisor_leaves_the_collector_alone_by_default(
    tmp_path: Path, sqlite_url: str
) -> None:
    watcher = await _start_and_stop(tmp_path, sqlite_url, freeze_heap=False)

    assert watcher.frozen_at_ready == 0
