"""`POST /v2/orders` bodies, as alpaca-py sends them, parsed into Catalyst `OrderRequest`s.

alpaca-py sends `qty`, `limit_price` and `stop_price` as JSON numbers (`10.0`); they are read as
Decimals so float noise stays visible and is refused as sub-penny by the simulator's rules.
What the simulated account cannot do (notional and fractional orders, extended hours, OCO/OTO,
stop-limit legs, trailing stops) is refused with 422 and a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from catalyst.domain.models import BracketSpec, OrderRequest, OrderType, Side
from catalyst.fake_alpaca.wire import (
    NOT_UNIQUE,
    UNPROCESSABLE,
    parse_decimal,
    trading_error,
)

_TIME_IN_FORCE = frozenset({"day", "gtc", "opg", "cls", "ioc", "fok"})
_TYPES = {t.value: t for t in OrderType}
_MAX_CLIENT_ORDER_ID = 128


def parse_order_request(
    body: dict[str, Any], new_client_order_id: Callable[[], str]
) -> OrderRequest:
    """The `OrderRequest` for an order body; raises `ApiError` (422/400) on what Alpaca refuses."""
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise trading_error(422, UNPROCESSABLE, "symbol is required")
    if body.get("notional") is not None:
        raise trading_error(422, UNPROCESSABLE, "requested asset is not fractionable")
    if body.get("qty") is None:
        raise trading_error(422, NOT_UNIQUE, "qty is required")
    qty = parse_decimal(body["qty"], "qty")
    if qty != qty.to_integral_value():
        raise trading_error(422, NOT_UNIQUE, "qty must be integer")
    if qty <= 0:
        raise trading_error(422, UNPROCESSABLE, "qty must be > 0")
    side = body.get("side")
    if side not in ("buy", "sell"):
        raise trading_error(422, UNPROCESSABLE, f"invalid side: {side}")
    order_type = _TYPES.get(str(body.get("type") or body.get("order_type") or ""))
    if order_type is None:
        raise trading_error(422, UNPROCESSABLE, f"invalid order type: {body.get('type')}")
    time_in_force = body.get("time_in_force")
    if time_in_force not in _TIME_IN_FORCE:
        raise trading_error(422, UNPROCESSABLE, f"invalid time_in_force: {time_in_force}")
    if body.get("extended_hours") is True:
        raise trading_error(
            422, UNPROCESSABLE, "extended hours orders are not supported by the simulator"
        )
    client_order_id = body.get("client_order_id") or new_client_order_id()
    if not isinstance(client_order_id, str) or len(client_order_id) > _MAX_CLIENT_ORDER_ID:
        raise trading_error(422, UNPROCESSABLE, "client_order_id must be <= 128 characters")
    return OrderRequest(
        client_order_id=client_order_id,
        symbol=symbol,
        side=Side(side),
        qty=int(qty),
        type=order_type,
        limit_price=_price(body, "limit_price"),
        stop_price=_price(body, "stop_price"),
        time_in_force=time_in_force,
        bracket=_bracket(body),
    )


def _price(body: dict[str, Any], field: str) -> Decimal | None:
    value = body.get(field)
    return None if value is None else parse_decimal(value, field)


def _bracket(body: dict[str, Any]) -> BracketSpec | None:
    order_class = body.get("order_class") or "simple"
    take_profit = body.get("take_profit")
    stop_loss = body.get("stop_loss")
    if order_class == "simple":
        if take_profit or stop_loss:
            raise trading_error(
                422, UNPROCESSABLE, "take_profit and stop_loss need order_class bracket"
            )
        return None
    if order_class != "bracket":
        raise trading_error(
            422, UNPROCESSABLE, f"order_class {order_class} is not supported by the simulator"
        )
    if not isinstance(take_profit, dict) or take_profit.get("limit_price") is None:
        raise trading_error(422, UNPROCESSABLE, "bracket orders require take_profit.limit_price")
    if not isinstance(stop_loss, dict) or stop_loss.get("stop_price") is None:
        raise trading_error(422, UNPROCESSABLE, "bracket orders require stop_loss.stop_price")
    if stop_loss.get("limit_price") is not None:
        raise trading_error(
            422, UNPROCESSABLE, "stop-limit stop_loss legs are not supported by the simulator"
        )
    if body.get("time_in_force") not in ("day", "gtc"):
        raise trading_error(422, UNPROCESSABLE, "bracket orders must be day or gtc")
    return BracketSpec(
        take_profit_limit=parse_decimal(take_profit["limit_price"], "take_profit.limit_price"),
        stop_loss_stop=parse_decimal(stop_loss["stop_price"], "stop_loss.stop_price"),
    )
