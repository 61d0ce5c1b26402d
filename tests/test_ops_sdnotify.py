"""sd_notify client against real datagram sockets (a filesystem path and an abstract name)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from catalyst.ops.sdnotify import SystemdNotifier, watchdog_interval


@pytest.fixture
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[socket.socket, str]]:
    """A bound AF_UNIX datagram socket and its path (kept short: sun_path is 108 bytes)."""
    path = tmp_path_factory.mktemp("sd") / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    try:
        yield sock, str(path)
    finally:
        sock.close()


@pytest.fixture
def abstract_receiver() -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket in the abstract namespace and its NOTIFY_SOCKET spelling ('@name')."""
    name = f"catalyst-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        yield sock, "@" + name
    finally:
        sock.close()


def test_ready_sends_ready_datagram_to_path_socket(receiver: tuple[socket.socket, str]) -> None:
    sock, path = receiver
    notifier = SystemdNotifier.from_environment({"NOTIFY_SOCKET": path})

    assert notifier.enabled
    assert notifier.ready() is True
    assert sock.recv(4096) == b"READY=1"


def test_each_lifecycle_message_is_one_exact_datagram(receiver: tuple[socket.socket, str]) -> None:
    sock, path = receiver
    notifier = SystemdNotifier.from_environment({"NOTIFY_SOCKET": path})

    notifier.status("scanning 200 symbols")
    notifier.watchdog()
    notifier.stopping()

    assert sock.recv(4096) == b"STATUS=scanning 200 symbols"
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert sock.recv(4096) == b"STOPPING=1"


def test_reloading_sends_monotonic_usec_from_injected_source(
    receiver: tuple[socket.socket, str],
) -> None:
    sock, path = receiver
    notifier = SystemdNotifier(path, monotonic_usec=lambda: 123_456_789)

    notifier.reloading()

    assert sock.recv(4096) == b"RELOADING=1\nMONOTONIC_USEC=123456789"


def test_reloading_default_monotonic_usec_is_clock_monotonic_microseconds(
    receiver: tuple[socket.socket, str],
) -> None:
    sock, path = receiver
    notifier = SystemdNotifier(path)

    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000

    first, second = sock.recv(4096).decode().split("\n")
    assert first == "RELOADING=1"
    key, value = second.split("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after


def test_abstract_socket_name_with_at_sign_is_reached(
    abstract_receiver: tuple[socket.socket, str],
) -> None:
    sock, notify_socket = abstract_receiver
    notifier = SystemdNotifier.from_environment({"NOTIFY_SOCKET": notify_socket})

    assert notifier.ready() is True
    assert sock.recv(4096) == b"READY=1"


def test_notify_upper_cases_keys_keeps_order_and_flattens_newlines(
    receiver: tuple[socket.socket, str],
) -> None:
    sock, path = receiver
    notifier = SystemdNotifier(path)

    notifier.notify(status="line one\nline two", ERRNO=5, ready=1)

    assert sock.recv(4096) == b"STATUS=line one line two\nERRNO=5\nREADY=1"


def test_notify_with_malformed_key_raises_value_error(receiver: tuple[socket.socket, str]) -> None:
    _, path = receiver
    with pytest.raises(ValueError, match="invalid sd_notify field name"):
        SystemdNotifier(path).notify(**{"BAD KEY": 1})


@pytest.mark.parametrize("environ", [{}, {"NOTIFY_SOCKET": ""}, {"NOTIFY_SOCKET": "relative"}])
def test_without_usable_notify_socket_every_call_is_a_no_op(environ: dict[str, str]) -> None:
    notifier = SystemdNotifier.from_environment(environ)

    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.status("x") is False
    assert notifier.watchdog() is False
    assert notifier.stopping() is False
    assert notifier.reloading() is False


def test_send_failure_never_raises_and_warns_only_once(tmp_path: Path) -> None:
    notifier = SystemdNotifier(str(tmp_path / "nobody-listens.sock"))

    with capture_logs() as logs:
        results = [notifier.ready(), notifier.watchdog(), notifier.watchdog()]

    assert results == [False, False, False]
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["event"] == "sd_notify send failed"


def test_send_to_full_receiver_queue_does_not_block(receiver: tuple[socket.socket, str]) -> None:
    _, path = receiver  # never read: its queue fills up
    notifier = SystemdNotifier(path)
    results: list[bool] = []

    def flood() -> None:
        results.extend(notifier.watchdog() for _ in range(5000))

    worker = threading.Thread(target=flood, daemon=True)
    worker.start()
    worker.join(timeout=10)

    assert not worker.is_alive(), "sending blocked on a full receiver"
    assert True in results
    assert False in results


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "1000"}, 0.0005),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4243"}, None),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "x"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_PID": "4242"}, None),
    ],
)
def test_watchdog_interval_table(environ: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval(environ, pid=4242) == expected


def test_watchdog_interval_defaults_to_this_process_pid() -> None:
    environ = {"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval(environ) == 10.0


@given(usec=st.integers(min_value=1, max_value=10**12))
def test_watchdog_interval_is_half_the_period_in_seconds(usec: int) -> None:
    interval = watchdog_interval({"WATCHDOG_USEC": str(usec)})
    assert interval is not None
    assert interval * 2 * 1_000_000 == pytest.approx(usec)
    assert interval * 1_000_000 < usec
