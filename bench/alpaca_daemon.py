"""What the benchmarks through the Alpaca adapter share: the shipped settings with a few
overrides, and the daemon's components talking to the fake Alpaca server (paper, test keys) over
the simulated exchange, on a simulated clock. Imported by the scripts beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from catalyst.brokers.alpaca import AlpacaBroker, make_clients
from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.config.loader import load_settings
from catalyst.config.models import Settings
from catalyst.daemon.components import Components, build_components
from catalyst.fake_alpaca.faults import FaultPlan
from catalyst.fake_alpaca.server import start_fake_alpaca
from catalyst.notify import build_notifier
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.migrate import upgrade_database
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

REPO = Path(__file__).resolve().parent.parent


def shipped_settings(symbols: int, schedule: Mapping[str, object] | None = None) -> Settings:
    """The shipped configuration, simulating `symbols` symbols, with `schedule` overrides."""
    base = load_settings(REPO / "config", {})
    updates = {"simulation": base.trading.simulation.model_copy(update={"symbols": symbols})}
    if schedule is not None:
        updates["schedule"] = base.trading.schedule.model_copy(update=dict(schedule))
    return base.model_copy(update={"trading": base.trading.model_copy(update=updates)})


@dataclass
class AlpacaDaemon:
    components: Components
    sim: SimBroker  # the exchange behind the fake server, to set the scene directly


@asynccontextmanager
async def alpaca_daemon(
    settings: Settings,
    url: str,
    clock: SimClock,
    *,
    faults: FaultPlan,
    limiter: RequestLimiter,
    entries_stopped: Callable[[], bool] = lambda: False,
) -> AsyncIterator[AlpacaDaemon]:
    """The daemon's components over a freshly migrated database at `url`, its broker the Alpaca
    adapter talking to the fake Alpaca server (which asks `faults` about every request)."""
    await asyncio.to_thread(upgrade_database, url)
    calendar = ExchangeCalendar()
    sim = build_sim_broker(settings.trading.simulation, calendar, clock)
    server = await start_fake_alpaca(sim.exchange, calendar, clock, faults=faults)
    try:
        clients = make_clients(
            "k", "s", paper=True, trading_url=server.base_url, data_url=server.base_url
        )
        broker = AlpacaBroker(
            trading=clients.trading,
            data=clients.data,
            news=clients.news,
            clock=clock,
            limiter=limiter,
            live=False,
        )
        components = await build_components(
            settings,
            clock=clock,
            broker=broker,
            calendar=calendar,
            notifier=build_notifier(settings, clock=clock),
            database_url=url,
            entries_stopped=entries_stopped,
        )
        try:
            yield AlpacaDaemon(components, sim)
        finally:
            await components.close()
    finally:
        await server.stop()
