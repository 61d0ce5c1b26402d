from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from stubs import book, order, plan, position

from catalyst.domain.models import Order, OrderStatus, OrderType, Side
from catalyst.risk.exposure import open_risk

PCT = Decimal("0.02")


def stop(symbol: str, qty: int, price: str, status: OrderStatus = OrderStatus.NEW) -> Order:
    return order(
        f"c-{symbol}-{price}",
        symbol=symbol,
        side=Side.SELL,
        qty=qty,
        type=OrderType.STOP,
        status=status,
        stop_price=price,
    )


def test_protected_position_risks_the_distance_to_its_stop() -> None:
    assert open_risk([position("AAA", 100, "50")], [stop("AAA", 100, "49")], PCT) == 100


def test_unprotected_shares_count_at_the_fallback_percentage() -> None:
    risk = open_risk([position("AAA", 100, "50")], [stop("AAA", 40, "49")], PCT)
    assert risk == 40 * 1 + 60 * Decimal("50") * PCT


def test_cancelled_stops_do_not_protect() -> None:
    cancelled = stop("AAA", 100, "49", OrderStatus.CANCELED)
    assert open_risk([position("AAA", 100, "50")], [cancelled], PCT) == 100 * Decimal("50") * PCT


def test_a_stop_above_the_mark_risks_nothing_more() -> None:
    assert open_risk([position("AAA", 10, "50")], [stop("AAA", 10, "51")], PCT) == 0


@given(
    qty=st.integers(1, 10_000),
    mark=st.integers(100, 100_000),
    stop_cents=st.integers(1, 100_000),
    covered=st.integers(0, 10_000),
)
def test_open_risk_is_never_negative_and_at_most_the_position_value(
    qty: int, mark: int, stop_cents: int, covered: int
) -> None:
    price = Decimal(mark) / 100
    orders = [stop("AAA", covered, str(Decimal(stop_cents) / 100))] if covered else []
    risk = open_risk([position("AAA", qty, str(price))], orders, PCT)
    assert 0 <= risk <= qty * price


def test_daily_loss_rule_counts_the_open_risk_of_held_positions() -> None:
    from catalyst.config.models import RiskLimits
    from catalyst.domain.decisions import Approved, Rejected
    from catalyst.risk.rules import check_entry

    risks_100 = plan("BBB", "Energy", entry_price="20.00", stop_price="19.00", target_price="22.00")
    limits = RiskLimits(max_daily_loss_usd=Decimal("2000"))

    assert isinstance(check_entry(risks_100, book(open_risk="1900"), limits), Approved)
    refused = check_entry(risks_100, book(open_risk="1901"), limits)
    assert isinstance(refused, Rejected)
    assert refused.rule == "daily_loss"
