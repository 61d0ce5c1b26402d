"""A scan's candidates as journal rows: one per symbol per funnel stage it reached.

A stage's rows are the symbols it judged: kept (went on to the next stage) or dropped with the
reason, each with the figures it was judged on: catalyst features, the best pattern, the
technical indicators, the score, and the reasons a person reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from catalyst.domain.funnel import FunnelStage
from catalyst.domain.plans import TradePlan
from catalyst.pipeline.candidates import Candidate, StageResult
from catalyst.store.records import ScanResultRecord


@dataclass(frozen=True, slots=True)
class StageRow:
    """One symbol at one stage."""

    stage: FunnelStage
    symbol: str
    rank: int
    price: Decimal
    score: float | None
    kept: bool
    reason: str | None = None
    pattern: str | None = None
    features: Mapping[str, float | int | str | None] = field(default_factory=dict)
    indicators: Mapping[str, float | None] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    plan: Mapping[str, str] | None = None
    final: bool = False


def rows_for(stage: FunnelStage, result: StageResult[Candidate]) -> list[StageRow]:
    """The rows of one stage: everything it judged (`result.considered`, else what it kept),
    kept ones first, each in rank order, kept or dropped with its reason."""
    judged = result.considered or result.kept
    kept = {c.symbol for c in result.kept}
    reasons = {r.symbol: r.reason for r in result.rejected}
    ordered = sorted(judged, key=lambda c: (c.symbol not in kept, -c.confidence, c.symbol))
    return [
        candidate_row(stage, c, rank, kept=c.symbol in kept, reason=reasons.get(c.symbol))
        for rank, c in enumerate(ordered, start=1)
    ]


def bracket_fields(plan: TradePlan) -> dict[str, str]:
    """A sized bracket as the journal's `plan` column holds it (decimal strings)."""
    return {
        "entry": str(plan.entry_price),
        "stop": str(plan.stop_price),
        "target": str(plan.target_price),
        "qty": str(plan.qty),
    }


def candidate_row(
    stage: FunnelStage, candidate: Candidate, rank: int, *, kept: bool, reason: str | None
) -> StageRow:
    """One candidate's row, with every figure it carries."""
    pattern = candidate.pattern
    technicals = candidate.technicals
    features: dict[str, float | int | str | None] = dict(candidate.features.as_dict())
    features["catalyst_score"] = round(candidate.catalyst_score, 4)
    if pattern is not None:
        features["pattern_strength"] = round(pattern.strength, 4)
    if candidate.stop_price is not None:
        features["proposed_stop"] = str(candidate.stop_price)
    indicators: dict[str, float | None] = {}
    if technicals is not None:
        values = technicals.as_dict()
        values.pop("bars", None)  # a count, not an indicator
        indicators = {k: (None if v is None else float(v)) for k, v in values.items()}
    return StageRow(
        stage=stage,
        symbol=candidate.symbol,
        rank=rank,
        price=candidate.last_price,
        score=candidate.confidence,
        kept=kept,
        reason=reason,
        pattern=pattern.kind.value if pattern is not None else None,
        features=features,
        indicators=indicators,
        reasons=candidate.reasons,
    )


def to_records(
    rows: Sequence[StageRow],
    *,
    cycle_id: str,
    at: datetime,
    scan_type: str,
    volumes: Mapping[str, int],
) -> list[ScanResultRecord]:
    """The rows as the store's records."""
    return [
        ScanResultRecord(
            cycle_id=cycle_id,
            symbol=row.symbol,
            scan_timestamp=at,
            price_at_scan=row.price,
            volume_at_scan=volumes.get(row.symbol, 0),
            rank_in_scan=row.rank,
            scan_type=scan_type,
            composite_score=row.score,
            final_candidate=row.final,
            reject_reason=row.reason,
            stage=row.stage,
            kept=row.kept,
            pattern=row.pattern,
            features=row.features,
            indicators=row.indicators,
            reasons=row.reasons,
            plan=row.plan,
        )
        for row in rows
    ]
