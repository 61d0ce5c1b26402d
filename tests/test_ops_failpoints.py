"""Failpoints: the crash-safety test's way to die at an exact point (no process exits here)."""

from __future__ import annotations

import pytest

from catalyst.ops.failpoints import (
    AFTER_INTENT_COMMIT,
    AFTER_SUBMIT_BEFORE_ACK,
    CRASH_EXIT_CODE,
    NO_FAILPOINTS,
    Failpoints,
)


class _Exits:
    """Records exit calls instead of exiting."""

    def __init__(self) -> None:
        self.codes: list[int] = []

    def __call__(self, code: int) -> None:
        self.codes.append(code)


def test_unset_variable_arms_nothing_and_hits_never_exit() -> None:
    exits = _Exits()
    points = Failpoints.from_environment({"PATH": "/bin"}, exit=exits)
    for _ in range(5):
        points.hit(AFTER_INTENT_COMMIT)
        points.hit(AFTER_SUBMIT_BEFORE_ACK)
    assert points.armed == {}
    assert exits.codes == []


def test_default_instance_is_a_no_op() -> None:
    assert NO_FAILPOINTS.armed == {}
    NO_FAILPOINTS.hit(AFTER_INTENT_COMMIT)  # would end the test run if it were armed


def test_point_exits_with_137_on_the_nth_hit_only() -> None:
    exits = _Exits()
    points = Failpoints.from_environment(
        {"CATALYST_FAILPOINTS": "after_intent_commit=3"}, exit=exits
    )
    points.hit(AFTER_INTENT_COMMIT)
    points.hit(AFTER_INTENT_COMMIT)
    assert exits.codes == []
    points.hit(AFTER_INTENT_COMMIT)
    assert exits.codes == [CRASH_EXIT_CODE] == [137]
    points.hit(AFTER_INTENT_COMMIT)
    assert exits.codes == [137], "an armed point fires once"
    assert points.reached(AFTER_INTENT_COMMIT) == 4


def test_points_are_counted_separately() -> None:
    exits = _Exits()
    points = Failpoints.parse("after_intent_commit=2, after_submit_before_ack=1", exit=exits)
    assert points.armed == {AFTER_INTENT_COMMIT: 2, AFTER_SUBMIT_BEFORE_ACK: 1}
    points.hit(AFTER_INTENT_COMMIT)
    assert exits.codes == []
    points.hit(AFTER_SUBMIT_BEFORE_ACK)
    assert exits.codes == [137]
    points.hit(AFTER_INTENT_COMMIT)
    assert exits.codes == [137, 137]


def test_an_unarmed_point_never_exits_while_another_is_armed() -> None:
    exits = _Exits()
    points = Failpoints.parse("after_submit_before_ack=1", exit=exits)
    for _ in range(3):
        points.hit(AFTER_INTENT_COMMIT)
    assert exits.codes == []
    assert points.reached(AFTER_INTENT_COMMIT) == 3


@pytest.mark.parametrize("text", ["", " ", ",", " , "])
def test_blank_settings_arm_nothing(text: str) -> None:
    assert Failpoints.parse(text).armed == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("after_the_close=1", "unknown failpoint 'after_the_close'"),
        ("after_intent_commit", "must read name=N"),
        ("=2", "must read name=N"),
        ("after_intent_commit=two", "whole number"),
        ("after_intent_commit=0", "1 or more"),
        ("after_intent_commit=-1", "1 or more"),
    ],
)
def test_malformed_or_unknown_settings_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Failpoints.parse(text)


def test_hitting_an_unknown_point_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown failpoint"):
        Failpoints().hit("after_lunch")
