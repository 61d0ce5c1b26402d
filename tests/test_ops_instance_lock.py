"""The state-dir lock: one holder at a time, the holder named, a dead holder never blocking."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalyst.domain.errors import InstanceLocked, StorageUnusable
from catalyst.ops.instance_lock import LockHolder, StateDirLock

SINCE = datetime(2026, 12, 2, 1, 36, 55, tzinfo=UTC)


def test_a_second_holder_is_refused_with_the_first_ones_pid_host_and_since(
    tmp_path: Path,
) -> None:
    first = StateDirLock(tmp_path / "state")
    first.acquire(LockHolder.this_process(SINCE))
    try:
        with pytest.raises(InstanceLocked) as refused:
            StateDirLock(tmp_path / "state").acquire(LockHolder.this_process(SINCE))
    finally:
        first.release()
    message = str(refused.value)
    assert f"pid {os.getpid()} on host {socket.gethostname()} since 2026-12-02T01:36:55" in message
    assert str(tmp_path / "state") in message
    assert "\n" not in message


def test_release_lets_the_next_one_take_it(tmp_path: Path) -> None:
    lock = StateDirLock(tmp_path)
    lock.acquire(LockHolder.this_process(SINCE))
    lock.release()
    again = StateDirLock(tmp_path)
    again.acquire(LockHolder.this_process(SINCE))
    assert again.held
    again.release()


def test_a_lock_file_left_by_a_killed_process_does_not_block(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, datetime\n"
            "from pathlib import Path\n"
            "from catalyst.ops.instance_lock import LockHolder, StateDirLock\n"
            "lock = StateDirLock(Path(sys.argv[1]))\n"
            "lock.acquire(LockHolder.this_process(datetime.datetime.now(datetime.UTC)))\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(InstanceLocked, match=f"pid {holder.pid} "):
            StateDirLock(tmp_path).acquire(LockHolder.this_process(SINCE))
        holder.kill()
        holder.communicate(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.communicate()
    assert f"pid: {holder.pid}" in (tmp_path / "catalyst.lock").read_text(), "file left behind"

    lock = StateDirLock(tmp_path)
    lock.acquire(LockHolder.this_process(SINCE))
    assert f"pid: {os.getpid()}" in lock.path.read_text()
    lock.release()


def test_a_state_dir_that_is_a_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a directory")
    with pytest.raises(StorageUnusable, match="a file is in the way of a directory"):
        StateDirLock(tmp_path / "state").acquire(LockHolder.this_process(SINCE))


def test_holder_round_trips_through_the_file_format() -> None:
    holder = LockHolder(4242, "alpha", SINCE)
    assert LockHolder.parse(holder.render()) == holder
    assert LockHolder.parse("") is None
    assert LockHolder.parse("pid: x\nhost: a\nsince: now\n") is None
