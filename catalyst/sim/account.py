"""The simulated cash account: cash and long holdings, nothing on margin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from catalyst.domain.models import Position

_AVG_PLACES = Decimal("0.0001")

PriceOf = Callable[[str], Decimal]


@dataclass(slots=True)
class _Holding:
    qty: int
    cost: Decimal  # total cost basis of the shares held


class CashAccount:
    """Cash plus whole-share long holdings. Cash never goes negative and nothing goes short."""

    def __init__(self, cash: Decimal) -> None:
        if cash <= 0:
            raise ValueError("starting cash must be positive")
        self.cash = cash
        self._holdings: dict[str, _Holding] = {}

    def shares(self, symbol: str) -> int:
        """Shares of `symbol` held (0 if none)."""
        holding = self._holdings.get(symbol)
        return 0 if holding is None else holding.qty

    def can_pay(self, notional: Decimal) -> bool:
        """Whether cash covers `notional`."""
        return notional <= self.cash

    def buy(self, symbol: str, qty: int, price: Decimal) -> None:
        """Pay for `qty` shares at `price`; refuses what cash cannot cover."""
        notional = price * qty
        if not self.can_pay(notional):
            raise ValueError(f"cash {self.cash} cannot pay {notional}")
        self.cash -= notional
        holding = self._holdings.setdefault(symbol, _Holding(qty=0, cost=Decimal(0)))
        holding.qty += qty
        holding.cost += notional

    def sell(self, symbol: str, qty: int, price: Decimal) -> None:
        """Sell `qty` held shares at `price`; refuses to sell shares not held."""
        holding = self._holdings.get(symbol)
        if holding is None or qty > holding.qty:
            raise ValueError(f"cannot sell {qty} {symbol}: holding {self.shares(symbol)}")
        self.cash += price * qty
        holding.cost -= holding.cost * qty / holding.qty
        holding.qty -= qty
        if holding.qty == 0:
            del self._holdings[symbol]

    def market_value(self, price_of: PriceOf) -> Decimal:
        """Sum of qty x price over the holdings."""
        return sum((price_of(s) * h.qty for s, h in self._holdings.items()), Decimal(0))

    def positions(self, price_of: PriceOf) -> list[Position]:
        """Every holding as a domain `Position`, by symbol."""
        return [
            Position(
                symbol=symbol,
                qty=holding.qty,
                avg_entry_price=(holding.cost / holding.qty).quantize(_AVG_PLACES),
                current_price=price_of(symbol),
            )
            for symbol, holding in sorted(self._holdings.items())
        ]
