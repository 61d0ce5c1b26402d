"""The risk-watch: a concurrent task that measures the day's P&L and pulls the emergency stop.

Day P&L is the broker's equity minus the day's starting equity (the broker's `last_equity`, stored
the first time it is seen each day so a restart measures against the same number): realised plus
unrealised, never "since the daemon started".

- at `warning_threshold_pct` of the limit: one warning alert per day (recorded in the database);
- at the limit: the emergency stop. HALTED is latched in the database *first*, so the pipeline can
  no longer enter, then every order is cancelled and every position closed until the broker
  reports flat, and a person is alerted. Only `catalyst resume --ack` lifts the halt.

Once the emergency stop has left the book as it demands (flat, or without open orders when it only
cancels) and the halt is latched, the watch *stands*: it no longer repeats the flatten on every
tick (that was ~120 requests a minute for the rest of the day), but every `HALTED_CHECK_EVERY`, or
at once when a fill is pushed (`wake()`), it measures the loss and lists positions and open orders,
and acts only when something appeared (a late fill, a manual trade): flattened again at once. A
daemon restarted while halted by the emergency stop stands from its first tick (one check, no
flatten unless something is there); a person's `resume --ack` ends it. A halt a person latched by
hand does not stand (the positions it keeps are measured every interval, as before).

A database outage never stops the watch: the loss is measured from the broker alone (the day's
starting equity is cached), the emergency stop runs at the broker, and what it journals waits in
the store's outbox until the database is back (see `catalyst.tasks.watch_journal`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import structlog

from catalyst.config.models import RiskFile
from catalyst.domain.errors import BrokerError, JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.execution.flatten import Flattener, FlattenResult
from catalyst.execution.purposes import emergency_purpose, halted_exposure_purpose
from catalyst.notify import events
from catalyst.ports import Broker, Clock, Notifier
from catalyst.risk.daily_loss import LossLevel, evaluate_daily_loss
from catalyst.store.repository import Store
from catalyst.tasks.account_samples import AccountSamples
from catalyst.tasks.watch_journal import WatchJournal
from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.calendar import SessionCalendar

log = structlog.get_logger(__name__)

RISK_WATCH_ACTOR = "risk-watch"
OUTAGE_ALERT_AFTER = timedelta(minutes=1)
# While standing: 3 requests (account, positions, open orders) per check, 12 a minute, and the
# bound on closing a position that appears unannounced (a pushed fill is acted on at once).
HALTED_CHECK_EVERY = timedelta(seconds=15)


class RiskWatch:
    """Checks the daily loss every few seconds; latches the halt and flattens at the limit.

    Its siblings `MaxHoldWatch` and `FlattenRequestWatch` close positions for other reasons;
    the flattener's lock keeps their closes from overlapping.
    """

    def __init__(
        self,
        *,
        broker: Broker,
        store: Store,
        clock: Clock,
        calendar: SessionCalendar,
        risk: RiskFile,
        flattener: Flattener,
        notifier: Notifier,
        journal: WatchJournal,
    ) -> None:
        self._broker = broker
        self._store = store
        self._journal = journal  # writes that wait out a database outage
        self._clock = clock
        self._calendar = calendar
        self._risk = risk
        self._flattener = flattener
        self._notifier = notifier
        self._account_samples = AccountSamples(store, calendar)  # the day's equity curve
        self._start_equity: tuple[date, Decimal] | None = None
        self._alarm = Alarm(clock, "risk-watch")
        self.last_check: datetime | None = None
        self.last_beat: datetime | None = None
        self._broker_down_since: datetime | None = None
        self._outage_alerted = False
        self.last_level: LossLevel = LossLevel.OK
        self._halt_adopted = False  # has the first tick looked for a halt from a previous life?
        self.standing = False  # halted by the emergency stop, the book as it demands
        self._next_standing_check: datetime | None = None  # None: check at the next tick
        self._exposure_reported: frozenset[str] = frozenset()

    def update_risk(self, risk: RiskFile) -> None:
        """Use new limits and check interval from now on (config reload)."""
        self._risk = risk
        self._alarm.wake()  # check against the new limits now, and sleep the new interval

    async def run(self) -> None:
        """Check forever at the configured interval, or at once after `wake()` (cancel to stop)."""
        while True:
            interval = self._risk.emergency_actions.risk_watch_interval_seconds
            try:
                if not self._halt_adopted:
                    await self._adopt_emergency_halt()
                if self.standing:
                    await self._stand()
                else:
                    await self.check_once()
            except BrokerError as exc:
                await self._broker_unavailable(exc)
            except JournalUnavailable as exc:
                # The store has logged the outage; the next beat measures again from the broker.
                log.warning("risk-watch: journal unavailable during this check", error=str(exc))
            else:
                await self._broker_recovered()
            # The heartbeat says the loop runs, not that the broker answers: systemd's watchdog
            # restarts a stuck daemon, not one waiting out a broker outage.
            self.last_beat = self._clock.now()
            await self._alarm.sleep(interval)

    async def _broker_unavailable(self, exc: BrokerError) -> None:
        now = self._clock.now()
        if self._broker_down_since is None:
            self._broker_down_since = now
            self._outage_alerted = False
            log.warning(
                "risk-watch: broker unavailable; the daily loss cannot be measured", error=str(exc)
            )
        elif not self._outage_alerted and now - self._broker_down_since >= OUTAGE_ALERT_AFTER:
            self._outage_alerted = True
            message = f"broker unreachable since {self._broker_down_since.isoformat()}: {exc}"
            log.error("risk-watch: broker outage", error=str(exc))
            await self._journal.record_risk_event(
                RiskEventKind.BROKER_OUTAGE, Severity.CRITICAL, message, now
            )
            await self._notifier.alert(
                events.dependency_down(
                    "broker", self._broker_down_since, f"{exc}; daily loss not measurable", now
                )
            )

    async def _broker_recovered(self) -> None:
        since = self._broker_down_since
        if since is not None:
            log.info("risk-watch: broker reachable again", since=since.isoformat())
            self._broker_down_since = None
            if self._outage_alerted:
                await self._notifier.alert(
                    events.dependency_back("broker", since, "", self._clock.now())
                )

    def wake(self) -> None:
        """Run the next check now (a fill just happened) instead of at the next interval."""
        self._next_standing_check = None  # a fill while halted: look at the book now
        self._alarm.wake()

    async def check_once(self) -> LossLevel:
        """One measurement; acts on a warning or a breach. Returns the level seen."""
        now = self._clock.now()
        account = await self._broker.get_account()
        day = now.astimezone(EXCHANGE_TZ).date()
        start = await self._day_start_equity(day, account.last_equity)
        day_pnl = account.equity - start
        try:
            level = evaluate_daily_loss(day_pnl, self._risk.risk_limits)
        except ValueError as exc:
            # An unmeasurable loss is treated as a breached one: trading blind is not an option.
            if not self.standing:
                await self.emergency_stop(
                    f"daily P&L cannot be measured: {exc}", day=day, day_pnl=None
                )
            return LossLevel.BREACHED
        self.last_check = now
        self.last_level = level
        if level is LossLevel.WARNING:
            await self._warn(day, day_pnl, now)
        elif level is LossLevel.BREACHED and not self.standing:  # standing: stopped already
            await self.emergency_stop(
                f"daily loss limit reached: day P&L {day_pnl} against a limit of "
                f"-{self._risk.risk_limits.max_daily_loss_usd}",
                day=day,
                day_pnl=day_pnl,
            )
        # After acting: a slow journal write must never delay the emergency stop.
        await self._account_samples.offer(account, start, now)
        return level

    async def _adopt_emergency_halt(self) -> None:
        # A restart while the emergency stop's halt is latched: stand at once, so the new life
        # checks the book once instead of flattening again (or measuring at full rate) all day.
        try:
            state = await self._store.get_trading_state()
        except JournalUnavailable:
            return  # looked at again next tick; the loss is measured meanwhile
        self._halt_adopted = True
        if state.is_halted and state.changed_by == RISK_WATCH_ACTOR:
            log.info("halted by the emergency stop: standing watch", reason=state.reason)
            self.standing = True
            self._next_standing_check = None

    async def _stand(self) -> None:
        now = self._clock.now()
        if self._next_standing_check is not None and now < self._next_standing_check:
            return
        self._next_standing_check = now + HALTED_CHECK_EVERY
        if not await self._still_halted():
            log.info("halt cleared: risk-watch back to checking every interval")
            self.standing = False
            self._exposure_reported = frozenset()
            await self.check_once()
            return
        await self.check_once()  # still measured (and warned about), never stopped twice
        await self._secure_book(now)

    async def _still_halted(self) -> bool:
        try:
            return (await self._store.get_trading_state()).is_halted
        except JournalUnavailable:
            return True  # a resume cannot be read without the journal: keep standing

    async def _secure_book(self, now: datetime) -> None:
        """Close or cancel whatever appeared since the emergency stop (standing only)."""
        actions = self._risk.emergency_actions
        if not (actions.close_all_positions or actions.cancel_open_orders):
            return
        orders = await self._broker.list_open_orders()
        positions = (
            [p for p in await self._broker.list_positions() if p.qty != 0]
            if actions.close_all_positions
            else []
        )
        exposure = frozenset(
            [f"position {p.symbol} {p.qty}" for p in positions]
            + [f"order {o.symbol} {o.side.value} {o.qty}" for o in orders]
        )
        if not exposure:
            self._exposure_reported = frozenset()
            return
        if exposure != self._exposure_reported:  # the same unresolved book is reported once
            self._exposure_reported = exposure
            message = "found while HALTED, closing at once: " + ", ".join(sorted(exposure))
            log.warning(message)
            await self._journal.record_risk_event(
                RiskEventKind.HALTED_EXPOSURE, Severity.CRITICAL, message, now
            )
            await self._notifier.alert(events.halted_exposure(message, now))
        if actions.close_all_positions:
            session = self._calendar.session(now.astimezone(EXCHANGE_TZ).date())
            # A fresh purpose per action: ids of earlier exits for the same symbol are journaled.
            result = await self._flattener.flatten_all(
                halted_exposure_purpose(now), deadline=session.close if session else now
            )
            if result.flat:
                self._exposure_reported = frozenset()
                log.info("flat again while HALTED", closed=list(result.closed_symbols))
        else:
            await self._flattener.cancel_all()

    async def _day_start_equity(self, day: date, broker_last_equity: Decimal) -> Decimal:
        if self._start_equity is None or self._start_equity[0] != day:
            try:
                stored = await self._store.get_or_set_day_start_equity(day, broker_last_equity)
            except JournalUnavailable:
                # What the first read stores anyway: the broker's own previous-close equity.
                return broker_last_equity
            self._start_equity = (day, stored)
        return self._start_equity[1]

    async def _warn(self, day: date, day_pnl: Decimal, now: datetime) -> None:
        if not await self._journal.mark_warning_sent(day, now):
            return
        limit = self._risk.risk_limits.max_daily_loss_usd
        message = f"day P&L {day_pnl} has reached the warning level of the {limit} daily loss limit"
        log.warning("daily loss warning", day_pnl=str(day_pnl), limit=str(limit))
        await self._journal.record_risk_event(
            RiskEventKind.DAILY_LOSS_WARNING,
            Severity.WARNING,
            message,
            now,
            {"day_pnl": str(day_pnl)},
        )
        await self._notifier.alert(
            events.daily_loss_warning(
                day_pnl, limit, self._risk.risk_limits.warning_threshold_pct, now
            )
        )

    async def emergency_stop(
        self, reason: str, *, day: date, day_pnl: Decimal | None = None
    ) -> None:
        """Latch HALTED, cancel and close everything until flat, alert a person (whether the
        broker reports the book flat, not only that closing was tried)."""
        actions = self._risk.emergency_actions
        now = self._clock.now()
        halted_before = await self._journal.is_halted()
        first_time = not halted_before
        if first_time and actions.halt_trading:
            await self._journal.halt(reason, RISK_WATCH_ACTOR, now)
            await self._journal.record_risk_event(
                RiskEventKind.EMERGENCY_STOP, Severity.CRITICAL, reason, now
            )
            log.critical("EMERGENCY STOP: trading halted", reason=reason)
        secured = True
        result: FlattenResult | None = None
        if not actions.close_all_positions and actions.cancel_open_orders:
            await self._flattener.cancel_all()
        if actions.close_all_positions:
            session = self._calendar.session(day)
            result = await self._flattener.flatten_all(
                emergency_purpose(day), deadline=session.close if session else None
            )
            secured = result.flat
            if first_time:
                await self._journal.record_risk_event(
                    RiskEventKind.EMERGENCY_FLATTEN,
                    Severity.CRITICAL if not result.flat else Severity.INFO,
                    "flat after emergency stop" if result.flat else "NOT flat after emergency stop",
                    self._clock.now(),
                    {"closed": list(result.closed_symbols), "remaining": list(result.remaining)},
                )
        # Stand only once the halt holds and the book is as the actions demand: otherwise the
        # next tick measures and tries again.
        if secured and (halted_before or actions.halt_trading):
            self.standing = True
            self._next_standing_check = self._clock.now() + HALTED_CHECK_EVERY
        if first_time and actions.notify:
            await self._notifier.alert(
                events.emergency_stop(
                    reason,
                    day_pnl=day_pnl,
                    limit=self._risk.risk_limits.max_daily_loss_usd,
                    result=result,
                    cancelled_only=actions.cancel_open_orders,
                    at=self._clock.now(),
                )
            )
