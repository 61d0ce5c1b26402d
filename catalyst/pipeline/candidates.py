"""The frozen records that flow through the scan pipeline and into the risk rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from catalyst.domain.models import Asset, Snapshot

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StageRejection:
    """One symbol a stage dropped, and why (for the funnel log)."""

    symbol: str
    reason: str


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


@dataclass(frozen=True, slots=True)
class TradePlan:
    """A long bracket entry: buy `qty` near `entry_price`, stop below, take profit above.

    Construction enforces the shape every later step relies on: whole shares >= 1 and finite prices
    with 0 < stop < entry < target. `max_loss` assumes the stop fills at its price; a gap through
    the stop can lose more.
    """

    symbol: str
    sector: str | None
    qty: int
    entry_price: Decimal
    stop_price: Decimal
    target_price: Decimal
    confidence: float

    def __post_init__(self) -> None:
        if self.qty < 1:
            raise ValueError(f"{self.symbol}: plan qty must be >= 1, got {self.qty}")
        prices = (self.stop_price, self.entry_price, self.target_price)
        if not all(isinstance(p, Decimal) and p.is_finite() for p in prices):
            raise ValueError(f"{self.symbol}: plan prices must be finite Decimals")
        if not Decimal(0) < self.stop_price < self.entry_price < self.target_price:
            raise ValueError(
                f"{self.symbol}: plan needs 0 < stop < entry < target, got "
                f"{self.stop_price} / {self.entry_price} / {self.target_price}"
            )

    @property
    def risk_per_share(self) -> Decimal:
        return self.entry_price - self.stop_price

    @property
    def max_loss(self) -> Decimal:
        return self.risk_per_share * self.qty

    @property
    def notional(self) -> Decimal:
        return self.entry_price * self.qty

    @property
    def reward_risk(self) -> Decimal:
        return (self.target_price - self.entry_price) / self.risk_per_share
