"""The catalyst stage's news score: recent headlines, weighted by recency and keyword class.

For one symbol, over the distinct news items (by id) that name it and were created within
`[now - lookback, now]` (a later one is ignored: nothing leaks from the future):

    class_weight(h) = clip(sum of the weights of the classes h matches, each class once,
                           -headline_cap, +headline_cap)    or unmatched_weight if none
    recency(h)      = 0.5 ** (age(h) / half_life)
    contribution(h) = class_weight(h) * recency(h)
    score           = tanh(sum of contributions / saturation)          in [-1, 1]

With the defaults (`DEFAULT_KEYWORD_RULES`, half-life 4 h, saturation 1) a fresh FDA approval
(+0.8) scores tanh(0.8) = 0.66; an earnings beat with raised guidance (+1.4) 0.89 fresh and 0.60
four hours later; a fresh public offering (-0.8) -0.66; a routine headline ("files quarterly
report") 0.05, the attention any story brings. Good and bad news offset each other; as
stories pile up the score nears +-1 but never passes it.

A headline naming several symbols counts for each of them, with the same weight: the text says
nothing about which of them the news is good for ("X to acquire Y" is M&A for both).

`age(h)` is wall-clock time by default. `score_news` takes another measure of elapsed time
(`age=`), e.g. regular-session time only, under which news from after yesterday's close is still
fresh at a 09:15 pre-market scan; on the wall clock it is 17 h old there (recency 0.05).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from catalyst.config.strategy import NewsSettings
from catalyst.domain.models import NewsItem
from catalyst.domain.news_classes import (
    KeywordRule,
    KeywordRuleError,
    NewsClass,
    classify_headline,
    parse_keyword_rules,
)
from catalyst.pipeline.news_keywords import DEFAULT_KEYWORD_RULES

__all__ = [
    "DEFAULT_KEYWORD_RULES",
    "KeywordRule",
    "KeywordRuleError",
    "NewsClass",
    "NewsParams",
    "NewsScore",
    "ScoredHeadline",
    "classify_headline",
    "parse_keyword_rules",
    "score_news",
]

Age = Callable[[datetime, datetime], timedelta]
"""How old a headline created at the first instant is at the second."""

_DEFAULTS = NewsSettings()  # the configuration's defaults are the score's defaults
_REASON_HEADLINE_CHARS = 80  # a reason line stays one readable line


@dataclass(frozen=True, slots=True)
class NewsParams:
    """The news score's knobs; see the module doc for the formula."""

    # Headlines older than this are not read at all.
    lookback: timedelta = timedelta(hours=_DEFAULTS.lookback_hours)
    # A headline's weight halves every `half_life` of age.
    half_life: timedelta = timedelta(hours=_DEFAULTS.half_life_hours)
    # The weight of a headline that matches no class: a story is some attention.
    unmatched_weight: float = _DEFAULTS.unmatched_weight
    # One headline's summed class weights are clipped to +-headline_cap.
    headline_cap: float = _DEFAULTS.headline_cap
    # The recency-weighted sum that scores tanh(1) = 0.76.
    saturation: float = _DEFAULTS.saturation
    # How many headlines (strongest first) a score keeps to explain itself.
    max_headlines: int = _DEFAULTS.max_headlines
    # The keyword classes a headline is matched against (see news_keywords).
    rules: Mapping[NewsClass, KeywordRule] = field(default_factory=lambda: DEFAULT_KEYWORD_RULES)

    @classmethod
    def of(cls, settings: NewsSettings) -> NewsParams:
        """The knobs from `strategy.news`: its keyword classes replace those defaults."""
        return cls(
            lookback=timedelta(hours=settings.lookback_hours),
            half_life=timedelta(hours=settings.half_life_hours),
            unmatched_weight=settings.unmatched_weight,
            headline_cap=settings.headline_cap,
            saturation=settings.saturation,
            max_headlines=settings.max_headlines,
            rules={**DEFAULT_KEYWORD_RULES, **parse_keyword_rules(settings.keywords)},
        )

    def __post_init__(self) -> None:
        for name in ("lookback", "half_life"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"news {name} must be positive, got {getattr(self, name)}")
        for name in ("headline_cap", "saturation"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"news {name} must be a positive number, got {value!r}")
        if not math.isfinite(self.unmatched_weight):
            raise ValueError(f"news unmatched_weight must be finite, got {self.unmatched_weight!r}")
        if self.max_headlines < 0:
            raise ValueError(f"news max_headlines must be >= 0, got {self.max_headlines}")
        for kind, rule in self.rules.items():
            if not isinstance(kind, NewsClass) or not isinstance(rule, KeywordRule):
                raise ValueError(f"news rules must map NewsClass to KeywordRule, got {kind!r}")


@dataclass(frozen=True, slots=True)
class ScoredHeadline:
    """One headline as it counted for a symbol: `weight` is its recency-weighted contribution."""

    id: str
    headline: str
    created_at: datetime
    classes: tuple[NewsClass, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class NewsScore:
    """A symbol's news score in [-1, 1], with the headlines that moved it most, strongest first.

    `reasons` has one line per kept headline, in the same order; `item_count` counts every
    distinct headline in the window, kept or not.
    """

    score: float
    headlines: tuple[ScoredHeadline, ...]
    reasons: tuple[str, ...]
    item_count: int


_NO_NEWS = NewsScore(score=0.0, headlines=(), reasons=(), item_count=0)


def score_news(
    items: Sequence[NewsItem],
    symbols: Collection[str],
    now: datetime,
    params: NewsParams,
    *,
    age: Age | None = None,
) -> dict[str, NewsScore]:
    """Every symbol in `symbols` with its news score (0 and no reasons without headlines).

    An item id counts once per symbol (the first in-window item with that id wins), and an
    item counts for each requested symbol it names. `age` measures a headline's age for its
    recency (wall-clock `now - created_at` by default); the lookback is always wall-clock.
    Raises `ValueError` for a naive `now` or a naive `created_at`.
    """
    _require_aware("now", now)
    age_of = age if age is not None else _wall_clock_age
    since = now - params.lookback
    counted: dict[str, dict[str, ScoredHeadline]] = {symbol: {} for symbol in symbols}
    for item in items:
        _require_aware(f"news item {item.id!r}: created_at", item.created_at)
        if not since <= item.created_at <= now:
            continue
        targets = [
            symbol
            for symbol in item.symbols
            if symbol in counted and item.id not in counted[symbol]
        ]
        if targets:
            scored = _scored(item, now, params, age_of)
            for symbol in targets:
                counted[symbol][item.id] = scored
    return {
        symbol: _news_score(tuple(by_id.values()), now, params) if by_id else _NO_NEWS
        for symbol, by_id in counted.items()
    }


def _scored(item: NewsItem, now: datetime, params: NewsParams, age_of: Age) -> ScoredHeadline:
    classes = classify_headline(item.headline, params.rules)
    if classes:
        total = sum(params.rules[kind].weight for kind in classes)
        class_weight = min(max(total, -params.headline_cap), params.headline_cap)
    else:
        class_weight = params.unmatched_weight
    age_seconds = max(age_of(item.created_at, now).total_seconds(), 0.0)
    recency = 0.5 ** (age_seconds / params.half_life.total_seconds())
    return ScoredHeadline(
        id=item.id,
        headline=item.headline,
        created_at=item.created_at,
        classes=classes,
        weight=class_weight * recency,
    )


def _news_score(
    headlines: tuple[ScoredHeadline, ...], now: datetime, params: NewsParams
) -> NewsScore:
    total = math.fsum(h.weight for h in headlines)
    score = math.tanh(total / params.saturation)
    strongest = sorted(headlines, key=_strongest_first)[: params.max_headlines]
    return NewsScore(
        score=score,
        headlines=tuple(strongest),
        reasons=tuple(_reason(h, now) for h in strongest),
        item_count=len(headlines),
    )


def _strongest_first(headline: ScoredHeadline) -> tuple[float, float, str]:
    # Ties: the newer headline first, then by id, so the order never depends on the input's.
    return (-abs(headline.weight), -headline.created_at.timestamp(), headline.id)


def _reason(headline: ScoredHeadline, now: datetime) -> str:
    """E.g. `FDA/clinical: 'Acme wins FDA approval for lead candidate' (2 h ago, +0.57)`."""
    kinds = " + ".join(kind.label for kind in headline.classes) or "news"
    text = " ".join(headline.headline.split())
    if len(text) > _REASON_HEADLINE_CHARS:
        text = text[: _REASON_HEADLINE_CHARS - 1].rstrip() + "…"
    return f"{kinds}: '{text}' ({_ago(now - headline.created_at)} ago, {headline.weight:+.2f})"


def _ago(age: timedelta) -> str:
    minutes = age.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / (24 * 60):.0f} d"


def _wall_clock_age(created_at: datetime, now: datetime) -> timedelta:
    return now - created_at


def _require_aware(what: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
