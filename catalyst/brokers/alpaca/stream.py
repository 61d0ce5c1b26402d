"""Alpaca's `trade_updates` websocket as a stream of `OrderEvent`s, with REST polling as fallback.

The protocol (auth, listen, JSON frames; see the streaming section of Alpaca's API reference) is
spoken here with the `websockets` library inside the daemon's own event loop: alpaca-py's
`TradingStream.run()` starts a loop of its own, and its in-loop use hides whether the socket is up,
which is exactly what the fallback needs to know. Payloads are still parsed by alpaca-py's
`TradeUpdate` model.

While connected, events come from the socket. When it drops (or cannot be opened), the stream is
*down*: fills are polled over REST every `poll_seconds` while reconnects are tried with
exponential backoff and jitter (a loop, never recursion). Right after a reconnect one more poll
catches up on fills made while the socket was closing or opening. A fill seen twice (by the socket
and a poll, or by two overlapping polls) is delivered once; its identity is order id, timestamp,
quantity and price. Up and down transitions are logged once each.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog
from alpaca.trading.models import TradeUpdate
from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from catalyst.brokers.alpaca.translate import order_event_from_trade_update
from catalyst.domain.errors import BrokerError
from catalyst.domain.models import Fill, OrderEvent
from catalyst.ports import Clock

log = structlog.get_logger(__name__)

FillKey = tuple[str, datetime, int, Decimal]
PollFills = Callable[[datetime], Awaitable[list[OrderEvent]]]


class _Refused(Exception):
    """The server answered the handshake, but not with authorized/listening."""


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """Where the trade_updates stream is and how to behave when it is not there."""

    url: str
    key_id: str
    secret_key: str
    poll_seconds: float = 3.0  # REST fill polling interval while the socket is down
    poll_lookback: timedelta = timedelta(minutes=2)  # each poll overlaps the last by this much
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 30.0
    handshake_timeout_seconds: float = 10.0
    ping_interval_seconds: float = 10.0
    ping_timeout_seconds: float = 30.0  # a silent, stalled socket counts as down after this
    close_timeout_seconds: float = 1.0  # closing never waits long on a server that has gone

    def __repr__(self) -> str:  # never print the secret
        return f"StreamSettings(url={self.url!r}, key_id={self.key_id!r}, secret_key='***')"


def stream_url_for(trading_url: str) -> str:
    """The trade_updates URL beside a trading API base URL: `wss://host/stream` for https.

    This gives Alpaca's own endpoints (wss://paper-api.alpaca.markets/stream, wss://api...) and
    the fake server's (ws://127.0.0.1:PORT/stream).
    """
    parts = urlsplit(trading_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/stream", "", ""))


def fill_key(fill: Fill) -> FillKey:
    """A fill's identity (what the journal's unique index uses too)."""
    return (fill.order_id, fill.timestamp, fill.qty, fill.price)


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before reconnect attempt `attempt` (1, 2, ...): exponential, capped, jittered."""
    ceiling = min(cap, base * 2 ** min(max(attempt - 1, 0), 30))
    return rng.uniform(ceiling / 2, ceiling)


class TradeUpdateStream:
    """Yields `OrderEvent`s from the socket, or from REST polls while it is down."""

    def __init__(
        self,
        settings: StreamSettings,
        *,
        clock: Clock,
        poll: PollFills,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._poll = poll
        self._rng = rng if rng is not None else random.Random()  # jitter only
        self._seen: dict[FillKey, datetime] = {}
        # Fills before this instant have been delivered (None while the socket is up).
        self._cursor: datetime | None = None
        self.connected = False
        self.transitions: list[str] = []  # "up" / "down", in order (for status and tests)

    async def events(self) -> AsyncIterator[OrderEvent]:
        """Every order event from now on; runs until closed or cancelled."""
        attempt = 0
        self._cursor = self._clock.now()
        while True:
            try:
                async with connect(
                    self._settings.url,
                    open_timeout=self._settings.handshake_timeout_seconds,
                    ping_interval=self._settings.ping_interval_seconds,
                    ping_timeout=self._settings.ping_timeout_seconds,
                    close_timeout=self._settings.close_timeout_seconds,
                    max_queue=1024,
                ) as socket:
                    await self._handshake(socket)
                    attempt = 0
                    self._mark_up()
                    async for event in self._catch_up():
                        yield event
                    self._cursor = None
                    async for event in self._receive(socket):
                        yield event
                reason = "closed by the server"
            except (OSError, TimeoutError, WebSocketException, _Refused) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            if self._cursor is None:
                self._cursor = self._clock.now()
            self._mark_down(reason)
            attempt += 1
            delay = backoff_delay(
                attempt,
                self._settings.backoff_base_seconds,
                self._settings.backoff_cap_seconds,
                self._rng,
            )
            async for event in self._poll_for(delay):
                yield event

    async def _handshake(self, socket: ClientConnection) -> None:
        timeout = self._settings.handshake_timeout_seconds
        auth = {
            "action": "authenticate",
            "data": {"key_id": self._settings.key_id, "secret_key": self._settings.secret_key},
        }
        await socket.send(json.dumps(auth))
        reply = _frame(await _recv_within(socket, timeout))
        if reply.get("stream") != "authorization" or _data(reply).get("status") != "authorized":
            raise _Refused(f"authentication refused: {_data(reply).get('status')!r}")
        await socket.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        while True:  # the listen ack, skipping anything the server sends first
            reply = _frame(await _recv_within(socket, timeout))
            if reply.get("stream") != "listening":
                continue
            if "trade_updates" not in (_data(reply).get("streams") or ()):
                raise _Refused(f"listen refused: {_data(reply)!r}")
            return

    async def _receive(self, socket: ClientConnection) -> AsyncIterator[OrderEvent]:
        async for raw in socket:
            message = _frame(raw)
            if message.get("stream") != "trade_updates":
                continue
            try:
                event = order_event_from_trade_update(TradeUpdate(**_data(message)))
            except (ValidationError, ValueError, TypeError) as exc:
                # Reconciliation still sees whatever this was; one bad frame must not stop us.
                log.error("unreadable trade update skipped", error=str(exc), frame=str(raw)[:500])
                continue
            if self._is_new(event):
                yield event

    async def _poll_for(self, seconds: float) -> AsyncIterator[OrderEvent]:
        """Poll fills now and every `poll_seconds` until `seconds` have passed."""
        until = self._clock.now() + timedelta(seconds=seconds)
        while True:
            async for event in self._catch_up():
                yield event
            remaining = (until - self._clock.now()).total_seconds()
            if remaining <= 0:
                return
            await self._clock.sleep(min(self._settings.poll_seconds, remaining))
            if self._clock.now() >= until:
                return

    async def _catch_up(self) -> AsyncIterator[OrderEvent]:
        """One REST poll, from a little before the last poll (or the drop) on."""
        started = self._clock.now()
        cursor = started if self._cursor is None else self._cursor
        try:
            polled = await self._poll(cursor - self._settings.poll_lookback)
        except BrokerError as exc:
            log.warning("fill poll failed; retrying at the next poll", error=str(exc))
            return
        self._cursor = started
        for event in polled:
            if self._is_new(event):
                yield event

    def _is_new(self, event: OrderEvent) -> bool:
        if event.fill is None:
            return True
        key = fill_key(event.fill)
        if key in self._seen:
            return False
        self._seen[key] = event.fill.timestamp
        self._forget_old()
        return True

    def _forget_old(self) -> None:
        # A poll reaches back `poll_lookback` before the cursor (or before now, once the socket
        # drops): fills older than that, with the same margin again, cannot come back.
        base = self._clock.now() if self._cursor is None else min(self._cursor, self._clock.now())
        horizon = base - 2 * self._settings.poll_lookback
        for key in [k for k, at in self._seen.items() if at < horizon]:
            del self._seen[key]

    def _mark_up(self) -> None:
        if not self.connected:
            self.connected = True
            self.transitions.append("up")
            log.info("order stream up", url=self._settings.url)

    def _mark_down(self, reason: str) -> None:
        if self.connected or not self.transitions:
            self.connected = False
            self.transitions.append("down")
            log.warning("order stream down; polling fills", url=self._settings.url, reason=reason)


async def _recv_within(socket: ClientConnection, seconds: float) -> str | bytes:
    # asyncio.timeout, not wait_for: in Python 3.11 wait_for swallows a cancellation (a stop)
    # that arrives just as the frame does, and the stream would then run on forever.
    async with asyncio.timeout(seconds):
        return await socket.recv()


def _frame(raw: str | bytes) -> dict[str, Any]:
    try:
        message = json.loads(raw)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _data(message: dict[str, Any]) -> dict[str, Any]:
    data = message.get("data")
    return data if isinstance(data, dict) else {}
