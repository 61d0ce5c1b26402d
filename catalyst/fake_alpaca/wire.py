"""HTTP plumbing shared by the fake Alpaca routes: errors, query parsing, JSON encoding.

Alpaca's trading API answers errors as `{"code": <8 digits>, "message": ...}`; its market-data API
as `{"message": ...}`. Handlers raise `ApiError`; a middleware turns it into that response.
alpaca-py sends query values through `str()`, so booleans arrive as `True`/`False`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from aiohttp import web

NOT_FOUND = 40410000
UNPROCESSABLE = 42210000
FORBIDDEN = 40310000
BAD_REQUEST = 40010000
NOT_UNIQUE = 40010001
UNAUTHORIZED = 40110000

# Request bodies: numbers become Decimal so 0.1+0.2 float noise stays visible (and sub-penny).
loads_decimal = partial(json.loads, parse_float=Decimal)


class ApiError(Exception):
    """An error response: `status` and the JSON body to send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def trading_error(status: int, code: int, message: str, **extra: Any) -> ApiError:
    """A trading-API error with Alpaca's `{"code", "message"}` body."""
    return ApiError(status, {"code": code, "message": message, **extra})


def data_error(status: int, message: str) -> ApiError:
    """A market-data-API error (`{"message"}`, no code)."""
    return ApiError(status, {"message": message})


def rfc3339(at: datetime) -> str:
    """`at` as RFC 3339 UTC with a `Z` suffix."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def money(value: Decimal | int) -> str:
    """A money or quantity field as Alpaca sends it: a plain decimal string."""
    return format(Decimal(value), "f")


def json_response(payload: object, status: int = 200) -> web.Response:
    """A JSON response."""
    return web.Response(
        text=json.dumps(payload, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


def query_bool(query: Mapping[str, str], name: str, default: bool = False) -> bool:
    """A boolean query parameter, case-insensitive (`True`, `true`, `1`)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ApiError(400, {"code": BAD_REQUEST, "message": f"invalid {name}: {raw}"})


def query_int(
    query: Mapping[str, str], name: str, default: int, low: int, high: int, *, data: bool = False
) -> int:
    """An integer query parameter within [low, high]."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        message = f"invalid {name}: {raw}"
        raise data_error(400, message) if data else trading_error(422, UNPROCESSABLE, message)
    return value


def parse_time(raw: str, name: str, *, data: bool = False) -> datetime:
    """An RFC 3339 timestamp (or a bare date, taken as UTC midnight) from a query parameter."""
    text = raw.strip().replace(" ", "+")  # an unescaped '+' in a query string reads as a space
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        message = f"invalid {name}: {raw}"
        raise data_error(400, message) if data else trading_error(422, UNPROCESSABLE, message)
    return parsed.astimezone(UTC)


def parse_decimal(value: object, name: str) -> Decimal:
    """A JSON number or numeric string from an order body as a Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal | float):
        raise trading_error(422, UNPROCESSABLE, f"invalid {name}")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise trading_error(422, UNPROCESSABLE, f"invalid {name}: {value}") from None
    if not result.is_finite():
        raise trading_error(422, UNPROCESSABLE, f"invalid {name}: {value}")
    return result
