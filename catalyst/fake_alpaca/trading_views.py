"""Pure renderers for the trading endpoints that are not about one object: clock, calendar and
the FILL activity feed (filtering and Alpaca's id-based paging)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import TradingSession
from catalyst.fake_alpaca.journal import FillRecord
from catalyst.fake_alpaca.payloads import ACCOUNT_ID
from catalyst.fake_alpaca.wire import money, rfc3339
from catalyst.sim.exchange_time import exchange_date
from catalyst.sim.feed import SessionSource


def _local(at: datetime) -> str:
    return at.astimezone(EXCHANGE_TZ).isoformat()


def clock_json(calendar: SessionSource, now: datetime) -> dict[str, Any]:
    """GET /v2/clock: is the market open now, and the next open and close (exchange time)."""
    today = calendar.session(exchange_date(now))
    upcoming = calendar.next_session(exchange_date(now))
    is_open = today is not None and today.open <= now < today.close
    next_open = today.open if today is not None and now < today.open else upcoming.open
    next_close = today.close if today is not None and now < today.close else upcoming.close
    return {
        "timestamp": _local(now),
        "is_open": is_open,
        "next_open": _local(next_open),
        "next_close": _local(next_close),
    }


def _hhmm(at: datetime) -> str:
    return at.astimezone(EXCHANGE_TZ).strftime("%H:%M")


def calendar_json(calendar: SessionSource, start: date, end: date) -> list[dict[str, Any]]:
    """GET /v2/calendar: sessions from `start` to `end` inclusive, times as "HH:MM" (ET)."""
    if end < start:
        raise ValueError("end must not be before start")
    sessions: list[TradingSession] = []
    day = start
    while day <= end:
        session = calendar.session(day)
        if session is not None:
            sessions.append(session)
        day += timedelta(days=1)
    return [
        {
            "date": s.day.isoformat(),
            "open": _hhmm(s.open),
            "close": _hhmm(s.close),
            "session_open": "0400",
            "session_close": "2000",
            "settlement_date": calendar.next_session(s.day).day.isoformat(),
        }
        for s in sessions
    ]


def activity_json(record: FillRecord) -> dict[str, Any]:
    """One Alpaca FILL activity (`account_id` included so alpaca-py's TradeActivity parses it)."""
    fill = record.fill
    return {
        "id": record.activity_id,
        "account_id": ACCOUNT_ID,
        "activity_type": "FILL",
        "transaction_time": rfc3339(fill.timestamp),
        "type": "fill" if record.leaves_qty == 0 else "partial_fill",
        "price": money(fill.price),
        "qty": str(fill.qty),
        "side": fill.side.value,
        "symbol": fill.symbol,
        "leaves_qty": str(record.leaves_qty),
        "order_id": fill.order_id,
        "cum_qty": str(record.cum_qty),
        "order_status": record.order_status.value,
    }


def activities(
    records: Sequence[FillRecord],
    *,
    after: datetime | None,
    until: datetime | None,
    day: date | None,
    descending: bool,
    page_size: int,
    page_token: str | None,
) -> list[dict[str, Any]]:
    """One page of FILL activities. `page_token` is the id of the last item of the previous page."""
    chosen = [
        r
        for r in records
        if (after is None or r.fill.timestamp > after)
        and (until is None or r.fill.timestamp < until)
        and (day is None or exchange_date(r.fill.timestamp) == day)
    ]
    chosen.sort(key=lambda r: (r.fill.timestamp, r.seq), reverse=descending)
    if page_token is not None:
        ids = [r.activity_id for r in chosen]
        chosen = chosen[ids.index(page_token) + 1 :] if page_token in ids else []
    return [activity_json(r) for r in chosen[:page_size]]
