"""Builders with defaults for journaled cycles and their scan results, and one example cycle
that went through the whole funnel (what `catalyst cycles` tests render and journal)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from catalyst.domain.funnel import FunnelStage
from catalyst.store.records import CycleRecord, CycleStart, CycleStatus, ScanResultRecord

DAY = date(2026, 11, 24)
STARTED = datetime(2026, 11, 24, 14, 30, 2, tzinfo=UTC)  # 09:30:02 in New York
CYCLE_ID = "20261124-0930"
# Recorded in the pipeline's order, which is not alphabetical: a renderer must keep it.
FUNNEL = {
    "universe": 4119,
    "most_active": 200,
    "catalysts": 50,
    "patterns": 31,
    "technicals": 20,
    "ranked": 5,
    "risk": 2,
    "ordered": 1,
}
SKIPPED = {"stale": 12, "not_tradable": 1200, "no_snapshot": 3}
DROP_REASON = "confidence 0.41 below min_confidence_score 0.70"
PLAN = {"entry": "12.40", "stop": "11.90", "target": "13.40"}


def cycle(**overrides: Any) -> CycleRecord:
    """A completed cycle of `DAY`, 1.3 s long, with `FUNNEL` and `SKIPPED`."""
    fields: dict[str, Any] = {
        "cycle_id": CYCLE_ID,
        "cycle_date": DAY,
        "cycle_number": 2,
        "session_mode": "autonomous",
        "triggered_by": "schedule",
        "status": CycleStatus.COMPLETED,
        "started_at": STARTED,
        "scan_completed_at": STARTED + timedelta(seconds=0.9),
        "finished_at": STARTED + timedelta(seconds=1.3),
        "candidates_identified": 1,
        "trades_executed": 1,
        "error_message": None,
        "funnel": FUNNEL,
        "skipped": SKIPPED,
    }
    fields.update(overrides)
    return CycleRecord(**fields)


def scan_row(stage: FunnelStage, rank: int, symbol: str, **overrides: Any) -> ScanResultRecord:
    """`symbol` at `stage` of `CYCLE_ID`, kept, at 12.34 with a score of 0.81."""
    fields: dict[str, Any] = {
        "cycle_id": CYCLE_ID,
        "symbol": symbol,
        "scan_timestamp": STARTED,
        "price_at_scan": Decimal("12.34"),
        "volume_at_scan": 1_250_000,
        "rank_in_scan": rank,
        "scan_type": "intraday",
        "composite_score": 0.81,
        "final_candidate": False,
        "stage": stage,
        "kept": True,
    }
    fields.update(overrides)
    return ScanResultRecord(**fields)


ACME_FEATURES = {"relative_volume": 3.14, "gap_pct": 4.2, "news_count": 2, "news_score": 0.45}


def funnel_rows() -> list[ScanResultRecord]:
    """ACME goes all the way and is the final candidate; BOLT drops out at the catalysts stage
    and CRUX at the ranking (in funnel order, then rank: as the store returns them)."""
    return [
        scan_row(FunnelStage.MOST_ACTIVE, 1, "ACME", reasons=("dollar volume 15.4M",)),
        scan_row(FunnelStage.MOST_ACTIVE, 2, "BOLT"),
        scan_row(FunnelStage.MOST_ACTIVE, 3, "CRUX"),
        scan_row(
            FunnelStage.CATALYSTS,
            1,
            "ACME",
            features=ACME_FEATURES,
            reasons=("relative volume 3.1x", "gap +4.2%", "earnings beat 40 min ago"),
        ),
        scan_row(FunnelStage.CATALYSTS, 2, "CRUX", features={"relative_volume": 2.0}),
        scan_row(
            FunnelStage.CATALYSTS,
            3,
            "BOLT",
            kept=False,
            composite_score=0.12,
            features={"relative_volume": 0.9, "gap_pct": -0.3, "news_count": 0},
            reject_reason="catalyst score 0.12 not among the 50 best",
        ),
        scan_row(
            FunnelStage.TECHNICALS,
            1,
            "ACME",
            pattern="bull_flag",
            indicators={"rsi": 61.2, "atr": 0.31, "macd": None},
        ),
        scan_row(FunnelStage.TECHNICALS, 2, "CRUX", indicators={"rsi": 77.9}),
        scan_row(
            FunnelStage.RANKED,
            1,
            "ACME",
            composite_score=0.86,
            final_candidate=True,
            pattern="bull_flag",
            plan=PLAN,
            reasons=("confidence 0.86",),
        ),
        scan_row(
            FunnelStage.RANKED,
            2,
            "CRUX",
            kept=False,
            composite_score=0.41,
            reject_reason=DROP_REASON,
        ),
    ]


def start_of(record: CycleRecord) -> CycleStart:
    """What the daemon journals when `record` begins."""
    return CycleStart(
        record.cycle_id,
        record.cycle_date,
        record.cycle_number,
        record.session_mode,
        record.triggered_by,
        record.started_at,
    )
