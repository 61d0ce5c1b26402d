"""The shipped config files: they load, equal the schema defaults, and document every key."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from catalyst.config.loader import load_settings
from catalyst.config.models import (
    BrokerEnvironment,
    PathsConfig,
    RiskFile,
    SessionMode,
    Settings,
    TradingFile,
)
from catalyst.domain.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
SHIPPED = {"trading_config.yaml": TradingFile, "risk_parameters.yaml": RiskFile}
KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[a-z_]+):")


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    return load_settings(CONFIG_DIR, {})


def test_shipped_files_load_in_paper_autonomous_mode_on_the_simulator(shipped: Settings) -> None:
    assert shipped.trading.trading_session.mode is SessionMode.AUTONOMOUS
    assert shipped.trading.broker.environment is BrokerEnvironment.PAPER
    assert shipped.trading.broker.kind == "sim"
    assert not shipped.live_trading_confirmed
    assert shipped.warnings == ()


def test_shipped_workflow_has_the_seed_systems_defaults(shipped: Settings) -> None:
    assert shipped.trading.workflow.execute_top_n == 5
    assert shipped.trading.workflow.min_confidence_score == 0.70
    assert shipped.trading.workflow.scan_frequency_minutes is None


def test_shipped_trading_file_equals_model_defaults_apart_from_resolved_paths(
    shipped: Settings,
) -> None:
    paths = shipped.trading.paths
    assert paths.state_dir == CONFIG_DIR / "var"  # "var", anchored at the config directory
    assert paths.pause_file is None
    unresolved = shipped.trading.model_copy(update={"paths": PathsConfig()})
    assert unresolved == TradingFile()


def test_shipped_risk_file_equals_model_defaults(shipped: Settings) -> None:
    assert shipped.risk == RiskFile()


def test_shipped_risk_limits_are_the_agreed_values(shipped: Settings) -> None:
    limits = shipped.risk.risk_limits
    assert limits.max_daily_loss_usd == Decimal("2000")
    assert limits.warning_threshold_pct == 0.75
    assert limits.max_positions == 5
    assert limits.max_position_size_usd == Decimal("5000")
    assert limits.max_sector_exposure_pct == 0.40
    assert limits.min_reward_risk == 1.5
    actions = shipped.risk.emergency_actions
    assert actions.cancel_open_orders
    assert actions.close_all_positions
    assert actions.halt_trading
    assert actions.notify
    assert actions.require_manual_restart


def model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every dotted key of `model`, sections and leaves alike."""
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(prefix + name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= model_keys(annotation, f"{prefix}{name}.")
    return keys


def file_keys(data: dict[str, object], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, value in data.items():
        keys.add(prefix + name)
        if isinstance(value, dict):
            keys |= file_keys(value, f"{prefix}{name}.")
    return keys


@pytest.mark.parametrize(("name", "model"), SHIPPED.items())
def test_shipped_file_spells_out_every_key(name: str, model: type[BaseModel]) -> None:
    data = yaml.safe_load((CONFIG_DIR / name).read_text(encoding="utf-8"))

    assert file_keys(data) == model_keys(model)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_file_comments_every_leaf_key(name: str) -> None:
    lines = (CONFIG_DIR / name).read_text(encoding="utf-8").splitlines()
    uncommented = []
    for number, line in enumerate(lines):
        match = KEY_LINE.match(line)
        is_leaf = match is not None and match.group("indent") and line.split(":", 1)[1].strip()
        has_comment = "#" in line or (number > 0 and lines[number - 1].strip().startswith("#"))
        if is_leaf and not has_comment:
            uncommented.append(line.strip())
    assert uncommented == []


def test_shipped_files_switched_to_live_are_refused(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    trading = config_dir / "trading_config.yaml"
    text = trading.read_text(encoding="utf-8")
    assert "  environment: paper\n" in text
    trading.write_text(
        text.replace("  environment: paper\n", "  environment: live\n"), encoding="utf-8"
    )

    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, {"CATALYST_LIVE_TRADING": "yes"})

    # broker.kind sim and no acknowledgement phrase: both named, kind first.
    assert (caught.value.file, caught.value.key) == (str(trading), "broker.kind")
    assert "broker.live_trading_acknowledgement" in str(caught.value)


def test_shipped_files_with_the_old_live_mode_are_refused_without_guessing(
    tmp_path: Path,
) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    trading = config_dir / "trading_config.yaml"
    text = trading.read_text(encoding="utf-8")
    trading.write_text(text.replace("  mode: autonomous\n", "  mode: live\n"), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, {"CATALYST_LIVE_TRADING": "yes"})

    assert (caught.value.file, caught.value.key) == (str(trading), "trading_session.mode")
    assert "moved to broker.environment" in str(caught.value)
