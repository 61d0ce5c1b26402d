"""`catalyst status` against a journal the real daemon wrote: the simulator traded the morning of
2026-11-24 and the daemon stopped at 11:30 with positions open, so the journal holds entries,
bracket legs, fills and the mirror. The report must say what that journal says, on a terminal
(rich), in a pipe (plain) and as JSON, and must flag what is unsafe."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from sqlalchemy import Table, select
from stubs import sim_components
from support import CONFIG_DIR, make_settings

from catalyst.config.models import Settings
from catalyst.daemon.supervisor import Supervisor
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.heartbeat import HeartbeatRecord
from catalyst.domain.models import LegRole
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.reporting.pnl import realised_pnl
from catalyst.reporting.status import StatusReport, collect_status
from catalyst.reporting.status_render import render_plain, render_rich
from catalyst.reporting.status_view import status_view
from catalyst.sim.broker import build_sim_broker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import upgrade_database
from catalyst.store.repository import Store
from catalyst.store.tables import orders
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 24)
UNTIL = datetime.combine(DAY, time(11, 30), tzinfo=EXCHANGE_TZ)
ANSI = re.compile(r"\x1b\[")


@dataclass
class Morning:
    settings: Settings
    url: str
    store: Store
    clock: SimClock


async def _trade_the_morning(settings: Settings, url: str) -> None:
    upgrade_database(url)
    calendar = ExchangeCalendar()
    clock = SimClock(datetime.combine(DAY, time(8, 0), tzinfo=EXCHANGE_TZ))
    broker = build_sim_broker(settings.trading.simulation, calendar, clock)
    components = await sim_components(
        settings, clock, url, broker=broker, calendar=calendar, entries_stopped=lambda: False
    )
    supervisor = Supervisor(
        components, systemd=SystemdNotifier.from_environment({}), simulated_until=UNTIL
    )
    try:
        await supervisor.run()
    finally:
        await components.close()


def _settings(root: Path) -> Settings:
    return make_settings(root / "state", simulation={"symbols": 800})


@pytest.fixture(scope="module")
def morning_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The journal of one simulated morning, written once for the module (20 s or so)."""
    root = tmp_path_factory.mktemp("morning")
    path = root / "journal.db"
    asyncio.run(_trade_the_morning(_settings(root), f"sqlite+aiosqlite:///{path}"))
    return path


def _copy_journal(source: Path, target: Path) -> Path:
    for suffix in ("", "-wal"):  # a clean close checkpoints the WAL; copy it should one remain
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


@pytest.fixture
async def morning(tmp_path: Path, morning_journal: Path) -> AsyncIterator[Morning]:
    """A copy of the morning's journal, this test's to change."""
    path = _copy_journal(morning_journal, tmp_path / "journal.db")
    url = f"sqlite+aiosqlite:///{path}"
    engine = make_engine(url)
    store = Store(make_session_factory(engine))
    try:
        positions = await store.list_positions()
        assert positions, "the simulated morning should leave positions open at 11:30"
        yield Morning(_settings(tmp_path), url, store, SimClock(UNTIL + timedelta(seconds=30)))
    finally:
        await engine.dispose()


async def _table_rows(url: str, table: Table) -> list[dict[str, object]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(select(table))).mappings()]
    finally:
        await engine.dispose()


async def _report(m: Morning) -> StatusReport:
    return await collect_status(m.settings, m.store, m.clock, ExchangeCalendar(), host="here")


async def test_status_json_says_what_the_journal_says(morning: Morning) -> None:
    store = morning.store
    report = json.loads(json.dumps((await _report(morning)).as_dict()))

    mirror = {p.symbol: p for p in await store.list_positions()}
    assert [p["symbol"] for p in report["positions"]] == sorted(mirror)
    for shown in report["positions"]:
        held = mirror[shown["symbol"]]
        assert shown["qty"] == held.qty
        assert shown["avg_entry_price"] == str(held.avg_entry_price)
        assert shown["current_price"] == str(held.current_price)
        assert shown["price_at"] == held.updated_at.isoformat()
        unrealised = (held.current_price - held.avg_entry_price) * held.qty
        assert shown["unrealised_pnl"] == str(unrealised)
        entry = await store.get_order(shown["entry_client_order_id"])
        assert entry is not None
        assert entry.symbol == held.symbol
        legs = {leg.role: leg for leg in await store.legs_of(entry.client_order_id)}
        assert shown["stop_price"] == str(legs[LegRole.STOP_LOSS].stop_price)
        assert shown["target_price"] == str(legs[LegRole.TAKE_PROFIT].limit_price)
        assert shown["protection"] == "protected"
        opening = min(
            f.timestamp for f in await store.fills_for_day(DAY) if f.symbol == held.symbol
        )
        assert shown["opened_by_fill"] is True
        assert shown["opened_at"] == opening.isoformat()
        assert shown["age_seconds"] == round((morning.clock.now() - opening).total_seconds(), 1)
    assert report["unprotected_positions"] == []
    assert report["prices_as_of"] == min(p.updated_at for p in mirror.values()).isoformat()

    fills = await store.fills_for_day(DAY)
    assert [(f["symbol"], f["qty"], f["price"]) for f in report["fills_today"]] == [
        (f.symbol, f.qty, str(f.price)) for f in fills
    ]
    assert {f["role"] for f in report["fills_today"]} >= {"entry"}
    assert report["pnl_today"]["realised"] == str(realised_pnl(fills))
    assert report["realised_pnl_today"] == report["pnl_today"]["realised"]
    assert report["orders_today"]["counts"] == await store.order_counts_for_day(DAY)
    every_order = await _table_rows(morning.url, orders)  # the whole journal is this morning's
    assert sorted(o["client_order_id"] for o in report["orders_today"]["orders"]) == sorted(
        row["client_order_id"] for row in every_order
    )
    assert {o["role"] for o in report["orders_today"]["orders"]} >= {
        "entry",
        "stop_loss",
        "take_profit",
    }
    assert [o["client_order_id"] for o in report["open_orders"]] == [
        o.client_order_id for o in await store.non_final_orders()
    ]
    assert report["cycles_today"] == len(await store.cycles_for_day(DAY))
    snapshot = await store.latest_account_snapshot()
    assert snapshot is not None, "the risk-watch sampled the account during the morning"
    assert report["account"] == {
        "as_of": snapshot.at.isoformat(),
        "equity": str(snapshot.equity),
        "cash": str(snapshot.cash),
        "buying_power": str(snapshot.buying_power),
        "day_start_equity": str(snapshot.day_start_equity),
        "day_pnl": str(snapshot.day_pnl),
    }
    assert report["pnl_today"]["total"] == str(snapshot.day_pnl)
    assert report["daemon"]["liveness"] == "none"
    assert report["flatten_request"] is None
    assert report["as_of"] == morning.clock.now().isoformat()
    next_scan = datetime.fromisoformat(report["next_scan"])
    assert next_scan == datetime.combine(DAY, time(12, 0), tzinfo=EXCHANGE_TZ)


async def test_on_a_terminal_the_tables_have_their_columns_and_every_position(
    morning: Morning,
) -> None:
    report = await _report(morning)
    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system="standard")
    render_rich(status_view(report), console)
    screen = console.file.getvalue()  # type: ignore[attr-defined]

    assert ANSI.search(screen), "a terminal gets colour"
    text = ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", screen))
    header = next(line for line in text.splitlines() if "unreal. P&L" in line)
    for column in ("symbol", "qty", "entry", "last", "stop", "target", "age", "source"):
        assert column in header
    for line in report.positions:
        row = next(r for r in text.splitlines() if f" {line.symbol} " in r and "catalyst" in r)
        assert f"{line.stop_price:,.2f}" in row
        assert f"{line.target_price:,.2f}" in row
    for title in ("open orders", "orders today", "fills today"):
        assert title in text


async def test_a_position_without_a_working_stop_is_flagged_loudly(morning: Morning) -> None:
    store = morning.store
    victim = (await store.list_positions())[0]
    for order in await store.non_final_orders():
        if order.symbol == victim.symbol and order.role is LegRole.STOP_LOSS:
            await store.record_order_update(
                order.client_order_id, status="canceled", at=morning.clock.now()
            )

    report = await _report(morning)
    plain = render_plain(status_view(report))
    if os.environ.get("SHOW_STATUS"):
        print(plain)
        render_rich(status_view(report), Console(width=160, force_terminal=True))

    assert report.as_dict()["unprotected_positions"] == [victim.symbol]
    assert f"!! {victim.symbol}: {victim.qty} shares, NO WORKING STOP (stop leg " in plain
    assert "is canceled)" in plain
    row = next(r for r in plain.splitlines() if r.startswith("!!") and f" {victim.symbol} " in r)
    assert " NONE " in row


async def test_a_stale_heartbeat_says_no_daemon_is_alive_and_what_that_means(
    morning: Morning,
) -> None:
    where = str(morning.settings.trading.paths.state_dir.absolute())
    beat_at = morning.clock.now() - timedelta(minutes=3)
    await morning.store.record_heartbeat(
        HeartbeatRecord("here", where, 4242, "0.1.0", "active", beat_at, beat_at)
    )
    plain = render_plain(status_view(await _report(morning)))

    daemon = next(line for line in plain.splitlines() if line.startswith("daemon:"))
    assert "NOT RUNNING: no daemon has checked in since 11:27:30 EST (3 m 00 s ago)" in daemon
    assert "pid 4242 on host here" in daemon
    assert "open position(s) and no live daemon: nothing watches them" in plain


def _config_for(tmp_path: Path, state_dir: Path, url: str) -> Path:
    target = tmp_path / "config"
    target.mkdir()
    for name in ("trading_config.yaml", "risk_parameters.yaml"):
        (target / name).write_text((CONFIG_DIR / name).read_text())
    trading = yaml.safe_load((target / "trading_config.yaml").read_text())
    trading["paths"]["state_dir"] = str(state_dir)
    trading["database"]["url"] = url
    (target / "trading_config.yaml").write_text(yaml.safe_dump(trading))
    return target


async def test_the_command_in_a_pipe_reads_the_journal_without_a_broker(
    morning: Morning, tmp_path: Path
) -> None:
    state_dir = morning.settings.trading.paths.state_dir.absolute()
    config = _config_for(tmp_path, state_dir, morning.url)
    beat_at = datetime.now(EXCHANGE_TZ) - timedelta(hours=2)  # wall time: the command's clock
    await morning.store.record_heartbeat(
        HeartbeatRecord(
            socket.gethostname(), str(state_dir), 4242, "0.1.0", "active", beat_at, beat_at
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "catalyst", "status", "--config", str(config), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    as_json, plain = run("--json"), run()

    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["daemon"]["liveness"] == "silent"
    assert report["daemon"]["alive"] is False
    mirror = await morning.store.list_positions()
    assert [p["symbol"] for p in report["positions"]] == sorted(p.symbol for p in mirror)
    assert all(p["protection"] == "protected" for p in report["positions"])
    assert plain.returncode == 0, plain.stderr
    assert not ANSI.search(plain.stdout), "no colour codes in a pipe"
    assert "daemon:         NOT RUNNING: no daemon has checked in since " in plain.stdout
    assert "unreal. P&L" in plain.stdout
