"""The whole daemon with `broker: alpaca`: the real alpaca-py client over real HTTP to the fake
Alpaca server, which runs on the daemon's simulated clock in the same event loop.

Same outcomes as the simulated day on the in-process simulator: no duplicate client_order_id,
every entry bracketed, flat at the close, and the journal equal to the broker.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest
from sqlalchemy import select
from support import make_settings

from catalyst.brokers.alpaca import AlpacaBroker, make_clients
from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.daemon.entry import simulate_session, simulation_clock
from catalyst.fake_alpaca.server import start_fake_alpaca
from catalyst.sim.broker import build_sim_broker
from catalyst.store.engine import make_engine
from catalyst.store.tables import orders
from catalyst.timekeeping.calendar import ExchangeCalendar

DAY = date(2026, 11, 24)

pytestmark = pytest.mark.slow


async def test_whole_session_through_alpaca_py_and_the_fake_server(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, simulation={"symbols": 600})
    calendar = ExchangeCalendar()
    session = calendar.session(DAY)
    assert session is not None
    clock = simulation_clock(session)
    exchange_side = build_sim_broker(settings.trading.simulation, calendar, clock)
    server = await start_fake_alpaca(exchange_side.exchange, calendar, clock)
    try:
        clients = make_clients(
            "test-key",
            "test-secret",
            paper=True,
            trading_url=server.base_url,
            data_url=server.base_url,
        )
        broker = AlpacaBroker(
            trading=clients.trading,
            data=clients.data,
            news=clients.news,
            clock=clock,
            limiter=RequestLimiter(clock, settings.trading.broker.requests_per_minute),
            live=False,
        )
        summary = await simulate_session(settings, session, clock, broker, sqlite_url)
        at_broker = await asyncio.to_thread(
            clients.trading.get_orders,
            GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500, nested=True),
        )
    finally:
        await server.stop()

    assert summary.scans_run == 6
    assert summary.entries_placed > 0
    assert summary.flat, summary.render()

    engine = make_engine(sqlite_url)
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(select(orders))).mappings().all()
    finally:
        await engine.dispose()
    counts = Counter(row["client_order_id"] for row in journal)
    assert all(n == 1 for n in counts.values())
    broker_ids = [o.client_order_id for o in at_broker]
    assert len(broker_ids) == len(set(broker_ids)), "no client_order_id twice at the broker"
    assert set(broker_ids) <= set(counts), "every order at the broker is journaled"
    entries = [row for row in journal if row["role"] == "entry"]
    assert len(entries) == summary.entries_placed
    for entry in entries:
        assert entry["order_class"] == "bracket"
        assert entry["broker_order_id"] is not None
    # The journal agrees with the broker: every order it knows is final, as the broker's are.
    assert await exchange_side.list_open_orders() == []
    assert await exchange_side.list_positions() == []
    assert all(row["status"] not in ("intent", "new", "accepted", "held") for row in journal)
