"""The configuration as operators meet it through the `catalyst` command (real processes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from support import CONFIG_DIR
from test_cli import _run


def _relative_state_config(tmp_path: Path) -> Path:
    """The shipped config in `tmp_path/etc/catalyst`, with the relative `state_dir: state`."""
    config = tmp_path / "etc" / "catalyst"
    shutil.copytree(CONFIG_DIR, config)
    trading = config / "trading_config.yaml"
    data = yaml.safe_load(trading.read_text())
    data["paths"]["state_dir"] = "state"
    trading.write_text(yaml.safe_dump(data))
    return config


def test_pause_from_another_directory_writes_the_state_dir_beside_the_config(
    tmp_path: Path,
) -> None:
    config = _relative_state_config(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    paused = _run("pause", "--config", str(config), "--reason", "test", cwd=elsewhere)

    assert paused.returncode == 0, paused.stderr
    assert (config / "state" / "PAUSE").exists()
    assert not (elsewhere / "state").exists(), "the working directory must not matter"
    assert str(config / "state" / "PAUSE") in paused.stdout
    checked = _run("config", "check", "--config", "../etc/catalyst", cwd=elsewhere)
    assert checked.returncode == 0, checked.stderr
    assert f'"state_dir": "{config / "state"}"' in checked.stdout


def test_every_problem_of_a_file_is_listed_once_with_a_count_and_exit_code_2(
    tmp_path: Path,
) -> None:
    config = _relative_state_config(tmp_path)
    risk = config / "risk_parameters.yaml"
    text = risk.read_text()
    text = text.replace("max_positions: 5", "max_positions: -1")
    text = text.replace("max_daily_loss_usd: 2000", "max_daily_loss_usd: lots")
    risk.write_text(text)

    result = _run("run", "--config", str(config), cwd=tmp_path)

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines == [
        f"catalyst: config error: {risk}: 2 problems",
        f"{risk}: risk_limits.max_daily_loss_usd: must be a number (got 'lots')",
        f"{risk}: risk_limits.max_positions: must be greater than 0 (got -1)",
    ]
    assert not (config / "state").exists(), "nothing may start on a bad config"


def test_an_empty_risk_file_stops_start_up_naming_the_file(tmp_path: Path) -> None:
    config = _relative_state_config(tmp_path)
    risk = config / "risk_parameters.yaml"
    risk.write_text("# risk_limits:\n#   max_daily_loss_usd: 1500\n")

    result = _run("run", "--config", str(config), cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.startswith(
        f"catalyst: config error: {risk}: (top level): the file is empty"
    )
    assert len(result.stderr.splitlines()) == 1


def test_smtp_password_without_username_warns_while_email_is_off(tmp_path: Path) -> None:
    config = _relative_state_config(tmp_path)
    env = {"CATALYST_SMTP_PASSWORD": "never-printed-pw"}

    checked = _run("config", "check", "--config", str(config), cwd=tmp_path, env=env)

    assert checked.returncode == 0, checked.stderr
    assert "catalyst: config warning: environment: CATALYST_SMTP_USERNAME:" in checked.stderr
    assert "never-printed-pw" not in checked.stdout + checked.stderr


def test_smtp_password_without_username_stops_start_up_when_email_is_on(tmp_path: Path) -> None:
    config = _relative_state_config(tmp_path)
    trading = config / "trading_config.yaml"
    data = yaml.safe_load(trading.read_text())
    data["notifications"].update(email_enabled=True, email_to=["ops@example.com"])
    trading.write_text(yaml.safe_dump(data))
    env = {"CATALYST_SMTP_PASSWORD": "never-printed-pw"}

    checked = _run("config", "check", "--config", str(config), cwd=tmp_path, env=env)

    assert checked.returncode == 2
    assert checked.stderr.startswith("catalyst: config error: environment: CATALYST_SMTP_USERNAME:")
    assert "never-printed-pw" not in checked.stdout + checked.stderr


def test_config_check_masks_a_password_in_the_database_url_query(tmp_path: Path) -> None:
    config = _relative_state_config(tmp_path)
    url = "postgresql://catalyst@db.internal/catalyst?sslmode=require&sslpassword=Qu3ry-PW"

    checked = _run(
        "config", "check", "--config", str(config), cwd=tmp_path, env={"CATALYST_DATABASE_URL": url}
    )

    assert checked.returncode == 0, checked.stderr
    assert "Qu3ry-PW" not in checked.stdout + checked.stderr
    assert "sslpassword=***" in checked.stdout


def test_the_old_paper_live_mode_is_refused_in_one_line_pointing_at_broker_environment(
    tmp_path: Path,
) -> None:
    config = _relative_state_config(tmp_path)
    trading = config / "trading_config.yaml"
    data = yaml.safe_load(trading.read_text())
    data["trading_session"]["mode"] = "live"
    trading.write_text(yaml.safe_dump(data))

    result = _run(
        "run", "--config", str(config), cwd=tmp_path, env={"CATALYST_LIVE_TRADING": "yes"}
    )

    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "trading_session.mode: paper/live moved to broker.environment" in result.stderr
