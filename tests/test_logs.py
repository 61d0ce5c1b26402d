"""Logging: JSON lines off a terminal, context carried along, credentials never rendered."""

from __future__ import annotations

import io
import json

import structlog

from catalyst.logs import configure_logging


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_bound_context_and_level() -> None:
    out = io.StringIO()
    configure_logging("INFO", "auto", stream=out)  # a StringIO is no terminal: JSON
    with structlog.contextvars.bound_contextvars(cycle_id="20261124-1030", stage="universe"):
        structlog.get_logger("t").info("symbol skipped", symbol="AAA")

    [line] = _lines(out)
    assert line["event"] == "symbol skipped"
    assert line["cycle_id"] == "20261124-1030"
    assert line["stage"] == "universe"
    assert line["level"] == "info"


def test_credential_looking_keys_are_masked() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    structlog.get_logger("t").warning(
        "oops", api_secret="hunter2", smtp_password="hunter3", APCA_API_KEY_ID="PK123"
    )

    rendered = out.getvalue()
    assert "hunter2" not in rendered
    assert "hunter3" not in rendered
    assert "PK123" not in rendered
    [line] = _lines(out)
    assert line["api_secret"] == "***"


def test_level_filter_drops_debug_lines() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    structlog.get_logger("t").debug("noise")
    assert out.getvalue() == ""
