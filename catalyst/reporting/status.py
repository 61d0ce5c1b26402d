"""`catalyst status`: what the journal, the pause flag and the flatten request say right now.

Read from the journal and the state dir only: no broker call and no credentials needed, so an
operator can always run it (on the simulator the broker lives inside the daemon). Positions are
the mirror the daemon last reconciled and marked, their stops and targets the journal's working
orders; the account figures are the risk-watch's latest snapshot (`account_snapshots`).
`as_dict` is the stable `--json` form (Decimals as strings, times ISO 8601 with their offset);
the words and tables for a person are `catalyst.reporting.status_view`.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from catalyst.config.models import Settings
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.heartbeat import DaemonPresence, others_alive, presence_for
from catalyst.domain.models import Fill, LegRole
from catalyst.domain.positions import position_opened_at
from catalyst.domain.proposals import EntryProposal, ProposalStatus
from catalyst.ops.flatten_request import FlattenRequest, PendingFlatten
from catalyst.ops.pause_flag import PauseFlag
from catalyst.ports import Clock
from catalyst.reporting.pnl import realised_pnl
from catalyst.reporting.status_json import status_dict
from catalyst.reporting.status_positions import PositionLine, position_lines
from catalyst.store.records import AccountSnapshotRecord, CycleStatus, OrderRecord
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import SessionCalendar
from catalyst.timekeeping.day_plan import plan_for
from catalyst.timekeeping.triggers import SessionTimesTrigger

RECENT_ORDERS = 10  # today's orders listed one by one (all are counted)


@dataclass(frozen=True, slots=True)
class FlattenView:
    """A pending flatten request and whether the daemon would still honour it."""

    request: PendingFlatten
    max_age: timedelta

    def expired(self, now: datetime) -> bool:
        return not self.request.is_fresh(now, self.max_age)


@dataclass(frozen=True, slots=True)
class FillLine:
    fill: Fill
    role: LegRole | None  # of the journaled order it filled, None if not journaled


@dataclass(frozen=True, slots=True)
class StatusReport:
    as_of: datetime
    environment: str  # paper or live
    session_mode: str  # autonomous or scan_only
    broker: str
    trading_state: str
    halt_reason: str | None
    halted_by: str | None
    halted_since: datetime | None
    paused: bool
    pause_detail: str | None
    flatten: FlattenView | None
    account: AccountSnapshotRecord | None  # the risk-watch's latest, None before its first
    positions: tuple[PositionLine, ...]
    realised_pnl_today: Decimal
    open_orders: tuple[OrderRecord, ...]
    order_counts_today: dict[str, int]  # Catalyst's top-level orders by status
    orders_today: tuple[OrderRecord, ...]  # every journaled order, legs included, oldest first
    fills_today: tuple[FillLine, ...]
    cycles_today: int
    next_scan: datetime | None
    state_dir: str
    daemon: DaemonPresence
    other_daemons: tuple[DaemonPresence, ...] = ()  # live ones elsewhere on this journal
    # Supervised mode: entries waiting for `catalyst approve` (pending, not yet expired).
    proposals_waiting: tuple[EntryProposal, ...] = ()

    @property
    def unrealised_pnl(self) -> Decimal:
        return sum((p.unrealised_pnl for p in self.positions), Decimal(0))

    @property
    def prices_as_of(self) -> datetime | None:
        """The oldest mark among the positions: every price shown is at least this fresh."""
        return min((p.price_at for p in self.positions), default=None)

    @property
    def day_pnl(self) -> Decimal | None:
        """Today's whole P&L by the broker's equity, when the latest snapshot is today's."""
        account = self.account
        if account is None or _day(account.at) != _day(self.as_of):
            return None
        return account.day_pnl

    @property
    def unprotected(self) -> tuple[PositionLine, ...]:
        return tuple(p for p in self.positions if p.stop_qty < abs(p.qty))

    def as_dict(self) -> dict[str, object]:
        """The `--json` form: these keys are kept stable for scripts."""
        return status_dict(self)


def _day(at: datetime) -> date:
    return at.astimezone(EXCHANGE_TZ).date()


async def collect_status(
    settings: Settings,
    store: Store,
    clock: Clock,
    calendar: SessionCalendar,
    *,
    host: str | None = None,
    state_dir: Path | None = None,
) -> StatusReport:
    """Gather the status report as of `clock.now()` (the daemon is judged by its heartbeat:
    `host` and `state_dir` name the installation asked about, by default this one)."""
    now = clock.now()
    host = host if host is not None else socket.gethostname()
    directory = state_dir if state_dir is not None else settings.trading.paths.state_dir.absolute()
    where = str(directory)
    beats = await store.heartbeats()
    day = _day(now)
    state = await store.get_trading_state()
    flag = PauseFlag(settings.trading.paths.resolved_pause_file)
    max_age = timedelta(seconds=settings.trading.trading_session.flatten_request_max_age_seconds)
    pending = FlattenRequest(directory, max_age=max_age).pending()
    positions = await store.list_positions()
    open_orders = tuple(await store.non_final_orders())
    orders_today = tuple(await store.orders_for_day(day))
    fills_today = await store.fills_for_day(day)
    entries = await store.latest_filled_entries([p.symbol for p in positions])
    legs = {e.client_order_id: await store.legs_of(e.client_order_id) for e in entries.values()}
    # Since the start of yesterday, as the max-hold rule looks: an intraday book opened today.
    since = datetime.combine(day - timedelta(days=1), time(), tzinfo=EXCHANGE_TZ)
    opened = position_opened_at(await store.fills_since(since))
    roles = {o.client_order_id: o.role for o in (*orders_today, *open_orders)}
    waiting = [p for p in await store.proposals({ProposalStatus.PENDING}) if not p.expired_at(now)]
    trigger = SessionTimesTrigger(
        calendar, lambda session: plan_for(session, settings.trading).scan_times
    )
    return StatusReport(
        as_of=now,
        environment=settings.trading.broker.environment.value,
        session_mode=settings.trading.trading_session.mode.value,
        broker=settings.trading.broker.kind,
        trading_state=state.status.value,
        halt_reason=state.reason if state.is_halted else None,
        halted_by=state.changed_by if state.is_halted else None,
        halted_since=state.changed_at if state.is_halted else None,
        paused=flag.is_set(),
        pause_detail=flag.describe(),
        flatten=FlattenView(pending, max_age) if pending is not None else None,
        account=await store.latest_account_snapshot(),
        positions=position_lines(positions, open_orders, entries, legs, opened),
        realised_pnl_today=realised_pnl(fills_today),
        open_orders=open_orders,
        order_counts_today=await store.order_counts_for_day(day),
        orders_today=orders_today,
        fills_today=tuple(FillLine(f, roles.get(f.client_order_id)) for f in fills_today),
        cycles_today=sum(
            1 for c in await store.cycles_for_day(day) if c.status != CycleStatus.MISSED
        ),
        next_scan=trigger.get_next_fire_time(None, now),
        state_dir=where,
        daemon=presence_for(beats, host, where, now),
        other_daemons=tuple(others_alive(beats, host, where, now)),
        proposals_waiting=tuple(sorted(waiting, key=lambda p: p.expires_at)),
    )
