"""What every alert channel (email, a webhook, the log) does, and how it says it failed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from catalyst.domain.alerts import Alert
from catalyst.redaction import REDACTED

__all__ = ["AlertChannel", "DeliveryError", "scrub"]


class DeliveryError(Exception):
    """One delivery attempt failed. `permanent`: the same alert will fail the same way again
    (a 5xx SMTP reply, a 4xx HTTP status), so it is not retried on this channel. The message
    never holds a secret (channels scrub it)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class AlertChannel(Protocol):
    """One way to reach a person. `name` is safe to log and journal (never a URL)."""

    @property
    def name(self) -> str: ...

    async def send(self, alert: Alert, subject: str) -> None:
        """Deliver `alert` once; raise `DeliveryError` when it did not arrive."""
        ...


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every non-empty secret in `secrets` replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
