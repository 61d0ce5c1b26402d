"""The `strategy` section of trading_config.yaml: every size, weight and threshold of the funnel.

Each stage of `catalyst.pipeline` takes its section as it is (`UniverseParams`, `CatalystParams`,
`PatternParams`, `TechnicalParams`, `RankParams`); the stops and the news score are built from
`StopSettings` and `NewsSettings` by the scan. The pipeline modules document what each number does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from catalyst.domain.news_classes import KeywordRuleError, parse_keyword_rules

Weight = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=1, le=1000)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Percent = Annotated[float, Field(ge=0, le=100)]
Hours = Annotated[float, Field(gt=0, le=168)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ScanStrategy(StrEnum):
    """How a cycle picks its candidates (`strategy.kind`)."""

    FUNNEL = "funnel"  # most active → catalysts → patterns + technicals → rank
    CATALYST_SCORE = "catalyst_score"  # the single catalyst score Catalyst ranked by before


class UniverseParams(_Frozen):
    """The universe's liquidity floor (`catalyst.pipeline.universe`)."""

    # USD the previous session must have traded (its close x its volume); 0 turns it off.
    min_previous_dollar_volume: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1_000_000.0


class CatalystParams(_Frozen):
    """The catalyst filter (`catalyst.pipeline.catalysts`): how many it keeps, how it weighs."""

    keep: Count = 50
    momentum_weight: Weight = 0.30
    volume_weight: Weight = 0.30
    gap_weight: Weight = 0.15
    news_weight: Weight = 0.25
    momentum_full_pct: Positive = 4.0  # momentum scoring full marks
    rel_volume_full: Annotated[float, Field(gt=1, allow_inf_nan=False)] = 5.0
    gap_full_pct: Positive = 5.0
    falling_zero_pct: Positive = 2.0  # a fall of this much scores 0

    @model_validator(mode="after")
    def _some_weight(self) -> CatalystParams:
        weights = self.momentum_weight + self.volume_weight + self.gap_weight + self.news_weight
        if weights <= 0:
            raise ValueError("at least one catalyst weight must be above 0")
        return self


class RankParams(_Frozen):
    """The final rank (`catalyst.pipeline.ranking`): how many it keeps, its weights and bands."""

    keep: Count = 20
    catalyst_weight: Annotated[float, Field(gt=0, le=1)] = 0.50
    pattern_weight: Weight = 0.25
    technical_weight: Weight = 0.25
    rsi_floor: Percent = 40.0
    rsi_low: Percent = 50.0
    rsi_high: Percent = 70.0
    rsi_ceiling: Percent = 85.0
    surge_full: Annotated[float, Field(gt=1, allow_inf_nan=False)] = 3.0

    @model_validator(mode="after")
    def _rsi_bands(self) -> RankParams:
        if not self.rsi_floor < self.rsi_low <= self.rsi_high < self.rsi_ceiling:
            raise ValueError("rank needs rsi_floor < rsi_low <= rsi_high < rsi_ceiling")
        return self


class StopSettings(_Frozen):
    """The proposed stop (`catalyst.pipeline.stops`); the widest is `workflow.stop_loss_pct`."""

    atr_multiple: Annotated[float, Field(gt=0, le=5)] = 0.5
    min_stop_pct: Annotated[float, Field(ge=0, lt=0.5)] = 0.005
    invalidation_buffer_pct: Annotated[float, Field(ge=0, lt=0.1)] = 0.001


class NewsSettings(_Frozen):
    """The news score (`catalyst.pipeline.news`) and the keyword classes added to the defaults."""

    lookback_hours: Hours = 24.0
    half_life_hours: Hours = 4.0
    unmatched_weight: Annotated[float, Field(ge=-1, le=1)] = 0.05
    headline_cap: Positive = 1.5
    saturation: Positive = 1.0
    max_headlines: Annotated[int, Field(ge=0, le=50)] = 5
    # news class -> {phrases: [...], weight: x}; replaces that class's default rule.
    keywords: dict[str, Any] = Field(default_factory=dict)

    @field_validator("keywords")
    @classmethod
    def _keyword_rules(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_keyword_rules(value)
        except KeywordRuleError as exc:
            raise ValueError(str(exc)) from None
        return value


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
    universe: UniverseParams = UniverseParams()
    catalysts: CatalystParams = CatalystParams()
    patterns: PatternParams = PatternParams()
    technicals: TechnicalParams = TechnicalParams()
    rank: RankParams = RankParams()
    stops: StopSettings = StopSettings()
    news: NewsSettings = NewsSettings()

    @model_validator(mode="after")
    def _counts_narrow(self) -> StrategyConfig:
        if self.rank.keep > self.catalysts.keep:
            raise ValueError("rank.keep must not exceed catalysts.keep")
        return self
