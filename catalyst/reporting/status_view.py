"""The words of `catalyst status` for a person: fields, tables and alarms, before any styling.

One view, two renderers (`catalyst.reporting.status_render`): rich tables on a terminal, plain
aligned text in a pipe. Times are New York time, as the exchange keeps them; money has two
decimals and a sign where it is a gain or a loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from catalyst.config.models import SessionMode
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.heartbeat import DaemonPresence, Liveness
from catalyst.reporting.status import RECENT_ORDERS, StatusReport
from catalyst.reporting.status_json import pause_fields
from catalyst.reporting.status_positions import PositionLine, Protection
from catalyst.store.records import OrderRecord

STALE_ACCOUNT = timedelta(minutes=5)  # older than a few samples: shown as stale


class Level(StrEnum):
    """How loudly a line should be shown."""

    NORMAL = "normal"
    GOOD = "good"
    WARN = "warn"
    ALARM = "alarm"  # a safety problem: a person should act


@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: str
    level: Level = Level.NORMAL


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    numeric: bool = False  # right-aligned


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[str, ...]
    level: Level = Level.NORMAL


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    empty: str  # said instead of an empty table
    footnote: str | None = None


@dataclass(frozen=True, slots=True)
class StatusView:
    title: str
    alarms: tuple[str, ...]
    fields: tuple[Field, ...]
    tables: tuple[Table, ...]


def status_view(report: StatusReport) -> StatusView:
    """What `catalyst status` says about `report`."""
    now = report.as_of
    return StatusView(
        title=f"catalyst status at {_when(now, now)}",
        alarms=_alarms(report),
        fields=(
            Field("state dir", report.state_dir),
            _daemon_field(report.daemon, now, bool(report.positions)),
            *(
                Field("also alive", _other(d, now), Level.WARN)
                for d in report.other_daemons
                if d.beat is not None
            ),
            Field("environment", f"{report.environment.upper()} via {report.broker}"),
            Field("session mode", report.session_mode),
            _state_field(report, now),
            _pause_field(report),
            _flatten_field(report),
            *_proposals_field(report, now),
            _account_field(report),
            _pnl_field(report),
            _prices_field(report),
            Field("cycles today", str(report.cycles_today)),
            Field("next scan", _when(report.next_scan, now) if report.next_scan else "none"),
        ),
        tables=(
            _positions_table(report.positions, now),
            _orders_table("open orders", report.open_orders, "no open orders"),
            _today_table(report),
            _fills_table(report),
        ),
    )


# ----------------------------------------------------------------------------- words


def _when(at: datetime, now: datetime) -> str:
    local = at.astimezone(EXCHANGE_TZ)
    if local.date() == now.astimezone(EXCHANGE_TZ).date():
        return local.strftime("%H:%M:%S %Z")
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


def _clock(at: datetime) -> str:
    return at.astimezone(EXCHANGE_TZ).strftime("%H:%M:%S")


def duration(span: timedelta) -> str:
    """`42 s`, `12 m 05 s`, `3 h 12 m`, `2 d 03 h`: coarse enough to read at a glance."""
    seconds = int(span.total_seconds())
    if seconds < 0:
        return f"in {duration(-span)}"
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} m {secs:02d} s"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {mins:02d} m"
    days, hrs = divmod(hours, 24)
    return f"{days} d {hrs:02d} h"


def _ago(at: datetime, now: datetime) -> str:
    span = now - at
    return f"{duration(-span)} from now" if span < timedelta(0) else f"{duration(span)} ago"


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _signed(value: Decimal) -> str:
    return f"{value:+,.2f}"


def _price(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4f}"


# ----------------------------------------------------------------------------- fields


def _alarms(report: StatusReport) -> tuple[str, ...]:
    alarms = [f"{p.symbol}: {p.qty} shares, {_unprotected_words(p)}" for p in report.unprotected]
    if report.positions and not report.daemon.alive:
        alarms.append(
            f"{len(report.positions)} open position(s) and no live daemon: nothing watches "
            "them (no risk-watch, no end-of-day flatten); only the stops at the broker stand"
        )
    return tuple(alarms)


def _unprotected_words(line: PositionLine) -> str:
    if line.protection is Protection.NONE:
        return f"NO WORKING STOP ({line.stop_note})" if line.stop_note else "NO WORKING STOP"
    return f"stops cover only {line.stop_qty} of {abs(line.qty)} shares"


def daemon_words(presence: DaemonPresence, now: datetime) -> tuple[str, Level]:
    """One line on this state dir's daemon, and how loudly to say it."""
    beat = presence.beat
    if beat is None:
        return "no daemon has ever checked in for this state dir: none is running", Level.WARN
    who = f"pid {beat.pid} on host {beat.host} (catalyst {beat.version})"
    if presence.liveness is Liveness.ALIVE:
        return (
            f"alive: {who}, trading {beat.trading_state}, last checked in "
            f"{_ago(beat.beat_at, now)}",
            Level.GOOD,
        )
    if presence.liveness is Liveness.STOPPED:
        stopped = beat.stopped_at or beat.beat_at
        return (
            f"not running: {who} stopped cleanly at {_when(stopped, now)} ({_ago(stopped, now)})",
            Level.WARN,
        )
    return (
        f"NOT RUNNING: no daemon has checked in since {_when(beat.beat_at, now)} "
        f"({_ago(beat.beat_at, now)}); the last was {who}, and it never signed off: it "
        "crashed, hangs or cannot reach the database",
        Level.ALARM,
    )


def _daemon_field(presence: DaemonPresence, now: datetime, has_positions: bool) -> Field:
    words, level = daemon_words(presence, now)
    if has_positions and level is Level.WARN:
        level = Level.ALARM  # a book nobody watches
    return Field("daemon", words, level)


def _other(presence: DaemonPresence, now: datetime) -> str:
    beat = presence.beat
    assert beat is not None  # only live ones are listed
    return (
        f"pid {beat.pid} on host {beat.host}, state dir {beat.state_dir} (another daemon on "
        f"this journal, last checked in {_ago(beat.beat_at, now)})"
    )


def _state_field(report: StatusReport, now: datetime) -> Field:
    if report.halt_reason is None and report.trading_state == "active":
        return Field("trading state", "ACTIVE", Level.GOOD)
    words = report.trading_state.upper()
    details = [report.halt_reason or "no reason recorded", f"by {report.halted_by or 'unknown'}"]
    if report.halted_since is not None:
        details.append(f"since {_when(report.halted_since, now)}")
    return Field("trading state", f"{words} ({'; '.join(details)})", Level.ALARM)


def _pause_field(report: StatusReport) -> Field:
    if not report.paused:
        return Field("paused", "no")
    detail = "; ".join(line.strip() for line in (report.pause_detail or "").splitlines())
    return Field("paused", f"yes ({detail})" if detail else "yes", Level.WARN)


def _proposals_field(report: StatusReport, now: datetime) -> tuple[Field, ...]:
    waiting = report.proposals_waiting
    if not waiting:
        supervised = report.session_mode == SessionMode.SUPERVISED
        return (Field("approvals", "none waiting"),) if supervised else ()
    first = waiting[0]  # the soonest to expire
    ids = ", ".join(p.proposal_id for p in waiting)
    return (
        Field(
            "approvals",
            f"{len(waiting)} entr{'y' if len(waiting) == 1 else 'ies'} waiting ({ids}); the first "
            f"expires in {duration(first.expires_at - now)}: catalyst proposals",
            Level.WARN,
        ),
    )


def _flatten_field(report: StatusReport) -> Field:
    view = report.flatten
    if view is None:
        return Field("flatten", "no request pending")
    now = report.as_of
    request = view.request
    fields = pause_fields(request.detail)
    who = f"by {fields.get('requested_by', 'unknown')}, reason: {fields.get('reason', 'none')}"
    made = f"requested {_ago(request.requested_at, now)} {who}"
    if request.dated_by_file:
        made += " (dated by the file's time)"
    if view.expired(now):
        return Field(
            "flatten",
            f"EXPIRED request left ({made}): older than {duration(view.max_age)}, the daemon "
            "removes it unread and flattens nothing",
            Level.WARN,
        )
    left = view.max_age - request.age(now)
    return Field("flatten", f"PENDING ({made}); expires in {duration(left)}", Level.ALARM)


def _account_field(report: StatusReport) -> Field:
    account = report.account
    if account is None:
        return Field(
            "account",
            "none recorded yet (a running daemon's risk-watch records the broker's account "
            "once a minute in session)",
            Level.WARN,
        )
    old = report.as_of - account.at > STALE_ACCOUNT
    return Field(
        "account",
        f"equity {_money(account.equity)}, buying power {_money(account.buying_power)}, "
        f"cash {_money(account.cash)} (as of {_when(account.at, report.as_of)}, "
        f"{_ago(account.at, report.as_of)})",
        Level.WARN if old else Level.NORMAL,
    )


def _pnl_field(report: StatusReport) -> Field:
    words = (
        f"realised {_signed(report.realised_pnl_today)}, "
        f"unrealised {_signed(report.unrealised_pnl)}"
    )
    if report.day_pnl is not None:
        words = f"{_signed(report.day_pnl)} by equity ({words})"
    return Field("P&L today", words)


def _prices_field(report: StatusReport) -> Field:
    oldest = report.prices_as_of
    if oldest is None:
        return Field("prices as of", "- (no positions)")
    return Field("prices as of", f"{_when(oldest, report.as_of)} ({_ago(oldest, report.as_of)})")


# ----------------------------------------------------------------------------- tables

_POSITION_COLUMNS = (
    Column("symbol"),
    Column("qty", numeric=True),
    Column("entry", numeric=True),
    Column("last", numeric=True),
    Column("unreal. P&L", numeric=True),
    Column("stop", numeric=True),
    Column("target", numeric=True),
    Column("age", numeric=True),
    Column("source"),
)


def _positions_table(positions: Sequence[PositionLine], now: datetime) -> Table:
    rows = tuple(_position_row(p, now) for p in positions)
    footnote = None
    if any(not p.opened_by_fill for p in positions):
        footnote = "~ age from when the daemon first saw the position (no opening fill journaled)"
    return Table(
        f"positions ({len(positions)})", _POSITION_COLUMNS, rows, "no open positions", footnote
    )


def _position_row(line: PositionLine, now: datetime) -> Row:
    age = line.age(now)
    age_words = "-" if age is None else duration(age) + ("" if line.opened_by_fill else " ~")
    stop = {
        Protection.PROTECTED: _price(line.stop_price),
        Protection.PARTIAL: f"{_price(line.stop_price)} ({line.stop_qty} sh only)",
        Protection.NONE: "NONE",
    }[line.protection]
    level = Level.NORMAL if line.protection is Protection.PROTECTED else Level.ALARM
    return Row(
        (
            line.symbol,
            str(line.qty),
            _price(line.avg_entry_price),
            _price(line.current_price),
            _signed(line.unrealised_pnl),
            stop,
            _price(line.target_price),
            age_words,
            line.source.value,
        ),
        level,
    )


_ORDER_COLUMNS = (
    Column("created"),
    Column("symbol"),
    Column("side"),
    Column("qty", numeric=True),
    Column("type"),
    Column("role"),
    Column("price", numeric=True),
    Column("status"),
    Column("filled", numeric=True),
    Column("source"),
)


def _order_row(order: OrderRecord) -> Row:
    price = order.limit_price if order.limit_price is not None else order.stop_price
    filled = f"{order.filled_qty}"
    if order.filled_qty and order.filled_avg_price is not None:
        filled += f" @ {_price(order.filled_avg_price)}"
    return Row(
        (
            _clock(order.created_at),
            order.symbol,
            order.side.value,
            str(order.qty),
            order.order_type.value,
            order.role.value,
            _price(price),
            order.status,
            filled,
            order.source.value,
        ),
        Level.WARN if order.error else Level.NORMAL,
    )


def _orders_table(title: str, orders: Sequence[OrderRecord], empty: str) -> Table:
    return Table(f"{title} ({len(orders)})", _ORDER_COLUMNS, tuple(map(_order_row, orders)), empty)


def _today_table(report: StatusReport) -> Table:
    orders = report.orders_today
    counts = ", ".join(f"{status} {n}" for status, n in sorted(report.order_counts_today.items()))
    shown = orders[-RECENT_ORDERS:]
    table = _orders_table("orders today", shown, "no orders today")
    notes = [f"Catalyst's entries and exits by status: {counts}" if counts else None]
    if len(shown) < len(orders):
        notes.append(f"the last {len(shown)} of {len(orders)} (legs included); --json has all")
    footnote = "; ".join(n for n in notes if n) or None
    return Table(f"orders today ({len(orders)})", table.columns, table.rows, table.empty, footnote)


_FILL_COLUMNS = (
    Column("time"),
    Column("symbol"),
    Column("side"),
    Column("qty", numeric=True),
    Column("price", numeric=True),
    Column("role"),
)


def _fills_table(report: StatusReport) -> Table:
    fills = report.fills_today
    shown = fills[-RECENT_ORDERS:]
    rows = tuple(
        Row(
            (
                _clock(f.fill.timestamp),
                f.fill.symbol,
                f.fill.side.value,
                str(f.fill.qty),
                _price(f.fill.price),
                f.role.value if f.role is not None else "-",
            )
        )
        for f in shown
    )
    footnote = None
    if len(shown) < len(fills):
        footnote = f"the last {len(shown)} of {len(fills)}; --json has all"
    return Table(f"fills today ({len(fills)})", _FILL_COLUMNS, rows, "no fills today", footnote)
