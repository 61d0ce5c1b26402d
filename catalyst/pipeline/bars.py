"""Bars as pandas frames: the one shape the pattern detectors and the technicals read.

A bars frame has a `DatetimeIndex` of bar starts (UTC, ascending, unique) and float64 columns
`open, high, low, close, volume` (`BAR_COLUMNS`). Prices are floats here on purpose: patterns and
indicators are statistics, not money; prices that become orders are turned back into ticked
`Decimal`s by the stage that proposes the order.

Bad bars (a non-finite or non-positive price, a high below the low, negative volume) are dropped
when the frame is built, so no detector ever sees them; `bars_frame` reports how many.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from catalyst.domain.models import Bar

BAR_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class BarsFrame:
    """One symbol's bars as a frame, and how many input bars were unusable."""

    frame: pd.DataFrame
    dropped: int


def empty_bars() -> pd.DataFrame:
    """A bars frame with no rows (what a symbol without bars gets).

    One shared frame: building a DataFrame costs about a millisecond of CPU, paid by every
    symbol without bars at every scan before the first bar, and no stage changes a frame it is
    given (each filter or resample makes a new one).
    """
    return _EMPTY


_EMPTY = pd.DataFrame(
    {name: pd.Series(dtype="float64") for name in BAR_COLUMNS},
    index=pd.DatetimeIndex([], tz="UTC", name="timestamp"),
)


def bars_frame(bars: Sequence[Bar]) -> BarsFrame:
    """`bars` as a frame (see the module doc); a repeated timestamp keeps its last bar."""
    rows = [_row(bar) for bar in bars]
    usable = [row for row in rows if row is not None]
    if not usable:
        return BarsFrame(empty_bars(), dropped=len(rows))
    index = pd.DatetimeIndex([row[0] for row in usable], name="timestamp").tz_convert("UTC")
    frame = pd.DataFrame([row[1:] for row in usable], index=index, columns=list(BAR_COLUMNS))
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return BarsFrame(frame.astype("float64"), dropped=len(rows) - len(usable))


def resample_bars(frame: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """`frame`'s bars aggregated into `minutes`-long bars aligned to the clock (09:30, 09:35 ...).

    Intervals with no bar at all (a halt) are left out rather than filled: a detector must see
    the gap, not a flat bar that never traded.
    """
    if minutes < 1:
        raise ValueError(f"resample_bars needs minutes >= 1, got {minutes}")
    if frame.empty:
        return empty_bars()
    grouped = frame.resample(timedelta(minutes=minutes), label="left", closed="left")
    out = grouped.agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    counts = grouped["close"].count()
    return out[counts > 0].astype("float64")


def running_vwap(
    high: npt.NDArray[np.float64],
    low: npt.NDArray[np.float64],
    close: npt.NDArray[np.float64],
    volume: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The volume-weighted average of the typical price (high + low + close) / 3 from the first
    bar given to each bar; NaN until some volume has traded. Pass the session's bars only for
    a session-anchored VWAP (what the patterns and the technicals both read)."""
    typical = (high + low + close) / 3.0
    cum_volume = np.cumsum(volume)
    cum_value = np.cumsum(typical * volume)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cum_volume > 0, cum_value / cum_volume, np.nan)


def _row(bar: Bar) -> tuple[pd.Timestamp, float, float, float, float, float] | None:
    try:
        o, h, lo, c = (float(bar.open), float(bar.high), float(bar.low), float(bar.close))
        v = float(bar.volume)
    except (TypeError, ValueError, ArithmeticError):
        return None
    prices = (o, h, lo, c)
    if not all(math.isfinite(p) and p > 0 for p in prices):
        return None
    if not math.isfinite(v) or v < 0 or h < lo or not lo <= o <= h or not lo <= c <= h:
        return None
    if bar.timestamp.tzinfo is None:
        return None
    return (pd.Timestamp(bar.timestamp), o, h, lo, c, v)
