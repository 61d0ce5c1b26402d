"""The risk-watch's journal: what it reads and writes, without ever waiting for the database.

The loss check needs only the broker (the stops are at the broker too), so a database outage must
not stop the watch from protecting the book. While the journal is unavailable:
- the trading state is what the watch last read, or HALTED once it has halted (held in memory);
- the halt, risk events and the day's loss warning are deferred to the store's outbox and written,
  in order, as soon as the database answers (the halt is also spooled to disk: it survives the
  process, see `catalyst.store.outbox`);
- the day's loss warning goes out once per day, whichever way it was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from catalyst.domain.errors import JournalUnavailable
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.store.outbox import SpooledHalt
from catalyst.store.repository import Store


class WatchJournal:
    """The store as the risk-watch uses it; see the module docstring."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._halted = False  # last trading state read, or a halt this watch made
        self._warned: set[date] = set()

    async def is_halted(self) -> bool:
        """Whether trading is halted: the journal's answer, or what is known while it is down."""
        try:
            state = await self._store.get_trading_state()
        except JournalUnavailable:
            return self._halted
        # A halt deferred to the outbox is in the journal by now (the outbox goes first).
        self._halted = state.is_halted
        return self._halted

    async def halt(self, reason: str, by: str, at: datetime) -> None:
        """Latch HALTED: in the journal now, or held here and spooled until it is back."""
        self._halted = True
        await self._store.write_or_defer(
            f"halt: {reason}",
            lambda: self._store.halt(reason, by, at),
            halt=SpooledHalt(reason=reason, by=by, at=at),
        )

    async def record_risk_event(
        self,
        kind: RiskEventKind,
        severity: Severity,
        message: str,
        at: datetime,
        details: Mapping[str, object] | None = None,
    ) -> None:
        """Append one risk event now, or when the journal is back."""
        await self._store.write_or_defer(
            f"risk event {kind}",
            lambda: self._store.record_risk_event(kind, severity, message, at, details),
        )

    async def mark_warning_sent(self, day: date, at: datetime) -> bool:
        """True only the first time for `day` (in the journal, or here while it is down)."""
        if day in self._warned:
            return False
        try:
            first = await self._store.mark_warning_sent(day, at)
        except JournalUnavailable:
            self._store.defer(
                f"loss warning mark for {day}", lambda: self._store.mark_warning_sent(day, at)
            )
            first = True
        self._warned.add(day)
        return first
