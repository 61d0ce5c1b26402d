"""One daemon per state dir and per account, and every command agreeing on where the state is:
real `catalyst` processes, real locks, a real PostgreSQL shared by two "hosts"."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # no stubs; the test plays a second daemon
import pytest
from pg_admin import asyncpg_dsn, session_name, terminate_sessions
from support import eventually
from test_cli import _config_dir, _run
from test_daemon_process import STARTUP_TIMEOUT, _receive_until

from catalyst.store.account_lock import account_lock_key

CATALYST = [sys.executable, "-m", "catalyst"]
EXIT_LOCKED = 10
EXIT_NO_DAEMON = 11
HOLDER_LINE = re.compile(
    r"^catalyst: another Catalyst daemon .*: pid (\d+) on host (\S+) since (\S+)"
)


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    return {**clean, **extra}


def _notify_socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)
    return sock


def _start(config: Path, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CATALYST, "run", "--config", str(config)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def _eventually(condition: Callable[[], bool], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


@pytest.fixture
def daemon_config(tmp_path: Path) -> Path:
    config = _config_dir(tmp_path, simulation__symbols=200)
    assert _run("db", "upgrade", "--config", str(config), cwd=tmp_path).returncode == 0
    return config


def _refused_at_once(config: Path, cwd: Path, env: dict[str, str]) -> tuple[str, float]:
    started = time.monotonic()
    second = subprocess.run(
        [*CATALYST, "run", "--config", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    took = time.monotonic() - started
    assert second.returncode == EXIT_LOCKED, second.stderr
    assert "Traceback" not in second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert "starting in" not in second.stdout, "the second daemon must start nothing"
    return lines[0], took


def test_second_run_on_the_same_state_dir_exits_at_once_naming_the_holder(
    tmp_path: Path, daemon_config: Path
) -> None:
    sock = _notify_socket(tmp_path / "notify.sock")
    env = _env(NOTIFY_SOCKET=str(tmp_path / "notify.sock"))
    first = _start(daemon_config, tmp_path, env)
    try:
        _receive_until(sock, "READY=1", time.monotonic() + STARTUP_TIMEOUT)
        line, took = _refused_at_once(daemon_config, tmp_path, _env())
    finally:
        stdout, stderr = _stop(first)
        sock.close()
    holder = HOLDER_LINE.match(line)
    assert holder is not None, line
    assert holder.group(1) == str(first.pid)
    assert holder.group(2) == socket.gethostname()
    assert str((tmp_path / "state").absolute()) in line
    print(f"second daemon refused in {took:.2f} s wall")
    assert first.returncode == 0, stderr
    assert str((tmp_path / "state").absolute()) in stdout + stderr, "start-up logs the state dir"


@pytest.mark.postgres
def test_second_run_on_another_state_dir_but_the_same_database_and_account_is_refused(
    tmp_path: Path, pg_url: str
) -> None:
    host_a, host_b = tmp_path / "a", tmp_path / "b"
    host_a.mkdir()
    host_b.mkdir()
    config_a = _config_dir(host_a, simulation__symbols=200)
    config_b = _config_dir(host_b, simulation__symbols=200)
    env = _env(CATALYST_DATABASE_URL=pg_url, NOTIFY_SOCKET=str(tmp_path / "notify.sock"))
    assert _run("db", "upgrade", "--config", str(config_a), cwd=host_a, env=env).returncode == 0
    sock = _notify_socket(tmp_path / "notify.sock")
    first = _start(config_a, host_a, env)
    try:
        _receive_until(sock, "READY=1", time.monotonic() + STARTUP_TIMEOUT)
        line, _ = _refused_at_once(config_b, host_b, _env(CATALYST_DATABASE_URL=pg_url))
    finally:
        _stop(first)
        sock.close()
    assert "holds broker account SIM000000001" in line
    holder = HOLDER_LINE.match(line)
    assert holder is not None, line
    assert holder.group(1) == str(first.pid)
    assert holder.group(2) == socket.gethostname()
    assert first.returncode == 0


def _status(config: Path, cwd: Path) -> dict[str, object]:
    result = _run("status", "--config", str(config), "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def _daemon(report: dict[str, object]) -> dict[str, object]:
    daemon = report["daemon"]
    assert isinstance(daemon, dict)
    return daemon


def test_without_a_daemon_status_says_so_and_flatten_exits_non_zero_leaving_the_request(
    tmp_path: Path, daemon_config: Path
) -> None:
    text = _run("status", "--config", str(daemon_config), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "daemon:         no daemon has ever checked in" in text.stdout
    assert f"state dir:      {(tmp_path / 'state').absolute()}" in text.stdout

    flatten = _run(
        "flatten", "--config", str(daemon_config), "--reason", "r", "--yes", cwd=tmp_path
    )
    assert flatten.returncode == EXIT_NO_DAEMON, flatten.stderr
    assert "NO live daemon" in flatten.stdout
    assert "expires in 120 s" in flatten.stdout
    assert (tmp_path / "state" / "FLATTEN").exists(), "the request is still left"


def test_status_and_flatten_see_a_live_daemon_and_then_a_stopped_one(
    tmp_path: Path, daemon_config: Path
) -> None:
    sock = _notify_socket(tmp_path / "notify.sock")
    daemon = _start(daemon_config, tmp_path, _env(NOTIFY_SOCKET=str(tmp_path / "notify.sock")))
    try:
        _receive_until(sock, "READY=1", time.monotonic() + STARTUP_TIMEOUT)
        _eventually(lambda: _daemon(_status(daemon_config, tmp_path))["alive"] is True)
        alive = _daemon(_status(daemon_config, tmp_path))
        assert alive["pid"] == daemon.pid
        assert alive["host"] == socket.gethostname()
        assert alive["trading_state"] == "active"

        flatten = _run(
            "flatten", "--config", str(daemon_config), "--reason", "r", "--yes", cwd=tmp_path
        )
        assert flatten.returncode == 0, flatten.stdout + flatten.stderr
        assert f"daemon alive: pid {daemon.pid}" in flatten.stdout
        _eventually(lambda: not (tmp_path / "state" / "FLATTEN").exists())  # acted on
    finally:
        _, stderr = _stop(daemon)
        sock.close()
    assert daemon.returncode == 0, stderr

    assert _daemon(_status(daemon_config, tmp_path))["liveness"] == "stopped"
    text = _run("status", "--config", str(daemon_config), cwd=tmp_path).stdout
    assert f"daemon:         not running: pid {daemon.pid}" in text
    late = _run("flatten", "--config", str(daemon_config), "--reason", "r", "--yes", cwd=tmp_path)
    assert late.returncode == EXIT_NO_DAEMON
    assert "NO live daemon" in late.stdout


def test_demo_has_its_own_state_and_leaves_a_real_pause_and_flatten_untouched(
    tmp_path: Path, daemon_config: Path
) -> None:
    state = tmp_path / "state"
    assert (
        _run("pause", "--config", str(daemon_config), "--reason", "p", cwd=tmp_path).returncode == 0
    )
    _run("flatten", "--config", str(daemon_config), "--reason", "f", "--yes", cwd=tmp_path)
    before = {
        name: ((state / name).read_text(), (state / name).stat().st_mtime_ns)
        for name in ("PAUSE", "FLATTEN")
    }

    demo = _run("demo", "--config", str(daemon_config), "--date", "2026-11-24", cwd=tmp_path)

    assert demo.returncode == 0, demo.stderr
    entries = re.search(r"entries placed:\s+(\d+)", demo.stdout)
    assert entries is not None, demo.stdout
    assert int(entries.group(1)) > 0, "the demo trades normally, not paused by the real flag"
    after = {
        name: ((state / name).read_text(), (state / name).stat().st_mtime_ns)
        for name in ("PAUSE", "FLATTEN")
    }
    assert after == before, "the real daemon's control files are untouched"
    assert f"demo state dir (isolated): {state.absolute() / 'demo'}" in demo.stderr
    assert (state / "demo" / "demo.db").exists()
    assert not (state / "demo.db").exists()


def test_every_operator_command_names_the_absolute_state_dir_it_acted_on(
    tmp_path: Path, daemon_config: Path
) -> None:
    state = str((tmp_path / "state").absolute())
    config = str(daemon_config)
    outputs = {
        "db upgrade": _run("db", "upgrade", "--config", config, cwd=tmp_path),
        "pause": _run("pause", "--config", config, "--reason", "r", cwd=tmp_path),
        "halt": _run("halt", "--config", config, "--reason", "r", cwd=tmp_path),
        "resume": _run("resume", "--config", config, "--ack", "ok", cwd=tmp_path),
        "status": _run("status", "--config", config, cwd=tmp_path),
        "flatten": _run("flatten", "--config", config, "--reason", "r", "--yes", cwd=tmp_path),
    }
    for name, result in outputs.items():
        assert f"{state}" in result.stdout, f"{name}: {result.stdout}{result.stderr}"


async def _lock_holder_name(pg_url: str) -> str | None:
    namespace, key = account_lock_key("SIM000000001")
    admin = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        name: str | None = await admin.fetchval(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2",
            namespace,
            key,
        )
        return name
    finally:
        await admin.close()


async def _usurp(pg_url: str) -> asyncpg.Connection:
    """Take the account lock as another daemon would (once the terminated session let go)."""
    namespace, key = account_lock_key("SIM000000001")
    usurper = await asyncpg.connect(
        asyncpg_dsn(pg_url),
        server_settings={"application_name": session_name(999999, "beta.example")},
    )
    await eventually(
        lambda: usurper.fetchval("SELECT pg_try_advisory_lock($1, $2)", namespace, key),
        within=30,
        message="the daemon's lock was never released",
    )
    return usurper


@pytest.mark.postgres
def test_account_lock_lost_with_the_database_is_re_taken_or_if_usurped_the_daemon_exits(
    tmp_path: Path, pg_url: str
) -> None:
    config = _config_dir(tmp_path, simulation__symbols=200)
    env = _env(CATALYST_DATABASE_URL=pg_url, NOTIFY_SOCKET=str(tmp_path / "notify.sock"))
    assert _run("db", "upgrade", "--config", str(config), cwd=tmp_path, env=env).returncode == 0
    sock = _notify_socket(tmp_path / "notify.sock")
    daemon = _start(config, tmp_path, env)
    mine = session_name(daemon.pid, socket.gethostname())
    usurper: asyncpg.Connection | None = None
    try:
        _receive_until(sock, "READY=1", time.monotonic() + STARTUP_TIMEOUT)
        assert asyncio.run(_lock_holder_name(pg_url)) == mine

        # The lock's session dies (as in a database restart) and nobody else wants it.
        asyncio.run(terminate_sessions(pg_url, daemon.pid, socket.gethostname()))
        _eventually(lambda: asyncio.run(_lock_holder_name(pg_url)) == mine)
        assert daemon.poll() is None, "losing the database session alone never stops it"

        # It dies again, and this time another daemon takes the account first.
        async def terminate_and_usurp() -> asyncpg.Connection:
            await terminate_sessions(pg_url, daemon.pid, socket.gethostname())
            return await _usurp(pg_url)

        loop = asyncio.new_event_loop()
        try:
            usurper = loop.run_until_complete(terminate_and_usurp())
            try:
                stdout, stderr = daemon.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                daemon.kill()
                out, err = daemon.communicate()
                raise AssertionError(
                    f"the daemon did not exit:\n{out[-6000:]}\n{err[-6000:]}"
                ) from None
        finally:
            if usurper is not None:
                loop.run_until_complete(usurper.close())
            loop.close()
    finally:
        if daemon.poll() is None:
            _stop(daemon)
        sock.close()
    assert daemon.returncode == EXIT_LOCKED, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("catalyst: lost the account lock while the database was away")
    assert "pid 999999 on host beta.example" in last
    assert "Traceback" not in stdout + stderr
    assert "account lock re-taken" in stdout + stderr
