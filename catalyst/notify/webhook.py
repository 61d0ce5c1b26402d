"""The webhook channel: an HTTP POST of JSON, shaped for Slack, Discord, ntfy or Catalyst's own.

Webhook URLs carry their token in the path or query, so the URL is a `SecretStr`: the channel's
name (`webhook-1-slack`) is what logs and the journal show, and every failure message is scrubbed
of the URL. Statuses: 2xx delivered; 408, 429 and 5xx retried; any other 4xx is permanent (the
same body would be refused again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from pydantic import SecretStr

from catalyst.config.models import WebhookFormat
from catalyst.domain.alerts import Alert, Severity
from catalyst.notify.channel import DeliveryError, scrub

__all__ = ["WebhookChannel", "webhook_request"]

# Discord refuses content over 2000 characters; Slack shows about 40,000, ntfy 4,096 bytes.
_DISCORD_LIMIT = 2000
_NTFY_LIMIT = 4000
_NTFY_PRIORITY = {Severity.INFO: 3, Severity.WARNING: 4, Severity.CRITICAL: 5}
_NTFY_TAGS = {Severity.INFO: "information_source", Severity.WARNING: "warning"}
_RETRIED_STATUSES = frozenset({408, 429})


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def webhook_request(
    shape: WebhookFormat, url: str, alert: Alert, subject: str, environment: str
) -> tuple[str, Mapping[str, Any]]:
    """Where to POST and what JSON, for one alert in `shape`."""
    body = alert.full_body()
    if shape == WebhookFormat.SLACK:
        return url, {"text": f"*{subject}*\n{body}"}
    if shape == WebhookFormat.DISCORD:
        return url, {"content": _clip(f"**{subject}**\n{body}", _DISCORD_LIMIT)}
    if shape == WebhookFormat.NTFY:
        # ntfy takes JSON at its root URL, with the topic (the URL's last segment) inside.
        parts = urlsplit(url)
        base, _, topic = parts.path.rstrip("/").rpartition("/")
        return urlunsplit(parts._replace(path=base or "/")), {
            "topic": topic,
            "title": subject,
            "message": _clip(body, _NTFY_LIMIT),
            "priority": _NTFY_PRIORITY[alert.severity],
            "tags": [_NTFY_TAGS.get(alert.severity, "rotating_light")],
        }
    return url, {
        "subject": subject,
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "environment": environment,
        "headline": alert.headline,
        "body": body,
        "at": alert.at.isoformat(),
        "suppressed": alert.suppressed,
        "attachments": [a.filename for a in alert.attachments],
    }


class WebhookChannel:
    """An `AlertChannel` POSTing each alert to one webhook."""

    def __init__(
        self,
        name: str,
        url: SecretStr,
        shape: WebhookFormat,
        *,
        environment: str,
        timeout: float = 10,
    ) -> None:
        self._name = name
        self._url = url
        self._shape = shape
        self._environment = environment
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @property
    def name(self) -> str:
        return self._name

    async def send(self, alert: Alert, subject: str) -> None:
        """One POST; `DeliveryError` (scrubbed of the URL) unless the answer is 2xx."""
        url, payload = webhook_request(
            self._shape, self._url.get_secret_value(), alert, subject, self._environment
        )
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.post(url, json=payload) as response,
            ):
                status = response.status
                await response.read()
        except Exception as exc:  # connection refused, timeout, TLS, a malformed URL...
            raise DeliveryError(self._scrubbed(f"{type(exc).__name__}: {exc}")) from None
        if 200 <= status < 300:
            return
        permanent = 400 <= status < 500 and status not in _RETRIED_STATUSES
        raise DeliveryError(f"{self._name}: HTTP {status}", permanent=permanent)

    def _scrubbed(self, text: str) -> str:
        url = self._url.get_secret_value()
        parts = urlsplit(url)
        # The whole URL, and its path and query on their own (error texts quote either).
        return f"{self._name}: " + scrub(text, [url, parts.query, parts.path.lstrip("/")])
