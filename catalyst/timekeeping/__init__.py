"""Time for Catalyst: clocks, the exchange calendar, per-day session plans and a scheduler trigger.

Only `clock` reads the wall clock; `calendar`, `day_plan` and `triggers` are pure.
"""

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import RealClock, SimClock
from catalyst.timekeeping.day_plan import DayPlan, plan_day, plan_for
from catalyst.timekeeping.triggers import SessionTimesTrigger

__all__ = [
    "EXCHANGE_TZ",
    "DayPlan",
    "ExchangeCalendar",
    "RealClock",
    "SessionTimesTrigger",
    "SimClock",
    "plan_day",
    "plan_for",
]
