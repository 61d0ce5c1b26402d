"""The daily-loss kill switch as pure functions: loss level, and a halt only a person can lift.

`evaluate_daily_loss` measures the day's loss from broker equity against the day's starting
equity (realised + unrealised). `next_state` is the trading-state machine: automatic events can
only lower the state (ACTIVE → HALTED); only `PersonAcknowledged` raises it again. Lifting a halt
does not stop the risk-watch from halting again on its next check if the loss is still breached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias

from catalyst.config.models import RiskLimits


class LossLevel(StrEnum):
    OK = "ok"
    WARNING = "warning"  # loss >= warning_threshold_pct x max_daily_loss_usd: alert a person
    BREACHED = "breached"  # loss >= max_daily_loss_usd: cancel, flatten, halt, alert


class TradingState(StrEnum):
    ACTIVE = "active"
    HALTED = "halted"


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


@dataclass(frozen=True, slots=True)
class LossBreached:
    """Automatic: the risk-watch measured a breached daily loss."""

    day_pnl: Decimal


@dataclass(frozen=True, slots=True)
class OperationalFailure:
    """Automatic: something a person must look at (reconciliation failed, flatten failed...)."""

    reason: str


@dataclass(frozen=True, slots=True)
class HaltRequested:
    """A person asked for a halt (lowering is always allowed)."""

    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class NewTradingDay:
    """Automatic: a new session began. It does not lift a halt: only a person does."""

    day: date


@dataclass(frozen=True, slots=True)
class PersonAcknowledged:
    """A named person reviewed the halt and clears it."""

    by: str
    note: str = ""

    def __post_init__(self) -> None:
        if not self.by.strip():
            raise ValueError("an acknowledgement must name the person giving it")


TradingEvent: TypeAlias = (
    LossBreached | OperationalFailure | HaltRequested | NewTradingDay | PersonAcknowledged
)


def next_state(current: TradingState, event: TradingEvent) -> TradingState:
    """The state after `event`: halting events lower it, only `PersonAcknowledged` raises it."""
    if isinstance(event, LossBreached | OperationalFailure | HaltRequested):
        return TradingState.HALTED
    if isinstance(event, PersonAcknowledged):
        return TradingState.ACTIVE
    return current
