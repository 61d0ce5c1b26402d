from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from stubs import fill

from catalyst.domain.models import Fill, Side
from catalyst.domain.positions import position_opened_at
from catalyst.reporting.pnl import realised_pnl

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def minute(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def test_round_trip_realises_price_difference_times_shares() -> None:
    fills = [
        fill(Side.BUY, 10, "100.00", at=minute(0)),
        fill(Side.SELL, 10, "103.50", at=minute(1)),
    ]
    assert realised_pnl(fills) == Decimal("35.00")


def test_open_position_realises_nothing() -> None:
    assert realised_pnl([fill(Side.BUY, 10, "100.00")]) == 0


def test_partial_exit_uses_average_cost_of_scaled_in_entries() -> None:
    fills = [
        fill(Side.BUY, 10, "100.00", at=minute(0)),
        fill(Side.BUY, 10, "110.00", at=minute(1)),  # average 105
        fill(Side.SELL, 5, "100.00", at=minute(2)),
    ]
    assert realised_pnl(fills) == Decimal("-25.00")


def test_symbols_are_accounted_separately() -> None:
    fills = [
        fill(Side.BUY, 1, "10", at=minute(0), symbol="AAA"),
        fill(Side.BUY, 1, "20", at=minute(1), symbol="BBB"),
        fill(Side.SELL, 1, "11", at=minute(2), symbol="AAA"),
        fill(Side.SELL, 1, "19", at=minute(3), symbol="BBB"),
    ]
    assert realised_pnl(fills) == Decimal("0")


@given(
    st.lists(
        st.tuples(st.integers(1, 50), st.integers(100, 20000), st.integers(100, 20000)),
        min_size=1,
        max_size=10,
    )
)
def test_closed_round_trips_sum_to_cash_flow(trips: list[tuple[int, int, int]]) -> None:
    fills: list[Fill] = []
    expected = Decimal(0)
    for i, (qty, buy_cents, sell_cents) in enumerate(trips):
        buy, sell = Decimal(buy_cents) / 100, Decimal(sell_cents) / 100
        fills += [
            fill(Side.BUY, qty, str(buy), at=minute(2 * i)),
            fill(Side.SELL, qty, str(sell), at=minute(2 * i + 1)),
        ]
        expected += (sell - buy) * qty
    assert realised_pnl(fills) == expected


def test_position_opened_at_is_the_fill_that_left_zero_and_forgets_closed_ones() -> None:
    fills = [
        fill(Side.BUY, 10, "100", at=minute(0), symbol="AAA"),
        fill(Side.BUY, 5, "101", at=minute(3), symbol="AAA"),  # adding does not reset the clock
        fill(Side.BUY, 10, "50", at=minute(1), symbol="BBB"),
        fill(Side.SELL, 10, "51", at=minute(2), symbol="BBB"),  # closed
        fill(Side.BUY, 4, "52", at=minute(4), symbol="BBB"),  # reopened later
    ]
    assert position_opened_at(sorted(fills, key=lambda f: f.timestamp)) == {
        "AAA": T0,
        "BBB": minute(4),
    }
