"""Email alerts against a real SMTP server (aiosmtpd on 127.0.0.1), plus the notifier factory."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from structlog.testing import capture_logs

from catalyst.config.models import (
    NotificationsConfig,
    RiskFile,
    Secrets,
    Settings,
    TradingFile,
)
from catalyst.domain.errors import ConfigError
from catalyst.notify import EmailNotifier, LogNotifier, build_notifier
from catalyst.notify.email import format_subject

USERNAME = "alerts-user"
PASSWORD = "hunter2-very-secret"
SENDER = "catalyst@example.test"
RECIPIENTS = ("ops@example.test", "risk@example.test")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Inbox:
    """aiosmtpd handler: keeps every accepted message; can refuse the first N DATA commands."""

    temporary_failures: int = 0
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    data_commands: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.data_commands += 1
        if self.data_commands <= self.temporary_failures:
            return "451 4.3.0 try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


@dataclass
class Authenticator:
    accept: bool
    inbox: Inbox

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.inbox.logins.append((auth_data.login, auth_data.password))
        ok = self.accept and (auth_data.login, auth_data.password) == (
            USERNAME.encode(),
            PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)  # let aiosmtpd reply 535


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


def start_server(inbox: Inbox, *, auth: Authenticator | None = None) -> tuple[Controller, int]:
    port = free_port()
    kwargs: dict[str, Any] = {}
    if auth is not None:
        kwargs = {"authenticator": auth, "auth_require_tls": False}
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    inbox = Inbox()
    controller, port = start_server(inbox)
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp_auth() -> Iterator[SmtpServer]:
    inbox = Inbox()
    controller, port = start_server(inbox, auth=Authenticator(accept=True, inbox=inbox))
    try:
        yield SmtpServer(port, inbox)
    finally:
        controller.stop()


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("not used")

    async def sleep_until(self, when: datetime) -> None:
        raise AssertionError("not used")


def notifier(port: int, **overrides: Any) -> EmailNotifier:
    options: dict[str, Any] = {
        "starttls": False,
        "username": None,
        "password": None,
        "timeout": 5,
        "backoff_seconds": 0.5,
    }
    options.update(overrides)
    return EmailNotifier("127.0.0.1", port, SENDER, RECIPIENTS, **options)


def no_secret_in(logs: Sequence[Mapping[str, Any]]) -> bool:
    return PASSWORD not in repr(logs)


def test_format_subject_prefixes_and_flattens_to_one_line() -> None:
    assert format_subject("Halted", critical=False) == "[Catalyst] Halted"
    assert format_subject("Halted\nnow", critical=True) == "[Catalyst] [CRITICAL] Halted now"


async def test_notify_delivers_plain_text_mail_to_every_recipient(smtp: SmtpServer) -> None:
    await notifier(smtp.port).notify("Scan finished", "3 entries placed.\nNo errors.")

    assert len(smtp.inbox.messages) == 1
    mail_from, rcpt_tos, message = smtp.inbox.messages[0]
    assert mail_from == SENDER
    assert rcpt_tos == list(RECIPIENTS)
    assert message["Subject"] == "[Catalyst] Scan finished"
    assert message["From"] == SENDER
    assert message["To"] == ", ".join(RECIPIENTS)
    assert message.get_content_type() == "text/plain"
    body = message.get_content().replace("\r\n", "\n")
    assert body == "3 entries placed.\nNo errors.\n"
    assert message["Message-ID"].endswith("@example.test>")


async def test_critical_alert_subject_carries_critical_prefix(smtp: SmtpServer) -> None:
    await notifier(smtp.port).notify("Daily loss limit breached", "Halted.", critical=True)

    _, _, message = smtp.inbox.messages[0]
    assert message["Subject"] == "[Catalyst] [CRITICAL] Daily loss limit breached"


async def test_date_header_comes_from_the_injected_clock(smtp: SmtpServer) -> None:
    clock = FixedClock(datetime(2024, 3, 14, 15, 9, 26, tzinfo=UTC))

    await notifier(smtp.port, clock=clock).notify("s", "b")

    _, _, message = smtp.inbox.messages[0]
    assert message["Date"].datetime == clock.now()


async def test_login_uses_the_secret_credentials(smtp_auth: SmtpServer) -> None:
    sender = notifier(smtp_auth.port, username=SecretStr(USERNAME), password=SecretStr(PASSWORD))

    with capture_logs() as logs:
        await sender.notify("s", "b")

    assert smtp_auth.inbox.logins == [(USERNAME.encode(), PASSWORD.encode())]
    assert len(smtp_auth.inbox.messages) == 1
    assert no_secret_in(logs)


async def test_temporary_refusal_is_retried_then_delivered(smtp: SmtpServer) -> None:
    smtp.inbox.temporary_failures = 1
    sleep = RecordingSleep()

    await notifier(smtp.port, sleep=sleep).notify("s", "b")

    assert smtp.inbox.data_commands == 2
    assert len(smtp.inbox.messages) == 1
    assert sleep.calls == [0.5]


async def test_server_down_never_raises_and_gives_up_after_bounded_attempts() -> None:
    sleep = RecordingSleep()
    sender = notifier(
        free_port(),
        attempts=3,
        sleep=sleep,
        username=SecretStr(USERNAME),
        password=SecretStr(PASSWORD),
    )

    with capture_logs() as logs:
        await sender.notify("Emergency stop", "Flattening.", critical=True)

    failures = [e for e in logs if e["event"] == "alert email attempt failed"]
    assert [e["attempt"] for e in failures] == [1, 2, 3]
    assert [e["will_retry"] for e in failures] == [True, True, False]
    assert sleep.calls == [0.5, 1.0]
    given_up = [e for e in logs if e["event"] == "alert email not delivered"]
    assert len(given_up) == 1
    assert given_up[0]["log_level"] == "error"
    assert no_secret_in(logs)


async def test_rejected_credentials_are_not_retried_and_not_logged() -> None:
    inbox = Inbox()
    controller, port = start_server(inbox, auth=Authenticator(accept=False, inbox=inbox))
    sleep = RecordingSleep()
    try:
        with capture_logs() as logs:
            await notifier(
                port, sleep=sleep, username=SecretStr(USERNAME), password=SecretStr(PASSWORD)
            ).notify("s", "b")
    finally:
        controller.stop()

    assert inbox.logins  # aiosmtplib may try several mechanisms within the one attempt
    assert inbox.messages == []
    assert sleep.calls == []
    assert [e["error_type"] for e in logs if e["event"] == "alert email attempt failed"] == [
        "SMTPAuthenticationError"
    ]
    assert no_secret_in(logs)


async def test_required_starttls_never_falls_back_to_plain_text(smtp: SmtpServer) -> None:
    sleep = RecordingSleep()

    with capture_logs() as logs:
        await notifier(smtp.port, starttls=True, attempts=2, sleep=sleep).notify("s", "b")

    assert smtp.inbox.messages == []
    failures = [e for e in logs if e["event"] == "alert email attempt failed"]
    assert "STARTTLS" in failures[0]["error"]
    assert any(e["event"] == "alert email not delivered" for e in logs)


def test_credentials_without_tls_are_warned_about_without_revealing_them() -> None:
    with capture_logs() as logs:
        notifier(25, username=SecretStr(USERNAME), password=SecretStr(PASSWORD))

    assert [e["event"] for e in logs] == ["SMTP credentials will be sent without TLS"]
    assert no_secret_in(logs)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"attempts": 0}, "attempts"),
        ({"username": SecretStr(USERNAME)}, "together"),
    ],
)
def test_invalid_notifier_arguments_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        notifier(25, **overrides)


def test_notifier_without_recipients_is_refused() -> None:
    with pytest.raises(ValueError, match="recipient"):
        EmailNotifier("h", 25, SENDER, (), starttls=False, username=None, password=None)


@pytest.mark.parametrize(("critical", "level"), [(False, "warning"), (True, "critical")])
async def test_log_notifier_logs_alert_at_matching_level(critical: bool, level: str) -> None:
    with capture_logs() as logs:
        await LogNotifier().notify("Halted", "details", critical=critical)

    assert logs == [
        {
            "event": "alert",
            "log_level": level,
            "subject": "Halted",
            "body": "details",
            "critical": critical,
        }
    ]


def settings_with(notifications: NotificationsConfig, secrets: Secrets | None = None) -> Settings:
    return Settings(
        trading=TradingFile(notifications=notifications),
        risk=RiskFile(),
        secrets=secrets if secrets is not None else Secrets(),
        config_dir=Path("config"),
    )


def test_build_notifier_without_email_returns_log_notifier() -> None:
    assert isinstance(build_notifier(settings_with(NotificationsConfig())), LogNotifier)


async def test_build_notifier_with_email_enabled_sends_through_configured_server(
    smtp_auth: SmtpServer,
) -> None:
    settings = settings_with(
        NotificationsConfig(
            email_enabled=True,
            smtp_host="127.0.0.1",
            smtp_port=smtp_auth.port,
            email_from=SENDER,
            email_to=RECIPIENTS,
        ),
        Secrets(smtp_username=SecretStr(USERNAME), smtp_password=SecretStr(PASSWORD)),
    )

    built = build_notifier(settings)
    await built.notify("Risk warning", "75% of the daily loss limit used.")

    assert isinstance(built, EmailNotifier)
    assert smtp_auth.inbox.logins == [(USERNAME.encode(), PASSWORD.encode())]
    _, rcpt_tos, message = smtp_auth.inbox.messages[0]
    assert rcpt_tos == list(RECIPIENTS)
    assert message["Subject"] == "[Catalyst] Risk warning"


def test_build_notifier_with_half_the_smtp_credentials_is_a_config_error() -> None:
    settings = settings_with(
        NotificationsConfig(email_enabled=True, email_to=RECIPIENTS),
        Secrets(smtp_username=SecretStr(USERNAME)),
    )

    with pytest.raises(ConfigError, match="SMTP credentials"):
        build_notifier(settings)
