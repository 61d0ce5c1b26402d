"""One configuration of bench/cycle.py, measured in a process of its own: prints one JSON line.

The daemon's components (`build_components`, the shipped settings sized to `--symbols`) run the
scan cycles of one simulated day (the shipped schedule's: 09:15 pre-market, 09:30, 10:30, 12:00,
13:30, 15:00; `--scans` for others) against
the in-process simulator broker or the real Alpaca adapter talking to the fake Alpaca server in a
child process
(bench/cycle_server.py), so that this process's peak RSS and event loop are the daemon's alone.

Per cycle: wall time, CPU time, requests (counted at the adapter's limiter, every request passes
it once; and per path at the server), the event loop's longest stall (a task sleeping 10 ms in a
loop on the real loop, its worst lateness on `time.monotonic`), the garbage collector's time and
collections per generation (`gc.callbacks`), and the peak RSS so far (VmHWM).

`--freeze` moves every object alive at that point out of the collector's reach (`gc.freeze()`
after a `gc.collect()`): `startup` once the components are built (where the daemon freezes, just
before its scheduler starts), `first-assets` after the first cycle (the day's asset list cached).
Run: .venv/bin/python bench/cycle_probe.py --symbols N --broker sim|alpaca [--latency-ms MS]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from typing import Any

from alpaca_cycle import CountingLimiter
from alpaca_daemon import shipped_settings
from cycle_processes import Server, server_url, start_server, stop_server
from rss import peak_rss_mb
from stall_sites import StallSites

from catalyst.brokers.alpaca import AlpacaBroker, make_clients
from catalyst.config.models import Settings
from catalyst.daemon.components import Components, build_components
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.logs import configure_logging
from catalyst.notify import build_notifier
from catalyst.ports import Broker
from catalyst.sim.broker import build_sim_broker
from catalyst.store.migrate import upgrade_database
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = datetime(2026, 11, 24, tzinfo=EXCHANGE_TZ).date()  # a Tuesday, a full session
START = datetime.combine(DAY, clock_time(8, 0), tzinfo=EXCHANGE_TZ)
# The shipped schedule's scan times (config/trading_config.yaml): every scan of the day.
SCANS = ",".join(f"{t:%H:%M}" for t in shipped_settings(1).trading.schedule.scan_times)


def scan_times(spec: str) -> list[datetime]:
    """ "HH:MM,HH:MM,..." as times of the probe's day, in order."""
    times = [clock_time.fromisoformat(part.strip()) for part in spec.split(",")]
    return [datetime.combine(DAY, t, tzinfo=EXCHANGE_TZ) for t in sorted(times)]


MONITOR_INTERVAL = 0.010  # seconds the stall monitor sleeps per round


class StallMonitor:
    """Sleeps `MONITOR_INTERVAL` in a loop; the worst lateness since `reset` is the longest
    stretch the event loop could not run a ready task (a risk-watch tick would wait as long)."""

    def __init__(self, sites: StallSites | None) -> None:
        self.worst = 0.0
        self._sites = sites

    def reset(self) -> None:
        self.worst = 0.0
        if self._sites is not None:
            self._sites.take()  # what stalled before this cycle is not charged to it

    async def run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(MONITOR_INTERVAL)
            self.worst = max(self.worst, time.monotonic() - before - MONITOR_INTERVAL)
            if self._sites is not None:
                self._sites.beat()


@dataclass
class GcTimer:
    """Time spent in the garbage collector and collections per generation (`gc.callbacks`).

    A collection runs in the thread that triggered it, start to end: its CPU time is that
    thread's (`time.thread_time`), which a busy machine does not inflate as it does wall time.
    """

    cpu_s: float = 0.0
    wall_s: float = 0.0
    longest_s: float = 0.0
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    _started: tuple[float, float] = (0.0, 0.0)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = (time.thread_time(), time.perf_counter())
            return
        cpu, wall = time.thread_time() - self._started[0], time.perf_counter() - self._started[1]
        self.cpu_s += cpu
        self.wall_s += wall
        self.longest_s = max(self.longest_s, wall)
        self.collections[info["generation"]] += 1

    def reset(self) -> None:
        self.cpu_s = self.wall_s = self.longest_s = 0.0
        self.collections = [0, 0, 0]

    def figures(self) -> dict[str, Any]:
        return {
            "cpu_s": self.cpu_s,
            "wall_s": self.wall_s,
            "longest_s": self.longest_s,
            "collections": list(self.collections),
        }


@asynccontextmanager
async def fake_alpaca(args: argparse.Namespace) -> AsyncIterator[Server]:
    """The server bench/cycle.py started beside this process (its URL on our stdin), or one of
    our own."""
    if args.server_url_on_stdin:
        yield Server((await asyncio.to_thread(sys.stdin.readline)).strip())
        return
    process = start_server(args.symbols, START.isoformat())
    try:
        yield Server(await asyncio.to_thread(server_url, process))
    finally:
        stop_server(process)


async def build(settings: Settings, broker: Broker, clock: SimClock, url: str) -> Components:
    await asyncio.to_thread(upgrade_database, url)
    return await build_components(
        settings,
        clock=clock,
        broker=broker,
        calendar=ExchangeCalendar(),
        notifier=build_notifier(settings, clock=clock),
        database_url=url,
        entries_stopped=lambda: False,
    )


def freeze() -> None:
    gc.collect()  # garbage is collected first: frozen, it would never be freed
    gc.freeze()


def alpaca_broker(server: Server, clock: SimClock) -> AlpacaBroker:
    """The real adapter over alpaca-py, pointed at `server` (paper, test keys)."""
    clients = make_clients("k", "s", paper=True, trading_url=server.url, data_url=server.url)
    return AlpacaBroker(
        trading=clients.trading,
        data=clients.data,
        news=clients.news,
        clock=clock,
        limiter=CountingLimiter(clock, 100_000),  # counts; never makes a cycle wait
        live=False,
    )


async def run_cycles(args: argparse.Namespace, state: str) -> dict[str, Any]:
    settings = shipped_settings(args.symbols)
    clock = SimClock(START)
    url = f"sqlite+aiosqlite:///{state}/bench.db"
    async with server_for(args) as server:
        broker: Broker
        if server is None:
            broker = build_sim_broker(settings.trading.simulation, ExchangeCalendar(), clock)
        else:
            broker = alpaca_broker(server, clock)
            if args.latency_ms:
                latency = {"kind": "latency", "latency_ms": args.latency_ms, "path": "/v"}
                server.call("POST", "/__faults", latency)  # Alpaca's routes, not the bench's
        components = await build(settings, broker, clock, url)
        try:
            if args.freeze == "startup":
                freeze()
            startup_rss = peak_rss_mb()
            cycles = await measure(args, components, clock, server)
        finally:
            await components.close()
        server_rss = None if server is None else server.call("GET", "/__bench/stats")["peak_rss_mb"]
    return {"startup_peak_rss_mb": startup_rss, "server_peak_rss_mb": server_rss, "cycles": cycles}


def server_for(args: argparse.Namespace) -> AbstractAsyncContextManager[Server | None]:
    """The fake Alpaca server process for the Alpaca path; nothing for the simulator."""
    return fake_alpaca(args) if args.broker == "alpaca" else nullcontext()


async def measure(
    args: argparse.Namespace, components: Components, clock: SimClock, server: Server | None
) -> list[dict[str, Any]]:
    sites = StallSites() if args.stall_sites else None
    monitor, gc_timer = StallMonitor(sites), GcTimer()
    watcher = asyncio.create_task(monitor.run(), name="stall-monitor")
    gc.callbacks.append(gc_timer)
    profiler = cProfile.Profile() if args.profile else None
    results = []
    try:
        await asyncio.sleep(MONITOR_INTERVAL * 2)  # the monitor is running before a cycle starts
        for number, scan in enumerate(scan_times(args.scans)):
            clock.advance_to(scan)
            if server is not None:
                server.call("POST", "/__bench/clock", {"at": scan.isoformat()})
                server.call("GET", "/__bench/stats")  # zero the server's request counts
            CountingLimiter.requests = 0
            monitor.reset()
            gc_timer.reset()
            if profiler is not None:
                profiler.enable()
            cpu, wall = time.process_time(), time.perf_counter()
            report = await components.scan_cycle.run_scheduled(scan)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if profiler is not None:
                profiler.disable()
            # The monitor's next beat closes a stall that lasted to the cycle's end.
            await asyncio.sleep(MONITOR_INTERVAL * 2)
            stall_ms, stall_sites = monitor.worst * 1000, [] if sites is None else sites.take()
            if report.skipped_reason is not None:
                raise RuntimeError(f"cycle {report.cycle_id}: {report.skipped_reason}")
            served = None if server is None else server.call("GET", "/__bench/stats")
            results.append(
                {
                    "at": f"{scan:%H:%M}",
                    "first_of_day": number == 0,
                    "scan_type": report.scan_type,
                    "wall_s": wall,
                    "cpu_s": cpu,
                    "requests": CountingLimiter.requests if server is not None else None,
                    "served": None if served is None else served["requests"],
                    "server_cpu_s": None if served is None else served["cpu_s"],
                    "stall_ms": stall_ms,
                    "gc": gc_timer.figures(),
                    "peak_rss_mb": peak_rss_mb(),
                    "funnel": dict(report.funnel),
                    "placed": len(report.placed),
                    "stall_sites": stall_sites,
                }
            )
            if number == 0 and args.freeze == "first-assets":
                freeze()
    finally:
        gc.callbacks.remove(gc_timer)
        watcher.cancel()
    if profiler is not None:
        profiler.dump_stats(args.profile)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, required=True)
    parser.add_argument("--broker", choices=("sim", "alpaca"), required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--freeze", choices=("none", "startup", "first-assets"), default="none")
    parser.add_argument("--profile", metavar="PATH", help="cProfile the cycles into PATH")
    parser.add_argument(
        "--scans", default=SCANS, help=f"scan times HH:MM, comma-separated (default {SCANS})"
    )
    parser.add_argument(
        "--stall-sites", action="store_true", help="sample the loop's stack while it stalls"
    )
    parser.add_argument(
        "--server-url-on-stdin",
        action="store_true",
        help="the Alpaca path's server is already starting: read its URL from stdin",
    )
    args = parser.parse_args()
    configure_logging("ERROR", "json", stream=sys.stderr)
    if args.profile:
        args.profile = os.path.abspath(args.profile)
    with tempfile.TemporaryDirectory() as state:
        os.chdir(state)  # the shipped settings' relative state dir lands here
        result = asyncio.run(run_cycles(args, state))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
