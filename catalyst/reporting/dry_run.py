"""`catalyst scan --dry-run`: one scan's funnel and ranked shortlist, with the bracket each pick
would get. Nothing is ordered and nothing is journaled.

Pure: the scan's rows (as the journal's `ScanResultRecord`s, never written) in, text (the cells
of `catalyst cycles show`, one line per ranked symbol, about 140 columns) or JSON-ready dicts
out. Times are shown in New York time.

The ranked table is the `ranked` stage: every symbol the confidence floor and the top N judged,
best first. `score` is the catalyst filter's score, `conf` the composite confidence the floor
applies to (`catalyst.pipeline.ranking`); entry, stop and target are the bracket the cycle would
size for a pick (entry at the marketable limit, `catalyst.pipeline.sizing`), `qty` its shares.
A pick the sizing refuses shows why instead. The picks are what the cycle would hand to the
pre-trade risk checks; the dry run does not run them (they read the journal's day).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FunnelStage
from catalyst.reporting.cycles import scan_result_as_dict
from catalyst.reporting.tables import (
    FIGURES,
    FUNNEL_ARROW,
    NOT_KNOWN,
    aligned_cells,
    column_widths,
    price_text,
    score_text,
    wrap_items,
)
from catalyst.store.records import ScanResultRecord

NOTHING_PLACED = "nothing ordered, nothing journaled"


@dataclass(frozen=True, slots=True)
class DryRun:
    """What one dry-run scan found.

    `results` are every stage's rows in funnel order, the picks' `plan` set to their sized
    bracket (entry, stop, target, qty); `unsized` names each pick the sizing refused, and why;
    `held_back` says why a cycle at this moment would order none of them (pre-market, past the
    entry cutoff, a scan_only session), None when it would go on to the risk checks.
    """

    at: datetime
    broker: str  # "simulator", "Alpaca paper", "Alpaca LIVE"
    scan_type: str  # "premarket" or "intraday", as the cycle would journal it
    funnel: Mapping[str, int]
    skipped: Mapping[str, int]
    results: tuple[ScanResultRecord, ...]
    unsized: Mapping[str, str]
    held_back: str | None  # why the cycle would order none of the picks at this moment
    equity: Decimal
    buying_power: Decimal

    def ranked(self) -> list[ScanResultRecord]:
        """The ranked stage's rows, best first."""
        rows = [r for r in self.results if r.stage is FunnelStage.RANKED]
        return sorted(rows, key=lambda r: (r.rank_in_scan, r.symbol))

    def picks(self) -> list[ScanResultRecord]:
        """The symbols the cycle would hand to the risk checks, best first."""
        return [r for r in self.ranked() if r.kept]

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": True,
            "at": self.at.isoformat(),
            "broker": self.broker,
            "scan_type": self.scan_type,
            "funnel": dict(self.funnel),
            "skipped": dict(self.skipped),
            "held_back": self.held_back,
            "account": {"equity": str(self.equity), "buying_power": str(self.buying_power)},
            "ranked": [_ranked_as_dict(r, self.unsized.get(r.symbol)) for r in self.ranked()],
            "scan_results": [scan_result_as_dict(r) for r in self.results],
        }

    def render(self) -> str:
        at = self.at.astimezone(EXCHANGE_TZ)
        lines = [
            f"dry run at {at:%Y-%m-%d %H:%M %Z} against the {self.broker} "
            f"({self.scan_type} scan): {NOTHING_PLACED}",
            *wrap_items("funnel: ", [f"{k} {v}" for k, v in self.funnel.items()], FUNNEL_ARROW),
        ]
        if self.skipped:
            by_count = sorted(self.skipped.items(), key=lambda item: (-item[1], item[0]))
            total = sum(self.skipped.values())
            lines += wrap_items(f"skipped {total}: ", [f"{k} {v}" for k, v in by_count], ", ")
        ranked = self.ranked()
        lines += [
            "",
            f"ranked: {len(ranked)}, picks: {len(self.picks())} "
            f"(sized on equity {self.equity:.2f}, buying power {self.buying_power:.2f})",
        ]
        if self.held_back is not None:
            lines.append(f"a cycle now would order none of the picks: {self.held_back}")
        if ranked:
            lines += self._table(ranked)
        return "\n".join(lines)

    def _table(self, ranked: list[ScanResultRecord]) -> list[str]:
        header = ["rank", "symbol", "price", *(f.header for f in FIGURES), "pattern"]
        header += ["score", "conf", "entry", "stop", "target", "qty"]
        right = [True, False, True, *(True for _ in FIGURES), False, *(True,) * 6]
        cells = []
        for r in ranked:
            prices = [(r.plan or {}).get(key, NOT_KNOWN) for key in ("entry", "stop", "target")]
            catalyst = r.features.get("catalyst_score")
            cells.append(
                [
                    str(r.rank_in_scan),
                    r.symbol,
                    price_text(r.price_at_scan),
                    *(f.text(r) for f in FIGURES),
                    r.pattern or NOT_KNOWN,
                    score_text(catalyst if isinstance(catalyst, int | float) else None),
                    score_text(r.composite_score),
                    *prices,
                    (r.plan or {}).get("qty", NOT_KNOWN),
                ]
            )
        widths = column_widths(header, cells)
        lines = [aligned_cells(header, widths, right) + "  outcome"]
        for r, row in zip(ranked, cells, strict=True):
            # One line per symbol, however wide: a ranked shortlist is read down its columns.
            lines.append(aligned_cells(row, widths, right) + "  " + self._outcome(r))
        return lines

    def _outcome(self, row: ScanResultRecord) -> str:
        if not row.kept:
            return f"dropped: {row.reject_reason}" if row.reject_reason else "dropped"
        if row.plan is not None:
            return "pick"
        return f"pick, not sized: {self.unsized.get(row.symbol, 'no bracket')}"


def _ranked_as_dict(row: ScanResultRecord, unsized: str | None) -> dict[str, object]:
    """A ranked row for `--json`: the journal's form, and why a pick has no bracket."""
    return {**scan_result_as_dict(row), "pick": bool(row.kept), "not_sized_reason": unsized}
