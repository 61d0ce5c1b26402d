"""A stop requested at any moment ends `catalyst run` within the documented bound, exit 0.

Real processes and real signals: `catalyst run` with `broker.kind: alpaca` against a
`catalyst fake-alpaca` process (both on one accelerated timeline), made slow, broken or absent
through the server's fault injection (POST /__faults) or by stopping the server itself. Every
wait is for an event: a log line, a fault rule used up, the process's exit.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path

import pytest
from processes import (
    Child,
    Processes,
    add_fault,
    alpaca_environment,
    fake_alpaca_broker,
    faults,
    free_port,
    start_fake_alpaca,
    write_config,
)

from catalyst.daemon.stopping import DRAIN_SECONDS, STOP_BOUND_SECONDS
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.timekeeping.clock import AcceleratedClock, RealClock

DAY = datetime(2026, 11, 24, tzinfo=EXCHANGE_TZ).date()
# Simulated time runs at wall speed (retry back-offs take their real time) except in the drain
# test, where a scan every simulated minute comes every wall second.
FAST = 60.0
START_TIMEOUT = 90.0  # wall seconds for a process to get where a test needs it (a loaded box)
HELD_SECONDS = 60.0  # a held request outlives the adapter's 10 s HTTP timeout


@dataclass
class StopRig:
    """A fake Alpaca server and the config of a daemon that trades through it."""

    processes: Processes
    config: Path
    port: int
    clock: AcceleratedClock
    server: Child

    def start_daemon(self) -> Child:
        args = ["run", "--config", str(self.config), "--simulated-clock", self.clock.spec()]
        return self.processes.spawn("daemon", args, alpaca_environment())

    def wait_until_held(self, path: str) -> None:
        """Until the `count: 1` rule on `path` has been used: that request is being held now."""
        deadline = time.monotonic() + START_TIMEOUT
        while any(rule["path"] == path for rule in faults(self.port)):
            assert time.monotonic() < deadline, f"no request to {path} arrived"
            time.sleep(0.05)


def _rig(
    processes: Processes,
    scan_times: list[str],
    *,
    start: clock_time = clock_time(10, 0),
    speed: float = 1.0,
) -> StopRig:
    port = free_port()
    config = write_config(
        processes.root,
        trading={
            "broker": fake_alpaca_broker(port),
            "simulation": {"symbols": 200},
            "schedule": {"scan_times": scan_times},
            "logging": {"format": "json", "level": "INFO"},
        },
    )
    sim_start = datetime.combine(DAY, start, tzinfo=EXCHANGE_TZ)
    clock = AcceleratedClock(sim_start, RealClock().now(), speed)
    processes.run(["db", "upgrade", "--config", str(config)], alpaca_environment())
    server = start_fake_alpaca(
        processes, config, port, alpaca_environment(), clock_spec=clock.spec()
    )
    return StopRig(processes, config, port, clock, server)


@pytest.fixture
def rig(processes: Processes) -> StopRig:
    """No scan until 15:00: nothing is in flight unless a test puts it there."""
    return _rig(processes, ["15:00"])


def _stop_and_time(daemon: Child) -> float:
    """SIGTERM the daemon; the wall seconds until it has exited 0."""
    sent = time.monotonic()
    daemon.signal(signal.SIGTERM)
    code = daemon.wait_exit(STOP_BOUND_SECONDS + 20)
    elapsed = time.monotonic() - sent
    print(f"stopped in {elapsed:.2f} s")  # a figure worth seeing with -s
    assert code == 0, f"exit {code} after {elapsed:.1f} s\n{daemon.tail()}"
    assert "Traceback" not in daemon.text(), daemon.tail()
    return elapsed


def _assert_stopped_without_a_drain(daemon: Child, elapsed: float) -> None:
    """Within the bound, and no part of the stop waited for a scan cycle to drain.

    The log says so, not the wall time: on a loaded machine the stop's other parts (a journal
    write queued behind a cancelled one, the alerts' last pass) take their bounded share.
    """
    assert elapsed < STOP_BOUND_SECONDS
    assert "cycle still running after the drain period" not in daemon.text(), daemon.tail()


def _assert_no_retry_after_stop(daemon: Child) -> None:
    lines = daemon.text().splitlines()
    stopped = next(i for i, line in enumerate(lines) if '"event": "stop requested"' in line)
    retries = [line for line in lines[stopped:] if "retry" in line]
    assert len(retries) <= 3, "retry loops went on after the stop:\n" + "\n".join(retries)


def test_sigterm_while_the_start_up_calendar_request_hangs_ends_the_start_up_at_once(
    rig: StopRig,
) -> None:
    add_fault(rig.port, kind="timeout", path="/v2/calendar", seconds=HELD_SECONDS, count=1)
    daemon = rig.start_daemon()
    rig.wait_until_held("/v2/calendar")

    elapsed = _stop_and_time(daemon)

    assert elapsed < STOP_BOUND_SECONDS
    assert "stopped during start-up; nothing traded" in daemon.text()
    assert "starting in" not in daemon.text(), "start-up went on after the stop"


def test_sigterm_in_the_start_up_reconciliation_retry_loop_ends_it_at_once(
    rig: StopRig,
) -> None:
    add_fault(rig.port, kind="status", path="/v2/positions", status=503, count=None)
    daemon = rig.start_daemon()
    daemon.wait_for_line('"alpaca request failed; retrying"', START_TIMEOUT)

    elapsed = _stop_and_time(daemon)

    assert elapsed < STOP_BOUND_SECONDS
    assert "stopped during start-up; nothing traded" in daemon.text()
    assert "start-up reconciliation done" not in daemon.text()
    _assert_no_retry_after_stop(daemon)


def test_sigterm_while_the_order_stream_connects_stops_within_the_bound(rig: StopRig) -> None:
    add_fault(rig.port, kind="timeout", path="/stream", seconds=HELD_SECONDS, count=1)
    daemon = rig.start_daemon()
    daemon.wait_for_line('"start-up reconciliation done"', START_TIMEOUT)
    rig.wait_until_held("/stream")

    elapsed = _stop_and_time(daemon)

    # Nothing was in flight, so no part of the stop waits for a drain.
    _assert_stopped_without_a_drain(daemon, elapsed)
    assert '"event": "stopped"' in daemon.text()


def test_sigterm_just_after_the_order_stream_connects_stops_within_the_bound(
    rig: StopRig,
) -> None:
    daemon = rig.start_daemon()
    daemon.wait_for_line('"order stream up"', START_TIMEOUT)

    elapsed = _stop_and_time(daemon)

    _assert_stopped_without_a_drain(daemon, elapsed)
    assert '"event": "stopped"' in daemon.text()


def test_sigterm_while_the_server_is_gone_ends_the_fill_poll_retries(rig: StopRig) -> None:
    daemon = rig.start_daemon()
    daemon.wait_for_line('"order stream up"', START_TIMEOUT)
    rig.server.signal(signal.SIGKILL)
    daemon.wait_for_line('"fill poll failed; retrying at the next poll"', START_TIMEOUT)

    elapsed = _stop_and_time(daemon)

    _assert_stopped_without_a_drain(daemon, elapsed)
    _assert_no_retry_after_stop(daemon)


def test_sigterm_while_a_broker_call_hangs_in_its_thread_does_not_wait_for_it(
    rig: StopRig,
) -> None:
    daemon = rig.start_daemon()
    daemon.wait_for_line('"order stream up"', START_TIMEOUT)
    # The risk-watch reads the account every few (simulated) seconds: its next read hangs.
    add_fault(rig.port, kind="timeout", path="/v2/account", seconds=HELD_SECONDS, count=1)
    rig.wait_until_held("/v2/account")

    elapsed = _stop_and_time(daemon)

    # The worker thread stays blocked for the adapter's whole 10 s timeout; the process does not.
    _assert_stopped_without_a_drain(daemon, elapsed)
    assert "exiting without waiting for threads still blocked in I/O" in daemon.text()


def test_sigterm_during_a_scan_stuck_on_the_broker_drains_then_cancels_within_the_bound(
    processes: Processes,
) -> None:
    every_minute = [f"{10 + m // 60:02d}:{m % 60:02d}" for m in range(1, 120)]
    rig = _rig(processes, every_minute, speed=FAST)
    # The scan's market-data requests hang (each beyond the drain period).
    add_fault(rig.port, kind="timeout", path="/v2/stocks", seconds=HELD_SECONDS, count=1)
    daemon = rig.start_daemon()
    rig.wait_until_held("/v2/stocks")

    elapsed = _stop_and_time(daemon)

    assert DRAIN_SECONDS <= elapsed < STOP_BOUND_SECONDS
    assert "cycle still running after the drain period; cancelling it" in daemon.text()


def test_a_daemon_started_after_its_simulated_end_stops_at_once_every_time(
    processes: Processes,
) -> None:
    # Past the end of the simulated span (close + 5 min) from the first moment on: the stop
    # comes as the order stream connects.
    rig = _rig(processes, ["15:00"], start=clock_time(16, 10))
    for attempt in range(4):  # the race this guards against lost about one start in four
        daemon = rig.start_daemon()
        code = daemon.wait_exit(START_TIMEOUT)
        assert code == 0, f"attempt {attempt}: exit {code}\n{daemon.tail()}"
        assert '"event": "stopped"' in daemon.text()
