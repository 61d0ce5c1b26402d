"""Real `catalyst` processes for the tests: spawned in their own process group with their output
in a log file, waited for by event (a log line, an sd_notify datagram, an answering port), never
by fixed sleeps, and killed group and all on teardown, pass or fail (the `processes` fixture in
conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from support import CONFIG_DIR

CATALYST = (sys.executable, "-m", "catalyst")
KEY, SECRET = "process-test-key", "process-test-secret"
POLL_SECONDS = 0.05


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_environment(**extra: str) -> dict[str, str]:
    """This environment without Alpaca or Catalyst variables, plus `extra`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    return {**clean, **extra}


def alpaca_environment(**extra: str) -> dict[str, str]:
    """A child environment with the fake server's credentials."""
    return child_environment(APCA_API_KEY_ID=KEY, APCA_API_SECRET_KEY=SECRET, **extra)


def _merge(base: dict[str, Any], updates: Mapping[str, Any]) -> None:
    for key, value in updates.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def write_config(
    root: Path, *, trading: Mapping[str, Any] = {}, risk: Mapping[str, Any] = {}
) -> Path:
    """The shipped config copied to `root/config`, state in `root/state`, sections merged in."""
    target = root / "config"
    shutil.copytree(CONFIG_DIR, target)
    for name, updates in (("trading_config.yaml", trading), ("risk_parameters.yaml", risk)):
        path = target / name
        data = yaml.safe_load(path.read_text())
        if name == "trading_config.yaml":
            data["paths"]["state_dir"] = str(root / "state")
        _merge(data, updates)
        path.write_text(yaml.safe_dump(data))
    return target


def fake_alpaca_broker(port: int) -> dict[str, Any]:
    """The `broker` section pointing `catalyst run` at a fake Alpaca server on `port`."""
    url = f"http://127.0.0.1:{port}"
    return {"kind": "alpaca", "trading_base_url": url, "data_base_url": url}


@dataclass(eq=False)
class Child:
    """One spawned process and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def text(self) -> str:
        """Everything it has written so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        """Its last lines, for failure messages."""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(self.text().splitlines()[-lines:])

    def wait_for_line(self, text: str, timeout: float) -> str:
        """The first log line containing `text`; fails if the process ends or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.text().splitlines():
                if text in line:
                    return line
            if not self.alive:
                raise AssertionError(f"{self.name} ended before logging {text!r}\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never logged {text!r}\n{self.tail()}")
            time.sleep(POLL_SECONDS)

    def wait_exit(self, timeout: float) -> int:
        """Its exit status; fails (the reaper kills it) if it still runs after `timeout`."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} still running after {timeout} s\n{self.tail()}"
            ) from None

    def signal(self, signum: int) -> None:
        """Send `signum` to the process itself (not its group)."""
        self.process.send_signal(signum)


@dataclass
class Processes:
    """Every child of one test; `reap()` kills what is left, process group and all."""

    root: Path
    children: list[Child] = field(default_factory=list)

    def spawn(self, name: str, args: list[str], env: Mapping[str, str]) -> Child:
        """Start `catalyst <args>` in `root`, stdout and stderr to `root/<name>.log`."""
        same = sum(1 for child in self.children if child.name.split("#")[0] == name)
        name = f"{name}#{same + 1}" if same else name
        log = self.root / f"{name}.log"
        with log.open("wb") as out:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [*CATALYST, *args],
                cwd=self.root,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the reaper takes its children too
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def run(self, args: list[str], env: Mapping[str, str], timeout: float = 120) -> str:
        """Run `catalyst <args>` to completion; its stdout, or a failure naming its stderr."""
        result = subprocess.run(
            [*CATALYST, *args],
            cwd=self.root,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"catalyst {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def reap(self) -> None:
        """SIGKILL every child's process group that is still there."""
        for child in self.children:
            with contextlib.suppress(ProcessLookupError):  # the group has gone
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()


class NotifySocket:
    """A NOTIFY_SOCKET like systemd's: datagrams of `KEY=value` lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.2)
        self.seen: list[str] = []

    def close(self) -> None:
        """Unbind."""
        self._sock.close()

    def drain(self) -> None:
        """Forget every datagram already queued."""
        self._sock.setblocking(False)
        try:
            while True:
                self._sock.recv(4096)
        except BlockingIOError:
            pass
        finally:
            self._sock.settimeout(0.2)

    def wait_for(
        self, wanted: str, timeout: float, while_true: Callable[[], bool] = lambda: True
    ) -> bool:
        """True once a datagram holds the line `wanted` (e.g. READY=1); False as soon as
        `while_true()` is false (the sender died); fails when `timeout` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                datagram = self._sock.recv(4096).decode()
            except TimeoutError:
                datagram = ""
            if datagram:
                self.seen.append(datagram)
            if wanted in datagram.split("\n"):
                return True
            if not datagram and not while_true():
                return False
        raise AssertionError(f"no {wanted} within {timeout} s; got {self.seen}")


def start_fake_alpaca(
    processes: Processes,
    config: Path,
    port: int,
    env: Mapping[str, str],
    *,
    clock_spec: str | None = None,
    timeout: float = 60,
) -> Child:
    """`catalyst fake-alpaca` on `port`, returned once it answers."""
    args = ["fake-alpaca", "--port", str(port), "--config", str(config)]
    if clock_spec is not None:
        args += ["--simulated-clock", clock_spec]
    server = processes.spawn("fake-alpaca", args, env)
    deadline = time.monotonic() + timeout
    while True:
        try:
            faults(port)
        except (OSError, urllib.error.URLError):
            assert server.alive, f"the fake Alpaca server died\n{server.tail()}"
            assert time.monotonic() < deadline, f"no answer from the server\n{server.tail()}"
            time.sleep(POLL_SECONDS)
        else:
            return server


def faults(port: int) -> list[dict[str, Any]]:
    """The fake server's active fault rules (GET /__faults)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__faults", timeout=5) as response:
        rules: list[dict[str, Any]] = json.loads(response.read())
        return rules


def add_fault(port: int, **rule: Any) -> None:
    """Activate one fault rule on the fake server (POST /__faults; see fake_alpaca/faults.py)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/__faults",
        data=json.dumps(rule).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200, response.read()
