"""The `strategy` section of trading_config.yaml: the funnel's sizes, weights and stops.

Defaults here are the funnel's documented defaults (the pipeline modules explain each formula).
Detector thresholds not named here keep the defaults documented in `catalyst.pipeline.patterns`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Weight = Annotated[float, Field(ge=0, le=1)]


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

    @model_validator(mode="after")
    def _counts_narrow(self) -> StrategyConfig:
        if self.technical_count > self.catalyst_count:
            raise ValueError("technical_count must not exceed catalyst_count")
        return self
