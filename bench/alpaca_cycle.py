"""Benchmark: one scan cycle through the Alpaca adapter and the fake Alpaca server.

Prints HTTP requests per scan cycle (every request passes the shared rate limiter, which counts
them) and wall time per cycle, at 0 ms and at 50 ms of injected latency per request.
Run: .venv/bin/python bench/alpaca_cycle.py [--symbols N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import datetime
from datetime import time as clock_time

from alpaca_daemon import alpaca_daemon, shipped_settings

from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.fake_alpaca.faults import FaultPlan
from catalyst.logs import configure_logging
from catalyst.timekeeping.clock import SimClock

SCAN = datetime(2026, 11, 24, 10, 30, tzinfo=EXCHANGE_TZ)


class CountingLimiter(RequestLimiter):
    """The adapter's limiter, counting every request it lets through."""

    requests = 0

    async def acquire(self) -> None:
        CountingLimiter.requests += 1
        await super().acquire()


async def one_cycle(symbols: int, latency_ms: int, state: str) -> tuple[int, float, int]:
    url = f"sqlite+aiosqlite:///{state}/bench-{latency_ms}.db"
    clock = SimClock(datetime.combine(SCAN.date(), clock_time(10, 0), tzinfo=EXCHANGE_TZ))
    faults = FaultPlan()
    limiter = CountingLimiter(clock, 100_000)
    async with alpaca_daemon(
        shipped_settings(symbols), url, clock, faults=faults, limiter=limiter
    ) as daemon:
        clock.advance_to(SCAN)
        if latency_ms:
            faults.latency(latency_ms)
        CountingLimiter.requests = 0
        started = time.perf_counter()
        report = await daemon.components.scan_cycle.run_scheduled(SCAN)
        elapsed = time.perf_counter() - started
        return CountingLimiter.requests, elapsed, len(report.placed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=3000)
    args = parser.parse_args()
    configure_logging("ERROR", "json", stream=sys.stderr)
    with tempfile.TemporaryDirectory() as state:
        os.chdir(state)
        results = {ms: asyncio.run(one_cycle(args.symbols, ms, state)) for ms in (0, 50)}
    for ms, (requests, seconds, placed) in results.items():
        print(
            f"{ms:>3} ms latency: {requests} requests per cycle, {seconds:.2f} s wall per cycle "
            f"({args.symbols} symbols, {placed} entries placed)"
        )
    slow, fast = results[50][1], results[0][1]
    print(f"latency cost: {slow / fast:.1f}x wall time at 50 ms per request")


if __name__ == "__main__":
    main()
