"""bench/strategy.py's grading: trades, R multiples and picks from a day's fills and orders.

The figures the strategy benchmark reports rest on this; the module lives in bench/ (it is not
part of the package), so it is loaded from its file.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import ModuleType

import pytest
from support import REPO

from catalyst.domain.models import Fill, LegRole, OrderClass, OrderType, Side
from catalyst.store.records import OrderRecord, OrderSource


def _load_grading() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "strategy_grading", REPO / "bench" / "strategy_grading.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


grading = _load_grading()
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _order(client_id: str, symbol: str, role: LegRole, stop: str | None = None) -> OrderRecord:
    return OrderRecord(
        client_order_id=client_id,
        broker_order_id=f"b-{client_id}",
        parent_client_order_id=None,
        cycle_id=None,
        symbol=symbol,
        side=Side.BUY if role is LegRole.ENTRY else Side.SELL,
        qty=10,
        order_type=OrderType.MARKET,
        order_class=OrderClass.BRACKET if role is LegRole.ENTRY else OrderClass.SIMPLE,
        role=role,
        limit_price=None,
        stop_price=None,
        take_profit_price=None,
        stop_loss_price=None if stop is None else Decimal(stop),
        status="filled",
        filled_qty=10,
        filled_avg_price=None,
        created_at=T0,
        updated_at=T0,
        source=OrderSource.CATALYST,
        error=None,
    )


def _fill(minute: int, client_id: str, symbol: str, side: Side, qty: int, price: str) -> Fill:
    return Fill(
        order_id=f"b-{client_id}",
        client_order_id=client_id,
        symbol=symbol,
        side=side,
        qty=qty,
        price=Decimal(price),
        timestamp=T0 + timedelta(minutes=minute),
    )


ORDERS = {
    o.client_order_id: o
    for o in (
        _order("e1", "AAA", LegRole.ENTRY, stop="9.50"),
        _order("tp1", "AAA", LegRole.TAKE_PROFIT),
        _order("x1", "AAA", LegRole.EXIT),
        _order("e2", "AAA", LegRole.ENTRY, stop="10.80"),
        _order("sl2", "AAA", LegRole.STOP_LOSS),
        _order("e3", "BBB", LegRole.ENTRY),  # no bracket stop: R undefined
        _order("x3", "BBB", LegRole.EXIT),
    )
}


def test_trades_run_flat_to_flat_with_pnl_and_r_from_the_bracket_stop() -> None:
    fills = [
        _fill(0, "e1", "AAA", Side.BUY, 10, "10.00"),  # risk 10 x 0.50 = 5
        _fill(5, "tp1", "AAA", Side.SELL, 4, "11.00"),
        _fill(9, "x1", "AAA", Side.SELL, 6, "9.75"),  # P&L 4 - 1.5 = 2.5
        _fill(20, "e2", "AAA", Side.BUY, 5, "11.00"),  # re-entered: risk 5 x 0.20 = 1
        _fill(30, "e3", "BBB", Side.BUY, 3, "20.00"),
        _fill(40, "sl2", "AAA", Side.SELL, 5, "10.80"),  # P&L -1
        _fill(50, "x3", "BBB", Side.SELL, 3, "21.00"),  # P&L 3
    ]
    trades, still_open = grading.trades_from_fills(fills, ORDERS)
    assert still_open == 0
    first, second, third = trades
    assert (first.symbol, first.qty, first.pnl, first.risk) == ("AAA", 10, Decimal("2.5"), 5)
    assert first.r_multiple == pytest.approx(0.5)
    assert first.exit_roles == ("take_profit", "exit")
    assert (second.symbol, second.pnl, second.r_multiple) == ("AAA", Decimal(-1), -1.0)
    assert second.exit_roles == ("stop_loss",)
    assert (third.symbol, third.pnl, third.r_multiple) == ("BBB", Decimal(3), None)
    assert grading.picks_from_fills(fills, ORDERS) == {"AAA", "BBB"}


def test_a_position_left_open_is_counted_not_graded() -> None:
    fills = [
        _fill(0, "e1", "AAA", Side.BUY, 10, "10.00"),
        _fill(5, "tp1", "AAA", Side.SELL, 4, "11.00"),
    ]
    trades, still_open = grading.trades_from_fills(fills, ORDERS)
    assert (trades, still_open) == ([], 1)


def test_a_fill_through_zero_is_refused() -> None:
    fills = [
        _fill(0, "e1", "AAA", Side.BUY, 10, "10.00"),
        _fill(5, "x1", "AAA", Side.SELL, 12, "11.00"),
    ]
    with pytest.raises(ValueError, match="through zero"):
        grading.trades_from_fills(fills, ORDERS)


def test_totals_pool_precision_recall_and_win_rate_over_the_days() -> None:
    planted = grading.Planted(
        up=frozenset({"AAA", "BBB", "CCC"}),
        down=frozenset({"DDD"}),
        eligible_up=frozenset({"AAA", "CCC"}),
    )
    win = grading.Trade("AAA", 10, Decimal(10), Decimal(9), Decimal(20), Decimal(10), ("exit",))
    loss = grading.Trade("DDD", 10, Decimal(10), Decimal(9), Decimal(-10), Decimal(10), ())

    def day(picks: set[str], trades: tuple[object, ...]) -> object:
        return grading.DayResult(
            seed=1,
            day=date(2026, 11, 24),
            kind="funnel",
            planted=planted,
            picks=frozenset(picks),
            selected=frozenset(picks),
            trades=trades,
            open_trades=0,
            realised_pnl=Decimal(0),
            scans=6,
            wall_seconds=1.0,
        )

    result = grading.totals([day({"AAA", "DDD"}, (win, loss)), day({"BBB", "EEE"}, (win,))])
    assert result.precision == pytest.approx(2 / 4)  # AAA, BBB of AAA, DDD, BBB, EEE
    assert result.recall == pytest.approx(1 / 4)  # AAA of the 2 + 2 eligible
    assert result.win_rate == pytest.approx(2 / 3)
    assert result.mean_r == pytest.approx((2 - 1 + 2) / 3)
    assert result.day_pnls == (Decimal(10), Decimal(20))
    assert result.picks_down == 1
