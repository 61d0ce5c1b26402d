"""Alerting: typed alerts (`catalyst.domain.alerts`) delivered by email and webhooks.

`build_notifier` wires the configured channels (the log when none is) behind one
`AlertDispatcher`, the `Notifier` the daemon hands to its tasks.
"""

from __future__ import annotations

from datetime import timedelta

from catalyst.config.models import Settings
from catalyst.domain.errors import ConfigError
from catalyst.notify.channel import AlertChannel, DeliveryError
from catalyst.notify.dispatcher import AlertDispatcher, ChannelBackoff
from catalyst.notify.email import EmailChannel
from catalyst.notify.log_notifier import LogChannel
from catalyst.notify.throttle import AlertThrottle
from catalyst.notify.webhook import WebhookChannel
from catalyst.ports import Clock

__all__ = [
    "AlertChannel",
    "AlertDispatcher",
    "AlertThrottle",
    "ChannelBackoff",
    "DeliveryError",
    "EmailChannel",
    "LogChannel",
    "WebhookChannel",
    "build_channels",
    "build_notifier",
]


def build_channels(settings: Settings) -> list[AlertChannel]:
    """Email when `notifications.email_enabled`, one channel per webhook, else the log.

    Raises ConfigError when only one of the SMTP username and password is set.
    """
    notifications = settings.trading.notifications
    secrets = settings.secrets
    channels: list[AlertChannel] = []
    if notifications.email_enabled:
        if (secrets.smtp_username is None) != (secrets.smtp_password is None):
            raise ConfigError(
                "environment", "smtp_username/smtp_password", "set both SMTP credentials or neither"
            )
        channels.append(
            EmailChannel(
                host=notifications.smtp_host,
                port=notifications.smtp_port,
                sender=notifications.email_from,
                recipients=notifications.email_to,
                tls=notifications.smtp_tls,
                username=secrets.smtp_username,
                password=secrets.smtp_password,
            )
        )
    if len(secrets.webhook_urls) != len(notifications.webhooks):
        raise ConfigError(
            "environment", "notifications.webhooks", "webhook URLs were not read by the loader"
        )
    environment = settings.trading.broker.environment.value
    for index, (hook, url) in enumerate(
        zip(notifications.webhooks, secrets.webhook_urls, strict=True)
    ):
        name = f"webhook-{index + 1}-{hook.format.value}"
        channels.append(WebhookChannel(name, url, hook.format, environment=environment))
    return channels or [LogChannel()]


def build_notifier(settings: Settings, *, clock: Clock) -> AlertDispatcher:
    """The daemon's `Notifier`: the configured channels behind a throttled, journaled queue."""
    notifications = settings.trading.notifications
    return AlertDispatcher(
        build_channels(settings),
        environment=settings.trading.broker.environment.value,
        clock=clock,
        throttle=AlertThrottle(
            dedup_window=timedelta(seconds=notifications.dedup_window_seconds),
            per_hour=notifications.rate_limit_per_hour,
        ),
        capacity=notifications.queue_capacity,
    )
