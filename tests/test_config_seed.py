"""The configuration files of the system Catalyst replaces load unchanged, with their meaning.

`tests/data/seed/` holds its two files verbatim (from docs/seed-config.md): the session mode
`autonomous`, the emergency-action names `halt_new_trades`, `notify_via_email` and
`require_manual_restart`, and `scan_frequency_minutes: 30`, which really schedules scans.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from catalyst.config.loader import load_settings
from catalyst.config.models import BrokerEnvironment, SessionMode, Settings
from catalyst.daemon.entry import run_simulated_day
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.day_plan import plan_for

SEED_DIR = Path(__file__).resolve().parent / "data" / "seed"


@pytest.fixture(scope="module")
def seed() -> Settings:
    return load_settings(SEED_DIR, {})


def test_seed_files_are_the_documented_ones_unchanged() -> None:
    text = (SEED_DIR / "trading_config.yaml").read_text(encoding="utf-8")
    assert 'mode: "autonomous"' in text
    assert "scan_frequency_minutes: 30" in text
    risk = (SEED_DIR / "risk_parameters.yaml").read_text(encoding="utf-8")
    assert "halt_new_trades: true" in risk
    assert "require_manual_restart: true" in risk


def test_seed_trading_file_keeps_its_meaning(seed: Settings) -> None:
    session = seed.trading.trading_session
    assert session.mode is SessionMode.AUTONOMOUS
    assert session.auto_close_at_market_close is True
    assert session.max_hold_time_minutes == 180
    workflow = seed.trading.workflow
    assert workflow.scan_frequency_minutes == 30
    assert workflow.execute_top_n == 5
    assert workflow.min_confidence_score == 0.70
    # Paper vs live was never in these files: Catalyst's default, paper on the simulator.
    assert seed.trading.broker.environment is BrokerEnvironment.PAPER
    assert seed.trading.broker.kind == "sim"
    assert not seed.live_trading_confirmed


def test_seed_risk_file_keeps_its_limits_and_actions(seed: Settings) -> None:
    limits = seed.risk.risk_limits
    assert limits.max_daily_loss_usd == Decimal("2000")
    assert limits.warning_threshold_pct == 0.75
    assert limits.max_positions == 5
    assert limits.max_position_size_usd == Decimal("5000")
    assert limits.max_sector_exposure_pct == 0.40
    actions = seed.risk.emergency_actions
    assert actions.close_all_positions is True
    assert actions.halt_trading is True  # from halt_new_trades
    assert actions.notify is True  # from notify_via_email
    assert actions.require_manual_restart is True
    assert actions.cancel_open_orders is True  # not in the file: Catalyst's default


def test_seed_emergency_actions_switched_off_by_their_old_names_are_honoured(
    tmp_path: Path,
) -> None:
    for name in ("trading_config.yaml", "risk_parameters.yaml"):
        text = (SEED_DIR / name).read_text(encoding="utf-8")
        text = text.replace("halt_new_trades: true", "halt_new_trades: false")
        text = text.replace("notify_via_email: true", "notify_via_email: false")
        (tmp_path / name).write_text(text, encoding="utf-8")

    actions = load_settings(tmp_path, {}).risk.emergency_actions

    assert actions.halt_trading is False
    assert actions.notify is False


def _et(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=EXCHANGE_TZ)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (
            date(2026, 11, 24),  # a regular session: scans every 30 minutes to 15:00
            "09:15 09:30 10:00 10:30 11:00 11:30 12:00 12:30 13:00 13:30 14:00 14:30 15:00",
        ),
        (
            date(2026, 11, 27),  # 13:00 early close, entry cutoff 12:30
            "09:15 09:30 10:00 10:30 11:00 11:30 12:00",
        ),
    ],
)
def test_seed_scan_frequency_schedules_scans_between_the_scan_times(
    seed: Settings, day: date, expected: str
) -> None:
    session = ExchangeCalendar().session(day)
    assert session is not None

    plan = plan_for(session, seed.trading)

    assert plan.scan_times == tuple(_et(day, hhmm) for hhmm in expected.split())


@pytest.mark.slow
async def test_a_simulated_day_on_the_seed_configuration_scans_every_30_minutes(
    seed: Settings, tmp_path: Path, sqlite_url: str
) -> None:
    trading = seed.trading
    settings = seed.model_copy(
        update={
            "trading": trading.model_copy(
                update={
                    "paths": trading.paths.model_copy(update={"state_dir": tmp_path}),
                    "simulation": trading.simulation.model_copy(update={"symbols": 300}),
                }
            )
        }
    )

    summary = await run_simulated_day(settings, day=date(2026, 11, 24), database_url=sqlite_url)

    assert summary.scans_run == 13
    assert summary.flat
