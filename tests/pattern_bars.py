"""Constructed intraday bars for the pattern tests, built through `bars_frame` from real `Bar`s.

Minute offsets are from the regular session's open (09:30 New York, 14:30 UTC on 2026-11-24);
a negative offset is a pre-market bar, and a missing offset is a halt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import Bar
from catalyst.pipeline.bars import bars_frame
from catalyst.pipeline.patterns import PatternContext

SESSION_OPEN = datetime(2026, 11, 24, 9, 30, tzinfo=EXCHANGE_TZ)


@dataclass(frozen=True)
class Candle:
    """One bar's prices and volume; `at` is its minute offset from the open."""

    at: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 1000


def context(previous_day_high: float | None = None) -> PatternContext:
    return PatternContext(session_open=SESSION_OPEN, previous_day_high=previous_day_high)


def frame(candles: Iterable[Candle]) -> pd.DataFrame:
    """The candles as a bars frame (via `Bar` and `bars_frame`, as the pipeline builds them)."""
    bars = [
        Bar(
            symbol="ABC",
            timestamp=SESSION_OPEN + timedelta(minutes=candle.at),
            open=_money(candle.open),
            high=_money(candle.high),
            low=_money(candle.low),
            close=_money(candle.close),
            volume=int(candle.volume),
        )
        for candle in candles
    ]
    built = bars_frame(bars)
    assert built.dropped == 0, "a constructed bar was unusable"
    return built.frame


def walk(
    closes: Sequence[float],
    *,
    start: int = 0,
    volume: float | Sequence[float] = 1000,
    wick: float = 0.01,
) -> list[Candle]:
    """One bar a minute from `start`: each opens at the previous close, wicks `wick` beyond."""
    volumes = [volume] * len(closes) if isinstance(volume, int | float) else list(volume)
    candles = []
    previous = closes[0]
    for offset, (close, size) in enumerate(zip(closes, volumes, strict=True)):
        high = max(previous, close) + wick
        low = min(previous, close) - wick
        candles.append(Candle(start + offset, previous, high, low, close, size))
        previous = close
    return candles


def flat(minutes: Iterable[int], level: float = 10.0, volume: float = 1000) -> list[Candle]:
    """Bars whose open, high, low and close are all `level`."""
    return [Candle(at, level, level, level, level, volume) for at in minutes]


def five_minute(
    blocks: Sequence[tuple[float, float, float, float, float]], start: int = 0
) -> list[Candle]:
    """1-minute bars that resample to the given 5-minute (open, high, low, close, volume) blocks.

    Each block's five minutes trade flat at its open, high, low, close and close again, so the
    5-minute bar is exactly the block.
    """
    candles: list[Candle] = []
    for number, (o, h, lo, c, v) in enumerate(blocks):
        first = start + 5 * number
        for step, level in enumerate((o, h, lo, c, c)):
            candles.append(Candle(first + step, level, level, level, level, v / 5))
    return candles


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 4)))
