"""`catalyst scan --dry-run` as an operator runs it: one scan against the simulator at a chosen
moment, and against the fake Alpaca server through the real alpaca-py client. It prints the
funnel and the ranked picks with their brackets, and orders and journals nothing."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from support import CONFIG_DIR, make_settings

from catalyst import cli
from catalyst.daemon.entry import dry_run_scan
from catalyst.domain.errors import InvalidArgument
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.exit_codes import ExitCode
from catalyst.fake_alpaca.server import RunningServer, start_fake_alpaca
from catalyst.fake_alpaca.state import STATE
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.engine import make_engine
from catalyst.store.migrate import upgrade_database
from catalyst.store.tables import orders, scan_results, trading_cycles
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
AT = "2026-11-24 10:30"
SYMBOLS = 600  # a small simulated market: the scan takes well under a second
# Below the shipped 0.70, so that a small market surely has picks to size.
FLOOR = 0.5


def _config(tmp_path: Path, **broker: str) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    trading_file = target / "trading_config.yaml"
    data = yaml.safe_load(trading_file.read_text())
    data["paths"]["state_dir"] = str(tmp_path / "state")
    data["simulation"]["symbols"] = SYMBOLS
    data["workflow"]["min_confidence_score"] = FLOOR
    data["broker"].update(broker)
    trading_file.write_text(yaml.safe_dump(data))
    return target


def _scan(config: Path, *args: str, **env: str) -> Result:
    argv = ["scan", *args, "--config", str(config)]
    return CliRunner().invoke(cli.main, argv, env=env, prog_name="catalyst")


async def _journal_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: (
                    await connection.execute(select(func.count()).select_from(table))
                ).scalar_one()
                for table in (trading_cycles, scan_results, orders)
            }
    finally:
        await engine.dispose()


def _table_rows(text: str) -> list[list[str]]:
    """The ranked table's rows: the lines after its header, split into cells."""
    lines = text.splitlines()
    (header,) = [i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "symbol"]]
    return [line.split() for line in lines[header + 1 :]]


def test_dry_run_prints_the_funnel_and_ranked_picks_with_brackets_and_journals_nothing(
    tmp_path: Path, sqlite_url: str
) -> None:
    upgrade_database(sqlite_url)
    result = _scan(_config(tmp_path), "--dry-run", "--at", AT, CATALYST_DATABASE_URL=sqlite_url)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dry run at 2026-11-24 10:30 EST against the simulator")
    funnel = " ".join(line.strip() for line in lines[1:3])
    assert funnel.startswith(f"funnel: universe {SYMBOLS} → snapshots_requested ")
    assert " → most_active 200 → catalysts 50 → technicals 20 → selected " in funnel
    picks = [row for row in _table_rows(result.stdout) if row[-1] == "pick"]
    assert picks, result.stdout
    for row in picks:
        price, entry, stop, target, qty = row[2], *row[-5:-1]
        assert float(stop) < float(price) <= float(entry) < float(target), row
        assert int(qty) >= 1
    # Nothing reached the journal: no cycle, no scan result, no order.
    assert asyncio.run(_journal_counts(sqlite_url)) == {
        "trading_cycles": 0,
        "scan_results": 0,
        "orders": 0,
    }


def test_dry_run_json_parses_and_carries_the_picks_brackets(tmp_path: Path) -> None:
    result = _scan(_config(tmp_path), "--dry-run", "--at", AT, "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["dry_run"] is True
    assert data["at"] == "2026-11-24T10:30:00-05:00"
    assert data["funnel"]["universe"] == SYMBOLS
    picks = [row for row in data["ranked"] if row["pick"]]
    assert len(picks) == data["funnel"]["selected"] > 0
    assert all(set(row["plan"]) == {"entry", "stop", "target", "qty"} for row in picks)
    assert {row["stage"] for row in data["scan_results"]} == {"catalysts", "technicals", "ranked"}


def test_scan_without_dry_run_refuses_in_one_line(tmp_path: Path) -> None:
    result = _scan(_config(tmp_path))

    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "a live scan only happens inside `catalyst run`" in line


def test_dry_run_on_a_closed_day_says_the_market_is_closed_in_one_line(tmp_path: Path) -> None:
    result = _scan(_config(tmp_path), "--dry-run", "--at", "2026-11-28 10:30")  # a Saturday

    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert line == (
        "catalyst: the market is closed at Sat 2026-11-28 10:30 New York: nothing to scan"
    )


def test_dry_run_before_the_first_scan_of_the_day_gives_the_scan_hours(tmp_path: Path) -> None:
    result = _scan(_config(tmp_path), "--dry-run", "--at", "2026-11-24 08:30")

    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert "closed at Tue 2026-11-24 08:30 New York (scans run 09:15-16:00)" in line


async def test_dry_run_without_at_while_the_market_is_closed_says_how_to_pick_a_moment(
    tmp_path: Path,
) -> None:
    saturday = SimClock(datetime(2026, 11, 28, 12, 0, tzinfo=EXCHANGE_TZ))
    with pytest.raises(InvalidArgument) as caught:
        await dry_run_scan(make_settings(tmp_path), None, wall_clock=saturday)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("the market is closed at Sat 2026-11-28 12:00 New York")
    assert message.endswith("--at 'YYYY-MM-DD HH:MM' (New York)")


async def test_dry_run_without_at_scans_the_wall_clocks_moment(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, simulation={"symbols": SYMBOLS})
    now = SimClock(datetime.combine(DAY, time(11, 0), tzinfo=EXCHANGE_TZ))
    report = await dry_run_scan(settings, None, wall_clock=now)
    assert report.at == now.now()
    assert report.funnel["universe"] == SYMBOLS


def test_dry_run_pre_market_says_a_cycle_would_order_none_of_the_picks(tmp_path: Path) -> None:
    result = _scan(_config(tmp_path), "--dry-run", "--at", "2026-11-24 09:15")

    assert result.exit_code == 0, result.output
    assert "(premarket scan)" in result.stdout.splitlines()[0]
    assert "a cycle now would order none of the picks: pre-market scan: watch only" in (
        result.stdout
    )


# ------------------------------------------------------------------------ Alpaca


CREDENTIALS = {"APCA_API_KEY_ID": "key", "APCA_API_SECRET_KEY": "secret"}


def _alpaca_config(tmp_path: Path, server: RunningServer) -> Path:
    url = server.base_url
    return _config(tmp_path, kind="alpaca", trading_base_url=url, data_base_url=url)


@pytest.fixture
async def fake_alpaca() -> AsyncIterator[tuple[RunningServer, SimBroker]]:
    """The fake Alpaca server at 10:30 on `DAY`, its clock standing still."""
    clock = SimClock(datetime.combine(DAY, time(10, 30), tzinfo=EXCHANGE_TZ))
    calendar = ExchangeCalendar()
    simulation = make_settings(Path(), simulation={"symbols": SYMBOLS}).trading.simulation
    sim = build_sim_broker(simulation, calendar, clock)
    server = await start_fake_alpaca(sim.exchange, calendar, clock)
    try:
        yield server, sim
    finally:
        await server.stop()


async def test_dry_run_through_alpaca_prints_the_table_and_sends_no_order(
    tmp_path: Path, fake_alpaca: tuple[RunningServer, SimBroker]
) -> None:
    server, sim = fake_alpaca
    config = _alpaca_config(tmp_path, server)

    # In a thread: the command runs its own event loop, the server runs in this one.
    result = await asyncio.to_thread(_scan, config, "--dry-run", **CREDENTIALS)

    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("dry run at 2026-11-24 10:30 EST against the Alpaca paper")
    assert [row for row in _table_rows(result.stdout) if row[-1] == "pick"], result.stdout
    state = server.app[STATE]
    assert state.request_count("GET /v2/stocks/snapshots") > 0  # it did scan the server
    assert state.request_count("POST") == 0  # no order (nor anything else) was sent
    assert state.request_count("DELETE") == 0
    assert state.request_count("PATCH") == 0
    assert await sim.list_open_orders() == []


async def test_dry_run_through_alpaca_refuses_at(
    tmp_path: Path, fake_alpaca: tuple[RunningServer, SimBroker]
) -> None:
    server, _ = fake_alpaca
    config = _alpaca_config(tmp_path, server)
    result = await asyncio.to_thread(_scan, config, "--dry-run", "--at", AT, **CREDENTIALS)

    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert "Alpaca scans now" in line
    assert server.app[STATE].request_count() == 0
