"""The funnel's pure steps, in the order the cycle calls them between its fetches.

    universe members ─ most_active ─▶ 200 ─ catalysts ─▶ 50      (`shortlist`)
    [the cycle fetches today's minute bars for the 50]
    50 ─ patterns + technicals + rank ─▶ 20 ─ floor, top N ─▶ 5  (`analyse`, `rank`, then
                                                                    `selection.select_top`)

Each step takes frozen inputs and returns `StageResult`s; nothing here awaits, logs or touches
the store or the broker, so the cycle can run the CPU-heavy steps off the event loop and a test
can run any step on constructed data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from catalyst.config.models import WorkflowConfig
from catalyst.config.strategy import (
    CatalystParams,
    PatternParams,
    RankParams,
    StopSettings,
    StrategyConfig,
    TechnicalParams,
    UniverseParams,
)
from catalyst.domain.models import Bar, NewsItem
from catalyst.pipeline.bars import bars_frame
from catalyst.pipeline.candidates import Candidate, StageResult, UniverseMember
from catalyst.pipeline.catalysts import screen_catalysts
from catalyst.pipeline.most_active import most_active
from catalyst.pipeline.news import NewsParams, NewsScore, score_news
from catalyst.pipeline.patterns import PatternContext, detect_patterns
from catalyst.pipeline.ranking import Analysis, rank_candidates
from catalyst.pipeline.stops import StopParams
from catalyst.pipeline.technicals import compute_technicals, daily_atr

Age = Callable[[datetime, datetime], timedelta]


@dataclass(frozen=True, slots=True)
class StrategyParams:
    """Every knob of the funnel, one frozen value per stage (`StrategyParams.of` the config)."""

    most_active: int = 200
    universe: UniverseParams = field(default_factory=UniverseParams)
    catalysts: CatalystParams = field(default_factory=CatalystParams)
    news: NewsParams = field(default_factory=NewsParams)
    patterns: PatternParams = field(default_factory=PatternParams)
    technicals: TechnicalParams = field(default_factory=TechnicalParams)
    rank: RankParams = field(default_factory=RankParams)
    stops: StopParams = field(
        default_factory=lambda: StopParams.of(StopSettings(), max_stop_pct=0.02)
    )

    @classmethod
    def of(cls, strategy: StrategyConfig, workflow: WorkflowConfig) -> StrategyParams:
        """The funnel as `trading_config.yaml`'s `strategy` and `workflow` sections set it."""
        return cls(
            most_active=workflow.most_active_count,
            universe=strategy.universe,
            catalysts=strategy.catalysts,
            news=NewsParams.of(strategy.news),
            patterns=strategy.patterns,
            technicals=strategy.technicals,
            rank=strategy.rank,
            stops=StopParams.of(strategy.stops, max_stop_pct=workflow.stop_loss_pct),
        )


@dataclass(frozen=True, slots=True)
class Shortlist:
    """The catalyst filter's result and the news scores it was judged with."""

    catalysts: StageResult[Candidate]
    news: Mapping[str, NewsScore]


def screen_active(
    members: Sequence[UniverseMember],
    *,
    session_fraction: float,
    premarket: bool,
    params: StrategyParams,
) -> StageResult[UniverseMember]:
    """The `params.most_active` most active members (`catalyst.pipeline.most_active`)."""
    return most_active(
        members, params.most_active, session_fraction=session_fraction, premarket=premarket
    )


def shortlist(
    active: Sequence[UniverseMember],
    *,
    average_daily_volume: Mapping[str, float],
    news_items: Sequence[NewsItem],
    now: datetime,
    session_fraction: float,
    premarket: bool,
    params: StrategyParams,
    news_age: Age | None = None,
) -> Shortlist:
    """The catalyst filter over the most active names, with their news scored first."""
    news = score_news(news_items, [m.symbol for m in active], now, params.news, age=news_age)
    catalysts = screen_catalysts(
        active,
        average_daily_volume=average_daily_volume,
        news=news,
        session_fraction=session_fraction,
        premarket=premarket,
        params=params.catalysts,
    )
    return Shortlist(catalysts=catalysts, news=news)


def market_hours_age(sessions: Sequence[tuple[datetime, datetime]]) -> Age:
    """A headline's age counted in regular-session time only, over `sessions` ([open, close)).

    News from after yesterday's close is fresh at the 09:15 scan (no session time has passed);
    one from 10:00 is an hour old at 11:00. Time outside `sessions` does not count.
    """

    def age(created: datetime, now: datetime) -> timedelta:
        total = timedelta(0)
        for opened, closed in sessions:
            start, end = max(created, opened), min(now, closed)
            if end > start:
                total += end - start
        return total

    return age


def analyse(
    candidates: Sequence[Candidate],
    *,
    intraday: Mapping[str, Sequence[Bar]],
    daily: Mapping[str, Sequence[Bar]],
    session_open: datetime,
    params: StrategyParams,
) -> dict[str, Analysis]:
    """Patterns on today's minute bars and technicals over them, for every candidate."""
    frames = {c.symbol: bars_frame(intraday.get(c.symbol, ())).frame for c in candidates}
    technicals = compute_technicals(frames, session_open, params.technicals)
    analyses: dict[str, Analysis] = {}
    for candidate in candidates:
        frame = frames[candidate.symbol]
        history = bars_frame(daily.get(candidate.symbol, ())).frame
        previous_high = float(history["high"].iloc[-1]) if not history.empty else None
        previous_close = float(history["close"].iloc[-1]) if not history.empty else None
        context = PatternContext(
            session_open=session_open,
            previous_day_high=previous_high,
            previous_close=previous_close,
        )
        analyses[candidate.symbol] = Analysis(
            patterns=detect_patterns(frame, context, params.patterns),
            technicals=technicals.get(candidate.symbol),
            has_session_bars=bool((frame.index >= session_open).any()),
            daily_atr=daily_atr(history, params.technicals.atr_window),
        )
    return analyses


def rank(
    candidates: Sequence[Candidate], analyses: Mapping[str, Analysis], params: StrategyParams
) -> StageResult[Candidate]:
    """Confidence, pattern, technicals and a stop for each; the best `params.rank.keep` kept."""
    return rank_candidates(candidates, analyses, params=params.rank, stops=params.stops)
