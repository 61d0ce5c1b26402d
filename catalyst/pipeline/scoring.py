"""Stage 3: turn each member's snapshot, volume history and news into a catalyst confidence.

Features (all finite; odd inputs such as zero averages or infinities fall back to 0):
- momentum %: last vs day open, or vs previous close before the open (no day open yet);
- gap %: day open vs previous close (0 before the open);
- relative volume: day volume / (average daily volume x max(session fraction elapsed, 5 %));
- news count: distinct news items naming the symbol.

Confidence, in [0, 1], is a weighted sum of clipped linear transforms, long only:

    raw = 0.35*clip(momentum / 4 %) + 0.35*clip((rel_vol - 1) / 4) + 0.10*clip(gap / 5 %)
          + 0.20*min(news, 3) / 3
    confidence = raw * direction,  direction = 1 for momentum >= 0, falling linearly to 0 at -2 %

so a +4 % move on 5x normal volume with a +5 % gap and three stories scores 1, and a falling
stock scores low however loud its volume or news. Confidence never decreases when momentum or
relative volume rises with everything else fixed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from catalyst.domain.models import NewsItem
from catalyst.pipeline.candidates import Candidate, CatalystFeatures, UniverseMember
from catalyst.pipeline.numbers import bounded, clip01, is_positive_price, pct_change

MOMENTUM_WEIGHT = 0.35
RELATIVE_VOLUME_WEIGHT = 0.35
GAP_WEIGHT = 0.10
NEWS_WEIGHT = 0.20

MOMENTUM_FULL_PCT = 4.0
RELATIVE_VOLUME_NORMAL = 1.0
RELATIVE_VOLUME_FULL = 5.0
GAP_FULL_PCT = 5.0
NEWS_FULL_COUNT = 3
FALLING_ZERO_PCT = 2.0  # momentum at or below -2 % scores 0
SESSION_FRACTION_FLOOR = 0.05  # the first minutes' volume is not extrapolated to a whole day


def score_catalysts(
    members: Sequence[UniverseMember],
    *,
    avg_daily_volume: Mapping[str, float],
    news: Sequence[NewsItem],
    session_fraction_elapsed: float,
) -> list[Candidate]:
    """Score every member (in input order). Never raises on odd numbers; see the module doc."""
    news_ids: dict[str, set[str]] = {}
    for item in news:
        for symbol in item.symbols:
            news_ids.setdefault(symbol, set()).add(item.id)
    fraction = _session_fraction(session_fraction_elapsed)
    candidates = []
    for member in members:
        features, reasons = _features(
            member,
            avg_daily_volume.get(member.symbol),
            len(news_ids.get(member.symbol, ())),
            fraction,
        )
        candidates.append(
            Candidate(
                symbol=member.symbol,
                sector=member.sector,
                last_price=member.snapshot.last_price,
                confidence=confidence(features),
                features=features,
                reasons=reasons,
            )
        )
    return candidates


def confidence(features: CatalystFeatures) -> float:
    """The documented weighted sum of bounded feature transforms, in [0, 1] and finite."""
    raw = (
        MOMENTUM_WEIGHT * clip01(features.momentum_pct / MOMENTUM_FULL_PCT)
        + RELATIVE_VOLUME_WEIGHT
        * clip01(
            ((features.relative_volume or 0.0) - RELATIVE_VOLUME_NORMAL)
            / (RELATIVE_VOLUME_FULL - RELATIVE_VOLUME_NORMAL)
        )
        + GAP_WEIGHT * clip01(features.gap_pct / GAP_FULL_PCT)
        + NEWS_WEIGHT * min(max(features.news_count, 0), NEWS_FULL_COUNT) / NEWS_FULL_COUNT
    )
    direction = clip01(1.0 + features.momentum_pct / FALLING_ZERO_PCT)
    return clip01(raw * direction)


def _features(
    member: UniverseMember, average: float | None, news_count: int, fraction: float
) -> tuple[CatalystFeatures, tuple[str, ...]]:
    snap = member.snapshot
    in_session = snap.day_volume > 0 and is_positive_price(snap.day_open)
    momentum_base = snap.day_open if in_session else snap.prev_close
    momentum = pct_change(snap.last_price, momentum_base)
    gap = pct_change(snap.day_open, snap.prev_close) if in_session else 0.0
    reasons = [f"momentum {momentum:+.1f}% vs {'open' if in_session else 'previous close'}"]
    if momentum < 0:
        reasons.append("falling price: long-only score scaled down")
    expected = average * fraction if average is not None else math.nan
    if not math.isfinite(expected) or expected <= 0:
        relative_volume = 0.0
        reasons.append("no volume baseline")
    else:
        relative_volume = bounded(max(snap.day_volume, 0) / expected)
        reasons.append(f"relative volume {relative_volume:.1f}x")
    if in_session:
        reasons.append(f"gap {gap:+.1f}%")
    if news_count:
        reasons.append(f"{news_count} news item{'s' if news_count != 1 else ''}")
    features = CatalystFeatures(
        momentum_pct=momentum, gap_pct=gap, relative_volume=relative_volume, news_count=news_count
    )
    return features, tuple(reasons)


def _session_fraction(value: float) -> float:
    # Unknown (NaN) counts as a whole session: the lowest, most sceptical relative volume.
    if math.isnan(value):
        return 1.0
    return min(max(value, SESSION_FRACTION_FLOOR), 1.0)
