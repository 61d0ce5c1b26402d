"""Bars into frames: the shape every detector and indicator reads, bad bars dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd

from catalyst.domain.models import Bar
from catalyst.pipeline.bars import BAR_COLUMNS, bars_frame, resample_bars

OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)


def _bar(minute: int, close: str = "10", *, high: str | None = None, volume: int = 100) -> Bar:
    price = Decimal(close)
    return Bar(
        symbol="ABC",
        timestamp=OPEN + timedelta(minutes=minute),
        open=price,
        high=Decimal(high) if high is not None else price,
        low=price,
        close=price,
        volume=volume,
    )


def test_bars_become_an_ascending_utc_float_frame() -> None:
    built = bars_frame([_bar(1, "10.5"), _bar(0, "10")])

    assert built.dropped == 0
    assert tuple(built.frame.columns) == BAR_COLUMNS
    assert list(built.frame["close"]) == [10.0, 10.5]
    assert str(built.frame.index.tz) == "UTC"
    assert all(dtype == "float64" for dtype in built.frame.dtypes)


def test_unusable_bars_are_dropped_and_counted() -> None:
    bars = [
        _bar(0, "10"),
        _bar(1, "0"),  # zero price
        _bar(2, "NaN"),
        _bar(3, "10", high="9"),  # high below the close
        _bar(4, "10", volume=-1),
    ]
    built = bars_frame(bars)

    assert built.dropped == 4
    assert list(built.frame.index) == [pd.Timestamp(OPEN)]


def test_no_bars_is_an_empty_frame_with_the_columns() -> None:
    built = bars_frame([])
    assert built.frame.empty
    assert tuple(built.frame.columns) == BAR_COLUMNS


def test_resampling_aggregates_on_the_clock_and_leaves_halts_out() -> None:
    minutes = [0, 1, 2, 3, 4, 10, 11]  # minutes 5-9: halted, no bars at all
    frame = bars_frame([_bar(m, str(10 + m), volume=10) for m in minutes]).frame

    five = resample_bars(frame, 5)

    assert list(five.index) == [pd.Timestamp(OPEN), pd.Timestamp(OPEN + timedelta(minutes=10))]
    first = five.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"]) == (10, 14, 10, 14)
    assert first["volume"] == 50
    assert five.iloc[1]["volume"] == 20


def test_symbols_without_bars_share_one_empty_frame_that_no_stage_changes() -> None:
    first = bars_frame([]).frame
    resampled = resample_bars(first, 5)
    assert first is bars_frame([]).frame  # built once, not per symbol per scan
    assert first.empty
    assert resampled.empty
    assert tuple(first.columns) == BAR_COLUMNS
