"""Start-up waits for a missing database or broker: backoff, log, alert, systemd, stop."""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from stubs import RecordingNotifier

from catalyst.daemon.startup import (
    Backoff,
    Dependency,
    StartupWait,
    StopDuringStartup,
)
from catalyst.daemon.stopping import StopRequest
from catalyst.domain.alerts import AlertKind
from catalyst.domain.errors import DatabaseCorrupt, DatabaseUnavailable, RetryableBrokerError
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.timekeeping.clock import SimClock

START = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


class FlakyDependency:
    """Fails with the given errors in turn, then answers "ok"; records when it was called."""

    def __init__(self, clock: SimClock, errors: list[Exception]) -> None:
        self._clock = clock
        self._errors = list(errors)
        self.calls: list[datetime] = []

    async def __call__(self) -> str:
        self.calls.append(self._clock.now())
        if self._errors:
            raise self._errors.pop(0)
        return "ok"


@pytest.fixture
def systemd_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, SystemdNotifier]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    try:
        yield sock, SystemdNotifier(path)
    finally:
        sock.close()


def _datagrams(sock: socket.socket) -> list[str]:
    received = []
    while True:
        try:
            received.append(sock.recv(4096).decode())
        except BlockingIOError:
            return received


def _wait(
    clock: SimClock,
    systemd: SystemdNotifier,
    notifier: RecordingNotifier,
    stop: StopRequest | None = None,
    alert_after: float = 300.0,
) -> StartupWait:
    return StartupWait(
        clock=clock,
        stop=stop if stop is not None else StopRequest(),
        systemd=systemd,
        notifier=notifier,
        backoff=Backoff(first_seconds=1.0, factor=2.0, cap_seconds=8.0, jitter=0.25),
        alert_after_seconds=alert_after,
        rng=random.Random(7),
    )


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens() -> None:
    backoff = Backoff(first_seconds=1.0, factor=2.0, cap_seconds=8.0, jitter=0.25)
    rng = random.Random(1)
    for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (30, 8.0)]:
        for _ in range(50):
            assert 0.75 * base <= backoff.delay(attempt, rng) <= base


async def test_a_database_down_at_start_is_retried_with_growing_delays_until_it_answers(
    systemd_socket: tuple[socket.socket, SystemdNotifier],
) -> None:
    sock, systemd = systemd_socket
    clock = SimClock(START)
    down = DatabaseUnavailable("database at postgresql://db/catalyst is unreachable")
    dependency = FlakyDependency(clock, [down, down, down, down, down])
    notifier = RecordingNotifier()

    sent: list[str] = []  # read as they come, as systemd does: a datagram queue holds ~10
    asyncio.get_running_loop().add_reader(sock.fileno(), lambda: sent.extend(_datagrams(sock)))
    try:
        with capture_logs() as logs:
            result = await _wait(clock, systemd, notifier).until_available(
                Dependency.DATABASE, dependency
            )
    finally:
        asyncio.get_running_loop().remove_reader(sock.fileno())
    sent.extend(_datagrams(sock))

    assert result == "ok"
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(dependency.calls)]
    assert len(gaps) == 5
    for gap, base in zip(gaps, [1, 2, 4, 8, 8], strict=True):
        assert 0.75 * base <= gap <= base
    waiting = [line for line in logs if line["event"] == "waiting for the database"]
    assert len(waiting) == 1, "the same error is logged once, not once per attempt"
    assert [line["event"] for line in logs][-1] == "the database is available"
    assert notifier.alerts == [], "a short wait alerts nobody"
    statuses = [d for d in sent if d.startswith("STATUS=")]
    assert statuses[0].startswith("STATUS=waiting for the database: database at postgresql://db")
    extends = [int(d.split("=")[1]) for d in sent if d.startswith("EXTEND_TIMEOUT_USEC=")]
    assert len(extends) == 6 + 5, "before each attempt, and before each wait"
    assert all(usec >= 120_000_000 for usec in extends)
    assert len([usec for usec in extends if usec > 120_000_000]) == 5, "a wait adds its delay"


async def test_a_changed_error_is_logged_again(
    systemd_socket: tuple[socket.socket, SystemdNotifier],
) -> None:
    _sock, systemd = systemd_socket
    clock = SimClock(START)
    refused = RetryableBrokerError("ConnectionError: refused")
    timeout = RetryableBrokerError("ReadTimeout: 10 s")
    dependency = FlakyDependency(clock, [refused, refused, timeout, timeout, refused])

    with capture_logs() as logs:
        await _wait(clock, systemd, RecordingNotifier()).until_available(
            Dependency.BROKER, dependency
        )

    errors = [line["error"] for line in logs if line["event"] == "waiting for the broker"]
    assert errors == [str(refused), str(timeout), str(refused)]


async def test_a_long_wait_alerts_a_person_once_and_again_when_it_is_over(
    systemd_socket: tuple[socket.socket, SystemdNotifier],
) -> None:
    _sock, systemd = systemd_socket
    clock = SimClock(START)
    down = DatabaseUnavailable("database at postgresql://db/catalyst is unreachable")
    dependency = FlakyDependency(clock, [down] * 12)  # about 70 s of simulated waiting
    notifier = RecordingNotifier()

    await _wait(clock, systemd, notifier, alert_after=20.0).until_available(
        Dependency.DATABASE, dependency
    )

    assert [(a.kind, a.critical) for a in notifier.alerts] == [
        (AlertKind.DATABASE_OUTAGE, True),
        (AlertKind.DATABASE_RECOVERED, False),
    ]
    assert "unreachable" in notifier.alerts[0].body


async def test_a_permanent_error_propagates_at_once_without_waiting(
    systemd_socket: tuple[socket.socket, SystemdNotifier],
) -> None:
    _sock, systemd = systemd_socket
    clock = SimClock(START)
    dependency = FlakyDependency(clock, [DatabaseCorrupt("catalyst.db is not a database")])

    with pytest.raises(DatabaseCorrupt):
        await _wait(clock, systemd, RecordingNotifier()).until_available(
            Dependency.DATABASE, dependency
        )

    assert dependency.calls == [START]
    assert clock.now() == START


async def test_a_stop_during_the_wait_ends_it_without_another_attempt(
    systemd_socket: tuple[socket.socket, SystemdNotifier],
) -> None:
    _sock, systemd = systemd_socket
    clock = SimClock(START)
    stop = StopRequest()
    down = DatabaseUnavailable("unreachable")

    class StopAfterTwo(FlakyDependency):
        async def __call__(self) -> str:
            if len(self.calls) == 1:
                stop.request("SIGTERM")  # SIGTERM arrives during the second attempt's backoff
            return await super().__call__()

    dependency = StopAfterTwo(clock, [down] * 100)

    with pytest.raises(StopDuringStartup):
        await _wait(clock, systemd, RecordingNotifier(), stop=stop).until_available(
            Dependency.DATABASE, dependency
        )

    assert len(dependency.calls) == 2


async def test_a_stop_cancels_an_attempt_that_hangs(
    systemd_socket: tuple[socket.socket, SystemdNotifier],
) -> None:
    _sock, systemd = systemd_socket
    stop = StopRequest()
    cancelled = asyncio.Event()

    async def hangs() -> str:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        return "never"

    wait = _wait(SimClock(START), systemd, RecordingNotifier(), stop=stop)
    attempt = asyncio.create_task(wait.until_available(Dependency.BROKER, hangs))
    await asyncio.sleep(0)
    stop.request("SIGTERM")

    with pytest.raises(StopDuringStartup):
        await asyncio.wait_for(attempt, timeout=30)
    assert cancelled.is_set()
