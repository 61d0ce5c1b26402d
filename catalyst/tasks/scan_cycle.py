"""The scan cycle: the pure stages called in sequence, with the broker and the journal around them.

universe → most active → catalyst score → top N above the confidence floor → bracket sizing →
pre-trade risk checks → bracket orders. Each cycle is recorded in `trading_cycles` (with its
funnel: how many symbols survived each stage) and `scan_results`. A `scan_only` session stops
after the scan: the cycle and its candidates are recorded, and nothing is ever ordered.

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
from decimal import Decimal

import structlog

from catalyst.config.models import SessionMode, Settings
from catalyst.domain.decisions import Approved, Rejected
from catalyst.domain.errors import JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import Asset, Bar, BracketSpec, LegRole, OrderRequest, OrderType, Side
from catalyst.domain.plans import TradePlan
from catalyst.domain.ticks import round_down_to_tick, round_up_to_tick
from catalyst.execution.order_ids import client_order_id
from catalyst.execution.submitter import OrderSubmitter, Outcome
from catalyst.ops.pause_flag import PauseFlag
from catalyst.pipeline.candidates import Candidate, StageRejection
from catalyst.pipeline.most_active import most_active
from catalyst.pipeline.scoring import score_catalysts
from catalyst.pipeline.selection import select_top
from catalyst.pipeline.sizing import plan_bracket
from catalyst.pipeline.universe import SkipReason, count_by_reason, screen_assets, screen_snapshots
from catalyst.ports import Broker, Clock
from catalyst.risk.cooldown import cooling_down
from catalyst.risk.exposure import open_risk
from catalyst.risk.rules import BookState, check_all
from catalyst.store.records import CycleStart, CycleStatus, OrderIntent, ScanResultRecord
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import SessionCalendar
from catalyst.timekeeping.day_plan import DayPlan, plan_for

log = structlog.get_logger(__name__)

PREMARKET_QUOTE_AGE = timedelta(days=5)  # before the open the last trade is the previous session's
SESSION_QUOTE_AGE = timedelta(minutes=10)
NEWS_LOOKBACK = timedelta(hours=24)
AVERAGE_VOLUME_DAYS = 20
SCAN_ONLY_REASON = "scan_only session: nothing is ordered"
ENTRY_LIMIT_MARKUP = Decimal("1.002")  # entry limit 0.2 % above the last trade
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


@dataclass
class _Scan:
    candidates: list[Candidate]
    selected: tuple[Candidate, ...]
    volumes: dict[str, int] = field(default_factory=dict)
    funnel: dict[str, int] = field(default_factory=dict)


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
    ) -> None:
        self._broker = broker
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._settings = settings
        self._submitter = submitter
        self._pause_flag = pause_flag
        self._entries_stopped = entries_stopped
        self._assets_day: date | None = None
        self._assets: tuple[Asset, ...] = ()
        # Last prices seen today: the asset screen skips symbols far outside the price band
        # before asking for their snapshots again.
        self._known_prices: dict[str, Decimal] = {}

    def update_settings(self, settings: Settings) -> None:
        """Use `settings` from the next cycle on (config reload)."""
        if settings.sector_overrides != self._settings.sector_overrides:
            self._assets_day = None  # re-read the assets so the new sectors apply today
        self._settings = settings

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
                        status=CycleStatus.FAILED.value,
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
        scan_type = "premarket" if plan.is_premarket(now) else "intraday"
        scan = await self._scan(plan, now)
        scan_completed = self._clock.now()
        placed: list[str] = []
        rejected: list[tuple[str, str]] = []
        reason = self._entry_block_reason(plan, now)
        if reason is None:
            placed, rejected = await self._trade(cycle_id, plan, scan.selected)
        elif scan.selected:
            rejected = [(c.symbol, reason) for c in scan.selected]
        scan.funnel["rejected_by_risk"] = len(rejected)
        scan.funnel["orders_placed"] = len(placed)
        await self._record_scan(cycle_id, scan_type, now, scan, dict(rejected))
        await self._store.finish_cycle(
            cycle_id,
            status=CycleStatus.COMPLETED.value,
            scan_completed_at=scan_completed,
            finished_at=self._clock.now(),
            candidates_identified=len(scan.selected),
            trades_executed=len(placed),
            funnel=scan.funnel,
        )
        return CycleReport(cycle_id, scan_type, scan.funnel, tuple(placed), tuple(rejected))

    def _entry_block_reason(self, plan: DayPlan, now: datetime) -> str | None:
        # Decided before any order is sized or checked: a scan_only session never reaches the
        # submitter, whatever the clock or the book say.
        if self._settings.trading.trading_session.mode is SessionMode.SCAN_ONLY:
            return SCAN_ONLY_REASON
        if plan.is_premarket(now):
            return "pre-market scan: watch only"
        if not plan.entries_allowed_at(now):
            return "past the entry cutoff"
        return None

    async def _scan(self, plan: DayPlan, now: datetime) -> _Scan:
        workflow = self._settings.trading.workflow
        assets = await self._universe(plan.session.day)
        band = (workflow.min_price, workflow.max_price)
        listed = screen_assets(assets, known_prices=self._known_prices, price_band=band)
        snapshots = await self._broker.get_snapshots([a.symbol for a in listed.kept])
        self._known_prices.update((s, snap.last_price) for s, snap in snapshots.items())
        premarket = plan.is_premarket(now)
        universe = screen_snapshots(
            listed.kept,
            snapshots,
            min_price=workflow.min_price,
            max_price=workflow.max_price,
            now=now,
            max_quote_age=PREMARKET_QUOTE_AGE if premarket else SESSION_QUOTE_AGE,
        )
        skipped = listed.rejected + universe.rejected
        _log_universe(len(assets), len(listed.kept), len(universe.kept), skipped)
        active = most_active(
            universe.kept,
            workflow.most_active_count,
            session_fraction=_session_fraction(plan, now),
            premarket=premarket,
        )
        symbols = [m.symbol for m in active.kept]
        daily = await self._broker.get_daily_bars(symbols, AVERAGE_VOLUME_DAYS)
        news = await self._broker.get_news(symbols, now - NEWS_LOOKBACK)
        candidates = score_catalysts(
            active.kept,
            avg_daily_volume=_average_volumes(daily),
            news=news,
            session_fraction_elapsed=_session_fraction(plan, now),
        )
        selected = select_top(
            candidates, n=workflow.execute_top_n, min_confidence=workflow.min_confidence_score
        )
        funnel = {
            "universe": len(assets),
            "snapshots_requested": len(listed.kept),
            "screened": len(universe.kept),
            "most_active": len(active.kept),
            "scored": len(candidates),
            "selected": len(selected.kept),
        }
        volumes = {m.symbol: m.snapshot.day_volume for m in active.kept}
        return _Scan(candidates, selected.kept, volumes, funnel)

    async def _universe(self, day: date) -> tuple[Asset, ...]:
        if self._assets_day != day:
            overrides = self._settings.sector_overrides
            self._assets = tuple(
                replace(a, sector=overrides[a.symbol]) if a.symbol in overrides else a
                for a in await self._broker.list_assets()
            )
            await self._store.upsert_securities(self._assets, self._clock.now())
            self._assets_day = day
            self._known_prices = {}
        return self._assets

    async def _trade(
        self, cycle_id: str, plan: DayPlan, selected: Sequence[Candidate]
    ) -> tuple[list[str], list[tuple[str, str]]]:
        limits = self._settings.risk.risk_limits
        account = await self._broker.get_account()
        positions = await self._broker.list_positions()
        open_orders = await self._broker.list_open_orders()
        start_equity = await self._store.get_or_set_day_start_equity(
            plan.session.day, account.last_equity
        )
        state = await self._store.get_trading_state()
        stop_outs = await self._store.stop_outs_for_day(plan.session.day)
        sectors = {a.symbol: a.sector for a in self._assets}
        book = BookState(
            equity=account.equity,
            buying_power=account.buying_power,
            positions=positions,
            open_entry_symbols=frozenset(o.symbol for o in open_orders),
            sectors=sectors,
            day_pnl=account.equity - start_equity,
            trading_halted=state.is_halted,
            paused=self._pause_flag.is_set(),
            entries_allowed_now=plan.entries_allowed_at(self._clock.now()),
            open_risk=open_risk(
                positions,
                open_orders,
                Decimal(str(self._settings.trading.workflow.stop_loss_pct)),
            ),
            cooling_down=cooling_down(
                stop_outs, self._clock.now(), limits.stop_out_cooldown_minutes
            ),
        )
        rejected: list[tuple[str, str]] = []
        plans: list[TradePlan] = []
        for candidate in selected:
            sized = plan_bracket(
                _priced_at_limit(candidate),
                account_equity=account.equity,
                buying_power=account.buying_power,
                limits=limits,
                workflow=self._settings.trading.workflow,
            )
            if isinstance(sized, Rejected):
                rejected.append((candidate.symbol, sized.reason))
            else:
                plans.append(sized)
        placed: list[str] = []
        for trade, decision in check_all(plans, book, limits):
            if not isinstance(decision, Approved):
                rejected.append((trade.symbol, f"{decision.rule}: {decision.reason}"))
                continue
            blocked = await self._late_block_reason()
            if blocked is not None:
                rejected.append((trade.symbol, blocked))
                continue
            outcome = await self._place_bracket(cycle_id, trade)
            if outcome is None:
                placed.append(trade.symbol)
            else:
                rejected.append((trade.symbol, outcome))
        return placed, rejected

    async def _late_block_reason(self) -> str | None:
        # Re-checked right before each send: the risk-watch may have halted mid-cycle.
        if self._entries_stopped():
            return "daemon stopping"
        if self._pause_flag.is_set():
            return "paused"
        if (await self._store.get_trading_state()).is_halted:
            return "halted"
        return None

    async def _place_bracket(self, cycle_id: str, trade: TradePlan) -> str | None:
        request = OrderRequest(
            client_order_id=client_order_id(cycle_id, trade.symbol, "entry"),
            symbol=trade.symbol,
            side=Side.BUY,
            qty=trade.qty,
            type=OrderType.LIMIT,
            limit_price=trade.entry_price,
            bracket=BracketSpec(
                take_profit_limit=trade.target_price, stop_loss_stop=trade.stop_price
            ),
        )
        intent = OrderIntent.from_request(
            request, role=LegRole.ENTRY, created_at=self._clock.now(), cycle_id=cycle_id
        )
        result = await self._submitter.place(intent, lambda: self._broker.submit_order(request))
        if result.outcome is Outcome.PLACED:
            return None
        return f"{result.outcome.value}: {result.reason}"

    async def _record_scan(
        self,
        cycle_id: str,
        scan_type: str,
        now: datetime,
        scan: _Scan,
        rejected: Mapping[str, str],
    ) -> None:
        selected = {c.symbol for c in scan.selected}
        ranked = sorted(scan.candidates, key=lambda c: (-c.confidence, c.symbol))
        await self._store.record_scan_results(
            [
                ScanResultRecord(
                    cycle_id=cycle_id,
                    symbol=c.symbol,
                    scan_timestamp=now,
                    price_at_scan=c.last_price,
                    volume_at_scan=scan.volumes.get(c.symbol, 0),
                    rank_in_scan=rank,
                    scan_type=scan_type,
                    composite_score=c.confidence,
                    final_candidate=c.symbol in selected and c.symbol not in rejected,
                    reject_reason=rejected.get(c.symbol),
                )
                for rank, c in enumerate(ranked, start=1)
            ]
        )


def _log_universe(
    listed: int, requested: int, screened: int, skipped: Sequence[StageRejection]
) -> None:
    """One INFO line with the counts per reason; the symbols themselves only at DEBUG (a real
    asset list skips over a thousand symbols per cycle)."""
    bad = [r for r in skipped if isinstance(r.kind, SkipReason) and r.kind.is_bad_data]
    log.info(
        "universe screened",
        assets=listed,
        snapshots_requested=requested,
        screened=screened,
        bad_data=len(bad),
        skipped=count_by_reason(skipped),
    )
    for rejection in bad:
        log.debug(
            "bad market data; symbol skipped",
            symbol=rejection.symbol,
            reason=rejection.reason,
            stage="universe",
        )


def _priced_at_limit(candidate: Candidate) -> Candidate:
    """The candidate priced at its entry limit: the worst price Catalyst will pay.

    Entries are marketable limit orders, so the fill can never be above the price the position
    was sized, stopped and risk-checked at (a market order could slip past every limit).
    """
    limit = round_down_to_tick(candidate.last_price * ENTRY_LIMIT_MARKUP)
    if limit < candidate.last_price:
        limit = round_up_to_tick(candidate.last_price)
    return replace(candidate, last_price=limit)


def _average_volumes(daily: Mapping[str, Sequence[Bar]]) -> dict[str, float]:
    return {
        symbol: sum(bar.volume for bar in bars) / len(bars)
        for symbol, bars in daily.items()
        if bars
    }


def _interval_after(plan: DayPlan, fire_time: datetime) -> timedelta:
    later = [when for when in plan.scan_times if when > fire_time]
    return (min(later) if later else plan.session.close) - fire_time


def _session_fraction(plan: DayPlan, now: datetime) -> float:
    total = (plan.session.close - plan.session.open).total_seconds()
    elapsed = (now - plan.session.open).total_seconds()
    return min(max(elapsed / total, 0.0), 1.0)
