"""`catalyst run` as systemd runs it: a real process, a real NOTIFY_SOCKET, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli import _config_dir

STARTUP_TIMEOUT = 60.0


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.5)
    yield sock
    sock.close()


def _receive_until(sock: socket.socket, wanted: str, deadline: float) -> list[str]:
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            datagram = sock.recv(4096).decode()
        except TimeoutError:
            continue
        seen.append(datagram)
        if wanted in datagram.split("\n"):
            return seen
    raise AssertionError(f"no {wanted} within the deadline; got {seen}")


def _start_daemon(tmp_path: Path, notify_path: Path, **env: str) -> subprocess.Popen[str]:
    config = _config_dir(tmp_path, simulation__symbols=200)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    base = {**clean, "NOTIFY_SOCKET": str(notify_path), **env}
    upgrade = subprocess.run(
        [sys.executable, "-m", "catalyst", "db", "upgrade", "--config", str(config)],
        cwd=tmp_path,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    return subprocess.Popen(
        [sys.executable, "-m", "catalyst", "run", "--config", str(config)],
        cwd=tmp_path,
        env=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_daemon_reports_ready_pings_watchdog_and_stops_cleanly_on_sigterm(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    process = _start_daemon(tmp_path, tmp_path / "notify.sock", WATCHDOG_USEC="1000000")
    try:
        seen = _receive_until(notify_socket, "READY=1", time.monotonic() + STARTUP_TIMEOUT)
        seen += _receive_until(notify_socket, "WATCHDOG=1", time.monotonic() + 10)
        assert any(d.startswith("STATUS=PAPER") for d in seen), seen

        process.send_signal(signal.SIGTERM)
        _receive_until(notify_socket, "STOPPING=1", time.monotonic() + 10)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    log = stdout + stderr
    assert "starting in PAPER mode" in log
    assert '"event": "stopped"' in log
    assert "Traceback" not in log


def test_sighup_with_a_broken_config_keeps_the_running_configuration(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    process = _start_daemon(tmp_path, tmp_path / "notify.sock")
    try:
        _receive_until(notify_socket, "READY=1", time.monotonic() + STARTUP_TIMEOUT)
        risk = tmp_path / "config" / "risk_parameters.yaml"
        risk.write_text(risk.read_text() + "\nsurprise_key: 1\n")
        process.send_signal(signal.SIGHUP)
        _receive_until(notify_socket, "READY=1", time.monotonic() + 10)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "config reload rejected; keeping the running configuration" in stdout + stderr
    assert "surprise_key" in stdout + stderr
