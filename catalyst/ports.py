"""The seams of the daemon: what business code may depend on.

Real adapters live behind each protocol (the exchange simulator and, later, Alpaca for `Broker`;
the wall clock and a simulated clock for `Clock`; SMTP for `Notifier`). Business code imports these
protocols, never an adapter.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Protocol

from catalyst.domain.alerts import Alert
from catalyst.domain.models import (
    Account,
    Asset,
    Bar,
    Fill,
    NewsItem,
    Order,
    OrderEvent,
    OrderRequest,
    Position,
    Snapshot,
    TradingSession,
)


class Nap(Protocol):
    """One sleep on a clock that another task may cut short (see `Clock.nap_until`)."""

    async def wait(self) -> None:
        """Sleep until the nap's deadline, or less if interrupted."""
        ...

    def interrupt(self) -> None:
        """End the sleep now (under a simulated clock: at the sleeper's next turn)."""
        ...


class Clock(Protocol):
    """The one source of time. `now()` is timezone-aware UTC."""

    def now(self) -> datetime:
        """Current instant, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Wait until `when` (returns at once if it has passed)."""
        ...

    def nap_until(self, when: datetime) -> Nap:
        """A sleep until `when` that `Nap.interrupt()` ends early; `await nap.wait()` sleeps."""
        ...

    def participant(self) -> AbstractAsyncContextManager[None]:
        """Mark the current task as one whose work holds simulated time still (no-op for real).

        Under a simulated clock participants take turns: entering waits until the others are
        blocked, so their work never interleaves and a simulated day repeats exactly.
        """
        ...

    def idle(self) -> AbstractAsyncContextManager[None]:
        """In the block the participant waits on other tasks, not on time (no-op for real).

        Leaving it waits for the participant's turn, like entering `participant()`.
        """
        ...


class Broker(Protocol):
    """Everything Catalyst asks of a broker; adapters raise `catalyst.domain.errors` classes.

    `submit_order` raises `UnknownOrderOutcome` when it cannot tell whether the order was created;
    callers resolve that with `get_order_by_client_id`, never by submitting again.
    """

    async def get_account(self) -> Account:
        """Equity, the previous close's equity, cash and buying power."""
        ...

    async def get_session(self, day: date) -> TradingSession | None:
        """The exchange session on `day`, or None when the market is closed all day."""
        ...

    async def list_assets(self) -> Sequence[Asset]:
        """Active, tradable US equities (the scan universe)."""
        ...

    async def get_snapshots(self, symbols: Sequence[str]) -> dict[str, Snapshot]:
        """Latest snapshot per symbol; symbols without data are left out."""
        ...

    async def get_daily_bars(self, symbols: Sequence[str], days: int) -> dict[str, list[Bar]]:
        """Up to `days` completed daily bars per symbol, oldest first, before today."""
        ...

    async def get_intraday_bars(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, list[Bar]]:
        """Minute bars in [start, end) per symbol, oldest first."""
        ...

    async def get_news(self, symbols: Sequence[str], since: datetime) -> list[NewsItem]:
        """News items mentioning any of `symbols`, created at or after `since`."""
        ...

    async def submit_order(self, request: OrderRequest) -> Order:
        """Place an order (a bracket when `request.bracket` is set)."""
        ...

    async def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        """The order with this client_order_id, legs nested, or None if the broker has none."""
        ...

    async def list_open_orders(self) -> list[Order]:
        """Open orders with their bracket legs nested (held stop legs included)."""
        ...

    async def cancel_order(self, order_id: str) -> None:
        """Cancel one order; a no-op if it is already final."""
        ...

    async def cancel_all_orders(self) -> None:
        """Cancel every open order, legs included."""
        ...

    async def list_positions(self) -> list[Position]:
        """Every open position."""
        ...

    async def get_fills(self, since: datetime) -> list[Fill]:
        """Every execution at or after `since`, one record per fill (not cumulative)."""
        ...

    async def close_position(self, symbol: str, client_order_id: str) -> Order:
        """Close one position at market with a journaled client_order_id."""
        ...

    def order_events(self) -> AsyncGenerator[OrderEvent, None]:
        """Order events (fills above all) pushed as they happen, until the iterator is closed.

        Fills carry per-execution quantities. An adapter whose push channel drops falls back to
        polling and never delivers the same fill twice within one iterator; consumers still
        journal idempotently, since reconciliation sees the same fills too. Close the iterator
        (`contextlib.aclosing`) when done.
        """
        ...


class Notifier(Protocol):
    """Tells a person something happened (email and webhooks in production)."""

    async def alert(self, alert: Alert) -> None:
        """Hand over one alert. Must not wait on delivery nor raise for delivery failures."""
        ...
