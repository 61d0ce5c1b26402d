"""`catalyst status` wording for what needs no journal: the flatten request, a halt, the pipe."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.heartbeat import judge
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.reporting.status import FlattenView, StatusReport
from catalyst.reporting.status_render import print_status, render_plain
from catalyst.reporting.status_view import duration, status_view

NOW = datetime(2026, 11, 24, 12, tzinfo=EXCHANGE_TZ)
ANSI = re.compile(r"\x1b\[")


def _report(**changes: object) -> StatusReport:
    report = StatusReport(
        as_of=NOW,
        environment="paper",
        session_mode="autonomous",
        broker="sim",
        trading_state="active",
        halt_reason=None,
        halted_by=None,
        halted_since=None,
        paused=False,
        pause_detail=None,
        flatten=None,
        account=None,
        positions=(),
        realised_pnl_today=Decimal(0),
        open_orders=(),
        order_counts_today={},
        orders_today=(),
        fills_today=(),
        cycles_today=0,
        next_scan=None,
        state_dir="/srv/catalyst/state",
        daemon=judge(None, NOW),
    )
    return replace(report, **changes)  # type: ignore[arg-type]


def _line(report: StatusReport, label: str) -> str:
    text = render_plain(status_view(report))
    return next(line for line in text.splitlines() if line.startswith(f"{label}:"))


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_in_a_pipe_status_is_plain_text_without_colour_codes() -> None:
    out = Pipe()
    print_status(_report(), out)
    assert not ANSI.search(out.getvalue())
    assert "daemon:         no daemon has ever checked in" in out.getvalue()
    assert "account:        none recorded yet" in out.getvalue()


def test_a_pending_flatten_request_shows_its_age_and_when_it_expires(tmp_path: Path) -> None:
    request = FlattenRequest(tmp_path)
    request.submit("gap down", "ops", NOW - timedelta(seconds=30))
    pending = request.pending()
    assert pending is not None
    report = _report(flatten=FlattenView(pending, timedelta(seconds=120)))

    assert _line(report, "flatten") == (
        "flatten:        PENDING (requested 30 s ago by ops, reason: gap down); expires in 1 m 30 s"
    )
    assert report.as_dict()["flatten_request"] == {
        "requested_at": (NOW - timedelta(seconds=30)).isoformat(),
        "dated_by_file": False,
        "age_seconds": 30.0,
        "max_age_seconds": 120.0,
        "expired": False,
        "reason": "gap down",
        "by": "ops",
    }
    late = replace(report, as_of=NOW + timedelta(minutes=5))
    assert _line(late, "flatten").startswith("flatten:        EXPIRED request left (requested ")
    assert "the daemon removes it unread and flattens nothing" in _line(late, "flatten")
    assert late.as_dict()["flatten_request"]["expired"] is True  # type: ignore[index]


def test_a_halt_shows_its_reason_who_and_since_when() -> None:
    report = _report(
        trading_state="halted",
        halt_reason="daily loss limit breached",
        halted_by="risk-watch",
        halted_since=NOW - timedelta(hours=1, minutes=15),
    )
    assert _line(report, "trading state") == (
        "trading state:  HALTED (daily loss limit breached; by risk-watch; since 10:45:00 EST)"
    )
    assert report.as_dict()["halted_since"] == "2026-11-24T10:45:00-05:00"


def test_durations_read_at_a_glance() -> None:
    assert [
        duration(timedelta(seconds=s))
        for s in (0, 42, 60, 65, 3600 + 12 * 60 + 5, 2 * 86400 + 3 * 3600)
    ] == ["0 s", "42 s", "1 m 00 s", "1 m 05 s", "1 h 12 m", "2 d 03 h"]
