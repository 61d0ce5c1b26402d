"""Pure parts of the Alpaca adapter: the request limiter, translation, paper/live choice."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from support import make_settings

from catalyst.brokers.alpaca import build_alpaca_broker
from catalyst.brokers.alpaca.factory import (
    LIVE_TRADING_URL,
    PAPER_TRADING_URL,
    trading_url,
)
from catalyst.brokers.alpaca.rate_limit import RequestLimiter
from catalyst.brokers.alpaca.translate import (
    fill_from_json,
    parse_timestamp,
    snapshot_from_json,
)
from catalyst.config.models import Settings
from catalyst.domain.errors import ConfigError
from catalyst.domain.models import Side
from catalyst.timekeeping.clock import SimClock

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York
MINUTE = timedelta(minutes=1)


# ---------------------------------------------------------------------------- limiter


async def _acquire_times(limit: int, arrivals: list[float]) -> list[datetime]:
    clock = SimClock(START)
    limiter = RequestLimiter(clock, limit)
    times: list[datetime] = []

    async def caller(delay: float) -> None:
        await clock.sleep(delay)
        await limiter.acquire()
        times.append(clock.now())

    await asyncio.gather(*(caller(delay) for delay in arrivals))
    return sorted(times)


@settings(max_examples=40, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=12),
    arrivals=st.lists(st.floats(min_value=0, max_value=200), min_size=1, max_size=60),
)
def test_limiter_never_allows_more_than_limit_in_any_rolling_minute(
    limit: int, arrivals: list[float]
) -> None:
    times = asyncio.run(_acquire_times(limit, arrivals))
    assert len(times) == len(arrivals)
    for i, first in enumerate(times):
        in_window = [t for t in times[i:] if t < first + MINUTE]
        assert len(in_window) <= limit


async def test_limiter_lets_a_burst_up_to_the_limit_through_at_once() -> None:
    times = await _acquire_times(5, [0.0] * 5)
    assert times == [START] * 5


async def test_limiter_makes_the_next_caller_wait_for_the_window() -> None:
    times = await _acquire_times(3, [0.0] * 4)
    assert times[-1] == START + MINUTE


async def test_limiter_pause_holds_every_caller_until_the_reset() -> None:
    clock = SimClock(START)
    limiter = RequestLimiter(clock, 100)
    limiter.pause_until(START + timedelta(seconds=30))
    await limiter.acquire()
    assert clock.now() == START + timedelta(seconds=30)


# ------------------------------------------------------------------------- translation


def test_parse_timestamp_handles_nanoseconds_and_offsets() -> None:
    parsed = parse_timestamp("2022-05-16T16:32:24.14373588-04:00")
    assert parsed == datetime(2022, 5, 16, 20, 32, 24, 143735, tzinfo=UTC)
    assert parse_timestamp("2026-11-24T15:00:00Z") == START


TODAY = START.date()  # 2026-11-24; START is 10:00 in New York
PREMARKET_TRADE = {"t": "2026-11-24T14:10:00Z", "p": 10.9, "s": 100}
QUOTE = {"t": "2026-11-24T14:10:00Z", "bp": 10.88, "bs": 1, "ap": 10.92, "as": 1}
# Daily bars are stamped at New York midnight: 05:00 UTC in November.
TODAYS_BAR = {"t": "2026-11-24T05:00:00Z", "o": 10.8, "h": 11, "l": 9.5, "c": 10.5, "v": 1000}
MONDAYS_BAR = {"t": "2026-11-23T05:00:00Z", "o": 10, "h": 10.6, "l": 9.8, "c": 10.25, "v": 9000}
FRIDAYS_BAR = {"t": "2026-11-20T05:00:00Z", "o": 9, "h": 10.1, "l": 8.9, "c": 10.0, "v": 7000}


def test_snapshot_in_session_takes_the_day_from_daily_bar_and_the_close_from_prev() -> None:
    raw = {"latestTrade": PREMARKET_TRADE, "latestQuote": QUOTE, "dailyBar": TODAYS_BAR}
    snapshot = snapshot_from_json("A", {**raw, "prevDailyBar": MONDAYS_BAR}, TODAY)
    assert snapshot is not None
    assert (snapshot.day_open, snapshot.day_high, snapshot.day_low, snapshot.day_volume) == (
        Decimal("10.8"),
        Decimal("11"),
        Decimal("9.5"),
        1000,
    )
    assert (snapshot.prev_close, snapshot.prev_volume) == (Decimal("10.25"), 9000)
    assert (snapshot.bid, snapshot.ask) == (Decimal("10.88"), Decimal("10.92"))


def test_snapshot_before_the_open_reads_daily_bar_as_the_previous_session() -> None:
    raw = {
        "latestTrade": PREMARKET_TRADE,
        "latestQuote": QUOTE,
        "dailyBar": MONDAYS_BAR,
        "prevDailyBar": FRIDAYS_BAR,
        "minuteBar": None,
    }
    snapshot = snapshot_from_json("A", raw, TODAY)
    assert snapshot is not None
    assert (snapshot.prev_close, snapshot.prev_volume) == (Decimal("10.25"), 9000)
    assert (snapshot.day_open, snapshot.day_high, snapshot.day_low, snapshot.day_volume) == (
        0,
        0,
        0,
        0,
    )
    assert snapshot.last_price == Decimal("10.9")
    assert snapshot.timestamp == datetime(2026, 11, 24, 14, 10, tzinfo=UTC)


def test_snapshot_today_is_the_exchange_date_not_the_utc_date() -> None:
    # 00:30 UTC on the 24th is still the 23rd in New York: Monday's bar is today's bar then.
    raw = {"latestTrade": PREMARKET_TRADE, "dailyBar": MONDAYS_BAR, "prevDailyBar": FRIDAYS_BAR}
    snapshot = snapshot_from_json("A", raw, date(2026, 11, 23))
    assert snapshot is not None
    assert (snapshot.day_volume, snapshot.prev_close) == (9000, Decimal("10.0"))


def test_snapshot_before_the_open_needs_no_prev_daily_bar() -> None:
    snapshot = snapshot_from_json(
        "A", {"latestTrade": PREMARKET_TRADE, "dailyBar": MONDAYS_BAR}, TODAY
    )
    assert snapshot is not None
    assert snapshot.prev_close == Decimal("10.25")
    assert snapshot.bid is None


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {},
        {"latestTrade": PREMARKET_TRADE, "dailyBar": TODAYS_BAR},  # today's bar, no previous
        {"dailyBar": MONDAYS_BAR, "prevDailyBar": FRIDAYS_BAR},  # no trade
        {"latestTrade": PREMARKET_TRADE, "prevDailyBar": MONDAYS_BAR},  # no daily bar
        {"latestTrade": {**PREMARKET_TRADE, "p": 0}, "dailyBar": MONDAYS_BAR},
        {"latestTrade": PREMARKET_TRADE, "dailyBar": {**MONDAYS_BAR, "t": "yesterday"}},
    ],
)
def test_snapshot_when_half_of_it_is_missing_is_skipped(raw: dict[str, Any] | None) -> None:
    assert snapshot_from_json("A", raw, TODAY) is None


def test_fill_side_short_sale_is_a_sell() -> None:
    fill = fill_from_json(
        {
            "order_id": "o1",
            "symbol": "A",
            "side": "sell_short",
            "qty": "3",
            "price": "9.99",
            "transaction_time": "2026-11-24T15:00:00Z",
        },
        "cid",
    )
    assert fill.side is Side.SELL
    assert fill.qty == 3


# ---------------------------------------------------------------------- paper and live


def _alpaca_settings(tmp_path: Path, *, live: bool, url: str | None = None) -> Settings:
    base = make_settings(tmp_path, broker={"kind": "alpaca", "trading_base_url": url})
    return base.model_copy(
        update={
            "live_trading_confirmed": live,
            "secrets": base.secrets.model_copy(
                update={"alpaca_key_id": SecretStr("k"), "alpaca_secret_key": SecretStr("s")}
            ),
        }
    )


def test_trading_url_is_paper_unless_live_is_confirmed(tmp_path: Path) -> None:
    assert trading_url(_alpaca_settings(tmp_path, live=False)) == PAPER_TRADING_URL
    assert trading_url(_alpaca_settings(tmp_path, live=True)) == LIVE_TRADING_URL


def test_trading_url_override_to_the_live_host_without_confirmation_is_refused(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="live"):
        trading_url(_alpaca_settings(tmp_path, live=False, url="https://api.alpaca.markets/"))


def test_trading_url_override_is_used_as_given(tmp_path: Path) -> None:
    settings = _alpaca_settings(tmp_path, live=False, url="http://127.0.0.1:8765/")
    assert trading_url(settings) == "http://127.0.0.1:8765"


async def test_build_alpaca_broker_is_paper_by_default(tmp_path: Path) -> None:
    broker = build_alpaca_broker(_alpaca_settings(tmp_path, live=False), SimClock(START))
    assert not broker.live
    assert broker.limiter.limit == 190


async def test_build_alpaca_broker_is_live_only_when_confirmed(tmp_path: Path) -> None:
    broker = build_alpaca_broker(_alpaca_settings(tmp_path, live=True), SimClock(START))
    assert broker.live


def test_build_alpaca_broker_for_a_sim_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"broker\.kind"):
        build_alpaca_broker(make_settings(tmp_path), SimClock(START))


def test_build_alpaca_broker_without_credentials_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, broker={"kind": "alpaca"})
    with pytest.raises(ConfigError, match="credentials"):
        build_alpaca_broker(settings, SimClock(START))
