"""Stage 5: technical indicators for the shortlist, with `ta`, over bars frames (`bars.py`).

Each indicator is the LAST value of its series (the value at the cycle's time), or None when the
symbol has too few bars for it; a stored value is never NaN nor infinite. Windows are counted in
bars of whatever frame is given (1- or 5-minute), pre-market bars included; only VWAP is
anchored to the session. Defaults are in `TechnicalParams`.

- RSI(n) (`ta.momentum.RSIIndicator`, Wilder smoothing: an EWM with alpha 1/n of the gains and
  of the losses): 100 - 100 / (1 + avg gain / avg loss), 100 when there is no loss. Needs n
  bars (`ta` counts the first bar as a zero change). A close that never moved has neither gain
  nor loss: `ta` calls it 100, here it is 50 (neutral), so a flat stock never reads overbought.
- MACD(fast, slow, signal) (`ta.trend.MACD`): line = EMA_fast - EMA_slow (needs `slow` bars);
  signal = EMA_signal of the line and histogram = line - signal (need slow + signal - 1 bars).
- EMA fast / slow (`ta.trend.EMAIndicator`): span-n EWM, y = y' + 2/(n+1) (close - y'), seeded
  with the first close; needs n bars.
- ATR(n), `ta.volatility.AverageTrueRange`'s definition: true range = max(high - low,
  |high - prev close|, |low - prev close|) (the first bar's is its high - low); seeded with the
  mean of the first n, then ATR = (ATR' (n-1) + TR) / n. Needs n bars (`ta` itself answers 0
  below that, or raises). Computed here in one vectorised step (`wilder_atr_last`), checked
  equal to `ta`'s: `ta` runs a Python loop over every bar, the slowest part of this module.
- Bollinger(n, k) (`ta.volatility.BollingerBands`): middle = n-bar mean of the close, upper /
  lower = middle +/- k population standard deviations; %b = (close - lower) / (upper - lower),
  0.5 when the bands have collapsed onto the middle (a flat close). Needs n bars.
- VWAP, session-anchored: sum(typical x volume) / sum(volume) over the bars at or after
  `session_open`, typical = (high + low + close) / 3; None with no session bar or no session
  volume. Computed here, not by `ta`: `ta.volume.VolumeWeightedAveragePrice` is a rolling n-bar
  average that knows no session; it gives the anchored value only if fed the session's bars
  alone with n = their count, which is this same sum said obscurely. It lies within the session
  bars' [min low, max high], up to float rounding (a one-price bar's (3p)/3 can be an ulp off p).
- Volume surge(n): the last bar's volume / the mean volume of the n bars before it. Needs n + 1
  bars; None when those n bars traded nothing (the ratio has no finite value).

Per symbol, not over one wide frame: `ta`'s classes do the arithmetic with pandas ops, but
every public output wraps its result in a 1-D `pd.Series` (a DataFrame raises "Cannot construct
a Series from a DataFrame"), RSI builds its output with `np.where` into a Series (raises on 2-D
data), and ATR runs a Python loop over `.iloc` scalars and builds a DataFrame of the three
ranges (raises on DataFrame inputs). So no `ta` indicator takes a wide frame; a wide version
would mean re-implementing `ta`. `bench/technicals.py` measures this module against such a
re-implementation over position-aligned wide frames (checked equal): on 50 symbols x 390 bars
the wide one ran about 10x faster; `ta`'s ATR loop was about half of this module's time, hence
`wilder_atr_last`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from ta.momentum import RSIIndicator
from ta.trend import MACD, EMAIndicator
from ta.volatility import BollingerBands

from catalyst.config.strategy import TechnicalParams as TechnicalParams  # re-exported
from catalyst.pipeline.bars import running_vwap

FLAT_RSI = 50.0  # a close that never moved: neither overbought nor oversold
FLAT_PERCENT_B = 0.5  # bands collapsed onto the middle: the close sits on it
# Bands narrower than this fraction of the middle are "collapsed": %b of a width that is only
# rounding noise would be an arbitrary (and possibly huge) number.
_FLAT_BAND_WIDTH = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class Technicals:
    """One symbol's indicators at the cycle's time; None = too few bars (see the module doc)."""

    rsi: float | None = None
    macd: float | None = None
    macd_signal: float | None = None
    macd_histogram: float | None = None
    ema_fast: float | None = None
    ema_slow: float | None = None
    atr: float | None = None
    vwap: float | None = None
    bollinger_upper: float | None = None
    bollinger_middle: float | None = None
    bollinger_lower: float | None = None
    bollinger_percent_b: float | None = None
    volume_surge: float | None = None
    bars: int = 0  # how many bars the indicators were computed over

    def as_dict(self) -> dict[str, float | int | None]:
        """Field name to value, JSON-ready (None stands for "not enough bars")."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def compute_technicals(
    frames: Mapping[str, pd.DataFrame], session_open: datetime, params: TechnicalParams
) -> dict[str, Technicals]:
    """Every symbol's indicators over its bars frame, once per cycle for the whole shortlist.

    `session_open` (timezone-aware) anchors VWAP; everything else reads all the bars given.
    """
    anchor = _utc_timestamp(session_open)
    return {symbol: _technicals(frame, anchor, params) for symbol, frame in frames.items()}


def compute_symbol_technicals(
    frame: pd.DataFrame, session_open: datetime, params: TechnicalParams
) -> Technicals:
    """One symbol's indicators over its bars frame (what `compute_technicals` does per symbol)."""
    return _technicals(frame, _utc_timestamp(session_open), params)


def daily_atr(daily: pd.DataFrame, window: int = 14) -> float | None:
    """ATR(`window`) at the last of `daily`'s bars (one row per day), for stops; None if short."""
    if window < 1:
        raise ValueError(f"daily_atr needs window >= 1, got {window}")
    return _atr(daily, window)


def session_vwap(frame: pd.DataFrame, session_open: datetime) -> float | None:
    """Session-anchored VWAP at the last bar (see the module doc); None without session volume."""
    return _vwap(frame, _utc_timestamp(session_open))


def _technicals(frame: pd.DataFrame, anchor: pd.Timestamp, params: TechnicalParams) -> Technicals:
    close = frame["close"]
    macd = MACD(
        close,
        window_slow=params.macd_slow,
        window_fast=params.macd_fast,
        window_sign=params.macd_signal,
    )
    upper, middle, lower, percent_b = _bollinger(close, params)
    return Technicals(
        rsi=_rsi(close, params.rsi_window),
        macd=_last(macd.macd()),
        macd_signal=_last(macd.macd_signal()),
        macd_histogram=_last(macd.macd_diff()),
        ema_fast=_last(EMAIndicator(close, window=params.ema_fast).ema_indicator()),
        ema_slow=_last(EMAIndicator(close, window=params.ema_slow).ema_indicator()),
        atr=_atr(frame, params.atr_window),
        vwap=_vwap(frame, anchor),
        bollinger_upper=upper,
        bollinger_middle=middle,
        bollinger_lower=lower,
        bollinger_percent_b=percent_b,
        volume_surge=_volume_surge(frame["volume"], params.volume_surge_window),
        bars=len(frame),
    )


def _rsi(close: pd.Series, window: int) -> float | None:
    if len(close) < window:
        return None
    if close.min() == close.max():
        return FLAT_RSI
    return _last(RSIIndicator(close, window=window).rsi())


def _atr(frame: pd.DataFrame, window: int) -> float | None:
    # Guarded here: below `window` bars `ta` answers 0 (a false "no volatility") or raises.
    if len(frame) < window:
        return None
    value = wilder_atr_last(
        frame["high"].to_numpy(dtype=float),
        frame["low"].to_numpy(dtype=float),
        frame["close"].to_numpy(dtype=float),
        window,
    )
    return None if not math.isfinite(value) else max(value, 0.0)


def wilder_atr_last(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int) -> float:
    """The last value of `ta.volatility.AverageTrueRange(high, low, close, window)`, in one
    vectorised step instead of `ta`'s Python loop over `.iloc` scalars (at 15:00, 50 names of
    330 minute bars, that loop was a fifth of the analysis; module doc). Same definition: true
    range = max(high - low, |high - prev close|, |low - prev close|), the first bar's its high -
    low; seed = mean of the first `window`; then ATR = (ATR' (n-1) + TR) / n, whose last value is
    seed x a^m + sum(TR_j a^(m-1-j)) / n over the m later bars, a = (n-1)/n. Equal to `ta`'s to
    float rounding (tests/test_pipeline_technicals.py checks it). Needs `window` bars."""
    previous = np.concatenate(([np.nan], close[:-1]))
    # fmax skips a NaN as pandas' max does: the first bar's range is its high - low alone.
    true_range = np.fmax(np.fmax(high - low, np.abs(high - previous)), np.abs(low - previous))
    seed = float(true_range[:window].mean())
    later = true_range[window:]
    if later.size == 0:
        return seed
    decay = (window - 1) / window
    weights = decay ** np.arange(later.size - 1, -1, -1, dtype=float) / window
    return float(seed * decay**later.size + weights @ later)


def _bollinger(
    close: pd.Series, params: TechnicalParams
) -> tuple[float | None, float | None, float | None, float | None]:
    if len(close) < params.bollinger_window:
        return None, None, None, None
    bands = BollingerBands(close, window=params.bollinger_window, window_dev=params.bollinger_std)
    upper = _last(bands.bollinger_hband())
    middle = _last(bands.bollinger_mavg())
    lower = _last(bands.bollinger_lband())
    if upper is None or middle is None or lower is None:
        return None, None, None, None
    if upper - lower <= _FLAT_BAND_WIDTH * abs(middle):
        return upper, middle, lower, FLAT_PERCENT_B
    return upper, middle, lower, _last(bands.bollinger_pband())


def _vwap(frame: pd.DataFrame, anchor: pd.Timestamp) -> float | None:
    # On numpy arrays: slicing the frame itself costs more than the sums.
    in_session = np.asarray(frame.index >= anchor)
    if not in_session.any():
        return None
    high, low, close, volume = (
        frame[c].to_numpy()[in_session] for c in ("high", "low", "close", "volume")
    )
    vwap = float(running_vwap(high, low, close, volume)[-1])
    return vwap if math.isfinite(vwap) else None  # NaN: no session bar traded


def _volume_surge(volume: pd.Series, window: int) -> float | None:
    if len(volume) < window + 1:
        return None
    baseline = float(volume.iloc[-window - 1 : -1].mean())
    if not baseline > 0:
        return None
    surge = float(volume.iloc[-1]) / baseline
    return surge if math.isfinite(surge) else None


def _last(series: pd.Series) -> float | None:
    if series.empty:
        return None
    value = float(series.iloc[-1])
    return value if math.isfinite(value) else None


def _utc_timestamp(moment: datetime) -> pd.Timestamp:
    if moment.tzinfo is None:
        raise ValueError(f"session_open must be timezone-aware, got {moment!r}")
    return pd.Timestamp(moment).tz_convert("UTC")
