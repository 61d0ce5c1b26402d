"""Stage 1: keep tradable US-listed equities whose snapshot is complete, fresh and sane."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from catalyst.domain.models import Asset, Snapshot
from catalyst.pipeline.candidates import StageRejection, StageResult, UniverseMember

# Alpaca's exchange codes for listed US equities. OTC, crypto and the rest are out of scope.
US_EQUITY_EXCHANGES = frozenset({"AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA"})
DEFAULT_MAX_SPREAD_PCT = Decimal("0.05")


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
) -> StageResult[UniverseMember]:
    """Split `assets` into usable members and rejections, each rejection with a reason.

    A member is tradable, listed on one of `exchanges`, the first asset with its symbol, and has a
    snapshot whose last price and previous close are finite and positive, whose volume (today's, or
    the previous session's before the open) is positive, whose last trade is no older than
    `max_quote_age` at `now`, whose bid/ask spread (when both sides are quoted) is at most
    `max_spread_pct` of the mid, and whose last price lies in [min_price, max_price].

    Before the open the caller passes a `max_quote_age` long enough to accept the previous
    session's last trade. `now` must be timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("screen_universe needs a timezone-aware `now`")
    kept: list[UniverseMember] = []
    rejected: list[StageRejection] = []
    seen: set[str] = set()
    for asset in assets:
        snapshot = snapshots.get(asset.symbol)
        reason = _asset_problem(asset, seen, exchanges)
        if reason is None:
            reason = _snapshot_problem(
                asset.symbol,
                snapshot,
                now=now,
                max_quote_age=max_quote_age,
                max_spread_pct=max_spread_pct,
                price_band=(min_price, max_price),
            )
        seen.add(asset.symbol)
        if reason is None and snapshot is not None:
            kept.append(UniverseMember(asset=asset, snapshot=snapshot))
        else:
            rejected.append(StageRejection(asset.symbol, reason or "no snapshot"))
    return StageResult(kept=tuple(kept), rejected=tuple(rejected))


def _asset_problem(asset: Asset, seen: set[str], exchanges: frozenset[str]) -> str | None:
    if asset.symbol in seen:
        # The broker can list a symbol twice (one copy untradable); the first copy decides.
        return "duplicate asset for symbol"
    if not asset.tradable:
        return "not tradable"
    if asset.exchange not in exchanges:
        return f"not a US-listed equity (exchange {asset.exchange!r})"
    return None


def _snapshot_problem(
    symbol: str,
    snapshot: Snapshot | None,
    *,
    now: datetime,
    max_quote_age: timedelta,
    max_spread_pct: Decimal,
    price_band: tuple[Decimal, Decimal],
) -> str | None:
    if snapshot is None:
        return "no snapshot"
    if snapshot.symbol != symbol:
        return f"snapshot is for {snapshot.symbol!r}"
    if not _positive(snapshot.last_price):
        return f"invalid last price {snapshot.last_price}"
    if not _positive(snapshot.prev_close):
        return f"invalid previous close {snapshot.prev_close}"
    for name, value in (
        ("day open", snapshot.day_open),
        ("day high", snapshot.day_high),
        ("day low", snapshot.day_low),
    ):
        # Zero is allowed: before the open there is no session bar yet.
        if not _finite(value) or value < 0:
            return f"invalid {name} {value}"
    if snapshot.day_volume > 0 and snapshot.day_open <= 0:
        return "volume today but no day open"
    if snapshot.day_volume < 0 or snapshot.prev_volume < 0:
        return "negative volume"
    if snapshot.day_volume == 0 and snapshot.prev_volume == 0:
        return "zero volume"
    if snapshot.timestamp.tzinfo is None:
        return "snapshot timestamp has no timezone"
    age = now - snapshot.timestamp
    if age > max_quote_age:
        return f"stale: last trade {int(age.total_seconds())}s old"
    spread_problem = _spread_problem(snapshot, max_spread_pct)
    if spread_problem is not None:
        return spread_problem
    low, high = price_band
    if not low <= snapshot.last_price <= high:
        return f"price {snapshot.last_price} outside [{low}, {high}]"
    return None


def _spread_problem(snapshot: Snapshot, max_spread_pct: Decimal) -> str | None:
    bid, ask = snapshot.bid, snapshot.ask
    if bid is None or ask is None:
        return None
    if not _finite(bid) or not _finite(ask) or bid < 0 or ask < 0:
        return f"invalid quote {bid} / {ask}"
    if bid == 0 or ask == 0:
        return None  # one side not quoted (common pre-market): no spread to judge
    if ask < bid:
        return f"crossed quote {bid} / {ask}"
    mid = (bid + ask) / 2
    spread = (ask - bid) / mid
    if spread > max_spread_pct:
        return f"spread {spread:.2%} of mid exceeds {max_spread_pct:.2%}"
    return None


def _finite(value: Decimal) -> bool:
    # Guard against floats sneaking in as well as Decimal NaN/Infinity; Decimal NaN raises on `<`.
    return (
        isinstance(value, Decimal | int)
        and not isinstance(value, bool)
        and Decimal(value).is_finite()
    )


def _positive(value: Decimal) -> bool:
    return _finite(value) and value > 0
