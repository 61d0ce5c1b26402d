"""The simulated stock universe: symbols, names, sectors, tradability and each name's character.

The universe depends on the seed only, never on the date, so the same symbols trade every simulated
day and positions carry over a day rollover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from catalyst.domain.models import Asset
from catalyst.domain.sectors import GICS_SECTORS

_EXCHANGES = ("NASDAQ", "NYSE", "ARCA")
_NAME_SUFFIXES = ("Holdings", "Corp", "Inc", "Group", "Technologies", "Industries", "Partners")
_THREE_LETTER = 26**3
_FOUR_LETTER = 26**4
# Fractions of the universe with special properties (see build_universe).
_UNKNOWN_SECTOR_FRACTION = 0.02
_UNTRADABLE_FRACTION = 0.01
_SUB_DOLLAR_FRACTION = 0.015
_UNIVERSE_STREAM = 0x554E4956  # keeps the universe's random stream apart from the daily ones


@dataclass(frozen=True, slots=True, eq=False)
class Universe:
    """Column `i` of every per-symbol array belongs to `symbols[i]` (sorted alphabetically)."""

    seed: int
    symbols: tuple[str, ...]
    names: tuple[str, ...]
    exchanges: tuple[str, ...]
    sectors: tuple[str | None, ...]
    tradable: npt.NDArray[np.bool_]
    base_price: npt.NDArray[np.float64]  # a typical price, the start of a fresh history
    avg_volume: npt.NDArray[np.float64]  # typical shares per regular session
    daily_vol: npt.NDArray[np.float64]  # daily log-return standard deviation
    index: Mapping[str, int]

    @property
    def size(self) -> int:
        """Number of symbols."""
        return len(self.symbols)

    def column(self, symbol: str) -> int | None:
        """The array column of `symbol`, or None for an unknown symbol."""
        return self.index.get(symbol)

    def asset(self, column: int) -> Asset:
        """The domain `Asset` for one column."""
        return Asset(
            symbol=self.symbols[column],
            name=self.names[column],
            exchange=self.exchanges[column],
            sector=self.sectors[column],
            tradable=bool(self.tradable[column]),
        )


def build_universe(seed: int, n_symbols: int) -> Universe:
    """A deterministic universe of `n_symbols` unique 3-4 letter tickers for `seed`."""
    if n_symbols <= 0:
        raise ValueError("n_symbols must be positive")
    if n_symbols > _THREE_LETTER + _FOUR_LETTER:
        raise ValueError("n_symbols exceeds the number of 3-4 letter tickers")
    rng = np.random.default_rng([seed, _UNIVERSE_STREAM])
    symbols = tuple(sorted(_tickers(rng, n_symbols)))

    sector_codes = rng.integers(0, len(GICS_SECTORS), n_symbols)
    unknown_sector = rng.random(n_symbols) < _UNKNOWN_SECTOR_FRACTION
    sectors = tuple(
        None if unknown else GICS_SECTORS[int(code)]
        for code, unknown in zip(sector_codes, unknown_sector, strict=True)
    )
    tradable = rng.random(n_symbols) >= _UNTRADABLE_FRACTION
    exchanges = tuple(_EXCHANGES[int(i)] for i in rng.choice(3, n_symbols, p=[0.6, 0.35, 0.05]))
    suffixes = rng.integers(0, len(_NAME_SUFFIXES), n_symbols)
    names = tuple(
        f"{symbol.title()} {_NAME_SUFFIXES[int(s)]}"
        for symbol, s in zip(symbols, suffixes, strict=True)
    )

    # Log-uniform $1-$400, plus a few penny stocks between $0.20 and $1.
    base_price = np.exp(rng.uniform(np.log(1.0), np.log(400.0), n_symbols))
    sub_dollar = rng.random(n_symbols) < _SUB_DOLLAR_FRACTION
    base_price = np.where(sub_dollar, rng.uniform(0.2, 0.99, n_symbols), base_price)
    avg_volume = np.exp(rng.uniform(np.log(2e5), np.log(3e7), n_symbols))
    daily_vol = rng.uniform(0.01, 0.04, n_symbols) * np.where(sub_dollar, 2.0, 1.0)
    return Universe(
        seed=seed,
        symbols=symbols,
        names=names,
        exchanges=exchanges,
        sectors=sectors,
        tradable=tradable,
        base_price=base_price,
        avg_volume=avg_volume,
        daily_vol=daily_vol,
        index=MappingProxyType({s: i for i, s in enumerate(symbols)}),
    )


def _tickers(rng: np.random.Generator, n_symbols: int) -> list[str]:
    # About 30 % three-letter tickers (as on NYSE), the rest four letters; codes drawn without
    # replacement, so tickers are unique by construction.
    n_three = min(_THREE_LETTER, round(0.3 * n_symbols))
    n_four = n_symbols - n_three
    three = rng.choice(_THREE_LETTER, n_three, replace=False)
    four = rng.choice(_FOUR_LETTER, n_four, replace=False)
    return [_decode(int(code), 3) for code in three] + [_decode(int(code), 4) for code in four]


def _decode(code: int, length: int) -> str:
    letters = []
    for _ in range(length):
        code, digit = divmod(code, 26)
        letters.append(chr(ord("A") + digit))
    return "".join(reversed(letters))
