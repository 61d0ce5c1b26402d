"""The readable end-of-day summary a simulated session (`catalyst demo`) prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession
from catalyst.ports import Broker
from catalyst.reporting.pnl import realised_pnl
from catalyst.store.records import CycleStatus
from catalyst.store.repository import Store

FUNNEL_ORDER = (
    "universe",
    "screened",
    "most_active",
    "catalysts",
    "technicals",
    "selected",
    "rejected_by_risk",
    "orders_placed",
)


@dataclass(frozen=True, slots=True)
class DaySummary:
    day: date
    session_close: str
    scans_run: int
    funnel_totals: dict[str, int]
    entries_placed: int
    orders_by_status: dict[str, int]
    fills: int
    realised_pnl: Decimal
    start_equity: Decimal
    end_equity: Decimal
    open_positions: tuple[str, ...]
    open_orders: int
    trading_state: str

    @property
    def flat(self) -> bool:
        return not self.open_positions and self.open_orders == 0

    def render(self) -> str:
        funnel = " → ".join(f"{k} {self.funnel_totals.get(k, 0)}" for k in FUNNEL_ORDER)
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.orders_by_status.items()))
        day_pnl = self.end_equity - self.start_equity
        lines = [
            f"Catalyst simulated session {self.day.isoformat()} (close {self.session_close})",
            f"  scans run:          {self.scans_run}",
            f"  funnel (all scans): {funnel}",
            f"  entries placed:     {self.entries_placed} bracket orders",
            f"  orders journaled:   {statuses or 'none'}",
            f"  fills:              {self.fills}",
            f"  realised P&L:       {self.realised_pnl:+.2f} USD",
            f"  equity:             {self.start_equity:.2f} → {self.end_equity:.2f} "
            f"(day P&L {day_pnl:+.2f})",
            f"  trading state:      {self.trading_state.upper()}",
            "  at the close:       "
            + (
                "FLAT (no positions, no open orders)"
                if self.flat
                else f"NOT FLAT: positions {list(self.open_positions)}, "
                f"open orders {self.open_orders}"
            ),
        ]
        return "\n".join(lines)


async def summarise_day(store: Store, broker: Broker, session: TradingSession) -> DaySummary:
    """Summarise the session from the journal and the broker."""
    totals: Counter[str] = Counter()
    scans = 0
    for cycle in await store.cycles_for_day(session.day):
        if cycle.status == CycleStatus.COMPLETED:
            scans += 1
        totals.update(cycle.funnel)
    fills = await store.fills_for_day(session.day)
    account = await broker.get_account()
    start_equity = await store.get_or_set_day_start_equity(session.day, account.last_equity)
    positions = await broker.list_positions()
    return DaySummary(
        day=session.day,
        session_close=session.close.astimezone(EXCHANGE_TZ).strftime("%H:%M %Z"),
        scans_run=scans,
        funnel_totals=dict(totals),
        entries_placed=totals.get("orders_placed", 0),
        orders_by_status=await store.order_counts_for_day(session.day),
        fills=len(fills),
        realised_pnl=realised_pnl(fills),
        start_equity=start_equity,
        end_equity=account.equity,
        open_positions=tuple(sorted(p.symbol for p in positions if p.qty != 0)),
        open_orders=len(await broker.list_open_orders()),
        trading_state=(await store.get_trading_state()).status.value,
    )
