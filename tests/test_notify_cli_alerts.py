"""`catalyst halt` and `catalyst resume --ack` tell a person, through the configured SMTP server;
with the server down the alert waits in the alert journal for the daemon's next start."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from smtp_server import RECIPIENTS, SENDER, Inbox, SmtpServer, free_port
from support import make_settings

from catalyst.config.loader import database_url
from catalyst.config.models import Settings
from catalyst.daemon.entry import halt_trading, resume_trading
from catalyst.domain.alerts import AlertDelivery, AlertKind
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import upgrade_database
from catalyst.store.repository import Store

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(Inbox(), free_port()).start()
    yield server
    server.stop()


def settings_for(tmp_path: Path, port: int) -> Settings:
    settings = make_settings(
        tmp_path,
        notifications={
            "email_enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "email_from": SENDER,
            "email_to": RECIPIENTS,
        },
    )
    upgrade_database(database_url(settings))
    return settings


async def journaled(settings: Settings) -> list[tuple[AlertKind, AlertDelivery]]:
    engine = make_engine(database_url(settings))
    try:
        rows = await Store(make_session_factory(engine)).journaled_alerts(EPOCH)
    finally:
        await engine.dispose()
    return [(r.alert.kind, r.status) for r in rows]


async def test_halt_and_resume_each_send_one_alert(tmp_path: Path, smtp: SmtpServer) -> None:
    settings = await asyncio.to_thread(settings_for, tmp_path, smtp.port)

    await halt_trading(settings, reason="broker maintenance", by="ops")
    await resume_trading(settings, ack="maintenance over", by="ops")

    subjects = [m["Subject"] for m in smtp.inbox.messages]
    assert subjects == [
        "[Catalyst PAPER] WARNING trading halted: by ops: broker maintenance",
        "[Catalyst PAPER] INFO trading resumed: by ops",
    ]
    assert "catalyst resume --ack" in smtp.inbox.messages[0].get_content()
    assert await journaled(settings) == [
        (AlertKind.HALTED, AlertDelivery.DELIVERED),
        (AlertKind.RESUMED, AlertDelivery.DELIVERED),
    ]


async def test_halt_with_smtp_down_still_halts_and_journals_the_alert(tmp_path: Path) -> None:
    settings = await asyncio.to_thread(settings_for, tmp_path, free_port())

    message = await halt_trading(settings, reason="broker maintenance", by="ops")

    assert message.startswith("HALTED by ops")
    assert await journaled(settings) == [(AlertKind.HALTED, AlertDelivery.PENDING)]
