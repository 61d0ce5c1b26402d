"""`catalyst status`: the trading state, pause flag, positions, today's P&L and the next scan.

Read from the journal and the pause flag only: no broker call and no credentials needed, so an
operator can always run it. Positions are the mirror the daemon last reconciled.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from catalyst.config.models import Settings
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.heartbeat import DaemonPresence, others_alive, presence_for
from catalyst.ops.pause_flag import PauseFlag
from catalyst.ports import Clock
from catalyst.reporting.pnl import realised_pnl
from catalyst.store.records import CycleStatus, PositionRecord
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import SessionCalendar
from catalyst.timekeeping.day_plan import plan_for
from catalyst.timekeeping.triggers import SessionTimesTrigger


@dataclass(frozen=True, slots=True)
class StatusReport:
    environment: str  # paper or live
    session_mode: str  # autonomous or scan_only
    broker: str
    trading_state: str
    halt_reason: str | None
    halted_by: str | None
    paused: bool
    pause_detail: str | None
    positions: tuple[PositionRecord, ...]
    realised_pnl_today: Decimal
    unrealised_pnl: Decimal
    cycles_today: int
    next_scan: datetime | None
    state_dir: str = ""
    daemon: DaemonPresence | None = None  # this state dir's daemon, from its heartbeat
    other_daemons: tuple[DaemonPresence, ...] = ()  # live ones elsewhere on this journal

    def as_dict(self) -> dict[str, object]:
        return {
            "state_dir": self.state_dir,
            "daemon": self.daemon.as_dict() if self.daemon is not None else None,
            "other_live_daemons": [
                {**d.as_dict(), "state_dir": d.beat.state_dir if d.beat else None}
                for d in self.other_daemons
            ],
            "environment": self.environment,
            "session_mode": self.session_mode,
            "broker": self.broker,
            "trading_state": self.trading_state,
            "halt_reason": self.halt_reason,
            "halted_by": self.halted_by,
            "paused": self.paused,
            "pause_detail": self.pause_detail,
            "positions": [
                {
                    "symbol": p.symbol,
                    "qty": p.qty,
                    "avg_entry_price": str(p.avg_entry_price),
                    "current_price": str(p.current_price),
                    "source": p.source.value,
                }
                for p in self.positions
            ],
            "realised_pnl_today": str(self.realised_pnl_today),
            "unrealised_pnl": str(self.unrealised_pnl),
            "cycles_today": self.cycles_today,
            "next_scan": self.next_scan.isoformat() if self.next_scan else None,
        }

    def _pause_line(self) -> str:
        if not self.paused:
            return "no"
        detail = "; ".join(line.strip() for line in (self.pause_detail or "").splitlines())
        return f"yes ({detail})" if detail else "yes"

    def render(self) -> str:
        state = self.trading_state.upper()
        if self.halt_reason:
            state += f" ({self.halt_reason}; by {self.halted_by})"
        lines = [
            f"state dir:      {self.state_dir}",
            f"daemon:         {self.daemon.describe() if self.daemon else 'unknown'}",
        ]
        lines += [
            f"  also alive on this database: host {d.beat.host}, state dir {d.beat.state_dir}"
            for d in self.other_daemons
            if d.beat is not None
        ]
        lines += [
            f"environment:    {self.environment.upper()} via {self.broker}",
            f"session mode:   {self.session_mode}",
            f"trading state:  {state}",
            f"paused:         {self._pause_line()}",
            f"positions:      {len(self.positions)}",
        ]
        lines += [
            f"  {p.symbol:<6} {p.qty:>6} @ {p.avg_entry_price} (last {p.current_price})"
            for p in self.positions
        ]
        next_scan = (
            self.next_scan.astimezone(EXCHANGE_TZ).strftime("%Y-%m-%d %H:%M %Z")
            if (self.next_scan)
            else "none scheduled"
        )
        lines += [
            f"P&L today:      realised {self.realised_pnl_today:+.2f}, "
            f"unrealised {self.unrealised_pnl:+.2f}",
            f"cycles today:   {self.cycles_today}",
            f"next scan:      {next_scan}",
        ]
        return "\n".join(lines)


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
    where = str(state_dir if state_dir is not None else settings.trading.paths.state_dir.absolute())
    beats = await store.heartbeats()
    day = now.astimezone(EXCHANGE_TZ).date()
    state = await store.get_trading_state()
    flag = PauseFlag(settings.trading.paths.resolved_pause_file)
    positions = tuple(await store.list_positions())
    trigger = SessionTimesTrigger(
        calendar, lambda session: plan_for(session, settings.trading).scan_times
    )
    return StatusReport(
        environment=settings.trading.broker.environment.value,
        session_mode=settings.trading.trading_session.mode.value,
        broker=settings.trading.broker.kind,
        trading_state=state.status.value,
        halt_reason=state.reason if state.is_halted else None,
        halted_by=state.changed_by if state.is_halted else None,
        paused=flag.is_set(),
        pause_detail=flag.describe(),
        positions=positions,
        realised_pnl_today=realised_pnl(await store.fills_for_day(day)),
        unrealised_pnl=sum(
            ((p.current_price - p.avg_entry_price) * p.qty for p in positions), Decimal(0)
        ),
        cycles_today=sum(
            1 for c in await store.cycles_for_day(day) if c.status != CycleStatus.MISSED
        ),
        next_scan=trigger.get_next_fire_time(None, now),
        state_dir=where,
        daemon=presence_for(beats, host, where, now),
        other_daemons=tuple(others_alive(beats, host, where, now)),
    )
