"""The news score: headlines classified by keyword, weighted by recency, bounded in [-1, 1]."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalyst.config.strategy import NewsSettings
from catalyst.domain.models import NewsItem
from catalyst.pipeline.news import (
    DEFAULT_KEYWORD_RULES,
    KeywordRule,
    KeywordRuleError,
    NewsClass,
    NewsParams,
    classify_headline,
    parse_keyword_rules,
    score_news,
)
from catalyst.sim.market import _DOWN_HEADLINES, _ROUTINE_HEADLINES, _UP_HEADLINES

NOW = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
PARAMS = NewsParams()
C = NewsClass


def _item(
    headline: str,
    *,
    hours_ago: float = 1.0,
    symbols: tuple[str, ...] = ("ACME",),
    item_id: str | None = None,
) -> NewsItem:
    return NewsItem(
        id=item_id if item_id is not None else f"{headline}@{hours_ago}",
        headline=headline,
        symbols=symbols,
        created_at=NOW - timedelta(hours=hours_ago),
        source="test",
    )


def _score(*items: NewsItem, params: NewsParams = PARAMS) -> float:
    return score_news(items, ["ACME"], NOW, params)["ACME"].score


@pytest.mark.parametrize(
    ("headline", "expected"),
    [
        ("Acme beats Q3 estimates on strong cloud demand", (C.EARNINGS_BEAT,)),
        ("Acme tops Street expectations as margins widen", (C.EARNINGS_BEAT,)),
        ("Acme posts better-than-expected quarterly results", (C.EARNINGS_BEAT,)),
        ("Acme misses on revenue, shares slide", (C.EARNINGS_MISS,)),
        ("Acme Q2 revenue falls short of consensus", (C.EARNINGS_MISS,)),
        (
            "Acme Q3 EPS $1.20 Beats $1.10 Estimate, Sales $500M Miss $510M Estimate",
            (C.EARNINGS_BEAT, C.EARNINGS_MISS),
        ),
        ("Acme raises guidance after record quarter", (C.GUIDANCE_RAISED,)),
        ("Acme boosts full-year 2027 outlook", (C.GUIDANCE_RAISED,)),
        ("Acme lowers outlook as demand softens", (C.GUIDANCE_CUT,)),
        ("Acme withdraws full-year guidance", (C.GUIDANCE_CUT,)),
        ("UPS cuts outlook on weak parcel volume", (C.GUIDANCE_CUT,)),
        ("Acme sees FY27 revenue below consensus", (C.EARNINGS_MISS, C.GUIDANCE_CUT)),
        ("Acme wins FDA approval for migraine drug", (C.FDA_CLINICAL,)),
        ("Acme's Phase 3 trial meets primary endpoint", (C.FDA_CLINICAL,)),
        ("FDA grants Breakthrough Therapy designation to Acme's ACM-101", (C.FDA_CLINICAL,)),
        ("Acme receives IND clearance for investigational cancer therapy", (C.FDA_CLINICAL,)),
        ("FDA issues complete response letter to Acme", (C.CLINICAL_SETBACK,)),
        # A bare "misses" reads as an earnings miss too: the sign is what matters here.
        (
            "Acme's Phase 2 study misses main goal",
            (C.EARNINGS_MISS, C.FDA_CLINICAL, C.CLINICAL_SETBACK),
        ),
        ("Acme upgraded to Buy at Goldman Sachs", (C.ANALYST_UPGRADE,)),
        ("Acme price target raised to $50 from $40 at Jefferies", (C.ANALYST_UPGRADE,)),
        ("Needham initiates coverage on Acme with a Buy rating", (C.ANALYST_UPGRADE,)),
        ("Morgan Stanley downgrades Acme to Underweight", (C.ANALYST_DOWNGRADE,)),
        ("Acme downgraded to Neutral from Outperform at Citi", (C.ANALYST_DOWNGRADE,)),
        ("Acme slips after analyst downgrade", (C.ANALYST_DOWNGRADE,)),
        ("Barclays cuts Acme price target to $20", (C.ANALYST_DOWNGRADE,)),
        ("Acme to acquire Widget Co for $2 billion", (C.MERGER_ACQUISITION,)),
        ("Acme and Widget announce merger of equals", (C.MERGER_ACQUISITION,)),
        ("Acme announces pricing of $50 million public offering", (C.OFFERING_DILUTION,)),
        ("Acme prices $25M priced offering of common stock", (C.OFFERING_DILUTION,)),
        ("Acme files for $100M at-the-market equity program", (C.OFFERING_DILUTION,)),
        ("Acme shares slide on dilution fears", (C.OFFERING_DILUTION,)),
        ("Acme files mixed shelf of up to $200M", (C.OFFERING_DILUTION,)),
        ("Acme signs strategic partnership with Globex", (C.CONTRACT_PARTNERSHIP,)),
        ("Acme awarded $300M Navy contract", (C.CONTRACT_PARTNERSHIP,)),
        ("Acme authorizes $1B share repurchase", (C.SHAREHOLDER_RETURN,)),
        ("SEC charges Acme executives with fraud", (C.LEGAL_REGULATORY,)),
        ("Acme receives Nasdaq deficiency notice", (C.DISTRESS,)),
        ("Acme files for Chapter 11 bankruptcy protection", (C.DISTRESS,)),
        # Phrases that must not match: a clause break, a word inside another, mere reporting.
        ("Acme cuts jobs, reaffirms outlook", ()),
        ("Acme doses first patient with investigational therapy", ()),
        ("Acme to present at investor conference", ()),
        ("Acme shares surge in heavy trading", ()),
    ],
)
def test_each_class_recognises_real_world_phrasing(
    headline: str, expected: tuple[NewsClass, ...]
) -> None:
    assert classify_headline(headline, DEFAULT_KEYWORD_RULES) == expected


@pytest.mark.parametrize(
    "headline",
    [
        "Acme announces $40 million registered direct offering",
        "Acme downgraded to Sell at BofA",
        "Acme Q3 EPS misses estimates",
        "Acme cuts full-year forecast",
        "Acme Phase 3 trial fails to meet primary endpoint",
        "Acme discloses DOJ investigation",
    ],
)
def test_bad_news_scores_below_zero(headline: str) -> None:
    assert _score(_item(headline)) < 0


@pytest.mark.parametrize(
    "headline",
    [
        "Acme beats estimates and raises guidance",
        "Acme wins FDA approval",
        "Acme upgraded to Outperform",
        "Globex to acquire Acme at 40% premium",
    ],
)
def test_good_news_scores_above_zero(headline: str) -> None:
    assert _score(_item(headline)) > 0


def test_a_headline_of_no_class_adds_only_a_little_attention() -> None:
    assert 0 < _score(_item("Acme files quarterly report", hours_ago=0)) <= 0.06


@pytest.mark.parametrize("template", _UP_HEADLINES)
def test_the_simulators_good_news_scores_positive(template: str) -> None:
    headline = template.format(name="Bea Partners")
    assert classify_headline(headline, DEFAULT_KEYWORD_RULES)
    assert _score(_item(headline)) > 0.3


@pytest.mark.parametrize("template", _DOWN_HEADLINES)
def test_the_simulators_bad_news_scores_negative(template: str) -> None:
    headline = template.format(name="Bea Partners")
    assert classify_headline(headline, DEFAULT_KEYWORD_RULES)
    assert _score(_item(headline)) < -0.3


@pytest.mark.parametrize("template", _ROUTINE_HEADLINES)
def test_the_simulators_routine_news_scores_about_zero(template: str) -> None:
    headline = template.format(name="Bea Partners")
    assert classify_headline(headline, DEFAULT_KEYWORD_RULES) == ()
    assert abs(_score(_item(headline))) < 0.1


def test_the_same_headline_scores_higher_an_hour_old_than_ten() -> None:
    headline = "Acme wins FDA approval"
    assert _score(_item(headline, hours_ago=1)) > _score(_item(headline, hours_ago=10)) > 0


def test_recency_halves_the_weight_every_half_life() -> None:
    params = NewsParams(half_life=timedelta(hours=2))
    fresh, old = (
        score_news([_item("Acme wins FDA approval", hours_ago=h)], ["ACME"], NOW, params)["ACME"]
        for h in (0, 2)
    )
    assert fresh.headlines[0].weight == pytest.approx(0.8)
    assert old.headlines[0].weight == pytest.approx(0.4)


def test_headlines_outside_the_lookback_are_ignored_and_its_edge_is_inside() -> None:
    outside = score_news([_item("Acme wins FDA approval", hours_ago=24.01)], ["ACME"], NOW, PARAMS)
    edge = score_news([_item("Acme wins FDA approval", hours_ago=24)], ["ACME"], NOW, PARAMS)

    assert outside["ACME"].score == 0
    assert outside["ACME"].headlines == ()
    assert outside["ACME"].item_count == 0
    assert edge["ACME"].item_count == 1


def test_headlines_from_the_future_are_ignored() -> None:
    assert _score(_item("Acme wins FDA approval", hours_ago=-0.01)) == 0


def test_every_requested_symbol_gets_a_score_even_without_news() -> None:
    scores = score_news([_item("Acme wins FDA approval")], ["ACME", "QUIET"], NOW, PARAMS)

    assert set(scores) == {"ACME", "QUIET"}
    assert scores["QUIET"].score == 0
    assert scores["QUIET"].reasons == ()


def test_an_item_id_counts_once_per_symbol() -> None:
    once = _item("Acme wins FDA approval", item_id="n1")
    repeated = _item("Acme wins FDA approval", item_id="n1", symbols=("ACME", "ACME"))

    result = score_news([once, repeated, once], ["ACME"], NOW, PARAMS)["ACME"]

    assert result.item_count == 1
    assert result.score == pytest.approx(_score(once))


def test_the_first_in_window_item_with_an_id_is_the_one_counted() -> None:
    stale = _item("Acme announces $50M public offering", item_id="n1", hours_ago=30)
    first = _item("Acme wins FDA approval", item_id="n1")
    second = _item("Acme announces $50M public offering", item_id="n1")

    result = score_news([stale, first, second], ["ACME"], NOW, PARAMS)["ACME"]

    assert [h.classes for h in result.headlines] == [(C.FDA_CLINICAL,)]


def test_an_item_naming_several_symbols_counts_for_each_requested_one() -> None:
    item = _item("Globex to acquire Acme", symbols=("GLBX", "ACME", "OTHER"))

    scores = score_news([item], ["ACME", "GLBX"], NOW, PARAMS)

    assert set(scores) == {"ACME", "GLBX"}
    assert scores["ACME"].score == scores["GLBX"].score > 0


def test_a_class_counts_once_however_many_of_its_phrases_match() -> None:
    headline = "Acme beats estimates, tops consensus on better-than-expected sales"
    assert _score(_item(headline, hours_ago=0)) == pytest.approx(math.tanh(0.7))


def test_several_classes_add_up_to_the_headline_cap() -> None:
    rules = {
        C.EARNINGS_BEAT: KeywordRule(phrases=("beats",), weight=1.0),
        C.GUIDANCE_RAISED: KeywordRule(phrases=("raises guidance",), weight=1.0),
        C.MERGER_ACQUISITION: KeywordRule(phrases=("merger",), weight=1.0),
    }
    params = NewsParams(rules=rules, headline_cap=1.5)
    one, three = (
        score_news([_item(h, hours_ago=0)], ["ACME"], NOW, params)["ACME"].headlines[0].weight
        for h in ("Acme beats", "Acme beats, raises guidance, eyes merger")
    )
    assert (one, three) == (pytest.approx(1.0), pytest.approx(1.5))


def test_good_and_bad_news_offset_each_other() -> None:
    good = _item("Acme wins FDA approval")
    bad = _item("Acme announces $50M public offering")
    both = _score(good, bad)
    assert _score(bad) < both < _score(good)


def test_the_strongest_headlines_are_kept_first_with_a_reason_each() -> None:
    items = [
        _item("Acme files quarterly report", hours_ago=0.5),
        _item("Acme wins FDA approval for lead candidate", hours_ago=2),
        _item("Acme announces $50M public offering", hours_ago=1),
        _item("Acme names new chief financial officer", hours_ago=3),
    ]
    result = score_news(items, ["ACME"], NOW, NewsParams(max_headlines=2))["ACME"]

    assert result.item_count == 4
    assert [h.classes for h in result.headlines] == [(C.OFFERING_DILUTION,), (C.FDA_CLINICAL,)]
    assert result.reasons == (
        "offering/dilution: 'Acme announces $50M public offering' (60 min ago, -0.67)",
        "FDA/clinical: 'Acme wins FDA approval for lead candidate' (2 h ago, +0.57)",
    )


def test_equally_strong_headlines_are_kept_newest_first_then_by_id() -> None:
    items = [
        _item("Acme beats", hours_ago=3, item_id="old"),
        _item("Acme beats", hours_ago=1, item_id="new-b"),
        _item("Acme beats", hours_ago=1, item_id="new-a"),
    ]
    no_decay = score_news(items, ["ACME"], NOW, PARAMS, age=lambda _c, _n: timedelta(0))

    assert [h.id for h in no_decay["ACME"].headlines] == ["new-a", "new-b", "old"]


def test_a_long_headline_is_shortened_in_its_reason() -> None:
    result = score_news([_item("Acme beats " + "x" * 200)], ["ACME"], NOW, PARAMS)["ACME"]
    assert re.fullmatch(
        r"earnings beat: 'Acme beats x+…' \(60 min ago, \+0\.59\)", result.reasons[0]
    )
    assert len(result.reasons[0]) < 120


def test_an_injected_age_measure_sets_the_recency() -> None:
    overnight = _item("Acme beats estimates", hours_ago=17)
    session_time = score_news(
        [overnight], ["ACME"], NOW, PARAMS, age=lambda _created, _now: timedelta(0)
    )
    assert session_time["ACME"].headlines[0].weight == pytest.approx(0.7)
    assert _score(overnight) < 0.1


def test_naive_datetimes_are_refused() -> None:
    naive = NOW.replace(tzinfo=None)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        score_news([], ["ACME"], naive, PARAMS)
    item = NewsItem(id="n1", headline="Acme beats", symbols=("ACME",), created_at=naive)
    with pytest.raises(ValueError, match="'n1': created_at must be timezone-aware"):
        score_news([item], ["ACME"], NOW, PARAMS)


@pytest.mark.parametrize(
    "changes",
    [
        {"lookback": timedelta(0)},
        {"half_life": timedelta(seconds=-1)},
        {"saturation": 0.0},
        {"headline_cap": math.inf},
        {"unmatched_weight": math.nan},
        {"max_headlines": -1},
    ],
)
def test_unusable_params_are_refused(changes: Mapping[str, object]) -> None:
    with pytest.raises(ValueError, match="news "):
        NewsParams(**changes)  # type: ignore[arg-type]


_HEADLINE_WORDS = st.sampled_from(
    ["Acme", "beats", "misses", "FDA approval", "offering", "upgraded", "downgrade", "merger",
     "raises guidance", "cuts outlook", "probe", "bankruptcy", "Phase 3", ",", "x"]
)  # fmt: skip
_HEADLINES = st.one_of(st.text(max_size=80), st.lists(_HEADLINE_WORDS, max_size=12).map(" ".join))


@settings(max_examples=150, deadline=None)
@given(
    news=st.lists(
        st.tuples(
            _HEADLINES,
            st.floats(min_value=-48, max_value=48, allow_nan=False),
            st.sampled_from(["a", "b", "c", "d", "e", "f"]),
            st.lists(st.sampled_from(["ACME", "GLBX", "OTHER"]), max_size=3).map(tuple),
        ),
        max_size=25,
    ),
    unmatched_weight=st.floats(min_value=-1e6, max_value=1e6),
    saturation=st.floats(min_value=1e-9, max_value=1e9),
    headline_cap=st.floats(min_value=1e-9, max_value=1e9),
)
def test_the_score_is_always_finite_and_within_minus_one_to_one(
    news: list[tuple[str, float, str, tuple[str, ...]]],
    unmatched_weight: float,
    saturation: float,
    headline_cap: float,
) -> None:
    items = [_item(h, hours_ago=age, item_id=i, symbols=s) for h, age, i, s in news]
    params = NewsParams(
        unmatched_weight=unmatched_weight, saturation=saturation, headline_cap=headline_cap
    )
    for result in score_news(items, ["ACME", "GLBX"], NOW, params).values():
        assert math.isfinite(result.score)
        assert -1.0 <= result.score <= 1.0
        assert len(result.headlines) == len(result.reasons) <= params.max_headlines
        assert result.item_count <= 6


def test_the_default_rules_can_be_written_as_config_and_read_back() -> None:
    plain = {
        kind.value: {"phrases": list(rule.phrases), "weight": rule.weight}
        for kind, rule in DEFAULT_KEYWORD_RULES.items()
    }
    assert parse_keyword_rules(plain) == dict(DEFAULT_KEYWORD_RULES)


def test_parsed_rules_classify_headlines() -> None:
    rules = parse_keyword_rules({"fda_clinical": {"phrases": ["ce mark"], "weight": 0.5}})
    params = NewsParams(rules=rules)

    assert classify_headline("Acme gets CE  Mark for device", rules) == (C.FDA_CLINICAL,)
    assert _score(_item("Acme gets CE mark", hours_ago=0), params=params) == pytest.approx(
        math.tanh(0.5)
    )


@pytest.mark.parametrize(
    ("mapping", "key"),
    [
        ({"earnings_surprise": {"phrases": ["beats"], "weight": 1}}, "earnings_surprise"),
        ({"earnings_beat": ["beats"]}, "earnings_beat"),
        ({"earnings_beat": {"phrases": ["beats"], "weight": 1, "cap": 2}}, "earnings_beat.cap"),
        ({"earnings_beat": {"weight": 1}}, "earnings_beat.phrases"),
        ({"earnings_beat": {"phrases": ["beats"]}}, "earnings_beat.weight"),
        ({"earnings_beat": {"phrases": "beats", "weight": 1}}, "earnings_beat.phrases"),
        ({"earnings_beat": {"phrases": [], "weight": 1}}, "earnings_beat.phrases"),
        ({"earnings_beat": {"phrases": ["beats", 3], "weight": 1}}, "earnings_beat.phrases[1]"),
        ({"earnings_beat": {"phrases": ["beats", " "], "weight": 1}}, "earnings_beat.phrases[1]"),
        ({"earnings_beat": {"phrases": ["beat(s"], "weight": 1}}, "earnings_beat.phrases[0]"),
        ({"earnings_beat": {"phrases": ["(beats)?"], "weight": 1}}, "earnings_beat.phrases[0]"),
        (
            {"earnings_beat": {"phrases": ["beats", "(?i)tops"], "weight": 1}},
            "earnings_beat.phrases",
        ),
        ({"earnings_beat": {"phrases": ["beats"], "weight": True}}, "earnings_beat.weight"),
        ({"earnings_beat": {"phrases": ["beats"], "weight": "0.7"}}, "earnings_beat.weight"),
        ({"earnings_beat": {"phrases": ["beats"], "weight": math.nan}}, "earnings_beat.weight"),
    ],
)
def test_bad_keyword_rules_are_refused_naming_the_key(
    mapping: Mapping[str, object], key: str
) -> None:
    with pytest.raises(KeywordRuleError) as raised:
        parse_keyword_rules(mapping)
    assert raised.value.key == key
    assert str(raised.value).startswith(f"{key}: ")
    assert isinstance(raised.value, ValueError)


def test_keyword_rules_must_be_a_mapping() -> None:
    with pytest.raises(ValueError, match="must be a mapping"):
        parse_keyword_rules(["earnings_beat"])  # type: ignore[arg-type]


def test_configured_keyword_classes_replace_those_defaults_and_keep_the_rest() -> None:
    settings = NewsSettings(
        lookback_hours=6,
        keywords={"fda_clinical": {"phrases": ["miracle cure"], "weight": 0.9}},
    )
    params = NewsParams.of(settings)

    assert params.lookback == timedelta(hours=6)
    assert classify_headline("Acme touts miracle cure", params.rules) == (NewsClass.FDA_CLINICAL,)
    assert classify_headline("Acme wins FDA approval", params.rules) == ()  # default replaced
    assert NewsClass.EARNINGS_BEAT in classify_headline("Acme beats estimates", params.rules)
