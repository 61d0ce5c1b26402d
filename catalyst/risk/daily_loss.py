"""The daily-loss kill switch as pure functions: how much was lost, and what level that is.

`evaluate_daily_loss` measures the day's loss from broker equity against the day's starting
equity (realised + unrealised). What a breach does to trading is the trading-state machine's
(`catalyst.domain.trading_state`).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from catalyst.config.models import RiskLimits


class LossLevel(StrEnum):
    OK = "ok"
    WARNING = "warning"  # loss >= warning_threshold_pct x max_daily_loss_usd: alert a person
    BREACHED = "breached"  # loss >= max_daily_loss_usd: cancel, flatten, halt, alert


def daily_loss(day_pnl: Decimal) -> Decimal:
    """The day's loss as a non-negative amount (0 on a winning day)."""
    if not (isinstance(day_pnl, Decimal) and day_pnl.is_finite()):
        # An unmeasurable P&L is not "no loss": the caller must treat it as an operational error.
        raise ValueError(f"day P&L must be a finite Decimal, got {day_pnl!r}")
    return -day_pnl if day_pnl < 0 else Decimal(0)


def evaluate_daily_loss(day_pnl: Decimal, limits: RiskLimits) -> LossLevel:
    """OK, WARNING or BREACHED for the day's P&L. Raises ValueError if it is not finite."""
    loss = daily_loss(day_pnl)
    if loss >= limits.max_daily_loss_usd:
        return LossLevel.BREACHED
    warning_at = Decimal(str(limits.warning_threshold_pct)) * limits.max_daily_loss_usd
    if loss >= warning_at:
        return LossLevel.WARNING
    return LossLevel.OK
