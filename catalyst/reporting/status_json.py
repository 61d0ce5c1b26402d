"""The `catalyst status --json` form: stable keys, Decimals as strings, times ISO 8601 with offset.

Every key is always present (null when there is nothing to say), so a script can index without
guarding. The keys of the first version (`trading_state`, `paused`, `positions[].symbol`, ...) are
kept as they were.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report imports this module to serialise itself
    from catalyst.domain.heartbeat import DaemonPresence
    from catalyst.reporting.status import FillLine, StatusReport
    from catalyst.reporting.status_positions import PositionLine
    from catalyst.store.records import OrderRecord


def pause_fields(detail: str | None) -> dict[str, str]:
    """The `key: value` lines a pause flag (or flatten request) carries."""
    fields: dict[str, str] = {}
    for line in (detail or "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip()] = value.strip()
    return fields


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _seconds(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def status_dict(report: StatusReport) -> dict[str, object]:
    """`report` as JSON-ready data."""
    now = report.as_of
    pause = pause_fields(report.pause_detail)
    return {
        "as_of": _time(now),
        "state_dir": report.state_dir,
        "daemon": report.daemon.as_dict(),
        "other_live_daemons": [_other(d) for d in report.other_daemons],
        "environment": report.environment,
        "session_mode": report.session_mode,
        "broker": report.broker,
        "trading_state": report.trading_state,
        "halt_reason": report.halt_reason,
        "halted_by": report.halted_by,
        "halted_since": _time(report.halted_since),
        "paused": report.paused,
        "pause_detail": report.pause_detail,
        "pause": {
            "paused": report.paused,
            "reason": pause.get("reason"),
            "by": pause.get("paused_by"),
            "at": pause.get("paused_at"),
        },
        "flatten_request": _flatten(report),
        "proposals_waiting": [
            {
                "id": p.proposal_id,
                "symbol": p.symbol,
                "qty": p.qty,
                "expires_at": _time(p.expires_at),
            }
            for p in report.proposals_waiting
        ],
        "account": _account(report),
        "pnl_today": {
            "realised": _money(report.realised_pnl_today),
            "unrealised": _money(report.unrealised_pnl),
            "total": _money(report.day_pnl),  # null unless today's account snapshot has it
        },
        "realised_pnl_today": _money(report.realised_pnl_today),
        "unrealised_pnl": _money(report.unrealised_pnl),
        "prices_as_of": _time(report.prices_as_of),
        "positions": [_position(p, now) for p in report.positions],
        "unprotected_positions": [p.symbol for p in report.unprotected],
        "open_orders": [_order(o) for o in report.open_orders],
        "orders_today": {
            "counts": dict(sorted(report.order_counts_today.items())),
            "orders": [_order(o) for o in report.orders_today],
        },
        "fills_today": [_fill(f) for f in report.fills_today],
        "cycles_today": report.cycles_today,
        "next_scan": _time(report.next_scan),
    }


def _other(presence: DaemonPresence) -> dict[str, object]:
    return {**presence.as_dict(), "state_dir": presence.beat.state_dir if presence.beat else None}


def _flatten(report: StatusReport) -> dict[str, object] | None:
    view = report.flatten
    if view is None:
        return None
    request = view.request
    return {
        "requested_at": _time(request.requested_at),
        "dated_by_file": request.dated_by_file,
        "age_seconds": _seconds(request.age(report.as_of).total_seconds()),
        "max_age_seconds": view.max_age.total_seconds(),
        "expired": view.expired(report.as_of),
        "reason": pause_fields(request.detail).get("reason"),
        "by": pause_fields(request.detail).get("requested_by"),
    }


def _account(report: StatusReport) -> dict[str, object] | None:
    account = report.account
    if account is None:
        return None
    return {
        "as_of": _time(account.at),
        "equity": _money(account.equity),
        "cash": _money(account.cash),
        "buying_power": _money(account.buying_power),
        "day_start_equity": _money(account.day_start_equity),
        "day_pnl": _money(account.day_pnl),
    }


def _position(line: PositionLine, now: datetime) -> dict[str, object]:
    age = line.age(now)
    return {
        "symbol": line.symbol,
        "qty": line.qty,
        "avg_entry_price": _money(line.avg_entry_price),
        "current_price": _money(line.current_price),
        "price_at": _time(line.price_at),
        "unrealised_pnl": _money(line.unrealised_pnl),
        "stop_price": _money(line.stop_price),
        "stop_qty": line.stop_qty,
        "target_price": _money(line.target_price),
        "protection": line.protection.value,
        "stop_note": line.stop_note,
        "opened_at": _time(line.opened_at),
        "opened_by_fill": line.opened_by_fill,
        "age_seconds": _seconds(age.total_seconds()) if age is not None else None,
        "entry_client_order_id": line.entry_client_order_id,
        "source": line.source.value,
    }


def _order(order: OrderRecord) -> dict[str, object]:
    return {
        "client_order_id": order.client_order_id,
        "parent_client_order_id": order.parent_client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "qty": order.qty,
        "type": order.order_type.value,
        "role": order.role.value,
        "status": order.status,
        "limit_price": _money(order.limit_price),
        "stop_price": _money(order.stop_price),
        "filled_qty": order.filled_qty,
        "filled_avg_price": _money(order.filled_avg_price),
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
        "source": order.source.value,
    }


def _fill(line: FillLine) -> dict[str, object]:
    fill = line.fill
    return {
        "at": _time(fill.timestamp),
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": _money(fill.price),
        "client_order_id": fill.client_order_id,
        "role": line.role.value if line.role is not None else None,
    }
