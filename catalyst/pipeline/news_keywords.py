"""The shipped keyword table, `DEFAULT_KEYWORD_RULES`: phrases and weights per news class.

Weights are per headline before recency (see `catalyst.pipeline.news`). Two ideas set them:
- a specific setback outweighs the generic mention it comes with: "Phase 3 trial fails to meet
  its primary endpoint" matches both FDA/clinical (+0.8) and clinical setback (-1.2), and nets
  negative;
- price-action words ("surges", "plunges") are not a class: the momentum feature already measures
  the move from prices, and counting the word too would count the same move twice.

The phrases prefer multi-word forms ("beat estimates", "raises guidance", "upgraded") to single
words, because only the headline text is read: a company whose name is a keyword can be misread.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from catalyst.domain.news_classes import KeywordRule, NewsClass


def _words(most: int) -> str:
    """Up to `most` words in between ("cuts full-year outlook"), none ending a clause (a comma,
    semicolon or colon), so "cuts jobs, keeps outlook" is not a cut in guidance."""
    return rf"(?:[^\s,;:]+ ){{0,{most}}}"


# Fragments of the default phrases.
_WORDS = _words(3)
_EXPECTED = r"(?:estimates?|expectations|consensus|views?|forecasts?|street)"
_GUIDANCE = r"(?:guidance|outlook|forecasts?|projections?)"
_RAISE = r"(?:raises?|raised|raising|lifts?|lifted|boosts?|boosted|hikes?|hiked|upped|increases?|increased)"  # noqa: E501
_CUT = r"(?:cuts?|cutting|lowers?|lowered|lowering|reduces?|reduced|slashe[sd]|trims?|trimmed)"
_TARGET = r"(?:price target|target price|pt)"
_BULLISH = r"(?:buy|strong buy|outperform|overweight|accumulate)"
_BEARISH = r"(?:sell|strong sell|underperform|underweight)"
_INITIATE = r"(?:initiat\w*|starts?|started|resumes?|resumed|reinstat\w*)"

DEFAULT_KEYWORD_RULES: Mapping[NewsClass, KeywordRule] = MappingProxyType(
    {
        NewsClass.EARNINGS_BEAT: KeywordRule(
            phrases=(
                r"beats",
                r"(?:earnings|revenue|eps|profit|sales|quarterly|q[1-4]) beat",
                rf"beat (?:on|{_WORDS}{_EXPECTED})",
                rf"tops? {_WORDS}{_EXPECTED}",
                rf"(?:exceeds?|exceeded|surpass(?:es|ed)?|outpace[sd]?|crushe[sd]) {_WORDS}{_EXPECTED}",  # noqa: E501
                rf"above {_WORDS}{_EXPECTED}",
                r"better[- ]than[- ]expected",
                rf"record {_words(1)}(?:revenue|sales|earnings|profit|results)",
            ),
            weight=0.7,
        ),
        NewsClass.EARNINGS_MISS: KeywordRule(
            phrases=(
                r"miss(?:es|ed)",
                rf"miss (?:on|{_WORDS}{_EXPECTED})",  # "Sales $500M Miss $510M Estimate"
                rf"missing {_WORDS}{_EXPECTED}",
                r"(?:falls?|fell|comes? in|came in) short",
                rf"(?:below|short of|trails?|trailed|lags?|lagged) {_WORDS}{_EXPECTED}",
                r"worse[- ]than[- ]expected",
                rf"disappointing {_words(1)}(?:results|earnings|quarter|revenue|sales)",
                r"(?:loss|losses) widen(?:s|ed)?",
            ),
            weight=-0.7,
        ),
        NewsClass.GUIDANCE_RAISED: KeywordRule(
            phrases=(
                rf"{_RAISE} {_WORDS}{_GUIDANCE}",
                rf"{_GUIDANCE} (?:above|tops?|beats?|exceeds?|ahead of)",
                rf"(?:sees|guides|projects|forecasts) {_WORDS}(?:above|ahead of|higher than)",
                rf"(?:strong|upbeat|bullish|rosy|better[- ]than[- ]expected) {_WORDS}{_GUIDANCE}",
            ),
            weight=0.7,
        ),
        NewsClass.GUIDANCE_CUT: KeywordRule(
            phrases=(
                rf"(?:{_CUT}|withdraws?|withdrew|pulls?|pulled|suspends?|suspended) {_WORDS}{_GUIDANCE}",  # noqa: E501
                rf"{_GUIDANCE} (?:below|miss(?:es|ed)?|short of|trails?|cut|lowered|reduced|slashed|withdrawn)",  # noqa: E501
                rf"(?:sees|guides|projects|forecasts) {_WORDS}(?:below|short of|lower than)",
                rf"(?:weak|soft|downbeat|gloomy|disappointing|bleak) {_WORDS}{_GUIDANCE}",
                r"profit warning",
                rf"warns (?:on|of) {_words(1)}(?:sales|revenue|profit|earnings|demand)",
            ),
            weight=-0.8,
        ),
        NewsClass.FDA_CLINICAL: KeywordRule(
            phrases=(
                r"(?:fda|ema) (?:approv\w*|clear\w*|grants?|granted|accepts?|accepted|authoriz\w*|nod)",  # noqa: E501
                r"approv(?:al|ed) (?:by|from) (?:the )?(?:fda|ema)",
                r"breakthrough (?:therapy |device )?designation",
                r"fast[- ]track",
                r"orphan[- ]drug",
                r"priority review",
                r"510\(k\)",
                r"investigational new drug",
                r"ind (?:application|clearance|filing|submission|acceptance)",
                r"phase (?:[1-3]|i{1,3})[ab]?(?:/(?:[1-3]|i{1,3}))?",
                rf"top[- ]?line {_words(1)}(?:data|results)",
                rf"(?:meets?|met|achieve[sd]?|hits?) {_WORDS}(?:primary|main) endpoints?",
                rf"positive {_WORDS}(?:data|results|readout|trial|study)",
                r"pivotal (?:trial|study|data)",
                r"clinical (?:trial|study|data|results)",
            ),
            weight=0.8,
        ),
        NewsClass.CLINICAL_SETBACK: KeywordRule(
            phrases=(
                r"complete response letter",
                r"crl",
                r"clinical hold",
                rf"(?:fda|ema) {_words(2)}(?:rejects?|rejected|declines?|declined|refuses?|refused|denies|denied|delays?|delayed)",  # noqa: E501
                r"refuse[- ]to[- ]file",
                rf"(?:fails?|failed|failing|miss(?:es|ed)?) {_words(4)}endpoints?",
                rf"(?:trial|study) {_words(2)}(?:halted|stopped|discontinued|terminated|paused|fails?|failed|miss(?:es|ed))",  # noqa: E501
                rf"(?:halts?|stops?|discontinues?|terminates?|pauses?) {_words(3)}(?:trial|study)",
                r"patient deaths?",
            ),
            weight=-1.2,
        ),
        NewsClass.ANALYST_UPGRADE: KeywordRule(
            phrases=(
                r"upgraded",
                r"upgrades",
                r"(?:analyst |rating )?upgrade (?:to|from)",
                rf"{_RAISE} {_WORDS}{_TARGET}",
                rf"{_TARGET} {_words(2)}(?:raised|lifted|boosted|increased|hiked)",
                rf"{_INITIATE} {_words(5)}(?:at|with) (?:an? )?{_BULLISH}",
                r"top pick",
            ),
            weight=0.4,
        ),
        NewsClass.ANALYST_DOWNGRADE: KeywordRule(
            phrases=(
                r"downgrade[ds]?",
                rf"{_CUT} {_WORDS}{_TARGET}",
                rf"{_TARGET} {_words(2)}(?:cut|lowered|reduced|slashed|trimmed)",
                rf"{_INITIATE} {_words(5)}(?:at|with) (?:an? )?{_BEARISH}",
            ),
            weight=-0.4,
        ),
        NewsClass.MERGER_ACQUISITION: KeywordRule(
            phrases=(
                r"acquire[sd]?",
                r"acquiring",
                r"acquisition",
                r"merger",
                r"merge[sd]?",
                r"buyout",
                r"takeover",
                r"tender offer",
                r"(?:take|taking|go|going) private",
                r"agree[sd]? to (?:be )?(?:bought|buy|sold)",
                r"all[- ](?:cash|stock) deal",
            ),
            weight=0.6,
        ),
        NewsClass.CONTRACT_PARTNERSHIP: KeywordRule(
            phrases=(
                r"partnership",
                r"partners? with",
                r"collaborat(?:ion|es?|ing)",
                r"joint venture",
                rf"(?:wins?|won|lands?|landed|awarded|secures?|secured|signs?|signed|receives?|received|inks?|inked) {_words(4)}(?:contracts?|awards?)",  # noqa: E501
                r"(?:licensing|license|supply|distribution) (?:agreement|deal)",
                r"(?:purchase|production|follow-on) orders?",  # not a bare "order": a court's
            ),
            weight=0.5,
        ),
        NewsClass.SHAREHOLDER_RETURN: KeywordRule(
            phrases=(
                r"buy-?backs?",
                r"buys? back",
                r"(?:share|stock) repurchases?",
                r"repurchase (?:program|plan|authorization)",
                rf"{_RAISE} {_words(2)}dividend",
                r"special dividend",
            ),
            weight=0.4,
        ),
        NewsClass.OFFERING_DILUTION: KeywordRule(
            phrases=(
                r"(?:public|secondary|follow-on|registered direct|underwritten|overnight|stock|share|equity|common stock|direct) offering",  # noqa: E501
                rf"(?:prices?|priced|pricing of) {_words(5)}offering",
                r"at[- ]the[- ]market",
                r"atm (?:offering|program|facility)",
                r"dilut(?:ion|ive)",
                r"private placement",
                r"mixed shelf",
                r"shelf (?:registration|offering)",
                r"convertible (?:senior )?notes?",
                r"(?:equity|capital) raise",
            ),
            weight=-0.8,
        ),
        NewsClass.LEGAL_REGULATORY: KeywordRule(
            phrases=(
                r"probes?",
                r"investigation",
                r"investigat(?:es|ed|ing)",  # not "investigational": a drug in trials
                r"subpoena(?:s|ed)?",
                r"lawsuits?",
                r"su(?:es|ed|ing)",
                r"class[- ]action",
                r"charged with",
                r"fraud\w*",
                r"indict\w*",
                r"recalls?",
                r"wells notice",
                r"antitrust",
                r"warning letter",
                r"short[- ]seller",
                r"restate(?:s|d|ment)",
            ),
            weight=-0.6,
        ),
        NewsClass.DISTRESS: KeywordRule(
            phrases=(
                r"bankrupt\w*",
                r"chapter 11",
                r"going[- ]concern",
                r"delist\w*",
                r"deficiency notice",
                r"non-?compliance",
                r"reverse (?:stock )?split",
                r"defaults? on",
                rf"(?:cuts?|suspends?|suspended|eliminates?|slashe[sd]) {_words(2)}dividend",
            ),
            weight=-1.0,
        ),
    }
)
