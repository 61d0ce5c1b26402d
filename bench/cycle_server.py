"""The fake Alpaca server in a process of its own, for bench/cycle.py, on a clock the bench steers.

`catalyst fake-alpaca` runs on the wall clock (or an accelerated one), which cannot jump to the
next scan time in step with a daemon on a simulated clock. This serves the same application
(`create_app` over a fresh simulator built from the shipped settings) with a `SimClock` and two
bench-only routes beside Alpaca's:

- `POST /__bench/clock` `{"at": ISO-8601}`: move the simulated clock forward to `at`;
- `GET /__bench/stats`: requests served per path and CPU seconds spent since the last call, and
  this process's peak RSS (VmHWM), so the daemon's figures and the server's are kept apart.

The bench routes sit behind the same authentication as the rest (any non-empty key pair).
Latency is injected with the server's own `POST /__faults`. Prints its base URL on one line once
it listens, then serves until stdin closes (the parent exiting ends it).
Run: .venv/bin/python bench/cycle_server.py --symbols N --start ISO-8601
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from datetime import datetime

from aiohttp import web
from alpaca_daemon import shipped_settings
from rss import peak_rss_mb

from catalyst.fake_alpaca.app import create_app
from catalyst.sim.broker import build_sim_broker
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

BENCH_PREFIX = "/__bench"
SERVED = web.AppKey("bench_served", Counter[str])
CLOCK = web.AppKey("bench_clock", SimClock)
CPU_MARK = web.AppKey("bench_cpu_mark", list[float])  # process CPU seconds at the last stats call


async def _count(request: web.Request, _response: web.StreamResponse) -> None:
    if not request.path.startswith(("/__faults", BENCH_PREFIX)):
        request.app[SERVED][f"{request.method} {request.path}"] += 1


async def _move_clock(request: web.Request) -> web.Response:
    body = await request.json()
    request.app[CLOCK].advance_to(datetime.fromisoformat(body["at"]))
    return web.json_response({"now": request.app[CLOCK].now().isoformat()})


async def _stats(request: web.Request) -> web.Response:
    served, cpu = request.app[SERVED], time.process_time()
    answer = {
        "requests": dict(served),
        "cpu_s": cpu - request.app[CPU_MARK][0],
        "peak_rss_mb": peak_rss_mb(),
    }
    served.clear()
    request.app[CPU_MARK][0] = cpu
    return web.json_response(answer)


async def serve(symbols: int, start: datetime) -> None:
    settings = shipped_settings(symbols)
    clock = SimClock(start)
    calendar = ExchangeCalendar()
    sim = build_sim_broker(settings.trading.simulation, calendar, clock)
    app = create_app(sim.exchange, calendar, clock)
    app[SERVED] = Counter()
    app[CLOCK] = clock
    app[CPU_MARK] = [time.process_time()]
    app.on_response_prepare.append(_count)
    app.router.add_post(f"{BENCH_PREFIX}/clock", _move_clock)
    app.router.add_get(f"{BENCH_PREFIX}/stats", _stats)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"http://127.0.0.1:{port}", flush=True)
    try:
        # The parent holds our stdin; its end (exit, crash or close) is our signal to stop.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, required=True)
    parser.add_argument("--start", required=True, help="simulated start, ISO 8601 with offset")
    args = parser.parse_args()
    asyncio.run(serve(args.symbols, datetime.fromisoformat(args.start)))


if __name__ == "__main__":
    main()
