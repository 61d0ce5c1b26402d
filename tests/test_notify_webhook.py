"""The webhook channel against a local aiohttp receiver: each shape's JSON, retried and permanent
statuses, and the secret URL never in an error or a log line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr
from smtp_server import free_port
from structlog.testing import capture_logs

from catalyst.config.models import WebhookFormat
from catalyst.domain.alerts import Alert, subject_of
from catalyst.notify import DeliveryError, WebhookChannel, events

AT = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
TOKEN = "T000/B000/s3cr3t-token-xyz"


@dataclass
class Receiver:
    port: int
    status: int = 200
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def url(self, path: str = f"/services/{TOKEN}") -> SecretStr:
        return SecretStr(f"http://127.0.0.1:{self.port}{path}")

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((request.path, await request.json()))
        return web.Response(status=self.status, text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    received = Receiver(free_port())
    app = web.Application()
    app.router.add_post("/{tail:.*}", received.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", received.port).start()
    try:
        yield received
    finally:
        await runner.cleanup()


def warning() -> Alert:
    return events.daily_loss_warning(Decimal("-1512.25"), Decimal("2000"), 0.75, AT)


async def send(receiver: Receiver, shape: WebhookFormat, path: str | None = None) -> None:
    url = receiver.url() if path is None else receiver.url(path)
    alert = warning()
    hook = WebhookChannel(f"webhook-1-{shape.value}", url, shape, environment="paper")
    await hook.send(alert, subject_of(alert, "paper"))


SUBJECT = (
    "[Catalyst PAPER] WARNING daily loss warning: day P&L -1,512.25 (limit -2,000), "
    "75% of the limit reached"
)


async def test_json_shape_carries_catalysts_fields(receiver: Receiver) -> None:
    await send(receiver, WebhookFormat.JSON)
    [(path, payload)] = receiver.posts
    assert path == f"/services/{TOKEN}"
    assert payload["subject"] == SUBJECT
    assert payload["kind"] == "daily_loss_warning"
    assert payload["severity"] == "warning"
    assert payload["environment"] == "paper"
    assert payload["headline"].startswith("day P&L -1,512.25")
    assert "warning level (75%)" in payload["body"]
    assert payload["at"] == AT.isoformat()


async def test_slack_shape_is_a_text_message(receiver: Receiver) -> None:
    await send(receiver, WebhookFormat.SLACK)
    [(_, payload)] = receiver.posts
    assert set(payload) == {"text"}
    assert payload["text"].startswith(f"*{SUBJECT}*\n")


async def test_discord_shape_is_content_within_its_limit(receiver: Receiver) -> None:
    await send(receiver, WebhookFormat.DISCORD)
    [(_, payload)] = receiver.posts
    assert set(payload) == {"content"}
    assert payload["content"].startswith(f"**{SUBJECT}**\n")
    assert len(payload["content"]) <= 2000


async def test_ntfy_shape_posts_to_the_root_with_the_topic_inside(receiver: Receiver) -> None:
    await send(receiver, WebhookFormat.NTFY, path="/catalyst-alerts-8f3k")
    [(path, payload)] = receiver.posts
    assert path == "/"
    assert payload["topic"] == "catalyst-alerts-8f3k"
    assert payload["title"] == SUBJECT
    assert payload["priority"] == 4
    assert payload["tags"] == ["warning"]
    assert "warning level" in payload["message"]


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (429, False), (404, True)])
async def test_a_refusal_is_a_failure_permanent_only_for_client_errors(
    receiver: Receiver, status: int, permanent: bool
) -> None:
    receiver.status = status
    with pytest.raises(DeliveryError) as raised:
        await send(receiver, WebhookFormat.SLACK)
    assert raised.value.permanent is permanent
    assert f"HTTP {status}" in str(raised.value)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("closed_port", [True, False], ids=["refused", "port-out-of-range"])
async def test_an_unreachable_webhook_never_shows_its_url(closed_port: bool) -> None:
    # A port nothing listens on (refused), or one aiohttp refuses and quotes the URL back for.
    port = free_port() if closed_port else 99999
    url = SecretStr(f"http://127.0.0.1:{port}/services/{TOKEN}?token=abc123")
    hook = WebhookChannel("webhook-1-json", url, WebhookFormat.JSON, environment="live")
    with capture_logs() as logs, pytest.raises(DeliveryError) as raised:
        await hook.send(warning(), "s")
    assert not raised.value.permanent
    assert str(raised.value).startswith("webhook-1-json: ")
    for secret in (TOKEN, "abc123"):
        assert secret not in str(raised.value)
        assert secret not in repr(logs)
    assert TOKEN not in repr(hook.__dict__)  # a SecretStr, masked in any repr
