"""The fallback channel: alerts go to the log (journald) when no other channel is configured."""

from __future__ import annotations

import structlog

from catalyst.domain.alerts import Alert

__all__ = ["LogChannel"]


class LogChannel:
    """An `AlertChannel` that logs each alert (critical or warning level); never fails."""

    name = "log"

    async def send(self, alert: Alert, subject: str) -> None:
        log = structlog.get_logger(__name__)
        emit = log.critical if alert.critical else log.warning
        emit("alert", subject=subject, body=alert.full_body(), kind=alert.kind.value)
