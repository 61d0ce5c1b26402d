"""Alpaca and transport exceptions translated into Catalyst's error classes, at the edge.

Two tables, because the same HTTP answer means different things for a read and for a submit:

| failure                          | read / idempotent call       | submit (POST /v2/orders)  |
|----------------------------------|------------------------------|---------------------------|
| timeout, connection error        | RetryableBrokerError         | UnknownOrderOutcome       |
| 5xx                              | RetryableBrokerError         | UnknownOrderOutcome       |
| 429                              | RateLimited (retryable)      | RateLimited (not placed)  |
| "client_order_id must be unique" | -                            | DuplicateClientOrderId    |
| 403 "insufficient buying power"  | -                            | InsufficientBuyingPower   |
| other 400 / 403 / 404 / 422      | NotFound (404), BrokerError  | OrderRejected             |
| 401                              | BrokerAccessDenied           | BrokerAccessDenied        |
| unparseable 2xx body             | BrokerError                  | UnknownOrderOutcome       |

`translating(...)` is the one context manager the adapter wraps every SDK call in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import requests
from alpaca.common.exceptions import APIError
from pydantic import ValidationError

from catalyst.domain.errors import (
    BrokerAccessDenied,
    BrokerError,
    DuplicateClientOrderId,
    InsufficientBuyingPower,
    NotFound,
    OperationalError,
    OrderRejected,
    RetryableBrokerError,
    UnknownOrderOutcome,
)


class RateLimited(RetryableBrokerError):
    """Alpaca answered 429. `reset_at` is when the quota resets, if the server said so."""

    def __init__(self, detail: str, reset_at: datetime | None) -> None:
        self.reset_at = reset_at
        super().__init__(detail)


class Call(Enum):
    """How a failed call must be read: a submit may have created an order, a read cannot."""

    READ = "read"
    SUBMIT = "submit"


@dataclass(frozen=True, slots=True)
class HttpFailure:
    """What an `APIError` carries, read defensively (bodies may lack `code` or not be JSON)."""

    status: int | None
    code: int | None
    message: str
    reset_at: datetime | None


def describe_api_error(exc: APIError) -> HttpFailure:
    """Status, Alpaca error code, message and rate-limit reset time of an `APIError`."""
    body = str(exc)
    code: int | None = None
    message = body.strip() or "empty error body"
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        raw_code = decoded.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        raw_message = decoded.get("message")
        if isinstance(raw_message, str) and raw_message:
            message = raw_message
    status = exc.status_code
    return HttpFailure(
        status=status if isinstance(status, int) else None,
        code=code,
        message=message,
        reset_at=_reset_at(exc),
    )


def _reset_at(exc: APIError) -> datetime | None:
    response = exc.response
    if not isinstance(response, requests.Response):
        return None
    # Alpaca documents both spellings (X-Ratelimit-Reset, X-RateLimit-Reset); headers are
    # case-insensitive in requests.
    raw = response.headers.get("X-RateLimit-Reset")
    if raw is None:
        return None
    try:
        return datetime.fromtimestamp(float(raw), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def translate(
    exc: BaseException, call: Call, *, client_order_id: str | None = None, action: str = ""
) -> BrokerError | OperationalError | None:
    """The Catalyst error for `exc`, or None when `exc` is not a broker failure we know."""
    where = f"{action}: " if action else ""
    if isinstance(exc, APIError):
        return _translate_http(describe_api_error(exc), call, client_order_id, where)
    if isinstance(exc, requests.RequestException):
        detail = f"{where}{type(exc).__name__}: {exc}"
        if call is Call.SUBMIT:
            return UnknownOrderOutcome(_cid(client_order_id), detail)
        return RetryableBrokerError(detail)
    if isinstance(exc, ValidationError | ValueError):
        # A 2xx we cannot parse: the request itself went through.
        detail = f"{where}unexpected response from Alpaca: {exc}"
        if call is Call.SUBMIT:
            return UnknownOrderOutcome(_cid(client_order_id), detail)
        return BrokerError(detail)
    return None


def _translate_http(
    failure: HttpFailure, call: Call, client_order_id: str | None, where: str
) -> BrokerError | OperationalError:
    status = failure.status
    detail = f"{where}HTTP {status}: {failure.message}"
    if status == 429:
        return RateLimited(detail, failure.reset_at)
    if status is None or status >= 500:
        if call is Call.SUBMIT:
            return UnknownOrderOutcome(_cid(client_order_id), detail)
        return RetryableBrokerError(detail)
    if status == 401:
        return BrokerAccessDenied(f"{detail} (check the Alpaca API key)")
    if call is Call.SUBMIT:
        cid = _cid(client_order_id)
        lowered = failure.message.lower()
        if "client_order_id must be unique" in lowered:
            return DuplicateClientOrderId(cid)
        if "insufficient buying power" in lowered:
            return InsufficientBuyingPower(cid, failure.message)
        return OrderRejected(cid, failure.message)
    if status == 404:
        return NotFound(detail)
    return BrokerError(detail)


def _cid(client_order_id: str | None) -> str:
    return client_order_id if client_order_id is not None else "<unknown>"


@contextmanager
def translating(
    call: Call, *, client_order_id: str | None = None, action: str = ""
) -> Iterator[None]:
    """Re-raise Alpaca/requests/pydantic failures inside the block as Catalyst errors."""
    try:
        yield
    except (APIError, requests.RequestException, ValidationError, ValueError) as exc:
        mapped = translate(exc, call, client_order_id=client_order_id, action=action)
        if mapped is None:  # pragma: no cover - every caught type maps
            raise
        raise mapped from exc
