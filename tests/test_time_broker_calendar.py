"""The broker's calendar wins: an unannounced closure is honoured and reported."""

from __future__ import annotations

from datetime import date

from structlog.testing import capture_logs

from catalyst.config.models import ScheduleConfig
from catalyst.domain.models import TradingSession
from catalyst.timekeeping.broker_calendar import BrokerSessionCalendar
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.day_plan import plan_day
from catalyst.timekeeping.triggers import SessionTimesTrigger

EXCHANGE = ExchangeCalendar()
MOURNING_DAY = date(2026, 12, 9)  # a Wednesday the exchange calendar has as a normal session


class CalendarOnlyBroker:
    """The calendar part of a broker, closing the market on chosen days (hand-written fake)."""

    def __init__(self, closed: set[date]) -> None:
        self.closed = closed
        self.requests = 0

    async def get_session(self, day: date) -> TradingSession | None:
        self.requests += 1
        return None if day in self.closed else EXCHANGE.session(day)


async def test_broker_closure_is_followed_and_reported_as_a_disagreement() -> None:
    calendar = BrokerSessionCalendar(CalendarOnlyBroker({MOURNING_DAY}), EXCHANGE)  # type: ignore[arg-type]

    with capture_logs() as logs:
        disagreements = await calendar.refresh(date(2026, 12, 1))

    assert disagreements == [MOURNING_DAY.isoformat()]
    assert any("differs from the exchange calendar" in e["event"] for e in logs)
    assert calendar.session(MOURNING_DAY) is None
    assert not calendar.is_trading_day(MOURNING_DAY)
    assert calendar.next_session(date(2026, 12, 8)).day == date(2026, 12, 10)
    assert calendar.previous_session(date(2026, 12, 10)).day == date(2026, 12, 8)


async def test_scans_skip_the_broker_closed_day() -> None:
    calendar = BrokerSessionCalendar(CalendarOnlyBroker({MOURNING_DAY}), EXCHANGE)  # type: ignore[arg-type]
    await calendar.refresh(date(2026, 12, 1))
    trigger = SessionTimesTrigger(
        calendar,
        lambda session: plan_day(session, ScheduleConfig(), scan_frequency_minutes=None).scan_times,
    )
    evening_before = EXCHANGE.session(date(2026, 12, 8))
    assert evening_before is not None

    fire = trigger.get_next_fire_time(None, evening_before.close)

    assert fire is not None
    assert fire.date() == date(2026, 12, 10)


async def test_days_outside_the_cache_fall_back_to_the_exchange_calendar() -> None:
    broker = CalendarOnlyBroker(set())
    calendar = BrokerSessionCalendar(broker, EXCHANGE)  # type: ignore[arg-type]
    await calendar.refresh(date(2026, 12, 1))
    asked = broker.requests

    assert calendar.session(date(2027, 3, 1)) == EXCHANGE.session(date(2027, 3, 1))
    assert broker.requests == asked
