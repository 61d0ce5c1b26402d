"""Starting and stopping the fake Alpaca server: in-process (tests, simulated days) or alone."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from catalyst.config.models import SimulationConfig
from catalyst.fake_alpaca.app import create_app
from catalyst.fake_alpaca.faults import FaultPlan
from catalyst.ports import Clock
from catalyst.sim.broker import build_sim_broker
from catalyst.sim.exchange import SimExchange
from catalyst.sim.feed import SessionSource
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import AcceleratedClock, RealClock


@dataclass(eq=False)
class RunningServer:
    """A started fake server: its app, base URL and how to stop it."""

    app: web.Application
    runner: web.AppRunner
    host: str
    port: int

    @property
    def base_url(self) -> str:
        """The `url_override` for TradingClient and the data clients."""
        return f"http://{self.host}:{self.port}"

    @property
    def stream_url(self) -> str:
        """The `url_override` for TradingStream (the full websocket URL)."""
        return f"ws://{self.host}:{self.port}/stream"

    async def stop(self) -> None:
        """Close every connection and stop serving."""
        await self.runner.cleanup()


async def start_fake_alpaca(
    exchange: SimExchange,
    calendar: SessionSource,
    clock: Clock,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: FaultPlan | None = None,
    credentials: tuple[str, str] | None = None,
) -> RunningServer:
    """Serve `exchange` on host:port in the running event loop (port 0: any free port)."""
    app = create_app(exchange, calendar, clock, faults=faults, credentials=credentials)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]  # (host, port) of the listening socket
    return RunningServer(app=app, runner=runner, host=host, port=int(bound))


async def run_fake_alpaca(
    host: str,
    port: int,
    simulation: SimulationConfig,
    *,
    speed: float = 1.0,
    clock: Clock | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Build a fresh simulator from `simulation` and serve it until a signal.

    Time is the wall clock scaled by `speed`, or `clock` when given (an `AcceleratedClock`
    shared with a daemon process); the simulated market starts at that clock's `now()`.
    """
    if clock is None:
        real = RealClock()
        started = real.now()
        clock = real if speed == 1.0 else AcceleratedClock(started, started, speed)
    calendar = ExchangeCalendar()
    broker = build_sim_broker(simulation, calendar, clock)
    server = await start_fake_alpaca(broker.exchange, calendar, clock, host=host, port=port)
    announce(f"fake Alpaca serving {server.base_url} (stream {server.stream_url})")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()
