"""The email channel against a real SMTP server (aiosmtpd): subjects, bodies, the HTML report with
its inline chart, STARTTLS and implicit TLS with login, and failures that say what happened
without a password in them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import pytest
from pydantic import SecretStr
from smtp_server import (
    PASSWORD,
    RECIPIENTS,
    SENDER,
    USERNAME,
    Certificate,
    Inbox,
    SmtpServer,
    free_port,
    self_signed,
)
from structlog.testing import capture_logs

from catalyst.config.models import SmtpTls
from catalyst.domain.alerts import Alert, AlertKind, Attachment, Severity, subject_of
from catalyst.execution.flatten import FlattenResult
from catalyst.notify import DeliveryError, EmailChannel, events

AT = datetime(2026, 12, 4, 20, 55, tzinfo=UTC)
# The PNG signature and a little more: enough to prove the bytes arrive unchanged.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"))


def serve(
    mode: str = "none", *, certificate: Certificate | None = None, auth: bool = False
) -> SmtpServer:
    return SmtpServer(Inbox(), free_port(), mode, certificate, auth).start()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = serve()
    yield server
    server.stop()


def channel(port: int, **overrides: Any) -> EmailChannel:
    options: dict[str, Any] = {"tls": SmtpTls.NONE, "username": None, "password": None}
    options.update(overrides)
    return EmailChannel("127.0.0.1", port, SENDER, RECIPIENTS, timeout=5, **options)


def emergency() -> Alert:
    return events.emergency_stop(
        "daily loss limit reached",
        day_pnl=Decimal("-2013.40"),
        limit=Decimal("2000"),
        result=FlattenResult(flat=True, attempts=1, closed_symbols=("AAPL", "MSFT"), remaining=()),
        cancelled_only=True,
        at=AT,
    )


async def test_emergency_stop_mail_has_severity_environment_figure_and_flat_book(
    smtp: SmtpServer,
) -> None:
    alert = emergency()
    await channel(smtp.port).send(alert, subject_of(alert, "paper"))

    [message] = smtp.inbox.messages
    assert message["Subject"] == (
        "[Catalyst PAPER] CRITICAL emergency stop: day P&L -2,013.40 (limit -2,000), book flat"
    )
    assert message["X-Priority"] == "1"
    assert message["Date"] is not None
    assert "20:55:00" in message["Date"]
    assert smtp.inbox.envelopes == [(SENDER, list(RECIPIENTS))]
    body = message.get_content()
    assert "Trading is HALTED" in body
    assert "FLAT" in body
    assert "AAPL, MSFT" in body
    assert "catalyst resume --ack" in body


async def test_not_flat_is_said_in_the_subject(smtp: SmtpServer) -> None:
    alert = events.emergency_stop(
        "daily loss limit reached",
        day_pnl=Decimal("-2100"),
        limit=Decimal("2000"),
        result=FlattenResult(flat=False, attempts=5, closed_symbols=(), remaining=("TSLA",)),
        cancelled_only=True,
        at=AT,
    )
    await channel(smtp.port).send(alert, subject_of(alert, "live"))

    assert smtp.inbox.messages[0]["Subject"] == (
        "[Catalyst LIVE] CRITICAL emergency stop: day P&L -2,100 (limit -2,000), "
        "NOT flat: TSLA still open"
    )


async def test_report_arrives_as_text_html_and_inline_chart(smtp: SmtpServer) -> None:
    report = Alert(
        kind=AlertKind.DAILY_REPORT,
        severity=Severity.INFO,
        headline="day P&L 412.50, 3 trades",
        body="Day P&L 412.50 over 3 trades.",
        html='<p>Day P&amp;L 412.50</p><img src="cid:equity-chart">',
        attachments=(Attachment("equity.png", "image/png", PNG, content_id="equity-chart"),),
        at=AT,
    )
    await channel(smtp.port).send(report, subject_of(report, "paper"))

    [message] = smtp.inbox.messages
    assert message["Subject"] == "[Catalyst PAPER] INFO daily report: day P&L 412.50, 3 trades"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    assert "Day P&L 412.50 over 3 trades." in text.get_content()
    assert 'src="cid:equity-chart"' in html.get_content()
    [related] = [p for p in message.walk() if p.get_content_type() == "multipart/related"]
    assert [p.get_content_type() for p in related.iter_parts()] == ["text/html", "image/png"]
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<equity-chart>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == PNG


async def test_an_attachment_without_html_is_attached(smtp: SmtpServer) -> None:
    alert = Alert(
        kind=AlertKind.DAILY_REPORT,
        severity=Severity.INFO,
        headline="day P&L 0",
        body="quiet day",
        attachments=(Attachment("equity.png", "image/png", PNG, content_id="chart"),),
        at=AT,
    )
    await channel(smtp.port).send(alert, "s")

    [image] = [p for p in smtp.inbox.messages[0].walk() if p.get_content_type() == "image/png"]
    assert image.get_content_disposition() == "attachment"
    assert image.get_filename() == "equity.png"


async def test_starttls_with_login_logs_in_only_over_tls(certificate: Certificate) -> None:
    server = serve("starttls", certificate=certificate, auth=True)
    try:
        await channel(
            server.port,
            tls=SmtpTls.STARTTLS,
            username=SecretStr(USERNAME),
            password=SecretStr(PASSWORD),
            tls_context=certificate.client_context(),
        ).send(emergency(), "s")
    finally:
        server.stop()

    assert server.inbox.logins == [(USERNAME.encode(), PASSWORD.encode(), True)]
    assert server.inbox.over_tls == [True]


async def test_implicit_tls_with_login(certificate: Certificate) -> None:
    server = serve("implicit", certificate=certificate, auth=True)
    try:
        await channel(
            server.port,
            tls=SmtpTls.IMPLICIT,
            username=SecretStr(USERNAME),
            password=SecretStr(PASSWORD),
            tls_context=certificate.client_context(),
        ).send(emergency(), "s")
    finally:
        server.stop()

    assert server.inbox.logins == [(USERNAME.encode(), PASSWORD.encode(), True)]
    assert server.inbox.over_tls == [True]


async def test_an_untrusted_certificate_is_refused(certificate: Certificate) -> None:
    server = serve("implicit", certificate=certificate)
    try:
        with pytest.raises(DeliveryError):  # the system trust store does not know this cert
            await channel(server.port, tls=SmtpTls.IMPLICIT).send(emergency(), "s")
    finally:
        server.stop()
    assert server.inbox.messages == []


async def test_starttls_required_never_falls_back_to_plain_text(smtp: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="STARTTLS"):  # the plain server offers none
        await channel(smtp.port, tls=SmtpTls.STARTTLS).send(emergency(), "s")
    assert smtp.inbox.messages == []


async def test_rejected_login_is_permanent_and_never_shows_the_password(
    certificate: Certificate,
) -> None:
    server = serve("starttls", certificate=certificate, auth=True)
    server.inbox.accept_login = False
    try:
        with capture_logs() as logs, pytest.raises(DeliveryError) as raised:
            await channel(
                server.port,
                tls=SmtpTls.STARTTLS,
                username=SecretStr(USERNAME),
                password=SecretStr(PASSWORD),
                tls_context=certificate.client_context(),
            ).send(emergency(), "s")
    finally:
        server.stop()
    assert raised.value.permanent
    assert "535" in str(raised.value)
    assert PASSWORD not in str(raised.value)
    assert PASSWORD not in repr(logs)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


async def test_server_down_is_a_temporary_failure() -> None:
    with pytest.raises(DeliveryError) as raised:
        await channel(free_port()).send(emergency(), "s")
    assert not raised.value.permanent


def test_credentials_without_tls_are_warned_about_without_revealing_them() -> None:
    with capture_logs() as logs:
        channel(25, username=SecretStr(USERNAME), password=SecretStr(PASSWORD))
    assert [e["event"] for e in logs] == ["SMTP credentials will be sent without TLS"]
    assert PASSWORD not in repr(logs)


def test_half_the_credentials_or_no_recipient_are_refused() -> None:
    with pytest.raises(ValueError, match="together"):
        channel(25, username=SecretStr(USERNAME))
    with pytest.raises(ValueError, match="recipient"):
        EmailChannel("h", 25, SENDER, (), tls=SmtpTls.NONE, username=None, password=None)
