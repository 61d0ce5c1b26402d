"""The fallback notifier: alerts go to the log (journald) when email is not configured."""

from __future__ import annotations

import structlog

__all__ = ["LogNotifier"]


class LogNotifier:
    """Implements `catalyst.ports.Notifier` by logging each alert (critical or warning level)."""

    async def notify(self, subject: str, body: str, *, critical: bool = False) -> None:
        """Log one alert; never raises."""
        log = structlog.get_logger(__name__)
        if critical:
            log.critical("alert", subject=subject, body=body, critical=True)
        else:
            log.warning("alert", subject=subject, body=body, critical=False)
