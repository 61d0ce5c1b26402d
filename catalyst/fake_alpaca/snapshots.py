"""`/v2/stocks/snapshots` as Alpaca answers it, before and after the regular session opens.

Every known symbol gets a snapshot at every instant (an unknown one is left out, as Alpaca does).
What it holds depends on whether today's session has opened:

- **Before the open** Alpaca has no bar for today yet: `dailyBar` is the latest *completed*
  session's bar (yesterday's, stamped at its exchange-local midnight) and `prevDailyBar` the one
  before it. `latestTrade` and `latestQuote` come from the pre-market; a symbol with no pre-market
  volume has not traded today, so its latest trade is yesterday's close, stamped at yesterday's
  close. `minuteBar` is yesterday's last minute when the simulator still holds that day's minutes
  (it models no pre-market minute bars), else absent.
- **From the open on** `dailyBar` is today's session so far (its volume includes the pre-market,
  as Alpaca's does), `prevDailyBar` yesterday's, and `minuteBar` the last completed minute (absent
  during the very first minute).

A bar-level simulation knows no trade sizes: trades are reported as a round lot (100) and quote
sizes as 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from catalyst.domain.models import Bar, Snapshot
from catalyst.fake_alpaca.payloads import bar_json
from catalyst.fake_alpaca.wire import rfc3339
from catalyst.sim.exchange import SimExchange
from catalyst.sim.exchange_time import exchange_midnight
from catalyst.sim.market import MINUTE, SyntheticMarket

ROUND_LOT = 100


def snapshots_json(exchange: SimExchange, symbols: Sequence[str]) -> dict[str, Any]:
    """The `{symbol: snapshot}` map for the known symbols among `symbols`, at the exchange's now."""
    market, now = exchange.market, exchange.now
    snaps = market.snapshots(symbols, now)
    if market.minute_index(now) < 0:
        return _before_open(exchange, snaps)
    return _in_session(market, now, snaps)


def _in_session(
    market: SyntheticMarket, now: datetime, snaps: dict[str, Snapshot]
) -> dict[str, Any]:
    known = list(snaps)
    done = min(market.minute_index(now), market.minutes)  # completed minute bars
    minute: dict[str, list[Bar]] = {}
    if done >= 1:
        last = market.bar_start(done - 1)
        minute = market.minute_bars(known, last, last + MINUTE, now)
    previous = market.daily_bars(known, 1)
    today = exchange_midnight(market.session.day)
    result: dict[str, Any] = {}
    for symbol, snap in snaps.items():
        daily = {
            "t": rfc3339(today),
            "o": float(snap.day_open),
            "h": float(snap.day_high),
            "l": float(snap.day_low),
            "c": float(snap.last_price),
            "v": snap.day_volume,
            "n": None,
            "vw": None,
        }
        result[symbol] = _snapshot(
            snap,
            trade=(snap.last_price, snap.timestamp),
            daily=daily,
            previous=_last_json(previous.get(symbol)),
            minute=_last_json(minute.get(symbol)),
        )
    return result


def _before_open(exchange: SimExchange, snaps: dict[str, Snapshot]) -> dict[str, Any]:
    market = exchange.market
    known = list(snaps)
    sessions = market.daily_bars(known, 2)  # [the session before yesterday, yesterday]
    yesterday = exchange.feed.sessions.previous_session(market.session.day)
    last_minutes = _last_minutes(exchange, yesterday.day, known)
    result: dict[str, Any] = {}
    for symbol, snap in snaps.items():
        bars = sessions.get(symbol, [])
        if not bars:
            continue  # no completed session to report (the simulator always has one)
        closed = bars[-1]
        traded_today = snap.day_volume > 0  # before the open: the simulator's pre-market volume
        if traded_today:
            trade = (snap.last_price, snap.timestamp)
        else:
            trade = (closed.close, yesterday.close)
        result[symbol] = _snapshot(
            snap,
            trade=trade,
            daily=bar_json(closed),
            previous=bar_json(bars[-2]) if len(bars) > 1 else None,
            minute=_last_json(last_minutes.get(symbol)),
        )
    return result


def _last_minutes(exchange: SimExchange, day: date, symbols: list[str]) -> dict[str, list[Bar]]:
    """Each symbol's last minute bar of session `day`, if the simulator still holds that day."""
    for market in exchange.feed.recent_markets():
        if market.session.day == day:
            last = market.bar_start(market.minutes - 1)
            return market.minute_bars(symbols, last, last + MINUTE, exchange.now)
    return {}


def _snapshot(
    snap: Snapshot,
    *,
    trade: tuple[Decimal, datetime],
    daily: dict[str, Any],
    previous: dict[str, Any] | None,
    minute: dict[str, Any] | None,
) -> dict[str, Any]:
    price, at = trade
    result: dict[str, Any] = {
        "latestTrade": {
            "t": rfc3339(at),
            "x": "V",
            "p": float(price),
            "s": ROUND_LOT,
            "c": ["@"],
            "z": "C",
        },
        "dailyBar": daily,
        "minuteBar": minute,
        "prevDailyBar": previous,
    }
    if snap.bid is not None and snap.ask is not None:
        result["latestQuote"] = {
            "t": rfc3339(snap.timestamp),
            "ax": "V",
            "ap": float(snap.ask),
            "as": 1,
            "bx": "V",
            "bp": float(snap.bid),
            "bs": 1,
            "c": ["R"],
            "z": "C",
        }
    return result


def _last_json(bars: list[Bar] | None) -> dict[str, Any] | None:
    return bar_json(bars[-1]) if bars else None
