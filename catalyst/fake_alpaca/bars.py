"""`/v2/stocks/bars` pages, built lazily: only the bars of the page asked for become objects.

Alpaca sorts a multi-symbol answer by symbol, then by time, and pages through that list with
`limit` (at most 10,000) and an opaque token. Every symbol's bars in the asked range are a
contiguous run of rows in the simulator's matrices, so a page is cut by counting rows per
symbol and only its own slice is built. (Building every bar of every page's request made a
10-page daily-bar read of 4,119 symbols take 16 s in the fake server.)

Minute bars: every visible market (yesterday's when still held, then today's), bars starting in
[start, end] and completed by now. Daily bars: the completed history in [start, end] plus today's
bar so far (from the completed minutes, once there is one), each stamped at its exchange-local
midnight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from catalyst.domain.models import Bar
from catalyst.sim.exchange import SimExchange
from catalyst.sim.exchange_time import exchange_midnight
from catalyst.sim.market import MINUTE, SyntheticMarket
from catalyst.sim.ticks import price_from_float

_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Series:
    """One symbol's bars in a request's range: how many, and how to build bars [i, j) of them."""

    symbol: str
    count: int
    build: Callable[[int, int], list[Bar]]


def bars_page(
    series: Sequence[Series], offset: int, limit: int, *, descending: bool
) -> tuple[dict[str, list[Bar]], bool]:
    """Rows [offset, offset + limit) of the symbol-then-time list, and whether more follow."""
    page: dict[str, list[Bar]] = {}
    stop = offset + limit
    position = 0
    for one in sorted(series, key=lambda s: s.symbol):
        low, high = max(offset - position, 0), min(stop - position, one.count)
        if low < high:
            if descending:
                page[one.symbol] = one.build(one.count - high, one.count - low)[::-1]
            else:
                page[one.symbol] = one.build(low, high)
        position += one.count
    return page, stop < position


def minute_series(
    exchange: SimExchange,
    markets: Sequence[SyntheticMarket],
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[Series]:
    """Minute bars starting in [start, end], completed by now, over `markets` (oldest first)."""
    now = exchange.now
    segments: list[tuple[SyntheticMarket, int, int]] = []  # (market, first row, rows)
    for market in markets:
        first = max(0, -((market.session.open - start) // MINUTE))  # ceil
        stop = min(
            -((market.session.open - (end + _EPSILON)) // MINUTE),
            market.minute_index(now),
            market.minutes,
        )
        if stop > first:
            segments.append((market, first, stop - first))
    total = sum(rows for _, _, rows in segments)
    known = [s for s in symbols if exchange.market.universe.column(s) is not None]

    def builder(symbol: str) -> Callable[[int, int], list[Bar]]:
        def build(i: int, j: int) -> list[Bar]:
            bars: list[Bar] = []
            base = 0
            for market, first, rows in segments:
                a, b = max(i - base, 0), min(j - base, rows)
                if a < b:
                    lo, hi = market.bar_start(first + a), market.bar_start(first + b)
                    bars.extend(market.minute_bars([symbol], lo, hi, now).get(symbol, []))
                base += rows
            return bars

        return build

    return [Series(symbol, total, builder(symbol)) for symbol in dict.fromkeys(known)]


def daily_series(
    exchange: SimExchange, symbols: Sequence[str], start: datetime, end: datetime
) -> list[Series]:
    """Completed daily bars stamped in [start, end], then today's so far if it is in range."""
    market = exchange.market
    dates = market.history.dates
    inside = [r for r, day in enumerate(dates) if start <= exchange_midnight(day) <= end]
    first = inside[0] if inside else len(dates)
    history_rows = len(inside)
    done = min(max(market.minute_index(exchange.now), 0), market.minutes)
    today_stamp = exchange_midnight(market.session.day)
    with_today = done >= 1 and start <= today_stamp <= end

    def builder(symbol: str, column: int) -> Callable[[int, int], list[Bar]]:
        def build(i: int, j: int) -> list[Bar]:
            bars: list[Bar] = []
            if i < history_rows:
                older = market.daily_bars([symbol], len(dates) - (first + i))[symbol]
                bars.extend(older[: min(j, history_rows) - i])
            if with_today and j > history_rows:
                bars.append(_today(market, symbol, column, done, today_stamp))
            return bars

        return build

    result: list[Series] = []
    for symbol in dict.fromkeys(symbols):
        column = market.universe.column(symbol)
        if column is not None:
            count = history_rows + (1 if with_today else 0)
            result.append(Series(symbol, count, builder(symbol, column)))
    return result


def _today(market: SyntheticMarket, symbol: str, col: int, done: int, stamp: datetime) -> Bar:
    """Today's daily bar from its `done` completed minutes."""
    return Bar(
        symbol=symbol,
        timestamp=stamp,
        open=price_from_float(float(market.open[0, col])),
        high=price_from_float(float(market.high[:done, col].max())),
        low=price_from_float(float(market.low[:done, col].min())),
        close=price_from_float(float(market.close[done - 1, col])),
        volume=int(market.volume[:done, col].sum()),
    )
