"""`catalyst cycles` and `catalyst cycles show ID` against a real journal: a cycle with its scan
results at every stage journaled into a migrated database (SQLite, and PostgreSQL when one is
reachable), read back by the command as an operator runs it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import MigratedDatabase
from cycle_records import CYCLE_ID, DROP_REASON, cycle, funnel_rows, start_of
from sqlalchemy import text
from support import CONFIG_DIR

from catalyst import cli
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.exit_codes import ExitCode
from catalyst.store.engine import make_engine
from catalyst.store.migrate import upgrade_database
from catalyst.store.records import CycleRecord, ScanResultRecord
from catalyst.store.repository import Store


@dataclass(frozen=True)
class Operator:
    """A config dir whose state dir is in the test's tmp_path, and the journal it reads."""

    config: Path
    env: dict[str, str]

    async def cycles(self, *args: str) -> Result:
        """`catalyst cycles ARGS --config ...` in this process (in a thread: the command runs
        its own event loop)."""
        runner = CliRunner()
        argv = ["cycles", *args, "--config", str(self.config)]
        return await asyncio.to_thread(
            runner.invoke, cli.main, argv, env=self.env, prog_name="catalyst"
        )


def _operator(tmp_path: Path, database_url: str) -> Operator:
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    trading_file = config / "trading_config.yaml"
    data = yaml.safe_load(trading_file.read_text())
    data["paths"]["state_dir"] = str(tmp_path / "state")
    trading_file.write_text(yaml.safe_dump(data))
    return Operator(config, {"CATALYST_DATABASE_URL": database_url})


async def _journal(store: Store, record: CycleRecord, rows: Sequence[ScanResultRecord]) -> None:
    await store.start_cycle(start_of(record))
    await store.record_scan_results(rows)
    assert record.finished_at is not None
    await store.finish_cycle(
        record.cycle_id,
        status=record.status,
        scan_completed_at=record.scan_completed_at,
        finished_at=record.finished_at,
        candidates_identified=record.candidates_identified,
        trades_executed=record.trades_executed,
        funnel=record.funnel,
        skipped=record.skipped,
    )


@pytest.fixture
async def journaled(migrated_db: MigratedDatabase, tmp_path: Path) -> Operator:
    """The example cycle (`cycle_records`) journaled with its scan results at every stage."""
    await _journal(migrated_db.store, cycle(), funnel_rows())
    return _operator(tmp_path, migrated_db.url)


async def test_cycles_lists_the_day_with_its_funnel(journaled: Operator) -> None:
    result = await journaled.cycles("--date", "2026-11-24")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "cycles on 2026-11-24: 1 (times America/New_York)"
    assert lines[2].split()[:3] == ["2", CYCLE_ID, "09:30:02"]
    assert lines[3].strip().startswith("funnel: universe 4119 → most_active 200 → catalysts 50")
    assert "skipped 1215: not_tradable 1200, stale 12, no_snapshot 3" in result.stdout


async def test_cycles_json_parses_and_keeps_the_funnel(journaled: Operator) -> None:
    result = await journaled.cycles("--date", "2026-11-24", "--json")

    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["cycles"]
    assert entry["cycle_id"] == CYCLE_ID
    assert list(entry["funnel"])[:3] == ["universe", "most_active", "catalysts"]


async def test_cycles_on_a_day_without_cycles_says_so(journaled: Operator) -> None:
    result = await journaled.cycles("--date", "2026-11-25")
    assert (result.exit_code, result.stdout) == (0, "no cycles on 2026-11-25\n")


async def test_cycles_without_a_date_lists_today_in_new_york(
    tmp_path: Path, sqlite_url: str
) -> None:
    await asyncio.to_thread(upgrade_database, sqlite_url)
    before = datetime.now(EXCHANGE_TZ).date()
    result = await _operator(tmp_path, sqlite_url).cycles()
    if datetime.now(EXCHANGE_TZ).date() != before:
        pytest.skip("midnight passed in New York while the command ran")
    assert (result.exit_code, result.stdout) == (0, f"no cycles on {before.isoformat()}\n")


async def test_cycles_with_a_bad_date_is_a_usage_error(tmp_path: Path, sqlite_url: str) -> None:
    result = await _operator(tmp_path, sqlite_url).cycles("--date", "2026-13-01")

    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert line.startswith("catalyst cycles: Invalid value for '--date': '2026-13-01'")


async def test_show_explains_a_dropped_symbol_and_the_final_candidate(journaled: Operator) -> None:
    result = await journaled.cycles("show", CYCLE_ID)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"cycle {CYCLE_ID} (#2 on 2026-11-24): completed, schedule")
    assert "catalysts: 3 reached, 2 kept, 1 dropped" in out
    (bolt,) = [line for line in out.splitlines() if "  BOLT  " in line and "0.12" in line]
    assert bolt.split()[:3] == ["3", "BOLT", "12.34"]
    assert "dropped: catalyst score 0.12 not among the 50 best" in " ".join(out.split())
    assert f"dropped: {DROP_REASON}" in " ".join(out.split())
    final = out.split("final candidates: 1\n")[1].splitlines()
    assert final[1].split() == ["1", "ACME", "ranked", "12.34", "0.86", "12.40", "11.90",
                                "13.40", "2.0"]  # fmt: skip


async def test_show_json_has_every_row(journaled: Operator) -> None:
    result = await journaled.cycles("show", CYCLE_ID, "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(r["stage"], r["symbol"]) for r in data["scan_results"]] == [
        (r.stage.value, r.symbol) for r in funnel_rows()
    ]
    assert [r["symbol"] for r in data["final_candidates"]] == ["ACME"]
    assert data["final_candidates"][0]["plan"]["stop"] == "11.90"


async def test_show_of_an_unknown_cycle_is_one_line_and_a_usage_exit(journaled: Operator) -> None:
    result = await journaled.cycles("show", "20261124-0931")

    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("catalyst: no cycle '20261124-0931' in the journal (state dir ")
    assert line.endswith("`catalyst cycles --date 2026-11-24` lists a day's cycles")
    other = await journaled.cycles("show", "nonsense")
    assert other.stderr.endswith("`catalyst cycles --date YYYY-MM-DD` lists a day's cycles\n")


async def test_config_and_json_given_before_show_are_used(journaled: Operator) -> None:
    argv = ["cycles", "--config", str(journaled.config), "--json", "show", CYCLE_ID]
    result = await asyncio.to_thread(CliRunner().invoke, cli.main, argv, env=journaled.env)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cycle"]["cycle_id"] == CYCLE_ID
    dated = await journaled.cycles("--date", "2026-11-24", "show", CYCLE_ID)
    assert dated.exit_code == ExitCode.USAGE
    assert "show` takes a cycle id only" in dated.stderr


async def test_show_of_rows_journaled_before_stages(db_url: str, tmp_path: Path) -> None:
    # Written at revision 0002 as the old catalyst score wrote them, then migrated.
    await asyncio.to_thread(upgrade_database, db_url, "0002")
    engine = make_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO trading_cycles (cycle_id, cycle_date, cycle_number, session_mode,"
                    " triggered_by, status, started_at, finished_at, candidates_identified,"
                    " trades_executed, funnel) VALUES ('20261124-1000', '2026-11-24', 3,"
                    " 'autonomous', 'schedule', 'completed', '2026-11-24 15:00:00',"
                    " '2026-11-24 15:00:02', 1, 0, :funnel)"
                ),
                {"funnel": '{"universe": 3000, "screened": 40, "scored": 40, "selected": 2}'},
            )
            await connection.execute(
                text(
                    "INSERT INTO scan_results (cycle_id, symbol, scan_timestamp, price_at_scan,"
                    " volume_at_scan, rank_in_scan, scan_type, composite_score, final_candidate,"
                    " reject_reason) VALUES ('20261124-1000', :symbol, '2026-11-24 15:00:00',"
                    " '12.5', 1000, :rank, 'intraday', 0.8, :final, :reason)"
                ),
                [
                    {"symbol": "OLDA", "rank": 1, "final": True, "reason": None},
                    {"symbol": "OLDB", "rank": 2, "final": False, "reason": "max positions"},
                ],
            )
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade_database, db_url)

    result = await _operator(tmp_path, db_url).cycles("show", "20261124-1000")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "funnel: universe 3000 → screened 40 → scored 40 → selected 2" in out
    assert "catalysts: 2 reached\n" in out
    lines = out.splitlines()
    assert [line.split() for line in lines if "  OLDA  " in line] == [
        ["1", "OLDA", "12.50", "0.80", "final"],
        ["1", "OLDA", "catalysts", "12.50", "0.80", "-", "-", "-", "-"],
    ]
    assert [line.split() for line in lines if "  OLDB  " in line] == [
        ["2", "OLDB", "12.50", "0.80", "dropped:", "max", "positions"]
    ]
    assert "(journaled before per-stage records" in out


@pytest.mark.parametrize(
    ("migrated", "command", "code", "message"),
    [
        (True, ["show", "20261124-0931"], ExitCode.USAGE, "no cycle '20261124-0931' in the"),
        (False, ["--date", "2026-11-24"], ExitCode.DATABASE_NOT_MIGRATED, "is not migrated"),
    ],
)
def test_a_failing_cycles_command_is_one_line_and_its_exit_code(
    tmp_path: Path, sqlite_url: str, migrated: bool, command: list[str], code: int, message: str
) -> None:
    if migrated:
        upgrade_database(sqlite_url)
    operator = _operator(tmp_path, sqlite_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    process = subprocess.run(
        [sys.executable, "-m", "catalyst", "cycles", *command, "--config", str(operator.config)],
        env={**env, **operator.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert process.returncode == code
    (line,) = process.stderr.splitlines()
    assert line.startswith("catalyst: ")
    assert message in line
    assert process.stdout == ""
