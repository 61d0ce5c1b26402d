"""The `catalyst cycles` renderers: a day's cycles with their funnels, one cycle's candidates per
stage with why each went on or dropped out, and the same as JSON."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from cycle_records import (
    CYCLE_ID,
    DAY,
    DROP_REASON,
    FUNNEL,
    STARTED,
    cycle,
    funnel_rows,
    scan_row,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from catalyst.domain.funnel import FunnelStage
from catalyst.reporting.cycles import CycleDetail, CycleList
from catalyst.reporting.tables import WIDTH
from catalyst.store.records import CycleStatus

FUNNEL_LINE = (
    "funnel: universe 4119 → most_active 200 → catalysts 50 → patterns 31 → technicals 20 →"
)


def _line_with(text: str, rendered: str) -> str:
    (line,) = [line for line in rendered.splitlines() if text in line]
    return line


def _entry(symbol: str, rendered: str) -> str:
    """The row of `symbol` with the lines its outcome wrapped onto, as one line of words."""
    lines = rendered.splitlines()
    (at,) = [i for i, line in enumerate(lines) if f"  {symbol}  " in line]
    more = list(itertools.takewhile(lambda line: line.startswith(" " * 8), lines[at + 1 :]))
    return " ".join(" ".join([lines[at], *more]).split())


def _section(rendered: str, start: str, end: str | None) -> str:
    after = rendered.split(f"\n{start}")[1]
    return after if end is None else after.split(f"\n{end}")[0]


# ------------------------------------------------------------------------ the day's list


def test_list_shows_each_cycle_with_its_funnel_in_the_order_recorded() -> None:
    text = CycleList(DAY, (cycle(),)).render()
    lines = text.splitlines()

    assert lines[0] == "cycles on 2026-11-24: 1 (times America/New_York)"
    assert lines[1].split() == [
        "#", "id", "started", "took", "status", "trigger", "candidates", "trades"
    ]  # fmt: skip
    assert lines[2].split() == ["2", CYCLE_ID, "09:30:02", "1.3", "s", "completed", "schedule",
                                "1", "1"]  # fmt: skip
    assert lines[3].strip() == FUNNEL_LINE
    assert lines[4].strip() == "ranked 5 → risk 2 → ordered 1"
    assert lines[5].strip() == "skipped 1215: not_tradable 1200, stale 12, no_snapshot 3"


def test_list_of_an_empty_day_says_so() -> None:
    assert CycleList(DAY, ()).render() == "no cycles on 2026-11-24"
    assert CycleList(DAY, ()).as_dict() == {"date": "2026-11-24", "cycles": []}


def test_list_shows_why_a_cycle_failed_or_was_missed_and_one_still_running() -> None:
    failed = cycle(cycle_number=1, cycle_id="20261124-0915", status=CycleStatus.FAILED, funnel={},
                   skipped={}, error_message="broker timed out")  # fmt: skip
    missed = cycle(cycle_number=3, cycle_id="20261124-1000", status=CycleStatus.MISSED, funnel={},
                   skipped={}, finished_at=STARTED, error_message="daemon was down")  # fmt: skip
    running = cycle(cycle_number=4, cycle_id="20261124-1030", status=CycleStatus.RUNNING, funnel={},
                    skipped={}, finished_at=None)  # fmt: skip

    text = CycleList(DAY, (failed, missed, running)).render()

    assert "error: broker timed out" in _line_with("error:", text)
    assert _line_with("missed:", text).strip() == "missed: daemon was down"
    assert _line_with("20261124-1000", text).split()[3] == "-"  # a missed cycle never ran
    assert _line_with("20261124-1030", text).split()[3] == "running"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.04, "0.0 s"), (1.26, "1.3 s"), (42.4, "42 s"), (125, "2 min 05 s")],
)
def test_list_shows_how_long_a_cycle_took(seconds: float, shown: str) -> None:
    took = cycle(finished_at=STARTED + timedelta(seconds=seconds))
    assert shown in CycleList(DAY, (took,)).render().splitlines()[2]


def test_list_as_json_keeps_the_funnel_order_and_gives_times_in_iso() -> None:
    data = json.loads(json.dumps(CycleList(DAY, (cycle(),)).as_dict()))

    (entry,) = data["cycles"]
    assert list(entry["funnel"].items()) == list(FUNNEL.items())
    assert entry["started_at"] == "2026-11-24T14:30:02+00:00"
    assert entry["duration_seconds"] == 1.3
    assert entry["skipped"] == {"stale": 12, "not_tradable": 1200, "no_snapshot": 3}


# ------------------------------------------------------------------------ one cycle


def _detail() -> str:
    return CycleDetail(cycle(), tuple(funnel_rows())).render()


def test_detail_shows_the_stages_in_funnel_order_with_their_counts() -> None:
    headings = [line for line in _detail().splitlines() if " reached" in line]
    assert headings == [
        "most_active: 3 reached, 3 kept, 0 dropped",
        "catalysts: 3 reached, 2 kept, 1 dropped",
        "technicals: 2 reached, 2 kept, 0 dropped",
        "ranked: 2 reached, 1 kept, 1 dropped",
    ]


def test_detail_shows_a_dropped_symbol_with_its_reason_on_its_row() -> None:
    text = _detail()
    bolt = _entry("BOLT", _section(text, "catalysts:", "technicals:"))
    assert (
        bolt == "3 BOLT 12.34 0.12 0.9x -0.3% 0 dropped: catalyst score 0.12 not among the 50 best"
    )
    crux = _entry("CRUX", _section(text, "ranked:", "final candidates"))
    assert crux == f"2 CRUX 12.34 0.41 - dropped: {DROP_REASON}"


def test_detail_shows_what_moved_a_kept_symbol_and_its_key_figures() -> None:
    catalysts = _section(_detail(), "catalysts:", "technicals:")
    header, acme = catalysts.splitlines()[1:3]
    assert header.split() == ["rank", "symbol", "price", "score", "rvol", "gap", "news", "outcome"]
    assert _entry("ACME", catalysts) == (
        "1 ACME 12.34 0.81 3.1x +4.2% 2 +0.45 "
        "kept: relative volume 3.1x; gap +4.2%; earnings beat 40 min ago"
    )
    assert acme.index("kept") == header.index("outcome"), "the outcome column is aligned"
    technicals = _section(_detail(), "technicals:", "ranked:")
    assert _entry("ACME", technicals) == "1 ACME 12.34 0.81 bull_flag 61 kept"
    assert _entry("CRUX", technicals) == "2 CRUX 12.34 0.81 - 78 kept"


def test_detail_ends_with_the_final_candidates_and_their_entry_stop_and_target() -> None:
    lines = _detail().splitlines()
    at = lines.index("final candidates: 1")
    assert lines[at + 1].split() == [
        "rank", "symbol", "stage", "price", "score", "entry", "stop", "target", "r:r"
    ]  # fmt: skip
    assert lines[at + 2].split() == ["1", "ACME", "ranked", "12.34", "0.86", "12.40", "11.90",
                                     "13.40", "2.0"]  # fmt: skip
    assert len(lines) == at + 3


def test_detail_header_gives_the_cycle_its_funnel_and_new_york_start() -> None:
    lines = _detail().splitlines()
    assert lines[0] == f"cycle {CYCLE_ID} (#2 on 2026-11-24): completed, schedule, autonomous"
    assert lines[1] == "  started 2026-11-24 09:30:02 EST, took 1.3 s; candidates 1, trades 1"
    assert lines[2].strip() == FUNNEL_LINE + " ranked 5 →"


def test_detail_of_rows_journaled_before_stages_shows_what_is_known() -> None:
    legacy = [
        scan_row(FunnelStage.CATALYSTS, 1, "OLD1", kept=None, final_candidate=True),
        scan_row(FunnelStage.CATALYSTS, 2, "OLD2", kept=None, reject_reason="max positions"),
        scan_row(FunnelStage.CATALYSTS, 3, "OLD3", kept=None, composite_score=None),
    ]
    text = CycleDetail(cycle(funnel={}, skipped={}), tuple(legacy)).render()

    catalysts = _section(text, "catalysts: 3 reached", "final candidates")
    assert _line_with("outcome", catalysts).split() == [
        "rank", "symbol", "price", "score", "outcome"
    ]  # fmt: skip
    assert _entry("OLD1", catalysts) == "1 OLD1 12.34 0.81 final"
    assert _entry("OLD2", catalysts) == "2 OLD2 12.34 0.81 dropped: max positions"
    assert _entry("OLD3", catalysts) == "3 OLD3 12.34 - -"  # no score; went on? not known
    assert "(journaled before per-stage records" in catalysts
    final = _section(text, "final candidates: 1", None)
    assert _entry("OLD1", final) == "1 OLD1 catalysts 12.34 0.81 - - - -"  # no plan back then


def test_detail_of_a_cycle_without_scan_results_says_so() -> None:
    text = CycleDetail(cycle(status=CycleStatus.FAILED, error_message="boom"), ()).render()
    assert "  error: boom" in text.splitlines()
    assert text.splitlines()[-1] == "no scan results journaled for this cycle"


def test_detail_as_json_has_every_row_with_decimals_as_strings() -> None:
    data = json.loads(json.dumps(CycleDetail(cycle(), tuple(funnel_rows())).as_dict()))

    assert data["cycle"]["cycle_id"] == CYCLE_ID
    assert len(data["scan_results"]) == len(funnel_rows())
    bolt = next(r for r in data["scan_results"] if r["symbol"] == "BOLT" and not r["kept"])
    assert bolt["stage"] == "catalysts"
    assert bolt["price"] == "12.34"
    assert bolt["reject_reason"] == "catalyst score 0.12 not among the 50 best"
    (final,) = data["final_candidates"]
    assert (final["symbol"], final["stage"], final["plan"]) == (
        "ACME", "ranked", {"entry": "12.40", "stop": "11.90", "target": "13.40"}
    )  # fmt: skip
    assert final["indicators"] == {}
    technicals = next(r for r in data["scan_results"] if r["stage"] == "technicals")
    assert technicals["indicators"] == {"rsi": 61.2, "atr": 0.31, "macd": None}


_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.%+-", min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(
    reasons=st.lists(st.lists(_words, min_size=1, max_size=25), min_size=1, max_size=40),
    pattern=st.sampled_from([None, "orb", "bull_flag", "previous_day_high_breakout"]),
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
)
def test_every_line_fits_100_columns_and_no_reason_is_cut(
    reasons: list[list[str]], pattern: str | None, price: Decimal
) -> None:
    rows = [
        scan_row(
            FunnelStage.TECHNICALS,
            rank,
            f"S{rank}",
            kept=rank % 2 == 0,
            pattern=pattern,
            price_at_scan=price,
            features={"relative_volume": 1.5 * rank, "gap_pct": -2.0, "news_count": rank},
            indicators={"rsi": 55.0},
            reject_reason=None if rank % 2 == 0 else " ".join(words),
            reasons=(" ".join(words),),
        )
        for rank, words in enumerate(reasons, start=1)
    ]
    text = CycleDetail(cycle(), tuple(rows)).render()

    assert max(len(line) for line in text.splitlines()) <= WIDTH
    flowing = " ".join(text.split())
    for words in reasons:
        assert " ".join(words) in flowing
