"""Synthetic market data for one trading session: deterministic, vectorised, leak-free.

`SyntheticMarket` holds numpy matrices (minutes x symbols) of minute OHLCV bars for the regular
session, the daily history before it, the pre-market price and the day's news. Everything is drawn
from `numpy.random.default_rng([seed, day.toordinal()])`, so a seed and a date always give the same
day (given the same previous closes).

Price model: each symbol opens at its previous close moved by a gap (±0.4 % typical, 3-12 % for
catalyst names), then follows a geometric random walk with a per-symbol drift; bar highs and lows
add small wicks; every price is rounded onto the tick grid. Volume follows a U-shaped intraday
profile; catalyst names trade 3-8 times their average daily volume and get a news item before the
open.

Time semantics, chosen so that nothing leaks from the future:
- the price at an instant is the open of the minute bar containing it (trading later in that
  minute has not happened yet); before the open it is the pre-market price (previous close moved by
  the gap); at or after the close it is the last bar's close;
- a minute bar is visible only once it has completed (its end <= the asking instant);
- news is visible from its `created_at` on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from catalyst.domain.models import Bar, NewsItem, Snapshot, TradingSession
from catalyst.domain.ticks import tick_size
from catalyst.sim.exchange_time import exchange_midnight
from catalyst.sim.ticks import price_from_float, round_array_to_ticks, round_to_tick
from catalyst.sim.universe import Universe, build_universe

FloatMatrix = npt.NDArray[np.float64]
IntMatrix = npt.NDArray[np.int64]

# The bar interval: the market is a grid of one-minute bars from the session's open.
MINUTE = timedelta(minutes=1)

_REGULAR_MINUTES = 390
_MIN_PRICE = 1e-4
_HALF_SPREAD = Decimal("0.00025")
_VWAP_PLACES = Decimal("0.0001")
_UP_HEADLINES = (
    "{name} surges after earnings beat and raised guidance",
    "{name} wins FDA approval for lead candidate",
    "{name} announces $2B buyback and strategic partnership",
    "{name} lands multi-year government contract",
)
_DOWN_HEADLINES = (
    "{name} falls after missing revenue estimates",
    "{name} cuts full-year outlook",
    "{name} discloses regulatory probe",
)
_ROUTINE_HEADLINES = (
    "{name} to present at investor conference",
    "{name} files quarterly report",
    "{name} names new chief financial officer",
)


@dataclass(frozen=True, slots=True, eq=False)
class DailyHistory:
    """Completed daily bars before a session: row `k` is `dates[k]`, oldest first."""

    dates: tuple[date, ...]
    open: FloatMatrix
    high: FloatMatrix
    low: FloatMatrix
    close: FloatMatrix
    volume: IntMatrix

    def rolled(self, day: date, bar: tuple[FloatMatrix, ...], volume: IntMatrix) -> DailyHistory:
        """This history without its oldest day and with `day`'s bar appended."""
        o, h, lo, c = bar
        return DailyHistory(
            dates=(*self.dates[1:], day),
            open=np.vstack([self.open[1:], o]),
            high=np.vstack([self.high[1:], h]),
            low=np.vstack([self.low[1:], lo]),
            close=np.vstack([self.close[1:], c]),
            volume=np.vstack([self.volume[1:], volume]),
        )


class SyntheticMarket:
    """One session of synthetic market data for a whole universe.

    Build a fresh day with the constructor (history generated so that it ends at
    `previous_closes`, or at each symbol's base price), and the following day with `next_day`
    (history rolled, previous closes = this day's closes, shocks included).
    """

    def __init__(
        self,
        seed: int,
        n_symbols: int,
        session: TradingSession,
        *,
        history_days: int = 30,
        catalyst_fraction: float = 0.03,
        previous_closes: Mapping[str, Decimal] | None = None,
        history_dates: Sequence[date] | None = None,
        shocks: Iterable[tuple[datetime, float]] = (),
        universe: Universe | None = None,
        history: DailyHistory | None = None,
    ) -> None:
        if not 0 <= catalyst_fraction <= 1:
            raise ValueError("catalyst_fraction must be within [0, 1]")
        self.seed = seed
        self.session = TradingSession(
            day=session.day,
            open=session.open.astimezone(UTC),
            close=session.close.astimezone(UTC),
            early_close=session.early_close,
        )
        self.catalyst_fraction = catalyst_fraction
        self.universe = universe if universe is not None else build_universe(seed, n_symbols)
        if self.universe.size != n_symbols:
            raise ValueError("universe size does not match n_symbols")
        self.minutes = (self.session.close - self.session.open) // MINUTE
        if self.minutes <= 0:
            raise ValueError("session must close after it opens")
        if history is None:
            if history_days < 1:
                raise ValueError("history_days must be at least 1")
            dates = tuple(history_dates) if history_dates is not None else None
            history = _fresh_history(
                self.universe, session.day, history_days, previous_closes, dates
            )
        elif previous_closes is not None:
            raise ValueError("pass either history or previous_closes, not both")
        self.history = history
        self._generate_day()
        for at, pct in shocks:
            self.shock(at, pct)

    # ----------------------------------------------------------------------------- generation

    def _generate_day(self) -> None:
        universe, n, m = self.universe, self.universe.size, self.minutes
        rng = np.random.default_rng([self.seed, self.session.day.toordinal()])
        prev_close = self.history.close[-1]

        catalyst = np.zeros(n, dtype=np.bool_)
        catalyst[rng.choice(n, round(self.catalyst_fraction * n), replace=False)] = True
        direction = np.where(rng.random(n) < 0.75, 1.0, -1.0)
        gap = np.where(
            catalyst,
            direction * rng.uniform(0.03, 0.12, n),
            np.clip(rng.normal(0.0, 0.004, n), -0.02, 0.02),
        )
        rvol = np.where(
            catalyst, rng.uniform(3.0, 8.0, n), np.clip(rng.lognormal(0, 0.25, n), 0.4, 2)
        )
        drift = np.where(catalyst, direction * rng.uniform(0.0, 0.05, n), rng.normal(0, 0.003, n))
        sigma = universe.daily_vol * np.where(catalyst, 1.5, 1.0) / np.sqrt(_REGULAR_MINUTES)

        day_open = round_array_to_ticks(np.maximum(prev_close * (1.0 + gap), _MIN_PRICE))
        path = np.cumsum(rng.standard_normal((m, n)) * sigma + drift / m, axis=0)
        close = day_open * np.exp(path)
        open_ = np.vstack([day_open, close[:-1]])
        high = np.maximum(open_, close) * np.exp(np.abs(rng.standard_normal((m, n))) * sigma * 0.6)
        low = np.minimum(open_, close) * np.exp(-np.abs(rng.standard_normal((m, n))) * sigma * 0.6)
        self.open, self.high, self.low, self.close = (
            round_array_to_ticks(np.maximum(a, _MIN_PRICE)) for a in (open_, high, low, close)
        )
        self.open[0] = day_open
        self.premarket_price = day_open.copy()

        # U-shaped intraday volume profile over this session's own length (early closes too).
        x = (np.arange(m) + 0.5) / m
        profile = 1.0 + 3.0 * (2.0 * x - 1.0) ** 2
        weights = profile[:, None] * rng.lognormal(0.0, 0.3, (m, n))
        weights /= weights.sum(axis=0)
        average = self.history.volume.mean(axis=0)
        day_volume = average * rvol * (m / _REGULAR_MINUTES)
        self.volume: IntMatrix = np.floor(weights * day_volume).astype(np.int64)
        pre_share = np.where(catalyst, 0.05 * rvol, 0.005) * rng.lognormal(0.0, 0.3, n)
        self.premarket_volume: npt.NDArray[np.int64] = np.floor(average * pre_share).astype(
            np.int64
        )

        self.catalyst = catalyst
        self.gap = gap
        self.news = self._draw_news(rng, catalyst, direction)

    def _draw_news(
        self, rng: np.random.Generator, catalyst: npt.NDArray[np.bool_], direction: FloatMatrix
    ) -> tuple[NewsItem, ...]:
        n, day = self.universe.size, self.session.day
        lead_minutes = rng.integers(0, 150, n)  # catalyst news: up to 2.5 h before the open
        template = rng.integers(0, 12, n)
        routine = rng.random(n) < 0.005
        routine_at = rng.integers(0, self.minutes * 60, n)  # seconds into the session
        items: list[NewsItem] = []
        for col in range(n):
            symbol, name = self.universe.symbols[col], self.universe.names[col]
            if catalyst[col]:
                headlines = _UP_HEADLINES if direction[col] > 0 else _DOWN_HEADLINES
                created = self.session.open - int(lead_minutes[col]) * MINUTE
                headline = headlines[int(template[col]) % len(headlines)]
                items.append(_news(f"sim-{day}-{symbol}-c", headline, name, symbol, created))
            if routine[col]:
                created = self.session.open + timedelta(seconds=int(routine_at[col]))
                headline = _ROUTINE_HEADLINES[int(template[col]) % len(_ROUTINE_HEADLINES)]
                items.append(_news(f"sim-{day}-{symbol}-r", headline, name, symbol, created))
        return tuple(sorted(items, key=lambda item: (item.created_at, item.id)))

    def next_day(
        self, session: TradingSession, shocks: Iterable[tuple[datetime, float]] = ()
    ) -> SyntheticMarket:
        """The following session's market: history rolled forward, opening from today's closes."""
        if session.day <= self.session.day:
            raise ValueError("next_day needs a later session")
        today = (self.open[0], self.high.max(axis=0), self.low.min(axis=0), self.close[-1])
        return SyntheticMarket(
            self.seed,
            self.universe.size,
            session,
            catalyst_fraction=self.catalyst_fraction,
            shocks=shocks,
            universe=self.universe,
            history=self.history.rolled(self.session.day, today, self.volume.sum(axis=0)),
        )

    def shock(self, at: datetime, pct: float) -> None:
        """Move every price by `pct` (-0.05 = -5 %) from the minute containing `at` to the close.

        A shock before the open moves the whole day, pre-market price included. The exchange
        matches lazily, so shock an instant it has not processed yet.
        """
        if pct <= -1:
            raise ValueError("a shock cannot take prices to zero or below")
        k = self.minute_index(at)
        if k >= self.minutes:
            raise ValueError("a shock at or after the close has no minute left to move")
        start, factor = max(k, 0), 1.0 + pct
        for matrix in (self.open, self.high, self.low, self.close):
            matrix[start:] = round_array_to_ticks(np.maximum(matrix[start:] * factor, _MIN_PRICE))
        if k < 0:
            self.premarket_price = round_array_to_ticks(
                np.maximum(self.premarket_price * factor, _MIN_PRICE)
            )

    # ------------------------------------------------------------------------------- accessors

    @property
    def catalyst_symbols(self) -> tuple[str, ...]:
        """Symbols that have a catalyst (gap, heavy volume, news) today."""
        return tuple(self.universe.symbols[i] for i in np.flatnonzero(self.catalyst))

    def minute_index(self, at: datetime) -> int:
        """Index of the minute bar containing `at`: negative before the open, >= minutes after."""
        return (at - self.session.open) // MINUTE

    def bar_start(self, index: int) -> datetime:
        """Start instant (UTC) of minute bar `index`."""
        return self.session.open + index * MINUTE

    def last_prices(self, at: datetime) -> FloatMatrix:
        """Every symbol's price at `at` (see the module docstring), as floats on the tick grid."""
        k = self.minute_index(at)
        if k < 0:
            return self.premarket_price
        row: FloatMatrix = self.close[-1] if k >= self.minutes else self.open[k]
        return row

    def price_at(self, symbol: str, at: datetime) -> Decimal | None:
        """The price of `symbol` at `at`, or None for an unknown symbol."""
        col = self.universe.column(symbol)
        return None if col is None else price_from_float(float(self.last_prices(at)[col]))

    def bar_prices(self, column: int, index: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """Open, high, low, close of one minute bar as Decimals."""
        return (
            price_from_float(float(self.open[index, column])),
            price_from_float(float(self.high[index, column])),
            price_from_float(float(self.low[index, column])),
            price_from_float(float(self.close[index, column])),
        )

    def snapshot(self, symbol: str, at: datetime) -> Snapshot | None:
        """The snapshot of one symbol at `at`, or None for an unknown symbol."""
        return self.snapshots([symbol], at).get(symbol)

    def snapshots(self, symbols: Sequence[str], at: datetime) -> dict[str, Snapshot]:
        """Snapshots at `at` for the known symbols among `symbols` (unknown ones are left out)."""
        known = [(s, c) for s in symbols if (c := self.universe.column(s)) is not None]
        if not known:
            return {}
        cols = np.array([c for _, c in known])
        k = self.minute_index(at)
        last = self.last_prices(at)[cols]
        if k < 0:
            day_open = day_high = day_low = last
            day_volume = self.premarket_volume[cols]
            stamp = _floor_to_minute(at)
        else:
            done = min(k, self.minutes)  # completed bars
            day_open = self.open[0, cols]
            day_high = np.maximum(self.high[:done, cols].max(axis=0, initial=0.0), last)
            day_low = np.minimum(self.low[:done, cols].min(axis=0, initial=np.inf), last)
            day_volume = self.premarket_volume[cols] + self.volume[:done, cols].sum(axis=0)
            stamp = self.bar_start(k) if k < self.minutes else self.session.close
        prev_close, prev_volume = self.history.close[-1, cols], self.history.volume[-1, cols]
        result: dict[str, Snapshot] = {}
        for j, (symbol, _) in enumerate(known):
            price = price_from_float(float(last[j]))
            half = max(tick_size(price), price * _HALF_SPREAD)
            bid = max(round_to_tick(price - half, "down"), tick_size(price))
            result[symbol] = Snapshot(
                symbol=symbol,
                timestamp=stamp,
                last_price=price,
                day_open=price_from_float(float(day_open[j])),
                day_high=price_from_float(float(day_high[j])),
                day_low=price_from_float(float(day_low[j])),
                day_volume=int(day_volume[j]),
                prev_close=price_from_float(float(prev_close[j])),
                prev_volume=int(prev_volume[j]),
                bid=bid,
                ask=round_to_tick(price + half, "up"),
            )
        return result

    def minute_bars(
        self, symbols: Sequence[str], start: datetime, end: datetime, at: datetime
    ) -> dict[str, list[Bar]]:
        """Completed minute bars (bar end <= `at`) starting in [start, end), per known symbol."""
        first = max(0, -((self.session.open - start) // MINUTE))  # ceil((start - open) / 1 min)
        stop = min(-((self.session.open - end) // MINUTE), self.minute_index(at), self.minutes)
        result: dict[str, list[Bar]] = {}
        for symbol in symbols:
            col = self.universe.column(symbol)
            if col is None:
                continue
            rows = slice(first, max(first, stop))
            result[symbol] = [
                _bar(symbol, self.bar_start(first + j), o, h, lo, c, v, with_vwap=True)
                for j, (o, h, lo, c, v) in enumerate(
                    zip(
                        self.open[rows, col].tolist(),
                        self.high[rows, col].tolist(),
                        self.low[rows, col].tolist(),
                        self.close[rows, col].tolist(),
                        self.volume[rows, col].tolist(),
                        strict=True,
                    )
                )
            ]
        return result

    def daily_bars(self, symbols: Sequence[str], days: int) -> dict[str, list[Bar]]:
        """Up to `days` daily bars before this session, oldest first, per known symbol."""
        rows = range(max(0, len(self.history.dates) - days), len(self.history.dates))
        h = self.history
        result: dict[str, list[Bar]] = {}
        for symbol in symbols:
            col = self.universe.column(symbol)
            if col is None:
                continue
            result[symbol] = [
                _bar(
                    symbol,
                    exchange_midnight(h.dates[r]),
                    float(h.open[r, col]),
                    float(h.high[r, col]),
                    float(h.low[r, col]),
                    float(h.close[r, col]),
                    int(h.volume[r, col]),
                    with_vwap=False,
                )
                for r in rows
            ]
        return result

    def news_since(self, symbols: Iterable[str], since: datetime, at: datetime) -> list[NewsItem]:
        """News about any of `symbols` created in [since, at], oldest first."""
        wanted = set(symbols)
        return [
            item
            for item in self.news
            if since <= item.created_at <= at and wanted.intersection(item.symbols)
        ]


def _bar(
    symbol: str,
    stamp: datetime,
    o: float,
    h: float,
    lo: float,
    c: float,
    volume: int,
    *,
    with_vwap: bool,
) -> Bar:
    high, low, close = price_from_float(h), price_from_float(lo), price_from_float(c)
    return Bar(
        symbol=symbol,
        timestamp=stamp,
        open=price_from_float(o),
        high=high,
        low=low,
        close=close,
        volume=volume,
        # Typical price stands in for the VWAP, which a bar-level simulation cannot know.
        vwap=((high + low + close) / 3).quantize(_VWAP_PLACES) if with_vwap else None,
    )


def _news(news_id: str, template: str, name: str, symbol: str, created: datetime) -> NewsItem:
    return NewsItem(
        id=news_id,
        headline=template.format(name=name),
        symbols=(symbol,),
        created_at=created,
        source="simulator",
    )


def _fresh_history(
    universe: Universe,
    day: date,
    days: int,
    previous_closes: Mapping[str, Decimal] | None,
    dates: tuple[date, ...] | None,
) -> DailyHistory:
    """A random daily history that ends exactly at the previous closes."""
    if dates is None:
        dates = _weekdays_before(day, days)
    if len(dates) != days or list(dates) != sorted(dates) or dates[-1] >= day:
        raise ValueError("history_dates must be `history_days` ascending dates before the session")
    n = universe.size
    rng = np.random.default_rng([universe.seed, day.toordinal(), 1])
    end = universe.base_price.copy()
    for symbol, price in (previous_closes or {}).items():
        col = universe.column(symbol)
        if col is not None:
            end[col] = float(price)
    end = round_array_to_ticks(np.maximum(end, _MIN_PRICE))
    vol = universe.daily_vol
    steps = rng.standard_normal((days, n)) * vol
    log_close = np.empty((days, n))
    log_close[-1] = np.log(end)
    log_close[:-1] = np.log(end) - np.cumsum(steps[:0:-1], axis=0)[::-1]
    close = np.exp(log_close)
    prior = np.vstack([close[:1], close[:-1]])
    open_ = prior * np.exp(rng.normal(0.0, 0.3, (days, n)) * vol)
    high = np.maximum(open_, close) * np.exp(np.abs(rng.standard_normal((days, n))) * vol * 0.5)
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.standard_normal((days, n))) * vol * 0.5)
    o, h, lo, c = (
        round_array_to_ticks(np.maximum(a, _MIN_PRICE)) for a in (open_, high, low, close)
    )
    c[-1] = end
    h[-1], lo[-1] = np.maximum(h[-1], end), np.minimum(lo[-1], end)
    volume = np.floor(universe.avg_volume * rng.lognormal(0.0, 0.3, (days, n))).astype(np.int64)
    return DailyHistory(dates=dates, open=o, high=h, low=lo, close=c, volume=volume)


def _weekdays_before(day: date, count: int) -> tuple[date, ...]:
    found: list[date] = []
    current = day
    while len(found) < count:
        current -= timedelta(days=1)
        if current.weekday() < 5:
            found.append(current)
    return tuple(reversed(found))


def _floor_to_minute(at: datetime) -> datetime:
    """`at` in UTC with seconds and microseconds dropped."""
    return at.astimezone(UTC).replace(second=0, microsecond=0)
