"""structlog set up once: JSON lines for journald, a readable renderer on a terminal.

Context (cycle id, stage, symbol) is bound with contextvars by the code that owns it, so every line
a stage logs carries it without passing loggers around. A redaction processor is the last line of
defence for secrets: any event key that looks like a credential is masked before rendering, and any
URL inside a logged text has its password masked (`catalyst.redaction`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

from catalyst.redaction import redact_urls_in

_SECRET_MARKERS = ("secret", "password", "api_key", "apikey", "token", "credential")


def _redact_secrets(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event):
        lowered = key.lower()
        value = event[key]
        if any(marker in lowered for marker in _SECRET_MARKERS):
            event[key] = "***"
        elif isinstance(value, str):
            event[key] = redact_urls_in(value)  # e.g. a driver error quoting the database URL
    return event


def configure_logging(
    level: str = "INFO",
    fmt: Literal["auto", "json", "console"] = "auto",
    stream: TextIO | None = None,
) -> None:
    """Configure structlog for the whole process. Safe to call again (SIGHUP, tests)."""
    out = stream if stream is not None else sys.stdout
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
