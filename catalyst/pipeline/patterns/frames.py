"""What every detector does to its bars first (`DayBars`), and the small helpers they share.

`usable_bars` applies `bars_frame`'s rule again (finite positive prices, low <= open, close <=
high, volume >= 0; ascending; one bar per timestamp) so a frame built by hand, or a NaN that
slipped through, can never reach a detector's arithmetic. Session VWAP is

    VWAP_i = sum_{j<=i} typical_j * volume_j / sum_{j<=i} volume_j
    typical_j = (high_j + low_j + close_j) / 3

over the regular session's bars; while no volume has traded it is the running mean of the
typical prices, so it is always defined and within the bars' low/high.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from catalyst.pipeline.bars import BAR_COLUMNS, empty_bars, resample_bars, running_vwap

# A volume ratio against a baseline of no volume at all is "very large", not infinite.
RATIO_CAP = 1e6


@dataclass(frozen=True, slots=True)
class DayBars:
    """One symbol's usable bars of today, and the regular session's part of them.

    Built once per symbol by `detect_patterns` and shared by the five detectors, so the frame
    is cleaned once and resampled once per bar size, not once per detector.
    """

    today: pd.DataFrame  # every usable bar, pre-market included
    regular: pd.DataFrame  # the bars from the session's open on
    _resampled: dict[int, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, bars: pd.DataFrame, session_open: datetime) -> DayBars:
        today = usable_bars(bars)
        return cls(today=today, regular=today[today.index >= pd.Timestamp(session_open)])

    def regular_resampled(self, minutes: int) -> pd.DataFrame:
        """The regular session on `minutes`-long clock-aligned bars (halts left out)."""
        cached = self._resampled.get(minutes)
        if cached is None:
            cached = self._resampled[minutes] = resample_bars(self.regular, minutes)
        return cached


def usable_bars(bars: pd.DataFrame) -> pd.DataFrame:
    """`bars` (the `catalyst.pipeline.bars` shape) with every row a detector cannot read dropped.

    A naive index is read as UTC. Raises only for a frame that lacks the bar columns (KeyError)
    or a DatetimeIndex (TypeError): a caller's bug, not odd market data.
    """
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise TypeError(f"bars need a DatetimeIndex of bar starts, not {type(bars.index).__name__}")
    if bars.empty:
        return empty_bars()
    frame = bars.loc[:, list(BAR_COLUMNS)].astype("float64")
    index = bars.index
    frame.index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    values = frame.to_numpy()
    opens, highs, lows, closes, volumes = values.T
    with np.errstate(invalid="ignore"):
        ok = (
            np.isfinite(values).all(axis=1)
            & (values[:, :4] > 0).all(axis=1)
            & (volumes >= 0)
            & (lows <= np.minimum(opens, closes))
            & (highs >= np.maximum(opens, closes))
        )
    if ok.all() and frame.index.is_monotonic_increasing and frame.index.is_unique:
        return frame  # what bars_frame builds: nothing to drop or reorder
    frame = frame[ok]
    frame = frame[~frame.index.duplicated(keep="last")]
    return frame.sort_index()


def session_vwap(bars: pd.DataFrame) -> np.ndarray:
    """The running VWAP at each bar (see the module doc); `bars` must be usable."""
    high, low, close = (bars[c].to_numpy() for c in ("high", "low", "close"))
    vwap = running_vwap(high, low, close, bars["volume"].to_numpy())
    # Before any volume has traded the typical prices' plain running mean stands in.
    running_mean = np.cumsum((high + low + close) / 3) / np.arange(1, len(close) + 1)
    vwap = np.where(np.isnan(vwap), running_mean, vwap)
    # Rounding in the sums can leave VWAP a hair outside the day's range; keep it inside.
    return np.clip(vwap, np.minimum.accumulate(low), np.maximum.accumulate(high))


def trailing_run(mask: np.ndarray) -> int:
    """How many of `mask`'s last elements are all True (0 when the last one is False)."""
    falses = np.flatnonzero(~mask.astype(bool))
    return len(mask) if len(falses) == 0 else len(mask) - 1 - int(falses[-1])


def ratio(numerator: float, denominator: float) -> float:
    """`numerator / denominator` for volumes: 0 for no numerator, `RATIO_CAP` for no baseline."""
    if not numerator > 0:
        return 0.0
    if not denominator > 0:
        return RATIO_CAP
    return min(numerator / denominator, RATIO_CAP)


def unit(value: float) -> float:
    """`value` clipped to [0, 1]; anything not finite counts as 0."""
    if not math.isfinite(value):
        return 0.0
    return min(max(value, 0.0), 1.0)


def matched_strength(quality: float) -> float:
    """A match's strength from its quality in [0, 1]: 0.5 for the bare rule, up to 1."""
    return 0.5 + 0.5 * unit(quality)


def price(value: float) -> str:
    """A price for a reason line: cents, or four decimals below a dollar."""
    return f"{value:.4f}" if value < 1 else f"{value:.2f}"
