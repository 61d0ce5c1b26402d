"""A hand-written counting Broker: any broker behind it, every call noted with its clock time.

Used to measure how hard the daemon leans on the broker (requests per simulated minute), at the
seam every component shares, without patching anything.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from delegating_broker import DelegatingBroker

from catalyst.ports import Broker, Clock


@dataclass(frozen=True, slots=True)
class Call:
    at: datetime
    method: str


@dataclass
class CountingBroker(DelegatingBroker):
    """Implements `catalyst.ports.Broker` by delegating to `inner`, noting every call."""

    inner: Broker
    clock: Clock
    calls: list[Call] = field(default_factory=list)
    _first_calls: dict[str, asyncio.Event] = field(default_factory=dict)

    def between(self, start: datetime, end: datetime) -> list[Call]:
        """The calls made in [start, end)."""
        return [call for call in self.calls if start <= call.at < end]

    def methods(self, start: datetime, end: datetime) -> Counter[str]:
        """How often each method was called in [start, end)."""
        return Counter(call.method for call in self.between(start, end))

    async def first_call(self, method: str) -> None:
        """Return once `method` has been called (at once if it already was)."""
        await self._first_calls.setdefault(method, asyncio.Event()).wait()

    def before(self, method: str) -> None:
        self.calls.append(Call(self.clock.now(), method))
        self._first_calls.setdefault(method, asyncio.Event()).set()
