"""`catalyst broker check` against the fake Alpaca server: reads only, credentials never shown."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from support import CONFIG_DIR

from catalyst.config.models import SimulationConfig
from catalyst.fake_alpaca.app import create_app
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

SECRET = "s3cr3t-value-never-printed"
KEY = "key-id-never-printed"
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
async def fake_alpaca() -> AsyncIterator[tuple[str, SimBroker]]:
    clock = SimClock(START)
    calendar = ExchangeCalendar(first_day=date(2026, 1, 1), last_day=date(2027, 12, 31))
    sim = build_sim_broker(SimulationConfig(symbols=50), calendar, clock)
    runner = web.AppRunner(create_app(sim.exchange, calendar, clock))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", sim
    finally:
        await runner.cleanup()


def _config(tmp_path: Path, url: str) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    trading_file = target / "trading_config.yaml"
    data = yaml.safe_load(trading_file.read_text())
    data["paths"]["state_dir"] = str(tmp_path / "state")
    data["broker"].update({"kind": "alpaca", "trading_base_url": url, "data_base_url": url})
    trading_file.write_text(yaml.safe_dump(data))
    return target


async def _check(config: Path, **env: str) -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    full_env.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "catalyst",
        "broker",
        "check",
        "--config",
        str(config),
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_broker_check_prints_account_clock_and_session_without_secrets(
    tmp_path: Path, fake_alpaca: tuple[str, SimBroker]
) -> None:
    url, sim = fake_alpaca
    code, out, err = await _check(
        _config(tmp_path, url), APCA_API_KEY_ID=KEY, APCA_API_SECRET_KEY=SECRET
    )
    assert code == 0, err
    assert "broker: Alpaca paper" in out
    assert "equity: 100000" in out
    assert "buying power:" in out
    assert "market: open" in out
    assert "session 20" in out
    assert SECRET not in out + err
    assert KEY not in out + err
    assert await sim.list_open_orders() == []


async def test_broker_check_without_credentials_fails_with_a_config_error(
    tmp_path: Path, fake_alpaca: tuple[str, SimBroker]
) -> None:
    url, _ = fake_alpaca
    code, _, err = await _check(_config(tmp_path, url))
    assert code == 2
    assert "APCA_API_KEY_ID" in err
