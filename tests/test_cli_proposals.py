"""`catalyst proposals`, `catalyst approve ID` and `catalyst reject ID` against a real journal
(SQLite, and PostgreSQL when one is reachable), as an operator runs them: proposals journaled as a
supervised cycle would, on the wall clock the commands read."""

from __future__ import annotations

import asyncio
import getpass
import json
import shutil
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import MigratedDatabase
from support import CONFIG_DIR

from catalyst import cli
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.plans import TradePlan
from catalyst.domain.proposals import EntryProposal, ProposalStatus
from catalyst.exit_codes import ExitCode
from catalyst.store.records import CycleStart
from catalyst.store.repository import Store
from catalyst.timekeeping.clock import RealClock


@dataclass(frozen=True)
class Operator:
    config: Path
    env: dict[str, str]
    store: Store
    open: EntryProposal  # pending, an hour left
    stale: EntryProposal  # pending, expired a minute ago

    async def run(self, *args: str) -> Result:
        """`catalyst ARGS --config ...` in this process (in a thread: it runs its own loop)."""
        argv = [*args, "--config", str(self.config)]
        return await asyncio.to_thread(
            CliRunner().invoke, cli.main, argv, env=self.env, prog_name="catalyst"
        )


def _plan(symbol: str) -> TradePlan:
    return TradePlan(
        symbol=symbol,
        sector="Technology",
        qty=12,
        entry_price=Decimal("101.20"),
        stop_price=Decimal("99.10"),
        target_price=Decimal("105.40"),
        confidence=0.82,
    )


@pytest.fixture
async def operator(migrated_db: MigratedDatabase, tmp_path: Path) -> Operator:
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    trading_file = config / "trading_config.yaml"
    data = yaml.safe_load(trading_file.read_text())
    data["paths"]["state_dir"] = str(tmp_path / "state")
    data["trading_session"]["mode"] = "supervised"
    trading_file.write_text(yaml.safe_dump(data))
    now = RealClock().now()
    cycle_id = f"{now.astimezone(EXCHANGE_TZ):%Y%m%d-%H%M}"
    store = migrated_db.store
    await store.start_cycle(
        CycleStart(
            cycle_id=cycle_id,
            cycle_date=now.astimezone(EXCHANGE_TZ).date(),
            cycle_number=1,
            session_mode="supervised",
            triggered_by="schedule",
            started_at=now,
        )
    )
    journaled = []
    for symbol, expires in (("ABCD", timedelta(hours=1)), ("WXYZ", timedelta(minutes=-1))):
        made = await store.record_proposal(
            EntryProposal.for_plan(
                _plan(symbol),
                cycle_id=cycle_id,
                reasons=("gap +4.1 %", "earnings headline"),
                created_at=now - timedelta(minutes=5),
                expires_at=now + expires,
            )
        )
        assert made is not None
        journaled.append(made)
    return Operator(config, {"CATALYST_DATABASE_URL": migrated_db.url}, store, *journaled)


async def test_proposals_lists_the_open_ones_with_time_left_and_the_commands(
    operator: Operator,
) -> None:
    result = await operator.run("proposals")

    assert result.exit_code == 0, result.output
    pid = operator.open.proposal_id
    assert result.stdout.startswith("1 waiting for a decision at ")
    assert f"{pid}  buy 12 ABCD at 101.20 limit, stop 99.10, target 105.40" in result.stdout
    assert "why: gap +4.1 %; earnings headline" in result.stdout
    assert " min " in result.stdout
    assert "s left)" in result.stdout
    assert f"catalyst approve {pid}" in result.stdout
    assert f"catalyst reject {pid} --reason" in result.stdout
    assert operator.stale.proposal_id not in result.stdout  # expired: nothing left to decide


async def test_proposals_json_carries_every_field(operator: Operator) -> None:
    result = await operator.run("proposals", "--json")

    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["proposals"]
    assert entry["proposal_id"] == operator.open.proposal_id
    assert (entry["entry"], entry["stop"], entry["target"], entry["qty"]) == (
        "101.20",
        "99.10",
        "105.40",
        12,
    )
    assert 3500 < entry["seconds_left"] <= 3600
    assert entry["approve"] == f"catalyst approve {operator.open.proposal_id}"

    everything = json.loads((await operator.run("proposals", "--all", "--json")).stdout)
    statuses = {p["proposal_id"]: p["status"] for p in everything["proposals"]}
    assert statuses == {operator.open.proposal_id: "pending", operator.stale.proposal_id: "expired"}


async def test_approve_records_who_and_when_and_a_second_approval_is_refused(
    operator: Operator,
) -> None:
    pid = operator.open.proposal_id

    first = await operator.run("approve", pid.lower())  # typed in lower case: still found

    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"approved {pid} (buy 12 ABCD at 101.20")
    assert "sends it within seconds" in first.stdout
    approved = await operator.store.get_proposal(pid)
    assert approved is not None
    assert approved.status is ProposalStatus.APPROVED
    assert approved.decided_by == getpass.getuser()
    assert approved.decided_at is not None

    again = await operator.run("approve", pid)
    assert again.exit_code == ExitCode.OPERATIONAL
    assert len(again.stderr.splitlines()) == 1
    assert f"is already approved by {getpass.getuser()}" in again.stderr
    assert "nothing changed" in again.stderr
    rejected = await operator.run("reject", pid)
    assert rejected.exit_code == ExitCode.OPERATIONAL
    assert (await operator.store.get_proposal(pid)) == approved


async def test_reject_records_the_reason(operator: Operator) -> None:
    pid = operator.open.proposal_id

    result = await operator.run("reject", pid, "--reason", "spread too wide")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"rejected {pid}")
    rejected = await operator.store.get_proposal(pid)
    assert rejected is not None
    assert (rejected.status, rejected.decision_note) == (
        ProposalStatus.REJECTED,
        "spread too wide",
    )
    assert (await operator.run("reject", pid, "--reason", " ")).exit_code == ExitCode.USAGE


async def test_approving_an_expired_proposal_says_so_and_changes_nothing(
    operator: Operator,
) -> None:
    result = await operator.run("approve", operator.stale.proposal_id)

    assert result.exit_code == ExitCode.OPERATIONAL
    (line,) = result.stderr.splitlines()
    assert "expired at" in line
    assert "it will never be sent" in line
    stale = await operator.store.get_proposal(operator.stale.proposal_id)
    assert stale is not None
    assert stale.status is ProposalStatus.PENDING  # the daemon marks it; nobody approved it
    assert stale.decided_by is None


async def test_an_unknown_id_is_a_usage_error_naming_the_list_command(operator: Operator) -> None:
    result = await operator.run("approve", "NOPE-12345")

    assert result.exit_code == ExitCode.USAGE
    (line,) = result.stderr.splitlines()
    assert "no proposal 'NOPE-12345' in the journal" in line
    assert "`catalyst proposals`" in line


async def test_status_names_the_entries_waiting_for_approval_but_not_the_expired_one(
    operator: Operator,
) -> None:
    data = json.loads((await operator.run("status", "--json")).stdout)
    plain = await operator.run("status")

    pid = operator.open.proposal_id
    assert [p["id"] for p in data["proposals_waiting"]] == [pid]
    assert data["proposals_waiting"][0]["symbol"] == "ABCD"
    assert plain.exit_code == 0, plain.output
    assert f"1 entry waiting ({pid})" in plain.stdout
    assert operator.stale.proposal_id not in plain.stdout
    assert "catalyst proposals" in plain.stdout
