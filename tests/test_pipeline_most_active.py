from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stubs import asset, snapshot

from catalyst.pipeline.candidates import UniverseMember
from catalyst.pipeline.most_active import RVOL_CAP, activity, most_active
from catalyst.pipeline.volume_profile import expected_volume_share, relative_volume

D = Decimal


def member(
    symbol: str, day_volume: int, prev_volume: int = 1_000, price: str = "20"
) -> UniverseMember:
    return UniverseMember(
        asset=asset(symbol),
        snapshot=snapshot(
            symbol, day_volume=day_volume, prev_volume=prev_volume, last_price=D(price)
        ),
    )


def test_most_active_ranks_by_dollar_volume_at_equal_relative_volume() -> None:
    cheap_busy = member("A", 10_000, prev_volume=10_000, price="2")  # $20k
    dear_quiet = member("B", 1_000, prev_volume=1_000, price="50")  # $50k
    middle = member("C", 1_500, prev_volume=1_500, price="20")  # $30k
    result = most_active([cheap_busy, dear_quiet, middle], 2)
    assert [m.symbol for m in result.kept] == ["B", "C"]
    assert [(r.symbol, r.reason) for r in result.rejected] == [
        ("A", "not in top 2 by activity (rank 3)")
    ]


def test_unusual_volume_for_the_time_of_day_lifts_a_name() -> None:
    # Half-way through the session half a normal day is expected: 4x means 2 days' volume.
    usual = member("USUAL", 50_000, prev_volume=100_000)
    unusual = member("HOT", 40_000, prev_volume=20_000)
    assert [m.symbol for m in most_active([usual, unusual], 1, session_fraction=0.5).kept] == [
        "HOT"
    ]
    assert activity(unusual, session_fraction=0.5, premarket=False).relative_volume == 4.0


def test_relative_volume_is_against_the_same_time_of_day() -> None:
    # The U-shaped day: the open is busier than the midday, so 10 % in is more than 10 % traded.
    assert expected_volume_share(0.1) == pytest.approx(0.172)
    assert expected_volume_share(0.5) == pytest.approx(0.5)
    assert expected_volume_share(1.0) == 1.0
    assert relative_volume(17_200, 100_000, 0.1) == pytest.approx(1.0)


def test_relative_volume_weight_is_capped_so_thin_names_cannot_buy_their_way_in() -> None:
    thin = member("THIN", 1_000, prev_volume=1, price="5")  # absurd rvol, $5k
    liquid = member("LIQ", 100_000, prev_volume=100_000, price="50")
    assert activity(thin, session_fraction=0.5, premarket=False).score == 5_000 * RVOL_CAP
    assert [m.symbol for m in most_active([thin, liquid], 1, session_fraction=0.5).kept] == ["LIQ"]


def test_most_active_breaks_ties_by_symbol() -> None:
    result = most_active([member("ZZ", 5), member("AA", 5), member("MM", 5)], 3)
    assert [m.symbol for m in result.kept] == ["AA", "MM", "ZZ"]


def test_most_active_before_the_open_ranks_by_the_previous_sessions_dollar_volume() -> None:
    premarket = [member("A", 500, prev_volume=100), member("B", 0, prev_volume=900)]
    assert [m.symbol for m in most_active(premarket, 1, premarket=True).kept] == ["B"]
    assert activity(premarket[1], session_fraction=0.0, premarket=True).relative_volume is None


def test_most_active_with_fewer_members_than_n_keeps_all() -> None:
    result = most_active([member("A", 1)], 5)
    assert [m.symbol for m in result.kept] == ["A"]
    assert result.rejected == ()


def test_most_active_rejects_non_positive_n() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        most_active([member("A", 1)], 0)


@example(volume=1.0, baseline=5e-324, fraction=0.0)  # the share of a denormal underflows to 0
@given(
    volume=st.floats(allow_nan=True, allow_infinity=True),
    baseline=st.floats(allow_nan=True, allow_infinity=True),
    fraction=st.floats(allow_nan=True, allow_infinity=True),
)
def test_relative_volume_is_always_a_finite_non_negative_number(
    volume: float, baseline: float, fraction: float
) -> None:
    value = relative_volume(volume, baseline, fraction)
    assert value >= 0
    assert value < float("inf")
