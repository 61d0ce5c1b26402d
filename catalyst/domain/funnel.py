"""The stages of a scan cycle's funnel, in order: the one list the journal, the log line, the
reports and the CLI all name them by."""

from __future__ import annotations

from enum import StrEnum


class FunnelStage(StrEnum):
    """Where a symbol got to in one cycle. A `scan_results` row is one symbol at one stage."""

    UNIVERSE = "universe"  # screened: tradable, US-listed, sane fresh snapshot
    MOST_ACTIVE = "most_active"
    CATALYSTS = "catalysts"
    PATTERNS = "patterns"
    TECHNICALS = "technicals"
    RANKED = "ranked"  # composite score and confidence; the floor and the top N decide
    RISK = "risk"  # sized and checked by the pre-trade rules
    ORDERED = "ordered"


FUNNEL_ORDER: tuple[FunnelStage, ...] = tuple(FunnelStage)
