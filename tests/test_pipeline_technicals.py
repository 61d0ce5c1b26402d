"""Technicals: known values on constructed series, too few bars as None, and sanity properties."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ta.volatility import AverageTrueRange
from ta.volume import VolumeWeightedAveragePrice

from catalyst.pipeline.bars import BAR_COLUMNS, empty_bars
from catalyst.pipeline.technicals import (
    FLAT_PERCENT_B,
    FLAT_RSI,
    TechnicalParams,
    Technicals,
    compute_symbol_technicals,
    compute_technicals,
    daily_atr,
    session_vwap,
    wilder_atr_last,
)

OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
DEFAULTS = TechnicalParams()


def _frame(
    closes: Sequence[float],
    *,
    highs: Sequence[float] | None = None,
    lows: Sequence[float] | None = None,
    volumes: Sequence[float] | None = None,
    start: datetime = OPEN,
    step: timedelta = timedelta(minutes=1),
) -> pd.DataFrame:
    """A bars frame (the `bars.py` shape) with one bar per `step` from `start`."""
    if not closes:
        return empty_bars()
    index = pd.DatetimeIndex([start + step * i for i in range(len(closes))], name="timestamp")
    frame = pd.DataFrame(
        {
            "open": list(closes),
            "high": list(highs) if highs is not None else list(closes),
            "low": list(lows) if lows is not None else list(closes),
            "close": list(closes),
            "volume": list(volumes) if volumes is not None else [1000.0] * len(closes),
        },
        index=index.tz_convert("UTC"),
    )
    return frame[list(BAR_COLUMNS)].astype("float64")


def _at_open(frame: pd.DataFrame, params: TechnicalParams = DEFAULTS) -> Technicals:
    """The frame's indicators with the session opening at `OPEN`."""
    return compute_symbol_technicals(frame, OPEN, params)


def _ramp(count: int, start: float = 10.0, step: float = 0.1) -> list[float]:
    return [start + step * i for i in range(count)]


def test_a_strictly_rising_close_has_rsi_100() -> None:
    assert _at_open(_frame(_ramp(40))).rsi == 100.0


def test_a_strictly_falling_close_has_rsi_0() -> None:
    assert _at_open(_frame(_ramp(40, step=-0.1))).rsi == 0.0


def test_a_flat_close_reads_neutral_not_overbought() -> None:
    # `ta` calls a close with neither gains nor losses RSI 100; we call it 50 and %b 0.5.
    result = _at_open(_frame([10.0] * 40))

    assert result.rsi == FLAT_RSI == 50.0
    assert result.bollinger_percent_b == FLAT_PERCENT_B == 0.5
    assert result.bollinger_lower == result.bollinger_middle == result.bollinger_upper == 10.0
    assert result.atr == 0.0
    assert result.macd == pytest.approx(0.0, abs=1e-12)
    assert result.volume_surge == 1.0


def test_an_ema_of_a_constant_close_is_the_constant() -> None:
    result = _at_open(_frame([12.34] * 30))

    assert result.ema_fast == pytest.approx(12.34, rel=1e-12)
    assert result.ema_slow == pytest.approx(12.34, rel=1e-12)


def test_ema_follows_the_recursion_seeded_with_the_first_close() -> None:
    closes = [10.0, 11.0, 12.0, 11.0, 13.0, 12.0, 14.0, 15.0, 13.0, 16.0]
    alpha = 2 / (9 + 1)
    expected = closes[0]
    for close in closes[1:]:
        expected += alpha * (close - expected)

    assert _at_open(_frame(closes)).ema_fast == pytest.approx(expected)


def _ema_path(values: Sequence[float], span: int) -> list[float]:
    """The span-`span` EMA after each value, seeded with the first (what `ta` computes)."""
    alpha = 2 / (span + 1)
    path = [values[0]]
    for value in values[1:]:
        path.append(path[-1] + alpha * (value - path[-1]))
    return path


def test_macd_is_the_fast_ema_minus_the_slow_and_its_signal_starts_at_the_first_line() -> None:
    closes = [10.0 + 0.05 * i + 0.3 * math.sin(i / 4) for i in range(60)]
    line = [
        fast - slow for fast, slow in zip(_ema_path(closes, 12), _ema_path(closes, 26), strict=True)
    ][25:]  # the line exists from the slow window's 26th bar
    signal = _ema_path(line, 9)[-1]
    result = _at_open(_frame(closes))

    assert result.macd == pytest.approx(line[-1], rel=1e-9)
    assert result.macd_signal == pytest.approx(signal, rel=1e-9)
    assert result.macd_histogram == pytest.approx(line[-1] - signal, rel=1e-9)


def test_a_rising_close_has_a_positive_macd() -> None:
    result = _at_open(_frame(_ramp(60)))

    assert result.macd is not None
    assert result.macd > 0  # the fast average leads a rise
    assert result.ema_fast is not None
    assert result.ema_slow is not None
    assert result.ema_fast > result.ema_slow


def test_atr_of_constant_range_bars_equals_the_range() -> None:
    closes = [20.0] * 30
    frame = _frame(closes, highs=[20.5] * 30, lows=[19.5] * 30)

    assert _at_open(frame).atr == pytest.approx(1.0)
    assert daily_atr(frame.iloc[:14]) == pytest.approx(1.0)


def test_atr_counts_a_gap_from_the_previous_close_with_wilder_smoothing() -> None:
    # Each bar opens 1.0 above the last close and trades a 0.5 range: true range 1.0, except
    # the first bar's (its high - low, 0.5). ATR = mean of the first 14, then Wilder's recursion.
    closes = [10.0 + i for i in range(30)]
    frame = _frame(closes, highs=closes, lows=[c - 0.5 for c in closes])
    expected = (0.5 + 13 * 1.0) / 14
    for _ in range(14, 30):
        expected = (expected * 13 + 1.0) / 14

    assert _at_open(frame).atr == pytest.approx(expected)
    assert expected < 0.99  # the first bar's short range still shows


def test_bollinger_bands_are_the_mean_plus_minus_two_population_deviations() -> None:
    closes = [float(i) for i in range(1, 21)]
    result = _at_open(_frame(closes))
    deviation = math.sqrt((20**2 - 1) / 12)  # population std of 1..20

    assert result.bollinger_middle == pytest.approx(10.5)
    assert result.bollinger_upper == pytest.approx(10.5 + 2 * deviation)
    assert result.bollinger_lower == pytest.approx(10.5 - 2 * deviation)
    assert result.bollinger_percent_b == pytest.approx(
        (20 - 10.5 + 2 * deviation) / (4 * deviation)
    )


def test_vwap_of_equal_volumes_is_the_mean_typical_price() -> None:
    closes = [10.0, 11.0, 12.0]
    highs = [10.5, 11.8, 12.1]
    lows = [9.0, 10.9, 11.5]
    frame = _frame(closes, highs=highs, lows=lows, volumes=[500.0] * 3)
    typical = [(h + lo + c) / 3 for h, lo, c in zip(highs, lows, closes, strict=True)]

    assert _at_open(frame).vwap == pytest.approx(sum(typical) / 3)


def test_vwap_weights_by_volume() -> None:
    frame = _frame([10.0, 20.0], volumes=[300.0, 100.0])
    assert session_vwap(frame, OPEN) == pytest.approx(12.5)


def test_vwap_leaves_pre_market_bars_out() -> None:
    pre_market = _frame([50.0] * 5, volumes=[10_000.0] * 5, start=OPEN - timedelta(minutes=5))
    session = _frame([10.0, 12.0], volumes=[100.0, 100.0])
    frame = pd.concat([pre_market, session])

    assert _at_open(frame).vwap == pytest.approx(11.0)
    assert _at_open(frame).bars == 7


def test_vwap_is_none_before_the_open_and_without_session_volume() -> None:
    pre_market = _frame([50.0] * 5, start=OPEN - timedelta(minutes=5))
    untraded = _frame([10.0, 10.0], volumes=[0.0, 0.0])

    assert _at_open(pre_market).vwap is None
    assert _at_open(untraded).vwap is None


def test_vwap_equals_ta_fed_the_session_alone() -> None:
    closes = _ramp(30, step=0.37)
    frame = _frame(
        closes,
        highs=[c + 0.2 for c in closes],
        lows=[c - 0.3 for c in closes],
        volumes=[100.0 + 17 * i for i in range(30)],
        start=OPEN - timedelta(minutes=10),
    )
    session = frame[frame.index >= pd.Timestamp(OPEN)]
    ta_vwap = VolumeWeightedAveragePrice(
        session["high"], session["low"], session["close"], session["volume"], window=len(session)
    ).volume_weighted_average_price()

    assert session_vwap(frame, OPEN) == pytest.approx(float(ta_vwap.iloc[-1]))


def test_volume_surge_is_the_last_volume_over_the_mean_of_the_bars_before() -> None:
    params = TechnicalParams(volume_surge_window=3)
    frame = _frame([10.0] * 5, volumes=[9999.0, 100.0, 200.0, 300.0, 800.0])

    assert _at_open(frame, params).volume_surge == pytest.approx(4.0)


def test_volume_surge_is_none_when_the_bars_before_never_traded() -> None:
    params = TechnicalParams(volume_surge_window=3)
    frame = _frame([10.0] * 4, volumes=[0.0, 0.0, 0.0, 800.0])

    assert _at_open(frame, params).volume_surge is None


# field, bars it needs with the default windows (see the module doc)
MINIMUM_BARS = [
    ("rsi", 14),
    ("macd", 26),
    ("macd_signal", 34),
    ("macd_histogram", 34),
    ("ema_fast", 9),
    ("ema_slow", 20),
    ("atr", 14),
    ("bollinger_upper", 20),
    ("bollinger_middle", 20),
    ("bollinger_lower", 20),
    ("bollinger_percent_b", 20),
    ("volume_surge", 21),
]


@pytest.mark.parametrize(("field", "needed"), MINIMUM_BARS)
def test_an_indicator_is_none_below_its_minimum_bars_and_a_number_from_it(
    field: str, needed: int
) -> None:
    closes = [10.0 + math.sin(i) for i in range(needed)]
    frame = _frame(closes, highs=[c + 0.1 for c in closes], lows=[c - 0.1 for c in closes])

    short = _at_open(frame.iloc[:-1])
    enough = _at_open(frame)

    assert getattr(short, field) is None
    value = getattr(enough, field)
    assert isinstance(value, float)
    assert math.isfinite(value)


def test_an_empty_frame_gives_no_indicators_and_zero_bars() -> None:
    result = _at_open(empty_bars())
    assert result == Technicals(bars=0)
    assert daily_atr(empty_bars()) is None


def test_one_bar_gives_only_its_vwap() -> None:
    frame = _frame([10.0], highs=[11.0], lows=[9.5])
    result = _at_open(frame)

    assert result.vwap == pytest.approx((11.0 + 9.5 + 10.0) / 3)
    assert result == Technicals(vwap=result.vwap, bars=1)
    assert daily_atr(frame) is None


def test_daily_atr_needs_its_window_of_days() -> None:
    days = _frame([30.0] * 13, highs=[31.0] * 13, lows=[29.0] * 13, step=timedelta(days=1))

    assert daily_atr(days) is None
    assert daily_atr(days, window=5) == pytest.approx(2.0)


def test_every_symbol_is_computed_from_its_own_bars() -> None:
    # A guard for any future wide-frame rewrite: a short or gapped neighbour changes nothing.
    long = _frame([10.0 + math.sin(i / 3) for i in range(60)])
    short = _frame([20.0 + math.cos(i) for i in range(25)], start=OPEN + timedelta(minutes=35))
    gapped = pd.concat([long.iloc[:20], long.iloc[30:]])
    results = compute_technicals({"LONG": long, "SHORT": short, "GAP": gapped}, OPEN, DEFAULTS)

    assert results["LONG"] == _at_open(long)
    assert results["SHORT"] == _at_open(short)
    assert results["GAP"] == _at_open(gapped)
    assert results["SHORT"].macd is None
    assert results["SHORT"].bars == 25


def test_as_dict_is_strict_json_with_every_field() -> None:
    result = _at_open(_frame(_ramp(40)))
    stored = json.loads(json.dumps(result.as_dict(), allow_nan=False))

    assert stored["rsi"] == 100.0
    assert stored["bars"] == 40
    assert Technicals(**stored) == result


def test_a_naive_session_open_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_technicals({}, datetime(2026, 11, 24, 9, 30), DEFAULTS)


@pytest.mark.parametrize(
    "overrides",
    [{"rsi_window": 0}, {"macd_fast": 26}, {"bollinger_std": 0.0}, {"volume_surge_window": -1}],
)
def test_params_refuse_windows_that_mean_nothing(overrides: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="TechnicalParams"):
        TechnicalParams(**overrides)


# One bar as (move from the last close, wick above, wick below, volume); zeros are common on
# purpose (flat runs, doji bars, untraded minutes).
_bar_steps = st.tuples(
    st.one_of(st.just(0.0), st.floats(min_value=-0.05, max_value=0.05)),
    st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=0.02)),
    st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=0.02)),
    st.one_of(st.just(0), st.integers(min_value=0, max_value=1_000_000)),
)


@st.composite
def bars_and_session(draw: st.DrawFn) -> tuple[pd.DataFrame, datetime]:
    """A valid bars frame (a random walk) and a session open anywhere from its first bar to after
    its last (all pre-market)."""
    steps = draw(st.lists(_bar_steps, max_size=70))
    price = draw(st.floats(min_value=1.0, max_value=1000.0))
    opens, highs, lows, closes, volumes = [], [], [], [], []
    for move, above, below, volume in steps:
        close = price * (1 + move)
        opens.append(price)
        closes.append(close)
        highs.append(max(price, close) * (1 + above))
        lows.append(min(price, close) * (1 - below))
        volumes.append(float(volume))
        price = close
    frame = _frame(closes, highs=highs, lows=lows, volumes=volumes)
    if steps:
        frame["open"] = opens
    open_at = draw(st.integers(min_value=0, max_value=len(steps)))
    return frame, OPEN + timedelta(minutes=open_at)


small_windows = st.integers(min_value=1, max_value=30)
params_strategy = st.one_of(
    st.just(DEFAULTS),
    st.builds(
        lambda fast, extra, **rest: TechnicalParams(macd_fast=fast, macd_slow=fast + extra, **rest),
        fast=small_windows,
        extra=st.integers(min_value=1, max_value=10),
        rsi_window=small_windows,
        macd_signal=small_windows,
        ema_fast=small_windows,
        ema_slow=small_windows,
        atr_window=small_windows,
        bollinger_window=small_windows,
        bollinger_std=st.floats(min_value=0.5, max_value=4.0),
        volume_surge_window=small_windows,
    ),
)


@settings(max_examples=120, deadline=None)
@given(bars_and_session(), params_strategy)
def test_indicators_stay_sane_on_any_valid_bars(
    drawn: tuple[pd.DataFrame, datetime], params: TechnicalParams
) -> None:
    frame, session_open = drawn
    result = compute_symbol_technicals(frame, session_open, params)

    for name, value in result.as_dict().items():
        assert value is None or math.isfinite(value), name
    assert result.bars == len(frame)
    if result.rsi is not None:
        assert 0.0 <= result.rsi <= 100.0
    if result.atr is not None:
        assert result.atr >= 0.0
    bands = (result.bollinger_lower, result.bollinger_middle, result.bollinger_upper)
    assert all(band is None for band in bands) or all(band is not None for band in bands)
    if result.bollinger_lower is not None:
        assert result.bollinger_lower <= result.bollinger_middle <= result.bollinger_upper
    session = frame[frame.index >= pd.Timestamp(session_open)]
    if result.vwap is not None:
        rounding = 1e-12 * result.vwap  # a one-price bar's (3p)/3 can be an ulp off p
        assert session["low"].min() - rounding <= result.vwap <= session["high"].max() + rounding
    else:
        assert session.empty or session["volume"].sum() == 0
    assert (result.ema_fast is None) == (len(frame) < params.ema_fast)
    assert (result.rsi is None) == (len(frame) < params.rsi_window)
    assert (result.atr is None) == (len(frame) < params.atr_window)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(min_value=1, max_value=30).flatmap(
        lambda window: st.tuples(
            st.just(window),
            st.lists(
                st.tuples(
                    st.floats(min_value=1.0, max_value=500.0),  # close
                    st.floats(min_value=0.0, max_value=5.0),  # high above it
                    st.floats(min_value=0.0, max_value=5.0),  # low below it
                ),
                min_size=window,
                max_size=400,
            ),
        )
    )
)
def test_the_vectorised_atr_is_tas_average_true_range(
    case: tuple[int, list[tuple[float, float, float]]],
) -> None:
    window, rows = case
    close = pd.Series([c for c, _, _ in rows])
    high = close + pd.Series([up for _, up, _ in rows])
    low = close - pd.Series([down for _, _, down in rows])
    expected = AverageTrueRange(high, low, close, window=window).average_true_range().iloc[-1]

    got = wilder_atr_last(high.to_numpy(), low.to_numpy(), close.to_numpy(), window)

    assert got == pytest.approx(float(expected), rel=1e-9, abs=1e-12)
