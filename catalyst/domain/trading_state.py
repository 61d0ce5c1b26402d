"""The trading state and its machine: a halt only a person can lift.

`next_state` is the trading-state machine: automatic events can only lower the state
(ACTIVE → HALTED); only `PersonAcknowledged` raises it again. Lifting a halt does not stop the
risk-watch from halting again on its next check if the loss is still breached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias


class TradingState(StrEnum):
    ACTIVE = "active"
    HALTED = "halted"


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


@dataclass(frozen=True, slots=True)
class TradingStateRecord:
    """Whether new entries may be made. Only a person resumes after a halt."""

    status: TradingState
    reason: str | None
    changed_by: str | None
    changed_at: datetime | None
    halt_day: date | None = None

    @property
    def is_halted(self) -> bool:
        return self.status is TradingState.HALTED
