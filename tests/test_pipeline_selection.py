import math

import pytest
from stubs import candidate

from catalyst.pipeline.selection import select_top


def test_select_top_keeps_best_scores_first_and_ranks_the_rest_out() -> None:
    result = select_top(
        [
            candidate("A", confidence=0.7),
            candidate("B", confidence=0.9),
            candidate("C", confidence=0.8),
        ],
        n=2,
        min_confidence=0.6,
    )
    assert [c.symbol for c in result.kept] == ["B", "C"]
    assert [(r.symbol, r.reason) for r in result.rejected] == [("A", "not in top 2 (rank 3)")]


def test_select_top_drops_candidates_below_the_floor_even_with_room_left() -> None:
    result = select_top(
        [candidate("A", confidence=0.59), candidate("B", confidence=0.6)], n=5, min_confidence=0.6
    )
    assert [c.symbol for c in result.kept] == ["B"]
    assert result.rejected[0].symbol == "A"
    assert "below 0.60" in result.rejected[0].reason


def test_select_top_breaks_score_ties_by_symbol() -> None:
    result = select_top(
        [candidate("Z", confidence=0.8), candidate("A", confidence=0.8)], n=1, min_confidence=0.0
    )
    assert [c.symbol for c in result.kept] == ["A"]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_select_top_never_selects_a_non_finite_confidence(bad: float) -> None:
    result = select_top([candidate("A", confidence=bad)], n=1, min_confidence=0.0)
    assert result.kept == ()
    assert result.rejected[0].reason == "confidence is not a number"


def test_select_top_rejects_non_positive_n() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        select_top([], n=0, min_confidence=0.5)
