"""The scan's I/O shell: fetch, call the pure funnel steps in order, fetch again, and so on.

    assets (cached per day) → asset screen → snapshots → snapshot screen   universe
    → most active → daily history + news for them → catalysts              shortlist
    → today's minute bars for the shortlist → patterns + technicals        off the event loop
    → rank → floor and top N                                                selected

`strategy.kind: catalyst_score` replaces everything after most active with the single catalyst
score Catalyst ranked by before the funnel (kept so the two can be compared, `bench/strategy.py`).
Every stage's candidates come back as `StageRow`s for the journal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import structlog

from catalyst.config.models import Settings
from catalyst.config.strategy import ScanStrategy
from catalyst.domain.funnel import FunnelStage
from catalyst.domain.models import Asset, Bar, NewsItem, Snapshot
from catalyst.pipeline.candidates import Candidate, StageRejection, StageResult, UniverseMember
from catalyst.pipeline.funnel import (
    StrategyParams,
    analyse,
    market_hours_age,
    rank,
    screen_active,
    shortlist,
)
from catalyst.pipeline.scoring import score_catalysts
from catalyst.pipeline.selection import select_top
from catalyst.pipeline.universe import (
    SkipReason,
    count_by_reason,
    most_liquid,
    previous_dollar_volume,
    screen_assets,
    screen_snapshots,
)
from catalyst.ports import Broker
from catalyst.tasks.stage_rows import StageRow, rows_for
from catalyst.timekeeping.calendar import SessionCalendar
from catalyst.timekeeping.day_plan import DayPlan

log = structlog.get_logger(__name__)

PREMARKET_QUOTE_AGE = timedelta(days=5)  # before the open the last trade is the previous session's
SESSION_QUOTE_AGE = timedelta(minutes=10)
AVERAGE_VOLUME_DAYS = 20  # also enough for the 14-day ATR of the stops
# The day's first scan also reads the daily history of the most liquid names (by the previous
# session's dollar volume), this many times `workflow.most_active_count` of them: later scans'
# most active lists are mostly drawn from these, so their newcomers' history is held already (the
# broker adapter keeps it for the day) and a later scan seldom needs a daily-bars request of its
# own. On the simulated 12,000-symbol day the newcomers after 09:30 ranked 200-1,400 by that
# measure; at 12:00, 13:30 and 15:00 all of them under 600.
DAILY_HISTORY_PREFETCH_FACTOR = 3


@dataclass
class ScanOutcome:
    """One scan's funnel: counts per stage, the universe's skips, each stage's rows, the picks."""

    selected: tuple[Candidate, ...]
    funnel: dict[str, int]
    skipped: dict[str, int]
    rows: list[StageRow] = field(default_factory=list)
    volumes: dict[str, int] = field(default_factory=dict)


class FunnelScan:
    """Runs the scan part of a cycle. One per daemon; keeps the day's asset list and prices."""

    def __init__(self, *, broker: Broker, calendar: SessionCalendar, settings: Settings) -> None:
        self._broker = broker
        self._calendar = calendar
        self._settings = settings
        self._params = StrategyParams.of(settings.trading.strategy, settings.trading.workflow)
        # Last prices and previous sessions' dollar volumes seen today: the asset screen skips
        # symbols far outside the price band or under the liquidity floor before asking for
        # their snapshots again. Learnt again from the first scan after a restart.
        self._known_prices: dict[str, Decimal] = {}
        self._known_dollar_volumes: dict[str, float] = {}
        self._prices_day: date | None = None
        self._prefetched_day: date | None = None  # the day the liquid names' history was read

    def update_settings(self, settings: Settings) -> None:
        """Use `settings` from the next scan on (config reload)."""
        self._settings = settings
        self._params = StrategyParams.of(settings.trading.strategy, settings.trading.workflow)

    async def scan(self, plan: DayPlan, now: datetime, assets: Sequence[Asset]) -> ScanOutcome:
        """One scan at `now` over `assets` (the broker's list, sectors applied)."""
        if self._prices_day != plan.session.day:
            self._known_prices, self._prices_day = {}, plan.session.day
            self._known_dollar_volumes = {}
        workflow = self._settings.trading.workflow
        premarket = plan.is_premarket(now)
        band = (workflow.min_price, workflow.max_price)
        # Screening thousands of symbols is CPU work (about 0.1 s at 12,000): off the event
        # loop, like the frames and indicators below, so the risk-watch keeps its cadence.
        listed = await asyncio.to_thread(
            screen_assets,
            assets,
            known_prices=dict(self._known_prices),
            price_band=band,
            known_dollar_volumes=dict(self._known_dollar_volumes),
            min_previous_dollar_volume=self._params.universe.min_previous_dollar_volume,
        )
        snapshots = await self._broker.get_snapshots([a.symbol for a in listed.kept])
        self._known_prices.update((s, snap.last_price) for s, snap in snapshots.items())
        self._known_dollar_volumes.update(
            (s, previous_dollar_volume(snap)) for s, snap in snapshots.items()
        )
        fraction = _session_fraction(plan, now)
        universe, active = await asyncio.to_thread(
            self._screen, listed.kept, snapshots, now, premarket, fraction
        )
        skipped = listed.rejected + universe.rejected
        skip_counts = count_by_reason(skipped)
        _log_universe(len(assets), len(listed.kept), len(universe.kept), skipped, skip_counts)
        outcome = ScanOutcome(
            selected=(),
            funnel={
                "universe": len(assets),
                "snapshots_requested": len(listed.kept),
                "screened": len(universe.kept),
                "most_active": len(active.kept),
            },
            skipped=skip_counts,
            volumes={m.symbol: m.snapshot.day_volume for m in active.kept},
        )
        symbols = [m.symbol for m in active.kept]
        wanted = symbols
        if self._prefetched_day != plan.session.day:
            self._prefetched_day = plan.session.day
            depth = DAILY_HISTORY_PREFETCH_FACTOR * workflow.most_active_count
            liquid = await asyncio.to_thread(most_liquid, universe.kept, depth)
            wanted = list(dict.fromkeys([*symbols, *liquid]))
        fetched = await self._broker.get_daily_bars(wanted, AVERAGE_VOLUME_DAYS)
        daily = {s: fetched[s] for s in symbols if s in fetched}
        news_items = await self._broker.get_news(symbols, now - self._params.news.lookback)
        averages = _average_volumes(daily)
        # ==, not is: a settings copy made without validation may hold the plain string.
        if self._settings.trading.strategy.kind == ScanStrategy.CATALYST_SCORE:
            return self._single_score(outcome, active.kept, averages, news_items, fraction)
        # Scoring the news of 200 names is CPU work too (tens of ms): off the event loop.
        short = await asyncio.to_thread(
            shortlist,
            active.kept,
            average_daily_volume=averages,
            news_items=news_items,
            now=now,
            session_fraction=fraction,
            premarket=premarket,
            params=self._params,
            news_age=market_hours_age(self._news_sessions(plan)),
        )
        outcome.rows += rows_for(FunnelStage.CATALYSTS, short.catalysts)
        outcome.funnel["catalysts"] = len(short.catalysts.kept)
        picks = [c.symbol for c in short.catalysts.kept]
        intraday: Mapping[str, Sequence[Bar]] = {}
        if picks and now > plan.session.open:
            intraday = await self._broker.get_intraday_bars(picks, plan.session.open, now)
        # Frames, patterns and indicators are CPU work: off the event loop, so the risk-watch
        # keeps its cadence during a scan.
        analyses = await asyncio.to_thread(
            analyse,
            short.catalysts.kept,
            intraday=intraday,
            daily=daily,
            session_open=plan.session.open,
            params=self._params,
        )
        ranked = rank(short.catalysts.kept, analyses, self._params)
        outcome.rows += rows_for(FunnelStage.TECHNICALS, ranked)
        outcome.funnel["technicals"] = len(ranked.kept)
        chosen = select_top(
            ranked.kept, n=workflow.execute_top_n, min_confidence=workflow.min_confidence_score
        )
        outcome.rows += rows_for(FunnelStage.RANKED, chosen)
        outcome.funnel["selected"] = len(chosen.kept)
        outcome.selected = chosen.kept
        return outcome

    def _screen(
        self,
        listed: Sequence[Asset],
        snapshots: Mapping[str, Snapshot],
        now: datetime,
        premarket: bool,
        fraction: float,
    ) -> tuple[StageResult[UniverseMember], StageResult[UniverseMember]]:
        workflow = self._settings.trading.workflow
        universe = screen_snapshots(
            listed,
            snapshots,
            min_price=workflow.min_price,
            max_price=workflow.max_price,
            now=now,
            max_quote_age=PREMARKET_QUOTE_AGE if premarket else SESSION_QUOTE_AGE,
            min_previous_dollar_volume=self._params.universe.min_previous_dollar_volume,
        )
        active = screen_active(
            universe.kept, session_fraction=fraction, premarket=premarket, params=self._params
        )
        return universe, active

    def _single_score(
        self,
        outcome: ScanOutcome,
        active: Sequence[UniverseMember],
        averages: Mapping[str, float],
        news_items: Sequence[NewsItem],
        fraction: float,
    ) -> ScanOutcome:
        workflow = self._settings.trading.workflow
        candidates = score_catalysts(
            active,
            avg_daily_volume=averages,
            news=news_items,
            session_fraction_elapsed=fraction,
        )
        chosen = select_top(
            candidates, n=workflow.execute_top_n, min_confidence=workflow.min_confidence_score
        )
        outcome.rows += rows_for(FunnelStage.RANKED, chosen)
        outcome.funnel["catalysts"] = len(candidates)
        outcome.funnel["selected"] = len(chosen.kept)
        outcome.selected = chosen.kept
        return outcome

    def _news_sessions(self, plan: DayPlan) -> list[tuple[datetime, datetime]]:
        previous = self._calendar.previous_session(plan.session.day)
        return [(previous.open, previous.close), (plan.session.open, plan.session.close)]


def _log_universe(
    listed: int,
    requested: int,
    screened: int,
    skipped: Sequence[StageRejection],
    counts: Mapping[str, int],
) -> None:
    """One INFO line with the counts per reason; the symbols with bad data or under the
    liquidity floor only at DEBUG (a real asset list skips over a thousand symbols per cycle)."""
    bad = [r for r in skipped if isinstance(r.kind, SkipReason) and r.kind.is_bad_data]
    thin = [r for r in skipped if r.kind == SkipReason.BELOW_LIQUIDITY_FLOOR]
    log.info(
        "universe screened",
        assets=listed,
        snapshots_requested=requested,
        screened=screened,
        bad_data=len(bad),
        skipped=dict(counts),
    )
    for rejection in bad:
        log.debug(
            "bad market data; symbol skipped",
            symbol=rejection.symbol,
            reason=rejection.reason,
            stage="universe",
        )
    for rejection in thin:
        log.debug(
            "under the liquidity floor; symbol skipped",
            symbol=rejection.symbol,
            reason=rejection.reason,
            stage="universe",
        )


def _average_volumes(daily: Mapping[str, Sequence[Bar]]) -> dict[str, float]:
    return {
        symbol: sum(bar.volume for bar in bars) / len(bars)
        for symbol, bars in daily.items()
        if bars
    }


def _session_fraction(plan: DayPlan, now: datetime) -> float:
    total = (plan.session.close - plan.session.open).total_seconds()
    elapsed = (now - plan.session.open).total_seconds()
    return min(max(elapsed / total, 0.0), 1.0)
