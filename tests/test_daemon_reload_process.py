"""SIGHUP to a real `catalyst run` process: a truncated file is refused, restart keys are named."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_daemon_process import STARTUP_TIMEOUT, _receive_until, _start_daemon


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.5)
    yield sock
    sock.close()


def _events(output: str) -> list[dict[str, object]]:
    events = []
    for line in output.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def test_sighup_refuses_an_emptied_risk_file_then_applies_a_good_one_naming_restart_keys(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    process = _start_daemon(tmp_path, tmp_path / "notify.sock")
    config = tmp_path / "config"
    risk = config / "risk_parameters.yaml"
    trading = config / "trading_config.yaml"
    original_risk = risk.read_text()
    try:
        _receive_until(notify_socket, "READY=1", time.monotonic() + STARTUP_TIMEOUT)
        risk.write_text("# truncated\n")
        process.send_signal(signal.SIGHUP)
        _receive_until(notify_socket, "READY=1", time.monotonic() + 10)

        risk.write_text(
            original_risk.replace("max_daily_loss_usd: 2000", "max_daily_loss_usd: 1500")
        )
        trading.write_text(
            trading.read_text().replace("requests_per_minute: 190", "requests_per_minute: 150")
        )
        process.send_signal(signal.SIGHUP)
        _receive_until(notify_socket, "READY=1", time.monotonic() + 10)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    events = _events(stdout)
    rejected = [e for e in events if e["event"].startswith("config reload rejected")]
    assert len(rejected) == 1
    assert "risk_parameters.yaml: (top level): the file is empty" in str(rejected[0]["error"])
    reloaded = [e for e in events if e["event"] == "configuration reloaded"]
    assert len(reloaded) == 1
    assert reloaded[0]["changed"] == [
        "broker.requests_per_minute",
        "risk_limits.max_daily_loss_usd",
    ]
    assert reloaded[0]["needs_restart"] == ["broker.requests_per_minute"]
    assert "Traceback" not in stdout + stderr
