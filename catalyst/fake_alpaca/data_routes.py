"""Alpaca market-data routes over the simulator's synthetic market.

`/v2/stocks/snapshots`, `/v2/stocks/bars` (1Min, 1Day), `/v1beta1/news` and
`/v1beta1/screener/stocks/most-actives`. Nothing from the future is ever served: minute bars
only once complete, news only once created (the simulator's own guarantees). Errors are
`{"message": ...}` as Alpaca's data API sends them.

Snapshots, before and after the open, are built in `catalyst.fake_alpaca.snapshots`. What a
bar-level simulation does not know is reported as Alpaca allows (`n` null in bars) or, where
alpaca-py requires a number, as a stated convention: trade size 100 and quote sizes 1 (round lots)
in snapshots, and most-actives `trade_count` = volume // 100.
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from catalyst.domain.models import NewsItem
from catalyst.fake_alpaca.bars import bars_page, daily_series, minute_series
from catalyst.fake_alpaca.payloads import bar_json, news_json
from catalyst.fake_alpaca.snapshots import ROUND_LOT, snapshots_json
from catalyst.fake_alpaca.state import STATE
from catalyst.fake_alpaca.wire import data_error, json_response, parse_time, query_int, rfc3339
from catalyst.sim.exchange import SimExchange
from catalyst.sim.exchange_time import exchange_midnight
from catalyst.sim.market import SyntheticMarket

_MINUTE_FRAMES = frozenset({"1Min", "1T"})
_DAY_FRAMES = frozenset({"1Day", "1D"})


def add_data_routes(app: web.Application) -> None:
    """Register the market-data routes."""
    app.router.add_get("/v2/stocks/snapshots", get_snapshots)
    app.router.add_get("/v2/stocks/bars", get_bars)
    app.router.add_get("/v1beta1/news", get_news)
    app.router.add_get("/v1beta1/screener/stocks/most-actives", get_most_actives)


def _symbols(request: web.Request, *, required: bool) -> list[str]:
    symbols = [s for s in request.query.get("symbols", "").split(",") if s]
    if required and not symbols:
        raise data_error(400, "missing symbols")
    return symbols


def _visible_markets(exchange: SimExchange) -> list[SyntheticMarket]:
    today = exchange.market.session.day
    return [m for m in exchange.feed.recent_markets() if m.session.day <= today]


def encode_token(offset: int) -> str:
    """An opaque page token for a position in a result list."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_token(token: str | None) -> int:
    """The position a page token stands for (0 without one)."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix == "offset" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise data_error(400, "invalid page_token")


# ---------------------------------------------------------------------------------- snapshots


async def get_snapshots(request: web.Request) -> web.Response:
    """GET /v2/stocks/snapshots?symbols=A,B."""
    exchange = request.app[STATE].exchange
    return json_response(snapshots_json(exchange, _symbols(request, required=True)))


# --------------------------------------------------------------------------------------- bars


async def get_bars(request: web.Request) -> web.Response:
    """GET /v2/stocks/bars?symbols&timeframe&start&end&limit&page_token&sort (multi-symbol)."""
    exchange, query = request.app[STATE].exchange, request.query
    symbols = _symbols(request, required=True)
    timeframe = query.get("timeframe", "")
    now = exchange.now
    start = (
        parse_time(query["start"], "start", data=True)
        if "start" in query
        else exchange_midnight(exchange.market.session.day)
    )
    end = parse_time(query["end"], "end", data=True) if "end" in query else now
    limit = query_int(query, "limit", 1000, 1, 10000, data=True)
    if timeframe in _MINUTE_FRAMES:
        series = minute_series(exchange, _visible_markets(exchange), symbols, start, end)
    elif timeframe in _DAY_FRAMES:
        series = daily_series(exchange, symbols, start, end)
    else:
        raise data_error(400, f"invalid timeframe: {timeframe}")
    offset = decode_token(query.get("page_token"))
    descending = query.get("sort", "asc") == "desc"
    page, more = bars_page(series, offset, limit, descending=descending)
    bars = {symbol: [bar_json(bar) for bar in items] for symbol, items in page.items()}
    return json_response(
        {"bars": bars, "next_page_token": encode_token(offset + limit) if more else None}
    )


# ---------------------------------------------------------------------------------- news etc.


async def get_news(request: web.Request) -> web.Response:
    """GET /v1beta1/news?symbols&start&end&sort&limit&page_token (newest first by default)."""
    exchange, query = request.app[STATE].exchange, request.query
    wanted = set(_symbols(request, required=False))
    start = parse_time(query["start"], "start", data=True) if "start" in query else None
    end = parse_time(query["end"], "end", data=True) if "end" in query else None
    limit = query_int(query, "limit", 10, 1, 50, data=True)
    now = exchange.now
    items: list[NewsItem] = [
        item
        for market in _visible_markets(exchange)
        for item in market.news
        if item.created_at <= now
        and (not wanted or wanted.intersection(item.symbols))
        and (start is None or item.created_at >= start)
        and (end is None or item.created_at <= end)
    ]
    items.sort(key=lambda i: (i.created_at, i.id), reverse=query.get("sort", "desc") != "asc")
    offset = decode_token(query.get("page_token"))
    more = offset + limit < len(items)
    return json_response(
        {
            "news": [news_json(i) for i in items[offset : offset + limit]],
            "next_page_token": encode_token(offset + limit) if more else None,
        }
    )


async def get_most_actives(request: web.Request) -> web.Response:
    """GET /v1beta1/screener/stocks/most-actives?by=volume|trades&top=N."""
    exchange, query = request.app[STATE].exchange, request.query
    by = query.get("by", "volume")
    if by not in ("volume", "trades"):
        raise data_error(400, f"invalid by: {by}")
    top = query_int(query, "top", 10, 1, 100, data=True)
    snaps = exchange.market.snapshots(exchange.feed.universe.symbols, exchange.now)
    # trade_count is estimated from volume, so both orderings agree.
    ranked = sorted(snaps.values(), key=lambda s: (-s.day_volume, s.symbol))[:top]
    return json_response(
        {
            "most_actives": [
                {
                    "symbol": s.symbol,
                    "volume": s.day_volume,
                    "trade_count": s.day_volume // ROUND_LOT,
                }
                for s in ranked
            ],
            "last_updated": rfc3339(exchange.now),
        }
    )
