"""The pause flag file: who/when/why, atomic writes, hand-made flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalyst.domain.errors import StorageUnusable
from catalyst.ops.pause_flag import PauseFlag

AT = datetime(2024, 3, 14, 15, 9, 26, tzinfo=UTC)


def test_fresh_flag_is_not_set_and_has_nothing_to_describe_or_clear(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")

    assert not flag.is_set()
    assert flag.describe() is None
    assert flag.clear() is False


def test_set_records_who_when_and_why(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")

    flag.set("broker outage", by="alice", at=AT)

    assert flag.is_set()
    assert flag.describe() == (
        "paused_at: 2024-03-14T15:09:26+00:00\npaused_by: alice\nreason: broker outage"
    )


def test_set_keeps_the_callers_offset(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")
    new_york = timezone(timedelta(hours=-4))

    flag.set("lunch", by="bob", at=AT.astimezone(new_york))

    description = flag.describe()
    assert description is not None
    assert "paused_at: 2024-03-14T11:09:26-04:00" in description


def test_set_with_naive_datetime_raises_and_writes_nothing(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")

    with pytest.raises(ValueError, match="timezone-aware"):
        flag.set("x", by="y", at=datetime(2024, 3, 14, 9, 30))

    assert not flag.is_set()
    assert list(tmp_path.iterdir()) == []


def test_set_again_overwrites_and_leaves_no_temp_files(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")

    flag.set("first", by="alice", at=AT)
    flag.set("second", by="bob", at=AT + timedelta(minutes=5))

    description = flag.describe()
    assert description is not None
    assert "reason: second" in description
    assert "paused_by: bob" in description
    assert [p.name for p in tmp_path.iterdir()] == ["PAUSE"]


def test_set_creates_missing_parent_directories(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "state" / "nested" / "PAUSE")

    flag.set("x", by="y", at=AT)

    assert flag.is_set()


def test_clear_removes_the_flag_once(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")
    flag.set("x", by="y", at=AT)

    assert flag.clear() is True
    assert not flag.is_set()
    assert flag.describe() is None
    assert flag.clear() is False


def test_hand_made_empty_flag_counts_as_paused(tmp_path: Path) -> None:
    (tmp_path / "PAUSE").touch()
    flag = PauseFlag(tmp_path / "PAUSE")

    assert flag.is_set()
    assert flag.describe() == "paused (no details recorded)"


def test_reason_with_line_breaks_cannot_forge_fields(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")

    flag.set("oops\npaused_by: mallory", by="alice\r\n", at=AT)

    description = flag.describe()
    assert description is not None
    assert description.splitlines() == [
        "paused_at: 2024-03-14T15:09:26+00:00",
        "paused_by: alice",
        "reason: oops paused_by: mallory",
    ]


def test_reason_with_undecodable_argv_bytes_is_still_written(tmp_path: Path) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")
    reason = b"caf\xe9".decode("utf-8", errors="surrogateescape")  # as sys.argv would hold it

    flag.set(reason, by="alice", at=AT)

    description = flag.describe()
    assert description is not None
    assert "reason: caf\\udce9" in description


def test_failed_replace_leaves_no_temp_file_and_raises(tmp_path: Path) -> None:
    (tmp_path / "PAUSE").mkdir()  # a directory where the flag should go: os.replace fails
    flag = PauseFlag(tmp_path / "PAUSE")

    with pytest.raises(StorageUnusable, match=r"pause flag .*PAUSE: "):
        flag.set("x", by="y", at=AT)

    assert [p.name for p in tmp_path.iterdir()] == ["PAUSE"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(reason=st.text(), by=st.text())
def test_any_reason_and_author_give_exactly_three_lines(
    tmp_path: Path, reason: str, by: str
) -> None:
    flag = PauseFlag(tmp_path / "PAUSE")

    flag.set(reason, by=by, at=AT)

    description = flag.describe()
    assert description is not None
    lines = description.splitlines()
    assert [line.split(":")[0] for line in lines] == ["paused_at", "paused_by", "reason"]


def test_a_directory_where_the_flag_should_be_is_named_when_described(tmp_path: Path) -> None:
    (tmp_path / "PAUSE").mkdir()
    flag = PauseFlag(tmp_path / "PAUSE")

    with pytest.raises(StorageUnusable, match=r"pause flag .*PAUSE: a directory is in the way"):
        flag.describe()


def test_a_flag_under_a_file_is_not_set_and_clearing_it_is_a_no_op(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the state dir should be")
    flag = PauseFlag(tmp_path / "state" / "PAUSE")

    assert flag.describe() is None
    assert flag.clear() is False
    with pytest.raises(StorageUnusable, match="a file is in the way of a directory"):
        flag.set("x", by="y", at=AT)
