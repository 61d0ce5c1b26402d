"""Waiting at start-up for a broker or database that is not there yet.

A daemon started at boot may come up before PostgreSQL or the network does. Exiting would put
systemd into a restart loop that ends, after StartLimitBurst, with the daemon dead for good; so a
temporary failure (`DatabaseUnavailable`, `JournalUnavailable`, `RetryableBrokerError`) is retried
with capped exponential backoff and jitter, on the injected clock, until it succeeds or a stop is
requested.
Meanwhile systemd's STATUS says what is awaited, EXTEND_TIMEOUT_USEC keeps its start timeout from
killing the wait, the log has one line per change of error, and a person is alerted once the wait
has gone on for a while. Anything else (a refused login, a corrupt or unmigrated database) is
not temporary and propagates at once.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypeVar

import structlog

from catalyst.domain.errors import DatabaseUnavailable, JournalUnavailable, RetryableBrokerError
from catalyst.notify import events
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.ports import Clock, Notifier

__all__ = ["Backoff", "Dependency", "StartupWait", "StopDuringStartup", "StopSignal"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

TEMPORARY_ERRORS = (DatabaseUnavailable, JournalUnavailable, RetryableBrokerError)
ALERT_AFTER_SECONDS = 300.0  # a boot-time race resolves in seconds; five minutes needs a person
# Wall time systemd is asked to allow for one attempt on top of the backoff delay: asyncpg's own
# connect timeout is 60 s, the broker adapter retries its reads for a while too.
ATTEMPT_ALLOWANCE_SECONDS = 120.0


class Dependency(Enum):
    """What start-up waits for."""

    BROKER = "broker"
    DATABASE = "database"


class StopDuringStartup(Exception):  # a request, not an error
    """A stop (SIGTERM) was requested while start-up waited: exit cleanly, nothing started."""


class StopSignal(Protocol):
    """How start-up learns of a stop request while it waits."""

    async def unless_requested(self, work: Awaitable[T]) -> T:
        """`work`'s outcome, or (with `work` cancelled) an exception once a stop is requested."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff; each delay loses up to `jitter` of itself at random so that
    daemons restarted together do not retry in lock step."""

    first_seconds: float = 1.0
    factor: float = 2.0
    cap_seconds: float = 60.0
    jitter: float = 0.25

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        base = min(self.cap_seconds, self.first_seconds * self.factor ** (attempt - 1))
        return base * (1.0 - self.jitter * rng.random())


class StartupWait:
    """Runs start-up steps until their dependency answers, honouring a stop request."""

    def __init__(
        self,
        *,
        clock: Clock,
        stop: StopSignal,
        systemd: SystemdNotifier,
        notifier: Notifier,
        backoff: Backoff | None = None,
        alert_after_seconds: float = ALERT_AFTER_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        """`stop` ends the wait when a stop is requested; `rng` makes the jitter repeatable."""
        self._clock = clock
        self._stop = stop
        self._systemd = systemd
        self._notifier = notifier
        self._backoff = backoff if backoff is not None else Backoff()
        self._alert_after = alert_after_seconds
        self._rng = rng if rng is not None else random.Random()  # jitter, not crypto

    async def until_available(self, what: Dependency, attempt: Callable[[], Awaitable[T]]) -> T:
        """`await attempt()` until it does not fail temporarily; its result.

        Raises what `stop.unless_requested` raises when a stop is requested first (the attempt or
        the sleep is cancelled), and any non-temporary error of `attempt` at once.
        """
        started = self._clock.now()
        failures = 0
        last_error: str | None = None
        alerted = False
        while True:
            # systemd's start timeout covers the attempt too (a black-holed host can take a minute).
            self._systemd.extend_timeout(ATTEMPT_ALLOWANCE_SECONDS)
            try:
                result = await self._stop.unless_requested(attempt())
            except TEMPORARY_ERRORS as exc:
                failures += 1
                error = str(exc)
                waited = (self._clock.now() - started).total_seconds()
                if error != last_error:  # one line per change, not one per attempt
                    log.warning(f"waiting for the {what.value}", error=error, attempt=failures)
                    last_error = error
                if not alerted and waited >= self._alert_after:
                    alerted = True
                    await self._notifier.alert(
                        events.dependency_down(
                            what.value,
                            started,
                            f"{error}. Not trading: Catalyst is starting and keeps retrying.",
                            self._clock.now(),
                        )
                    )
                delay = self._backoff.delay(failures, self._rng)
                self._systemd.status(f"waiting for the {what.value}: {error}")
                self._systemd.extend_timeout(delay + ATTEMPT_ALLOWANCE_SECONDS)
                await self._stop.unless_requested(self._clock.sleep(delay))
                continue
            if failures:
                waited = (self._clock.now() - started).total_seconds()
                log.info(
                    f"the {what.value} is available", attempts=failures + 1, waited=round(waited, 1)
                )
                if alerted:
                    await self._notifier.alert(
                        events.dependency_back(
                            what.value, started, "Start-up goes on.", self._clock.now()
                        )
                    )
            return result
