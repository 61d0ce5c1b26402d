"""The operator's pause switch: a small file whose presence stops new entries.

A person can create it by hand (`touch <state_dir>/PAUSE`) or through the CLI, which records who
paused trading, when and why. The daemon only reads it; removing it resumes entries.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from catalyst.ops.filesystem import unusable_path

__all__ = ["PauseFlag"]


def _one_line(text: str) -> str:
    # Each field is one `key: value` line, so embedded line breaks would forge fields.
    return " ".join(text.split())


class PauseFlag:
    """The pause file at `path`. No clock is read here: callers pass the time in."""

    def __init__(self, path: Path, *, word: str = "paused", name: str = "pause flag") -> None:
        """`path` is the flag file, usually `settings.trading.paths.resolved_pause_file`.

        `word` names the action in the recorded fields (`paused_at`, `paused_by`) and `name` the
        file in error messages; other request files (the flatten request) reuse this class with
        their own.
        """
        self._path = path
        self._word = word
        self._name = name

    @property
    def path(self) -> Path:
        """Where the flag lives."""
        return self._path

    def is_set(self) -> bool:
        """True when the flag file exists (whatever its content, even empty)."""
        return self._path.exists()

    def set(self, reason: str, by: str, at: datetime) -> None:
        """Pause: write who/when/why atomically (temp file, fsync, `os.replace`).

        `at` must be timezone-aware. Overwrites an existing flag with the new details.
        `StorageUnusable`, naming the path, when the directory cannot be created or written.
        """
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("PauseFlag.set needs a timezone-aware datetime")
        content = (
            f"{self._word}_at: {at.isoformat()}\n"
            f"{self._word}_by: {_one_line(by) or 'unknown'}\n"
            f"reason: {_one_line(reason) or 'none given'}\n"
        )
        try:
            self._write(content)
        except OSError as exc:
            raise unusable_path(exc, self._name, self._path) from exc

    def _write(self, content: str) -> None:
        parent = self._path.parent
        parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{self._path.name}.", suffix=".tmp", dir=parent
            )
        except OSError as exc:  # name the directory, not a temporary file nobody knows
            raise OSError(exc.errno, exc.strerror, str(parent)) from exc
        try:
            # backslashreplace: CLI arguments may carry lone surrogates from non-UTF-8 bytes.
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self._path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        _fsync_directory(parent)

    def clear(self) -> bool:
        """Resume: remove the flag. True if it was set, False if there was nothing to clear.

        `StorageUnusable`, naming the path, when the flag exists but cannot be removed.
        """
        try:
            self._path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise unusable_path(exc, self._name, self._path) from exc
        return True

    def describe(self) -> str | None:
        """The flag's recorded details, or None when not paused.

        A hand-made empty flag reads as "paused (no details recorded)". `StorageUnusable`,
        naming the path, when it exists but cannot be read.
        """
        try:
            text = self._path.read_text(encoding="utf-8", errors="replace").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:  # unreadable, or a directory where the flag should be
            raise unusable_path(exc, self._name, self._path) from exc
        return text or f"{self._word} (no details recorded)"


def _fsync_directory(directory: Path) -> None:
    # Makes the rename durable across a power cut; some filesystems refuse, which is harmless.
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
