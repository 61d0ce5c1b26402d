from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.domain.ticks import (
    is_valid_tick,
    round_down_to_tick,
    round_up_to_tick,
    tick_size,
)

D = Decimal


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        (D("1"), D("0.01")),
        (D("250.5"), D("0.01")),
        (D("0.9999"), D("0.0001")),
        (D("0.01"), D("0.0001")),
    ],
)
def test_tick_size_is_a_penny_from_one_dollar_and_sub_penny_below(
    price: Decimal, tick: Decimal
) -> None:
    assert tick_size(price) == tick


@pytest.mark.parametrize(
    ("price", "down", "up"),
    [
        (D("12.347"), D("12.34"), D("12.35")),
        (D("12.34"), D("12.34"), D("12.34")),
        (D("0.12345"), D("0.1234"), D("0.1235")),
        (D("0.99995"), D("0.9999"), D("1.00")),
        (D("1.00001"), D("1.00"), D("1.01")),
        (D("0.00005"), D("0"), D("0.0001")),
    ],
)
def test_rounding_moves_to_the_nearest_valid_tick_in_the_requested_direction(
    price: Decimal, down: Decimal, up: Decimal
) -> None:
    assert round_down_to_tick(price) == down
    assert round_up_to_tick(price) == up


@pytest.mark.parametrize(
    ("price", "valid"),
    [
        (D("12.34"), True),
        (D("12.345"), False),
        (D("1.50"), True),
        (D("1.5000"), True),
        (D("1.005"), False),
        (D("1.0000"), True),
        (D("0.9999"), True),
        (D("0.1234"), True),
        (D("0.12345"), False),
        (D("0"), False),
        (D("-1.00"), False),
        (D("NaN"), False),
        (D("Infinity"), False),
        (D("1.23E+40"), False),
    ],
)
def test_is_valid_tick_accepts_only_positive_whole_ticks(price: Decimal, valid: bool) -> None:
    assert is_valid_tick(price) is valid


@pytest.mark.parametrize("bad", [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity")])
def test_rounding_a_non_finite_price_raises(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="finite"):
        round_down_to_tick(bad)
    with pytest.raises(ValueError, match="finite"):
        round_up_to_tick(bad)


prices = st.decimals(min_value=D("0.0001"), max_value=D("100000"), places=6, allow_nan=False)


@given(prices)
def test_rounding_always_yields_a_valid_tick_within_one_tick_of_the_price(price: Decimal) -> None:
    down, up = round_down_to_tick(price), round_up_to_tick(price)
    assert down <= price <= up
    assert is_valid_tick(up)
    assert down == 0 or is_valid_tick(down)
    assert price - down < tick_size(price)
    assert up - price < tick_size(price)
