"""The scan's funnel through the real Alpaca adapter against the fake server, at 09:15 (pre-market:
no session bar yet, the last trade from the pre-market) and just after the open, with the
requests it takes counted at the server.

A stand-in that answered no snapshot before the first minute made both early scans screen 0
symbols; here both must screen the universe and find the planted catalysts from what exists then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from support import make_settings
from test_alpaca_market_data import CALENDAR, OPEN, PRE_MARKET, rig

from catalyst.domain.funnel import FunnelStage
from catalyst.domain.models import Asset
from catalyst.pipeline.universe import US_EQUITY_EXCHANGES
from catalyst.tasks.funnel_scan import FunnelScan, ScanOutcome
from catalyst.timekeeping.day_plan import plan_for

SYMBOLS = 300


async def _scan_at(
    at_offset: timedelta, tmp_path: Path
) -> tuple[ScanOutcome, dict[str, int], set[str]]:
    settings = make_settings(tmp_path)
    async with rig(OPEN + at_offset, symbols=SYMBOLS) as r:
        session = CALENDAR.session(OPEN.date())
        assert session is not None
        plan = plan_for(session, settings.trading)
        assets = await r.broker.list_assets()
        before = dict(r.server.requests)
        outcome = await FunnelScan(broker=r.broker, calendar=CALENDAR, settings=settings).scan(
            plan, r.clock.now(), assets
        )
        after = r.server.requests
        spent = {
            path: after[path] - before.get(path, 0)
            for path in after
            if after[path] != before.get(path, 0)
        }
        gaps = dict(zip(r.market.universe.symbols, r.market.gap, strict=True))
        planted_up = {s for s in r.market.catalyst_symbols if gaps[s] > 0}
    return outcome, spent, planted_up


async def test_the_premarket_scan_screens_the_universe_and_shortlists_the_gappers(
    tmp_path: Path,
) -> None:
    outcome, spent, planted_up = await _scan_at(PRE_MARKET - OPEN, tmp_path)

    assert outcome.funnel["screened"] > 0.8 * outcome.funnel["snapshots_requested"]
    shortlisted = {r.symbol for r in outcome.rows if r.stage is FunnelStage.CATALYSTS and r.kept}
    assert len(shortlisted & planted_up) >= 0.7 * len(planted_up)
    # Pre-market: no minute bars to ask for; one snapshot batch, one daily-bars read.
    assert spent.get("GET /v2/stocks/snapshots") == 1
    assert spent.get("GET /v2/stocks/bars") == 1  # daily history only


async def test_the_first_minutes_scan_finds_the_gappers_and_asks_for_one_page_of_bars(
    tmp_path: Path,
) -> None:
    outcome, spent, planted_up = await _scan_at(timedelta(minutes=6), tmp_path)

    assert outcome.funnel["screened"] > 0.8 * outcome.funnel["snapshots_requested"]
    ranked = [r for r in outcome.rows if r.stage is FunnelStage.RANKED]
    picked = {r.symbol for r in ranked if r.kept}
    assert picked
    assert picked <= planted_up
    assert spent.get("GET /v2/stocks/snapshots") == 1
    assert spent.get("GET /v2/stocks/bars") == 2  # daily history, then today's minute bars


async def test_later_scans_skip_the_snapshots_of_names_under_the_liquidity_floor(
    tmp_path: Path,
) -> None:
    floor = 50e6  # high, so that the 2,000 symbols' two snapshot batches shrink to one
    settings = make_settings(tmp_path, strategy={"universe": {"min_previous_dollar_volume": floor}})
    async with rig(OPEN + timedelta(minutes=6), symbols=2000) as r:
        session = CALENDAR.session(OPEN.date())
        assert session is not None
        plan = plan_for(session, settings.trading)
        assets = await r.broker.list_assets()
        symbols = [a.symbol for a in assets]
        yesterday = r.market.daily_bars(symbols, 1)
        thin = {
            s for s, bars in yesterday.items() if float(bars[-1].close) * bars[-1].volume < floor
        }
        assert 2000 - 1277 < len(thin) < 2000 - 100

        async def scan(funnel: FunnelScan) -> tuple[ScanOutcome, int]:
            before = r.requests("/v2/stocks/snapshots")
            outcome = await funnel.scan(plan, r.clock.now(), assets)
            return outcome, r.requests("/v2/stocks/snapshots") - before

        funnel = FunnelScan(broker=r.broker, calendar=CALENDAR, settings=settings)
        first, first_requests = await scan(funnel)
        r.clock.advance_to(OPEN + timedelta(hours=1))
        later, later_requests = await scan(funnel)
        restarted, restarted_requests = await scan(
            FunnelScan(broker=r.broker, calendar=CALENDAR, settings=settings)
        )

    thin_listed = thin - _unlisted(assets)
    # The day's first scan fetches every listed name; the thin ones that pass the other checks
    # drop out at the floor.
    assert first_requests == 2
    assert 0 < first.skipped["below_liquidity_floor"] <= len(thin_listed)
    # A later one does not ask for any thin name at all: one request.
    assert later_requests == 1
    assert later.skipped["below_liquidity_floor"] == len(thin_listed)
    assert later.funnel["snapshots_requested"] <= first.funnel["snapshots_requested"] - len(
        thin_listed
    )
    # A restarted daemon learns the floor again from its first scan (which, an hour later,
    # finds some other names stale or out of the band first).
    assert restarted_requests == 2
    assert 0 < restarted.skipped["below_liquidity_floor"] <= len(thin_listed)


def _unlisted(assets: Sequence[Asset]) -> set[str]:
    return {a.symbol for a in assets if not a.tradable or a.exchange not in US_EQUITY_EXCHANGES}


async def test_the_days_first_scan_reads_the_liquid_names_history_so_later_scans_need_none(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with rig(OPEN + timedelta(minutes=6), symbols=SYMBOLS) as r:
        session = CALENDAR.session(OPEN.date())
        assert session is not None
        plan = plan_for(session, settings.trading)
        assets = await r.broker.list_assets()
        funnel = FunnelScan(broker=r.broker, calendar=CALENDAR, settings=settings)
        first = await funnel.scan(plan, r.clock.now(), assets)
        r.clock.advance_to(OPEN + timedelta(hours=3))
        before = r.requests("/v2/stocks/bars")
        later = await funnel.scan(plan, r.clock.now(), assets)
        bars_requests = r.requests("/v2/stocks/bars") - before

    newcomers = set(later.volumes) - set(first.volumes)
    assert newcomers, "the most active names changed: the later scan has names of its own"
    # 3 x 200 most liquid names cover this 300-symbol universe: the later scan asks only for
    # today's minute bars, none of its newcomers' daily history.
    assert bars_requests == 1
