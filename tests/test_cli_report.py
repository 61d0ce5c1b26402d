"""`catalyst report` as an operator runs it: on the journal of a simulated day (`catalyst demo`
into a tmp state dir), on a day without trading, and with an `--html` path it cannot write."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import CONFIG_DIR

from catalyst.exit_codes import ExitCode

CATALYST = [sys.executable, "-m", "catalyst"]
DAY = "2026-11-24"


def _config_dir(root: Path) -> Path:
    target = root / "config"
    shutil.copytree(CONFIG_DIR, target)
    trading_file = target / "trading_config.yaml"
    data = yaml.safe_load(trading_file.read_text())
    data["paths"]["state_dir"] = str(root / "state")
    data["simulation"]["symbols"] = 500
    trading_file.write_text(yaml.safe_dump(data))
    return target


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    full_env.update(env or {})
    return subprocess.run(
        [*CATALYST, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    """A simulated day journaled by `catalyst demo`: (config dir, env pointing the commands at
    the demo's journal, the demo's summary)."""
    root = tmp_path_factory.mktemp("report")
    config = _config_dir(root)
    demo = _run("demo", "--config", str(config), "--date", DAY, "--quiet", cwd=root)
    assert demo.returncode == 0, demo.stderr
    env = {"CATALYST_DATABASE_URL": f"sqlite:///{root / 'state' / 'demo' / 'demo.db'}"}
    return config, env, demo.stdout


@pytest.mark.slow
def test_the_report_of_a_simulated_day_pairs_every_trade_with_why_it_closed(
    demo_day: tuple[Path, dict[str, str], str], tmp_path: Path
) -> None:
    config, env, summary = demo_day
    html = tmp_path / "day.html"
    result = _run(
        "report", "--config", str(config), "--date", DAY, "--html", str(html), cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"Catalyst day report {DAY} (PAPER)" in text
    # The realised P&L is the demo's own figure.
    realised = re.search(r"realised P&L:\s+([+-][\d.]+) USD", summary)
    assert realised is not None
    assert f"realised P&L:    {realised.group(1)} USD" in text
    trades = int(re.search(r"^trades: (\d+)$", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
    entries = int(re.search(r"entries placed:\s+(\d+)", summary).group(1))  # type: ignore[union-attr]
    assert trades == entries > 0
    assert "open at the end: none" in text  # the demo ends flat
    assert "cycles run:      6" in text
    # Every exit's reason was recovered from the journal: none is a bare "closed".
    rows = text.split(f"trades: {trades}\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert len(rows) == trades
    reasons = {"stop", "target", "max hold", "end of day"}
    assert all(any(f"  {r}  " in row for r in reasons) for row in rows), rows
    assert f"HTML report written to {html}" in text
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<h2>Trades" in page

    as_json = _run(
        "report", "--config", str(config), "--date", DAY, "--json", cwd=tmp_path, env=env
    )
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["realised_pnl"] == realised.group(1).lstrip("+")
    assert len(data["trades"]) == trades


def test_a_day_without_trading_says_so_and_exits_0(tmp_path: Path) -> None:
    config = _config_dir(tmp_path)
    database = tmp_path / "empty.db"
    env = {"CATALYST_DATABASE_URL": f"sqlite:///{database}"}
    assert _run("db", "upgrade", "--config", str(config), cwd=tmp_path, env=env).returncode == 0

    result = _run("report", "--config", str(config), "--date", "2026-11-25", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "no trading on 2026-11-25" in result.stdout

    missing = tmp_path / "no-such-dir" / "day.html"
    refused = _run("report", "--config", str(config), "--html", str(missing), cwd=tmp_path, env=env)
    assert refused.returncode == ExitCode.USAGE
    assert refused.stderr.count("\n") == 1
    assert "does not exist" in refused.stderr


def test_a_journal_not_migrated_is_one_line_and_exit_4(tmp_path: Path) -> None:
    config = _config_dir(tmp_path)
    env = {"CATALYST_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}"}
    result = _run("report", "--config", str(config), cwd=tmp_path, env=env)
    assert result.returncode == ExitCode.DATABASE_NOT_MIGRATED
    assert result.stderr.count("\n") == 1
