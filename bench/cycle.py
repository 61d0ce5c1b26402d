"""Benchmark: scan cycles at 4,119 and 12,000 symbols, against the targets of issue 12.

Each configuration runs in a fresh process (bench/cycle_probe.py, so that each peak RSS is its
own): the daemon's components run the shipped schedule's scans of one simulated day (09:15
pre-market, the first of the day: the asset list is fetched and stored; then 09:30, 10:30,
12:00, 13:30 and 15:00, with the positions of the earlier ones held or closed), against

- `sim`: the in-process simulator broker (its market-data answers are built in a worker thread,
  the rest on the event loop; the simulated market lives in the daemon's memory);
- `alpaca`: the real Alpaca adapter (alpaca-py) talking to the fake Alpaca server in a process of
  its own (bench/cycle_server.py), at 0 ms and 50 ms of latency injected per request. The
  daemon's RSS, CPU and event loop are then its own; the server's are shown apart.

Printed per cycle: wall time, the daemon's CPU time (and the server's), HTTP requests (counted at
the adapter's rate limiter, which every request passes once), the event loop's longest stall
(a task sleeping 10 ms in a loop, its worst lateness on the real monotonic clock), the garbage
collector's CPU time and gen2 collections, and the process's peak RSS. Then the targets with
PASS/MISS (with, for each stall, the calls the loop was stuck in: bench/stall_sites.py), the
12,000 : 4,119 ratios, and the collector with and without `gc.freeze()` at start-up. Every
configuration freezes at start-up as `catalyst run` does, but the one labelled `freeze: none`,
which only shows what the freeze saves. Misses do not fail the run; errors do.

Wall times and stalls grow when other processes compete for the CPU: the load average is printed
first, and CPU times are shown beside wall times.
Run: .venv/bin/python bench/cycle.py [--symbols 4119,12000] [--quick] [--gc-after-assets]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from cycle_processes import HERE, CpuSplit, pinned, server_url, start_server, stop_server
from cycle_report import SHIPPED_FREEZE

START = "2026-11-24T08:00:00-05:00"  # the probe's simulated day starts here (bench/cycle_probe.py)


@dataclass(frozen=True)
class Config:
    """One measured configuration."""

    symbols: int
    broker: str  # "sim" or "alpaca"
    latency_ms: int = 0
    # As `catalyst run` does (bench/cycle_probe.py --freeze): the targets are judged on this.
    freeze: str = SHIPPED_FREEZE

    @property
    def label(self) -> str:
        path = "sim" if self.broker == "sim" else f"alpaca {self.latency_ms} ms"
        return path if self.freeze == SHIPPED_FREEZE else f"{path}, freeze: {self.freeze}"


def run(config: Config) -> dict[str, Any]:
    """Run one probe process (and its fake Alpaca server beside it); its decoded result."""
    args = [
        sys.executable,
        str(HERE / "cycle_probe.py"),
        f"--symbols={config.symbols}",
        f"--broker={config.broker}",
        f"--latency-ms={config.latency_ms}",
        f"--freeze={config.freeze}",
        "--stall-sites",
    ]
    cpus = CpuSplit.of_this_machine()
    server = start_server(config.symbols, START, cpus.server) if config.broker == "alpaca" else None
    try:
        if server is not None:
            args.append("--server-url-on-stdin")  # both start up side by side
        probe = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, **pinned(cpus.daemon)
        )
        url = "" if server is None else server_url(server)
        out, _ = probe.communicate(f"{url}\n")
    finally:
        if server is not None:
            stop_server(server)
    if probe.returncode != 0:
        raise SystemExit(f"cycle benchmark failed: {config.label}, {config.symbols} symbols")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def configs(sizes: list[int], quick: bool, gc_after_assets: bool) -> list[Config]:
    chosen = []
    for symbols in sizes:
        chosen.append(Config(symbols, "sim"))
        chosen += [Config(symbols, "alpaca", ms) for ms in ((0,) if quick else (0, 50))]
    largest = max(sizes)
    if not quick:  # the collector's cost without the daemon's freeze, for comparison
        chosen.append(Config(largest, "alpaca", 0, "none"))
    if gc_after_assets:
        chosen.append(Config(largest, "alpaca", 0, "first-assets"))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", default="4119,12000", help="comma-separated sizes")
    parser.add_argument("--quick", action="store_true", help="0 ms only, no gc.freeze comparison")
    parser.add_argument(
        "--gc-after-assets",
        action="store_true",
        help="also freeze after the first cycle (the day's asset list cached)",
    )
    args = parser.parse_args()
    sizes = sorted({int(size) for size in args.symbols.split(",")})
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {load:.1f} at the start", end="")
    print(" (others are using the CPU: wall times and stalls are inflated)" if load > cores else "")
    print(f"Alpaca path: {CpuSplit.of_this_machine().describe()} (bench/cycle_processes.py)")
    results = {}
    for config in configs(sizes, args.quick, args.gc_after_assets):
        print(f"running {config.label} at {config.symbols:,} symbols ...", flush=True)
        results[config] = run(config)
    from cycle_report import report  # printing only; kept apart to keep both files small

    report(results, sizes)


if __name__ == "__main__":
    main()
