"""The frozen records that flow through the scan pipeline and into the risk rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from catalyst.domain.models import Asset, Snapshot
from catalyst.pipeline.news import NewsScore
from catalyst.pipeline.patterns import PatternMatch
from catalyst.pipeline.technicals import Technicals

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StageRejection:
    """One symbol a stage dropped, and why: `reason` for a person, `kind` for counting."""

    symbol: str
    reason: str
    kind: StrEnum | None = None


@dataclass(frozen=True, slots=True)
class StageResult(Generic[T]):
    """What a stage kept, in order, and what it dropped with reasons.

    `considered` is everything the stage judged, best first, for stages whose dropped items
    carry figures worth journaling (the catalyst filter, the rank); empty for the others.
    """

    kept: tuple[T, ...]
    rejected: tuple[StageRejection, ...]
    considered: tuple[T, ...] = ()


@dataclass(frozen=True, slots=True)
class UniverseMember:
    """A tradable US equity with a usable, fresh snapshot."""

    asset: Asset
    snapshot: Snapshot

    @property
    def symbol(self) -> str:
        return self.asset.symbol

    @property
    def sector(self) -> str | None:
        return self.asset.sector


@dataclass(frozen=True, slots=True)
class CatalystFeatures:
    """The raw, always-finite features a catalyst score is built from."""

    momentum_pct: float  # last vs day open (vs previous close before the open), in percent
    gap_pct: float  # day open (pre-market: last trade) vs previous close, in percent
    relative_volume: float | None  # volume so far over the volume expected by now; None pre-open
    news_count: int  # distinct news items mentioning the symbol
    news_score: float = 0.0  # catalyst.pipeline.news score in [-1, 1]

    def as_dict(self) -> dict[str, float | int | None]:
        """The features for the journal (`scan_results.features`)."""
        return {
            "momentum_pct": round(self.momentum_pct, 4),
            "gap_pct": round(self.gap_pct, 4),
            "relative_volume": (
                None if self.relative_volume is None else round(self.relative_volume, 4)
            ),
            "news_count": self.news_count,
            "news_score": round(self.news_score, 4),
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored symbol. `confidence` is in [0, 1]; `reasons` explain it to a person."""

    symbol: str
    sector: str | None
    last_price: Decimal
    confidence: float
    features: CatalystFeatures
    reasons: tuple[str, ...]
    news: NewsScore | None = None
    catalyst_score: float = 0.0  # the catalyst filter's score, in [0, 1]
    pattern: PatternMatch | None = None  # the best matched chart pattern
    technicals: Technicals | None = None
    stop_price: Decimal | None = None  # the proposed protective stop (pipeline/stops.py)
