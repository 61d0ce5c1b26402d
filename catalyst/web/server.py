"""Serving the dashboard with uvicorn on a loopback socket that we bind ourselves.

Binding first turns "port in use" into one clear line (uvicorn would log and exit on its own),
and pins the address to 127.0.0.1: the dashboard is for the person at this machine (an SSH
tunnel reaches it from elsewhere), never for the network.
"""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette

from catalyst.domain.errors import InvalidArgument

HOST = "127.0.0.1"


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
