"""A private PostgreSQL server for tests that stop and start it (never the shared one on 5432).

`initdb` into a fresh temporary directory, on a free port, with the binaries under
/usr/lib/postgresql/*/bin. As root the server runs as the `postgres` OS user (PostgreSQL refuses
to run as root); otherwise as the current user. Skipped with the reason when no binaries are
installed, failed under CATALYST_REQUIRE_PG=1 (like the shared-server fixtures in conftest.py).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"  # the OS user the server runs as when the tests run as root


def _pg_bin() -> Path | None:
    candidates = sorted(
        (p / "bin" for p in PG_ROOT.glob("*") if (p / "bin" / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PrivatePostgres:
    """One throw-away server: `start()`, `stop()` (fast shutdown), `url(database)`."""

    bin_dir: Path
    data_dir: Path
    port: int
    run_as: str | None  # OS user to run the server binaries as, None: the current user

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(
            command, check=True, capture_output=True, text=True, timeout=timeout, cwd="/"
        )

    def init(self) -> None:
        """Create the cluster (trust auth for local TCP, superuser `postgres`)."""
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.log), "-w", "start"
        )

    def stop(self) -> None:
        """Stop the server (fast: open connections are terminated), waiting until it is down."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    @property
    def log(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"


_template: Path | None = None  # one initdb per test process; each server starts from a copy


def _template_cluster(bin_dir: Path, run_as: str | None) -> Path:
    global _template
    if _template is None:
        root = _new_root(run_as)
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        PrivatePostgres(bin_dir, root / "data", 0, run_as).init()
        _template = root / "data"
    return _template


def _new_root(run_as: str | None) -> Path:
    # Not under pytest's basetemp: that is mode 0700 (re-applied by every pytest run as root),
    # which the server's own user cannot traverse.
    root = Path(tempfile.mkdtemp(prefix="catalyst-private-pg-"))
    if run_as is not None:
        user = pwd.getpwnam(run_as)
        os.chown(root, user.pw_uid, user.pw_gid)
    return root


def private_postgres() -> PrivatePostgres:
    """An initialised (not yet started) private server in a fresh temporary directory, or
    skip/fail. Remove it with `stop_quietly`."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        reason = f"no PostgreSQL server binaries under {PG_ROOT}/*/bin"
        if os.environ.get("CATALYST_REQUIRE_PG") == "1":
            pytest.fail(f"{reason} (CATALYST_REQUIRE_PG=1)", pytrace=False)
        pytest.skip(reason)
    run_as = SERVER_USER if os.geteuid() == 0 else None
    template = _template_cluster(bin_dir, run_as)
    root = _new_root(run_as)
    # `cp -a` keeps the owner and the 0700 mode PostgreSQL insists on.
    subprocess.run(["cp", "-a", str(template), str(root / "data")], check=True, timeout=60)
    return PrivatePostgres(bin_dir, root / "data", _free_port(), run_as)


def stop_quietly(server: PrivatePostgres) -> None:
    """Stop `server` if it runs (teardown); then remove its data directory."""
    if (server.data_dir / "postmaster.pid").exists():
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)
