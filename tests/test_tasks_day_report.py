"""The day report after the close: when it is due, what it reads from a real journal (SQLite and
PostgreSQL), and that a failing report leaves the daemon's task running."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from stubs import RecordingNotifier, fill

from catalyst.domain.alerts import AlertKind, subject_of
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import LegRole, OrderClass, OrderType, Side
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.execution.order_ids import client_order_id
from catalyst.execution.purposes import end_of_day_purpose
from catalyst.reporting.day_report import DayReport
from catalyst.reporting.trades import ExitReason
from catalyst.store.records import AccountSnapshotRecord, OrderIntent
from catalyst.store.repository import Store
from catalyst.tasks.day_report import (
    REPORT_DELAY,
    DayReportAfterClose,
    alert_sink,
    next_report,
)
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

CALENDAR = ExchangeCalendar()
DAY = date(2026, 11, 24)


def at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=EXCHANGE_TZ)


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (at(DAY, 8, 0), DAY),
        (at(DAY, 16, 1), DAY),  # the close has passed, the report not yet
        (at(DAY, 16, 2), date(2026, 11, 25)),  # reported: the next session's is next
        # Thanksgiving is no session; the early close on the 27th is at 13:00
        (at(date(2026, 11, 26), 12, 0), date(2026, 11, 27)),
    ],
)
def test_the_report_is_due_a_little_after_each_sessions_close(now: datetime, day: date) -> None:
    session = next_report(CALENDAR, now)
    assert session.day == day
    assert next_report(CALENDAR, session.close + REPORT_DELAY - timedelta(seconds=1)) == session


async def _journal_a_day(store: Store) -> None:
    """A bracket entry of 100 AAA at 50 (stop 49) closed by the end-of-day flatten at 50.50."""
    entry = "cat-AAA-entry-1"
    exit_id = client_order_id(end_of_day_purpose(DAY), "AAA", "exit-1")
    bought, sold = at(DAY, 10, 0), at(DAY, 15, 50)
    await store.record_order_intent(
        OrderIntent(
            entry,
            "AAA",
            Side.BUY,
            100,
            OrderType.LIMIT,
            OrderClass.BRACKET,
            LegRole.ENTRY,
            bought,
            limit_price=Decimal(50),
            stop_loss_price=Decimal(49),
            take_profit_price=Decimal(53),
        )
    )
    await store.record_order_intent(
        OrderIntent(
            exit_id, "AAA", Side.SELL, 100, OrderType.MARKET, OrderClass.SIMPLE, LegRole.EXIT, sold
        )
    )
    await store.record_fill(
        fill(Side.BUY, 100, "50", at=bought, order_id="b1", client_order_id=entry)
    )
    await store.record_fill(
        fill(Side.SELL, 100, "50.50", at=sold, order_id="b2", client_order_id=exit_id)
    )
    await store.record_risk_event(RiskEventKind.POSITION_GONE, Severity.WARNING, "AAA gone", sold)
    await store.get_or_set_day_start_equity(DAY, Decimal(100000))
    # The risk-watch's samples: one before the open (not the session's), then the session's.
    for moment, equity in (
        (at(DAY, 9, 0), "99000"),
        (at(DAY, 9, 30), "100000"),
        (at(DAY, 11, 0), "100120"),
        (at(DAY, 12, 0), "99970"),
        (at(DAY, 16, 0), "100050"),
    ):
        await store.record_account_snapshot(
            AccountSnapshotRecord(
                moment, Decimal(equity), Decimal(equity), Decimal(equity), Decimal(100000)
            )
        )
    # The next day's event is not this day's.
    await store.record_risk_event(
        RiskEventKind.BROKER_OUTAGE, Severity.WARNING, "later", at(date(2026, 11, 25), 10, 0)
    )


async def test_the_report_reads_the_days_trades_and_events_from_the_journal(
    migrated_store: Store,
) -> None:
    await _journal_a_day(migrated_store)
    reported: list[DayReport] = []

    async def sink(report: DayReport) -> None:
        reported.append(report)

    task = DayReportAfterClose(
        clock=SimClock(at(DAY, 16, 2)),
        calendar=CALENDAR,
        store=migrated_store,
        environment="paper",
        on_report=sink,
    )
    report = await task.report(next_report(CALENDAR, at(DAY, 8, 0)))

    assert report is not None
    assert reported == [report]
    (trade,) = report.trades
    assert trade.exit_reasons == (ExitReason.END_OF_DAY,)
    assert trade.pnl == Decimal(50)
    assert trade.r_multiple == Decimal("0.5")
    assert [e.message for e in report.risk_events] == ["AAA gone"]
    assert report.start_equity == Decimal(100000)
    assert report.equity[0].at == at(DAY, 9, 30)  # the pre-market sample is out
    assert report.day_pnl == Decimal(50)
    drawdown = report.drawdown
    assert drawdown is not None
    assert drawdown.amount == Decimal(150)  # 100 120 at 11:00 to 99 970 at 12:00


async def test_a_failing_report_is_logged_and_the_task_goes_on_to_the_next_day(
    migrated_store: Store,
) -> None:
    clock = SimClock(at(DAY, 15, 59))
    calls: list[date] = []

    async def broken_sink(report: DayReport) -> None:
        calls.append(report.day)
        raise RuntimeError("the mail server is on fire")

    task = DayReportAfterClose(
        clock=clock,
        calendar=CALENDAR,
        store=migrated_store,
        environment="paper",
        on_report=broken_sink,
    )

    async def run() -> None:
        async with clock.participant():
            await task.run()

    running = asyncio.create_task(run())
    await clock.sleep_until(at(date(2026, 11, 25), 16, 5))
    assert not running.done(), "a failed report must not end the task"
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert calls == [DAY, date(2026, 11, 25)]


async def test_the_days_orders_include_those_filled_on_it_and_their_parents(
    migrated_store: Store,
) -> None:
    day_before = date(2026, 11, 23)

    def intent(cid: str, created: datetime, parent: str | None = None) -> OrderIntent:
        role = LegRole.STOP_LOSS if parent else LegRole.ENTRY
        return OrderIntent(
            cid,
            "AAA",
            Side.BUY,
            10,
            OrderType.MARKET,
            OrderClass.SIMPLE,
            role,
            created,
            parent_client_order_id=parent,
        )

    await migrated_store.record_order_intent(intent("parent", at(day_before, 15, 0)))
    await migrated_store.record_order_intent(intent("leg", at(day_before, 15, 0), "parent"))
    await migrated_store.record_order_intent(intent("stale", at(day_before, 15, 1)))
    await migrated_store.record_order_intent(intent("today", at(DAY, 9, 45)))
    await migrated_store.record_fill(
        fill(Side.SELL, 10, "50", at=at(DAY, 9, 31), order_id="b-leg", client_order_id="leg")
    )

    found = [o.client_order_id for o in await migrated_store.orders_for_day(DAY)]
    assert sorted(found) == ["leg", "parent", "today"]


@pytest.mark.parametrize("with_html", [True, False])
async def test_in_the_daemon_the_report_goes_out_as_one_daily_report_alert(
    migrated_store: Store, with_html: bool
) -> None:
    await _journal_a_day(migrated_store)
    inbox = RecordingNotifier()
    clock = SimClock(at(DAY, 16, 2))
    task = DayReportAfterClose(
        clock=clock,
        calendar=CALENDAR,
        store=migrated_store,
        environment="paper",
        on_report=alert_sink(inbox, clock, with_html=with_html),
    )

    await task.report(next_report(CALENDAR, at(DAY, 8, 0)))

    (alert,) = inbox.alerts
    assert alert.kind is AlertKind.DAILY_REPORT
    assert alert.headline == "2026-11-24: day P&L +50.00 USD, 1 trade"
    assert subject_of(alert, "paper") == (
        "[Catalyst PAPER] INFO daily report: 2026-11-24: day P&L +50.00 USD, 1 trade"
    )
    assert alert.dedup_key == "2026-11-24", "one report a day, whatever restarts"
    assert "day P&L" in alert.body
    if with_html:
        (chart,) = alert.attachments
        assert chart.content_type == "image/png"
        assert chart.data.startswith(b"\x89PNG")
        assert alert.html is not None
        assert f'src="cid:{chart.content_id}"' in alert.html
    else:
        assert alert.attachments == ()
        assert alert.html is None
