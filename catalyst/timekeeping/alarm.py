"""A sleep on the injected clock that another task can cut short.

Used by the loops that run on an interval but must also react at once to an event: the
risk-watch (a fill happened), the reconciler (a protective order was cancelled), and the
scan schedule and end-of-day flattener (a reloaded configuration moved their times).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from catalyst.ports import Clock, Nap


class Alarm:
    """`sleep(seconds)` on `clock`, ended early by `wake()`.

    Each sleep is one `Clock.nap_until`: under a simulated clock the sleeper is blocked on the
    clock (time moves) and a wake makes it due now, so it goes on at its next turn. A wake that
    arrives while the caller is busy makes its next sleep return at once (after that turn);
    several wakes count as one.
    """

    def __init__(self, clock: Clock, name: str) -> None:
        self._clock = clock
        self.name = name  # which loop sleeps here (for a debugger's eyes)
        self._woken = False
        self._nap: Nap | None = None

    def wake(self) -> None:
        """End the current sleep now, or make the next one return at once."""
        self._woken = True
        if self._nap is not None:
            self._nap.interrupt()

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of clock time, or less if woken."""
        await self.sleep_until(self._clock.now() + timedelta(seconds=max(0.0, seconds)))

    async def sleep_until(self, when: datetime) -> None:
        """Sleep until `when` on the clock, or less if woken."""
        nap = self._clock.nap_until(when)
        if self._woken:
            nap.interrupt()
        self._nap = nap
        try:
            await nap.wait()
        finally:
            self._nap = None
            self._woken = False
