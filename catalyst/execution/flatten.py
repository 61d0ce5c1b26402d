"""Cancel everything, close everything, verify flat: shared by the emergency stop, the end-of-day
flattener and `catalyst flatten`.

Closing orders go through the journal like every other order, with ids derived from the purpose
(`eod-20261124`, `emergency-20261124`), the symbol and an attempt number, so a repeat after a
failure is a new, recorded order and never an unrecorded duplicate. A symbol with an exit order
still working is left alone until that order is final. Nothing is sent at or after `deadline`
(the session close): a market order sent after the close would be queued for the next session.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import structlog

from catalyst.domain.errors import BrokerError
from catalyst.domain.models import LegRole, OrderClass, OrderType, Position, Side
from catalyst.execution.order_ids import client_order_id
from catalyst.execution.submitter import OrderSubmitter, Outcome
from catalyst.ports import Broker, Clock
from catalyst.store.records import OrderIntent
from catalyst.store.repository import Store

log = structlog.get_logger(__name__)

POLL_SECONDS = 1.0
FIRST_CHECK_SECONDS = 0.25  # market closes usually fill at once: look again soon


@dataclass(frozen=True, slots=True)
class FlattenResult:
    flat: bool
    attempts: int
    closed_symbols: tuple[str, ...]
    remaining: tuple[str, ...]


class Flattener:
    """Brings the account to flat and proves it by asking the broker."""

    def __init__(
        self, broker: Broker, store: Store, clock: Clock, submitter: OrderSubmitter
    ) -> None:
        self._broker = broker
        self._store = store
        self._clock = clock
        self._submitter = submitter
        # Held while flattening, so reconciliation does not put protective stops back on
        # positions that are being closed.
        self.lock = asyncio.Lock()

    async def flatten_all(
        self, purpose: str, *, deadline: datetime | None, max_attempts: int | None = None
    ) -> FlattenResult:
        """Cancel open orders, close positions, repeat until the broker reports flat.

        Retries broker failures every second until flat, until `deadline`, or after
        `max_attempts` rounds (None: no limit besides the deadline).
        """
        async with self.lock:
            return await self._flatten(purpose, deadline, max_attempts, None)

    async def close_symbols(
        self, symbols: frozenset[str], purpose: str, *, deadline: datetime | None
    ) -> FlattenResult:
        """Like `flatten_all`, for `symbols` only; other symbols are left untouched."""
        async with self.lock:
            return await self._flatten(purpose, deadline, None, symbols)

    async def _flatten(
        self,
        purpose: str,
        deadline: datetime | None,
        max_attempts: int | None,
        only: frozenset[str] | None,
    ) -> FlattenResult:
        attempt = 0
        closed: set[str] = set()
        sent: dict[str, list[str]] = {}  # symbol -> client_order_ids of the exits tried so far
        remaining: tuple[str, ...] = ()
        while True:
            attempt += 1
            try:
                await self._cancel(only)
                positions = [
                    p
                    for p in await self._broker.list_positions()
                    if only is None or p.symbol in only
                ]
            except BrokerError as exc:
                log.warning(
                    "flatten: broker call failed; retrying", purpose=purpose, error=str(exc)
                )
                positions = None
            if positions is not None:
                remaining = tuple(sorted(p.symbol for p in positions if p.qty != 0))
                if not remaining:
                    log.info("flat", purpose=purpose, attempts=attempt, closed=sorted(closed))
                    return FlattenResult(True, attempt, tuple(sorted(closed)), ())
                if deadline is not None and self._clock.now() >= deadline:
                    log.critical("flatten: session closed before flat", remaining=remaining)
                    return FlattenResult(False, attempt, tuple(sorted(closed)), remaining)
                for position in positions:
                    if position.qty != 0 and await self._close(purpose, position, attempt, sent):
                        closed.add(position.symbol)
            if max_attempts is not None and attempt >= max_attempts:
                return FlattenResult(False, attempt, tuple(sorted(closed)), remaining)
            await self._clock.sleep(FIRST_CHECK_SECONDS if attempt == 1 else POLL_SECONDS)

    async def cancel_all(self) -> None:
        """Cancel every open order, leaving positions (emergency action without closing)."""
        async with self.lock:
            await self._cancel(None)

    async def _cancel(self, only: frozenset[str] | None) -> None:
        if only is None:
            await self._broker.cancel_all_orders()
            return
        for order in await self._broker.list_open_orders():
            if order.symbol in only:
                # Legs first: a filled bracket parent cannot be cancelled, its working legs can.
                for member in (*order.legs, order):
                    if member.status.is_open:
                        await self._broker.cancel_order(member.id)

    async def _close(
        self, purpose: str, position: Position, attempt: int, sent: dict[str, list[str]]
    ) -> bool:
        symbol = position.symbol
        # Every earlier exit for this symbol, including those whose outcome was unknown and
        # then not found: a broker can still create one late, and two exits would sell twice.
        for previous in sent.get(symbol, ()):
            try:
                order = await self._broker.get_order_by_client_id(previous)
            except BrokerError:
                return False
            if order is not None and order.status.is_open:
                return False  # an earlier exit is still working; do not stack another
        cid = client_order_id(purpose, symbol, f"exit-{attempt}")
        side = Side.SELL if position.qty > 0 else Side.BUY
        intent = OrderIntent(
            client_order_id=cid,
            symbol=symbol,
            side=side,
            qty=abs(position.qty),
            order_type=OrderType.MARKET,
            order_class=OrderClass.SIMPLE,
            role=LegRole.EXIT,
            created_at=self._clock.now(),
        )
        sent.setdefault(symbol, []).append(cid)
        # Closing never waits for the journal: the book comes first (see the submitter).
        result = await self._submitter.place(
            intent, lambda: self._broker.close_position(symbol, cid), journal_may_lag=True
        )
        if result.outcome is Outcome.PLACED:
            return True
        log.warning("close not placed", symbol=symbol, outcome=result.outcome, reason=result.reason)
        return False
