"""What every entry goes through before and when it is sent, whoever decided it.

Shared by the scan cycle (autonomous entries, supervised proposals) and the approval watch
(approved proposals), so an entry a person approved passes exactly the checks one the cycle
placed on its own did: the book as the broker reports it now, the journal's halt, the pause flag
and the day's entry window, then the same bracket order through the same submitter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from catalyst.config.models import Settings
from catalyst.domain.models import Account, BracketSpec, LegRole, OrderRequest, OrderType, Side
from catalyst.domain.plans import TradePlan
from catalyst.execution.order_ids import client_order_id
from catalyst.execution.submitter import OrderSubmitter, Outcome
from catalyst.ops.pause_flag import PauseFlag
from catalyst.ports import Broker, Clock
from catalyst.risk.cooldown import cooling_down
from catalyst.risk.exposure import open_risk
from catalyst.risk.rules import BookState
from catalyst.store.records import OrderIntent
from catalyst.store.repository import Store
from catalyst.timekeeping.day_plan import DayPlan


async def read_book(
    *,
    broker: Broker,
    store: Store,
    clock: Clock,
    settings: Settings,
    plan: DayPlan,
    pause_flag: PauseFlag,
    sectors: Mapping[str, str | None] | None = None,
) -> tuple[Account, BookState]:
    """The account and the book the pre-trade rules judge an entry against, as of now.

    `sectors` of the held names: the scan's asset list, or (None) the journal's securities."""
    limits = settings.risk.risk_limits
    account = await broker.get_account()
    positions = await broker.list_positions()
    if sectors is None:
        sectors = await store.sectors([p.symbol for p in positions])
    open_orders = await broker.list_open_orders()
    start_equity = await store.get_or_set_day_start_equity(plan.session.day, account.last_equity)
    state = await store.get_trading_state()
    stop_outs = await store.stop_outs_for_day(plan.session.day)
    book = BookState(
        equity=account.equity,
        buying_power=account.buying_power,
        positions=positions,
        open_entry_symbols=frozenset(o.symbol for o in open_orders),
        sectors=sectors,
        day_pnl=account.equity - start_equity,
        trading_halted=state.is_halted,
        paused=pause_flag.is_set(),
        entries_allowed_now=plan.entries_allowed_at(clock.now()),
        open_risk=open_risk(
            positions, open_orders, Decimal(str(settings.trading.workflow.stop_loss_pct))
        ),
        cooling_down=cooling_down(stop_outs, clock.now(), limits.stop_out_cooldown_minutes),
    )
    return account, book


async def late_block_reason(
    *, entries_stopped: Callable[[], bool], pause_flag: PauseFlag, store: Store
) -> str | None:
    """Why no entry may be sent this instant, or None; asked right before each send (the
    risk-watch may have halted, or a person paused, since the book was read)."""
    if entries_stopped():
        return "daemon stopping"
    if pause_flag.is_set():
        return "paused"
    if (await store.get_trading_state()).is_halted:
        return "halted"
    return None


def entry_order_id(cycle_id: str, symbol: str) -> str:
    """The entry's client_order_id: one per (cycle, symbol), whether the cycle placed it or a
    person approved its proposal, so neither path can ever order it twice."""
    return client_order_id(cycle_id, symbol, "entry")


async def place_bracket(
    *,
    broker: Broker,
    submitter: OrderSubmitter,
    clock: Clock,
    cycle_id: str,
    trade: TradePlan,
) -> str | None:
    """Send `trade` as a bracket entry (journaled first); None once the broker has it, else why
    not."""
    request = OrderRequest(
        client_order_id=entry_order_id(cycle_id, trade.symbol),
        symbol=trade.symbol,
        side=Side.BUY,
        qty=trade.qty,
        type=OrderType.LIMIT,
        limit_price=trade.entry_price,
        bracket=BracketSpec(take_profit_limit=trade.target_price, stop_loss_stop=trade.stop_price),
    )
    intent = OrderIntent.from_request(
        request, role=LegRole.ENTRY, created_at=clock.now(), cycle_id=cycle_id
    )
    result = await submitter.place(intent, lambda: broker.submit_order(request))
    if result.outcome is Outcome.PLACED:
        return None
    return f"{result.outcome.value}: {result.reason}"
