"""A broker outage: the risk-watch keeps beating (no watchdog restart loop), alerts a person once
after a minute, and says when the broker is back."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from pathlib import Path

from faulty_broker import FaultyBroker
from structlog.testing import capture_logs
from stubs import risk_watch

from catalyst.config.models import SimulationConfig
from catalyst.domain.alerts import Alert, AlertKind
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.sim.broker import build_sim_broker
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

START = datetime.combine(date(2026, 11, 24), time(10, 0), tzinfo=EXCHANGE_TZ)


class Inbox:
    def __init__(self) -> None:
        self.alerts: list[tuple[AlertKind, bool]] = []

    async def alert(self, alert: Alert) -> None:
        self.alerts.append((alert.kind, alert.critical))


async def test_outage_keeps_the_heartbeat_alerts_once_and_reports_recovery(
    tmp_path: Path, migrated_store: Store
) -> None:
    clock = SimClock(START)
    calendar = ExchangeCalendar()
    broker = FaultyBroker(build_sim_broker(SimulationConfig(symbols=20), calendar, clock))
    broker.faults.fail_account = 100  # 150 s of outage at one check every 1.5 s
    inbox = Inbox()
    watch = risk_watch(broker, migrated_store, clock, calendar=calendar, notifier=inbox)

    async def watch_for(span: timedelta) -> None:
        async def run() -> None:
            async with clock.participant():
                await watch.run()

        task = asyncio.create_task(run())
        await clock.sleep_until(START + span)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with capture_logs() as logs:
        await watch_for(timedelta(minutes=4))

    assert inbox.alerts == [(AlertKind.BROKER_OUTAGE, True), (AlertKind.BROKER_RECOVERED, False)]
    events = await migrated_store.risk_events_since(START)
    assert [e.kind for e in events] == ["broker_outage"]
    assert watch.last_beat is not None
    assert START + timedelta(minutes=3) < watch.last_beat
    messages = [e["event"] for e in logs]
    assert messages.count("risk-watch: broker unavailable; the daily loss cannot be measured") == 1
    assert "risk-watch: broker reachable again" in messages
