"""Stage 2: keep the `n` most active members, by dollar volume weighted by relative volume.

Activity = dollar volume x clip(relative volume, `RVOL_FLOOR`, `RVOL_CAP`), where

- dollar volume is last price x today's volume, or, before the open (no session volume yet),
  the previous close x the previous session's volume;
- relative volume is today's volume against the previous session's at the same time of day
  (`catalyst.pipeline.volume_profile`); before the open it is 1 (nothing to compare yet).

So a liquid name trading three times its usual volume outranks an equally liquid quiet one, and
a thin name cannot buy its way in on relative volume alone (the clip bounds the weight).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from catalyst.pipeline.candidates import StageRejection, StageResult, UniverseMember
from catalyst.pipeline.universe import previous_dollar_volume
from catalyst.pipeline.volume_profile import relative_volume

RVOL_FLOOR = 0.25
RVOL_CAP = 10.0


@dataclass(frozen=True, slots=True)
class Activity:
    """How active one member is: the figures the rank is made of."""

    dollar_volume: float
    relative_volume: float | None  # None before the open
    score: float


def activity(member: UniverseMember, *, session_fraction: float, premarket: bool) -> Activity:
    """The member's `Activity` (module doc); always finite."""
    snapshot = member.snapshot
    if premarket or snapshot.day_volume <= 0:
        dollars = previous_dollar_volume(snapshot)
        return Activity(dollar_volume=dollars, relative_volume=None, score=dollars)
    dollars = _finite(float(snapshot.last_price) * snapshot.day_volume)
    rvol = _finite(relative_volume(snapshot.day_volume, snapshot.prev_volume, session_fraction))
    weight = min(max(rvol, RVOL_FLOOR), RVOL_CAP)
    return Activity(dollar_volume=dollars, relative_volume=rvol, score=dollars * weight)


def most_active(
    members: Sequence[UniverseMember],
    n: int,
    *,
    session_fraction: float = 1.0,
    premarket: bool = False,
) -> StageResult[UniverseMember]:
    """Keep the `n` members with the highest activity score, highest first.

    Ties are broken by symbol so the same input always gives the same output.
    """
    if n < 1:
        raise ValueError(f"most_active needs n >= 1, got {n}")
    scores = {
        m.symbol: activity(m, session_fraction=session_fraction, premarket=premarket).score
        for m in members
    }
    ranked = sorted(members, key=lambda m: (-scores[m.symbol], m.symbol))
    rejected = tuple(
        StageRejection(m.symbol, f"not in top {n} by activity (rank {rank})")
        for rank, m in enumerate(ranked[n:], start=n + 1)
    )
    return StageResult(kept=tuple(ranked[:n]), rejected=rejected)


def _finite(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0
