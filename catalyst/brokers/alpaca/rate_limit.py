"""The one client-side request limiter every Alpaca call goes through.

Alpaca allows about 200 requests per minute per account and answers 429 above that. The limiter
keeps the times of the last `limit` acquisitions and makes a caller wait until the oldest of them
is a full window old, so *no rolling window* ever holds more than `limit` requests (a plain token
bucket with burst `limit` can let almost `2 * limit` through a rolling minute). A 429 carrying a
reset time pauses every caller until then (`pause_until`).

Waiting uses the injected `Clock`, so a simulated day never sleeps for real.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta

from catalyst.ports import Clock


class RequestLimiter:
    """At most `limit` acquisitions in any rolling `window`; shared by every task and client."""

    def __init__(self, clock: Clock, limit: int, window: timedelta = timedelta(minutes=1)) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        self._clock = clock
        self._limit = limit
        self._window = window
        self._recent: deque[datetime] = deque()
        self._paused_until: datetime | None = None
        self._lock = asyncio.Lock()

    @property
    def limit(self) -> int:
        """The most requests allowed in one rolling window."""
        return self._limit

    def pause_until(self, when: datetime) -> None:
        """Hold every caller until `when` (the server said the quota resets then)."""
        if self._paused_until is None or when > self._paused_until:
            self._paused_until = when

    async def acquire(self) -> None:
        """Wait until one more request fits, then record it as sent now."""
        # One waiter at a time: callers are served in arrival order and never overshoot together.
        async with self._lock:
            while True:
                now = self._clock.now()
                wait = self._wait_seconds(now)
                if wait <= 0:
                    self._recent.append(now)
                    return
                await self._clock.sleep(wait)

    def _wait_seconds(self, now: datetime) -> float:
        while self._recent and self._recent[0] + self._window <= now:
            self._recent.popleft()
        waits = [0.0]
        if self._paused_until is not None:
            waits.append((self._paused_until - now).total_seconds())
        if len(self._recent) >= self._limit:
            waits.append((self._recent[0] + self._window - now).total_seconds())
        return max(waits)
