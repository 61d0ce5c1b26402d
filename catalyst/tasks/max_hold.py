"""Max hold: positions held longer than `trading_session.max_hold_time_minutes` are closed.

Checked once a minute during the regular session. A position's age runs from the fill that took
it away from zero (`position_opened_at`, over the broker's fills since the day before), so a
restart does not reset it. While the risk-watch stands after an emergency stop the book is kept
flat anyway, and this watch leaves it alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import structlog

from catalyst.domain.errors import BrokerError, JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.positions import position_opened_at
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.execution.flatten import Flattener
from catalyst.execution.purposes import max_hold_purpose
from catalyst.ports import Broker, Clock
from catalyst.tasks.watch_journal import WatchJournal
from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.calendar import SessionCalendar

log = structlog.get_logger(__name__)

HOLD_CHECK_EVERY = timedelta(minutes=1)


class MaxHoldWatch:
    """Closes positions held past the max hold time; one check a minute."""

    def __init__(
        self,
        *,
        broker: Broker,
        clock: Clock,
        calendar: SessionCalendar,
        flattener: Flattener,
        journal: WatchJournal,
        max_hold: timedelta,
        book_kept_flat: Callable[[], bool],
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._calendar = calendar
        self._flattener = flattener
        self._journal = journal
        self._max_hold = max_hold
        self._book_kept_flat = book_kept_flat
        self._alarm = Alarm(clock, "max-hold")

    def update(self, max_hold: timedelta) -> None:
        """Use a new max hold from now on (config reload), checked at once."""
        self._max_hold = max_hold
        self._alarm.wake()

    async def run(self) -> None:
        """Check every `HOLD_CHECK_EVERY` (cancel to stop)."""
        while True:
            try:
                if not self._book_kept_flat():
                    await self.check_once()
            except (BrokerError, JournalUnavailable) as exc:
                # Looked at again next minute; the risk-watch reports a broker outage.
                log.warning("max hold: check failed; retrying", error=str(exc))
            await self._alarm.sleep(HOLD_CHECK_EVERY.total_seconds())

    async def check_once(self) -> frozenset[str]:
        """Close what is held too long now; the symbols it closed."""
        now = self._clock.now()
        session = self._calendar.session(now.astimezone(EXCHANGE_TZ).date())
        if session is None or not session.open <= now < session.close:
            return frozenset()
        held = {p.symbol for p in await self._broker.list_positions() if p.qty != 0}
        if not held:
            return frozenset()
        opened = position_opened_at(await self._broker.get_fills(session.open - timedelta(days=1)))
        expired = frozenset(s for s in held if s in opened and now - opened[s] >= self._max_hold)
        if not expired:
            return frozenset()
        message = f"closing positions held longer than {self._max_hold}: {sorted(expired)}"
        log.warning(message)
        await self._journal.record_risk_event(
            RiskEventKind.MAX_HOLD_TIME, Severity.WARNING, message, now
        )
        await self._flattener.close_symbols(expired, max_hold_purpose(now), deadline=session.close)
        return expired
