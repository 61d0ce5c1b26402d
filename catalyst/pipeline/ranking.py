"""Stages 4-6: patterns and technicals judged, the shortlist ranked, confidence and a stop each.

Technical score, in [0, 1]: the mean of the sub-scores whose indicators exist (None when none
does, e.g. before the first session bar):

- trend: 1 when close > EMA fast > EMA slow, 0.5 when close > EMA slow only, else 0;
- VWAP: 1 at or above the session VWAP, else 0;
- MACD: 1 when the histogram is positive, else 0;
- RSI: 1 in [rsi_low, rsi_high] (default 50-70), falling linearly to 0 at rsi_floor (40) below
  and at rsi_ceiling (85) above: a stock already overbought is late, not strong;
- volume surge: clip((surge - 1) / (surge_full - 1)), full at 3x the recent bars' volume;
- Bollinger %b: 1 in [0.5, 1], 2 x %b below, falling to 0 at 1.3 above (stretched past the band).

Composite, in [0, 1], over the parts that exist (their weights shared out in proportion):

    composite = (w_catalyst x catalyst score + w_pattern x best pattern strength
                 + w_technical x technical score) / (sum of the weights present)

The pattern part exists once the symbol has session bars (a symbol with bars and no pattern
scores 0 there); the technical part once any indicator does. Confidence is the composite: a
number in [0, 1] that the `min_confidence_score` floor is applied to. The top `keep` by
confidence go on to the floor and the top N; ties by symbol.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from catalyst.config.strategy import RankParams as RankParams  # re-exported
from catalyst.pipeline.candidates import Candidate, StageRejection, StageResult
from catalyst.pipeline.numbers import clip01
from catalyst.pipeline.patterns import PatternMatch, best_match
from catalyst.pipeline.stops import StopParams, propose_stop
from catalyst.pipeline.technicals import Technicals


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the pattern and technical stages found for one symbol."""

    patterns: tuple[PatternMatch, ...]
    technicals: Technicals | None
    has_session_bars: bool
    daily_atr: float | None


def technical_score(
    technicals: Technicals | None, last_close: float, params: RankParams
) -> float | None:
    """The mean of the available sub-scores (module doc), or None when there are none."""
    if technicals is None:
        return None
    t = technicals
    parts: list[float] = []
    if t.ema_fast is not None and t.ema_slow is not None:
        if last_close > t.ema_fast > t.ema_slow:
            parts.append(1.0)
        else:
            parts.append(0.5 if last_close > t.ema_slow else 0.0)
    if t.vwap is not None:
        parts.append(1.0 if last_close >= t.vwap else 0.0)
    if t.macd_histogram is not None:
        parts.append(1.0 if t.macd_histogram > 0 else 0.0)
    if t.rsi is not None:
        parts.append(_rsi_part(t.rsi, params))
    if t.volume_surge is not None:
        parts.append(clip01((t.volume_surge - 1.0) / (params.surge_full - 1.0)))
    if t.bollinger_percent_b is not None:
        parts.append(_percent_b_part(t.bollinger_percent_b))
    finite = [p for p in parts if math.isfinite(p)]
    return sum(finite) / len(finite) if finite else None


def rank_candidates(
    candidates: Sequence[Candidate],
    analyses: Mapping[str, Analysis],
    *,
    params: RankParams,
    stops: StopParams,
) -> StageResult[Candidate]:
    """Confidence, best pattern, technicals and a proposed stop for each; the best `keep` kept."""
    ranked = sorted(
        (_ranked(c, analyses.get(c.symbol), params, stops) for c in candidates),
        key=lambda c: (-c.confidence, c.symbol),
    )
    rejected = tuple(
        StageRejection(
            c.symbol, f"confidence {c.confidence:.2f}: not in the top {params.keep} (rank {rank})"
        )
        for rank, c in enumerate(ranked[params.keep :], start=params.keep + 1)
    )
    return StageResult(
        kept=tuple(ranked[: params.keep]), rejected=rejected, considered=tuple(ranked)
    )


def _ranked(
    candidate: Candidate, analysis: Analysis | None, params: RankParams, stops: StopParams
) -> Candidate:
    last = float(candidate.last_price)
    pattern = best_match(analysis.patterns) if analysis is not None else None
    technicals = analysis.technicals if analysis is not None else None
    parts = [(params.catalyst_weight, clip01(candidate.catalyst_score))]
    reasons = list(candidate.reasons)
    if analysis is not None and analysis.has_session_bars:
        parts.append((params.pattern_weight, pattern.strength if pattern is not None else 0.0))
        reasons.append(pattern.reason if pattern is not None else "no chart pattern")
    tech = technical_score(technicals, last, params)
    if tech is not None:
        parts.append((params.technical_weight, tech))
        reasons.append(_technicals_line(technicals, tech))
    total = sum(weight for weight, _ in parts)
    confidence = clip01(sum(w * v for w, v in parts) / total) if total > 0 else 0.0
    stop = propose_stop(
        candidate.last_price,
        daily_atr=analysis.daily_atr if analysis is not None else None,
        invalidation=pattern.invalidation if pattern is not None else None,
        params=stops,
    )
    reasons.append(stop.reason)
    return replace(
        candidate,
        confidence=confidence,
        pattern=pattern,
        technicals=technicals,
        stop_price=stop.price,
        reasons=tuple(reasons),
    )


def _technicals_line(technicals: Technicals | None, score: float) -> str:
    rsi = technicals.rsi if technicals is not None else None
    rsi_text = f"RSI {rsi:.0f}, " if rsi is not None else ""
    return f"technicals {score:.2f} ({rsi_text}trend/VWAP/MACD/volume/bands)"


def _rsi_part(rsi: float, params: RankParams) -> float:
    if params.rsi_low <= rsi <= params.rsi_high:
        return 1.0
    if rsi < params.rsi_low:
        return clip01((rsi - params.rsi_floor) / (params.rsi_low - params.rsi_floor))
    return clip01((params.rsi_ceiling - rsi) / (params.rsi_ceiling - params.rsi_high))


def _percent_b_part(percent_b: float) -> float:
    if 0.5 <= percent_b <= 1.0:
        return 1.0
    if percent_b < 0.5:
        return clip01(2.0 * percent_b)
    return clip01((1.3 - percent_b) / 0.3)
