"""Whole simulated trading sessions of the real daemon, on SQLite and on PostgreSQL.

Each test runs the supervisor with every task (scheduler, risk-watch, end-of-day flattener,
reconciler) on a simulated clock over one real exchange session, then checks the journal and the
broker. These are the outcomes a user relies on: limits held, every entry bracketed, flat at the
close, the loss limit enforced and latched.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from support import make_settings

from catalyst.config.models import Settings
from catalyst.daemon.entry import pause_entries, run_simulated_day
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import Fill, TradingSession
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.reporting.summary import DaySummary
from catalyst.sim.broker import SimBroker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.repository import Store
from catalyst.store.tables import orders

DAY = date(2026, 11, 24)
SMALL_MARKET = {"symbols": 800}

pytestmark = pytest.mark.slow


async def _simulate(settings: Settings, url: str, *, prepare=None, day: date = DAY) -> DaySummary:  # type: ignore[no-untyped-def]
    return await run_simulated_day(settings, day=day, database_url=url, prepare_market=prepare)


async def _orders(url: str) -> list[dict[str, object]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(orders))).mappings().all()
            return [dict(row) for row in rows]
    finally:
        await engine.dispose()


async def _store_call(url: str, call):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    try:
        return await call(Store(make_session_factory(engine)))
    finally:
        await engine.dispose()


def _max_open_positions(fills: list) -> int:  # type: ignore[type-arg]
    held: dict[str, int] = defaultdict(int)
    peak = 0
    for fill in sorted(fills, key=lambda f: f.timestamp):
        held[fill.symbol] += fill.qty if fill.side.value == "buy" else -fill.qty
        peak = max(peak, sum(1 for qty in held.values() if qty))
    return peak


async def _assert_normal_day(settings: Settings, url: str) -> None:
    summary = await _simulate(settings, url)
    limits = settings.risk.risk_limits

    assert summary.scans_run == 6
    assert summary.entries_placed > 0, "the simulated market should offer some entries"
    assert summary.flat, summary.render()

    journal = await _orders(url)
    entries = [o for o in journal if o["role"] == "entry"]
    assert len(entries) == summary.entries_placed
    assert len({o["client_order_id"] for o in journal}) == len(journal)
    for entry in entries:
        assert entry["order_class"] == "bracket"
        assert entry["stop_loss_price"] < entry["limit_price"] < entry["take_profit_price"]
        assert entry["qty"] * entry["limit_price"] <= limits.max_position_size_usd
        legs = [o for o in journal if o["parent_client_order_id"] == entry["client_order_id"]]
        if entry["filled_qty"]:
            assert {leg["role"] for leg in legs} == {"stop_loss", "take_profit"}

    fills = await _store_call(url, lambda store: store.fills_for_day(DAY))
    assert _max_open_positions(fills) <= limits.max_positions
    positions = await _store_call(url, lambda store: store.list_positions())
    assert positions == []


async def test_simulated_session_on_sqlite_stays_within_limits_brackets_and_ends_flat(
    tmp_path: Path, sqlite_url: str
) -> None:
    await _assert_normal_day(make_settings(tmp_path, simulation=SMALL_MARKET), sqlite_url)


@pytest.mark.postgres
async def test_simulated_session_on_postgres_stays_within_limits_brackets_and_ends_flat(
    tmp_path: Path, pg_url: str
) -> None:
    await _assert_normal_day(make_settings(tmp_path, simulation=SMALL_MARKET), pg_url)


async def test_pause_flag_blocks_every_entry_but_scans_still_run(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, simulation=SMALL_MARKET)
    pause_entries(settings, reason="testing", by="pytest")

    summary = await _simulate(settings, sqlite_url)

    assert summary.scans_run == 6
    assert summary.entries_placed == 0
    assert summary.funnel_totals["rejected_by_risk"] > 0
    assert await _orders(sqlite_url) == []


def _crash_at(hour: int, minute: int, pct: float):  # type: ignore[no-untyped-def]
    def prepare(broker: SimBroker, session: TradingSession) -> None:
        at = datetime.combine(session.day, time(hour, minute), tzinfo=EXCHANGE_TZ)
        broker.exchange.shock(at, pct)

    return prepare


async def test_daily_loss_limit_halts_flattens_and_stops_entries(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        simulation=SMALL_MARKET,
        risk_limits={"max_daily_loss_usd": Decimal("150")},
    )
    summary = await _simulate(settings, sqlite_url, prepare=_crash_at(10, 45, -0.2))

    assert summary.trading_state == "halted"
    assert summary.flat
    events = await _store_call(
        sqlite_url,
        lambda store: store.risk_events_since(datetime(2026, 11, 24, tzinfo=EXCHANGE_TZ)),
    )
    kinds = [e.kind for e in events]
    assert "emergency_stop" in kinds
    halt_at = next(e.at for e in events if e.kind == "emergency_stop")
    journal = await _orders(sqlite_url)
    assert all(o["created_at"] <= halt_at for o in journal if o["role"] == "entry")
    assert any(o["role"] == "exit" for o in journal)


async def test_halt_survives_a_restart_and_blocks_the_next_day(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(
        tmp_path, simulation=SMALL_MARKET, risk_limits={"max_daily_loss_usd": Decimal("150")}
    )
    await _simulate(settings, sqlite_url, prepare=_crash_at(10, 45, -0.2))
    entries_day_one = sum(1 for o in await _orders(sqlite_url) if o["role"] == "entry")

    next_day = await _simulate(settings, sqlite_url, day=DAY + timedelta(days=1))

    assert next_day.trading_state == "halted"
    assert next_day.entries_placed == 0
    entries_total = sum(1 for o in await _orders(sqlite_url) if o["role"] == "entry")
    assert entries_total == entries_day_one


async def test_emergency_stop_emails_a_critical_alert_and_the_warning_once(
    tmp_path: Path, sqlite_url: str
) -> None:
    from aiosmtpd.controller import Controller
    from smtp_server import Inbox, free_port

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = make_settings(
            tmp_path,
            simulation=SMALL_MARKET,
            risk_limits={"max_daily_loss_usd": Decimal("150")},
            notifications={
                "email_enabled": True,
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "email_to": ("ops@example.test",),
            },
        )
        await _simulate(settings, sqlite_url, prepare=_crash_at(10, 45, -0.2))
    finally:
        controller.stop()

    subjects = [message["Subject"] for message in inbox.messages]
    critical = [s for s in subjects if " emergency stop: " in s]
    assert len(critical) == 1, subjects
    assert critical[0].startswith("[Catalyst PAPER] CRITICAL emergency stop: "), critical
    message = next(m for m in inbox.messages if " emergency stop: " in m["Subject"])
    body = message.get_body(("plain",))
    assert body is not None
    assert "catalyst resume --ack" in body.get_content()
    assert sum(" daily loss warning: " in s for s in subjects) <= 1


async def test_positions_held_past_max_hold_time_are_closed(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(
        tmp_path, simulation=SMALL_MARKET, trading_session={"max_hold_time_minutes": 20}
    )
    summary = await _simulate(settings, sqlite_url)
    assert summary.entries_placed > 0

    fills = sorted(
        await _store_call(sqlite_url, lambda s: s.fills_for_day(DAY)), key=lambda f: f.timestamp
    )
    opened: dict[str, datetime] = {}
    held: dict[str, int] = defaultdict(int)
    longest = timedelta(0)
    for fill in fills:
        if held[fill.symbol] == 0:
            opened[fill.symbol] = fill.timestamp
        held[fill.symbol] += fill.qty if fill.side.value == "buy" else -fill.qty
        if held[fill.symbol] == 0:
            longest = max(longest, fill.timestamp - opened[fill.symbol])
    # 20 minutes plus one hold check (1 min) plus the fill landing at the next minute bar.
    assert longest <= timedelta(minutes=22), longest
    events = await _store_call(
        sqlite_url, lambda s: s.risk_events_since(datetime(2026, 11, 24, tzinfo=EXCHANGE_TZ))
    )
    assert "max_hold_time" in {e.kind for e in events}


async def test_operator_flatten_request_closes_everything_and_is_recorded(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, simulation=SMALL_MARKET)
    request = FlattenRequest(settings.trading.paths.state_dir)
    requested_at: list[datetime] = []

    def prepare(broker: SimBroker, session: TradingSession) -> None:
        def on_fill(fill: Fill) -> None:
            if not requested_at and fill.side.value == "buy":
                requested_at.append(fill.timestamp)
                request.submit("test: flatten on first entry", "pytest", fill.timestamp)

        broker.exchange.add_fill_listener(on_fill)

    await _simulate(settings, sqlite_url, prepare=prepare)

    assert requested_at, "the day should have at least one entry"
    assert request.pending() is None, "the daemon removes a handled request"
    events = await _store_call(sqlite_url, lambda s: s.risk_events_since(requested_at[0]))
    kinds = [e.kind for e in events]
    assert "manual_flatten" in kinds
    assert "manual_flatten_done" in kinds
    fills = await _store_call(sqlite_url, lambda s: s.fills_for_day(DAY))
    first_exit = min(f.timestamp for f in fills if f.side.value == "sell")
    assert first_exit - requested_at[0] <= timedelta(minutes=2)
