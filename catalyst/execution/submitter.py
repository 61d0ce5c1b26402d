"""Idempotent order placement: journal first, send once, resolve unknown outcomes by lookup.

The sequence for every order Catalyst places:
1. the intent, with its deterministic client_order_id, is committed to the database;
2. the order is sent once;
3. the broker's answer is recorded. A timeout or 5xx is an *unknown* outcome: the order is looked
   up by its client_order_id (with backoff) and adopted if it exists. It is never re-POSTed under a
   new id; a "client_order_id must be unique" answer means it exists, so it is fetched and adopted.

If the intent already exists (a restart re-ran the same cycle), the journal wins: nothing is sent
unless the broker confirms it has no such order *and* the caller allows a fresh send.

While the journal is unavailable no entry is sent (its intent cannot be committed). An exit that
closes a position (`journal_may_lag=True`, the flattener's) is sent anyway: its deterministic
client_order_id makes a second send of the same exit a duplicate the broker refuses and the
submitter adopts, and its intent is journaled from the outbox as soon as the database is back.
What the broker answers to any order sent is always journaled, now or from the outbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

import structlog

from catalyst.domain.errors import (
    DuplicateClientOrderId,
    JournalUnavailable,
    OrderRejected,
    RetryableBrokerError,
    UnknownOrderOutcome,
)
from catalyst.domain.models import Order, OrderStatus
from catalyst.execution.journal import journal_broker_order
from catalyst.ops.failpoints import (
    AFTER_INTENT_COMMIT,
    AFTER_SUBMIT_BEFORE_ACK,
    NO_FAILPOINTS,
    Failpoints,
)
from catalyst.ports import Broker, Clock
from catalyst.store.records import NOT_PLACED_STATUS, OrderIntent
from catalyst.store.repository import Store

log = structlog.get_logger(__name__)

LOOKUP_DELAYS_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0)


class Outcome(StrEnum):
    PLACED = "placed"  # the broker has the order (sent now or found by lookup)
    REJECTED = "rejected"  # the broker refused it; skip the symbol
    NOT_PLACED = "not_placed"  # confirmed absent at the broker after an unknown outcome
    ALREADY_JOURNALED = "already_journaled"  # a previous run owns this id; nothing sent


@dataclass(frozen=True, slots=True)
class PlaceResult:
    outcome: Outcome
    order: Order | None = None
    reason: str | None = None


class OrderSubmitter:
    """Places orders so that one intent can never become two orders at the broker."""

    def __init__(
        self,
        broker: Broker,
        store: Store,
        clock: Clock,
        *,
        failpoints: Failpoints = NO_FAILPOINTS,
    ) -> None:
        self._broker = broker
        self._store = store
        self._clock = clock
        self._failpoints = failpoints  # crash-safety tests die at the two windows below

    async def place(
        self,
        intent: OrderIntent,
        send: Callable[[], Awaitable[Order]],
        *,
        journal_may_lag: bool = False,
    ) -> PlaceResult:
        """Journal `intent`, then call `send` once and record what the broker says.

        JournalUnavailable (nothing sent) if the intent cannot be journaled, unless
        `journal_may_lag` (exits only: see the module docstring).
        """
        cid = intent.client_order_id
        bound = log.bind(client_order_id=cid, symbol=intent.symbol, role=intent.role)
        if not await self._journal_intent(intent, may_lag=journal_may_lag):
            existing = await self._broker.get_order_by_client_id(cid)
            if existing is not None:
                await self._record(existing, detail="adopted existing order for journaled intent")
                return PlaceResult(Outcome.PLACED, existing)
            bound.warning("intent already journaled; not sending again")
            return PlaceResult(Outcome.ALREADY_JOURNALED, reason="intent already journaled")
        self._failpoints.hit(AFTER_INTENT_COMMIT)  # journaled, not sent
        try:
            order = await send()
        except DuplicateClientOrderId:
            found = await self._resolve(cid)
            if found is None:
                raise
            await self._record(found, detail="broker already had this client_order_id")
            return PlaceResult(Outcome.PLACED, found)
        except OrderRejected as exc:
            bound.warning("order rejected", reason=exc.reason)
            await self._update(cid, OrderStatus.REJECTED.value, detail=exc.reason)
            return PlaceResult(Outcome.REJECTED, reason=exc.reason)
        except (UnknownOrderOutcome, RetryableBrokerError) as exc:
            bound.warning("submit outcome unknown; looking the order up", error=str(exc))
            found = await self._resolve(cid)
            if found is None:
                await self._update(cid, NOT_PLACED_STATUS, detail=str(exc))
                return PlaceResult(Outcome.NOT_PLACED, reason=str(exc))
            await self._record(found, detail="found by client_order_id after unknown outcome")
            return PlaceResult(Outcome.PLACED, found)
        self._failpoints.hit(AFTER_SUBMIT_BEFORE_ACK)  # at the broker, ack not journaled
        await self._record(order, detail="acknowledged")
        bound.info("order placed", broker_order_id=order.id, status=order.status.value)
        return PlaceResult(Outcome.PLACED, order)

    async def _resolve(self, client_order_id: str) -> Order | None:
        for delay in LOOKUP_DELAYS_SECONDS:
            try:
                found = await self._broker.get_order_by_client_id(client_order_id)
            except RetryableBrokerError as exc:
                log.warning("order lookup failed; retrying", error=str(exc), delay=delay)
            else:
                if found is not None:
                    return found
            await self._clock.sleep(delay)
        return await self._broker.get_order_by_client_id(client_order_id)

    async def _journal_intent(self, intent: OrderIntent, *, may_lag: bool) -> bool:
        """True if the intent is new (send it), False if a previous run journaled it."""
        try:
            return await self._store.record_order_intent(intent)
        except JournalUnavailable:
            if not may_lag:
                raise
        log.warning(
            "journal unavailable: sending the exit now, its intent journaled when it is back",
            client_order_id=intent.client_order_id,
            symbol=intent.symbol,
        )
        self._store.defer(
            f"order intent {intent.client_order_id}",
            lambda: self._store.record_order_intent(intent),
        )
        return True

    async def _record(self, order: Order, *, detail: str) -> None:
        at = self._clock.now()
        await self._store.write_or_defer(
            f"broker's view of order {order.client_order_id}",
            lambda: journal_broker_order(self._store, order, at=at, detail=detail),
        )

    async def _update(self, client_order_id: str, status: str, *, detail: str) -> None:
        at = self._clock.now()
        await self._store.write_or_defer(
            f"order {client_order_id} {status}",
            lambda: self._store.record_order_update(
                client_order_id, status=status, at=at, detail=detail
            ),
        )
