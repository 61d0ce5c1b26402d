"""`catalyst flatten` asks the running daemon to close everything through a request file.

The CLI has no broker of its own (with the simulator the market lives inside the daemon), so it
leaves `<state_dir>/FLATTEN` with who, when and why; the daemon's risk-watch picks it up within one
interval, records it as a risk event, flattens, and removes the file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from catalyst.ops.pause_flag import PauseFlag


class FlattenRequest:
    """The request file. Reuses the pause flag's atomic write; only the meaning differs."""

    def __init__(self, state_dir: Path) -> None:
        self._file = PauseFlag(state_dir / "FLATTEN", word="requested", name="flatten request")

    @property
    def path(self) -> Path:
        return self._file.path

    def submit(self, reason: str, by: str, at: datetime) -> None:
        """Ask the daemon to flatten (overwrites an earlier pending request)."""
        self._file.set(reason, by, at)

    def pending(self) -> str | None:
        """The pending request's details, or None."""
        if not self._file.is_set():  # checked every risk-watch tick: a stat, not an open
            return None
        return self._file.describe()

    def done(self) -> None:
        """Mark the request handled."""
        self._file.clear()
