"""What a restarted daemon owes today's schedule: run the scan it just missed, or record it missed.

The trigger only looks from "now" on and APScheduler's misfire grace only works inside a running
scheduler, so without this a daemon restarted at 10:30:08 would silently skip the 10:30 scan.
`decide_missed_scans` is the whole rule, pure (the supervisor's shell reads the journal and acts):

- a scheduled time before `now` whose cycle is already journaled (ran, failed, or recorded missed)
  is nothing to do: a scan runs once, and is reported missed once;
- one missed by less than `grace`, in the same phase of the day as `now`, runs now; if several
  qualify only the latest runs (one catch-up scan, as APScheduler's coalescing would do), and the
  earlier ones are missed, superseded;
- any other is missed: too late, or the day has moved on (a scan scheduled before the entry cutoff
  could no longer enter; a pre-market watch-only scan would become an entry scan after the open).

A time equal to `now` is not missed: the trigger, armed from the same `now`, fires it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum

from catalyst.timekeeping.day_plan import DayPlan


class MissReason(StrEnum):
    """Why a scheduled scan was not run late."""

    TOO_LATE = "missed by at least the grace period"
    SUPERSEDED = "a later missed scan runs instead"
    PHASE_CHANGED = "the session has moved on to another phase (pre-market, entries, no entries)"


@dataclass(frozen=True, slots=True)
class MissedScan:
    scheduled: datetime
    reason: MissReason


@dataclass(frozen=True, slots=True)
class CatchUp:
    """The start-up decision: at most one scan to run now, and the scans missed for good."""

    run_now: datetime | None = None
    missed: tuple[MissedScan, ...] = ()


class _Phase(Enum):
    PREMARKET = "pre-market"
    ENTRIES = "entries allowed"
    NO_ENTRIES = "past the entry cutoff"


def decide_missed_scans(
    plan: DayPlan, now: datetime, grace: timedelta, journaled: Collection[datetime]
) -> CatchUp:
    """Decide, at start-up `now`, about `plan`'s scan times that are past and not `journaled`."""
    unjournaled = sorted(t for t in plan.scan_times if t < now and t not in journaled)
    eligible = [t for t in unjournaled if now - t < grace and _phase(plan, t) is _phase(plan, now)]
    run_now = eligible[-1] if eligible else None
    missed = tuple(MissedScan(t, _reason(plan, t, now, grace)) for t in unjournaled if t != run_now)
    return CatchUp(run_now, missed)


def _reason(plan: DayPlan, scheduled: datetime, now: datetime, grace: timedelta) -> MissReason:
    if now - scheduled >= grace:
        return MissReason.TOO_LATE
    if _phase(plan, scheduled) is not _phase(plan, now):
        return MissReason.PHASE_CHANGED
    return MissReason.SUPERSEDED


def _phase(plan: DayPlan, when: datetime) -> _Phase:
    if plan.is_premarket(when):
        return _Phase.PREMARKET
    return _Phase.ENTRIES if plan.entries_allowed_at(when) else _Phase.NO_ENTRIES
