"""Email alerts over SMTP (aiosmtplib), retried a bounded number of times and never raised.

Credentials are `SecretStr` until the moment they are handed to aiosmtplib. Failures are logged
with the error's type and message only, never with `exc_info`: structlog's traceback renderers
can print frame locals, and aiosmtplib's frames hold the plain password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import aiosmtplib
import structlog
from pydantic import SecretStr

from catalyst.ports import Clock

__all__ = ["EmailNotifier", "format_subject"]

SUBJECT_PREFIX = "[Catalyst] "
CRITICAL_PREFIX = "[CRITICAL] "

Sleep = Callable[[float], Awaitable[None]]


def format_subject(subject: str, *, critical: bool) -> str:
    """`[Catalyst] [CRITICAL] subject` (critical) or `[Catalyst] subject`, on one line."""
    one_line = " ".join(subject.split())
    return SUBJECT_PREFIX + (CRITICAL_PREFIX if critical else "") + one_line


def _is_permanent(exc: Exception) -> bool:
    # 5xx replies (bad credentials, refused sender/recipients) and missing server features will
    # fail the same way on every attempt; transport errors and 4xx replies may not.
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code >= 500
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(refusal.code >= 500 for refusal in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPNotSupported)


class EmailNotifier:
    """Implements `catalyst.ports.Notifier` by sending a plain-text email to `recipients`.

    Each alert is tried up to `attempts` times, waiting `backoff_seconds`, then twice that, and so
    on between tries (through `sleep`, injectable for tests). Permanent SMTP errors (5xx) are not
    retried. `notify` never raises except for cancellation.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        *,
        starttls: bool,
        username: SecretStr | None,
        password: SecretStr | None,
        timeout: float = 10,
        attempts: int = 3,
        backoff_seconds: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        clock: Clock | None = None,
    ) -> None:
        """`starttls=True` requires STARTTLS (with certificate checks); False never uses TLS.

        `clock`, when given, dates each message (Date header); without it the relay adds one.
        """
        if not recipients:
            raise ValueError("EmailNotifier needs at least one recipient")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password must be given together")
        self._host = host
        self._port = port
        self._sender = sender
        self._recipients = tuple(recipients)
        self._starttls = starttls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._attempts = attempts
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._clock = clock
        if username is not None and not starttls:
            structlog.get_logger(__name__).warning(
                "SMTP credentials will be sent without TLS", host=host, port=port
            )

    def build_message(self, subject: str, body: str, *, critical: bool) -> EmailMessage:
        """The message `notify` sends: prefixed subject, plain-text body."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        message["Subject"] = format_subject(subject, critical=critical)
        message["Message-ID"] = make_msgid(domain=_domain_of(self._sender))
        if self._clock is not None:
            message["Date"] = format_datetime(self._clock.now())
        if critical:
            message["X-Priority"] = "1"
        message.set_content(body)
        return message

    async def notify(self, subject: str, body: str, *, critical: bool = False) -> None:
        """Send one alert; log and give up after the last failed attempt."""
        log = structlog.get_logger(__name__).bind(
            smtp_host=self._host, smtp_port=self._port, subject=subject, critical=critical
        )
        try:
            message = self.build_message(subject, body, critical=critical)
        except (ValueError, TypeError) as exc:  # e.g. an unusable sender address
            log.error("alert email not built", error_type=type(exc).__name__, error=str(exc))
            return
        delay = self._backoff_seconds
        for attempt in range(1, self._attempts + 1):
            try:
                refused, _ = await aiosmtplib.send(
                    message,
                    hostname=self._host,
                    port=self._port,
                    start_tls=self._starttls,
                    username=_reveal(self._username),
                    password=_reveal(self._password),
                    timeout=self._timeout,
                )
            except Exception as exc:  # the port forbids raising delivery failures
                permanent = _is_permanent(exc)
                final = permanent or attempt == self._attempts
                log.warning(
                    "alert email attempt failed",
                    attempt=attempt,
                    max_attempts=self._attempts,
                    error_type=type(exc).__name__,
                    error=str(exc),
                    will_retry=not final,
                )
                if final:
                    log.error("alert email not delivered", attempts=attempt, permanent=permanent)
                    return
                await self._sleep(delay)
                delay *= 2
                continue
            if refused:
                log.warning("alert email refused for some recipients", refused=sorted(refused))
            log.info("alert email sent", attempt=attempt)
            return


def _domain_of(sender: str) -> str:
    # Passing a domain keeps make_msgid from doing a (possibly slow) FQDN lookup.
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] if "@" in address else "localhost"


def _reveal(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
