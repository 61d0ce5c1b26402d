"""How every Alpaca REST request is made: rate limited, timed out, and retried or sent once.

alpaca-py's clients are synchronous (`requests`). Each HTTP request is one `asyncio.to_thread`
call, so the event loop (and the risk-watch on it) never blocks, and each is preceded by one
acquisition of the shared `RequestLimiter`.

alpaca-py's own blind retries (3 s sleeps on 429/504, re-POSTing orders included) are switched
off on every client (`harden_client`), and every request gets an explicit timeout through a
`requests.Session` whose `request()` fills one in. Retries happen here instead:

- reads and idempotent calls (cancels) retry 429, 5xx, timeouts and connection errors with
  exponential backoff and jitter, a bounded number of times; a 429's reset time pauses the shared
  limiter, so every task waits, not just the one that was refused;
- a submit (POST /v2/orders) is sent exactly once. See `catalyst.brokers.alpaca.errors` for how
  its failures are read (`UnknownOrderOutcome`, `RetryableBrokerError` for 429, rejections).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import requests
import structlog
from alpaca.common.exceptions import APIError
from alpaca.common.rest import RESTClient

from catalyst.brokers.alpaca.errors import Call, RateLimited, describe_api_error, translating
from catalyst.brokers.alpaca.json_pieces import PiecewiseJsonResponse
from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.domain.errors import BrokerError, RetryableBrokerError
from catalyst.ports import Clock

log = structlog.get_logger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_READ_ATTEMPTS = 5
# Longest pause a 429's reset header may impose (guards against a skewed server clock).
MAX_RATE_LIMIT_PAUSE = timedelta(seconds=60)


class _TimeoutSession(requests.Session):
    """A `requests.Session` that never waits forever (every request gets a timeout) and whose
    answers decode their JSON in pieces (`json_pieces`: a 12,000-symbol scan's pages no longer
    hold the GIL, and so the event loop, for 10-90 ms each)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(
        self, method: str, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send one request; a caller's own `timeout` wins over the session's."""
        kwargs.setdefault("timeout", self._timeout)
        response = super().request(method, url, *args, **kwargs)
        # Same object, same state; only `json()` differs (requests builds the Response itself).
        response.__class__ = PiecewiseJsonResponse
        return response


def harden_client(client: RESTClient, timeout: float) -> None:
    """Turn off alpaca-py's blind 429/504 retries and give every request a timeout.

    alpaca-py exposes neither setting through its client constructors (it reads `_retry`,
    `_retry_codes` and `_session` directly), so the private attributes are set here, in one place.
    """
    client._retry = 0
    client._retry_codes = []
    session = _TimeoutSession(timeout)
    session.headers.update(client._session.headers)
    client._session = session


class RestTransport:
    """Runs alpaca-py calls off the event loop, each after one acquisition of the limiter."""

    def __init__(
        self,
        *,
        clock: Clock,
        limiter: RequestLimiter,
        read_attempts: int,
        backoff_base_seconds: float,
        backoff_cap_seconds: float,
        rng: random.Random,
    ) -> None:
        if read_attempts < 1:
            raise ValueError("read_attempts must be at least 1")
        self._clock = clock
        self._limiter = limiter
        self._attempts = read_attempts
        self._backoff_base = backoff_base_seconds
        self._backoff_cap = backoff_cap_seconds
        self._rng = rng  # jitter only

    @property
    def limiter(self) -> RequestLimiter:
        """The request limiter every call goes through."""
        return self._limiter

    async def read(
        self, action: str, fn: Callable[..., T], *args: Any, tolerate: frozenset[int] = frozenset()
    ) -> T | None:
        """One idempotent request, retried with backoff on temporary failures.

        Returns None only when the server answered with a status in `tolerate`.
        """
        for attempt in range(1, self._attempts + 1):
            await self._limiter.acquire()
            try:
                return await asyncio.to_thread(_call, fn, args, Call.READ, action, None, tolerate)
            except RetryableBrokerError as exc:
                if attempt == self._attempts:
                    raise
                delay = self._backoff(attempt)
                if isinstance(exc, RateLimited):
                    self._pause_for(exc)
                log.warning(
                    "alpaca request failed; retrying",
                    action=action,
                    attempt=attempt,
                    delay=round(delay, 3),
                    error=str(exc),
                )
                await self._clock.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def required(self, action: str, fn: Callable[..., T | None], *args: Any) -> T:
        """Like `read`, but an empty answer is a `BrokerError`."""
        result = await self.read(action, fn, *args)
        if result is None:
            raise BrokerError(f"{action}: empty response from Alpaca")
        return result

    async def submit(self, fn: Callable[..., T], request: object, client_order_id: str) -> T | None:
        """Send an order request exactly once; failures are translated for a submit."""
        await self._limiter.acquire()
        try:
            return await asyncio.to_thread(
                _call, fn, (request,), Call.SUBMIT, "submit order", client_order_id, frozenset()
            )
        except RateLimited as exc:
            self._pause_for(exc)
            raise

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    def _pause_for(self, exc: RateLimited) -> None:
        if exc.reset_at is None:
            return
        now = self._clock.now()
        self._limiter.pause_until(min(exc.reset_at, now + MAX_RATE_LIMIT_PAUSE))


def _call(
    fn: Callable[..., T],
    args: tuple[Any, ...],
    call: Call,
    action: str,
    client_order_id: str | None,
    tolerate: frozenset[int],
) -> T | None:
    """Run one SDK call (in a worker thread), translating its failures at the edge."""
    with translating(call, client_order_id=client_order_id, action=action):
        try:
            return fn(*args)
        except APIError as exc:
            if describe_api_error(exc).status in tolerate:
                return None
            raise


def expect(value: object, kind: type[T], action: str) -> T:
    """`value` as a `kind`; anything else from the SDK is a `BrokerError` naming `action`."""
    if not isinstance(value, kind):
        raise BrokerError(f"{action}: unexpected response type {type(value).__name__}")
    return value


def as_list(value: object) -> list[Any]:
    """A listing's items; a body that is not a JSON list reads as no items."""
    return list(value) if isinstance(value, list) else []
