"""The frozen records that flow through the scan pipeline and into the risk rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from catalyst.domain.models import Asset, Snapshot

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StageRejection:
    """One symbol a stage dropped, and why: `reason` for a person, `kind` for counting."""

    symbol: str
    reason: str
    kind: StrEnum | None = None


@dataclass(frozen=True, slots=True)
class StageResult(Generic[T]):
    """What a stage kept, in order, and what it dropped with reasons."""

    kept: tuple[T, ...]
    rejected: tuple[StageRejection, ...]


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
    gap_pct: float  # day open vs previous close, in percent (0 before the open)
    relative_volume: float  # volume so far over the volume expected by now
    news_count: int  # distinct news items mentioning the symbol


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored symbol. `confidence` is in [0, 1]; `reasons` explain it to a person."""

    symbol: str
    sector: str | None
    last_price: Decimal
    confidence: float
    features: CatalystFeatures
    reasons: tuple[str, ...]
