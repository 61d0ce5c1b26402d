"""A sleep on the injected clock that another task can cut short.

Used by the loops that run on an interval but must also react at once to an event: the
risk-watch (a fill happened), the reconciler (a protective order was cancelled), and the
scan schedule and end-of-day flattener (a reloaded configuration moved their times).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from datetime import datetime

from catalyst.ports import Clock


class Alarm:
    """`sleep(seconds)` on `clock`, ended early by `wake()`.

    The sleep runs in a child task, no participant itself, so under a simulated clock it is a
    real clock sleep (time moves) while the caller waits inside `idle()` and then for its turn;
    `wake()` cancels the child (clock sleeps are cancel-safe). A wake that arrives while the
    caller is busy makes its next sleep return at once; several wakes count as one.
    """

    def __init__(self, clock: Clock, name: str) -> None:
        self._clock = clock
        self._name = name
        self._woken = False
        self._nap: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """End the current sleep now, or make the next one return at once."""
        self._woken = True
        if self._nap is not None and not self._nap.done():
            self._nap.cancel()

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of clock time, or less if woken."""
        await self._sleep(self._nap_for(seconds))

    async def sleep_until(self, when: datetime) -> None:
        """Sleep until `when` on the clock, or less if woken."""
        await self._sleep(self._nap_until(when))

    async def _sleep(self, nap_coroutine: Coroutine[object, object, None]) -> None:
        if self._woken:
            self._woken = False
            nap_coroutine.close()
            return
        nap = asyncio.create_task(nap_coroutine, name=f"{self._name}-sleep")
        self._nap = nap
        try:
            async with self._clock.idle():
                await asyncio.wait({nap})
        finally:
            self._nap = None
            if not nap.done():
                nap.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await nap
        self._woken = False

    async def _nap_for(self, seconds: float) -> None:
        await self._clock.sleep(seconds)

    async def _nap_until(self, when: datetime) -> None:
        await self._clock.sleep_until(when)
