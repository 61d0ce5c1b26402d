"""Stage 4: pick the best `n` candidates at or above the confidence floor."""

from __future__ import annotations

import math
from collections.abc import Sequence

from catalyst.pipeline.candidates import Candidate, StageRejection, StageResult


def select_top(
    candidates: Sequence[Candidate], *, n: int, min_confidence: float
) -> StageResult[Candidate]:
    """Keep up to `n` candidates with confidence >= `min_confidence`, best first.

    Order is confidence descending, then symbol, so equal scores always resolve the same way.
    A candidate whose confidence is not a finite number is rejected, never selected.
    """
    if n < 1:
        raise ValueError(f"select_top needs n >= 1, got {n}")
    rejected: list[StageRejection] = []
    eligible: list[Candidate] = []
    for candidate in candidates:
        if not math.isfinite(candidate.confidence):
            rejected.append(StageRejection(candidate.symbol, "confidence is not a number"))
        elif candidate.confidence < min_confidence:
            rejected.append(
                StageRejection(
                    candidate.symbol,
                    f"confidence {candidate.confidence:.3f} below {min_confidence:.2f}",
                )
            )
        else:
            eligible.append(candidate)
    eligible.sort(key=lambda c: (-c.confidence, c.symbol))
    rejected.extend(
        StageRejection(c.symbol, f"not in top {n} (rank {rank})")
        for rank, c in enumerate(eligible[n:], start=n + 1)
    )
    return StageResult(
        kept=tuple(eligible[:n]), rejected=tuple(rejected), considered=tuple(candidates)
    )
