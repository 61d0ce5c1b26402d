"""The fake Alpaca server process of bench/cycle.py: starting it, reaching it, stopping it.

Standard library only, so that bench/cycle.py can start a server beside each probe without
importing Catalyst itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Server:
    """A running bench/cycle_server.py, reached over HTTP."""

    url: str

    def call(self, method: str, path: str, body: object | None = None) -> Any:
        """One JSON request to the server (its bench and fault routes); the decoded answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("APCA-API-KEY-ID", "k")  # the bench routes are authenticated too
        request.add_header("APCA-API-SECRET-KEY", "s")
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())


def start_server(symbols: int, start: str) -> subprocess.Popen[str]:
    """bench/cycle_server.py over `symbols` symbols, its clock at `start` (ISO 8601)."""
    script = HERE / "cycle_server.py"
    args = [sys.executable, str(script), "--symbols", str(symbols), "--start", start]
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def server_url(process: subprocess.Popen[str]) -> str:
    """The base URL the server prints once it listens (blocks until then)."""
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        raise RuntimeError(f"fake Alpaca server did not start (exit {process.wait()})")
    return url


def stop_server(process: subprocess.Popen[str]) -> None:
    """Close the server's stdin (its signal to stop) and wait for it to exit."""
    if process.stdin is not None and not process.stdin.closed:
        process.stdin.close()
    process.wait(timeout=30)
