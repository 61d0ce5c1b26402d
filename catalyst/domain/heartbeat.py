"""A running daemon's check-in, as the journal keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class HeartbeatRecord:
    """A running daemon's latest check-in: one row per (host, state dir), rewritten every beat.

    `stopped_at` is set when the daemon stopped cleanly; a crashed one simply stops beating.
    """

    host: str
    state_dir: str  # absolute
    pid: int
    version: str
    trading_state: str  # the journal's trading state as the daemon last saw it, or "stopping"
    started_at: datetime
    beat_at: datetime
    stopped_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware("started_at", self.started_at)
        _require_aware("beat_at", self.beat_at)
