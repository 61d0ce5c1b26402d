"""One scan cycle through the runner: journal, funnel, bad data, idempotent re-runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from faulty_broker import FaultyBroker
from structlog.testing import capture_logs
from stubs import sim_components
from support import make_settings

from catalyst.config.models import SessionMode
from catalyst.daemon.components import Components
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FunnelStage
from catalyst.domain.models import Fill, LegRole, OrderClass, OrderType, Side
from catalyst.sim.broker import build_sim_broker
from catalyst.store.migrate import upgrade_database
from catalyst.store.records import OrderIntent, ScanResultRecord
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
SCAN = datetime.combine(DAY, time(10, 30), tzinfo=EXCHANGE_TZ)
PREMARKET = datetime.combine(DAY, time(9, 15), tzinfo=EXCHANGE_TZ)


@pytest.fixture
async def setup(tmp_path: Path, sqlite_url: str) -> AsyncIterator[tuple[Components, FaultyBroker]]:
    settings = make_settings(tmp_path, simulation={"symbols": 400})
    await asyncio.to_thread(upgrade_database, sqlite_url)
    clock = SimClock(PREMARKET)
    calendar = ExchangeCalendar()
    broker = FaultyBroker(build_sim_broker(settings.trading.simulation, calendar, clock), clock)
    components = await sim_components(settings, clock, sqlite_url, broker=broker, calendar=calendar)
    yield components, broker
    await components.close()


def _at_scan_time(components: Components) -> None:
    clock = components.clock
    assert isinstance(clock, SimClock)
    clock.advance_to(SCAN)


async def test_cycle_skips_symbols_with_bad_data_and_logs_each(
    setup: tuple[Components, FaultyBroker],
) -> None:
    components, broker = setup
    _at_scan_time(components)
    assets = [a.symbol for a in await broker.list_assets() if a.tradable]
    broken = frozenset(assets[:2])
    broker.faults.corrupt_snapshots = broken

    with capture_logs() as logs:
        report = await components.scan_cycle.run_scheduled(SCAN)

    per_symbol = [e for e in logs if e["event"] == "bad market data; symbol skipped"]
    assert {e["symbol"] for e in per_symbol} == broken
    assert {e["log_level"] for e in per_symbol} == {"debug"}  # journald gets one summary line
    (summary,) = [e for e in logs if e["event"] == "universe screened"]
    assert summary["log_level"] == "info"
    assert summary["bad_data"] == len(broken)
    assert sum(summary["skipped"].values()) == summary["assets"] - summary["screened"]
    assert report.funnel["screened"] <= report.funnel["universe"] - len(broken)
    results = await components.store.scan_results_for_cycle(report.cycle_id)
    assert not broken & {r.symbol for r in results}


async def test_cycle_is_recorded_with_its_funnel_and_scan_results(
    setup: tuple[Components, FaultyBroker],
) -> None:
    components, _ = setup
    _at_scan_time(components)
    report = await components.scan_cycle.run_scheduled(SCAN)

    cycle = await components.store.get_cycle(report.cycle_id)
    assert cycle is not None
    assert report.cycle_id == "20261124-1030"
    assert cycle.status == "completed"
    assert dict(cycle.funnel) == dict(report.funnel)
    assert cycle.trades_executed == len(report.placed)
    assert dict(cycle.skipped) == {
        "outside_price_band": 54,
        "below_liquidity_floor": 4,  # traded under $1M in the previous session
        "not_tradable": 3,
    }
    results = await components.store.scan_results_for_cycle(report.cycle_id)
    by_stage: dict[FunnelStage, list[ScanResultRecord]] = {}
    for row in results:
        by_stage.setdefault(row.stage, []).append(row)
    # Each stage's rows are what it judged; what it kept is what the next stage judged.
    judged = [
        (FunnelStage.CATALYSTS, "most_active", "catalysts"),
        (FunnelStage.TECHNICALS, "catalysts", "technicals"),
        (FunnelStage.RANKED, "technicals", "selected"),
    ]
    for stage, entered, kept in judged:
        rows = by_stage[stage]
        assert len(rows) == report.funnel[entered]
        assert sum(1 for r in rows if r.kept) == report.funnel[kept]
        assert sorted(r.rank_in_scan for r in rows) == list(range(1, len(rows) + 1))
        assert all(r.reject_reason for r in rows if not r.kept)
    catalysts = by_stage[FunnelStage.CATALYSTS]
    assert all("gap_pct" in r.features and "catalyst_score" in r.features for r in catalysts)
    technicals = by_stage[FunnelStage.TECHNICALS]
    assert any(r.indicators.get("rsi") is not None for r in technicals)
    assert any(r.pattern is not None for r in technicals)
    risk = by_stage[FunnelStage.RISK]
    assert len(risk) == report.funnel["selected"]
    assert all(r.plan is not None and {"entry", "stop", "target"} <= set(r.plan) for r in risk)
    finals = {r.symbol for r in results if r.final_candidate}
    assert finals == set(report.placed)
    assert {r.symbol for r in by_stage.get(FunnelStage.ORDERED, [])} == set(report.placed)


async def test_refiring_the_same_scheduled_scan_sends_nothing_twice(
    setup: tuple[Components, FaultyBroker],
) -> None:
    components, broker = setup
    _at_scan_time(components)
    first = await components.scan_cycle.run_scheduled(SCAN)
    calls_after_first = broker.submit_calls

    again = await components.scan_cycle.run_scheduled(SCAN)

    assert first.placed, "the 10:30 scan should place something on this seed"
    assert again.skipped_reason == "cycle already ran"
    assert broker.submit_calls == calls_after_first


async def test_scan_only_session_records_cycle_and_candidates_but_never_orders(
    setup: tuple[Components, FaultyBroker],
) -> None:
    components, broker = setup
    _at_scan_time(components)
    trading = components.settings.trading
    scan_only = components.settings.model_copy(
        update={
            "trading": trading.model_copy(
                update={
                    "trading_session": trading.trading_session.model_copy(
                        update={"mode": SessionMode.SCAN_ONLY}
                    )
                }
            )
        }
    )
    components.scan_cycle.update_settings(scan_only)

    report = await components.scan_cycle.run_scheduled(SCAN)

    # The same 10:30 scan places entries in an autonomous session (see the refire test above).
    assert report.funnel["selected"] > 0
    assert report.placed == ()
    assert broker.submit_calls == 0
    assert await components.store.non_final_orders() == []
    cycle = await components.store.get_cycle(report.cycle_id)
    assert cycle is not None
    assert cycle.status == "completed"
    assert cycle.session_mode == "scan_only"
    assert cycle.candidates_identified == report.funnel["selected"]
    assert cycle.trades_executed == 0
    risk = await components.store.scan_results_for_cycle(report.cycle_id, FunnelStage.RISK)
    assert len(risk) == report.funnel["selected"]
    assert {r.reject_reason for r in risk} == {"scan_only session: nothing is ordered"}
    assert not any(r.final_candidate or r.kept for r in risk)


def _with_mode(components: Components, mode: SessionMode) -> None:
    trading = components.settings.trading
    session = trading.trading_session.model_copy(update={"mode": mode})
    settings = components.settings.model_copy(
        update={"trading": trading.model_copy(update={"trading_session": session})}
    )
    components.scan_cycle.update_settings(settings)


async def test_a_symbol_stopped_out_today_is_not_entered_again(
    setup: tuple[Components, FaultyBroker],
) -> None:
    components, broker = setup
    _at_scan_time(components)
    _with_mode(components, SessionMode.SCAN_ONLY)
    watched = await components.scan_cycle.run_scheduled(SCAN)
    picks = {symbol for symbol, _ in watched.rejected}
    assert picks, "the 10:30 scan selects candidates on this seed"
    stopped_at = SCAN - timedelta(minutes=20)
    for number, symbol in enumerate(sorted(picks)):
        client_id = f"stop-{symbol}"
        await components.store.record_order_intent(
            OrderIntent(
                client_order_id=client_id,
                symbol=symbol,
                side=Side.SELL,
                qty=10,
                order_type=OrderType.STOP,
                order_class=OrderClass.SIMPLE,
                role=LegRole.STOP_LOSS,
                created_at=stopped_at,
                stop_price=Decimal("1"),
            )
        )
        await components.store.record_fill(
            Fill(f"b-{number}", client_id, symbol, Side.SELL, 10, Decimal("1"), stopped_at)
        )

    _with_mode(components, SessionMode.AUTONOMOUS)
    later = SCAN + timedelta(minutes=1)
    clock = components.clock
    assert isinstance(clock, SimClock)
    clock.advance_to(later)
    report = await components.scan_cycle.run_scheduled(later)

    assert picks.isdisjoint(report.placed)
    cooled = {symbol for symbol, reason in report.rejected if "stop_out_cooldown" in reason}
    assert cooled
    assert cooled <= picks
    assert broker.submit_calls == len(report.placed)


async def test_premarket_scan_watches_but_never_orders(
    setup: tuple[Components, FaultyBroker],
) -> None:
    components, broker = setup
    report = await components.scan_cycle.run_scheduled(PREMARKET)

    assert report.scan_type == "premarket"
    assert report.placed == ()
    assert broker.submit_calls == 0


async def test_sector_overrides_replace_the_brokers_sector_in_the_journal(
    setup: tuple[Components, FaultyBroker],
) -> None:
    components, broker = setup
    symbol = next(a.symbol for a in await broker.list_assets() if a.tradable)
    settings = components.settings.model_copy(update={"sector_overrides": {symbol: "Utilities"}})
    components.scan_cycle.update_settings(settings)

    await components.scan_cycle.run_scheduled(PREMARKET)

    assert (await components.store.sectors([symbol]))[symbol] == "Utilities"


async def test_a_cycle_longer_than_a_quarter_of_its_interval_is_warned_about(
    setup: tuple[Components, FaultyBroker],
) -> None:
    components, broker = setup
    _at_scan_time(components)
    interval = 90 * 60  # from the 10:30 scan to the next one, at 12:00
    broker.faults.snapshot_delay_seconds = 0.3 * interval

    with capture_logs() as logs:
        await components.scan_cycle.run_scheduled(SCAN)

    overruns = [e for e in logs if e["event"] == "cycle overran its budget"]
    assert len(overruns) == 1
    assert overruns[0]["budget_seconds"] == 0.25 * interval
