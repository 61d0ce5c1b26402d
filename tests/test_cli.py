"""The `catalyst` command as an operator uses it: real processes, real exit codes, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import CONFIG_DIR

from catalyst.exit_codes import ExitCode

CATALYST = [sys.executable, "-m", "catalyst"]
SECRET = "s3cr3t-value-never-printed"


def _config_dir(tmp_path: Path, **trading_overrides: object) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    trading_file = target / "trading_config.yaml"
    data = yaml.safe_load(trading_file.read_text())
    data["paths"]["state_dir"] = str(tmp_path / "state")
    for dotted, value in trading_overrides.items():
        section, key = dotted.split("__")
        data[section][key] = value
    trading_file.write_text(yaml.safe_dump(data))
    return target


# A bound on a hung command, not a speed test: a whole simulated day (`demo`) took 55 s at a
# load average of 10 on 2 cores, and over 120 s at 12 (a fresh-clone run that failed on it).
HUNG_AFTER_SECONDS = 900


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    full_env.update(env or {})
    return subprocess.run(
        [*CATALYST, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=HUNG_AFTER_SECONDS,
    )


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = _run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert "catalyst, version 0.1.0" in result.stdout


def test_bad_config_exits_non_zero_naming_file_and_key_and_starts_nothing(tmp_path: Path) -> None:
    config = _config_dir(tmp_path)
    risk = config / "risk_parameters.yaml"
    risk.write_text(risk.read_text().replace("max_positions: 5", "max_positions: -1"))

    result = _run("run", "--config", str(config), cwd=tmp_path)

    assert result.returncode == ExitCode.USAGE
    assert "risk_parameters.yaml" in result.stderr
    assert "risk_limits.max_positions" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "state").exists(), "nothing may start on a bad config"


def test_run_refuses_an_unmigrated_database_with_a_clear_message(tmp_path: Path) -> None:
    config = _config_dir(tmp_path)
    result = _run("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == ExitCode.DATABASE_NOT_MIGRATED
    assert "not migrated" in result.stderr
    assert "catalyst db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_operator_commands_pause_halt_resume_and_status(tmp_path: Path) -> None:
    config = _config_dir(tmp_path)
    env = {"CATALYST_SMTP_PASSWORD": SECRET, "CATALYST_SMTP_USERNAME": "ops"}
    assert _run("db", "upgrade", "--config", str(config), cwd=tmp_path, env=env).returncode == 0

    paused = _run("pause", "--config", str(config), "--reason", "earnings week", cwd=tmp_path)
    assert paused.returncode == 0
    assert (tmp_path / "state" / "PAUSE").exists()

    halted = _run("halt", "--config", str(config), "--reason", "broker outage", cwd=tmp_path)
    assert halted.returncode == 0

    status = _run("status", "--config", str(config), "--json", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["trading_state"] == "halted"
    assert report["halt_reason"] == "broker outage"
    assert report["paused"] is True
    assert report["environment"] == "paper"
    assert report["session_mode"] == "autonomous"
    assert SECRET not in status.stdout + status.stderr
    text = _run("status", "--config", str(config), cwd=tmp_path).stdout
    assert "paused:         yes (paused_at: " in text
    assert "reason: earnings week)" in text

    refused = _run("resume", "--config", str(config), cwd=tmp_path)
    assert refused.returncode == ExitCode.OPERATIONAL
    assert "--ack" in refused.stderr
    assert (tmp_path / "state" / "PAUSE").exists(), "a refused resume changes nothing"

    resumed = _run("resume", "--config", str(config), "--ack", "outage over", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "halt cleared" in resumed.stdout
    assert not (tmp_path / "state" / "PAUSE").exists()
    text = _run("status", "--config", str(config), cwd=tmp_path).stdout
    assert "trading state:  ACTIVE" in text
    assert "paused:         no" in text


def test_config_check_masks_secrets(tmp_path: Path) -> None:
    config = _config_dir(tmp_path)
    env = {
        "CATALYST_DATABASE_URL": f"postgresql://catalyst:{SECRET}@db.internal/catalyst",
        "CATALYST_SMTP_USERNAME": "ops",
        "CATALYST_SMTP_PASSWORD": SECRET,
    }
    result = _run("config", "check", "--config", str(config), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "db.internal" in result.stdout


@pytest.mark.slow
def test_demo_prints_a_summary_of_a_flat_session(tmp_path: Path) -> None:
    config = _config_dir(tmp_path, simulation__symbols=500)
    result = _run("demo", "--config", str(config), "--date", "2026-11-24", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Catalyst simulated session 2026-11-24" in result.stdout
    assert "scans run:          6" in result.stdout
    assert "FLAT" in result.stdout
    assert "NOT FLAT" not in result.stdout
