"""`catalyst run` started before its database or broker answers: it waits (log, STATUS,
EXTEND_TIMEOUT_USEC), starts once they are there, and a SIGTERM during the wait ends it at once.

The database "comes up" when the test starts a TCP forwarder to the real PostgreSQL on the port the
daemon was given, which until then is closed; the broker when `catalyst fake-alpaca` starts there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from test_cli import _config_dir

from catalyst.store.migrate import upgrade_database

DEADLINE = 90.0  # wall seconds for anything the daemon should do by itself
STOP_BOUND = 10.0  # the documented bound for a stop requested during start-up
CATALYST = [sys.executable, "-m", "catalyst"]
BROKER_KEYS = {"APCA_API_KEY_ID": "key-id", "APCA_API_SECRET_KEY": "secret-key"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Forwarder:
    """Accepts on 127.0.0.1:`port` and pipes each connection to `target`, byte for byte."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", port))
        self._sockets: list[socket.socket] = [self._listener]
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self._target)
            self._sockets += [client, upstream]
            self._spawn(self._pipe, client, upstream)
            self._spawn(self._pipe, upstream, client)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


class Daemon:
    """A `catalyst run` process, its stdout log lines and its sd_notify datagrams."""

    def __init__(
        self, tmp_path: Path, database_url: str | None = None, **overrides: object
    ) -> None:
        config = _config_dir(tmp_path, simulation__symbols=200, **overrides)
        self.config = config
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(tmp_path / "notify.sock"))
        self.notify.settimeout(0.2)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
        env = {**clean, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), **BROKER_KEYS}
        if database_url is not None:
            env["CATALYST_DATABASE_URL"] = database_url
        self.env = env
        self.process = subprocess.Popen(
            [*CATALYST, "run", "--config", str(config)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.datagrams: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def log_until(self, text: str, timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"no {text!r} in the log; got {self.lines}")
            time.sleep(0.05)

    def notified_until(self, field: str, timeout: float = DEADLINE) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith(field) for d in self.datagrams for line in d.split("\n")):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {field} notified; got {self.datagrams}")
            with contextlib.suppress(TimeoutError):
                self.datagrams.append(self.notify.recv(4096).decode())

    def close(self) -> str:
        if self.process.poll() is None:
            self.process.kill()
        _, stderr = self.process.communicate()
        self.notify.close()
        return stderr


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.close()


@pytest.mark.postgres
def test_run_waits_for_a_database_that_comes_up_later_then_starts(
    tmp_path: Path, pg_url: str, daemons: list[Daemon]
) -> None:
    upgrade_database(pg_url)
    real = make_url(pg_url)
    port = _closed_port()
    daemon = Daemon(
        tmp_path, real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    )
    daemons.append(daemon)

    daemon.log_until('"event": "waiting for the database"')
    daemon.notified_until("STATUS=waiting for the database: database at")
    daemon.notified_until("EXTEND_TIMEOUT_USEC=")
    assert not any("READY=1" in d for d in daemon.datagrams), "not ready without a database"

    forwarder = Forwarder(port, (real.host or "127.0.0.1", real.port or 5432))
    try:
        daemon.log_until('"event": "the database is available"')
        daemon.notified_until("READY=1")
        daemon.process.send_signal(signal.SIGTERM)
        daemon.process.wait(timeout=DEADLINE)
    finally:
        forwarder.close()
    stderr = daemon.close()

    assert daemon.process.returncode == 0, stderr
    waits = [line for line in daemon.lines if '"event": "waiting for the database"' in line]
    assert len(waits) == 1, "one line per change of error, not one per attempt"
    assert any("start-up reconciliation done" in line for line in daemon.lines)
    assert "Traceback" not in stderr + "".join(daemon.lines)


def test_sigterm_while_waiting_for_the_database_ends_run_at_once(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    port = _closed_port()
    daemon = Daemon(tmp_path, f"postgresql://catalyst@127.0.0.1:{port}/catalyst")
    daemons.append(daemon)
    daemon.log_until('"event": "waiting for the database"')

    signalled = time.monotonic()
    daemon.process.send_signal(signal.SIGTERM)
    daemon.process.wait(timeout=DEADLINE)
    took = time.monotonic() - signalled
    stderr = daemon.close()

    assert daemon.process.returncode == 0, stderr
    assert took < STOP_BOUND, f"took {took:.1f} s to stop"
    assert any("stopped during start-up" in line for line in daemon.lines)
    assert "Traceback" not in stderr


def test_run_waits_for_a_broker_that_comes_up_later_then_starts(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    port = _closed_port()
    url = f"http://127.0.0.1:{port}"
    daemon = Daemon(
        tmp_path, broker__kind="alpaca", broker__trading_base_url=url, broker__data_base_url=url
    )
    daemons.append(daemon)
    upgraded = subprocess.run(
        [*CATALYST, "db", "upgrade", "--config", str(daemon.config)],
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr

    daemon.log_until('"event": "waiting for the broker"')
    daemon.notified_until("STATUS=waiting for the broker:")
    server = subprocess.Popen(
        [*CATALYST, "fake-alpaca", "--port", str(port), "--config", str(daemon.config)],
        env=daemon.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        daemon.log_until('"event": "the broker is available"')
        daemon.notified_until("READY=1")
        daemon.process.send_signal(signal.SIGTERM)
        daemon.process.wait(timeout=DEADLINE)
    finally:
        server.terminate()
        server.communicate(timeout=DEADLINE)
    stderr = daemon.close()

    assert daemon.process.returncode == 0, stderr
    assert any("start-up reconciliation done" in line for line in daemon.lines)
    assert "Traceback" not in stderr
