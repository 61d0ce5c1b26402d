"""Benchmark: one whole simulated trading session of the real daemon.

Prints wall seconds per simulated trading day, the speed-up over real time, and peak RSS.
Run: .venv/bin/python bench/simulated_day.py [--days N] [--symbols N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from catalyst.config.loader import load_settings
from catalyst.daemon.entry import run_simulated_day
from catalyst.logs import configure_logging
from catalyst.timekeeping.calendar import ExchangeCalendar

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=3, help="sessions to simulate")
    parser.add_argument("--start", default="2026-11-16", help="first day (YYYY-MM-DD)")
    args = parser.parse_args()
    configure_logging("ERROR", "json", stream=sys.stderr)
    calendar = ExchangeCalendar()
    day = date.fromisoformat(args.start)
    with tempfile.TemporaryDirectory() as state:
        os.chdir(state)
        settings = load_settings(REPO / "config", {})
        timings = []
        for _ in range(args.days):
            session = calendar.session(day) or calendar.next_session(day)
            started = time.perf_counter()
            summary = asyncio.run(run_simulated_day(settings, day=session.day))
            elapsed = time.perf_counter() - started
            timings.append(elapsed)
            market_seconds = (session.close - session.open).total_seconds()
            print(
                f"{session.day}: {elapsed:6.2f} s wall for {market_seconds / 3600:.1f} h of market "
                f"({market_seconds / elapsed:,.0f}x real time); scans {summary.scans_run}, "
                f"entries {summary.entries_placed}, fills {summary.fills}, flat {summary.flat}"
            )
            day = calendar.next_session(session.day).day
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    mean = sum(timings) / len(timings)
    print(f"mean wall seconds per simulated trading day: {mean:.2f}")
    print(f"peak RSS: {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
