"""Builders with defaults for the daemon-level tests: the daemon's components over the simulator.

(Settings come from `support.make_settings`.)
"""

from __future__ import annotations

from collections.abc import Callable

from catalyst.config.models import Settings
from catalyst.daemon.components import Components, build_components
from catalyst.notify.log_notifier import LogNotifier
from catalyst.ports import Broker, Clock
from catalyst.sim.broker import build_sim_broker
from catalyst.timekeeping.calendar import ExchangeCalendar


async def sim_components(
    settings: Settings,
    clock: Clock,
    database_url: str,
    *,
    broker: Broker | None = None,
    calendar: ExchangeCalendar | None = None,
    entries_stopped: Callable[[], bool] = lambda: False,
) -> Components:
    """The daemon's components as the daemon-level tests build them: the exchange calendar, log
    notifications and, unless `broker` is given, a simulated broker for `settings`.

    The database at `database_url` must be migrated already.
    """
    calendar = calendar if calendar is not None else ExchangeCalendar()
    if broker is None:
        broker = build_sim_broker(settings.trading.simulation, calendar, clock)
    return await build_components(
        settings,
        clock=clock,
        broker=broker,
        calendar=calendar,
        notifier=LogNotifier(),
        database_url=database_url,
        entries_stopped=entries_stopped,
    )
