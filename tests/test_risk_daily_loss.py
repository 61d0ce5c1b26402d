from decimal import Decimal

import pytest

from catalyst.config.models import RiskLimits
from catalyst.risk.daily_loss import LossLevel, evaluate_daily_loss

D = Decimal
LIMITS = RiskLimits(max_daily_loss_usd=D("2000"), warning_threshold_pct=0.75)


@pytest.mark.parametrize(
    ("day_pnl", "level"),
    [
        ("5000", LossLevel.OK),
        ("0", LossLevel.OK),
        ("-1499.99", LossLevel.OK),
        ("-1500", LossLevel.WARNING),
        ("-1999.99", LossLevel.WARNING),
        ("-2000", LossLevel.BREACHED),
        ("-25000", LossLevel.BREACHED),
    ],
)
def test_evaluate_daily_loss_warns_at_the_threshold_and_breaches_at_the_limit(
    day_pnl: str, level: LossLevel
) -> None:
    assert evaluate_daily_loss(D(day_pnl), LIMITS) is level


@pytest.mark.parametrize("bad", [D("NaN"), D("sNaN"), D("-Infinity")])
def test_evaluate_daily_loss_refuses_an_unmeasurable_pnl(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="finite"):
        evaluate_daily_loss(bad, LIMITS)
