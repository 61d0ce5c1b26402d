"""The order-event recorder: journals fills and order states as the broker pushes them.

Reconciliation still runs every few minutes and remains the safety net; this task makes the
journal current within moments of a fill and tells the risk-watch to look at the day's loss now
(`on_fill`). Both paths journal idempotently (a fill is one row however often it is seen, a final
status is never replaced by an older open one), so they never fight.

While the journal is unavailable, each event's writes are deferred to the store's outbox and made,
in order, as soon as the database is back; reconciliation re-reads the broker after that anyway.

Under a simulated clock the recorder is a participant: it waits for the next event inside
`clock.idle()` (the producer needs time to move), then for its turn (the producer, say a scan
placing orders, finishes what it is doing first), and holds time still only while it writes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

import structlog

from catalyst.domain.errors import JournalUnavailable
from catalyst.domain.models import Fill, OrderEvent, OrderEventKind
from catalyst.execution.journal import journal_broker_order
from catalyst.ports import Broker, Clock
from catalyst.store.repository import Store

log = structlog.get_logger(__name__)

ENDED_WITHOUT_FILL = frozenset(
    {OrderEventKind.CANCELED, OrderEventKind.EXPIRED, OrderEventKind.REJECTED}
)
RESUBSCRIBE_SECONDS = 5.0  # pause before re-opening a broker event stream that failed


class OrderEventRecorder:
    """Consumes `broker.order_events()` until cancelled; see the module docstring."""

    def __init__(
        self,
        broker: Broker,
        store: Store,
        clock: Clock,
        on_fill: Callable[[], None],
        on_order_ended: Callable[[], None] = lambda: None,
    ) -> None:
        self._broker = broker
        self._store = store
        self._clock = clock
        self._on_fill = on_fill
        # A cancelled or expired order may have been a position's protective stop.
        self._on_order_ended = on_order_ended
        self.events_handled = 0
        self.fills_recorded = 0

    async def run(self) -> None:
        """Record every event until cancelled; a failing event stream is re-opened after a pause."""
        while True:
            try:
                async with aclosing(self._broker.order_events()) as events:
                    while True:
                        event = await self._next(events)
                        if event is None:
                            break
                        await self.handle(event)
                log.warning("broker order event stream ended; re-opening it")
            except Exception as exc:  # never let one broken stream stop the recorder
                log.error("broker order event stream failed; re-opening it", error=str(exc))
            await self._clock.sleep(RESUBSCRIBE_SECONDS)

    async def _next(self, events: AsyncGenerator[OrderEvent, None]) -> OrderEvent | None:
        # Waiting for the broker is not work: it must not hold a simulated clock still.
        async with self._clock.idle():
            try:
                return await anext(events)
            except StopAsyncIteration:
                return None

    async def handle(self, event: OrderEvent) -> None:
        """Journal one event (fill first, then the order's status); never raises for bad data."""
        try:
            if event.fill is not None:
                await self._record_fill(event.fill)
            await self._record_order(event)
        except Exception as exc:  # one bad event must not stop the next one
            log.error(
                "order event not journaled",
                kind=event.kind,
                order_id=event.order.id,
                client_order_id=event.order.client_order_id,
                error=f"{type(exc).__name__}: {exc}",
            )
        callback = self._on_fill if event.fill is not None else None
        if event.kind in ENDED_WITHOUT_FILL:
            callback = self._on_order_ended
        if callback is not None:
            try:
                callback()
            except Exception as exc:
                log.error("order event callback failed", kind=event.kind, error=str(exc))
        # Counted once the event is fully handled, so a waiter sees its journal rows and callback.
        self.events_handled += 1

    async def _record_fill(self, fill: Fill) -> None:
        try:
            if await self._store.record_fill(fill):
                self.fills_recorded += 1
        except JournalUnavailable:
            self._store.defer(
                f"fill of {fill.client_order_id}", lambda: self._store.record_fill(fill)
            )

    async def _record_order(self, event: OrderEvent) -> None:
        try:
            await self._journal_pushed(event)
        except JournalUnavailable:
            self._store.defer(
                f"stream {event.kind} of {event.order.client_order_id}",
                lambda: self._journal_pushed(event),
            )

    async def _journal_pushed(self, event: OrderEvent) -> None:
        try:
            await journal_broker_order(
                self._store, event.order, at=event.timestamp, detail=f"stream: {event.kind}"
            )
        except LookupError:
            log.info(
                "order event for an order not in the journal; left to reconciliation",
                kind=event.kind,
                client_order_id=event.order.client_order_id,
                symbol=event.order.symbol,
            )
