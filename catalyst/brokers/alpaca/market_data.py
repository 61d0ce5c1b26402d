"""Alpaca market data for the scanner: the asset list, snapshots, daily and minute bars, news.

Paginated market data is paged here (raw `.get()` on the data clients) rather than inside
alpaca-py, so that *every* page is rate limited and retried on its own (`RestTransport.read`).
Multi-symbol requests are cut into batches by URL length and run a few at a time
(`catalyst.brokers.alpaca.batching`); each batch's pages follow one another.

Completed daily bars are kept per exchange day and symbol (they do not change during the day),
as the asset list is, and so are the day's headlines (`news_cache`: later reads ask only for the
new ones). Snapshots are read against the exchange date of the injected clock: before
the session opens Alpaca's `dailyBar` is the previous session's (see `snapshot_from_json`).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import structlog
from alpaca.common.rest import RESTClient
from alpaca.data.historical.news import NewsClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient

from catalyst.brokers.alpaca.batching import (
    SNAPSHOT_SYMBOLS_BUDGET,
    encode_query,
    even_parts,
    run_in_order,
    symbol_batches,
)
from catalyst.brokers.alpaca.news_cache import NewsCache
from catalyst.brokers.alpaca.translate import (
    asset_from_json,
    bar_from_json,
    news_from_json,
    rfc3339,
    snapshot_from_json,
)
from catalyst.brokers.alpaca.transport import RestTransport, as_list
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import Asset, Bar, NewsItem, Snapshot
from catalyst.ports import Clock

log = structlog.get_logger(__name__)

T = TypeVar("T")

BARS_PAGE_LIMIT = 10_000
NEWS_PAGE_LIMIT = 50


@dataclass(frozen=True, slots=True)
class _DailyCache:
    """Completed daily bars fetched on exchange day `day`, `days` of them at most per symbol
    (an empty list: the symbol has none)."""

    day: date
    days: int
    bars: dict[str, list[Bar]]


class MarketData:
    """The market-data methods of `catalyst.ports.Broker`, over Alpaca's data and trading APIs."""

    def __init__(
        self,
        *,
        transport: RestTransport,
        trading: TradingClient,
        data: StockHistoricalDataClient,
        news: NewsClient,
        clock: Clock,
        feed: str | None,
    ) -> None:
        self._transport = transport
        self._trading = trading
        self._data = data
        self._news_client = news
        self._clock = clock
        self._feed = feed
        self._assets: tuple[date, list[Asset]] | None = None
        self._daily = _DailyCache(date.min, 0, {})
        self._news = NewsCache(NEWS_PAGE_LIMIT)

    async def list_assets(self) -> Sequence[Asset]:
        """Active US equities (untradable ones flagged), fetched once per exchange day."""
        today = self._clock.now().astimezone(EXCHANGE_TZ).date()
        if self._assets is not None and self._assets[0] == today:
            return list(self._assets[1])
        params = {"status": "active", "asset_class": "us_equity"}
        assets = await self._transport.required(
            "list assets", _get_assets, self._trading, "/assets", params
        )
        self._assets = (today, assets)
        return list(assets)

    async def get_snapshots(self, symbols: Sequence[str]) -> dict[str, Snapshot]:
        """Latest snapshot per symbol, in batches; symbols without enough data are left out."""
        today = self._clock.now().astimezone(EXCHANGE_TZ).date()

        def parse(raw: Mapping[str, Any]) -> list[Snapshot]:
            found: list[Snapshot] = []
            for symbol, entry in raw.items():
                snapshot = snapshot_from_json(
                    symbol, entry if isinstance(entry, Mapping) else None, today
                )
                if snapshot is None:
                    log.debug("snapshot incomplete; skipped", symbol=symbol)
                else:
                    found.append(snapshot)
            return found

        def job(batch: list[str]) -> Callable[[], Awaitable[tuple[list[Snapshot], object] | None]]:
            params = self._with_feed({"symbols": ",".join(batch)})
            return lambda: self._transport.read(
                "get snapshots", _get_parsed, self._data, "/stocks/snapshots", params, parse
            )

        batches = symbol_batches(symbols, budget=SNAPSHOT_SYMBOLS_BUDGET)
        answers = await run_in_order("get snapshots", [job(b) for b in batches])
        return {s.symbol: s for answer in answers if answer is not None for s in answer[0]}

    async def get_daily_bars(self, symbols: Sequence[str], days: int) -> dict[str, list[Bar]]:
        """Up to `days` completed daily bars per symbol before today, oldest first.

        Completed days do not change during a day, so they are fetched once per exchange day and
        symbol: a later call that day fetches only the symbols not asked for yet (or everything
        again if it wants more days than were fetched).
        """
        if days <= 0:
            return {}
        today = self._clock.now().astimezone(EXCHANGE_TZ).date()
        if self._daily.day != today or self._daily.days < days:
            self._daily = _DailyCache(today, days, {})
        cache = self._daily
        wanted = list(dict.fromkeys(symbols))
        missing = [s for s in wanted if s not in cache.bars]
        if missing:
            fetched = await self._completed_days(missing, cache.days, today)
            for symbol in missing:
                cache.bars[symbol] = fetched.get(symbol, [])
        return {s: cache.bars[s][-days:] for s in wanted if cache.bars.get(s)}

    async def _completed_days(
        self, symbols: Sequence[str], days: int, today: date
    ) -> dict[str, list[Bar]]:
        # Calendar days enough to hold `days` sessions, holidays included.
        first = today - timedelta(days=days * 7 // 5 + 10)
        start = datetime.combine(first, time(0), EXCHANGE_TZ)
        # Alpaca's end is inclusive and today's bar is stamped at midnight: stop just before it.
        end = datetime.combine(today, time(0), EXCHANGE_TZ) - timedelta(microseconds=1)
        # Split-adjusted so ranges and gaps are comparable across a split.
        bars = await self._bars(symbols, "1Day", start, end, adjustment="split")
        result: dict[str, list[Bar]] = {}
        for symbol, series in bars.items():
            done = [b for b in series if b.timestamp.astimezone(EXCHANGE_TZ).date() < today]
            if done:
                result[symbol] = done[-days:]
        return result

    async def get_intraday_bars(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Bar]]:
        """Minute bars in [start, end) per symbol, oldest first.

        The symbols go in batches of about a page each (a page holds `BARS_PAGE_LIMIT` bars, at
        most one a minute per symbol), read side by side: where one request's pages would follow
        one another, each waiting for the last page's token, the batches' requests overlap. As
        many requests as pages (50 names at 15:00: 2 of 25, each a page), in about half the
        wall time."""
        if end <= start:
            return {}
        minutes = max(1, math.ceil((end - start).total_seconds() / 60))
        per_page = max(1, BARS_PAGE_LIMIT // minutes)  # symbols whose minutes fill one page
        bars = await self._bars(symbols, "1Min", start, end, adjustment="raw", per_batch=per_page)
        result: dict[str, list[Bar]] = {}
        for symbol, series in bars.items():
            inside = [b for b in series if start <= b.timestamp < end]  # Alpaca's end is inclusive
            if inside:
                result[symbol] = inside
        return result

    async def get_news(self, symbols: Sequence[str], since: datetime) -> list[NewsItem]:
        """News items mentioning any of `symbols`, created at or after `since`, oldest first.

        Headlines already fetched today are not fetched again (`news_cache`): a symbol asked for
        earlier today is read only from just before that read on.
        """
        now = self._clock.now()
        fetches = self._news.plan(now.astimezone(EXCHANGE_TZ).date(), symbols, since)
        reads = [(f.start, batch) for f in fetches for batch in symbol_batches(f.symbols)]
        answers = await run_in_order("get news", [self._news_job(b, s) for s, b in reads])
        for (start, batch), pages in zip(reads, answers, strict=True):
            self._news.record(batch, start, (item for page in pages for item in page), now)
        return self._news.headlines(symbols, since)

    def _news_job(
        self, batch: list[str], start: datetime
    ) -> Callable[[], Awaitable[list[list[NewsItem]]]]:
        params: dict[str, Any] = {
            "symbols": ",".join(batch),
            "start": rfc3339(start),
            "sort": "asc",
            "limit": NEWS_PAGE_LIMIT,
            "include_content": False,
        }
        return lambda: self._all_pages(self._news_client, "/news", params, "get news", _news)

    async def _bars(
        self,
        symbols: Sequence[str],
        timeframe: str,
        start: datetime,
        end: datetime,
        *,
        adjustment: str,
        per_batch: int | None = None,
    ) -> dict[str, list[Bar]]:
        """Bars of `symbols`, batched by the URL budget and, with `per_batch`, into even
        batches of at most that many (at least 1) symbols; batches run side by side."""

        def job(batch: list[str]) -> Callable[[], Awaitable[list[dict[str, list[Bar]]]]]:
            params = self._with_feed(
                {
                    "symbols": ",".join(batch),
                    "timeframe": timeframe,
                    "start": rfc3339(start),
                    "end": rfc3339(end),
                    "limit": BARS_PAGE_LIMIT,
                    "adjustment": adjustment,
                    "sort": "asc",
                }
            )
            return lambda: self._all_pages(self._data, "/stocks/bars", params, "get bars", _bars)

        result: dict[str, list[Bar]] = {}
        batched = symbol_batches(symbols)
        if per_batch is not None:
            batched = [part for batch in batched for part in even_parts(batch, per_batch)]
        batches = await run_in_order("get bars", [job(b) for b in batched])
        for pages in batches:
            for page in pages:
                for symbol, bars in page.items():
                    result.setdefault(symbol, []).extend(bars)
        for series in result.values():
            series.sort(key=lambda bar: bar.timestamp)
        return result

    async def _all_pages(
        self,
        client: RESTClient,
        path: str,
        params: dict[str, Any],
        action: str,
        parse: Callable[[Mapping[str, Any]], T],
    ) -> list[T]:
        """Every page of a `next_page_token` listing, each parsed (in the worker thread) and
        rate limited and retried on its own."""
        pages: list[T] = []
        token: str | None = None
        while True:
            query = dict(params)
            if token is not None:
                query["page_token"] = token
            answer = await self._transport.read(action, _get_parsed, client, path, query, parse)
            if answer is None:
                return pages
            page, next_token = answer
            pages.append(page)
            if not next_token or next_token == token:
                return pages
            token = str(next_token)

    def _with_feed(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._feed is not None:
            params["feed"] = self._feed
        return params


def _get_parsed(
    client: RESTClient,
    path: str,
    query: dict[str, Any],
    parse: Callable[[Mapping[str, Any]], T],
) -> tuple[T, object] | None:
    """GET `path` and parse the answer, both in the calling (worker) thread, so that turning
    10,000 bars into objects never holds the event loop; with the answer's `next_page_token`.
    The query goes pre-encoded, its symbols' commas literal (`batching.encode_query`)."""
    raw = client.get(path, encode_query(query))
    if not isinstance(raw, Mapping):
        return None
    return parse(raw), raw.get("next_page_token")


def _get_assets(client: RESTClient, path: str, query: dict[str, Any]) -> list[Asset] | None:
    """The asset list, fetched and parsed in the worker thread (12,000 assets took 0.1 s of CPU
    on the event loop); None for an empty answer."""
    raw = client.get(path, query)
    if raw is None:
        return None
    return [a for a in (asset_from_json(item) for item in as_list(raw)) if a is not None]


def _news(page: Mapping[str, Any]) -> list[NewsItem]:
    return [news_from_json(raw) for raw in page.get("news") or ()]


def _bars(page: Mapping[str, Any]) -> dict[str, list[Bar]]:
    return {
        symbol: [bar_from_json(symbol, item) for item in items]
        for symbol, items in (page.get("bars") or {}).items()
    }
