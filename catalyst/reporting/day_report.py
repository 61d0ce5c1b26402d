"""`catalyst report`: a trading day as the journal tells it, the figures a person checks after the
close: trades (entry, exit, why, P&L, R), realised P&L, win rate, largest loss, the deepest
intraday fall of equity, the cycles run with their funnels, and the risk events.

Pure: records in (see `journal_day.load_day_report` for where they come from), a `DayReport`
out, which renders itself as text (a 100-column terminal) or a JSON-ready dict. The HTML and the
chart live in `report_html` and `report_chart`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.reporting.cycles import cycle_as_dict
from catalyst.reporting.equity import Drawdown, EquityPoint, max_drawdown
from catalyst.reporting.tables import FUNNEL_ARROW, aligned_cells, column_widths, wrap_items
from catalyst.reporting.trades import DayTrades, Trade
from catalyst.store.records import CycleRecord, CycleStatus, RiskEventRecord

NOT_KNOWN = "-"
NO_SAMPLES = "no equity samples journaled for this day"


@dataclass(frozen=True, slots=True)
class DayReport:
    """One trading day's report; every figure derives from the records it holds."""

    day: date
    environment: str  # "paper" or "live"
    trades: tuple[Trade, ...]
    unmatched_fills: int  # sells no trade of the day explains (a position from an earlier day)
    cycles: tuple[CycleRecord, ...]
    risk_events: tuple[RiskEventRecord, ...]
    equity: tuple[EquityPoint, ...]  # the session's samples, in time order
    start_equity: Decimal | None  # the day's baseline (None: never recorded)

    @classmethod
    def build(
        cls,
        day: date,
        *,
        environment: str,
        trades: DayTrades,
        cycles: Sequence[CycleRecord],
        risk_events: Sequence[RiskEventRecord],
        equity: Sequence[EquityPoint],
        start_equity: Decimal | None,
    ) -> DayReport:
        return cls(
            day=day,
            environment=environment,
            trades=trades.trades,
            unmatched_fills=len(trades.unmatched),
            cycles=tuple(sorted(cycles, key=lambda c: c.cycle_number)),
            risk_events=tuple(risk_events),
            equity=tuple(sorted(equity, key=lambda p: p.at)),
            start_equity=start_equity,
        )

    # ------------------------------------------------------------------ figures

    @property
    def traded(self) -> bool:
        """False for a day the journal knows nothing of (a holiday, a day the daemon was off)."""
        return bool(self.trades or self.cycles or self.risk_events or self.unmatched_fills)

    @property
    def closed_trades(self) -> tuple[Trade, ...]:
        return tuple(t for t in self.trades if not t.is_open)

    @property
    def open_trades(self) -> tuple[Trade, ...]:
        return tuple(t for t in self.trades if t.is_open)

    @property
    def realised_pnl(self) -> Decimal:
        """Realised on every share sold, closed trades and partly closed ones alike."""
        return sum((t.pnl for t in self.trades), Decimal(0))

    @property
    def wins(self) -> int:
        return sum(1 for t in self.closed_trades if t.pnl > 0)

    @property
    def win_rate(self) -> Decimal | None:
        """Closed trades that made money, as a fraction; None without a closed trade."""
        closed = len(self.closed_trades)
        return Decimal(self.wins) / closed if closed else None

    @property
    def largest_loss(self) -> Trade | None:
        """The trade that lost most (None when none lost)."""
        losers = [t for t in self.trades if t.pnl < 0]
        return min(losers, key=lambda t: t.pnl) if losers else None

    @property
    def drawdown(self) -> Drawdown | None:
        return max_drawdown(self.equity)

    @property
    def end_equity(self) -> Decimal | None:
        return self.equity[-1].equity if self.equity else None

    @property
    def day_pnl(self) -> Decimal:
        """The last equity sample less the day's baseline; the realised P&L without them."""
        if self.start_equity is not None and self.end_equity is not None:
            return self.end_equity - self.start_equity
        return self.realised_pnl

    @property
    def cycles_run(self) -> tuple[CycleRecord, ...]:
        """Cycles that ran (missed ones were journaled but never ran)."""
        return tuple(c for c in self.cycles if c.status != CycleStatus.MISSED)

    # ------------------------------------------------------------------ text

    def headline(self) -> str:
        """`2026-11-24 PAPER: day P&L +123.45 USD, 4 trades` (an email's subject)."""
        return f"{self.day.isoformat()} {self.environment.upper()}: {self.figures()}"

    def figures(self) -> str:
        """`day P&L +123.45 USD, 4 trades`, or `no trading`: the headline without day and mode."""
        if not self.traded:
            return "no trading"
        trades = f"{len(self.trades)} trade{'' if len(self.trades) == 1 else 's'}"
        return f"day P&L {self.day_pnl:+.2f} USD, {trades}"

    def summary_lines(self) -> list[tuple[str, str]]:
        """The key figures as (label, value) rows, shared by the text and the HTML."""
        closed = self.closed_trades
        rows = [("day P&L", f"{self.day_pnl:+.2f} USD" + self._equity_note())]
        rows.append(
            (
                "realised P&L",
                f"{self.realised_pnl:+.2f} USD on {len(closed)} closed trade"
                + ("" if len(closed) == 1 else "s"),
            )
        )
        rate = self.win_rate
        rows.append(
            (
                "win rate",
                NOT_KNOWN if rate is None else f"{rate:.0%} ({self.wins} of {len(closed)})",
            )
        )
        loss = self.largest_loss
        rows.append(
            (
                "largest loss",
                "none"
                if loss is None
                else f"{loss.pnl:+.2f} USD ({loss.symbol}, {loss.exit_reason})",
            )
        )
        rows.append(("max drawdown", self._drawdown_text()))
        still = self.open_trades
        rows.append(
            (
                "open at the end",
                "none" if not still else ", ".join(f"{t.symbol} {t.open_qty}" for t in still),
            )
        )
        run = self.cycles_run
        missed = len(self.cycles) - len(run)
        rows.append(("cycles run", f"{len(run)}" + (f" ({missed} missed)" if missed else "")))
        rows.append(("risk events", str(len(self.risk_events))))
        if self.unmatched_fills:
            rows.append(("unmatched sells", f"{self.unmatched_fills} (no entry of this day)"))
        return rows

    def _equity_note(self) -> str:
        if self.start_equity is None or self.end_equity is None:
            return " (realised: no equity samples)"
        return f" (equity {self.start_equity:.2f} → {self.end_equity:.2f})"

    def _drawdown_text(self) -> str:
        dd = self.drawdown
        if dd is None:
            return NO_SAMPLES
        if dd.amount == 0:
            return f"0.00 USD (equity never fell; {len(self.equity)} samples)"
        return (
            f"{-dd.amount:.2f} USD ({dd.fraction:.2%}) from {local_time(dd.peak.at)} "
            f"to {local_time(dd.trough.at)}"
        )

    def render(self) -> str:
        """The report as plain text."""
        title = (
            f"Catalyst day report {self.day.isoformat()} ({self.environment.upper()}), "
            "times America/New_York"
        )
        if not self.traded:
            return (
                f"{title}\nno trading on {self.day.isoformat()}: no cycles, trades or risk "
                "events in the journal"
            )
        width = max(len(label) for label, _ in self.summary_lines()) + 1
        lines = [
            title,
            *(f"  {label + ':':<{width}} {value}" for label, value in self.summary_lines()),
        ]
        lines += ["", *self._trade_table(), "", *self._cycle_table(), "", *self._risk_lines()]
        return "\n".join(lines)

    def _trade_table(self) -> list[str]:
        if not self.trades:
            return ["trades: none"]
        header = ("symbol", "qty", "entry", "at", "exit", "at", "reason", "P&L", "R")
        rows = [trade_cells(t) for t in self.trades]
        widths = column_widths(header, rows)
        right = (False, True, True, False, True, False, False, True, True)
        lines = [f"trades: {len(self.trades)}", aligned_cells(header, widths, right).rstrip()]
        return lines + [aligned_cells(row, widths, right).rstrip() for row in rows]

    def _cycle_table(self) -> list[str]:
        if not self.cycles:
            return ["cycles: none"]
        lines = [f"cycles: {len(self.cycles)}"]
        for c in self.cycles:
            head = (
                f"  #{c.cycle_number} {local_time(c.started_at)} {c.status}, "
                f"candidates {c.candidates_identified}, trades {c.trades_executed}"
            )
            lines.append(head)
            if c.funnel:
                items = [f"{stage} {count}" for stage, count in c.funnel.items()]
                lines += wrap_items("      ", items, FUNNEL_ARROW)
            if c.error_message:
                lines.append(f"      {c.error_message}")
        return lines

    def _risk_lines(self) -> list[str]:
        if not self.risk_events:
            return ["risk events: none"]
        return [f"risk events: {len(self.risk_events)}"] + [
            f"  {local_time(e.at)} {e.severity.upper():<8} {e.kind}: {e.message}"
            for e in self.risk_events
        ]

    # ------------------------------------------------------------------ JSON

    def as_dict(self) -> dict[str, object]:
        """For `--json`: money as decimal strings, times ISO 8601."""
        dd = self.drawdown
        rate = self.win_rate
        loss = self.largest_loss
        return {
            "date": self.day.isoformat(),
            "environment": self.environment,
            "traded": self.traded,
            "day_pnl": str(self.day_pnl),
            "start_equity": _str(self.start_equity),
            "end_equity": _str(self.end_equity),
            "realised_pnl": str(self.realised_pnl),
            "closed_trades": len(self.closed_trades),
            "wins": self.wins,
            "win_rate": None if rate is None else float(rate),
            "largest_loss": None if loss is None else str(loss.pnl),
            "max_drawdown": None
            if dd is None
            else {
                "amount": str(dd.amount),
                "fraction": float(dd.fraction),
                "peak_at": dd.peak.at.isoformat(),
                "trough_at": dd.trough.at.isoformat(),
            },
            "equity_samples": len(self.equity),
            "trades": [trade_as_dict(t) for t in self.trades],
            "unmatched_fills": self.unmatched_fills,
            "cycles": [cycle_as_dict(c) for c in self.cycles],
            "risk_events": [
                {
                    "at": e.at.isoformat(),
                    "kind": e.kind.value,
                    "severity": e.severity.value,
                    "message": e.message,
                }
                for e in self.risk_events
            ],
        }


def trade_cells(t: Trade) -> tuple[str, ...]:
    """One trade's row: symbol, qty, entry and time, exit and time, reason, P&L, R."""
    r = t.r_multiple
    qty = str(t.qty) if not t.is_open else f"{t.qty} ({t.open_qty} open)"
    return (
        t.symbol,
        qty,
        f"{t.entry_price:.2f}",
        local_time(t.entered_at),
        NOT_KNOWN if t.exit_price is None else f"{t.exit_price:.2f}",
        NOT_KNOWN if t.exited_at is None else local_time(t.exited_at),
        t.exit_reason + ("" if t.source == "catalyst" else " (not Catalyst's entry)"),
        f"{t.pnl:+.2f}",
        NOT_KNOWN if r is None else f"{r:+.2f}",
    )


def trade_as_dict(t: Trade) -> dict[str, object]:
    r = t.r_multiple
    return {
        "symbol": t.symbol,
        "entry_client_order_id": t.entry_id,
        "source": t.source.value,
        "qty": t.qty,
        "open_qty": t.open_qty,
        "entry_price": str(t.entry_price),
        "entered_at": t.entered_at.isoformat(),
        "exit_price": _str(t.exit_price),
        "exited_at": None if t.exited_at is None else t.exited_at.isoformat(),
        "exit_reasons": [reason.value for reason in t.exit_reasons],
        "stop": _str(t.stop),
        "target": _str(t.target),
        "pnl": str(t.pnl),
        "r_multiple": None if r is None else str(round(r, 4)),
    }


def local_time(at: datetime) -> str:
    return at.astimezone(EXCHANGE_TZ).strftime("%H:%M:%S")


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
