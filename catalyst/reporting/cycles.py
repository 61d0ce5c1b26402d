"""`catalyst cycles`: a day's scan cycles with their funnels, and one cycle's candidates with why
each went on or dropped out.

Pure: journal records in, text (laid out for a 100-column terminal) or JSON-ready dicts out.
Times are shown in New York time, the exchange's. The text shows the key figures of each row
(relative volume, gap, news, RSI: a column only when some row of the stage has it); `--json`
carries every feature and indicator the cycle journaled.

Rows journaled before migration 0003 know no stages: they are all `catalysts` rows with `kept`
None and no features. For them only what was journaled then is shown: a final candidate, a
refusal by risk (`reject_reason`), otherwise "-".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FUNNEL_ORDER
from catalyst.reporting.tables import (
    FIGURES,
    FUNNEL_ARROW,
    NOT_KNOWN,
    WIDTH,
    aligned_cells,
    column_widths,
    price_text,
    score_text,
    with_outcome,
    wrap_items,
    wrap_text,
)
from catalyst.store.records import CycleRecord, CycleStatus, ScanResultRecord

LEGACY_NOTE = (
    "(journaled before per-stage records: only final candidates and refusals by risk are known)"
)


@dataclass(frozen=True, slots=True)
class CycleList:
    """`catalyst cycles`: the cycles of one trading day, by cycle number."""

    day: date
    cycles: tuple[CycleRecord, ...]

    def as_dict(self) -> dict[str, object]:
        return {"date": self.day.isoformat(), "cycles": [cycle_as_dict(c) for c in self.cycles]}

    def render(self) -> str:
        if not self.cycles:
            return f"no cycles on {self.day.isoformat()}"
        header = ("#", "id", "started", "took", "status", "trigger", "candidates", "trades")
        rows = [
            (
                str(c.cycle_number),
                c.cycle_id,
                _local(c.started_at, "%H:%M:%S"),
                _duration(c),
                c.status,
                c.triggered_by,
                str(c.candidates_identified),
                str(c.trades_executed),
            )
            for c in self.cycles
        ]
        widths = column_widths(header, rows)
        right = (True, False, False, False, False, False, True, True)
        lines = [
            f"cycles on {self.day.isoformat()}: {len(self.cycles)} (times America/New_York)",
            aligned_cells(header, widths, right).rstrip(),
        ]
        for cycle, row in zip(self.cycles, rows, strict=True):
            lines.append(aligned_cells(row, widths, right).rstrip())
            lines += _cycle_notes(cycle, indent=widths[0] + 4)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class CycleDetail:
    """`catalyst cycles show ID`: one cycle, every symbol at every stage it reached, and the
    final candidates with their entry, stop and target."""

    cycle: CycleRecord
    results: tuple[ScanResultRecord, ...]  # funnel order, then rank (as the store returns them)

    def final_candidates(self) -> list[ScanResultRecord]:
        """One row per final candidate: the one furthest along the funnel, in rank order."""
        furthest: dict[str, ScanResultRecord] = {}
        for row in self.results:
            if row.final_candidate:
                furthest[row.symbol] = row  # later rows are further along
        return sorted(furthest.values(), key=lambda r: (r.rank_in_scan, r.symbol))

    def as_dict(self) -> dict[str, object]:
        return {
            "cycle": cycle_as_dict(self.cycle),
            "scan_results": [scan_result_as_dict(r) for r in self.results],
            "final_candidates": [scan_result_as_dict(r) for r in self.final_candidates()],
        }

    def render(self) -> str:
        c = self.cycle
        lines = [
            f"cycle {c.cycle_id} (#{c.cycle_number} on {c.cycle_date.isoformat()}): {c.status}, "
            f"{c.triggered_by}, {c.session_mode}",
            f"  started {_local(c.started_at, '%Y-%m-%d %H:%M:%S %Z')}, took {_duration(c)}; "
            f"candidates {c.candidates_identified}, trades {c.trades_executed}",
            *_cycle_notes(c, indent=2),
        ]
        if not self.results:
            lines += ["", "no scan results journaled for this cycle"]
            return "\n".join(lines)
        for stage in FUNNEL_ORDER:
            rows = [r for r in self.results if r.stage is stage]
            if rows:
                lines += ["", *_stage_table(stage.value, rows)]
        lines += ["", *_final_table(self.final_candidates())]
        return "\n".join(lines)


def cycle_as_dict(cycle: CycleRecord) -> dict[str, object]:
    """A cycle for `--json`: datetimes ISO 8601, the funnel and skip counts in recorded order."""
    return {
        "cycle_id": cycle.cycle_id,
        "cycle_date": cycle.cycle_date.isoformat(),
        "cycle_number": cycle.cycle_number,
        "session_mode": cycle.session_mode,
        "triggered_by": cycle.triggered_by,
        "status": cycle.status,
        "started_at": cycle.started_at.isoformat(),
        "scan_completed_at": _iso(cycle.scan_completed_at),
        "finished_at": _iso(cycle.finished_at),
        "duration_seconds": _seconds(cycle),
        "candidates_identified": cycle.candidates_identified,
        "trades_executed": cycle.trades_executed,
        "error_message": cycle.error_message,
        "funnel": dict(cycle.funnel),
        "skipped": dict(cycle.skipped),
    }


def scan_result_as_dict(row: ScanResultRecord) -> dict[str, object]:
    """A scan result for `--json`: the price as a decimal string, every figure journaled."""
    return {
        "stage": row.stage.value,
        "rank": row.rank_in_scan,
        "symbol": row.symbol,
        "price": str(row.price_at_scan),
        "volume": row.volume_at_scan,
        "scan_timestamp": row.scan_timestamp.isoformat(),
        "scan_type": row.scan_type,
        "composite_score": row.composite_score,
        "kept": row.kept,
        "final_candidate": row.final_candidate,
        "reject_reason": row.reject_reason,
        "pattern": row.pattern,
        "features": dict(row.features),
        "indicators": dict(row.indicators),
        "reasons": list(row.reasons),
        "plan": dict(row.plan) if row.plan is not None else None,
    }


# ------------------------------------------------------------------------ the cycle's lines


def _cycle_notes(cycle: CycleRecord, *, indent: int) -> list[str]:
    """The funnel, the universe's skip counts and the error, each wrapped under `indent`."""
    pad = " " * indent
    lines: list[str] = []
    if cycle.funnel:
        items = [f"{stage} {count}" for stage, count in cycle.funnel.items()]
        lines += wrap_items(f"{pad}funnel: ", items, FUNNEL_ARROW)
    if cycle.skipped:
        by_count = sorted(cycle.skipped.items(), key=lambda item: (-item[1], item[0]))
        total = sum(cycle.skipped.values())
        lines += wrap_items(f"{pad}skipped {total}: ", [f"{k} {v}" for k, v in by_count], ", ")
    if cycle.error_message or cycle.status in (CycleStatus.FAILED, CycleStatus.MISSED):
        label = f"{pad}{'missed' if cycle.status == CycleStatus.MISSED else 'error'}: "
        why = cycle.error_message or "no reason journaled"
        lines += wrap_text(why, WIDTH, indent=label, hang=" " * len(label))
    return lines


# ------------------------------------------------------------------------ stage tables


def _stage_table(stage: str, rows: Sequence[ScanResultRecord]) -> list[str]:
    """A stage's heading, then one line per symbol that reached it, in rank order."""
    kept = sum(1 for r in rows if r.kept is True)
    dropped = sum(1 for r in rows if r.kept is False)
    summary = f"{stage}: {len(rows)} reached"
    if kept or dropped:
        summary += f", {kept} kept, {dropped} dropped"
    with_pattern = any(r.pattern for r in rows)
    figures = [f for f in FIGURES if any(f.value(r) is not None for r in rows)]
    header = ["rank", "symbol", "price", "score", *(["pattern"] if with_pattern else [])]
    header += [f.header for f in figures]
    right = [True, False, True, True, *([False] if with_pattern else []), *(True for _ in figures)]
    cells = [
        [
            str(r.rank_in_scan),
            r.symbol,
            price_text(r.price_at_scan),
            score_text(r.composite_score),
            *([r.pattern or NOT_KNOWN] if with_pattern else []),
            *(f.text(r) for f in figures),
        ]
        for r in rows
    ]
    widths = column_widths(header, cells)
    lines = [summary, aligned_cells(header, widths, right) + "  outcome"]
    for r, row in zip(rows, cells, strict=True):
        lines += with_outcome(aligned_cells(row, widths, right) + "  ", _outcome(r))
    if any(r.kept is None for r in rows):
        lines.append(f"  {LEGACY_NOTE}")
    return lines


def outcome(row: ScanResultRecord) -> tuple[str, str]:
    """(verdict, why) of one symbol at one stage: final, kept or dropped (`-` for a row from
    before stages that says neither), and the reason it was dropped, else what moved it on."""
    why = row.reject_reason or "; ".join(row.reasons)
    if row.kept is None:  # a row from before stages: only these two facts were journaled
        verdict = "final" if row.final_candidate else "dropped" if row.reject_reason else NOT_KNOWN
    else:
        verdict = "final" if row.final_candidate else "kept" if row.kept else "dropped"
    return verdict, why


def _outcome(row: ScanResultRecord) -> str:
    verdict, why = outcome(row)
    if verdict == NOT_KNOWN:
        return NOT_KNOWN
    return f"{verdict}: {why}" if why else verdict


# ------------------------------------------------------------------------ final candidates


def _final_table(finals: Sequence[ScanResultRecord]) -> list[str]:
    if not finals:
        return ["final candidates: none"]
    header = ["rank", "symbol", "stage", "price", "score", "entry", "stop", "target", "r:r"]
    right = [True, False, False, True, True, True, True, True, True]
    rows = []
    for r in finals:
        prices = [(r.plan or {}).get(key, NOT_KNOWN) for key in ("entry", "stop", "target")]
        at = [str(r.rank_in_scan), r.symbol, r.stage.value, price_text(r.price_at_scan)]
        rows.append([*at, score_text(r.composite_score), *prices, _reward_to_risk(*prices)])
    widths = column_widths(header, rows)
    lines = [f"final candidates: {len(finals)}", aligned_cells(header, widths, right).rstrip()]
    return lines + [aligned_cells(row, widths, right).rstrip() for row in rows]


def _reward_to_risk(entry: str, stop: str, target: str) -> str:
    """Reward over risk of a long entry, "-" unless all three prices are there and sane."""
    try:
        risk = Decimal(entry) - Decimal(stop)
        reward = Decimal(target) - Decimal(entry)
    except InvalidOperation:
        return NOT_KNOWN
    return f"{reward / risk:.1f}" if risk > 0 else NOT_KNOWN


def _local(at: datetime, pattern: str) -> str:
    return at.astimezone(EXCHANGE_TZ).strftime(pattern)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _seconds(cycle: CycleRecord) -> float | None:
    """How long the cycle ran; None while running, and for a missed one (it never ran)."""
    if cycle.finished_at is None or cycle.status == CycleStatus.MISSED:
        return None
    return round((cycle.finished_at - cycle.started_at).total_seconds(), 3)


def _duration(cycle: CycleRecord) -> str:
    seconds = _seconds(cycle)
    if seconds is None:
        return "running" if cycle.status == CycleStatus.RUNNING else NOT_KNOWN
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
