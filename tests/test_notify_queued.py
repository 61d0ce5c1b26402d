"""Queued alerts: notify returns at once even when delivery hangs; nothing critical is lost."""

from __future__ import annotations

import asyncio

import pytest
from support import eventually

from catalyst.notify.queued import QueuedNotifier


class SlowInbox:
    """A Notifier that takes its time, like an SMTP server timing out."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bool]] = []
        self.started: list[str] = []  # subjects whose delivery has begun
        self.release = asyncio.Event()

    async def notify(self, subject: str, body: str, *, critical: bool = False) -> None:
        self.started.append(subject)
        await self.release.wait()
        self.received.append((subject, critical))


async def test_notify_returns_immediately_while_delivery_is_stuck() -> None:
    inbox = SlowInbox()
    queued = QueuedNotifier(inbox)
    delivery = asyncio.create_task(queued.deliver_forever())
    try:
        # The inbox answers only once released, so returning at all shows notify does not wait.
        await asyncio.wait_for(queued.notify("warning", "body"), timeout=10)
        await asyncio.wait_for(queued.notify("EMERGENCY", "body", critical=True), timeout=10)
        assert inbox.received == []
        inbox.release.set()
        await eventually(lambda: len(inbox.received) == 2)
        assert inbox.received == [("warning", False), ("EMERGENCY", True)]
    finally:
        delivery.cancel()
        with pytest.raises(asyncio.CancelledError):
            await delivery


async def test_full_queue_drops_routine_alerts_before_critical_ones() -> None:
    inbox = SlowInbox()
    queued = QueuedNotifier(inbox, capacity=2)
    await queued.notify("critical 1", "", critical=True)
    await queued.notify("routine 1", "")
    await queued.notify("critical 2", "", critical=True)  # pushes out the routine one
    await queued.notify("routine 2", "")  # no room, and nothing lesser to drop

    inbox.release.set()
    await queued.drain()

    assert inbox.received == [("critical 1", True), ("critical 2", True)]
    assert queued.dropped == 2


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        QueuedNotifier(SlowInbox(), capacity=0)


async def test_an_alert_cancelled_mid_send_is_sent_by_the_shutdown_drain() -> None:
    inbox = SlowInbox()
    queued = QueuedNotifier(inbox)
    delivery = asyncio.create_task(queued.deliver_forever())
    await queued.notify("EMERGENCY STOP", "", critical=True)
    await eventually(lambda: inbox.started == ["EMERGENCY STOP"])  # stuck in the mail server
    delivery.cancel()
    with pytest.raises(asyncio.CancelledError):
        await delivery

    inbox.release.set()
    await queued.drain()

    assert inbox.received == [("EMERGENCY STOP", True)]
