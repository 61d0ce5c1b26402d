"""Builds `AlpacaBroker` from validated settings: credentials, paper/live choice, URLs, limiter."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from alpaca.data.historical.news import NewsClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient

from catalyst.brokers.alpaca.adapter import AlpacaBroker
from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.config.models import Settings
from catalyst.domain.errors import ConfigError
from catalyst.ports import Clock

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
_CONFIG_FILE = "trading_config.yaml"


def trading_url(settings: Settings) -> str:
    """The trading API base URL: paper unless live trading is confirmed; an override wins.

    An override pointing at Alpaca's live host without the live confirmation is refused, so a
    paper configuration can never reach a real-money account by a URL typo.
    """
    override = settings.trading.broker.trading_base_url
    live = settings.live_trading_confirmed
    if override is None:
        return LIVE_TRADING_URL if live else PAPER_TRADING_URL
    url = override.rstrip("/")
    if url.endswith("/v2"):
        raise ConfigError(_CONFIG_FILE, "broker.trading_base_url", "leave out the /v2 suffix")
    if not live and urlsplit(url).hostname == urlsplit(LIVE_TRADING_URL).hostname:
        raise ConfigError(
            _CONFIG_FILE,
            "broker.trading_base_url",
            "points at Alpaca's live API but live trading is not confirmed",
        )
    return url


@dataclass(frozen=True, slots=True)
class AlpacaClients:
    """The three alpaca-py REST clients the adapter uses."""

    trading: TradingClient
    data: StockHistoricalDataClient
    news: NewsClient


def make_clients(
    key_id: str, secret_key: str, *, paper: bool, trading_url: str, data_url: str | None
) -> AlpacaClients:
    """alpaca-py clients for the trading API at `trading_url` and market data at `data_url`."""
    return AlpacaClients(
        trading=TradingClient(key_id, secret_key, paper=paper, url_override=trading_url),
        data=StockHistoricalDataClient(key_id, secret_key, url_override=data_url),
        news=NewsClient(key_id, secret_key, url_override=data_url),
    )


def build_alpaca_broker(settings: Settings, clock: Clock) -> AlpacaBroker:
    """An `AlpacaBroker` for `settings` (broker.kind must be alpaca; keys from the environment)."""
    broker = settings.trading.broker
    if broker.kind != "alpaca":
        raise ConfigError(_CONFIG_FILE, "broker.kind", f"is {broker.kind!r}, not 'alpaca'")
    key, secret = settings.secrets.alpaca_key_id, settings.secrets.alpaca_secret_key
    if key is None or secret is None:
        raise ConfigError(
            "environment",
            "APCA_API_KEY_ID / APCA_API_SECRET_KEY",
            "both Alpaca credentials are required for broker.kind alpaca",
        )
    live = settings.live_trading_confirmed
    key_id, secret_key = key.get_secret_value(), secret.get_secret_value()
    data_url = broker.data_base_url.rstrip("/") if broker.data_base_url else None
    clients = make_clients(
        key_id, secret_key, paper=not live, trading_url=trading_url(settings), data_url=data_url
    )
    return AlpacaBroker(
        trading=clients.trading,
        data=clients.data,
        news=clients.news,
        clock=clock,
        limiter=RequestLimiter(clock, broker.requests_per_minute),
        live=live,
        # None: the stream beside the trading API (wss://paper-api.alpaca.markets/stream, ...).
        stream_url=broker.stream_base_url.rstrip("/") if broker.stream_base_url else None,
    )
