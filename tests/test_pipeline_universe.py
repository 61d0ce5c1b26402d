from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from stubs import AT, asset, snapshot

from catalyst.domain.models import Asset, Snapshot
from catalyst.pipeline.candidates import StageRejection, UniverseMember
from catalyst.pipeline.universe import (
    SkipReason,
    count_by_reason,
    most_liquid,
    previous_dollar_volume,
    screen_assets,
    screen_universe,
)

D = Decimal
NOW = AT + timedelta(seconds=30)  # the stub snapshots last traded 30 s ago


def screen(assets: list[Asset], snapshots: dict[str, Snapshot], **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "min_price": D("2"),
        "max_price": D("500"),
        "now": NOW,
        "max_quote_age": timedelta(minutes=5),
    }
    kwargs.update(overrides)
    return screen_universe(assets, snapshots, **kwargs)


def test_screen_universe_keeps_a_tradable_listed_equity_with_fresh_sane_data() -> None:
    result = screen([asset()], {"AAA": snapshot()})
    assert [m.symbol for m in result.kept] == ["AAA"]
    assert result.kept[0].sector == "Tech"
    assert result.rejected == ()


@pytest.mark.parametrize(
    ("asset_changes", "snapshot_changes", "reason"),
    [
        ({"tradable": False}, {}, "not tradable"),
        ({"exchange": "OTC"}, {}, "not a US-listed equity"),
        ({"exchange": "CRYPTO"}, {}, "not a US-listed equity"),
        ({}, {"symbol": "BBB"}, "snapshot is for"),
        ({}, {"last_price": D("NaN")}, "invalid last price"),
        ({}, {"last_price": D("sNaN")}, "invalid last price"),
        ({}, {"last_price": D("Infinity")}, "invalid last price"),
        ({}, {"last_price": D("0")}, "invalid last price"),
        ({}, {"last_price": D("-3")}, "invalid last price"),
        ({}, {"prev_close": D("NaN")}, "invalid previous close"),
        ({}, {"prev_close": D("0")}, "invalid previous close"),
        ({}, {"day_open": D("NaN")}, "invalid day open"),
        ({}, {"day_high": D("-1")}, "invalid day high"),
        ({}, {"day_low": D("-Infinity")}, "invalid day low"),
        ({}, {"day_open": D("0")}, "volume today but no day open"),
        ({}, {"day_volume": -5}, "negative volume"),
        ({}, {"day_volume": 0, "prev_volume": 0}, "zero volume"),
        ({}, {"timestamp": NOW - timedelta(minutes=6)}, "stale"),
        ({}, {"timestamp": datetime(2026, 11, 24, 14, 59)}, "no timezone"),
        ({}, {"bid": D("19.00"), "ask": D("21.00")}, "spread"),
        ({}, {"bid": D("20.02"), "ask": D("20.01")}, "crossed quote"),
        ({}, {"bid": D("NaN"), "ask": D("20.01")}, "invalid quote"),
        ({}, {"last_price": D("1.99")}, "outside"),
        ({}, {"last_price": D("500.01")}, "outside"),
    ],
)
def test_screen_universe_drops_unusable_symbols_with_a_reason(
    asset_changes: dict[str, Any], snapshot_changes: dict[str, Any], reason: str
) -> None:
    result = screen([asset(**asset_changes)], {"AAA": snapshot(**snapshot_changes)})
    assert result.kept == ()
    assert len(result.rejected) == 1
    assert result.rejected[0].symbol == "AAA"
    assert reason in result.rejected[0].reason


def test_screen_universe_drops_a_symbol_without_snapshot() -> None:
    result = screen([asset()], {})
    assert [(r.symbol, r.reason) for r in result.rejected] == [("AAA", "no snapshot")]


def test_screen_universe_keeps_only_the_first_of_duplicate_assets() -> None:
    result = screen([asset(tradable=False), asset()], {"AAA": snapshot()})
    assert result.kept == ()
    assert [r.reason for r in result.rejected] == ["not tradable", "duplicate asset for symbol"]


@pytest.mark.parametrize("price", [D("2"), D("500")])
def test_screen_universe_price_band_is_inclusive(price: Decimal) -> None:
    result = screen([asset()], {"AAA": snapshot(last_price=price, bid=None, ask=None)})
    assert len(result.kept) == 1


def test_screen_universe_accepts_a_one_sided_or_missing_quote() -> None:
    snaps = {
        "AAA": snapshot("AAA", bid=D("0"), ask=D("20.05")),
        "BBB": snapshot("BBB", bid=None, ask=None),
    }
    result = screen([asset("AAA"), asset("BBB")], snaps)
    assert [m.symbol for m in result.kept] == ["AAA", "BBB"]


def test_screen_universe_before_the_open_accepts_the_previous_session_with_a_longer_age() -> None:
    overnight = snapshot(timestamp=NOW - timedelta(hours=17), day_volume=0, day_open=D("0"))
    assert screen([asset()], {"AAA": overnight}).kept == ()
    result = screen([asset()], {"AAA": overnight}, max_quote_age=timedelta(hours=72))
    assert [m.symbol for m in result.kept] == ["AAA"]


def test_screen_universe_spread_limit_is_configurable() -> None:
    wide = snapshot(bid=D("19.50"), ask=D("20.50"))  # 5 % of mid: allowed by default
    assert len(screen([asset()], {"AAA": wide}).kept) == 1
    assert screen([asset()], {"AAA": wide}, max_spread_pct=D("0.01")).kept == ()


def test_screen_universe_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        screen([asset()], {"AAA": snapshot()}, now=datetime(2026, 11, 24, 15, 0))


@pytest.mark.parametrize(
    ("asset_changes", "snapshot_changes", "kind"),
    [
        ({"tradable": False}, {}, SkipReason.NOT_TRADABLE),
        ({"exchange": "OTC"}, {}, SkipReason.NOT_US_LISTED),
        ({}, {"symbol": "BBB"}, SkipReason.WRONG_SYMBOL),
        ({}, {"last_price": D("NaN")}, SkipReason.INVALID_PRICE),
        ({}, {"day_open": D("0")}, SkipReason.INVALID_PRICE),
        ({}, {"day_volume": 0, "prev_volume": 0}, SkipReason.NO_VOLUME),
        ({}, {"timestamp": NOW - timedelta(minutes=6)}, SkipReason.STALE),
        ({}, {"timestamp": datetime(2026, 11, 24, 14, 59)}, SkipReason.INVALID_TIMESTAMP),
        ({}, {"bid": D("19.00"), "ask": D("21.00")}, SkipReason.WIDE_SPREAD),
        ({}, {"bid": D("20.02"), "ask": D("20.01")}, SkipReason.CROSSED_QUOTE),
        ({}, {"bid": D("NaN"), "ask": D("20.01")}, SkipReason.INVALID_QUOTE),
        ({}, {"last_price": D("1.99")}, SkipReason.OUTSIDE_PRICE_BAND),
    ],
)
def test_every_rejection_carries_a_countable_kind(
    asset_changes: dict[str, Any], snapshot_changes: dict[str, Any], kind: SkipReason
) -> None:
    result = screen([asset(**asset_changes)], {"AAA": snapshot(**snapshot_changes)})
    assert [r.kind for r in result.rejected] == [kind]


def test_broken_data_is_told_apart_from_a_symbol_out_of_scope() -> None:
    assert SkipReason.STALE.is_bad_data
    assert SkipReason.NO_SNAPSHOT.is_bad_data
    assert not SkipReason.OUTSIDE_PRICE_BAND.is_bad_data
    assert not SkipReason.NOT_US_LISTED.is_bad_data


def test_the_asset_screen_skips_what_traded_far_outside_the_band_today() -> None:
    assets = [asset("AAA"), asset("BBB"), asset("CCC"), asset("DDD"), asset("EEE", exchange="OTC")]
    known = {"AAA": D("0.50"), "BBB": D("0.70"), "CCC": D("1600")}  # DDD: not seen yet today

    result = screen_assets(assets, known_prices=known, price_band=(D("2"), D("500")))

    assert [a.symbol for a in result.kept] == ["BBB", "DDD"]  # 0.70 x 3 >= 2: still worth a look
    assert [(r.symbol, r.kind) for r in result.rejected] == [
        ("AAA", SkipReason.FAR_FROM_PRICE_BAND),
        ("CCC", SkipReason.FAR_FROM_PRICE_BAND),
        ("EEE", SkipReason.NOT_US_LISTED),
    ]


@pytest.mark.parametrize(
    ("prev_close", "prev_volume", "floor", "kept"),
    [
        ("19.00", 2_000_000, 38_000_000.0, True),  # exactly at the floor
        ("19.00", 2_000_000, 38_000_001.0, False),
        ("0.50", 1_000_000, 1_000_000.0, False),  # half a million dollars
        ("0.50", 1_000_000, 0.0, True),  # 0: no floor
    ],
)
def test_the_snapshot_screen_drops_what_traded_under_the_floor_in_the_previous_session(
    prev_close: str, prev_volume: int, floor: float, kept: bool
) -> None:
    snap = snapshot(prev_close=prev_close, prev_volume=prev_volume)
    result = screen([asset()], {"AAA": snap}, min_previous_dollar_volume=floor)
    assert [m.symbol for m in result.kept] == (["AAA"] if kept else [])
    assert [r.kind for r in result.rejected] == ([] if kept else [SkipReason.BELOW_LIQUIDITY_FLOOR])


def test_the_asset_screen_skips_what_an_earlier_snapshot_today_put_under_the_floor() -> None:
    assets = [asset("AAA"), asset("BBB"), asset("CCC")]
    known = {"AAA": 999_999.0, "BBB": 1_000_000.0}  # CCC: no snapshot seen yet today

    result = screen_assets(assets, known_dollar_volumes=known, min_previous_dollar_volume=1e6)
    unfloored = screen_assets(assets, known_dollar_volumes=known, min_previous_dollar_volume=0)

    assert [a.symbol for a in result.kept] == ["BBB", "CCC"]
    assert [(r.symbol, r.kind) for r in result.rejected] == [
        ("AAA", SkipReason.BELOW_LIQUIDITY_FLOOR)
    ]
    assert "under the $1,000,000 floor" in result.rejected[0].reason
    assert len(unfloored.kept) == 3
    assert not SkipReason.BELOW_LIQUIDITY_FLOOR.is_bad_data  # a thin name is out of scope


def test_previous_dollar_volume_is_the_previous_close_times_its_volume_or_zero() -> None:
    assert previous_dollar_volume(snapshot(prev_close="19.00", prev_volume=2_000_000)) == 38e6
    assert previous_dollar_volume(snapshot(prev_close="NaN")) == 0.0
    assert previous_dollar_volume(snapshot(prev_volume=-1)) == 0.0


def test_rejections_are_counted_per_reason_most_frequent_first() -> None:
    rejected = [
        StageRejection("A", "stale", SkipReason.STALE),
        StageRejection("B", "no snapshot", SkipReason.NO_SNAPSHOT),
        StageRejection("C", "stale", SkipReason.STALE),
        StageRejection("D", "something else"),
    ]
    assert count_by_reason(rejected) == {"stale": 2, "no_snapshot": 1, "other": 1}


def test_the_most_liquid_names_are_ranked_by_the_previous_sessions_dollar_volume() -> None:
    def member(symbol: str, prev_close: str, prev_volume: int) -> UniverseMember:
        return UniverseMember(
            asset(symbol), snapshot(symbol, prev_close=prev_close, prev_volume=prev_volume)
        )

    members = [
        member("CHEAP", "2.00", 10_000_000),  # $20 M
        member("DEAR", "400.00", 100_000),  # $40 M
        member("THIN", "10.00", 1_000),  # $10 k
        member("TIEB", "20.00", 1_000_000),  # $20 M, ties CHEAP: by symbol
        member("BROKEN", "20.00", -5),  # no usable volume: last
    ]

    assert most_liquid(members, 3) == ["DEAR", "CHEAP", "TIEB"]
    assert most_liquid(members, 10)[-2:] == ["THIN", "BROKEN"]
    assert most_liquid(members, 0) == []
