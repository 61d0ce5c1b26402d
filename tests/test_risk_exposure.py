from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from catalyst.domain.models import Order, OrderClass, OrderStatus, OrderType, Position, Side
from catalyst.risk.exposure import open_risk

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
PCT = Decimal("0.02")


def position(symbol: str, qty: int, mark: str) -> Position:
    return Position(symbol, qty, Decimal(mark), Decimal(mark))


def stop(symbol: str, qty: int, price: str, status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order(
        id=f"s-{symbol}-{price}",
        client_order_id=f"c-{symbol}-{price}",
        symbol=symbol,
        side=Side.SELL,
        qty=qty,
        filled_qty=0,
        type=OrderType.STOP,
        status=status,
        order_class=OrderClass.SIMPLE,
        submitted_at=AT,
        stop_price=Decimal(price),
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
    from catalyst.domain.plans import TradePlan
    from catalyst.risk.rules import BookState, check_entry

    plan = TradePlan(
        symbol="BBB",
        sector="Energy",
        qty=100,
        entry_price=Decimal("20.00"),
        stop_price=Decimal("19.00"),
        target_price=Decimal("22.00"),
        confidence=0.9,
    )  # risks 100
    limits = RiskLimits(max_daily_loss_usd=Decimal("2000"))

    def book(risk: str) -> BookState:
        return BookState(
            equity=Decimal("100000"),
            buying_power=Decimal("100000"),
            positions=(),
            open_entry_symbols=frozenset(),
            sectors={},
            day_pnl=Decimal("0"),
            trading_halted=False,
            paused=False,
            entries_allowed_now=True,
            open_risk=Decimal(risk),
        )

    assert isinstance(check_entry(plan, book("1900"), limits), Approved)
    refused = check_entry(plan, book("1901"), limits)
    assert isinstance(refused, Rejected)
    assert refused.rule == "daily_loss"
