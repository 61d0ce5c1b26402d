"""Benchmark: broker requests per minute while the daemon is halted by the emergency stop.

The whole daemon (risk-watch, reconciler, order-event stream, end-of-day flattener, scheduler)
through the Alpaca adapter against the fake Alpaca server, on a simulated clock. It starts at
10:30 holding three positions with the day's loss far past the limit: the first risk-watch tick
halts and flattens. Every HTTP request the fake server answers is counted (method and path, at
its simulated time) over the halted span that follows, from one minute after the broker reported
flat; no scan falls in it.

"before" is the risk-watch as it was until it could stand: still breached, it re-ran flatten-all
on every tick (`PerTickFlatten` below keeps it from standing, and is otherwise the same code).
"after" is the risk-watch as shipped. Prints both rates, their ratio and the busiest endpoints.
Run: .venv/bin/python bench/halted_requests.py [--minutes N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from alpaca_daemon import alpaca_daemon, shipped_settings

from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.daemon.components import Components
from catalyst.daemon.supervisor import Supervisor
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import OrderRequest, Side
from catalyst.fake_alpaca.faults import Fault, FaultPlan
from catalyst.logs import configure_logging
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.ports import Clock
from catalyst.sim.broker import SimBroker
from catalyst.tasks.risk_watch import RiskWatch
from catalyst.timekeeping.clock import SimClock

START = datetime(2026, 11, 24, 10, 30, tzinfo=EXCHANGE_TZ)
ALPACA_LIMIT = 200  # requests per minute per account


class CountingPlan(FaultPlan):
    """No faults; notes every request the fake server answers (it asks the plan about each)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.requests: list[tuple[datetime, str]] = []

    def take(self, method: str, path: str) -> Fault | None:
        self.requests.append((self.clock.now(), f"{method} {_endpoint(path)}"))
        return super().take(method, path)


def _endpoint(path: str) -> str:
    # /v2/orders/<id> and /v2/positions/<symbol> are one endpoint each.
    parts = path.split("/")
    return "/".join(parts[:4]) + ("/…" if len(parts) > 4 else "")


class PerTickFlatten(RiskWatch):
    """The risk-watch before it could stand: it never does, so a breach flattens every tick."""

    @property  # type: ignore[override]
    def standing(self) -> bool:
        return False

    @standing.setter
    def standing(self, value: bool) -> None:
        pass


@dataclass
class Rate:
    minutes: float
    by_endpoint: Counter[str]

    @property
    def per_minute(self) -> float:
        return sum(self.by_endpoint.values()) / self.minutes


def _watch_like(components: Components, kind: type[RiskWatch]) -> RiskWatch:
    old = components.risk_watch
    args: dict[str, Any] = {
        name: getattr(old, f"_{name}")
        for name in (
            "broker",
            "store",
            "clock",
            "calendar",
            "risk",
            "flattener",
            "notifier",
            "journal",
        )
    }
    return kind(**args)


async def _hold_positions(sim: SimBroker, count: int) -> None:
    tradable = sorted(a.symbol for a in await sim.list_assets() if a.tradable)
    snapshots = await sim.get_snapshots(tradable)
    chosen = [s for s in tradable if s in snapshots and 5 < snapshots[s].last_price < 200]
    for symbol in chosen[:count]:
        await sim.submit_order(OrderRequest(f"bench-{symbol}", symbol, Side.BUY, 20))


async def halted(kind: type[RiskWatch], minutes: int, state: str) -> Rate:
    # One scan, at 15:00: the halted span holds none (scans are not the watch's doing).
    settings = shipped_settings(300, {"scan_times": (time(15, 0),), "missed_scan_grace_minutes": 0})
    url = f"sqlite+aiosqlite:///{state}/bench-{kind.__name__}.db"
    clock = SimClock(START)
    plan = CountingPlan(clock)
    async with alpaca_daemon(
        settings,
        url,
        clock,
        faults=plan,
        limiter=RequestLimiter(clock, 100_000),
        entries_stopped=lambda: supervisor.stopping,
    ) as daemon:
        components = daemon.components
        components.risk_watch = _watch_like(components, kind)
        supervisor = Supervisor(
            components,
            systemd=SystemdNotifier.from_environment({}),
            simulated_until=START + timedelta(minutes=minutes),
        )
        await _hold_positions(daemon.sim, 3)
        equity = (await daemon.sim.get_account()).equity
        await components.store.get_or_set_day_start_equity(START.date(), equity + Decimal(10_000))
        await supervisor.run()
        events = await components.store.risk_events_since(START)
    flat = next(e.at for e in events if e.kind == "emergency_flatten")
    begin, end = flat + timedelta(minutes=1), START + timedelta(minutes=minutes)
    counted = Counter(what for at, what in plan.requests if begin <= at < end)
    return Rate((end - begin).total_seconds() / 60, counted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=60, help="simulated minutes from 10:30")
    args = parser.parse_args()
    configure_logging("ERROR", "json", stream=sys.stderr)
    with tempfile.TemporaryDirectory() as state:
        os.chdir(state)
        before = asyncio.run(halted(PerTickFlatten, args.minutes, state))
        after = asyncio.run(halted(RiskWatch, args.minutes, state))
    print(
        f"halted after the emergency stop, flat: HTTP requests to the fake Alpaca server per "
        f"simulated minute, whole daemon, over {after.minutes:.0f} min"
    )
    for name, rate in (("before (flatten-all every tick)", before), ("after (standing)", after)):
        share = 100 * rate.per_minute / ALPACA_LIMIT
        print(f"  {name:<32} {rate.per_minute:6.1f} /min  ({share:.0f} % of Alpaca's 200/min)")
    print(f"  ratio: {before.per_minute / after.per_minute:.1f}x fewer requests while halted")
    print("  per endpoint, /min (before -> after):")
    endpoints = sorted(set(before.by_endpoint) | set(after.by_endpoint))
    for endpoint in sorted(endpoints, key=lambda e: -before.by_endpoint[e] - after.by_endpoint[e]):
        b = before.by_endpoint[endpoint] / before.minutes
        a = after.by_endpoint[endpoint] / after.minutes
        print(f"    {endpoint:<40} {b:6.1f} -> {a:5.1f}")


if __name__ == "__main__":
    main()
