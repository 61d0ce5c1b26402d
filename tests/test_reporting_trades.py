"""The day report's pure core: fills and journaled orders paired into trades, each exit's reason
from the closing order's role or purpose, the day's figures, and the equity curve's drawdown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from stubs import fill

from catalyst.domain.models import LegRole, OrderClass, OrderType, Side
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.execution.order_ids import client_order_id
from catalyst.execution.purposes import (
    ClosePurpose,
    end_of_day_purpose,
    exit_purposes,
    max_hold_purpose,
    protective_purpose,
)
from catalyst.reporting.day_report import NO_SAMPLES, DayReport
from catalyst.reporting.equity import EquityPoint, max_drawdown
from catalyst.reporting.trades import DayTrades, ExitReason, pair_trades
from catalyst.store.records import OrderRecord, OrderSource, RiskEventRecord

DAY = date(2026, 11, 24)
OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 New York


def _at(minutes: int) -> datetime:
    return OPEN + timedelta(minutes=minutes)


def _order(
    cid: str,
    *,
    role: LegRole,
    symbol: str = "AAA",
    side: Side = Side.SELL,
    qty: int = 100,
    parent: str | None = None,
    limit: str | None = None,
    stop: str | None = None,
    bracket: tuple[str, str] | None = None,  # (stop, target) of an entry
    source: OrderSource = OrderSource.CATALYST,
) -> OrderRecord:
    return OrderRecord(
        client_order_id=cid,
        broker_order_id=f"b-{cid}",
        parent_client_order_id=parent,
        cycle_id=None,
        symbol=symbol,
        side=side,
        qty=qty,
        order_type=OrderType.LIMIT if limit else OrderType.MARKET,
        order_class=OrderClass.BRACKET if bracket else OrderClass.SIMPLE,
        role=role,
        limit_price=None if limit is None else Decimal(limit),
        stop_price=None if stop is None else Decimal(stop),
        take_profit_price=None if bracket is None else Decimal(bracket[1]),
        stop_loss_price=None if bracket is None else Decimal(bracket[0]),
        status="filled",
        filled_qty=qty,
        filled_avg_price=None,
        created_at=_at(0),
        updated_at=_at(0),
        source=source,
        error=None,
    )


def _bracket(
    symbol: str = "AAA", *, entry: str = "50.00", stop: str = "49.00", target: str = "52.00"
) -> dict[str, OrderRecord]:
    """A filled bracket entry of 100 shares and its two legs, by client_order_id."""
    cid = f"entry-{symbol}"
    return {
        cid: _order(
            cid,
            role=LegRole.ENTRY,
            symbol=symbol,
            side=Side.BUY,
            limit=entry,
            bracket=(stop, target),
        ),
        f"stop-{symbol}": _order(
            f"stop-{symbol}", role=LegRole.STOP_LOSS, symbol=symbol, parent=cid, stop=stop
        ),
        f"tp-{symbol}": _order(
            f"tp-{symbol}", role=LegRole.TAKE_PROFIT, symbol=symbol, parent=cid, limit=target
        ),
    }


def _buy(qty: int, price: str, minute: int, symbol: str = "AAA") -> object:
    return fill(
        Side.BUY, qty, price, symbol=symbol, at=_at(minute), client_order_id=f"entry-{symbol}"
    )


def _sell(cid: str, qty: int, price: str, minute: int, symbol: str = "AAA") -> object:
    return fill(Side.SELL, qty, price, symbol=symbol, at=_at(minute), client_order_id=cid)


def _report(trades: DayTrades, **overrides: object) -> DayReport:
    values: dict[str, object] = {
        "environment": "paper",
        "trades": trades,
        "cycles": (),
        "risk_events": (),
        "equity": (),
        "start_equity": None,
    }
    values.update(overrides)
    return DayReport.build(DAY, **values)  # type: ignore[arg-type]


def test_a_stop_out_is_a_stop_with_a_loss_of_one_r() -> None:
    orders = _bracket()
    day = pair_trades([_buy(100, "50.00", 5), _sell("stop-AAA", 100, "49.00", 40)], orders, {})

    (trade,) = day.trades
    assert trade.exit_reasons == (ExitReason.STOP,)
    assert trade.pnl == Decimal("-100.00")
    assert trade.r_multiple == Decimal(-1)
    assert not trade.is_open
    assert trade.exited_at == _at(40)


def test_a_target_is_a_target_and_its_r_uses_the_planned_entry() -> None:
    orders = _bracket(entry="50.00", stop="49.00")
    # Filled 0.10 better than the limit: R is measured against the plan's risk of 1.00 a share.
    day = pair_trades([_buy(100, "49.90", 5), _sell("tp-AAA", 100, "52.00", 90)], orders, {})

    (trade,) = day.trades
    assert trade.exit_reason == "target"
    assert trade.pnl == Decimal("210.00")
    assert trade.r_multiple == Decimal("2.1")


def test_the_end_of_day_flatten_is_told_apart_from_a_max_hold_close() -> None:
    orders = {**_bracket("AAA"), **_bracket("BBB")}
    eod = client_order_id(end_of_day_purpose(DAY), "AAA", "exit-1")
    held_since = _at(200)
    maxhold = client_order_id(max_hold_purpose(held_since), "BBB", "exit-2")
    for cid, symbol in ((eod, "AAA"), (maxhold, "BBB")):
        orders[cid] = _order(cid, role=LegRole.EXIT, symbol=symbol)
    purposes = exit_purposes(
        DAY,
        [(eod, "AAA"), (maxhold, "BBB")],
        [(RiskEventKind.MAX_HOLD_TIME, held_since), (RiskEventKind.POSITION_GONE, _at(201))],
    )
    fills = [
        _buy(100, "50.00", 1, "AAA"),
        _buy(100, "50.00", 2, "BBB"),
        _sell(maxhold, 100, "50.50", 200, "BBB"),
        _sell(eod, 100, "50.20", 380, "AAA"),
    ]

    trades = {t.symbol: t for t in pair_trades(fills, orders, purposes).trades}
    assert purposes == {eod: ClosePurpose.END_OF_DAY, maxhold: ClosePurpose.MAX_HOLD}
    assert trades["AAA"].exit_reasons == (ExitReason.END_OF_DAY,)
    assert trades["BBB"].exit_reasons == (ExitReason.MAX_HOLD,)


def test_a_close_whose_purpose_the_journal_cannot_name_says_closed() -> None:
    orders = _bracket()
    # A max-hold close whose risk event is not in the journal: its moment cannot be recovered.
    cid = client_order_id(max_hold_purpose(_at(100)), "AAA", "exit-1")
    orders[cid] = _order(cid, role=LegRole.EXIT)
    purposes = exit_purposes(DAY, [(cid, "AAA")], [])
    day = pair_trades([_buy(100, "50.00", 1), _sell(cid, 100, "51.00", 100)], orders, purposes)
    assert day.trades[0].exit_reasons == (ExitReason.CLOSED,)


def test_a_protective_close_below_the_stop_counts_as_a_stop() -> None:
    cid = client_order_id(protective_purpose(_at(30)), "AAA", "stop")
    purposes = exit_purposes(DAY, [(cid, "AAA")], [(RiskEventKind.UNPROTECTED_POSITION, _at(30))])
    assert purposes == {cid: ClosePurpose.PROTECTIVE}


def test_partial_fills_average_the_entry_and_each_exit_keeps_its_reason() -> None:
    orders = _bracket(entry="50.00", stop="49.00", target="52.00")
    fills = [
        _buy(40, "50.00", 1),
        _buy(60, "50.50", 2),
        _sell("tp-AAA", 30, "52.00", 50),
        _sell("stop-AAA", 70, "49.00", 60),
    ]

    (trade,) = pair_trades(fills, orders, {}).trades
    assert trade.qty == 100
    assert trade.entry_price == Decimal("50.30")
    assert trade.exit_reason == "target, stop"
    assert trade.pnl == Decimal("30") * Decimal("1.70") + Decimal("70") * Decimal("-1.30")
    assert trade.exit_price == Decimal("49.90")


def test_a_trade_still_open_at_the_end_is_reported_open() -> None:
    orders = _bracket()
    day = pair_trades([_buy(100, "50.00", 1), _sell("tp-AAA", 40, "52.00", 9)], orders, {})
    report = _report(day)

    (trade,) = day.trades
    assert trade.is_open
    assert trade.open_qty == 60
    assert report.open_trades == (trade,)
    assert report.closed_trades == ()
    assert report.win_rate is None  # no closed trade yet
    assert report.realised_pnl == Decimal("80.00")  # the 40 shares sold count
    assert "open at the end: AAA 60" in report.render()


def test_a_day_without_trading_says_so() -> None:
    report = _report(DayTrades(()))
    assert not report.traded
    assert "no trading on 2026-11-24" in report.render()
    assert report.headline() == "2026-11-24 PAPER: no trading"


def test_a_losing_day_has_its_largest_loss_and_a_negative_headline() -> None:
    orders = {**_bracket("AAA"), **_bracket("BBB"), **_bracket("CCC")}
    fills = [
        _buy(100, "50.00", 1, "AAA"),
        _buy(100, "50.00", 2, "BBB"),
        _buy(100, "50.00", 3, "CCC"),
        _sell("stop-AAA", 100, "49.00", 10, "AAA"),
        _sell("stop-BBB", 100, "48.50", 11, "BBB"),
        _sell("tp-CCC", 100, "50.40", 12, "CCC"),
    ]
    report = _report(pair_trades(fills, orders, {}), environment="live")

    assert report.realised_pnl == Decimal("-210.00")
    assert report.wins == 1
    assert report.win_rate == Decimal(1) / 3
    loss = report.largest_loss
    assert loss is not None
    assert loss.symbol == "BBB"
    assert loss.pnl == Decimal("-150.00")
    assert report.headline() == "2026-11-24 LIVE: day P&L -210.00 USD, 3 trades"
    text = report.render()
    assert "largest loss:    -150.00 USD (BBB, stop)" in text
    assert "win rate:        33% (1 of 3)" in text


@pytest.mark.parametrize("stop", ["50.00", "50.50"], ids=["stop-at-entry", "stop-above-entry"])
def test_a_bracket_without_risk_below_the_entry_has_no_r(stop: str) -> None:
    orders = _bracket(entry="50.00", stop=stop)
    day = pair_trades([_buy(100, "50.00", 1), _sell("tp-AAA", 100, "52.00", 9)], orders, {})
    (trade,) = day.trades
    assert trade.risk_per_share is None
    assert trade.r_multiple is None
    assert "+200.00" in _report(day).render()  # still reported, with "-" for R


def test_sells_of_orders_catalyst_did_not_place_are_manual_and_unmatched_shares_kept_apart() -> (
    None
):
    orders = _bracket()
    fills = [
        _buy(100, "50.00", 1),
        _sell("someone-else", 130, "51.00", 5),  # 30 more than the day's trade held
    ]
    day = pair_trades(fills, orders, {})
    (trade,) = day.trades
    assert trade.exit_reasons == (ExitReason.EXTERNAL,)
    assert [(f.qty, f.client_order_id) for f in day.unmatched] == [(30, "someone-else")]
    assert "unmatched sells:" in _report(day).render()


def test_a_bracket_leg_closes_its_own_entry_before_an_older_one() -> None:
    first = _bracket("AAA", entry="50.00")
    # A second bracket on the same symbol; its leg names its own entry as parent.
    second = {
        "entry-AAA2": _order(
            "entry-AAA2", role=LegRole.ENTRY, side=Side.BUY, limit="51.00", bracket=("50", "53")
        ),
        "tp-AAA2": _order("tp-AAA2", role=LegRole.TAKE_PROFIT, parent="entry-AAA2", limit="53"),
    }
    fills = [
        _buy(100, "50.00", 1),
        fill(Side.BUY, 100, "51.00", at=_at(2), client_order_id="entry-AAA2"),
        _sell("tp-AAA2", 100, "53.00", 3),
    ]
    trades = {t.entry_id: t for t in pair_trades(fills, {**first, **second}, {}).trades}
    assert trades["entry-AAA2"].pnl == Decimal("200.00")
    assert trades["entry-AAA"].is_open


def test_max_drawdown_is_the_deepest_fall_from_a_peak_to_a_later_trough() -> None:
    curve = [
        EquityPoint(_at(i), Decimal(v))
        for i, v in enumerate(["100", "110", "90", "120", "105", "95", "130"])
    ]
    dd = max_drawdown(curve)
    assert dd is not None
    assert dd.amount == Decimal(25)  # 120 -> 95, deeper than 110 -> 90
    assert (dd.peak.at, dd.trough.at) == (_at(3), _at(5))
    assert max_drawdown([]) is None
    rising = max_drawdown(curve[:2])
    assert rising is not None
    assert rising.amount == 0


def test_the_report_says_when_there_are_no_equity_samples_and_uses_them_when_there_are() -> None:
    orders = _bracket()
    day = pair_trades([_buy(100, "50.00", 1), _sell("stop-AAA", 100, "49.00", 9)], orders, {})
    bare = _report(day, start_equity=Decimal(100000))
    assert NO_SAMPLES in bare.render()
    assert bare.day_pnl == Decimal("-100.00")  # the realised P&L without samples

    curve = (EquityPoint(_at(0), Decimal(100000)), EquityPoint(_at(9), Decimal("99880")))
    sampled = _report(day, start_equity=Decimal(100000), equity=curve)
    assert sampled.day_pnl == Decimal(-120)  # fees, marks: the equity says what the day made
    assert "-120.00 USD (0.12%) from 09:30:00 to 09:39:00" in sampled.render()


def test_risk_events_and_json_carry_money_as_decimal_strings() -> None:
    orders = _bracket()
    day = pair_trades([_buy(100, "50.00", 1), _sell("stop-AAA", 100, "49.00", 9)], orders, {})
    event = RiskEventRecord(
        1, _at(9), RiskEventKind.DAILY_LOSS_WARNING, Severity.WARNING, "75%", None
    )
    report = _report(day, risk_events=(event,))
    data = report.as_dict()
    assert data["realised_pnl"] == "-100.00"
    assert data["trades"][0]["exit_reasons"] == ["stop"]  # type: ignore[index]
    assert "09:39:00 WARNING  daily_loss_warning: 75%" in report.render()
