"""The `trade_updates` websocket at `/stream`, speaking Alpaca's JSON protocol.

client: {"action": "authenticate", "data": {"key_id": K, "secret_key": S}}
server: {"stream": "authorization", "data": {"status": "authorized", "action": "authenticate"}}
client: {"action": "listen", "data": {"streams": ["trade_updates"]}}
server: {"stream": "listening", "data": {"streams": ["trade_updates"]}}
server: {"stream": "trade_updates", "data": {"event": ..., "timestamp": ..., "order": {...}}}

Frames go out as binary, as Alpaca's paper stream sends them (alpaca-py decodes either kind).
Each connection has one writer task draining its queue, so replies and events never interleave
inside a frame and a slow client never blocks the HTTP side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

_CLOSE_TIMEOUT = 2.0  # seconds to wait for a client's close reply
CredentialCheck = Callable[[str | None, str | None], bool]


class StreamHub:
    """Every open `/stream` connection; publishes trade updates to the listening ones."""

    def __init__(self, check: CredentialCheck) -> None:
        self._check = check
        self._queues: dict[web.WebSocketResponse, asyncio.Queue[dict[str, Any]]] = {}
        self._listening: set[web.WebSocketResponse] = set()

    @property
    def listeners(self) -> int:
        """How many connections currently listen to trade_updates."""
        return len(self._listening)

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Queue `trade_updates` events for every listening connection."""
        for ws in self._listening:
            queue = self._queues[ws]
            for event in events:
                queue.put_nowait({"stream": "trade_updates", "data": event})

    async def disconnect_all(self) -> int:
        """Close every connection (a fault: clients must reconnect). Returns how many."""
        sockets = list(self._queues)
        for ws in sockets:
            await ws.close(code=1011, message=b"fake alpaca: stream disconnect fault")
        return len(sockets)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The websocket handler for `/stream`."""
        ws = web.WebSocketResponse(timeout=_CLOSE_TIMEOUT)
        await ws.prepare(request)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues[ws] = queue
        writer = asyncio.create_task(_drain(ws, queue), name="fake-alpaca-stream-writer")
        authorized = False
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                reply, authorized, close = self._answer(message.data, authorized, ws)
                queue.put_nowait(reply)
                if close:
                    await queue.join()
                    await ws.close()
        finally:
            self._listening.discard(ws)
            del self._queues[ws]
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    def _answer(
        self, raw: str | bytes, authorized: bool, ws: web.WebSocketResponse
    ) -> tuple[dict[str, Any], bool, bool]:
        """The reply to one client frame, the new auth state and whether to close."""
        try:
            frame = json.loads(raw)
            action = frame.get("action")
            data = frame.get("data") or {}
        except (ValueError, AttributeError):
            return _error("invalid syntax"), authorized, False
        if action in ("authenticate", "auth"):
            ok = self._check(data.get("key_id"), data.get("secret_key"))
            status = "authorized" if ok else "unauthorized"
            reply = {"stream": "authorization", "data": {"status": status, "action": action}}
            return reply, ok, not ok
        if action == "listen":
            if not authorized:
                reply = {
                    "stream": "authorization",
                    "data": {"status": "unauthorized", "action": action},
                }
                return reply, authorized, True
            streams = [s for s in data.get("streams", []) if s == "trade_updates"]
            if streams:
                self._listening.add(ws)
            else:
                self._listening.discard(ws)
            return {"stream": "listening", "data": {"streams": streams}}, authorized, False
        return _error(f"unknown action {action!r}"), authorized, False


def _error(message: str) -> dict[str, Any]:
    return {"stream": "listening", "data": {"error": message}}


async def _drain(ws: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        item = await queue.get()
        try:
            if not ws.closed:
                await ws.send_bytes(json.dumps(item, separators=(",", ":")).encode())
        except ConnectionError:
            pass  # the client went away; the handler's loop ends and cleans up
        finally:
            queue.task_done()
