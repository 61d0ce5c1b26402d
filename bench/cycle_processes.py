"""The fake Alpaca server process of bench/cycle.py: starting it, reaching it, stopping it.

Standard library only, so that bench/cycle.py can start a server beside each probe without
importing Catalyst itself.
"""

from __future__ import annotations

import json
import os
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


@dataclass(frozen=True)
class CpuSplit:
    """Which cores the daemon's probe and the fake server run on.

    In production Alpaca's servers are elsewhere: the fake server's CPU must not show up as the
    daemon's. On a machine with two or more cores the probe gets one core and the server the
    rest; at 12,000 symbols on this 2-core machine, the two sharing both cores made the event
    loop's longest stall 106-174 ms at 10:30, pinned 12-25 ms (the daemon's worker threads still
    share its one core with the loop). With one core both share it, as before.
    """

    daemon: frozenset[int] | None
    server: frozenset[int] | None

    @classmethod
    def of_this_machine(cls) -> CpuSplit:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return cls(None, None)
        return cls(frozenset(cpus[:1]), frozenset(cpus[1:]))

    def describe(self) -> str:
        if self.daemon is None or self.server is None:
            return "one core: the daemon and the fake server share it"
        return f"daemon pinned to core {min(self.daemon)}, fake server to {sorted(self.server)}"


def pinned(cpus: frozenset[int] | None) -> dict[str, Any]:
    """`subprocess.Popen` keyword arguments that start the child on `cpus` (None: anywhere)."""
    if cpus is None:
        return {}
    return {"preexec_fn": lambda: os.sched_setaffinity(0, cpus)}


def start_server(
    symbols: int, start: str, cpus: frozenset[int] | None = None
) -> subprocess.Popen[str]:
    """bench/cycle_server.py over `symbols` symbols, its clock at `start` (ISO 8601)."""
    script = HERE / "cycle_server.py"
    args = [sys.executable, str(script), "--symbols", str(symbols), "--start", start]
    return subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, **pinned(cpus)
    )


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
