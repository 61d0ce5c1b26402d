"""Benchmark: the event loop's longest stall per scan over several runs (issue 12: under 100 ms).

One stall is a noisy figure on a shared machine: a process that gets no CPU for 200 ms shows a
200 ms stall whatever its code does. This runs bench/cycle_probe.py `--runs` times for each size
(the Alpaca adapter against the fake Alpaca server in its own process, on cores of its own where
the machine has two or more (bench/cycle_processes.py CpuSplit), at 0 ms, with
`gc.freeze()` after start-up as `catalyst run` does) and prints, per scan of the shipped
schedule (09:15 pre-market and the day's first, to 15:00), the minimum, median and maximum
stall, the median wall time, the daemon's peak RSS, the load average before each run, and for
the worst stall the longest garbage
collection of its cycle and where the loop was stuck (bench/stall_sites.py).
Run: .venv/bin/python bench/cycle_stalls.py [--symbols 4119,12000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from statistics import median
from typing import Any

from cycle_processes import HERE, CpuSplit, pinned, server_url, start_server, stop_server

START = "2026-11-24T08:00:00-05:00"  # the probe's simulated day starts here
MAX_STALL_MS = 100.0


def probe(symbols: int) -> dict[str, Any]:
    """One bench/cycle_probe.py run beside its own fake Alpaca server; its decoded result."""
    args = [
        sys.executable,
        str(HERE / "cycle_probe.py"),
        f"--symbols={symbols}",
        "--broker=alpaca",
        "--freeze=startup",
        "--stall-sites",
        "--server-url-on-stdin",
    ]
    cpus = CpuSplit.of_this_machine()
    server = start_server(symbols, START, cpus.server)
    try:
        process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, **pinned(cpus.daemon)
        )
        out, _ = process.communicate(f"{server_url(server)}\n")
    finally:
        stop_server(server)
    if process.returncode != 0:
        raise SystemExit(f"cycle probe failed at {symbols} symbols")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", default="4119,12000", help="comma-separated sizes")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    split = CpuSplit.of_this_machine().describe()
    print(f"machine: {os.cpu_count()} cores ({split}); {args.runs} runs per size")
    for symbols in sorted({int(size) for size in args.symbols.split(",")}):
        runs, loads = [], []
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            runs.append(probe(symbols)["cycles"])
        print(f"\n{symbols:,} symbols, load average {min(loads):.1f}-{max(loads):.1f}")
        header = f"{'scan':<5} {'stall ms: min':>13} {'median':>6} {'max':>5}  {'wall s':>6}"
        print(f"  {header}  RSS MB")
        for scan in range(len(runs[0])):
            cycles = [run[scan] for run in runs]
            stalls = sorted(c["stall_ms"] for c in cycles)
            worst = max(cycles, key=lambda c: c["stall_ms"])
            verdict = "PASS" if stalls[-1] <= MAX_STALL_MS else "MISS"  # every run under it
            sites = ", ".join(f"{site} {ms:.0f} ms" for site, ms in worst["stall_sites"][:2])
            print(
                f"  {cycles[0]['at']:<5} {stalls[0]:>13.0f} {median(stalls):>6.0f} "
                f"{stalls[-1]:>5.0f}  {median(c['wall_s'] for c in cycles):>6.2f}  "
                f"{max(c['peak_rss_mb'] for c in cycles):>6.0f}  max {verdict}; worst: "
                f"longest GC {worst['gc']['longest_s'] * 1000:.0f} ms, stuck in {sites}"
            )
    print(
        "\nstall: the longest a task sleeping 10 ms waited beyond its 10 ms (bench/cycle_probe.py);"
        " on a loaded machine it includes time the process got no CPU at all"
    )


if __name__ == "__main__":
    main()
