"""The scan cycle: the pure stages called in sequence, with the broker and the journal around them.

The scan (`catalyst.tasks.funnel_scan`: universe → most active → catalysts → patterns and
technicals → rank → floor and top N) → bracket sizing → pre-trade risk checks → bracket orders.
Each cycle is recorded in `trading_cycles` (with its funnel: how many symbols survived each
stage, and the universe's skip counts) and `scan_results` (one row per symbol per stage it
reached, `catalyst.tasks.stage_rows`). A `scan_only` session stops after the scan: the cycle and
its candidates are recorded, and nothing is ever ordered. A `supervised` session goes through
sizing and the risk checks as an autonomous one does, then journals each entry it would place as
a pending proposal (`catalyst.domain.proposals`) instead of sending it; a person approves it and
`catalyst.tasks.approvals` checks it again and sends it, or it expires unsent.

A cycle's id is derived from its scheduled time (`20261124-0930`), so a restarted daemon that fires
the same scan again recognises it, and every order's client_order_id (derived from the cycle id)
is the same as the first time: the journal refuses the duplicate instead of the broker.

While the journal is unavailable a cycle is skipped (or, mid-way, fails): no entry is sent whose
intent cannot be journaled first. The failed cycle's record is written when the database is back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import structlog

from catalyst.config.models import SessionMode, Settings
from catalyst.domain.decisions import Approved, Rejected
from catalyst.domain.errors import JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FunnelStage
from catalyst.domain.models import Asset
from catalyst.domain.plans import TradePlan
from catalyst.domain.proposals import EntryProposal
from catalyst.execution.submitter import OrderSubmitter
from catalyst.notify import events
from catalyst.ops.pause_flag import PauseFlag
from catalyst.pipeline.candidates import Candidate
from catalyst.pipeline.sizing import plan_bracket, priced_at_limit
from catalyst.pipeline.universe import with_sectors
from catalyst.ports import Broker, Clock, Notifier
from catalyst.risk.rules import check_all
from catalyst.store.records import CycleStart, CycleStatus
from catalyst.store.repository import Store
from catalyst.tasks.entries import late_block_reason, place_bracket, read_book
from catalyst.tasks.funnel_scan import FunnelScan
from catalyst.tasks.stage_rows import StageRow, bracket_fields, candidate_row, to_records
from catalyst.timekeeping.calendar import SessionCalendar
from catalyst.timekeeping.day_plan import DayPlan, plan_for

log = structlog.get_logger(__name__)

SCAN_ONLY_REASON = "scan_only session: nothing is ordered"
# A scan taking more than this share of its interval (the time to the next scan of the day, or
# to the close after the last) is logged: prices have moved under it.
CYCLE_BUDGET_SHARE = 0.25


def cycle_id_for(fire_time: datetime) -> str:
    """The id of the cycle scheduled at `fire_time`: its exchange-local minute, `20261124-0930`."""
    return f"{fire_time.astimezone(EXCHANGE_TZ):%Y%m%d-%H%M}"


@dataclass(frozen=True, slots=True)
class CycleReport:
    """What one cycle did, for the summary log line and the demo's report."""

    cycle_id: str
    scan_type: str
    funnel: Mapping[str, int]
    placed: tuple[str, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
    skipped_reason: str | None = None
    proposed: tuple[str, ...] = ()  # supervised: the ids of the proposals journaled


class ScanCycle:
    """Runs scan cycles. One instance per daemon; cycles never overlap (the caller serialises)."""

    def __init__(
        self,
        *,
        broker: Broker,
        store: Store,
        clock: Clock,
        calendar: SessionCalendar,
        settings: Settings,
        submitter: OrderSubmitter,
        pause_flag: PauseFlag,
        entries_stopped: Callable[[], bool],
        on_proposed: Callable[[], None] = lambda: None,
        notifier: Notifier | None = None,
    ) -> None:
        self._broker = broker
        self._on_proposed = on_proposed  # supervised: the approval watch looks at once
        self._notifier = notifier  # supervised: a person is told what waits for them
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._settings = settings
        self._submitter = submitter
        self._pause_flag = pause_flag
        self._entries_stopped = entries_stopped
        self._assets_day: date | None = None
        self._assets: tuple[Asset, ...] = ()
        self._funnel = FunnelScan(broker=broker, calendar=calendar, settings=settings)

    def update_settings(self, settings: Settings) -> None:
        """Use `settings` from the next cycle on (config reload)."""
        if settings.sector_overrides != self._settings.sector_overrides:
            self._assets_day = None  # re-read the assets so the new sectors apply today
        self._settings = settings
        self._funnel.update_settings(settings)

    async def run_scheduled(
        self, fire_time: datetime, triggered_by: str = "schedule"
    ) -> CycleReport:
        """Run the cycle scheduled at `fire_time` (once: a re-fired cycle id is skipped);
        skipped while the journal is unavailable."""
        try:
            return await self._run_scheduled(fire_time, triggered_by)
        except JournalUnavailable as exc:
            cycle_id = cycle_id_for(fire_time)
            log.error(
                "scan skipped: journal unavailable, so no entry could be journaled",
                cycle_id=cycle_id,
                error=str(exc),
            )
            return CycleReport(cycle_id, "none", {}, skipped_reason="journal unavailable")

    async def _run_scheduled(self, fire_time: datetime, triggered_by: str) -> CycleReport:
        cycle_id = cycle_id_for(fire_time)
        session = self._calendar.session(fire_time.astimezone(EXCHANGE_TZ).date())
        if session is None:
            return CycleReport(cycle_id, "none", {}, skipped_reason="market closed today")
        if await self._store.get_cycle(cycle_id) is not None:
            log.warning("cycle already recorded; not running it again", cycle_id=cycle_id)
            return CycleReport(cycle_id, "none", {}, skipped_reason="cycle already ran")
        plan = plan_for(session, self._settings.trading)
        started = self._clock.now()
        await self._store.start_cycle(
            await self._cycle_start(cycle_id, session.day, triggered_by, started)
        )
        with structlog.contextvars.bound_contextvars(cycle_id=cycle_id):
            try:
                report = await self._run(cycle_id, plan)
            except Exception as exc:
                log.exception("cycle failed", error=str(exc))
                finished_at = self._clock.now()
                error = f"{type(exc).__name__}: {exc}"
                await self._store.write_or_defer(
                    f"failed cycle {cycle_id}",
                    lambda: self._store.finish_cycle(
                        cycle_id,
                        status=CycleStatus.FAILED,
                        scan_completed_at=None,
                        finished_at=finished_at,
                        candidates_identified=0,
                        trades_executed=0,
                        funnel={},
                        error_message=error,
                    ),
                )
                return CycleReport(cycle_id, "failed", {}, skipped_reason=str(exc))
            elapsed = (self._clock.now() - started).total_seconds()
            log.info(
                "cycle summary",
                scan_type=report.scan_type,
                funnel=dict(report.funnel),
                placed=list(report.placed),
                proposed=list(report.proposed),
                rejected=len(report.rejected),
                seconds=round(elapsed, 3),
            )
            budget = CYCLE_BUDGET_SHARE * _interval_after(plan, fire_time).total_seconds()
            if elapsed > budget:
                log.warning(
                    "cycle overran its budget",
                    seconds=round(elapsed, 3),
                    budget_seconds=budget,
                )
            return report

    async def record_missed(self, fire_time: datetime, reason: str) -> None:
        """Journal the cycle scheduled at `fire_time` as missed (it never ran and never will)."""
        day = fire_time.astimezone(EXCHANGE_TZ).date()
        cycle = await self._cycle_start(cycle_id_for(fire_time), day, "schedule", self._clock.now())
        await self._store.record_missed_cycle(cycle, reason=reason)

    async def _cycle_start(
        self, cycle_id: str, day: date, triggered_by: str, at: datetime
    ) -> CycleStart:
        return CycleStart(
            cycle_id=cycle_id,
            cycle_date=day,
            cycle_number=await self._store.next_cycle_number(day),
            session_mode=self._settings.trading.trading_session.mode.value,
            triggered_by=triggered_by,
            started_at=at,
        )

    async def _run(self, cycle_id: str, plan: DayPlan) -> CycleReport:
        now = self._clock.now()
        scan_type = scan_type_at(plan, now)
        scan = await self._funnel.scan(plan, now, await self._universe(plan.session.day))
        scan_completed = self._clock.now()
        trade = _TradeOutcome()
        reason = entry_block_reason(self._settings.trading.trading_session.mode, plan, now)
        if reason is None:
            trade = await self._trade(cycle_id, plan, scan.selected)
        else:
            trade.rejected = {c.symbol: reason for c in scan.selected}
        scan.funnel["rejected_by_risk"] = len(trade.rejected)
        if self._settings.trading.trading_session.mode == SessionMode.SUPERVISED:
            scan.funnel["proposed"] = len(trade.proposed)
        scan.funnel["orders_placed"] = len(trade.placed)
        rows = scan.rows + _risk_rows(scan.selected, trade)
        await self._store.record_scan_results(
            to_records(rows, cycle_id=cycle_id, at=now, scan_type=scan_type, volumes=scan.volumes)
        )
        await self._store.finish_cycle(
            cycle_id,
            status=CycleStatus.COMPLETED,
            scan_completed_at=scan_completed,
            finished_at=self._clock.now(),
            candidates_identified=len(scan.selected),
            trades_executed=len(trade.placed),
            funnel=scan.funnel,
            skipped=scan.skipped,
        )
        return CycleReport(
            cycle_id,
            scan_type,
            scan.funnel,
            tuple(trade.placed),
            tuple(trade.rejected.items()),
            proposed=tuple(trade.proposed.values()),
        )

    async def _universe(self, day: date) -> tuple[Asset, ...]:
        if self._assets_day != day:
            self._assets = with_sectors(
                await self._broker.list_assets(), self._settings.sector_overrides
            )
            await self._store.upsert_securities(self._assets, self._clock.now())
            self._assets_day = day
        return self._assets

    async def _trade(
        self, cycle_id: str, plan: DayPlan, selected: Sequence[Candidate]
    ) -> _TradeOutcome:
        limits = self._settings.risk.risk_limits
        account, book = await read_book(
            broker=self._broker,
            store=self._store,
            clock=self._clock,
            settings=self._settings,
            plan=plan,
            pause_flag=self._pause_flag,
            sectors={a.symbol: a.sector for a in self._assets},
        )
        outcome = _TradeOutcome()
        plans: list[TradePlan] = []
        for candidate in selected:
            sized = plan_bracket(
                priced_at_limit(candidate),
                account_equity=account.equity,
                buying_power=account.buying_power,
                limits=limits,
                workflow=self._settings.trading.workflow,
            )
            if isinstance(sized, Rejected):
                outcome.rejected[candidate.symbol] = sized.reason
            else:
                plans.append(sized)
                outcome.plans[sized.symbol] = sized
        for trade, decision in check_all(plans, book, limits):
            if not isinstance(decision, Approved):
                outcome.rejected[trade.symbol] = f"{decision.rule}: {decision.reason}"
                continue
            blocked = await late_block_reason(
                entries_stopped=self._entries_stopped,
                pause_flag=self._pause_flag,
                store=self._store,
            )
            if blocked is not None:
                outcome.rejected[trade.symbol] = blocked
                continue
            if self._settings.trading.trading_session.mode == SessionMode.SUPERVISED:
                await self._propose(cycle_id, plan, trade, selected, outcome)
                continue
            failure = await place_bracket(
                broker=self._broker,
                submitter=self._submitter,
                clock=self._clock,
                cycle_id=cycle_id,
                trade=trade,
            )
            if failure is None:
                outcome.placed.append(trade.symbol)
            else:
                outcome.rejected[trade.symbol] = failure
        if outcome.proposals and self._notifier is not None:
            await self._notifier.alert(
                events.entries_proposed(outcome.proposals, self._clock.now())
            )
        return outcome

    async def _propose(
        self,
        cycle_id: str,
        plan: DayPlan,
        trade: TradePlan,
        selected: Sequence[Candidate],
        outcome: _TradeOutcome,
    ) -> None:
        # Supervised: journal what would be sent; a person decides, the approval watch sends.
        now = self._clock.now()
        minutes = self._settings.trading.trading_session.proposal_expiry_minutes
        reasons = next((c.reasons for c in selected if c.symbol == trade.symbol), ())
        proposal = await self._store.record_proposal(
            EntryProposal.for_plan(
                trade,
                cycle_id=cycle_id,
                reasons=reasons,
                created_at=now,
                # Never later than the entry cutoff: nothing is entered after it, approved or not.
                expires_at=min(now + timedelta(minutes=minutes), plan.entry_cutoff),
            )
        )
        if proposal is None:
            log.error(
                "proposal id already taken by another proposal; not proposed", symbol=trade.symbol
            )
            outcome.rejected[trade.symbol] = "proposal id collision: not proposed"
            return
        log.info(
            "entry proposed; waiting for a person",
            proposal_id=proposal.proposal_id,
            symbol=trade.symbol,
            expires_at=proposal.expires_at.isoformat(),
        )
        outcome.proposed[trade.symbol] = proposal.proposal_id
        outcome.proposals.append(proposal)
        self._on_proposed()


def _interval_after(plan: DayPlan, fire_time: datetime) -> timedelta:
    later = [when for when in plan.scan_times if when > fire_time]
    return (min(later) if later else plan.session.close) - fire_time


@dataclass
class _TradeOutcome:
    """What the trading half of a cycle did with the selected candidates."""

    placed: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # symbol -> why not
    proposed: dict[str, str] = field(default_factory=dict)  # supervised: symbol -> proposal id
    proposals: list[EntryProposal] = field(default_factory=list)  # supervised: as journaled
    plans: dict[str, TradePlan] = field(default_factory=dict)  # sized, by symbol


def _risk_rows(selected: Sequence[Candidate], trade: _TradeOutcome) -> list[StageRow]:
    """The risk and order stages' rows: each pick with its sized bracket and what became of it."""
    rows: list[StageRow] = []
    for rank, candidate in enumerate(selected, start=1):
        sized = trade.plans.get(candidate.symbol)
        plan = bracket_fields(sized) if sized is not None else None
        placed = candidate.symbol in trade.placed
        proposed = trade.proposed.get(candidate.symbol)
        reason = trade.rejected.get(candidate.symbol)
        if proposed is not None:
            reason = f"proposed as {proposed}: waiting for `catalyst approve {proposed}`"
        row = replace(
            candidate_row(
                FunnelStage.RISK,
                candidate,
                rank,
                kept=placed or proposed is not None,
                reason=reason,
            ),
            plan=plan,
            final=placed,
        )
        rows.append(row)
        if placed:
            rows.append(replace(row, stage=FunnelStage.ORDERED, reason=None))
    return rows


def scan_type_at(plan: DayPlan, now: datetime) -> str:
    """The journal's `scan_type` of a scan at `now`: premarket or intraday."""
    return "premarket" if plan.is_premarket(now) else "intraday"


def entry_block_reason(mode: SessionMode, plan: DayPlan, now: datetime) -> str | None:
    """Why a cycle at `now` orders nothing at all, or None when it may enter.

    Decided before any order is sized or checked: a scan_only session never reaches the
    submitter, whatever the clock or the book say.
    """
    if mode == SessionMode.SCAN_ONLY:  # ==: a plain "scan_only" (an unvalidated copy) too
        return SCAN_ONLY_REASON
    if plan.is_premarket(now):
        return "pre-market scan: watch only"
    if not plan.entries_allowed_at(now):
        return f"past the entry cutoff ({plan.entry_cutoff.astimezone(EXCHANGE_TZ):%H:%M})"
    return None
