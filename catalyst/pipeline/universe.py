"""Stage 1: keep tradable US-listed equities whose snapshot is complete, fresh and sane.

The stage runs in two steps so that the broker is asked for as little as possible: the asset
screen (tradable, listed on a US exchange, first of its symbol, and, once a snapshot was seen
today, a price near the band and the previous session's dollar volume at the floor) runs
*before* snapshots are fetched, the snapshot screen after. Every rejection carries a
`SkipReason`; the cycle counts them per reason (one summary line, not one line per symbol).

The liquidity floor (`strategy.universe.min_previous_dollar_volume`) is on the *previous*
session's dollar volume (its close x its volume, in every snapshot all day), so it is the same
for every scan of a day: the day's first scan learns it from the snapshots it fetches anyway, and
the later ones do not ask for the snapshots of names below it. Its cost: a name that traded less
than the floor yesterday is not scanned today, even if a catalyst wakes it up this morning.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from catalyst.domain.models import Asset, Snapshot
from catalyst.pipeline.candidates import StageRejection, StageResult, UniverseMember
from catalyst.pipeline.numbers import is_finite_price, is_positive_price

# Alpaca's exchange codes for listed US equities. OTC, crypto and the rest are out of scope.
US_EQUITY_EXCHANGES = frozenset({"AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA"})
DEFAULT_MAX_SPREAD_PCT = Decimal("0.05")
# A price known from an earlier snapshot today is trusted to within this factor: a symbol that
# traded at a third of the minimum price (or three times the maximum) is not worth a snapshot.
KNOWN_PRICE_SLACK = Decimal("3")


class SkipReason(StrEnum):
    """Why the universe left a symbol out. `is_bad_data`: the data is broken, not the symbol."""

    NOT_TRADABLE = "not_tradable"
    NOT_US_LISTED = "not_us_listed"
    DUPLICATE = "duplicate"
    FAR_FROM_PRICE_BAND = "far_from_price_band"
    NO_SNAPSHOT = "no_snapshot"
    WRONG_SYMBOL = "wrong_symbol"
    INVALID_PRICE = "invalid_price"
    NO_VOLUME = "no_volume"
    INVALID_TIMESTAMP = "invalid_timestamp"
    STALE = "stale"
    INVALID_QUOTE = "invalid_quote"
    CROSSED_QUOTE = "crossed_quote"
    WIDE_SPREAD = "wide_spread"
    OUTSIDE_PRICE_BAND = "outside_price_band"
    BELOW_LIQUIDITY_FLOOR = "below_liquidity_floor"

    @property
    def is_bad_data(self) -> bool:
        return self in _BAD_DATA


_BAD_DATA = frozenset(
    {
        SkipReason.NO_SNAPSHOT,
        SkipReason.WRONG_SYMBOL,
        SkipReason.INVALID_PRICE,
        SkipReason.NO_VOLUME,
        SkipReason.INVALID_TIMESTAMP,
        SkipReason.STALE,
        SkipReason.INVALID_QUOTE,
        SkipReason.CROSSED_QUOTE,
        SkipReason.WIDE_SPREAD,
    }
)

_Problem = tuple[SkipReason, str]


def previous_dollar_volume(snapshot: Snapshot) -> float:
    """The previous session's close x its volume, in USD (0 when either is unusable)."""
    dollars = float(snapshot.prev_close) * max(snapshot.prev_volume, 0)
    return dollars if math.isfinite(dollars) and dollars > 0 else 0.0


def most_liquid(members: Sequence[UniverseMember], n: int) -> list[str]:
    """The `n` symbols of `members` whose previous session traded the most dollars, most
    first (ties by symbol, so the choice repeats)."""
    ranked = sorted(members, key=lambda m: (-previous_dollar_volume(m.snapshot), m.symbol))
    return [m.symbol for m in ranked[: max(n, 0)]]


def screen_assets(
    assets: Sequence[Asset],
    *,
    exchanges: frozenset[str] = US_EQUITY_EXCHANGES,
    known_prices: Mapping[str, Decimal] | None = None,
    price_band: tuple[Decimal, Decimal] | None = None,
    known_dollar_volumes: Mapping[str, float] | None = None,
    min_previous_dollar_volume: float = 0.0,
) -> StageResult[Asset]:
    """The assets worth a snapshot: tradable, on one of `exchanges`, the first with its symbol,
    (when `known_prices` holds a price seen earlier today) within `KNOWN_PRICE_SLACK` of
    `price_band`, and (when `known_dollar_volumes` holds the previous session's dollar volume,
    `previous_dollar_volume`, seen earlier today) at least `min_previous_dollar_volume` (0: no
    floor). Order is kept."""
    kept: list[Asset] = []
    rejected: list[StageRejection] = []
    seen: set[str] = set()
    for asset in assets:
        problem = _asset_problem(asset, seen, exchanges)
        # The floor first: it is fixed for the day, so every later scan counts the same names.
        if problem is None and known_dollar_volumes is not None:
            known = known_dollar_volumes.get(asset.symbol)
            if known is not None:
                problem = _below_floor(known, min_previous_dollar_volume)
        if problem is None and known_prices is not None and price_band is not None:
            problem = _far_from_band(known_prices.get(asset.symbol), price_band)
        seen.add(asset.symbol)
        if problem is None:
            kept.append(asset)
        else:
            rejected.append(StageRejection(asset.symbol, problem[1], problem[0]))
    return StageResult(kept=tuple(kept), rejected=tuple(rejected))


def screen_snapshots(
    assets: Sequence[Asset],
    snapshots: Mapping[str, Snapshot],
    *,
    min_price: Decimal,
    max_price: Decimal,
    now: datetime,
    max_quote_age: timedelta,
    max_spread_pct: Decimal = DEFAULT_MAX_SPREAD_PCT,
    min_previous_dollar_volume: float = 0.0,
) -> StageResult[UniverseMember]:
    """Split screened `assets` into members and rejections by their snapshots.

    A member has a snapshot whose last price and previous close are finite and positive, whose
    volume (today's, or the previous session's before the open) is positive, whose last trade is
    no older than `max_quote_age` at `now` (a halted symbol stops trading and goes stale), whose
    bid/ask spread (when both sides are quoted) is at most `max_spread_pct` of the mid, and whose
    last price lies in [min_price, max_price], and whose previous session traded at least
    `min_previous_dollar_volume` (`previous_dollar_volume`; 0: no floor). Before the open the
    caller passes a
    `max_quote_age` long enough to accept the previous session's last trade. `now` must be
    timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("screen_snapshots needs a timezone-aware `now`")
    kept: list[UniverseMember] = []
    rejected: list[StageRejection] = []
    for asset in assets:
        snapshot = snapshots.get(asset.symbol)
        problem = _snapshot_problem(
            asset.symbol,
            snapshot,
            now=now,
            max_quote_age=max_quote_age,
            max_spread_pct=max_spread_pct,
            price_band=(min_price, max_price),
        )
        if problem is None and snapshot is not None:
            problem = _below_floor(previous_dollar_volume(snapshot), min_previous_dollar_volume)
        if problem is None and snapshot is not None:
            kept.append(UniverseMember(asset=asset, snapshot=snapshot))
        else:
            kind, detail = problem or (SkipReason.NO_SNAPSHOT, "no snapshot")
            rejected.append(StageRejection(asset.symbol, detail, kind))
    return StageResult(kept=tuple(kept), rejected=tuple(rejected))


def screen_universe(
    assets: Sequence[Asset],
    snapshots: Mapping[str, Snapshot],
    *,
    min_price: Decimal,
    max_price: Decimal,
    now: datetime,
    max_quote_age: timedelta,
    max_spread_pct: Decimal = DEFAULT_MAX_SPREAD_PCT,
    exchanges: frozenset[str] = US_EQUITY_EXCHANGES,
    min_previous_dollar_volume: float = 0.0,
) -> StageResult[UniverseMember]:
    """Both steps at once (`screen_assets`, then `screen_snapshots`), rejections in that order."""
    listed = screen_assets(assets, exchanges=exchanges)
    members = screen_snapshots(
        listed.kept,
        snapshots,
        min_price=min_price,
        max_price=max_price,
        now=now,
        max_quote_age=max_quote_age,
        max_spread_pct=max_spread_pct,
        min_previous_dollar_volume=min_previous_dollar_volume,
    )
    return StageResult(kept=members.kept, rejected=listed.rejected + members.rejected)


def with_sectors(assets: Iterable[Asset], overrides: Mapping[str, str]) -> tuple[Asset, ...]:
    """`assets` with the configured sector overrides in place of the broker's sectors."""
    return tuple(
        replace(a, sector=overrides[a.symbol]) if a.symbol in overrides else a for a in assets
    )


def count_by_reason(rejected: Sequence[StageRejection]) -> dict[str, int]:
    """How many rejections of each kind, most frequent first (ties by name): for the summary."""
    counts: dict[str, int] = {}
    for rejection in rejected:
        key = str(rejection.kind) if rejection.kind is not None else "other"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _asset_problem(asset: Asset, seen: set[str], exchanges: frozenset[str]) -> _Problem | None:
    if asset.symbol in seen:
        # The broker can list a symbol twice (one copy untradable); the first copy decides.
        return SkipReason.DUPLICATE, "duplicate asset for symbol"
    if not asset.tradable:
        return SkipReason.NOT_TRADABLE, "not tradable"
    if asset.exchange not in exchanges:
        return SkipReason.NOT_US_LISTED, f"not a US-listed equity (exchange {asset.exchange!r})"
    return None


def _far_from_band(known: Decimal | None, band: tuple[Decimal, Decimal]) -> _Problem | None:
    if known is None or not is_positive_price(known):
        return None
    low, high = band
    if known * KNOWN_PRICE_SLACK < low or known > high * KNOWN_PRICE_SLACK:
        return (
            SkipReason.FAR_FROM_PRICE_BAND,
            f"traded at {known} today, far outside [{low}, {high}]",
        )
    return None


def _below_floor(dollars: float, floor: float) -> _Problem | None:
    if floor <= 0 or dollars >= floor:
        return None
    return (
        SkipReason.BELOW_LIQUIDITY_FLOOR,
        f"previous session traded ${dollars:,.0f}, under the ${floor:,.0f} floor",
    )


def _snapshot_problem(
    symbol: str,
    snapshot: Snapshot | None,
    *,
    now: datetime,
    max_quote_age: timedelta,
    max_spread_pct: Decimal,
    price_band: tuple[Decimal, Decimal],
) -> _Problem | None:
    if snapshot is None:
        return SkipReason.NO_SNAPSHOT, "no snapshot"
    if snapshot.symbol != symbol:
        return SkipReason.WRONG_SYMBOL, f"snapshot is for {snapshot.symbol!r}"
    problem = _price_problem(snapshot) or _volume_problem(snapshot)
    if problem is not None:
        return problem
    if snapshot.timestamp.tzinfo is None:
        return SkipReason.INVALID_TIMESTAMP, "snapshot timestamp has no timezone"
    age = now - snapshot.timestamp
    if age > max_quote_age:
        return SkipReason.STALE, f"stale: last trade {int(age.total_seconds())}s old"
    problem = _spread_problem(snapshot, max_spread_pct)
    if problem is not None:
        return problem
    low, high = price_band
    if not low <= snapshot.last_price <= high:
        return SkipReason.OUTSIDE_PRICE_BAND, f"price {snapshot.last_price} outside [{low}, {high}]"
    return None


def _price_problem(snapshot: Snapshot) -> _Problem | None:
    if not is_positive_price(snapshot.last_price):
        return SkipReason.INVALID_PRICE, f"invalid last price {snapshot.last_price}"
    if not is_positive_price(snapshot.prev_close):
        return SkipReason.INVALID_PRICE, f"invalid previous close {snapshot.prev_close}"
    for name, value in (
        ("day open", snapshot.day_open),
        ("day high", snapshot.day_high),
        ("day low", snapshot.day_low),
    ):
        # Zero is allowed: before the open there is no session bar yet.
        if not is_finite_price(value) or value < 0:
            return SkipReason.INVALID_PRICE, f"invalid {name} {value}"
    if snapshot.day_volume > 0 and snapshot.day_open <= 0:
        return SkipReason.INVALID_PRICE, "volume today but no day open"
    return None


def _volume_problem(snapshot: Snapshot) -> _Problem | None:
    if snapshot.day_volume < 0 or snapshot.prev_volume < 0:
        return SkipReason.NO_VOLUME, "negative volume"
    if snapshot.day_volume == 0 and snapshot.prev_volume == 0:
        return SkipReason.NO_VOLUME, "zero volume"
    return None


def _spread_problem(snapshot: Snapshot, max_spread_pct: Decimal) -> _Problem | None:
    bid, ask = snapshot.bid, snapshot.ask
    if bid is None or ask is None:
        return None
    if not is_finite_price(bid) or not is_finite_price(ask) or bid < 0 or ask < 0:
        return SkipReason.INVALID_QUOTE, f"invalid quote {bid} / {ask}"
    if bid == 0 or ask == 0:
        return None  # one side not quoted (common pre-market): no spread to judge
    if ask < bid:
        return SkipReason.CROSSED_QUOTE, f"crossed quote {bid} / {ask}"
    mid = (bid + ask) / 2
    spread = (ask - bid) / mid
    if spread > max_spread_pct:
        return SkipReason.WIDE_SPREAD, f"spread {spread:.2%} of mid exceeds {max_spread_pct:.2%}"
    return None
