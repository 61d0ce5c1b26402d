"""`catalyst run` as systemd runs it: a real process, a real NOTIFY_SOCKET, real signals."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import Child, NotifySocket, Processes, child_environment, write_config

STARTUP_TIMEOUT = 60.0


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path / "notify.sock")
    yield sock
    sock.close()


def _start_daemon(processes: Processes, notify: NotifySocket, **env: str) -> Child:
    config = write_config(processes.root, trading={"simulation": {"symbols": 200}})
    base = child_environment(NOTIFY_SOCKET=str(notify.path), **env)
    processes.run(["db", "upgrade", "--config", str(config)], base)
    return processes.spawn("daemon", ["run", "--config", str(config)], base)


def test_daemon_reports_ready_pings_watchdog_and_stops_cleanly_on_sigterm(
    processes: Processes, notify_socket: NotifySocket
) -> None:
    daemon = _start_daemon(processes, notify_socket, WATCHDOG_USEC="1000000")
    notify_socket.wait_for("READY=1", STARTUP_TIMEOUT, while_true=lambda: daemon.alive)
    notify_socket.wait_for("WATCHDOG=1", 10)
    assert any(d.startswith("STATUS=PAPER") for d in notify_socket.seen), notify_socket.seen

    daemon.signal(signal.SIGTERM)
    notify_socket.wait_for("STOPPING=1", 10)

    assert daemon.wait_exit(30) == 0, daemon.tail()
    log = daemon.text()
    assert "starting in PAPER mode" in log
    assert '"event": "stopped"' in log
    assert "Traceback" not in log


def test_sighup_with_a_broken_config_keeps_the_running_configuration(
    processes: Processes, notify_socket: NotifySocket
) -> None:
    daemon = _start_daemon(processes, notify_socket)
    notify_socket.wait_for("READY=1", STARTUP_TIMEOUT, while_true=lambda: daemon.alive)
    risk = processes.root / "config" / "risk_parameters.yaml"
    risk.write_text(risk.read_text() + "\nsurprise_key: 1\n")
    daemon.signal(signal.SIGHUP)
    notify_socket.wait_for("READY=1", 10)
    daemon.signal(signal.SIGTERM)

    assert daemon.wait_exit(30) == 0, daemon.tail()
    assert "config reload rejected; keeping the running configuration" in daemon.text()
    assert "surprise_key" in daemon.text()
