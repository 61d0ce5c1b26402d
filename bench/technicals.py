"""Benchmark: the technicals stage per symbol with `ta` against one pass over wide frames.

"per symbol" is `compute_technicals` as shipped (`ta`'s classes, one symbol at a time: none of
them accepts a DataFrame of symbols, see catalyst/pipeline/technicals.py). "wide" re-implements
the same formulas in pandas over wide frames (one column per symbol), each indicator computed
once for all symbols, to show what vectorising would buy. Its frames are aligned by POSITION
(each symbol's last bar on the last row, shorter symbols padded with NaN on top), not on the
union of timestamps: a symbol missing a minute another one traded would get a NaN inside its
column, which ewm/rolling/diff read differently from an absent bar (printed below).

Both run on the same seeded symbols; the wide results are checked equal to the shipped ones
(relative 1e-9) on ragged symbols (short, gapped, flat) before anything is timed.
Run: .venv/bin/python bench/technicals.py [--symbols 50] [--bars 390] [--repeat 7]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from catalyst.pipeline.technicals import (
    FLAT_PERCENT_B,
    FLAT_RSI,
    TechnicalParams,
    Technicals,
    compute_technicals,
)

OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def seeded_frames(symbols: int, bars: int, seed: int, ragged: bool) -> dict[str, pd.DataFrame]:
    """Random-walk 1-minute bars from 30 minutes before the open; `ragged` varies the shapes."""
    rng = np.random.default_rng(seed)
    start = OPEN - timedelta(minutes=30)
    frames = {}
    for number in range(symbols):
        count = int(rng.integers(0, bars + 1)) if ragged and number % 3 == 0 else bars
        close = 20 * np.exp(np.cumsum(rng.normal(0, 0.002, count)))
        if ragged and number % 7 == 1:
            close[:] = 20.0  # flat
        index = pd.date_range(start, periods=count, freq="1min", tz="UTC", name="timestamp")
        frame = pd.DataFrame(
            {
                "open": np.concatenate([[20.0], close[:-1]])[:count],
                "high": close * (1 + rng.uniform(0, 0.002, count)),
                "low": close * (1 - rng.uniform(0, 0.002, count)),
                "close": close,
                "volume": rng.integers(0, 20_000, count).astype("float64"),
            },
            index=index,
        )
        frame["high"] = frame[["open", "high"]].max(axis=1)
        frame["low"] = frame[["open", "low"]].min(axis=1)
        if ragged and number % 5 == 2 and count > 40:
            frame = frame.drop(frame.index[10:20])  # a halt: ten minutes without bars
        frames[f"S{number:03d}"] = frame
    return frames


def wide_technicals(
    frames: Mapping[str, pd.DataFrame], session_open: datetime, params: TechnicalParams
) -> dict[str, Technicals]:
    """The shipped formulas, each computed once over position-aligned wide frames."""
    symbols = list(frames)
    lengths = np.array([len(frames[s]) for s in symbols])
    rows = int(lengths.max(initial=0))
    if rows == 0:
        return {s: Technicals(bars=0) for s in symbols}

    def wide(column: str) -> pd.DataFrame:
        block = np.full((rows, len(symbols)), np.nan)
        for j, symbol in enumerate(symbols):
            if lengths[j]:
                block[rows - lengths[j] :, j] = frames[symbol][column].to_numpy()
        return pd.DataFrame(block, columns=symbols)

    high, low, close, volume = wide("high"), wide("low"), wide("close"), wide("volume")
    stamps = np.full((rows, len(symbols)), np.iinfo(np.int64).min)
    for j, symbol in enumerate(symbols):
        if lengths[j]:
            stamps[rows - lengths[j] :, j] = frames[symbol].index.as_unit("ns").asi8
    in_session = stamps >= pd.Timestamp(session_open).as_unit("ns").value

    def ema(frame: pd.DataFrame, span: int) -> pd.DataFrame:
        return frame.ewm(span=span, min_periods=span, adjust=False).mean()

    present = close.notna()
    diff = close.diff()
    up = diff.where(diff > 0, 0.0).where(present)
    down = (-diff).where(diff < 0, 0.0).where(present)
    avg_up = up.ewm(alpha=1 / params.rsi_window, adjust=False).mean().iloc[-1]
    avg_down = down.ewm(alpha=1 / params.rsi_window, adjust=False).mean().iloc[-1]
    rsi = np.where(avg_down == 0, 100.0, 100 - 100 / (1 + avg_up / avg_down))
    flat = (close.max() == close.min()).to_numpy()

    line = ema(close, params.macd_fast) - ema(close, params.macd_slow)
    signal = ema(line, params.macd_signal)
    ema_fast = ema(close, params.ema_fast).iloc[-1]
    ema_slow = ema(close, params.ema_slow).iloc[-1]

    window = params.atr_window
    previous = close.shift(1)
    true_range = np.fmax(high - low, np.fmax((high - previous).abs(), (low - previous).abs()))
    seed_row = rows - lengths + window - 1  # Wilder's seed: the mean of the first `window`
    seeded = pd.DataFrame(true_range, columns=symbols)
    means = seeded.rolling(window).mean().to_numpy()
    positions = np.arange(rows)[:, None]
    block = np.where(positions > seed_row, seeded.to_numpy(), np.nan)
    has_seed = seed_row < rows
    block[seed_row[has_seed], np.flatnonzero(has_seed)] = means[
        seed_row[has_seed], np.flatnonzero(has_seed)
    ]
    atr = pd.DataFrame(block).ewm(alpha=1 / window, adjust=False).mean().iloc[-1].to_numpy()

    rolling = close.rolling(params.bollinger_window, min_periods=params.bollinger_window)
    middle = rolling.mean().iloc[-1]
    deviation = rolling.std(ddof=0).iloc[-1]
    upper = middle + params.bollinger_std * deviation
    lower = middle - params.bollinger_std * deviation

    session_volume = volume.where(in_session, 0.0).fillna(0.0)
    typical = (high + low + close) / 3
    vwap = (typical * session_volume).sum() / session_volume.sum()
    surge_window = params.volume_surge_window
    baseline = volume.iloc[-surge_window - 1 : -1].mean()
    surge = volume.iloc[-1] / baseline

    rsi_needed = params.rsi_window
    out = {}
    for j, symbol in enumerate(symbols):
        n = int(lengths[j])

        def value(x: float, needed: int, n: int = n) -> float | None:
            return float(x) if n >= needed and math.isfinite(x) else None

        bands = [value(b.iloc[j], params.bollinger_window) for b in (upper, middle, lower)]
        percent_b = None
        if bands[0] is not None and bands[1] is not None and bands[2] is not None:
            width = bands[0] - bands[2]
            percent_b = (
                FLAT_PERCENT_B
                if width <= 1e-9 * abs(bands[1])
                else (float(close.iloc[-1, j]) - bands[2]) / width
            )
        out[symbol] = Technicals(
            rsi=FLAT_RSI if flat[j] and n >= rsi_needed else value(rsi[j], rsi_needed),
            macd=value(line.iloc[-1, j], 1),
            macd_signal=value(signal.iloc[-1, j], 1),
            macd_histogram=value(line.iloc[-1, j] - signal.iloc[-1, j], 1),
            ema_fast=value(ema_fast.iloc[j], 1),
            ema_slow=value(ema_slow.iloc[j], 1),
            atr=value(max(atr[j], 0.0), window),
            vwap=value(vwap.iloc[j], 1) if session_volume.iloc[:, j].sum() > 0 else None,
            bollinger_upper=bands[0],
            bollinger_middle=bands[1],
            bollinger_lower=bands[2],
            bollinger_percent_b=percent_b,
            volume_surge=value(surge.iloc[j], surge_window + 1) if baseline.iloc[j] > 0 else None,
            bars=n,
        )
    return out


def assert_equal(shipped: Mapping[str, Technicals], wide: Mapping[str, Technicals]) -> None:
    for symbol, expected in shipped.items():
        for name, want in expected.as_dict().items():
            got = wide[symbol].as_dict()[name]
            same = (got is None and want is None) or (
                got is not None and want is not None and math.isclose(got, want, rel_tol=1e-9)
            )
            if not same:
                raise AssertionError(f"{symbol}.{name}: shipped {want!r}, wide {got!r}")


def union_alignment_drift(params: TechnicalParams) -> tuple[float, bool]:
    """What aligning on the union of timestamps does to a symbol missing 3 of its last 15 minutes
    (a neighbour traded them): its EMA-slow's change, and whether its Bollinger middle is lost."""
    frame = seeded_frames(1, 120, seed=3, ragged=False)["S000"]
    own = frame.drop(frame.index[-15:-12])
    union = own["close"].reindex(frame.index)  # NaN where the neighbour had a bar
    span, window = params.ema_slow, params.bollinger_window

    def ema(close: pd.Series) -> float:
        return float(close.ewm(span=span, min_periods=span, adjust=False).mean().iloc[-1])

    lost = math.isnan(float(union.rolling(window, min_periods=window).mean().iloc[-1]))
    return abs(ema(union) - ema(own["close"])), lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--bars", type=int, default=390)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    params = TechnicalParams()

    ragged = seeded_frames(args.symbols, args.bars, seed=11, ragged=True)
    assert_equal(compute_technicals(ragged, OPEN, params), wide_technicals(ragged, OPEN, params))
    print(f"wide == per symbol on {len(ragged)} ragged symbols (short, gapped, flat, empty)")
    drift, lost = union_alignment_drift(params)
    print(
        f"aligned on the union of timestamps, a symbol missing 3 minutes: EMA-slow moves by "
        f"{drift:.2e}, Bollinger middle {'lost (NaN)' if lost else 'kept'}"
    )

    frames = seeded_frames(args.symbols, args.bars, seed=7, ragged=False)
    for name, run in (("per symbol (ta)", compute_technicals), ("wide (pandas)", wide_technicals)):
        run(frames, OPEN, params)  # warm-up
        seconds = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            run(frames, OPEN, params)
            seconds.append(time.perf_counter() - started)
        print(
            f"{name:16s} {args.symbols} symbols x {args.bars} bars: median "
            f"{statistics.median(seconds) * 1000:.1f} ms, min {min(seconds) * 1000:.1f} ms "
            f"({args.repeat} runs)"
        )


if __name__ == "__main__":
    main()
