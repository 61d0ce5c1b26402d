"""What the fake Alpaca server's routes share, and the typed keys it hangs on the application by.

Routes reach it as `request.app[STATE]`; `catalyst.fake_alpaca.app` builds it and registers the
routes, so the route modules import this module and never the application's.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from catalyst.fake_alpaca.faults import FaultPlan
from catalyst.fake_alpaca.journal import OrderJournal
from catalyst.fake_alpaca.stream import StreamHub
from catalyst.ports import Clock
from catalyst.sim.exchange import SimExchange
from catalyst.sim.feed import SessionSource

RATE_LIMIT_PER_MINUTE = 200


@dataclass(eq=False)
class FakeAlpaca:
    """Everything the routes share: the simulator, time, the order journal and the stream hub."""

    exchange: SimExchange
    calendar: SessionSource
    clock: Clock
    journal: OrderJournal
    hub: StreamHub
    created_at: datetime
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _window: tuple[datetime, int] | None = None  # (minute, requests in it) for rate headers
    # Every HTTP request received (faulted and dropped ones included), by "METHOD /path", and the
    # longest request target (path + query string, as sent) seen: for tests and benchmarks.
    requests: Counter[str] = field(default_factory=Counter)
    longest_target: int = 0

    def next_client_order_id(self, prefix: str) -> str:
        """A fresh client_order_id for orders the server creates itself."""
        return f"{prefix}-{next(self._ids):08d}"

    def record_request(self, method: str, path: str, target: str) -> None:
        """Count one received request; `target` is its request target (path and query)."""
        self.requests[f"{method} {path}"] += 1
        self.longest_target = max(self.longest_target, len(target))

    def request_count(self, prefix: str = "") -> int:
        """Requests received whose "METHOD /path" starts with `prefix` (all of them for "")."""
        return sum(n for key, n in self.requests.items() if key.startswith(prefix))

    def pump(self) -> None:
        """Catch the exchange up to the clock and publish what changed to the stream."""
        events = self.journal.pump()
        if events:
            self.hub.publish(events)

    def count_request(self) -> dict[str, str]:
        """The X-Ratelimit-* headers for one more request in the clock's current minute."""
        now = self.clock.now()
        minute = now.replace(second=0, microsecond=0)
        used = self._window[1] + 1 if self._window and self._window[0] == minute else 1
        self._window = (minute, used)
        reset = minute + timedelta(minutes=1)
        return {
            "X-Ratelimit-Limit": str(RATE_LIMIT_PER_MINUTE),
            "X-Ratelimit-Remaining": str(max(RATE_LIMIT_PER_MINUTE - used, 0)),
            "X-Ratelimit-Reset": str(int(reset.timestamp())),
        }


STATE = web.AppKey("fake_alpaca", FakeAlpaca)
FAULTS = web.AppKey("fake_alpaca_faults", FaultPlan)
