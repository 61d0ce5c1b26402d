"""The product's alpaca-py adapter pointed at a test server (the fake Alpaca, or a hand-written
aiohttp app): real HTTP, paper, one URL for trading and data."""

from __future__ import annotations

from typing import Any

from catalyst.brokers.alpaca import AlpacaBroker, make_clients
from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.ports import Clock


def alpaca_broker(
    url: str, clock: Clock, *, requests_per_minute: int = 10_000, **options: Any
) -> AlpacaBroker:
    """An `AlpacaBroker` on `url`; `options` go to the adapter (timeout_seconds, ...)."""
    clients = make_clients("key", "secret", paper=True, trading_url=url, data_url=url)
    return AlpacaBroker(
        trading=clients.trading,
        data=clients.data,
        news=clients.news,
        clock=clock,
        limiter=RequestLimiter(clock, requests_per_minute),
        live=False,
        **options,
    )
