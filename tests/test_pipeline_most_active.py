import pytest
from stubs import asset, snapshot

from catalyst.pipeline.candidates import UniverseMember
from catalyst.pipeline.most_active import activity_volume, most_active


def member(symbol: str, day_volume: int, prev_volume: int = 1_000) -> UniverseMember:
    return UniverseMember(
        asset=asset(symbol),
        snapshot=snapshot(symbol, day_volume=day_volume, prev_volume=prev_volume),
    )


def test_most_active_keeps_the_highest_volume_first() -> None:
    result = most_active([member("A", 10), member("B", 30), member("C", 20)], 2)
    assert [m.symbol for m in result.kept] == ["B", "C"]
    assert [(r.symbol, r.reason) for r in result.rejected] == [
        ("A", "not in top 2 by volume (rank 3)")
    ]


def test_most_active_breaks_volume_ties_by_symbol() -> None:
    result = most_active([member("ZZ", 5), member("AA", 5), member("MM", 5)], 3)
    assert [m.symbol for m in result.kept] == ["AA", "MM", "ZZ"]


def test_most_active_before_the_open_ranks_by_previous_volume() -> None:
    premarket = [member("A", 0, prev_volume=100), member("B", 0, prev_volume=900)]
    assert [m.symbol for m in most_active(premarket, 1).kept] == ["B"]


def test_activity_volume_prefers_todays_volume_once_trading() -> None:
    assert activity_volume(member("A", 7, prev_volume=1_000_000)) == 7


def test_most_active_with_fewer_members_than_n_keeps_all() -> None:
    result = most_active([member("A", 1)], 5)
    assert [m.symbol for m in result.kept] == ["A"]
    assert result.rejected == ()


def test_most_active_rejects_non_positive_n() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        most_active([member("A", 1)], 0)
