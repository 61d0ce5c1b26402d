"""The `strategy` section of trading_config.yaml: the funnel's sizes, weights and stops.

Defaults here are the funnel's documented defaults (the pipeline modules explain each formula);
the pattern detectors and the technicals take `PatternParams` and `TechnicalParams` as they are.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Weight = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=1, le=1000)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ScanStrategy(StrEnum):
    """How a cycle picks its candidates (`strategy.kind`)."""

    FUNNEL = "funnel"  # most active → catalysts → patterns + technicals → rank
    CATALYST_SCORE = "catalyst_score"  # the single catalyst score Catalyst ranked by before


class CatalystWeights(_Frozen):
    """How the catalyst filter weighs its features (they need not sum to 1)."""

    momentum: Weight = 0.30
    relative_volume: Weight = 0.30
    gap: Weight = 0.15
    news: Weight = 0.25

    @model_validator(mode="after")
    def _some_weight(self) -> CatalystWeights:
        if self.momentum + self.relative_volume + self.gap + self.news <= 0:
            raise ValueError("at least one catalyst weight must be above 0")
        return self


class RankWeights(_Frozen):
    """How the final rank weighs the catalyst score, the best pattern and the technicals."""

    catalyst: Annotated[float, Field(gt=0, le=1)] = 0.50
    pattern: Weight = 0.25
    technicals: Weight = 0.25


class PatternParams(_Frozen):
    """Every threshold of the five chart-pattern detectors (`catalyst.pipeline.patterns`).

    Bar counts for the bull flag and higher lows are counted in their own bar size
    (`flag_bar_minutes`, `higher_lows_bar_minutes`); the others in 1-minute bars.
    """

    # Opening-range breakout (1-minute bars).
    opening_range_minutes: Count = 15  # the range is the first 15 minutes of the session
    opening_range_min_bars: Count = 3  # fewer bars than this (a halt, no trades) is no range
    # The breakout bar's volume over the average bar before it: the ORB compares with the
    # opening range's bars, the previous-day-high breakout with all of today's earlier bars.
    breakout_volume_multiple: Positive = 1.5

    # Bull flag (5-minute bars).
    flag_bar_minutes: Count = 5
    flag_pole_min_pct: Positive = 3.0  # the pole rises at least 3 % from its base to its top
    flag_pole_max_bars: Count = 6  # the pole's base is looked for at most 6 bars before its top
    flag_max_retrace: Annotated[float, Field(gt=0, le=1)] = 0.5  # the flag gives back <= half
    flag_min_bars: Count = 2  # a flag lasts 2 to 8 bars after the pole's top
    flag_max_bars: Count = 8

    # Breakout above the previous day's high (1-minute bars, pre-market included).
    pdh_min_bars_above: Count = 2  # closes above the level in a row: one print is not a hold
    pdh_max_extension_pct: Positive = 3.0  # further above the level than 3 % is a run

    # VWAP reclaim (1-minute bars, regular session).
    vwap_reclaim_lookback: Count = 15  # the loss of VWAP happened within the last 15 bars
    vwap_reclaim_hold_bars: Count = 2  # and the last 2 bars closed back above it
    vwap_min_session_bars: Count = 5  # VWAP over fewer session bars is not a level yet
    vwap_full_extension_pct: Positive = 2.0  # strength falls to its floor 2 % above VWAP

    # Higher lows (5-minute bars, regular session).
    higher_lows_bar_minutes: Count = 5
    higher_lows_swing_count: Annotated[int, Field(ge=2, le=50)] = 3  # last 3 swing lows rising
    higher_lows_swing_window: Count = 1  # a swing low is below this many bars either side
    higher_lows_min_rise_pct: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.1
    higher_lows_full_rise_pct: Positive = 1.0  # an average rise of 1 % per swing is full

    @model_validator(mode="after")
    def _ranges(self) -> PatternParams:
        if self.flag_max_bars < self.flag_min_bars:
            raise ValueError("flag_max_bars must be at least flag_min_bars")
        if self.vwap_reclaim_lookback <= self.vwap_reclaim_hold_bars:
            raise ValueError("vwap_reclaim_lookback must exceed vwap_reclaim_hold_bars")
        return self


class TechnicalParams(_Frozen):
    """Indicator windows (`catalyst.pipeline.technicals`), in bars of the frame given."""

    rsi_window: Count = 14
    macd_fast: Count = 12
    macd_slow: Count = 26
    macd_signal: Count = 9
    ema_fast: Count = 9
    ema_slow: Count = 20
    atr_window: Count = 14
    bollinger_window: Count = 20
    bollinger_std: Positive = 2.0  # band half-width, in population standard deviations
    volume_surge_window: Count = 20  # the last bar's volume over the mean of the N before it

    @model_validator(mode="after")
    def _macd_order(self) -> TechnicalParams:
        if self.macd_fast >= self.macd_slow:
            raise ValueError(
                f"macd_fast ({self.macd_fast}) must be below macd_slow ({self.macd_slow})"
            )
        return self


class StrategyConfig(_Frozen):
    kind: ScanStrategy = ScanStrategy.FUNNEL
    catalyst_count: Annotated[int, Field(gt=0, le=1000)] = 50
    technical_count: Annotated[int, Field(gt=0, le=500)] = 20
    catalyst_weights: CatalystWeights = CatalystWeights()
    rank_weights: RankWeights = RankWeights()
    news_lookback_hours: Annotated[float, Field(gt=0, le=168)] = 24.0
    news_half_life_hours: Annotated[float, Field(gt=0, le=168)] = 4.0
    atr_stop_multiple: Annotated[float, Field(gt=0, le=5)] = 0.5
    min_stop_pct: Annotated[float, Field(ge=0, lt=0.5)] = 0.005
    patterns: PatternParams = PatternParams()
    technicals: TechnicalParams = TechnicalParams()

    @model_validator(mode="after")
    def _counts_narrow(self) -> StrategyConfig:
        if self.technical_count > self.catalyst_count:
            raise ValueError("technical_count must not exceed catalyst_count")
        return self
