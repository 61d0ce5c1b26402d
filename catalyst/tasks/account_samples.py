"""The equity curve: the broker's account as the risk-watch reads it, sampled into the journal.

The risk-watch reads the account every few seconds; keeping each reading would write ~15,000
rows a day. One a minute while the exchange is open is enough for an intraday curve (the daily
report's chart and drawdown, the dashboard) and for `catalyst status`'s account figures; outside
the session the account only moves by a person's hand, so one every 15 minutes says it is alive.
A sample is not a fact the journal owes anyone: while the database is down it is skipped (a gap
in the curve), never queued behind the halt and the risk events in the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from catalyst.domain.errors import JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import Account
from catalyst.store.records import AccountSnapshotRecord
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import SessionCalendar

log = structlog.get_logger(__name__)

SAMPLE_EVERY_IN_SESSION = timedelta(minutes=1)
SAMPLE_EVERY_OUT_OF_SESSION = timedelta(minutes=15)


class AccountSamples:
    """Decides which of the risk-watch's account readings go into the journal, and writes them."""

    def __init__(self, store: Store, calendar: SessionCalendar) -> None:
        self._store = store
        self._calendar = calendar
        self._last_at: datetime | None = None

    def is_due(self, now: datetime) -> bool:
        """Whether a reading taken at `now` is the next sample (the first one always is)."""
        if self._last_at is None or now < self._last_at:
            return True
        session = self._calendar.session(now.astimezone(EXCHANGE_TZ).date())
        in_session = session is not None and session.open <= now <= session.close
        every = SAMPLE_EVERY_IN_SESSION if in_session else SAMPLE_EVERY_OUT_OF_SESSION
        return now - self._last_at >= every

    async def offer(self, account: Account, day_start_equity: Decimal, now: datetime) -> bool:
        """Journal this reading if it is due; True when it was written."""
        if not self.is_due(now):
            return False
        snapshot = AccountSnapshotRecord(
            at=now,
            equity=account.equity,
            cash=account.cash,
            buying_power=account.buying_power,
            day_start_equity=day_start_equity,
        )
        try:
            await self._store.record_account_snapshot(snapshot)
        except JournalUnavailable:
            log.debug("account snapshot skipped: journal unavailable", at=now.isoformat())
            return False
        self._last_at = now
        return True
