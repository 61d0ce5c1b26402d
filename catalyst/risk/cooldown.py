"""Per-symbol cooldown after a stop-out: a name that just hit its stop is not bought again at once.

A catalyst that failed once today tends to be re-flagged scan after scan (the gap, the news and
the volume are all still there), and buying it again repeats the loss. Like Freqtrade's stoploss
guard, a symbol whose protective stop filled is left alone for `stop_out_cooldown_minutes`
(`risk_limits`); the default, 390, is a whole regular session: not again today. 0 turns it off.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta


def cooling_down(
    stopped_out_at: Mapping[str, datetime], now: datetime, cooldown_minutes: int
) -> dict[str, datetime]:
    """The symbols still cooling down at `now`, each with the instant it may be entered again.

    `stopped_out_at` holds each symbol's latest stop-loss fill today (the shell reads it from the
    journal, so it survives a restart). Times must be timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("cooling_down needs a timezone-aware `now`")
    if cooldown_minutes <= 0:
        return {}
    window = timedelta(minutes=cooldown_minutes)
    return {
        symbol: at + window for symbol, at in sorted(stopped_out_at.items()) if now < at + window
    }
