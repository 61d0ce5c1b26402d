"""A restart never silently skips a scan: the real supervisor, killed and started again mid-session.

Each "life" is the whole daemon (every task, the real pipeline, SQLite journal) on one simulated
clock over one simulated exchange; a life ends at a simulated instant (the kill) and the next one
starts later on the same journal and broker, as a restarted process would find them.
Scans 09:15 09:30 10:30 12:00 13:30 15:00, grace 5 minutes (the shipped defaults).
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from stubs import sim_components
from support import make_settings

from catalyst.config.models import Settings
from catalyst.daemon.supervisor import RunRecord, Supervisor
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import upgrade_database
from catalyst.store.records import CycleRecord, CycleStart, CycleStatus
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)


def _et(hhmmss: str) -> datetime:
    return datetime.combine(DAY, time.fromisoformat(hhmmss), tzinfo=EXCHANGE_TZ)


class Rig:
    """One journal, one simulated exchange and one clock shared by the daemon's lives."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.settings: Settings = make_settings(tmp_path, simulation={"symbols": 300})
        self.url = url
        self.clock = SimClock(_et("08:00:00"))
        self.broker: SimBroker = build_sim_broker(
            self.settings.trading.simulation, ExchangeCalendar(), self.clock
        )

    async def life(self, start: str, until: str) -> RunRecord:
        """The daemon started at `start` (simulated) and gone at `until`."""
        self.clock.advance_to(_et(start))
        components = await sim_components(
            self.settings,
            self.clock,
            self.url,
            broker=self.broker,
            entries_stopped=lambda: supervisor.stopping,
        )
        supervisor = Supervisor(
            components, systemd=SystemdNotifier.from_environment({}), simulated_until=_et(until)
        )
        try:
            return await supervisor.run()
        finally:
            await components.close()

    async def cycles(self) -> dict[str, CycleRecord]:
        engine = make_engine(self.url)
        try:
            return {
                c.cycle_id: c for c in await Store(make_session_factory(engine)).cycles_for_day(DAY)
            }
        finally:
            await engine.dispose()


async def _rig(tmp_path: Path, url: str) -> Rig:
    await asyncio.to_thread(upgrade_database, url)
    return Rig(tmp_path, url)


@pytest.mark.slow  # a few daemon lives each
async def test_restart_8_seconds_after_a_scan_runs_it_once_at_start_up(
    tmp_path: Path, sqlite_url: str
) -> None:
    rig = await _rig(tmp_path, sqlite_url)
    await rig.life("08:00:00", until="10:25:00")  # killed at 10:25

    with capture_logs() as logs:
        record = await rig.life("10:30:08", until="10:45:00")

    assert [c.cycle_id for c in record.cycles] == ["20261124-1030"]
    cycles = await rig.cycles()
    assert list(cycles) == ["20261124-0915", "20261124-0930", "20261124-1030"]
    caught_up = cycles["20261124-1030"]
    assert caught_up.status == CycleStatus.COMPLETED
    assert caught_up.triggered_by == "catch-up"
    assert caught_up.started_at == _et("10:30:08")  # at once, after start-up reconciliation
    assert any(e["event"] == "running a scan missed while the daemon was down" for e in logs)


@pytest.mark.slow  # a few daemon lives each
async def test_restart_after_the_grace_journals_the_scan_as_missed_and_does_not_run_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    rig = await _rig(tmp_path, sqlite_url)
    await rig.life("08:00:00", until="10:25:00")

    with capture_logs() as logs:
        record = await rig.life("10:40:00", until="10:50:00")

    assert record.cycles == []
    missed = (await rig.cycles())["20261124-1030"]
    assert missed.status == CycleStatus.MISSED
    assert missed.error_message is not None
    assert "grace" in missed.error_message
    warnings = [e for e in logs if e["event"].startswith("scan missed while the daemon was down")]
    assert [(e["cycle_id"], e["late_seconds"]) for e in warnings] == [("20261124-1030", 600)]

    with capture_logs() as again:  # a later start does not report the same miss twice
        await rig.life("10:55:00", until="11:00:00")
    assert not [e for e in again if e["event"].startswith("scan missed")]


@pytest.mark.slow  # a few daemon lives each
async def test_two_restarts_inside_the_grace_run_the_missed_scan_once(
    tmp_path: Path, sqlite_url: str
) -> None:
    rig = await _rig(tmp_path, sqlite_url)
    await rig.life("08:00:00", until="10:25:00")

    second = await rig.life("10:30:08", until="10:31:00")
    third = await rig.life("10:32:30", until="10:40:00")

    assert [c.cycle_id for c in second.cycles] == ["20261124-1030"]
    assert third.cycles == []
    cycles = await rig.cycles()
    assert cycles["20261124-1030"].status == CycleStatus.COMPLETED
    assert sorted(cycles) == ["20261124-0915", "20261124-0930", "20261124-1030"]


@pytest.mark.slow  # a few daemon lives each
async def test_restart_exactly_at_the_scan_runs_it_on_schedule_not_as_a_catch_up(
    tmp_path: Path, sqlite_url: str
) -> None:
    rig = await _rig(tmp_path, sqlite_url)
    await rig.life("08:00:00", until="10:25:00")

    record = await rig.life("10:30:00", until="10:45:00")

    assert [c.cycle_id for c in record.cycles] == ["20261124-1030"]
    assert (await rig.cycles())["20261124-1030"].triggered_by == "schedule"


async def test_a_missed_cycle_is_a_journal_row_of_its_own_on_each_backend(
    migrated_store: Store,
) -> None:
    at = _et("10:40:00")
    await migrated_store.record_missed_cycle(
        CycleStart("20261124-1030", DAY, 3, "paper", "schedule", at), reason="missed: too late"
    )

    row = await migrated_store.get_cycle("20261124-1030")
    assert row is not None
    assert (row.status, row.started_at, row.finished_at) == (CycleStatus.MISSED, at, at)
    assert (row.trades_executed, row.error_message) == (0, "missed: too late")
    assert await migrated_store.next_cycle_number(DAY) == 4
