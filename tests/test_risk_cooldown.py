"""The per-symbol cooldown after a stop-out: pure, from the journal's stop fills and the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalyst.risk.cooldown import cooling_down

STOP = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_a_symbol_stopped_out_cools_down_for_the_configured_minutes() -> None:
    stopped = {"AAA": STOP, "BBB": STOP - timedelta(minutes=50)}
    now = STOP + timedelta(minutes=10)

    assert cooling_down(stopped, now, 30) == {"AAA": STOP + timedelta(minutes=30)}
    assert cooling_down(stopped, now, 390) == {
        "AAA": STOP + timedelta(minutes=390),
        "BBB": STOP + timedelta(minutes=340),
    }


def test_the_cooldown_ends_exactly_when_its_minutes_are_up() -> None:
    assert cooling_down({"AAA": STOP}, STOP + timedelta(minutes=30), 30) == {}
    assert "AAA" in cooling_down({"AAA": STOP}, STOP + timedelta(minutes=29, seconds=59), 30)


def test_zero_minutes_turns_the_cooldown_off() -> None:
    assert cooling_down({"AAA": STOP}, STOP, 0) == {}


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cooling_down({"AAA": STOP}, datetime(2026, 11, 24, 15, 0), 30)
