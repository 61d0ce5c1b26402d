from decimal import Decimal

import pytest

from catalyst.domain.models import Account, OrderEventKind, OrderRequest, OrderStatus, Side


def test_account_day_pnl_is_equity_minus_last_equity() -> None:
    account = Account(
        equity=Decimal("98500"),
        last_equity=Decimal("100000"),
        cash=Decimal("0"),
        buying_power=Decimal("0"),
    )
    assert account.day_pnl == Decimal("-1500")


def test_order_request_rejects_non_positive_quantity() -> None:
    with pytest.raises(ValueError, match="positive whole number"):
        OrderRequest(client_order_id="c-1", symbol="AAA", side=Side.BUY, qty=0)


def test_held_bracket_leg_counts_as_open() -> None:
    assert OrderStatus.HELD.is_open
    assert not OrderStatus.FILLED.is_open


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("fill", OrderEventKind.FILL),
        ("partial_fill", OrderEventKind.PARTIAL_FILL),
        ("canceled", OrderEventKind.CANCELED),
        ("order_cancel_rejected", OrderEventKind.ORDER_CANCEL_REJECTED),
        ("a_name_alpaca_adds_next_year", OrderEventKind.OTHER),
        ("", OrderEventKind.OTHER),
    ],
)
def test_order_event_kind_knows_the_broker_names_and_takes_any_other_as_other(
    name: str, kind: OrderEventKind
) -> None:
    assert OrderEventKind(name) is kind
