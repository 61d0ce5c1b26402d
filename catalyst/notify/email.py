"""The email channel: one SMTP delivery attempt per call (aiosmtplib); retries are the
dispatcher's, so a down relay is backed off as one channel rather than retried per alert.

TLS is `none`, `starttls` (upgrade a plain connection, certificates checked) or `implicit` (TLS
from the first byte, usually port 465). Login is optional: with credentials it logs in, without
it does not. Credentials are `SecretStr` until the moment they are handed to aiosmtplib; failure
messages are scrubbed of them and never carry a traceback (aiosmtplib's frames hold the plain
password, and structlog's traceback renderers can print frame locals).

A message carries the plain-text body, and, when the alert has them, an HTML alternative with its
inline images (`Attachment.content_id`, shown as `cid:` in the HTML) and other attachments.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import aiosmtplib
import structlog
from pydantic import SecretStr

from catalyst.config.models import SmtpTls
from catalyst.domain.alerts import Alert
from catalyst.notify.channel import DeliveryError, scrub

__all__ = ["EmailChannel"]


def _is_permanent(exc: Exception) -> bool:
    # 5xx replies (bad credentials, refused sender/recipients) and missing server features will
    # fail the same way on every attempt; transport errors and 4xx replies may not.
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code >= 500
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(refusal.code >= 500 for refusal in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPNotSupported)


class EmailChannel:
    """An `AlertChannel` sending each alert as one email to `recipients`."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        *,
        tls: SmtpTls,
        username: SecretStr | None,
        password: SecretStr | None,
        timeout: float = 10,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        """`tls_context` replaces the system's trust store (a private CA). Each message is dated
        when its alert was raised (a retried one is not made to look fresh)."""
        if not recipients:
            raise ValueError("EmailChannel needs at least one recipient")
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password must be given together")
        self._host = host
        self._port = port
        self._sender = sender
        self._recipients = tuple(recipients)
        self._tls = tls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context
        if username is not None and tls == SmtpTls.NONE:
            structlog.get_logger(__name__).warning(
                "SMTP credentials will be sent without TLS", host=host, port=port
            )

    def build_message(self, alert: Alert, subject: str) -> EmailMessage:
        """The message `send` sends: subject, plain text, HTML with inline images, attachments."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=_domain_of(self._sender))
        message["Date"] = format_datetime(alert.at)
        if alert.critical:
            message["X-Priority"] = "1"
        message.set_content(alert.full_body())
        inline = [a for a in alert.attachments if a.content_id is not None]
        if alert.html is not None:
            message.add_alternative(alert.html, subtype="html")
            html_part = list(message.iter_parts())[-1]
            for image in inline:
                maintype, _, subtype = image.content_type.partition("/")
                html_part.add_related(
                    image.data,
                    maintype=maintype,
                    subtype=subtype,
                    cid=f"<{image.content_id}>",
                    filename=image.filename,
                    disposition="inline",
                )
        # Without an HTML part an "inline" image has nothing to show it: attach it instead.
        for item in alert.attachments:
            if item.content_id is None or alert.html is None:
                maintype, _, subtype = item.content_type.partition("/")
                message.add_attachment(
                    item.data, maintype=maintype, subtype=subtype, filename=item.filename
                )
        return message

    async def send(self, alert: Alert, subject: str) -> None:
        """One SMTP delivery; `DeliveryError` (scrubbed, `permanent` for 5xx) if it failed."""
        try:
            message = self.build_message(alert, subject)
        except Exception as exc:  # e.g. an unusable sender address: the same every time
            raise DeliveryError(
                f"email not built: {type(exc).__name__}: {exc}", permanent=True
            ) from None
        try:
            refused, _ = await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                use_tls=self._tls == SmtpTls.IMPLICIT,
                start_tls=self._tls == SmtpTls.STARTTLS,
                tls_context=self._tls_context,
                username=_reveal(self._username),
                password=_reveal(self._password),
                timeout=self._timeout,
            )
        except Exception as exc:  # every failure becomes a DeliveryError, without a traceback
            detail = scrub(f"{type(exc).__name__}: {exc}", self._secrets())
            raise DeliveryError(
                f"SMTP {self._host}:{self._port}: {detail}", permanent=_is_permanent(exc)
            ) from None
        if refused:
            structlog.get_logger(__name__).warning(
                "alert email refused for some recipients", refused=sorted(refused)
            )

    def _secrets(self) -> list[str]:
        return [s.get_secret_value() for s in (self._username, self._password) if s is not None]


def _domain_of(sender: str) -> str:
    # Passing a domain keeps make_msgid from doing a (possibly slow) FQDN lookup.
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] if "@" in address else "localhost"


def _reveal(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
