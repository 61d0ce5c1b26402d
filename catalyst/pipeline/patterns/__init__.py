"""Stage 4: chart patterns on one symbol's intraday bars.

Five pure detectors, each `detect_<name>(bars, context, params) -> PatternMatch` over today's
1-minute bars in the `catalyst.pipeline.bars` frame shape (pre-market bars may be present):

- `detect_opening_range_breakout` (1-minute, regular session): `opening_range`;
- `detect_bull_flag` (5-minute, regular session): `bull_flag`;
- `detect_previous_day_high_breakout` (1-minute, pre-market included): `previous_day_high`;
- `detect_vwap_reclaim` (1-minute, regular session): `vwap_reclaim`;
- `detect_higher_lows` (5-minute, regular session): `higher_lows`.

Each module's docstring states its rule, its invalidation price and its strength formula. No
detector raises on odd bars (none, one, flat, gaps, halts, rows with NaN) or returns a
non-finite number; `PatternMatch` itself refuses a strength outside [0, 1] and a match without
an invalidation price.
"""

from catalyst.pipeline.patterns.bull_flag import detect_bull_flag
from catalyst.pipeline.patterns.detection import DETECTORS, best_match, detect_patterns
from catalyst.pipeline.patterns.higher_lows import detect_higher_lows
from catalyst.pipeline.patterns.models import (
    PatternContext,
    PatternKind,
    PatternMatch,
    PatternParams,
)
from catalyst.pipeline.patterns.opening_range import detect_opening_range_breakout
from catalyst.pipeline.patterns.previous_day_high import detect_previous_day_high_breakout
from catalyst.pipeline.patterns.vwap_reclaim import detect_vwap_reclaim

__all__ = [
    "DETECTORS",
    "PatternContext",
    "PatternKind",
    "PatternMatch",
    "PatternParams",
    "best_match",
    "detect_bull_flag",
    "detect_higher_lows",
    "detect_opening_range_breakout",
    "detect_patterns",
    "detect_previous_day_high_breakout",
    "detect_vwap_reclaim",
]
