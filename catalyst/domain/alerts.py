"""Alerts: what Catalyst tells a person, typed so every channel says it the same way.

An `Alert` names its kind (one per event a person must hear about), its severity and a headline
(the one figure that matters, e.g. "day P&L -2,013.40 (limit -2,000), book flat"); the subject
every channel shows is built from those and the account's environment:
`[Catalyst PAPER] CRITICAL emergency stop: day P&L -2,013.40 (limit -2,000), book flat`.

`dedup_key` tells repeats apart from news: two alerts of the same kind, severity and key within the
dedup window are one alert said twice. The kinds' values are what the alert journal holds; never
rename one.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from catalyst.domain.risk_events import Severity

__all__ = [
    "Alert",
    "AlertDelivery",
    "AlertKind",
    "Attachment",
    "Severity",
    "alert_from_json",
    "alert_to_json",
    "format_usd",
    "subject_of",
]


class AlertKind(StrEnum):
    """One per event a person is told about; the label is what the subject says."""

    DAILY_LOSS_WARNING = "daily_loss_warning"
    EMERGENCY_STOP = "emergency_stop"
    HALTED_EXPOSURE = "halted_exposure"  # something appeared while halted by the emergency stop
    HALTED = "halted"
    RESUMED = "resumed"
    RECONCILIATION = "reconciliation"  # the journal was corrected to agree with the broker
    STARTUP = "startup"
    SHUTDOWN = "shutdown"
    REPEATED_ERRORS = "repeated_errors"
    BROKER_OUTAGE = "broker_outage"
    BROKER_RECOVERED = "broker_recovered"
    DATABASE_OUTAGE = "database_outage"
    DATABASE_RECOVERED = "database_recovered"
    DAILY_REPORT = "daily_report"
    ENTRIES_PROPOSED = "entries_proposed"  # supervised mode: entries waiting for a person

    @property
    def label(self) -> str:
        """What a subject calls this kind of alert."""
        return _TITLES[self]


_TITLES = {
    AlertKind.DAILY_LOSS_WARNING: "daily loss warning",
    AlertKind.EMERGENCY_STOP: "emergency stop",
    AlertKind.HALTED_EXPOSURE: "exposure while halted",
    AlertKind.HALTED: "trading halted",
    AlertKind.RESUMED: "trading resumed",
    AlertKind.RECONCILIATION: "reconciliation correction",
    AlertKind.STARTUP: "started",
    AlertKind.SHUTDOWN: "stopped",
    AlertKind.REPEATED_ERRORS: "repeated errors",
    AlertKind.BROKER_OUTAGE: "broker unreachable",
    AlertKind.BROKER_RECOVERED: "broker reachable again",
    AlertKind.DATABASE_OUTAGE: "database unreachable",
    AlertKind.DATABASE_RECOVERED: "database reachable again",
    AlertKind.DAILY_REPORT: "daily report",
    AlertKind.ENTRIES_PROPOSED: "entries proposed",
}


class AlertDelivery(StrEnum):
    """Where a journaled alert stands (the alert journal's `status`)."""

    PENDING = "pending"  # some channel still has to get it; retried, also after a restart
    DELIVERED = "delivered"  # every channel has it
    FAILED = "failed"  # a channel refused it for good (a 5xx from SMTP, a 4xx from a webhook)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with an alert; with `content_id` it is an inline image the HTML body shows
    as `<img src="cid:{content_id}">`."""

    filename: str
    content_type: str  # e.g. "image/png"
    data: bytes
    content_id: str | None = None

    def __post_init__(self) -> None:
        if "/" not in self.content_type:
            raise ValueError(f"content_type must be type/subtype, got {self.content_type!r}")


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing a person must hear about. `at` comes from the injected clock."""

    kind: AlertKind
    severity: Severity
    headline: str  # the figure that matters, on one line
    body: str  # plain text, the full story
    at: datetime
    dedup_key: str = ""  # same kind + severity + key within the window: a duplicate
    html: str | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    suppressed: int = 0  # earlier alerts of this kind suppressed since the last one sent

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("an alert's time must be timezone-aware")

    @property
    def critical(self) -> bool:
        return self.severity == Severity.CRITICAL

    def with_suppressed(self, count: int) -> Alert:
        return replace(self, suppressed=count)

    def full_body(self) -> str:
        """The body, with the suppressed count a person should know about."""
        if not self.suppressed:
            return self.body
        return (
            f"{self.body}\n\n({self.suppressed} more {self.kind.label} alert"
            f"{'s' if self.suppressed != 1 else ''} suppressed since the last one sent)"
        )


def subject_of(alert: Alert, environment: str) -> str:
    """`[Catalyst PAPER] CRITICAL emergency stop: <headline>`, on one line.

    `environment` is `broker.environment` (paper or live): a live alert must never read like a
    rehearsal.
    """
    headline = " ".join(alert.headline.split())
    text = f"[Catalyst {environment.upper()}] {alert.severity.upper()} {alert.kind.label}"
    text = f"{text}: {headline}" if headline else text
    if alert.suppressed:
        text += f" (+{alert.suppressed} suppressed)"
    return text


def format_usd(amount: Decimal) -> str:
    """`-2,013.40`; whole amounts without cents (`-2,000`), as a person writes a limit."""
    quantized = amount.quantize(Decimal("0.01"))
    if quantized == quantized.to_integral_value():
        return f"{quantized:,.0f}"
    return f"{quantized:,.2f}"


def alert_to_json(alert: Alert) -> str:
    """The alert as JSON (attachments base64) for the alert journal."""
    return json.dumps(
        {
            "kind": alert.kind.value,
            "severity": alert.severity.value,
            "headline": alert.headline,
            "body": alert.body,
            "at": alert.at.isoformat(),
            "dedup_key": alert.dedup_key,
            "html": alert.html,
            "suppressed": alert.suppressed,
            "attachments": [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "content_id": a.content_id,
                    "data": base64.b64encode(a.data).decode("ascii"),
                }
                for a in alert.attachments
            ],
        },
        sort_keys=True,
    )


def alert_from_json(text: str) -> Alert:
    """The inverse of `alert_to_json`; ValueError (or KeyError) for a malformed record."""
    raw = json.loads(text)
    return Alert(
        kind=AlertKind(raw["kind"]),
        severity=Severity(raw["severity"]),
        headline=raw["headline"],
        body=raw["body"],
        at=datetime.fromisoformat(raw["at"]),
        dedup_key=raw.get("dedup_key", ""),
        html=raw.get("html"),
        suppressed=int(raw.get("suppressed", 0)),
        attachments=tuple(
            Attachment(
                filename=a["filename"],
                content_type=a["content_type"],
                content_id=a.get("content_id"),
                data=base64.b64decode(a["data"]),
            )
            for a in raw.get("attachments", ())
        ),
    )
