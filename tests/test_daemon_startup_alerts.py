"""Alerts raised before the supervisor's delivery task runs survive a stop during start-up.

During start-up (reconciliation, the account lock) alerts only queue: the task that sends them
starts with the others. A stop requested then must leave them in the alert journal, where the
next start finds and sends them.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from pathlib import Path

import pytest
from stubs import sim_components
from support import make_settings

from catalyst.daemon.startup import StopDuringStartup
from catalyst.daemon.stopping import StopRequest
from catalyst.daemon.supervisor import Supervisor
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.notify import events
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.store.migrate import upgrade_database
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
SUBJECT = "[Catalyst PAPER] CRITICAL broker unreachable: down for 0 min"


async def test_a_stop_during_start_up_journals_the_alerts_still_queued(
    tmp_path: Path, db_url: str
) -> None:
    await asyncio.to_thread(upgrade_database, db_url)
    settings = make_settings(tmp_path, simulation={"symbols": 50})
    clock = SimClock(datetime.combine(DAY, time(8, 0), tzinfo=EXCHANGE_TZ))
    components = await sim_components(settings, clock, db_url)
    stop = StopRequest()
    supervisor = Supervisor(components, systemd=SystemdNotifier.from_environment({}), stop=stop)
    try:
        # What a start-up step raised just before SIGTERM arrived.
        down = events.dependency_down("broker", clock.now(), "connection refused", clock.now())
        components.notifier.submit(down)
        stop.request("SIGTERM")
        with pytest.raises(StopDuringStartup):
            await supervisor.run()
        pending = await components.store.pending_alerts(10)
    finally:
        await components.close()

    assert [alert.subject for alert in pending] == [SUBJECT]
