"""A simulated day is a pure function of (seed, date, config): two runs, one journal.

The runs are separate `catalyst demo` processes with different PYTHONHASHSEED values, so neither
set iteration order over strings nor the timing of database threads and task wake-ups may leak
into what is traded or journaled. The journals are compared row for row, every column, in primary
key order (autoincrement ids included: the order in which things were journaled must repeat too).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import CONFIG_DIR

pytestmark = pytest.mark.slow

DAY = "2026-11-24"
# Small enough to keep the test quick, large enough that entries, max-hold exits and bracket
# fills coincide with scans at the same simulated instant (what used to go either way).
SYMBOLS = 800
JOURNAL_TABLES = (
    "trading_cycles",
    "scan_results",
    "orders",
    "order_events",
    "fills",
    "positions",
    "risk_events",
    "trading_state",
    "trading_state_history",
    "daily_equity",
    "securities",
)
RUN_TIMEOUT = 300.0


def _config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(CONFIG_DIR, target)
    trading_file = target / "trading_config.yaml"
    data = yaml.safe_load(trading_file.read_text())
    data["paths"]["state_dir"] = str(tmp_path / "state")  # no real PAUSE or FLATTEN file
    data["simulation"]["symbols"] = SYMBOLS
    trading_file.write_text(yaml.safe_dump(data))
    return target


def _start_demo(config: Path, database: Path, hash_seed: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    env["PYTHONHASHSEED"] = hash_seed
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "catalyst", "demo", "--quiet"),
            *("--config", str(config), "--date", DAY),
            *("--database-url", f"sqlite+aiosqlite:///{database}"),
        ],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _journal(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every journal table, all columns, in primary-key order."""
    connection = sqlite3.connect(database)
    try:
        dump: dict[str, list[tuple[object, ...]]] = {}
        for table in JOURNAL_TABLES:
            columns = connection.execute(f"PRAGMA table_info({table})").fetchall()
            assert columns, f"table {table} missing"
            key = [c[1] for c in sorted(columns, key=lambda c: c[5]) if c[5]]
            names = [c[1] for c in columns]
            rows = connection.execute(
                f"SELECT {', '.join(names)} FROM {table} ORDER BY {', '.join(key)}"
            ).fetchall()
            dump[table] = [tuple(zip(names, row, strict=True)) for row in rows]
        return dump
    finally:
        connection.close()


def _first_difference(left: list[tuple[object, ...]], right: list[tuple[object, ...]]) -> str:
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            return f"row {index}:\n  run 1: {a}\n  run 2: {b}"
    return f"{len(left)} rows against {len(right)}"


def test_the_same_seed_date_and_config_journal_the_same_day_in_separate_processes(
    tmp_path: Path,
) -> None:
    # Each run its own state dir: two demos on one state dir refuse to run at once (its lock).
    configs = [_config(tmp_path / name) for name in ("run1", "run2")]
    databases = [config.parent / "journal.db" for config in configs]
    # Both at once: different hash seeds, and two processes competing for the CPU and the disk.
    runs = [
        _start_demo(config, db, seed)
        for config, db, seed in zip(configs, databases, ("1", "2"), strict=True)
    ]
    outputs = []
    for run in runs:
        try:
            stdout, stderr = run.communicate(timeout=RUN_TIMEOUT)
        finally:
            run.kill()
        assert run.returncode == 0, stderr
        outputs.append(stdout)

    first, second = (_journal(db) for db in databases)
    assert first["orders"], "the day should trade something, or the comparison proves little"
    different = [t for t in JOURNAL_TABLES if first[t] != second[t]]
    assert not different, "\n".join(
        f"{t}: {_first_difference(first[t], second[t])}" for t in different
    )
    assert outputs[0] == outputs[1]
