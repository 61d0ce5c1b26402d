"""Catalyst domain objects rendered as the JSON Alpaca sends (what alpaca-py's models parse).

Money and quantity fields are strings, as Alpaca sends them (alpaca-py rejects numbers where it
types `str`). Ids Alpaca has but the simulator lacks (asset ids, the account id) are stable uuid5
values, so every run answers the same.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from catalyst.domain.models import Account, Asset, Bar, NewsItem, Order, Position
from catalyst.fake_alpaca.wire import money, rfc3339

_NAMESPACE = uuid.UUID("5f0a3c1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b")
ACCOUNT_ID = str(uuid.uuid5(_NAMESPACE, "account"))
ACCOUNT_NUMBER = "PA3FAKE00001"
# Exchanges alpaca-py's AssetExchange enum accepts; anything else is reported as "".
_ASSET_EXCHANGES = frozenset({"AMEX", "ARCA", "ASCX", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC"})
_PLACES = Decimal("0.0001")


def asset_id(symbol: str) -> str:
    """The stable fake asset id of `symbol`."""
    return str(uuid.uuid5(_NAMESPACE, f"asset:{symbol}"))


def asset_exchange(exchange: str) -> str:
    """`exchange` if alpaca-py's AssetExchange enum knows it, else ""."""
    return exchange if exchange in _ASSET_EXCHANGES else ""


def news_id(sim_id: str) -> int:
    """A stable positive integer id for a simulator news id (Alpaca news ids are integers)."""
    return int.from_bytes(hashlib.sha256(sim_id.encode()).digest()[:6], "big")


@dataclass(frozen=True, slots=True)
class OrderMeta:
    """What Alpaca reports about an order that the simulator's `Order` does not carry."""

    time_in_force: str = "day"
    updated_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None


def _opt_time(at: datetime | None) -> str | None:
    return None if at is None else rfc3339(at)


def _opt_money(value: Decimal | None) -> str | None:
    return None if value is None else money(value)


def order_json(order: Order, meta: dict[str, OrderMeta], *, nested: bool) -> dict[str, Any]:
    """An Alpaca order; `legs` is the nested leg list when `nested` (and it has legs), else null."""
    info = meta.get(order.id, OrderMeta())
    legs = [order_json(leg, meta, nested=False) for leg in order.legs] if nested else []
    submitted = rfc3339(order.submitted_at)
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": submitted,
        "updated_at": _opt_time(info.updated_at) or submitted,
        "submitted_at": submitted,
        "filled_at": _opt_time(info.filled_at),
        "expired_at": _opt_time(info.expired_at),
        "expires_at": None,
        "canceled_at": _opt_time(info.canceled_at),
        "failed_at": _opt_time(info.failed_at),
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": asset_id(order.symbol),
        "symbol": order.symbol,
        "asset_class": "us_equity",
        "notional": None,
        "qty": str(order.qty),
        "filled_qty": str(order.filled_qty),
        "filled_avg_price": _opt_money(order.filled_avg_price),
        "order_class": order.order_class.value,
        "order_type": order.type.value,
        "type": order.type.value,
        "side": order.side.value,
        "position_intent": None,
        "time_in_force": info.time_in_force,
        "limit_price": _opt_money(order.limit_price),
        "stop_price": _opt_money(order.stop_price),
        "status": order.status.value,
        "extended_hours": False,
        "legs": legs or None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "source": None,
        "subtag": None,
    }


def account_json(
    account: Account, long_market_value: Decimal, created_at: datetime
) -> dict[str, Any]:
    """The `/v2/account` object of the simulated cash account (no PDT fields: removed 2026-07)."""
    return {
        "id": ACCOUNT_ID,
        "account_number": ACCOUNT_NUMBER,
        "status": "ACTIVE",
        "currency": "USD",
        "buying_power": money(account.buying_power),
        "regt_buying_power": money(account.buying_power),
        "non_marginable_buying_power": money(account.buying_power),
        "options_buying_power": "0",
        "cash": money(account.cash),
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": money(account.equity),
        "equity": money(account.equity),
        "last_equity": money(account.last_equity),
        "long_market_value": money(long_market_value),
        "short_market_value": "0",
        "initial_margin": "0",
        "maintenance_margin": "0",
        "last_maintenance_margin": "0",
        "sma": "0",
        "multiplier": "1",
        "shorting_enabled": False,
        "trading_blocked": account.trading_blocked,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "created_at": rfc3339(created_at),
        "options_approved_level": 0,
        "options_trading_level": 0,
    }


def asset_json(asset: Asset) -> dict[str, Any]:
    """An Alpaca asset. `sector` is a fake-only extension (Alpaca has no such key)."""
    return {
        "id": asset_id(asset.symbol),
        "class": "us_equity",
        "exchange": asset_exchange(asset.exchange),
        "symbol": asset.symbol,
        "name": asset.name,
        "status": "active",
        "tradable": asset.tradable,
        # The simulated account is cash-only and long-only, in whole shares.
        "marginable": False,
        "shortable": asset.shortable,
        "easy_to_borrow": False,
        "fractionable": asset.fractionable,
        "maintenance_margin_requirement": 100,
        "attributes": [],
        "sector": asset.sector,
    }


@dataclass(frozen=True, slots=True)
class PositionFacts:
    """Per-position numbers the domain `Position` lacks."""

    exchange: str
    lastday_price: Decimal
    intraday_basis: Decimal  # per-share price intraday P&L is measured from
    qty_available: int


def position_json(position: Position, facts: PositionFacts) -> dict[str, Any]:
    """An Alpaca position (every number a string)."""
    qty = position.qty
    cost = position.avg_entry_price * abs(qty)
    value = position.market_value
    pnl = position.unrealized_pnl
    intraday = (position.current_price - facts.intraday_basis) * qty
    intraday_base = facts.intraday_basis * abs(qty)
    last = facts.lastday_price
    return {
        "asset_id": asset_id(position.symbol),
        "symbol": position.symbol,
        "exchange": asset_exchange(facts.exchange),
        "asset_class": "us_equity",
        "asset_marginable": False,
        "avg_entry_price": money(position.avg_entry_price),
        "qty": str(qty),
        "qty_available": str(facts.qty_available),
        "side": "long" if qty > 0 else "short",
        "market_value": money(value),
        "cost_basis": money(cost),
        "unrealized_pl": money(pnl),
        "unrealized_plpc": money(_ratio(pnl, cost)),
        "unrealized_intraday_pl": money(intraday),
        "unrealized_intraday_plpc": money(_ratio(intraday, intraday_base)),
        "current_price": money(position.current_price),
        "lastday_price": money(last),
        "change_today": money(_ratio(position.current_price - last, last)),
    }


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    if whole == 0:
        return Decimal(0)
    return (part / whole).quantize(Decimal("0.0000000001"))


def bar_json(bar: Bar) -> dict[str, Any]:
    """An Alpaca bar (`n` is null: a bar-level simulation has no trade count)."""
    return {
        "t": rfc3339(bar.timestamp),
        "o": float(bar.open),
        "h": float(bar.high),
        "l": float(bar.low),
        "c": float(bar.close),
        "v": bar.volume,
        "n": None,
        "vw": None if bar.vwap is None else float(bar.vwap),
    }


def news_json(item: NewsItem) -> dict[str, Any]:
    """An Alpaca news article (the simulator writes headlines only)."""
    created = rfc3339(item.created_at)
    return {
        "id": news_id(item.id),
        "headline": item.headline,
        "author": "Catalyst Simulator",
        "created_at": created,
        "updated_at": created,
        "summary": "",
        "content": "",
        "url": None,
        "images": [],
        "symbols": list(item.symbols),
        "source": item.source or "simulator",
    }
