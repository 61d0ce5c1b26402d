"""Alerting adapters for the `Notifier` port: email when configured, the log otherwise."""

from __future__ import annotations

from catalyst.config.models import Settings
from catalyst.domain.errors import ConfigError
from catalyst.notify.email import EmailNotifier
from catalyst.notify.log_notifier import LogNotifier
from catalyst.ports import Clock, Notifier

__all__ = ["EmailNotifier", "LogNotifier", "build_notifier"]


def build_notifier(settings: Settings, *, clock: Clock | None = None) -> Notifier:
    """EmailNotifier when `notifications.email_enabled`, else LogNotifier.

    `clock` (optional) dates the emails; SMTP credentials come from `settings.secrets`.
    Raises ConfigError when only one of the SMTP username and password is set.
    """
    notifications = settings.trading.notifications
    if not notifications.email_enabled:
        return LogNotifier()
    secrets = settings.secrets
    if (secrets.smtp_username is None) != (secrets.smtp_password is None):
        raise ConfigError(
            "environment", "smtp_username/smtp_password", "set both SMTP credentials or neither"
        )
    return EmailNotifier(
        host=notifications.smtp_host,
        port=notifications.smtp_port,
        sender=notifications.email_from,
        recipients=notifications.email_to,
        starttls=notifications.smtp_starttls,
        username=secrets.smtp_username,
        password=secrets.smtp_password,
        clock=clock,
    )
