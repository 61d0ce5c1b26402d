"""Stage 2: keep the `n` most active members by volume."""

from __future__ import annotations

from collections.abc import Sequence

from catalyst.pipeline.candidates import StageRejection, StageResult, UniverseMember


def activity_volume(member: UniverseMember) -> int:
    """The volume a member is ranked by: today's, or the previous session's while today's is 0.

    Before the open `day_volume` is usually 0 (or a thin pre-market count), so yesterday's volume
    is the best measure of how active a name is; once it trades today, today's volume decides.
    """
    snapshot = member.snapshot
    return snapshot.day_volume if snapshot.day_volume > 0 else max(snapshot.prev_volume, 0)


def most_active(members: Sequence[UniverseMember], n: int) -> StageResult[UniverseMember]:
    """Keep the `n` members with the highest `activity_volume`, highest first.

    Ties are broken by symbol so the same input always gives the same output.
    """
    if n < 1:
        raise ValueError(f"most_active needs n >= 1, got {n}")
    ranked = sorted(members, key=lambda m: (-activity_volume(m), m.symbol))
    rejected = tuple(
        StageRejection(m.symbol, f"not in top {n} by volume (rank {rank})")
        for rank, m in enumerate(ranked[n:], start=n + 1)
    )
    return StageResult(kept=tuple(ranked[:n]), rejected=rejected)
