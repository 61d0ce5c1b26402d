"""Builders with defaults for the daemon-level tests: the daemon's components over the simulator,
the risk-watch and its siblings.

(Settings come from `support.make_settings`.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from catalyst.config.models import RiskFile, Settings
from catalyst.daemon.components import Components, build_components
from catalyst.execution.flatten import Flattener
from catalyst.execution.submitter import OrderSubmitter
from catalyst.notify.log_notifier import LogNotifier
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.ports import Broker, Clock, Notifier
from catalyst.sim.broker import build_sim_broker
from catalyst.store.repository import Store
from catalyst.tasks.flatten_requests import FlattenRequestWatch
from catalyst.tasks.max_hold import MaxHoldWatch
from catalyst.tasks.risk_watch import RiskWatch
from catalyst.tasks.watch_journal import WatchJournal
from catalyst.timekeeping.calendar import ExchangeCalendar, SessionCalendar


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


def risk_watch(
    broker: Broker,
    store: Store,
    clock: Clock,
    *,
    risk: RiskFile | None = None,
    calendar: SessionCalendar | None = None,
    notifier: Notifier | None = None,
    flattener: Flattener | None = None,
) -> RiskWatch:
    """A risk-watch over `broker` and `store` as the daemon wires it: default risk file, the
    exchange calendar, log notifications and a flattener with its own order submitter."""
    return RiskWatch(
        broker=broker,
        store=store,
        clock=clock,
        calendar=calendar if calendar is not None else ExchangeCalendar(),
        risk=risk if risk is not None else RiskFile(),
        flattener=flattener if flattener is not None else _flattener(broker, store, clock),
        notifier=notifier if notifier is not None else LogNotifier(),
        journal=WatchJournal(store),
    )


def flatten_request_watch(
    request: FlattenRequest, broker: Broker, store: Store, clock: Clock
) -> FlattenRequestWatch:
    """The watch that carries out `request`, wired as the daemon wires it."""
    return FlattenRequestWatch(
        request=request,
        clock=clock,
        calendar=ExchangeCalendar(),
        flattener=_flattener(broker, store, clock),
        journal=WatchJournal(store),
        risk=RiskFile(),
    )


def _flattener(broker: Broker, store: Store, clock: Clock) -> Flattener:
    return Flattener(broker, store, clock, OrderSubmitter(broker, store, clock))


def max_hold_watch(
    broker: Broker,
    store: Store,
    clock: Clock,
    max_hold: timedelta,
    *,
    book_kept_flat: Callable[[], bool] = lambda: False,
) -> MaxHoldWatch:
    """The max-hold watch, wired as the daemon wires it."""
    return MaxHoldWatch(
        broker=broker,
        clock=clock,
        calendar=ExchangeCalendar(),
        flattener=_flattener(broker, store, clock),
        journal=WatchJournal(store),
        max_hold=max_hold,
        book_kept_flat=book_kept_flat,
    )
