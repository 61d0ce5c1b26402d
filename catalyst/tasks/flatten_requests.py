"""The operator's flatten request (`catalyst flatten`): acted on within one risk-watch interval.

The request is a file in the state dir (`catalyst.ops.flatten_request`). A fresh one closes
everything and is marked done; one older than its max age was left while no daemon ran (or is
badly dated) and is discarded unacted, never flattening today's book on yesterday's word. Each
step is a risk event in the journal.
"""

from __future__ import annotations

import structlog

from catalyst.config.models import RiskFile
from catalyst.domain.errors import BrokerError, JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.execution.flatten import Flattener
from catalyst.execution.purposes import manual_flatten_purpose
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.ports import Clock
from catalyst.tasks.watch_journal import WatchJournal
from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.calendar import SessionCalendar

log = structlog.get_logger(__name__)


class FlattenRequestWatch:
    """Looks for a flatten request every risk-watch interval and carries it out."""

    def __init__(
        self,
        *,
        request: FlattenRequest,
        clock: Clock,
        calendar: SessionCalendar,
        flattener: Flattener,
        journal: WatchJournal,
        risk: RiskFile,
    ) -> None:
        self._request = request
        self._clock = clock
        self._calendar = calendar
        self._flattener = flattener
        self._journal = journal
        self._risk = risk
        self._alarm = Alarm(clock, "flatten-request")

    def update_risk(self, risk: RiskFile) -> None:
        """Poll at the new risk-watch interval from now on (config reload)."""
        self._risk = risk
        self._alarm.wake()

    async def run(self) -> None:
        """Look at every interval (cancel to stop)."""
        while True:
            try:
                await self.check_once()
            except (BrokerError, JournalUnavailable) as exc:
                # The request stays pending (it is marked done only once acted on): next interval.
                log.warning("flatten request: not carried out yet; retrying", error=str(exc))
            await self._alarm.sleep(self._risk.emergency_actions.risk_watch_interval_seconds)

    async def check_once(self) -> None:
        """Act on a pending request, if any."""
        request = self._request.pending()
        if request is None:
            return
        now = self._clock.now()
        details = " / ".join(request.detail.splitlines())
        if not request.is_fresh(now, self._request.max_age):
            self._request.done()
            message = (
                f"operator flatten request EXPIRED, not acted on: made "
                f"{request.age(now).total_seconds():.0f} s ago (at "
                f"{request.requested_at.isoformat()}), max age "
                f"{self._request.max_age.total_seconds():.0f} s: {details}"
            )
            log.warning(message)
            await self._journal.record_risk_event(
                RiskEventKind.MANUAL_FLATTEN_EXPIRED, Severity.WARNING, message, now
            )
            return
        message = "operator requested flatten: " + details
        log.warning(message)
        await self._journal.record_risk_event(
            RiskEventKind.MANUAL_FLATTEN, Severity.WARNING, message, now
        )
        session = self._calendar.session(now.astimezone(EXCHANGE_TZ).date())
        result = await self._flattener.flatten_all(
            manual_flatten_purpose(now), deadline=session.close if session else None
        )
        self._request.done()
        await self._journal.record_risk_event(
            RiskEventKind.MANUAL_FLATTEN_DONE,
            Severity.INFO if result.flat else Severity.CRITICAL,
            "flat" if result.flat else f"NOT flat: {list(result.remaining)}",
            self._clock.now(),
        )
