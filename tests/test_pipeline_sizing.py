from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stubs import candidate

from catalyst.config.models import RiskLimits, WorkflowConfig
from catalyst.domain.decisions import Rejected
from catalyst.domain.plans import TradePlan
from catalyst.domain.ticks import is_valid_tick
from catalyst.pipeline.sizing import plan_bracket

D = Decimal
LIMITS = RiskLimits()  # max position $5000
WORKFLOW = WorkflowConfig()  # stop 2 %, reward:risk 2


def plan(
    price: str | Decimal,
    *,
    equity: str = "100000",
    buying_power: str = "100000",
    limits: RiskLimits = LIMITS,
    workflow: WorkflowConfig = WORKFLOW,
) -> TradePlan | Rejected:
    return plan_bracket(
        candidate(last_price=price),
        account_equity=D(equity),
        buying_power=D(buying_power),
        limits=limits,
        workflow=workflow,
    )


def test_plan_bracket_prices_stop_and_target_from_the_last_price() -> None:
    result = plan("50.00")
    assert isinstance(result, TradePlan)
    assert (result.entry_price, result.stop_price, result.target_price) == (
        D("50.00"),
        D("49.00"),
        D("52.00"),
    )
    assert result.qty == 100  # $5000 / $50
    assert result.max_loss == D("100.00")
    assert result.notional == D("5000.00")
    assert result.reward_risk == D("2")
    assert (result.symbol, result.sector, result.confidence) == ("AAA", "Tech", 0.8)


def test_plan_bracket_rounds_stop_down_and_target_up_so_reward_risk_is_kept() -> None:
    result = plan("50.005")
    assert isinstance(result, TradePlan)
    assert result.stop_price == D("49.00")  # 49.0049 rounded down
    assert result.target_price == D("52.02")  # 52.015 rounded up
    assert result.reward_risk >= D("2")


def test_plan_bracket_below_one_dollar_uses_sub_penny_ticks() -> None:
    result = plan("0.8765", workflow=WorkflowConfig(min_price=D("0.5"), stop_loss_pct=0.05))
    assert isinstance(result, TradePlan)
    assert result.stop_price == D("0.8326")  # 0.832675 rounded down
    assert is_valid_tick(result.target_price)


def test_plan_bracket_caps_size_at_95_percent_of_buying_power() -> None:
    result = plan("50.00", buying_power="1000")
    assert isinstance(result, TradePlan)
    assert result.qty == 19  # floor(950 / 50)


@pytest.mark.parametrize(
    ("price", "equity", "buying_power", "rule"),
    [
        ("6000", "100000", "100000", "sizing.min_qty"),
        ("50", "100000", "0", "sizing.min_qty"),
        ("50", "100000", "-10", "sizing.min_qty"),
        ("50", "100000", "NaN", "sizing.buying_power"),
        ("50", "0", "100000", "sizing.equity"),
        ("50", "NaN", "100000", "sizing.equity"),
        ("0.30", "100000", "100000", "sizing.stop_distance"),
        ("0", "100000", "100000", "sizing.entry_price"),
        ("NaN", "100000", "100000", "sizing.entry_price"),
        ("1E+40", "100000", "100000", "sizing.entry_price"),
    ],
)
def test_plan_bracket_rejects_what_cannot_be_sized(
    price: str, equity: str, buying_power: str, rule: str
) -> None:
    result = plan(price, equity=equity, buying_power=buying_power)
    assert isinstance(result, Rejected)
    assert result.rule == rule


def test_plan_bracket_below_one_share_gives_the_documented_reason() -> None:
    assert plan("6000") == Rejected("position size below one share", "sizing.min_qty")


@pytest.mark.parametrize(
    ("qty", "stop", "entry", "target"),
    [
        (0, "9", "10", "12"),
        (1, "10", "10", "12"),
        (1, "9", "10", "10"),
        (1, "0", "10", "12"),
        (1, "NaN", "10", "12"),
    ],
)
def test_trade_plan_refuses_a_malformed_shape(qty: int, stop: str, entry: str, target: str) -> None:
    with pytest.raises(ValueError, match="plan"):
        TradePlan("AAA", None, qty, D(entry), D(stop), D(target), 0.5)


@given(
    price=st.decimals(min_value=D("0.5"), max_value=D("2000"), places=4),
    stop_pct=st.floats(min_value=0.001, max_value=0.49),
    ratio=st.floats(min_value=1.0, max_value=10.0),
    buying_power=st.decimals(min_value=D("0"), max_value=D("1000000"), places=2),
    max_size=st.decimals(min_value=D("1"), max_value=D("100000"), places=2),
)
def test_plan_bracket_always_yields_valid_ticks_and_a_bounded_size(
    price: Decimal, stop_pct: float, ratio: float, buying_power: Decimal, max_size: Decimal
) -> None:
    workflow = WorkflowConfig(min_price=D("0.1"), stop_loss_pct=stop_pct, reward_risk_ratio=ratio)
    limits = RiskLimits(max_position_size_usd=max_size)
    result = plan_bracket(
        candidate(last_price=price),
        account_equity=D("50000"),
        buying_power=buying_power,
        limits=limits,
        workflow=workflow,
    )
    if isinstance(result, Rejected):
        assert result.rule in {"sizing.min_qty", "sizing.stop_distance"}
        return
    assert result.stop_price < result.entry_price < result.target_price
    assert is_valid_tick(result.stop_price)
    assert is_valid_tick(result.target_price)
    assert result.entry_price - result.stop_price >= D("0.01")
    assert result.reward_risk >= D(str(ratio))
    assert result.notional <= max_size
    assert result.notional <= buying_power * D("0.95")
    assert result.qty >= 1


def test_plan_bracket_takes_the_candidates_proposed_stop_and_keeps_the_reward_risk() -> None:
    proposed = replace(candidate(last_price="50.00"), stop_price=D("49.456"))
    result = plan_bracket(
        proposed,
        account_equity=D("100000"),
        buying_power=D("100000"),
        limits=LIMITS,
        workflow=WORKFLOW,
    )
    assert isinstance(result, TradePlan)
    assert (result.stop_price, result.target_price) == (D("49.45"), D("51.10"))
    assert result.reward_risk == 2
