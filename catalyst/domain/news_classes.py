"""Keyword classes for headlines: what kind of news a headline is, by the phrases it contains.

A `KeywordRule` is a set of phrases and one signed weight (negative for bad news). Every phrase
is a case-insensitive regular expression (a plain phrase is one) matched on whole words: it must
not start or end inside a word, so "upgrade" does not match inside "downgrade". Headlines are
matched with runs of whitespace collapsed to one space.

`parse_keyword_rules` builds a rules table from config; the shipped one is
`catalyst.pipeline.news_keywords.DEFAULT_KEYWORD_RULES` (the configuration adds to it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class NewsClass(StrEnum):
    """The kinds of news a headline can be; the value is the config key."""

    EARNINGS_BEAT = "earnings_beat"
    EARNINGS_MISS = "earnings_miss"
    GUIDANCE_RAISED = "guidance_raised"
    GUIDANCE_CUT = "guidance_cut"
    FDA_CLINICAL = "fda_clinical"
    CLINICAL_SETBACK = "clinical_setback"
    ANALYST_UPGRADE = "analyst_upgrade"
    ANALYST_DOWNGRADE = "analyst_downgrade"
    MERGER_ACQUISITION = "merger_acquisition"
    CONTRACT_PARTNERSHIP = "contract_partnership"
    SHAREHOLDER_RETURN = "shareholder_return"
    OFFERING_DILUTION = "offering_dilution"
    LEGAL_REGULATORY = "legal_regulatory"
    DISTRESS = "distress"

    @property
    def label(self) -> str:
        """A short name for a person reading a candidate's reasons."""
        return _LABELS[self]


_LABELS = {
    NewsClass.EARNINGS_BEAT: "earnings beat",
    NewsClass.EARNINGS_MISS: "earnings miss",
    NewsClass.GUIDANCE_RAISED: "guidance raised",
    NewsClass.GUIDANCE_CUT: "guidance cut",
    NewsClass.FDA_CLINICAL: "FDA/clinical",
    NewsClass.CLINICAL_SETBACK: "clinical setback",
    NewsClass.ANALYST_UPGRADE: "analyst upgrade",
    NewsClass.ANALYST_DOWNGRADE: "analyst downgrade",
    NewsClass.MERGER_ACQUISITION: "M&A",
    NewsClass.CONTRACT_PARTNERSHIP: "contract/partnership",
    NewsClass.SHAREHOLDER_RETURN: "buyback/dividend",
    NewsClass.OFFERING_DILUTION: "offering/dilution",
    NewsClass.LEGAL_REGULATORY: "legal/regulatory",
    NewsClass.DISTRESS: "distress",
}


class KeywordRuleError(ValueError):
    """A keyword rule that cannot be used; `key` names the offending entry."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """Phrases (case-insensitive regexes, whole words) and the signed weight of a match."""

    phrases: tuple[str, ...]
    weight: float
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.phrases, str) or not self.phrases:
            raise KeywordRuleError("phrases", "must be a non-empty list of phrases")
        for index, phrase in enumerate(self.phrases):
            _check_phrase(f"phrases[{index}]", phrase)
        if isinstance(self.weight, bool) or not isinstance(self.weight, int | float):
            raise KeywordRuleError("weight", f"must be a number, got {self.weight!r}")
        if not math.isfinite(self.weight):
            raise KeywordRuleError("weight", f"must be finite, got {self.weight!r}")
        object.__setattr__(self, "weight", float(self.weight))
        alternatives = "|".join(f"(?:{phrase})" for phrase in self.phrases)
        try:
            pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        except re.error as exc:  # fine alone, not together: a group reference, an inline flag
            raise KeywordRuleError("phrases", f"cannot be combined ({exc})") from None
        object.__setattr__(self, "pattern", pattern)

    def matches(self, headline: str) -> bool:
        """Whether any phrase occurs in `headline` as whole words (whitespace as given)."""
        return self.pattern.search(headline) is not None


def classify_headline(
    headline: str, rules: Mapping[NewsClass, KeywordRule]
) -> tuple[NewsClass, ...]:
    """Every class whose rule matches `headline`, each once, in `NewsClass` order."""
    text = " ".join(headline.split())
    return tuple(kind for kind in NewsClass if kind in rules and rules[kind].matches(text))


def parse_keyword_rules(mapping: Mapping[str, object]) -> dict[NewsClass, KeywordRule]:
    """Rules from a plain mapping, as YAML gives it: `class -> {phrases: [...], weight: x}`.

    The result holds exactly the classes given; to change a few and keep the rest, use
    `{**DEFAULT_KEYWORD_RULES, **parse_keyword_rules(m)}` (the defaults are in `news_keywords`).
    Raises `KeywordRuleError` (a `ValueError`) whose `key` names the bad entry, e.g.
    `fda_clinical.phrases[2]`.
    """
    if not isinstance(mapping, Mapping):
        raise KeywordRuleError("keyword rules", "must be a mapping of news class to rule")
    rules: dict[NewsClass, KeywordRule] = {}
    for name, raw in mapping.items():
        kind = _news_class(name)
        if not isinstance(raw, Mapping):
            raise KeywordRuleError(str(name), "must be a mapping with 'phrases' and 'weight'")
        unknown = sorted(set(map(str, raw)) - {"phrases", "weight"})
        if unknown:
            raise KeywordRuleError(f"{name}.{unknown[0]}", "unknown key (expected phrases, weight)")
        for required in ("phrases", "weight"):
            if required not in raw:
                raise KeywordRuleError(f"{name}.{required}", "missing")
        phrases = raw["phrases"]
        if not isinstance(phrases, list | tuple):
            raise KeywordRuleError(f"{name}.phrases", "must be a list of phrases")
        try:
            rules[kind] = KeywordRule(phrases=tuple(phrases), weight=raw["weight"])
        except KeywordRuleError as exc:
            raise KeywordRuleError(f"{name}.{exc.key}", exc.problem) from None
    return rules


def _news_class(name: object) -> NewsClass:
    try:
        return NewsClass(str(name))
    except ValueError:
        known = ", ".join(kind.value for kind in NewsClass)
        raise KeywordRuleError(str(name), f"unknown news class (known: {known})") from None


def _check_phrase(key: str, phrase: object) -> None:
    if not isinstance(phrase, str) or not phrase.strip():
        raise KeywordRuleError(key, f"must be a non-empty string, got {phrase!r}")
    try:
        compiled = re.compile(phrase, re.IGNORECASE)
    except re.error as exc:
        raise KeywordRuleError(key, f"not a valid regular expression ({exc}): {phrase!r}") from None
    # A phrase that matches nothing at all would match every headline.
    if compiled.search("") is not None:
        raise KeywordRuleError(key, f"matches an empty headline: {phrase!r}")
