"""An accelerated clock for the standalone fake server (`catalyst fake-alpaca --speed N`).

Simulated time = start + (base time elapsed) x speed, where the base is the real clock. It reads
time only through the base clock, and never goes backwards even if the wall clock is stepped back.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime

from catalyst.ports import Clock


class ScaledClock:
    """`speed` simulated seconds per base-clock second, starting at `start`."""

    def __init__(self, base: Clock, speed: float, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._base = base
        self._speed = speed
        self._base_start = base.now()
        self._start = start if start is not None else self._base_start
        self._last = self._start

    def now(self) -> datetime:
        """The scaled instant; monotone."""
        scaled = self._start + (self._base.now() - self._base_start) * self._speed
        self._last = max(self._last, scaled)
        return self._last

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of scaled time."""
        await self._base.sleep(max(seconds, 0.0) / self._speed)

    async def sleep_until(self, when: datetime) -> None:
        """Wait until scaled time reaches `when`."""
        while (remaining := (when - self.now()).total_seconds()) > 0:
            await self.sleep(remaining)

    def participant(self) -> AbstractAsyncContextManager[None]:
        """No-op: time moves on its own."""
        return nullcontext()

    def idle(self) -> AbstractAsyncContextManager[None]:
        """No-op: time moves on its own."""
        return nullcontext()
