"""`catalyst flatten` asks the running daemon to close everything through a request file.

The CLI has no broker of its own (with the simulator the market lives inside the daemon), so it
leaves `<state_dir>/FLATTEN` with who, when and why; the daemon's risk-watch picks it up within one
interval, records it as a risk event, flattens, and removes the file.

A request is honoured only within `max_age` of the time it carries
(`trading_session.flatten_request_max_age_seconds`): one left while no daemon ran (yesterday's,
say) must never flatten today's book, so an older one is recorded as expired and removed unread.
A hand-made file without a readable `requested_at` is dated by its modification time. The window
is symmetric (a request dated too far in the future is refused too: a wrong clock, not an order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from catalyst.ops.pause_flag import PauseFlag

DEFAULT_MAX_AGE = timedelta(seconds=120)
_WORD = "requested"


@dataclass(frozen=True, slots=True)
class PendingFlatten:
    """A request found in the state dir."""

    requested_at: datetime
    detail: str  # the file's lines: who, when, why
    dated_by_file: bool  # no readable requested_at: its modification time stands in

    def age(self, now: datetime) -> timedelta:
        """How old the request is at `now` (negative if dated in the future)."""
        return now - self.requested_at

    def is_fresh(self, now: datetime, max_age: timedelta) -> bool:
        """True when it was made within `max_age` of `now` (either side)."""
        return abs(self.age(now)) <= max_age


class FlattenRequest:
    """The request file. Reuses the pause flag's atomic write; only the meaning differs."""

    def __init__(self, state_dir: Path, *, max_age: timedelta = DEFAULT_MAX_AGE) -> None:
        if max_age <= timedelta(0):
            raise ValueError("a flatten request's max age must be positive")
        self._file = PauseFlag(state_dir / "FLATTEN", word=_WORD, name="flatten request")
        self.max_age = max_age

    @property
    def path(self) -> Path:
        return self._file.path

    def submit(self, reason: str, by: str, at: datetime) -> None:
        """Ask the daemon to flatten (overwrites an earlier pending request)."""
        self._file.set(reason, by, at)

    def pending(self) -> PendingFlatten | None:
        """The pending request, or None."""
        if not self._file.is_set():  # checked every risk-watch tick: a stat, not an open
            return None
        detail = self._file.describe()
        if detail is None:  # removed between the stat and the read
            return None
        requested_at = _requested_at(detail)
        if requested_at is not None:
            return PendingFlatten(requested_at, detail, dated_by_file=False)
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        return PendingFlatten(datetime.fromtimestamp(mtime, UTC), detail, dated_by_file=True)

    def done(self) -> None:
        """Mark the request handled (or expired): remove the file."""
        self._file.clear()


def _requested_at(detail: str) -> datetime | None:
    for line in detail.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == f"{_WORD}_at":
            try:
                when = datetime.fromisoformat(value.strip())
            except ValueError:
                return None
            return when if when.tzinfo is not None and when.utcoffset() is not None else None
    return None
