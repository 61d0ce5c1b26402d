"""A running daemon's check-in, as the journal keeps it, and the verdict on it.

A row is alive when it beat within `ALIVE_WITHIN` and was not signed off by a clean stop;
`catalyst status` and `catalyst flatten` use the verdict to tell an operator whether a live
daemon is there. The beats are written by `catalyst.tasks.heartbeat`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

HEARTBEAT_INTERVAL = timedelta(seconds=5)
ALIVE_WITHIN = 4 * HEARTBEAT_INTERVAL  # a few missed beats (a slow database) are not death


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


class Liveness(StrEnum):
    """What the journal says about a daemon."""

    ALIVE = "alive"  # beat within ALIVE_WITHIN
    SILENT = "silent"  # beat once, not lately, never signed off: crashed or hung
    STOPPED = "stopped"  # signed off by a clean stop
    NONE = "none"  # never checked in


@dataclass(frozen=True, slots=True)
class DaemonPresence:
    """The verdict on one installation (host + state dir), with the beat it rests on."""

    liveness: Liveness
    beat: HeartbeatRecord | None
    age: timedelta | None  # now - last beat

    @property
    def alive(self) -> bool:
        """True when a daemon checked in within `ALIVE_WITHIN`."""
        return self.liveness is Liveness.ALIVE

    def describe(self) -> str:
        """One line for an operator."""
        beat = self.beat
        if beat is None or self.age is None:
            return "no daemon has ever checked in for this state dir"
        who = f"pid {beat.pid} on host {beat.host} (catalyst {beat.version})"
        ago = f"{self.age.total_seconds():.0f} s ago ({beat.beat_at.isoformat(timespec='seconds')})"
        if self.liveness is Liveness.ALIVE:
            return f"alive: {who}, trading {beat.trading_state}, last checked in {ago}"
        if self.liveness is Liveness.STOPPED:
            return f"not running: {who} stopped cleanly {ago}"
        return f"not running: {who} last checked in {ago} and then fell silent"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for `status --json`."""
        beat = self.beat
        return {
            "liveness": self.liveness.value,
            "alive": self.alive,
            "pid": beat.pid if beat else None,
            "host": beat.host if beat else None,
            "version": beat.version if beat else None,
            "trading_state": beat.trading_state if beat else None,
            "last_beat": beat.beat_at.isoformat() if beat else None,
            "seconds_since_beat": round(self.age.total_seconds(), 1) if self.age else None,
        }


def judge(beat: HeartbeatRecord | None, now: datetime) -> DaemonPresence:
    """The verdict on `beat` as of `now` (pure)."""
    if beat is None:
        return DaemonPresence(Liveness.NONE, None, None)
    age = now - beat.beat_at
    if beat.stopped_at is not None:
        return DaemonPresence(Liveness.STOPPED, beat, age)
    if age <= ALIVE_WITHIN:
        return DaemonPresence(Liveness.ALIVE, beat, age)
    return DaemonPresence(Liveness.SILENT, beat, age)


def presence_for(
    beats: Sequence[HeartbeatRecord], host: str, state_dir: str, now: datetime
) -> DaemonPresence:
    """The verdict on the daemon of `state_dir` on `host` (pure)."""
    mine = next((b for b in beats if b.host == host and b.state_dir == state_dir), None)
    return judge(mine, now)


def others_alive(
    beats: Sequence[HeartbeatRecord], host: str, state_dir: str, now: datetime
) -> list[DaemonPresence]:
    """Live daemons on this journal other than the one of `state_dir` on `host` (pure)."""
    verdicts = [judge(b, now) for b in beats if (b.host, b.state_dir) != (host, state_dir)]
    return [v for v in verdicts if v.alive]
