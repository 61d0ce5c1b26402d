"""One daemon per state dir: an exclusive `flock` on `<state_dir>/catalyst.lock`, held for the
life of the process.

The kernel drops a flock when its holder dies, however it dies (SIGKILL included), so a lock file
left behind by a dead process blocks nobody: the next start simply takes it. The file is never
deleted (unlinking a locked file would let a third process lock a fresh inode beside the held
one); each holder rewrites it with who holds it, so a refused second process can name the holder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from catalyst.domain.errors import InstanceLocked, OperationalError
from catalyst.ops.filesystem import unusable_path

__all__ = ["LOCK_FILE_NAME", "LockHolder", "StateDirLock"]

LOCK_FILE_NAME = "catalyst.lock"
# The winner writes its details a moment after taking the lock: a loser that reads in between
# sees an empty file and looks again, briefly (this bounds how long "at once" takes).
_READ_ATTEMPTS = 20
_READ_PAUSE_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a lock: process id, host name and since when (wall clock, aware)."""

    pid: int
    host: str
    since: datetime

    @classmethod
    def this_process(cls, since: datetime) -> LockHolder:
        """This process on this host, holding since `since`."""
        if since.tzinfo is None or since.utcoffset() is None:
            raise ValueError("LockHolder.since must be timezone-aware")
        return cls(os.getpid(), socket.gethostname(), since)

    def describe(self) -> str:
        """`pid 1234 on host alpha since 2026-12-02T01:36:55+00:00`."""
        return (
            f"pid {self.pid} on host {self.host} since {self.since.isoformat(timespec='seconds')}"
        )

    def render(self) -> str:
        """The lock file's content: one `key: value` line per field."""
        return f"pid: {self.pid}\nhost: {self.host}\nsince: {self.since.isoformat()}\n"

    @classmethod
    def parse(cls, text: str) -> LockHolder | None:
        """The holder recorded by `render`, or None when the text is empty or malformed."""
        fields = dict(
            (key.strip(), value.strip())
            for key, sep, value in (line.partition(":") for line in text.splitlines())
            if sep
        )
        try:
            since = datetime.fromisoformat(fields["since"])
            return cls(int(fields["pid"]), fields["host"], since)
        except (KeyError, ValueError):
            return None


class StateDirLock:
    """The exclusive lock on a state dir (`acquire`, then `release` or process exit)."""

    def __init__(self, state_dir: Path, *, what: str = "daemon") -> None:
        """`what` names the kind of process in the refusal (`daemon`, `demo`)."""
        self._dir = state_dir
        self._what = what
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self._dir / LOCK_FILE_NAME

    @property
    def held(self) -> bool:
        """True between a successful `acquire` and `release`."""
        return self._fd is not None

    def acquire(self, holder: LockHolder) -> None:
        """Take the lock without waiting and record `holder` in the file.

        Raises `InstanceLocked` naming the current holder when another process has it, and
        `StorageUnusable` when the state dir cannot hold a lock file at all.
        """
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this object")
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise unusable_path(exc, "state directory", self._dir) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = _read_holder(fd)
            os.close(fd)
            who = other.describe() if other is not None else "holder not recorded"
            raise InstanceLocked(
                f"another Catalyst {self._what} already runs on state dir {self._dir}: {who} "
                f"(lock file {self.path})"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise OperationalError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.render().encode("utf-8", "backslashreplace"), 0)
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            raise OperationalError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (closing the file drops it); idempotent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # nobody holds it now: say so
        os.close(fd)


def _read_holder(fd: int) -> LockHolder | None:
    for attempt in range(_READ_ATTEMPTS):
        try:
            holder = LockHolder.parse(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        except OSError:
            return None
        if holder is not None:
            return holder
        if attempt + 1 < _READ_ATTEMPTS:
            time.sleep(_READ_PAUSE_SECONDS)
    return None
