"""Every operator mistake or broken environment ends as one line on stderr and a documented exit
code, never a traceback: real `catalyst` processes against real files, directories and databases.

Read-only cases: root ignores permission bits, so as root the command runs without
CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (setpriv); as any other user the bits bind by themselves.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy.engine import make_url
from support import CONFIG_DIR

from catalyst import cli
from catalyst.exit_codes import ExitCode
from catalyst.store.migrate import upgrade_database

CATALYST = [sys.executable, "-m", "catalyst"]
DEFAULT_TEST_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DROP_DAC = [
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


@dataclass
class Workspace:
    """A config dir whose state dir is `state`, and the environment the command runs with."""

    root: Path
    config: Path
    state: Path
    env: dict[str, str]
    prefix: list[str]  # e.g. setpriv, to make permission bits bind for root

    def set_trading(self, section: str, key: str, value: object) -> None:
        trading_file = self.config / "trading_config.yaml"
        data = yaml.safe_load(trading_file.read_text())
        data[section][key] = value
        trading_file.write_text(yaml.safe_dump(data))

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        full = [*self.prefix, *CATALYST, *args, "--config", str(self.config)]
        return subprocess.run(
            full, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=120
        )


def _workspace(tmp_path: Path, state: Path | None = None) -> Workspace:
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    workspace = Workspace(tmp_path, config, state or tmp_path / "state", env, [])
    workspace.set_trading("paths", "state_dir", str(workspace.state))
    return workspace


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_server() -> str:
    return os.environ.get("CATALYST_TEST_PG_URL", DEFAULT_TEST_PG_URL)


def _pg_reachable() -> bool:
    url = make_url(_pg_server())
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=3):
            return True
    except OSError:
        return False


def _unprivileged_prefix(probe_dir: Path) -> list[str]:
    """What makes permission bits bind for this user; skips when nothing can."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make permission bits bind")
        prefix = [setpriv, *DROP_DAC, "--"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", f"open({str(probe_dir / 'probe')!r}, 'w')"],
        capture_output=True,
        check=False,
    )
    if probe.returncode == 0:
        pytest.skip("a read-only directory is still writable here (capabilities kept?)")
    return prefix


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], list[str]]]:
    """Makes a directory read-only; returns the command prefix under which that binds."""
    made: list[Path] = []

    def make(directory: Path) -> list[str]:
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
        made.append(directory)
        return _unprivileged_prefix(directory)

    yield make
    for directory in made:
        directory.chmod(stat.S_IRWXU)


# --- the environments ---------------------------------------------------------------------------


def unreachable_postgres(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    port = _closed_port()
    ws.env["CATALYST_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{port}/catalyst"
    return f"127.0.0.1:{port}"


def login_refused(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    if not _pg_reachable():
        pytest.skip("PostgreSQL is unreachable")
    server = make_url(_pg_server())
    ws.env["CATALYST_DATABASE_URL"] = server.set(
        drivername="postgresql", username="no_such_role_catalyst"
    ).render_as_string(hide_password=False)
    return "refused the login"


def missing_database(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    if not _pg_reachable():
        pytest.skip("PostgreSQL is unreachable")
    server = make_url(_pg_server())
    ws.env["CATALYST_DATABASE_URL"] = server.set(
        drivername="postgresql", database="no_such_database_catalyst"
    ).render_as_string(hide_password=False)
    return "'no_such_database_catalyst' does not exist"


def state_dir_is_a_file(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    ws.state.write_text("not a directory\n")
    return str(ws.state)


def state_dir_under_a_file(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    (ws.root / "blocker").write_text("a file\n")
    ws.set_trading("paths", "state_dir", str(ws.root / "blocker" / "state"))
    return str(ws.root / "blocker")


def state_dir_read_only(ws: Workspace, read_only: Callable[[Path], list[str]]) -> str:
    upgrade_database(f"sqlite:///{ws.state / 'catalyst.db'}")  # a working daemon's state dir ...
    ws.prefix = read_only(ws.state)  # ... then made read-only
    return str(ws.state)


def state_dir_missing_under_read_only_parent(
    ws: Workspace, read_only: Callable[[Path], list[str]]
) -> str:
    parent = ws.root / "readonly"
    ws.set_trading("paths", "state_dir", str(parent / "state"))
    ws.prefix = read_only(parent)
    return str(parent / "state")


def pause_flag_is_a_directory(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    upgrade_database(f"sqlite:///{ws.state / 'catalyst.db'}")
    (ws.state / "PAUSE").mkdir()
    return str(ws.state / "PAUSE")


def corrupt_database(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    ws.state.mkdir()
    (ws.state / "catalyst.db").write_bytes(os.urandom(64 * 1024))
    return str(ws.state / "catalyst.db")


def unmigrated_database(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    return "catalyst db upgrade"


def mysql_in_the_config(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    ws.set_trading("database", "url", "mysql://catalyst@db/catalyst")
    return "database.url"


def garbage_url_in_the_environment(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    ws.env["CATALYST_DATABASE_URL"] = "not a url at all"
    return "CATALYST_DATABASE_URL"


def nothing_wrong(ws: Workspace, _read_only: Callable[[Path], list[str]]) -> str:
    return ""


Setup = Callable[[Workspace, Callable[[Path], list[str]]], str]

CASES: list[tuple[str, Setup, tuple[str, ...], ExitCode]] = [
    # an unreachable PostgreSQL (run waits for it instead: see test_daemon_startup_process.py)
    ("status/unreachable-postgres", unreachable_postgres, ("status",), ExitCode.UNAVAILABLE),
    ("db-upgrade/unreachable-pg", unreachable_postgres, ("db", "upgrade"), ExitCode.UNAVAILABLE),
    ("status/login-refused", login_refused, ("status",), ExitCode.ACCESS),
    ("run/login-refused", login_refused, ("run",), ExitCode.ACCESS),
    (
        "db-upgrade/no-such-database",
        missing_database,
        ("db", "upgrade"),
        ExitCode.DATABASE_NOT_MIGRATED,
    ),
    # a state dir that is a file, or has a file in its way
    ("pause/state-dir-is-a-file", state_dir_is_a_file, ("pause", "--reason", "x"), ExitCode.ACCESS),
    (
        "flatten/state-dir-is-a-file",
        state_dir_is_a_file,
        ("flatten", "--reason", "x", "--yes"),
        ExitCode.ACCESS,
    ),
    ("status/state-dir-is-a-file", state_dir_is_a_file, ("status",), ExitCode.ACCESS),
    ("run/state-dir-is-a-file", state_dir_is_a_file, ("run",), ExitCode.ACCESS),
    ("demo/state-dir-is-a-file", state_dir_is_a_file, ("demo", "--quiet"), ExitCode.ACCESS),
    (
        "pause/state-dir-under-a-file",
        state_dir_under_a_file,
        ("pause", "--reason", "x"),
        ExitCode.ACCESS,
    ),
    # a read-only state dir (with a migrated database in it), or a missing one that cannot be made
    ("pause/read-only", state_dir_read_only, ("pause", "--reason", "x"), ExitCode.ACCESS),
    (
        "flatten/read-only",
        state_dir_read_only,
        ("flatten", "--reason", "x", "--yes"),
        ExitCode.ACCESS,
    ),
    ("status/read-only", state_dir_read_only, ("status",), ExitCode.ACCESS),
    ("run/read-only", state_dir_read_only, ("run",), ExitCode.ACCESS),
    ("demo/read-only", state_dir_read_only, ("demo", "--quiet"), ExitCode.ACCESS),
    (
        "pause/missing-read-only-parent",
        state_dir_missing_under_read_only_parent,
        ("pause", "--reason", "x"),
        ExitCode.ACCESS,
    ),
    (
        "status/missing-read-only-parent",
        state_dir_missing_under_read_only_parent,
        ("status",),
        ExitCode.ACCESS,
    ),
    ("status/pause-flag-is-a-dir", pause_flag_is_a_directory, ("status",), ExitCode.ACCESS),
    # a corrupt database: random bytes
    ("status/corrupt", corrupt_database, ("status",), ExitCode.DATABASE_CORRUPT),
    ("run/corrupt", corrupt_database, ("run",), ExitCode.DATABASE_CORRUPT),
    ("db-upgrade/corrupt", corrupt_database, ("db", "upgrade"), ExitCode.DATABASE_CORRUPT),
    ("status/unmigrated", unmigrated_database, ("status",), ExitCode.DATABASE_NOT_MIGRATED),
    # command-line mistakes
    ("halt/empty-reason", nothing_wrong, ("halt", "--reason", ""), ExitCode.USAGE),
    ("pause/empty-reason", nothing_wrong, ("pause", "--reason", ""), ExitCode.USAGE),
    ("flatten/empty-reason", nothing_wrong, ("flatten", "--reason", "", "--yes"), ExitCode.USAGE),
    ("demo/date-before-calendar", nothing_wrong, ("demo", "--date", "1999-01-04"), ExitCode.USAGE),
    ("demo/date-a-saturday", nothing_wrong, ("demo", "--date", "2026-11-28"), ExitCode.USAGE),
    (
        "demo/mysql-database-url",
        nothing_wrong,
        ("demo", "--database-url", "mysql://h/d"),
        ExitCode.USAGE,
    ),
    # unsupported database URLs, naming the key they came from
    ("status/mysql-url", mysql_in_the_config, ("status",), ExitCode.USAGE),
    ("run/mysql-url", mysql_in_the_config, ("run",), ExitCode.USAGE),
    ("db-upgrade/garbage-url", garbage_url_in_the_environment, ("db", "upgrade"), ExitCode.USAGE),
]

NAMED = {
    "halt/empty-reason": "--reason",
    "pause/empty-reason": "--reason",
    "flatten/empty-reason": "--reason",
    "demo/date-before-calendar": "1999-01-04",
    "demo/date-a-saturday": "2026-11-28",
    "demo/mysql-database-url": "--database-url",
}


@pytest.mark.parametrize(
    ("setup", "args", "code", "case"),
    [pytest.param(setup, args, code, case, id=case) for case, setup, args, code in CASES],
)
def test_a_mistake_or_broken_environment_gives_one_line_and_its_exit_code(
    tmp_path: Path,
    read_only: Callable[[Path], list[str]],
    setup: Setup,
    args: tuple[str, ...],
    code: int,
    case: str,
) -> None:
    ws = _workspace(tmp_path)
    named = setup(ws, read_only) or NAMED[case]

    result = ws.run(*args)

    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert result.returncode == code, lines[0]


def test_an_empty_halt_reason_is_refused_and_nothing_is_halted(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    assert ws.run("db", "upgrade").returncode == 0

    refused = ws.run("halt", "--reason", "")
    status = ws.run("status")

    assert refused.returncode == ExitCode.USAGE
    assert "trading state:  ACTIVE" in status.stdout


def test_a_sync_sqlite_url_as_the_config_comment_suggests_is_used_on_the_async_driver(
    tmp_path: Path,
) -> None:
    ws = _workspace(tmp_path)
    database = tmp_path / "elsewhere" / "journal.db"
    ws.set_trading("database", "url", f"sqlite:///{database}")

    upgraded = ws.run("db", "upgrade")
    status = ws.run("status")

    assert upgraded.returncode == 0, upgraded.stderr
    assert status.returncode == 0, status.stderr
    assert database.is_file()


def test_an_unexpected_error_is_one_line_asking_for_a_report(tmp_path: Path) -> None:
    @cli.main.command("explode-for-test")
    def explode() -> None:
        raise KeyError("boom")

    try:
        result = CliRunner().invoke(cli.main, ["explode-for-test"], env={"CATALYST_DEBUG": ""})
        debug = CliRunner().invoke(cli.main, ["explode-for-test"], env={"CATALYST_DEBUG": "1"})
    finally:
        del cli.main.commands["explode-for-test"]

    assert result.exit_code == ExitCode.INTERNAL
    [line] = result.stderr.strip().splitlines()
    assert re.fullmatch(
        r"catalyst: unexpected error \(KeyError at test_cli_errors\.py:\d+\); this is a bug, "
        r"please report it with the output of the same command run with CATALYST_DEBUG=1",
        line,
    ), line
    assert "boom" not in result.stderr, "the message might quote a secret"
    assert isinstance(debug.exception, KeyError), "CATALYST_DEBUG=1 lets the traceback through"
