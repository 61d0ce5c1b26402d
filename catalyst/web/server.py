"""Serving the dashboard with uvicorn on a loopback socket that we bind ourselves.

Binding first turns "port in use" into one clear line (uvicorn would log and exit on its own),
and pins the address to 127.0.0.1: the dashboard is for the person at this machine (an SSH
tunnel reaches it from elsewhere), never for the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import structlog
import uvicorn
from starlette.applications import Starlette

from catalyst.domain.errors import InvalidArgument

log = structlog.get_logger(__name__)

HOST = "127.0.0.1"
# Inside the daemon, the dashboard's share of the stop's budget (daemon/stopping.py: 1 s to
# cancel): open pages are cut off rather than waited for.
STOP_SECONDS = 0.8


def bind_loopback(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:`port` (0: any free port); InvalidArgument if taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise InvalidArgument(
            f"cannot serve the dashboard on {HOST}:{port}: {exc.strerror}; choose --port"
        ) from exc
    sock.listen(64)
    sock.setblocking(False)
    return sock


def make_server(app: Starlette) -> uvicorn.Server:
    """A uvicorn server for `app` (its `serve(sockets=[...])` runs until SIGINT/SIGTERM or
    `should_exit`), logging through the standard library as the rest of the process does."""
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2
    )
    return uvicorn.Server(config)


async def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve `app` on `sock` until SIGINT/SIGTERM (uvicorn's own graceful shutdown)."""
    await make_server(app).serve(sockets=[sock])


class _InsideTheDaemon(uvicorn.Server):
    """uvicorn without its own SIGINT/SIGTERM handlers: the daemon's stop owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_inside_daemon(app: Starlette, port: int) -> None:
    """Serve `app` on 127.0.0.1:`port` until cancelled, then close within `STOP_SECONDS`.

    A port that cannot be bound is logged as an error and the task ends: the dashboard is a
    bystander, and trading goes on without it.
    """
    try:
        sock = bind_loopback(port)
    except InvalidArgument as exc:
        log.error("dashboard not served", error=str(exc))
        return
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = _InsideTheDaemon(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]), name="dashboard-server")
    log.info("dashboard served", url=f"http://{HOST}:{sock.getsockname()[1]}/")
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await asyncio.wait({serving}, timeout=STOP_SECONDS)
        raise
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        sock.close()
