"""Alert delivery end to end: a real SMTP server (aiosmtpd) that goes down and comes back, the
alert journal on SQLite and PostgreSQL, a restart in between, and the risk-watch unaffected."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from counting_broker import CountingBroker
from pydantic import SecretStr
from smtp_server import PASSWORD, RECIPIENTS, SENDER, USERNAME, Inbox, SmtpServer, free_port
from structlog.testing import capture_logs
from stubs import risk_watch
from support import eventually

from catalyst.config.models import (
    RiskFile,
    RiskLimits,
    SimulationConfig,
    SmtpTls,
    WebhookFormat,
)
from catalyst.domain.alerts import Alert, AlertDelivery, AlertKind, Severity
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import OrderRequest, Side
from catalyst.notify import (
    AlertDispatcher,
    AlertThrottle,
    ChannelBackoff,
    EmailChannel,
    WebhookChannel,
    events,
)
from catalyst.sim.broker import build_sim_broker
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
START = datetime.combine(DAY, time(10, 0), tzinfo=EXCHANGE_TZ)
MINUTE = timedelta(minutes=1)
CALENDAR = ExchangeCalendar()
FAST = ChannelBackoff(first_seconds=0.02, cap_seconds=0.1)  # real seconds between retries


class BlackHole:
    """An SMTP server that accepts connections and never answers (a hung relay)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            self._writers.append(writer)

        self._server = await asyncio.start_server(hold, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()


def email_to(port: int, **options: object) -> EmailChannel:
    return EmailChannel(
        "127.0.0.1",
        port,
        SENDER,
        RECIPIENTS,
        tls=SmtpTls.NONE,
        username=None,
        password=None,
        timeout=60,  # far longer than any test: a hung relay must not be waited for
        **options,  # type: ignore[arg-type]
    )


def dispatcher(
    channels: list[object],
    store: Store | None,
    clock: SimClock,
    *,
    capacity: int = 100,
    per_hour: int = 12,
    backoff: ChannelBackoff = FAST,
) -> AlertDispatcher:
    return AlertDispatcher(
        channels,  # type: ignore[arg-type]
        environment="paper",
        clock=clock,
        throttle=AlertThrottle(dedup_window=timedelta(minutes=10), per_hour=per_hour),
        journal=store,
        capacity=capacity,
        backoff=backoff,
    )


def warning(at: datetime, pnl: str = "-1500") -> Alert:
    return events.daily_loss_warning(Decimal(pnl), Decimal("2000"), 0.75, at)


def routine(n: int, at: datetime) -> Alert:
    """The n-th of several different routine alerts (no duplicates of each other)."""
    return events.repeated_errors(f"task {n}", 3, "boom", at)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def later_smtp(smtp_port: int, inbox: Inbox) -> Iterator[SmtpServer]:
    """The SMTP server on `smtp_port`, not started yet (the test brings it up)."""
    server = SmtpServer(inbox, smtp_port)
    yield server
    server.stop()


@pytest.fixture
async def delivering() -> AsyncIterator[list[asyncio.Task[None]]]:
    """Delivery tasks a test starts; cancelled at the end."""
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_smtp_hung_the_risk_watch_keeps_its_cadence_and_the_alert_arrives_once_back(
    migrated_store: Store,
    smtp_port: int,
    later_smtp: SmtpServer,
    inbox: Inbox,
    delivering: list[asyncio.Task[None]],
) -> None:
    clock = SimClock(START)
    sim = build_sim_broker(SimulationConfig(symbols=40, seed=3), CALENDAR, clock)
    broker = CountingBroker(sim, clock)
    alerts = dispatcher([email_to(smtp_port)], migrated_store, clock)
    watch = risk_watch(
        broker,
        migrated_store,
        clock,
        calendar=CALENDAR,
        risk=RiskFile(risk_limits=RiskLimits(max_daily_loss_usd=Decimal(500))),
        notifier=alerts,
    )
    assets = sorted(a.symbol for a in await sim.list_assets() if a.tradable)
    snapshots = await sim.get_snapshots(assets)
    symbol = next(s for s in assets if s in snapshots and 5 < snapshots[s].last_price < 200)
    await sim.submit_order(OrderRequest(f"manual-{symbol}", symbol, Side.BUY, 10))
    equity = (await sim.get_account()).equity
    await migrated_store.get_or_set_day_start_equity(DAY, equity + Decimal(10_000))
    hole = BlackHole(smtp_port)
    await hole.start()
    delivering.append(asyncio.create_task(alerts.deliver_forever()))

    async def run() -> None:
        async with clock.participant():
            await watch.run()

    task = asyncio.create_task(run())
    # If raising the alert waited on the hung relay, simulated time would stand still here.
    async with asyncio.timeout(30):
        await clock.sleep_until(START + 4 * MINUTE)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert watch.standing
    assert await sim.list_positions() == []
    per_minute = Counter(
        (c.at - START) // MINUTE for c in broker.between(START + MINUTE, START + 4 * MINUTE)
    )
    assert [per_minute[m] for m in (1, 2, 3)] == [12, 12, 12]  # the standing watch's cadence
    await eventually(lambda: hole.connections >= 1, message="no attempt at the hung relay")
    assert inbox.messages == []

    await hole.stop()  # the relay is back, answering this time
    later_smtp.start()
    await eventually(lambda: len(inbox.messages) >= 1, message="alert not delivered once back")
    [message] = inbox.messages
    assert message["Subject"].startswith("[Catalyst PAPER] CRITICAL emergency stop: day P&L -")
    assert message["Subject"].endswith("(limit -500), book flat")

    async def journaled_delivered() -> bool:
        rows = await migrated_store.journaled_alerts(START)
        return [(r.alert.kind, r.status) for r in rows] == [
            (AlertKind.EMERGENCY_STOP, AlertDelivery.DELIVERED)
        ]

    await eventually(journaled_delivered, message="delivery not journaled")
    assert len(inbox.messages) == 1


async def test_an_alert_not_delivered_before_a_restart_is_delivered_by_the_next_process(
    migrated_store: Store,
    smtp_port: int,
    later_smtp: SmtpServer,
    inbox: Inbox,
    delivering: list[asyncio.Task[None]],
) -> None:
    clock = SimClock(START)
    first = dispatcher([email_to(smtp_port)], migrated_store, clock)  # SMTP is down
    first.submit(warning(START))
    async with asyncio.timeout(30):
        await first.drain()  # tried once, failed: journaled as pending; then the process dies
    [row] = await migrated_store.journaled_alerts(START)
    assert row.status == AlertDelivery.PENDING
    assert row.attempts == 1
    assert row.last_error is not None
    assert row.last_error.startswith("email: SMTP 127.0.0.1")

    later_smtp.start()
    second = dispatcher([email_to(smtp_port)], migrated_store, SimClock(START + MINUTE))
    delivering.append(asyncio.create_task(second.deliver_forever()))

    await eventually(lambda: len(inbox.messages) == 1, message="not delivered after restart")

    async def delivered() -> bool:
        [again] = await migrated_store.journaled_alerts(START)
        return again.status == AlertDelivery.DELIVERED and again.delivered_channels == {"email"}

    await eventually(delivered, message="not marked delivered")
    assert inbox.messages[0]["Subject"].startswith("[Catalyst PAPER] WARNING daily loss warning")
    assert len(inbox.messages) == 1


async def test_shutdown_with_smtp_hung_journals_what_is_unsent(
    migrated_store: Store, smtp_port: int
) -> None:
    clock = SimClock(START)
    hole = BlackHole(smtp_port)
    await hole.start()
    alerts = dispatcher([email_to(smtp_port)], migrated_store, clock)
    alerts.submit(events.shutdown("SIGTERM", START))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):  # the supervisor's bounded drain at shutdown
            await alerts.drain()
    await alerts.journal_pending()
    await hole.stop()

    [row] = await migrated_store.journaled_alerts(START)
    assert (row.alert.kind, row.status) == (AlertKind.SHUTDOWN, AlertDelivery.PENDING)


async def test_alerts_go_out_while_the_database_is_down_and_are_journaled_once_it_is_back(
    migrated_store: Store, smtp_port: int, later_smtp: SmtpServer, inbox: Inbox
) -> None:
    later_smtp.start()
    clock = SimClock(START)
    # Once failed, the channel rests for the rest of the test: only the journal changes.
    slow = ChannelBackoff(first_seconds=600, cap_seconds=600)
    alerts = dispatcher([email_to(smtp_port)], migrated_store, clock, backoff=slow)
    migrated_store.outbox.note_unavailable("test", OSError("database down"))
    alerts.submit(events.dependency_down("database", START, "connection refused", START))
    async with asyncio.timeout(30):
        await alerts.drain()
    assert len(inbox.messages) == 1  # sent although the journal could not take it

    migrated_store.outbox.note_available()
    async with asyncio.timeout(30):
        await alerts.drain()
    assert await migrated_store.journaled_alerts(START) == []  # delivered: not worth holding

    # One that could not be sent is held in memory and journaled once the database is back.
    later_smtp.stop()
    migrated_store.outbox.note_unavailable("test", OSError("database down"))
    alerts.submit(warning(START))
    async with asyncio.timeout(30):
        await alerts.drain()
    assert alerts.pending == 1
    migrated_store.outbox.note_available()
    async with asyncio.timeout(30):
        await alerts.drain()
    [row] = await migrated_store.journaled_alerts(START)
    assert row.status == AlertDelivery.PENDING


async def test_duplicates_are_suppressed_and_counted_in_the_next_one(
    migrated_store: Store, smtp_port: int, later_smtp: SmtpServer, inbox: Inbox
) -> None:
    later_smtp.start()
    clock = SimClock(START)
    alerts = dispatcher([email_to(smtp_port)], migrated_store, clock)
    assert alerts.submit(warning(START))
    assert not alerts.submit(warning(START + MINUTE))  # the same warning again: a duplicate
    assert not alerts.submit(warning(START + 2 * MINUTE))
    async with asyncio.timeout(30):
        await alerts.drain()
    assert len(inbox.messages) == 1

    assert alerts.submit(warning(START + 11 * MINUTE))  # past the window: a reminder
    async with asyncio.timeout(30):
        await alerts.drain()
    assert len(inbox.messages) == 2
    assert inbox.messages[1]["Subject"].endswith("(+2 suppressed)")
    assert "2 more daily loss warning alerts suppressed" in inbox.messages[1].get_content()


async def test_a_critical_alert_is_never_held_back_by_a_lesser_ones_rate_limit(
    migrated_store: Store, smtp_port: int, later_smtp: SmtpServer, inbox: Inbox
) -> None:
    later_smtp.start()
    clock = SimClock(START)
    alerts = dispatcher([email_to(smtp_port)], migrated_store, clock, per_hour=2)
    for n in range(4):  # four different warnings of one kind within the hour: two go out
        at = START + n * MINUTE
        alerts.submit(
            Alert(AlertKind.BROKER_OUTAGE, Severity.WARNING, f"slow {n}", "b", at, dedup_key=str(n))
        )
    assert alerts.submit(events.dependency_down("broker", START, "refused", START + 5 * MINUTE))
    async with asyncio.timeout(30):
        await alerts.drain()

    subjects = [m["Subject"] for m in inbox.messages]
    assert len(subjects) == 3
    assert subjects[-1].strip().startswith("[Catalyst PAPER] CRITICAL broker unreachable")
    assert subjects[-1].endswith("(+2 suppressed)")


async def test_a_full_queue_spills_to_the_journal_and_nothing_is_lost(
    migrated_store: Store, smtp_port: int, later_smtp: SmtpServer, inbox: Inbox
) -> None:
    clock = SimClock(START)
    alerts = dispatcher([email_to(smtp_port)], migrated_store, clock, capacity=2)
    for n in range(5):
        alerts.submit(routine(n, START + n * MINUTE))
        async with asyncio.timeout(30):
            await alerts.drain()  # SMTP down: each is journaled as pending
    assert alerts.lost == 0
    assert alerts.pending <= 2
    rows = await migrated_store.journaled_alerts(START)
    assert [r.status for r in rows] == [AlertDelivery.PENDING] * 5

    later_smtp.start()
    for _ in range(5):
        await asyncio.sleep(FAST.cap_seconds)  # the channel's backoff (not a timing test)
        async with asyncio.timeout(30):
            await alerts.drain()
    tasks = sorted(str(m["Subject"]).split("errors: ")[1][:6] for m in inbox.messages)
    assert tasks == [f"task {n}" for n in range(5)]
    rows = await migrated_store.journaled_alerts(START)
    assert [r.status for r in rows] == [AlertDelivery.DELIVERED] * 5


async def test_a_full_queue_with_the_journal_down_gives_up_loudly_and_says_so_next(
    smtp_port: int, later_smtp: SmtpServer, inbox: Inbox
) -> None:
    clock = SimClock(START)
    alerts = dispatcher([email_to(smtp_port)], None, clock, capacity=2)
    with capture_logs() as logs:
        alerts.submit(routine(0, START))
        alerts.submit(events.dependency_down("broker", START, "refused", START))
        alerts.submit(routine(1, START))  # full: the oldest routine alert is given up
    assert alerts.lost == 1
    [lost] = [e for e in logs if e["log_level"] == "error"]
    assert "task 0" in lost["subject"]

    later_smtp.start()
    alerts.submit(events.shutdown("SIGTERM", START + MINUTE))
    async with asyncio.timeout(30):
        await alerts.drain()
    bodies = {m["Subject"]: m.get_content() for m in inbox.messages}
    assert len(bodies) == 2  # the broker's and the shutdown's: task 1 lost to make room
    shutdown_body = next(b for s, b in bodies.items() if "stopped" in s)
    assert "1 earlier alert(s) could not be kept" in shutdown_body


async def test_a_permanent_refusal_is_journaled_as_failed_not_retried(
    migrated_store: Store, smtp_port: int, later_smtp: SmtpServer, inbox: Inbox
) -> None:
    inbox.refuse_recipients = True
    later_smtp.start()
    alerts = dispatcher([email_to(smtp_port)], migrated_store, SimClock(START))
    with capture_logs() as logs:
        alerts.submit(warning(START))
        async with asyncio.timeout(30):
            await alerts.drain()
    assert alerts.pending == 0
    [row] = await migrated_store.journaled_alerts(START)
    assert row.status == AlertDelivery.FAILED
    assert row.last_error is not None
    assert "550" in row.last_error
    assert "alert refused by channel for good" in [e["event"] for e in logs]


async def test_secrets_never_reach_the_journal_or_the_log(migrated_store: Store) -> None:
    token = "T0/B0/hook-secret-9d8f"
    hook = WebhookChannel(
        "webhook-1-slack",
        SecretStr(f"http://127.0.0.1:99999/services/{token}"),  # aiohttp quotes it back
        WebhookFormat.SLACK,
        environment="paper",
    )
    mail = EmailChannel(
        "127.0.0.1",
        free_port(),
        SENDER,
        RECIPIENTS,
        tls=SmtpTls.STARTTLS,
        username=SecretStr(USERNAME),
        password=SecretStr(PASSWORD),
    )
    clock = SimClock(START)
    alerts = dispatcher([mail, hook], migrated_store, clock)
    with capture_logs() as logs:
        alerts.submit(
            Alert(AlertKind.REPEATED_ERRORS, Severity.WARNING, "x failed 3 times", "body", START)
        )
        async with asyncio.timeout(30):
            await alerts.drain()
    [row] = await migrated_store.journaled_alerts(START)
    assert row.status == AlertDelivery.PENDING
    assert row.last_error is not None
    text = repr(row) + repr(logs)
    assert "webhook-1-slack" in text
    assert token not in text
    assert PASSWORD not in text


def test_throttle_separates_kinds_severities_and_keys() -> None:
    throttle = AlertThrottle(dedup_window=timedelta(minutes=10), per_hour=1)
    first = warning(START)
    assert throttle.admit(first) is first
    assert throttle.admit(warning(START, "-1600")) is None  # another key, but over the limit
    assert throttle.admit(events.shutdown("x", START)) is not None  # another kind
    later = throttle.admit(warning(START + timedelta(hours=1), "-1700"))
    assert later is not None
    assert later.suppressed == 1
    assert throttle.suppressed(AlertKind.DAILY_LOSS_WARNING) == 0


def test_alert_journal_payload_round_trips() -> None:
    from catalyst.domain.alerts import Attachment, alert_from_json, alert_to_json

    alert = Alert(
        AlertKind.DAILY_REPORT,
        Severity.INFO,
        "day P&L 1",
        "b",
        datetime(2026, 1, 2, tzinfo=UTC),
        html="<img src='cid:c'>",
        attachments=(Attachment("c.png", "image/png", b"\x89PNG\x00\xff", content_id="c"),),
        suppressed=3,
    )
    assert alert_from_json(alert_to_json(alert)) == alert
