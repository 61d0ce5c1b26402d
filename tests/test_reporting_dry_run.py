"""The dry run's renderer: the funnel line, the ranked table with each pick's bracket, why the
others dropped out, and JSON that carries every figure. Constructed rows, no scan."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from cycle_records import scan_row

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FunnelStage
from catalyst.reporting.dry_run import NOTHING_PLACED, DryRun
from catalyst.store.records import ScanResultRecord

AT = datetime(2026, 11, 24, 10, 30, tzinfo=EXCHANGE_TZ)
BRACKET = {"entry": "29.38", "stop": "28.92", "target": "30.30", "qty": "170"}
FUNNEL = {
    "universe": 3000,
    "snapshots_requested": 2971,
    "screened": 2594,
    "most_active": 200,
    "catalysts": 50,
    "technicals": 20,
    "selected": 2,
}


def _ranked() -> list[ScanResultRecord]:
    figures = {"relative_volume": 8.31, "gap_pct": 7.27, "news_count": 1, "news_score": 0.59}
    return [
        scan_row(FunnelStage.CATALYSTS, 1, "HUFM", features={"catalyst_score": 0.78}),
        scan_row(
            FunnelStage.RANKED,
            1,
            "HUFM",
            price_at_scan=Decimal("29.33"),
            composite_score=0.78,
            pattern="higher_lows",
            features={**figures, "catalyst_score": 0.7827},
            indicators={"rsi": 59.97},
            plan=BRACKET,
        ),
        scan_row(FunnelStage.RANKED, 2, "WHPT", composite_score=0.73),
        scan_row(
            FunnelStage.RANKED,
            3,
            "DDFH",
            kept=False,
            composite_score=0.67,
            reject_reason="confidence 0.67 below 0.70",
        ),
    ]


def _dry_run(**overrides: Any) -> DryRun:
    fields: dict[str, Any] = {
        "at": AT,
        "broker": "simulator",
        "scan_type": "intraday",
        "funnel": FUNNEL,
        "skipped": {"not_tradable": 29, "outside_price_band": 377},
        "results": tuple(_ranked()),
        "unsized": {"WHPT": "position size below one share"},
        "held_back": None,
        "equity": Decimal("100000"),
        "buying_power": Decimal("100000"),
    }
    fields.update(overrides)
    return DryRun(**fields)


def _row(text: str, symbol: str) -> list[str]:
    (line,) = [line for line in text.splitlines() if line.split()[1:2] == [symbol]]
    return line.split()


def test_dry_run_states_the_moment_and_that_nothing_is_placed() -> None:
    first = _dry_run().render().splitlines()[0]
    assert first == (
        f"dry run at 2026-11-24 10:30 EST against the simulator (intraday scan): {NOTHING_PLACED}"
    )


def test_dry_run_prints_the_counts_per_stage_in_funnel_order() -> None:
    text = _dry_run().render()
    funnel = " ".join(line.strip() for line in text.splitlines()[1:3])
    assert funnel == (
        "funnel: universe 3000 → snapshots_requested 2971 → screened 2594 → most_active 200 → "
        "catalysts 50 → technicals 20 → selected 2"
    )
    assert "skipped 406: outside_price_band 377, not_tradable 29" in text


def test_a_sized_pick_shows_its_figures_and_its_bracket_on_one_line() -> None:
    cells = _row(_dry_run().render(), "HUFM")
    # rank symbol price rvol gap news(count, score) rsi pattern score conf entry stop target qty
    assert cells == [
        "1",
        "HUFM",
        "29.33",
        "8.3x",
        "+7.3%",
        "1",
        "+0.59",
        "60",
        "higher_lows",
        "0.78",
        "0.78",
        "29.38",
        "28.92",
        "30.30",
        "170",
        "pick",
    ]


def test_a_pick_the_sizing_refused_says_why_and_has_no_bracket() -> None:
    line = " ".join(_row(_dry_run().render(), "WHPT"))
    assert line.endswith("0.73 - - - - pick, not sized: position size below one share")


def test_a_symbol_below_the_floor_says_why_it_dropped_out() -> None:
    line = " ".join(_row(_dry_run().render(), "DDFH"))
    assert line.endswith("- - - - dropped: confidence 0.67 below 0.70")


def test_only_the_ranked_stage_is_tabled() -> None:
    text = _dry_run().render()
    assert "ranked: 3, picks: 2 (sized on equity 100000.00, buying power 100000.00)" in text
    assert sum(1 for line in text.splitlines() if " HUFM " in line) == 1


def test_a_moment_the_cycle_would_not_order_at_is_said_above_the_table() -> None:
    text = _dry_run(held_back="pre-market scan: watch only", scan_type="premarket").render()
    assert "a cycle now would order none of the picks: pre-market scan: watch only" in text
    assert "(premarket scan)" in text.splitlines()[0]
    assert "would order none" not in _dry_run().render()


def test_an_empty_shortlist_prints_no_table() -> None:
    text = _dry_run(results=(), funnel={"universe": 3000, "most_active": 0}).render()
    assert text.splitlines()[-1] == (
        "ranked: 0, picks: 0 (sized on equity 100000.00, buying power 100000.00)"
    )
    assert "outcome" not in text


def test_dry_run_json_carries_the_funnel_the_brackets_and_every_row() -> None:
    data = json.loads(json.dumps(_dry_run().as_dict()))
    assert data["dry_run"] is True
    assert data["at"] == "2026-11-24T10:30:00-05:00"
    assert list(data["funnel"]) == list(FUNNEL)
    assert [r["symbol"] for r in data["ranked"]] == ["HUFM", "WHPT", "DDFH"]
    first, second, third = data["ranked"]
    assert (first["pick"], first["plan"], first["indicators"]["rsi"]) == (True, BRACKET, 59.97)
    assert (second["plan"], second["not_sized_reason"]) == (None, "position size below one share")
    assert (third["pick"], third["reject_reason"]) == (False, "confidence 0.67 below 0.70")
    assert len(data["scan_results"]) == 4
    assert data["account"] == {"equity": "100000", "buying_power": "100000"}


def test_ranked_rows_come_in_rank_order_whatever_order_they_were_given_in() -> None:
    shuffled = tuple(reversed(_ranked()))
    assert [r.symbol for r in _dry_run(results=shuffled).ranked()] == ["HUFM", "WHPT", "DDFH"]
    assert [r.symbol for r in _dry_run(results=shuffled).picks()] == ["HUFM", "WHPT"]


def test_a_price_below_a_dollar_keeps_four_places() -> None:
    cheap = replace(_ranked()[1], price_at_scan=Decimal("0.8123"))
    assert _row(_dry_run(results=(cheap,)).render(), "HUFM")[2] == "0.8123"
