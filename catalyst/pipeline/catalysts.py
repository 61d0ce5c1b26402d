"""Stage 3: the catalyst filter. Gap, intraday momentum, relative volume and news → the top K.

Features (all finite; odd inputs fall back to 0):
- momentum %: last vs day open in the session; before the open, last vs the previous close;
- gap %: day open vs previous close in the session; before the open, the pre-market gap (last
  pre-market trade vs the previous close);
- relative volume: today's volume against the 20-day average *at the same time of day*
  (`catalyst.pipeline.volume_profile`); before the open it is not judged (None);
- news: the symbol's news score in [-1, 1] (`catalyst.pipeline.news`).

Score, in [0, 1], long only:

    raw   = w_momentum * clip(momentum / momentum_full_pct)
          + w_volume   * clip((rel_volume - 1) / (rel_volume_full - 1))
          + w_gap      * clip(gap / gap_full_pct)
          + w_news     * max(news, 0)
    score = raw * direction * (1 + min(news, 0))

`direction` is 1 for momentum >= 0 and falls linearly to 0 at -falling_zero_pct, so a falling
stock scores low however loud its volume; bad news (an offering, a downgrade) scales the score
down by its own size. Before the open the volume weight is shared out over the other three in
proportion, so a pre-market score uses the whole [0, 1] range too. The defaults
(`CatalystParams`) make a +4 % move on 5x the usual volume, a 5 % gap and a strong story score 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from catalyst.config.strategy import CatalystParams as CatalystParams  # re-exported
from catalyst.pipeline.candidates import (
    Candidate,
    CatalystFeatures,
    StageRejection,
    StageResult,
    UniverseMember,
)
from catalyst.pipeline.news import NewsScore
from catalyst.pipeline.numbers import clip01, is_positive_price, pct_change
from catalyst.pipeline.volume_profile import relative_volume


def screen_catalysts(
    members: Sequence[UniverseMember],
    *,
    average_daily_volume: Mapping[str, float],
    news: Mapping[str, NewsScore],
    session_fraction: float,
    premarket: bool,
    params: CatalystParams,
) -> StageResult[Candidate]:
    """Score every member and keep the `params.keep` best, best first (ties by symbol)."""
    scored = [
        catalyst_candidate(
            member,
            average_daily_volume=average_daily_volume.get(member.symbol),
            news=news.get(member.symbol),
            session_fraction=session_fraction,
            premarket=premarket,
            params=params,
        )
        for member in members
    ]
    ranked = sorted(scored, key=lambda c: (-c.catalyst_score, c.symbol))
    rejected = tuple(
        StageRejection(
            c.symbol,
            f"catalyst score {c.catalyst_score:.2f}: not in the top {params.keep} (rank {rank})",
        )
        for rank, c in enumerate(ranked[params.keep :], start=params.keep + 1)
    )
    return StageResult(
        kept=tuple(ranked[: params.keep]), rejected=rejected, considered=tuple(ranked)
    )


def catalyst_candidate(
    member: UniverseMember,
    *,
    average_daily_volume: float | None,
    news: NewsScore | None,
    session_fraction: float,
    premarket: bool,
    params: CatalystParams,
) -> Candidate:
    """One member's features, score and reasons (module doc). Never raises on odd numbers."""
    features, reasons = _features(member, average_daily_volume, news, session_fraction, premarket)
    score = catalyst_score(features, params)
    return Candidate(
        symbol=member.symbol,
        sector=member.sector,
        last_price=member.snapshot.last_price,
        confidence=score,
        features=features,
        reasons=reasons,
        news=news,
        catalyst_score=score,
    )


def catalyst_score(features: CatalystFeatures, params: CatalystParams) -> float:
    """The documented weighted sum, in [0, 1] and finite."""
    parts = [
        (params.momentum_weight, clip01(features.momentum_pct / params.momentum_full_pct)),
        (params.gap_weight, clip01(features.gap_pct / params.gap_full_pct)),
        (params.news_weight, clip01(features.news_score)),
    ]
    if features.relative_volume is not None:
        excess = (features.relative_volume - 1.0) / (params.rel_volume_full - 1.0)
        parts.append((params.volume_weight, clip01(excess)))
    total_weight = sum(weight for weight, _ in parts)
    if total_weight <= 0:
        return 0.0
    # Before the open the volume term is absent: the others share its weight in proportion.
    raw = sum(weight * value for weight, value in parts) / total_weight
    direction = clip01(1.0 + features.momentum_pct / params.falling_zero_pct)
    bad_news = 1.0 + min(features.news_score, 0.0)
    return clip01(raw * direction * bad_news)


def _features(
    member: UniverseMember,
    average: float | None,
    news: NewsScore | None,
    fraction: float,
    premarket: bool,
) -> tuple[CatalystFeatures, tuple[str, ...]]:
    snap = member.snapshot
    in_session = not premarket and snap.day_volume > 0 and is_positive_price(snap.day_open)
    base = snap.day_open if in_session else snap.prev_close
    momentum = pct_change(snap.last_price, base)
    gap = pct_change(snap.day_open if in_session else snap.last_price, snap.prev_close)
    reasons = [
        f"momentum {momentum:+.1f}% vs {'open' if in_session else 'previous close'}",
        f"{'gap' if in_session else 'pre-market gap'} {gap:+.1f}%",
    ]
    if momentum < 0:
        reasons.append("falling price: long-only score scaled down")
    rvol: float | None = None
    if in_session:
        if average is None or not math.isfinite(average) or average <= 0:
            rvol = 0.0
            reasons.append("no volume baseline")
        else:
            rvol = relative_volume(max(snap.day_volume, 0), average, fraction)
            reasons.append(f"relative volume {rvol:.1f}x for the time of day")
    news_score = news.score if news is not None and math.isfinite(news.score) else 0.0
    if news is not None:
        reasons.extend(news.reasons)
    features = CatalystFeatures(
        momentum_pct=momentum,
        gap_pct=gap,
        relative_volume=rvol,
        news_count=news.item_count if news is not None else 0,
        news_score=min(max(news_score, -1.0), 1.0),
    )
    return features, tuple(reasons)
