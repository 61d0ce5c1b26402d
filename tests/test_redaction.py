"""The one redaction function: URLs lose their passwords in config output, errors and logs."""

from __future__ import annotations

import io
import json

import structlog
from sqlalchemy.engine import make_url

from catalyst.logs import configure_logging
from catalyst.redaction import redact_url, redact_urls_in, url_has_password


def test_redact_url_of_a_sqlalchemy_url_masks_user_info_and_query_passwords() -> None:
    url = make_url("postgresql+asyncpg://catalyst:Us3r-PW@db/catalyst?sslpassword=Qu3ry-PW")

    redacted = redact_url(url)

    assert "Us3r-PW" not in redacted
    assert "Qu3ry-PW" not in redacted
    assert redacted.startswith("postgresql+asyncpg://catalyst:***@db/catalyst?")
    assert "sslpassword=***" in redacted


def test_url_has_password_sees_query_string_passwords() -> None:
    assert url_has_password("postgresql://db/x?password=pw")
    assert url_has_password("postgresql://u:pw@db/x")
    assert not url_has_password("postgresql://u@db/x?sslmode=require")
    assert not url_has_password("not a url")


def test_redact_urls_in_text_masks_every_url_and_keeps_the_words() -> None:
    text = (
        "cannot connect to postgresql://u:pw1@db/x?password=pw2 "
        "(fallback 'postgresql://db2/y?sslpassword=pw3')"
    )

    redacted = redact_urls_in(text)

    for secret in ("pw1", "pw2", "pw3"):
        assert secret not in redacted
    assert redacted.startswith("cannot connect to postgresql://u:***@db/x?password=*** ")
    assert "'postgresql://db2/y?sslpassword=***'" in redacted


def test_log_lines_never_carry_a_url_password() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        structlog.get_logger("test").error(
            "database unreachable",
            error="connection to postgresql://catalyst:L0g-PW@db/x?sslpassword=L0g-PW2 refused",
        )
    finally:
        structlog.reset_defaults()
    line = json.loads(stream.getvalue().splitlines()[-1])

    assert "L0g-PW" not in stream.getvalue()
    assert line["error"] == ("connection to postgresql://catalyst:***@db/x?sslpassword=*** refused")
