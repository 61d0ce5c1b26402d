"""Read one trading day out of the journal into a `DayReport` (the only I/O of the report)."""

from __future__ import annotations

from datetime import date

from catalyst.domain.models import LegRole, TradingSession
from catalyst.execution.purposes import exit_purposes
from catalyst.reporting.day_report import DayReport
from catalyst.reporting.equity import EquityPoint
from catalyst.reporting.trades import pair_trades
from catalyst.store.records import OrderSource
from catalyst.store.repository import Store


async def load_day_report(
    store: Store, day: date, *, environment: str, session: TradingSession | None
) -> DayReport:
    """The report of the New York trading `day` from `store` (reads only).

    The equity curve is the risk-watch's account snapshots within `session` (open to close:
    the samples it takes outside the session do not count towards the intraday drawdown); the
    baseline is the day's starting equity they carry, else the one the risk-watch recorded.
    """
    fills = await store.fills_for_day(day)
    orders = {o.client_order_id: o for o in await store.orders_for_day(day)}
    events = await store.risk_events_for_day(day)
    closing = [
        (o.client_order_id, o.symbol)
        for o in orders.values()
        if o.source == OrderSource.CATALYST and o.role in (LegRole.EXIT, LegRole.STOP_LOSS)
    ]
    purposes = exit_purposes(day, closing, [(e.kind, e.at) for e in events])
    snapshots = await store.account_snapshots_for_day(day)
    in_session = [s for s in snapshots if session is None or session.open <= s.at <= session.close]
    start_equity = snapshots[0].day_start_equity if snapshots else await store.day_start_equity(day)
    return DayReport.build(
        day,
        environment=environment,
        trades=pair_trades(fills, orders, purposes),
        cycles=await store.cycles_for_day(day),
        risk_events=events,
        equity=[EquityPoint(s.at, s.equity) for s in in_session],
        start_equity=start_equity,
    )
