"""The start-up decision about scans missed while the daemon was down, as a table.

Tuesday 2026-11-24 on XNYS: open 09:30, close 16:00, entry cutoff 15:30 (30 minutes before).
Default scans 09:15 (pre-market) 09:30 10:30 12:00 13:30 15:00; grace 5 minutes unless a row says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from catalyst.config.models import ScheduleConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.catch_up import CatchUp, MissedScan, MissReason, decide_missed_scans
from catalyst.timekeeping.day_plan import plan_day

DAY = date(2026, 11, 24)
DEFAULT_SCANS = ("09:15", "09:30", "10:30", "12:00", "13:30", "15:00")
TOO_LATE, SUPERSEDED, PHASE = MissReason.TOO_LATE, MissReason.SUPERSEDED, MissReason.PHASE_CHANGED


def _et(hhmmss: str) -> datetime:
    return datetime.combine(DAY, time.fromisoformat(hhmmss), tzinfo=EXCHANGE_TZ)


@dataclass(frozen=True)
class Row:
    why: str
    now: str
    journaled: tuple[str, ...] = ()
    run_now: str | None = None
    missed: tuple[tuple[str, MissReason], ...] = ()
    scans: tuple[str, ...] = DEFAULT_SCANS
    grace_minutes: int = 5


MORNING = ("09:15", "09:30")

ROWS = [
    Row("killed at 10:25, restarted 8 s after the 10:30 scan: it runs now", "10:30:08", MORNING,
        run_now="10:30"),
    Row("restarted exactly at the scan: the trigger fires it, nothing to catch up", "10:30:00",
        MORNING),
    Row("one second inside the grace still runs", "10:34:59", MORNING, run_now="10:30"),
    Row("exactly the grace late is missed", "10:35:00", MORNING, missed=(("10:30", TOO_LATE),)),
    Row("well after the grace: missed", "10:40:00", MORNING, missed=(("10:30", TOO_LATE),)),
    Row("the scan already ran (or is journaled running or missed): no second run", "10:30:08",
        (*MORNING, "10:30")),
    Row("before the open, before any scan: nothing", "08:00:00"),
    Row("before the open, the pre-market scan just missed: it runs, still pre-market", "09:17:00",
        run_now="09:15"),
    Row("a pre-market scan would become an entry scan after the open: missed", "09:31:00",
        ("09:15",), run_now="09:30", missed=(("09:28", PHASE),),
        scans=("09:15", "09:28", "09:30")),
    Row("after the entry cutoff a scan meant to enter cannot: missed", "15:31:00",
        (*MORNING, "10:30", "12:00", "13:30", "15:00"), missed=(("15:28", PHASE),),
        scans=(*DEFAULT_SCANS, "15:28")),
    Row("a watch-only scan after the cutoff is caught up as what it was", "15:42:00",
        (*MORNING, "10:30", "12:00", "13:30", "15:00"), run_now="15:40",
        scans=(*DEFAULT_SCANS, "15:40")),
    Row("two missed inside the grace: the later runs, the earlier is superseded", "10:33:00",
        MORNING, run_now="10:32", missed=(("10:30", SUPERSEDED),),
        scans=(*DEFAULT_SCANS, "10:32")),
    Row("first start of the day at 11:00: every earlier scan is missed, once each", "11:00:00",
        missed=(("09:15", TOO_LATE), ("09:30", TOO_LATE), ("10:30", TOO_LATE))),
    Row("after the close: the last scan is missed", "16:30:00",
        (*MORNING, "10:30", "12:00", "13:30"), missed=(("15:00", TOO_LATE),)),
    Row("a grace of 0 never runs a scan late", "10:30:08", MORNING,
        missed=(("10:30", TOO_LATE),), grace_minutes=0),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[row.why for row in ROWS])
def test_missed_scan_decision(row: Row) -> None:
    session = ExchangeCalendar().session(DAY)
    assert session is not None
    schedule = ScheduleConfig(scan_times=tuple(time.fromisoformat(t) for t in row.scans))
    plan = plan_day(session, schedule, scan_frequency_minutes=None)

    decision = decide_missed_scans(
        plan, _et(row.now), timedelta(minutes=row.grace_minutes), [_et(t) for t in row.journaled]
    )

    expected = CatchUp(
        run_now=None if row.run_now is None else _et(row.run_now),
        missed=tuple(MissedScan(_et(t), reason) for t, reason in row.missed),
    )
    assert decision == expected


def test_journaled_times_match_as_instants_whatever_their_zone() -> None:
    session = ExchangeCalendar().session(DAY)
    assert session is not None
    plan = plan_day(session, ScheduleConfig(), scan_frequency_minutes=None)
    in_utc = [t.astimezone(UTC) for t in plan.scan_times[:3]]  # 09:15 09:30 10:30 as UTC

    decision = decide_missed_scans(plan, _et("10:30:08"), timedelta(minutes=5), in_utc)

    assert decision == CatchUp()
