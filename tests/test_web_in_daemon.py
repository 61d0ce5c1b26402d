"""`dashboard.enabled`: the daemon serves the read-only dashboard itself, on 127.0.0.1, closes it
within the stop's bound, and trades on without it when its port is taken. Real processes."""

from __future__ import annotations

import signal
import socket
import time
import urllib.error
import urllib.request
from datetime import date, datetime
from datetime import time as clock_time

import pytest
from processes import Child, Processes, child_environment, free_port, write_config

from catalyst.daemon.stopping import STOP_BOUND_SECONDS
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.timekeeping.clock import AcceleratedClock, RealClock

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 24)
START_TIMEOUT = 120.0  # wall seconds for a loaded machine to start the daemon


def _daemon(processes: Processes, port: int) -> Child:
    config = write_config(
        processes.root,
        trading={
            "simulation": {"symbols": 200},
            "schedule": {"scan_times": ["15:00"]},  # nothing in flight unless asked
            "logging": {"format": "json", "level": "INFO"},
            "dashboard": {"enabled": True, "port": port},
        },
    )
    processes.run(["db", "upgrade", "--config", str(config)], child_environment())
    start = datetime.combine(DAY, clock_time(10, 0), tzinfo=EXCHANGE_TZ)
    clock = AcceleratedClock(start, RealClock().now(), 1.0)
    args = ["run", "--config", str(config), "--simulated-clock", clock.spec()]
    return processes.spawn("daemon", args, child_environment())


def _page(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
        body: bytes = response.read()
        return body.decode()


def _stop(daemon: Child) -> float:
    sent = time.monotonic()
    daemon.signal(signal.SIGTERM)
    code = daemon.wait_exit(STOP_BOUND_SECONDS + 20)
    elapsed = time.monotonic() - sent
    assert code == 0, f"exit {code} after {elapsed:.1f} s\n{daemon.tail()}"
    assert "Traceback" not in daemon.text(), daemon.tail()
    return elapsed


def test_the_daemon_serves_its_dashboard_and_closes_it_when_it_stops(
    processes: Processes,
) -> None:
    port = free_port()
    daemon = _daemon(processes, port)
    daemon.wait_for_line('"dashboard served"', START_TIMEOUT)

    deadline = time.monotonic() + START_TIMEOUT
    page = _page(port)
    while 'id="no-daemon"' in page:  # until the first heartbeat is in the journal
        assert time.monotonic() < deadline, "the dashboard never saw its daemon alive"
        time.sleep(0.5)
        page = _page(port)
    assert "alive: pid" in page
    assert "PAPER" in page

    elapsed = _stop(daemon)

    assert elapsed < STOP_BOUND_SECONDS
    with pytest.raises(urllib.error.URLError):
        _page(port)


def test_a_taken_port_is_logged_and_the_daemon_trades_on_without_its_dashboard(
    processes: Processes,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        daemon = _daemon(processes, port)

        line = daemon.wait_for_line('"dashboard not served"', START_TIMEOUT)

        assert f"127.0.0.1:{port}" in line
        assert daemon.alive, "the dashboard is a bystander: its port never stops trading"
        _stop(daemon)
