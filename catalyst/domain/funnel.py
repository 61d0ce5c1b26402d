"""The stages of a scan cycle's funnel, in order: the one list the journal, the log line, the
reports and the CLI all name them by."""

from __future__ import annotations

from enum import StrEnum


class FunnelStage(StrEnum):
    """Where a symbol got to in one cycle. A `scan_results` row is one symbol at one stage: the
    stage judged it, and it was kept (went on) or dropped with the reason."""

    UNIVERSE = "universe"  # screened: tradable, US-listed, sane fresh snapshot
    MOST_ACTIVE = "most_active"
    CATALYSTS = "catalysts"  # the catalyst filter judged the most active names
    TECHNICALS = "technicals"  # chart patterns and indicators judged the catalyst shortlist
    RANKED = "ranked"  # the confidence floor and the top N judged the ranked shortlist
    RISK = "risk"  # sized and checked by the pre-trade rules
    ORDERED = "ordered"  # the bracket order was placed


FUNNEL_ORDER: tuple[FunnelStage, ...] = tuple(FunnelStage)
