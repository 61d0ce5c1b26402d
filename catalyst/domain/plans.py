"""What the pipeline proposes and the risk rules judge: one long bracket entry."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


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
