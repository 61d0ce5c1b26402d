"""One seeded simulated day of the real daemon with one strategy, read back for grading.

`run_day` runs `catalyst.daemon.entry.run_simulated_day` on a fresh state dir and SQLite
journal (a temp dir), keeps hold of the simulator broker it built (the `prepare_market` hook
hands it over before the day starts), and afterwards reads what the day did from the journal
(fills, their orders, cycles, scan results) and what the simulator planted from that broker's
own market: the very market the day traded on, never a rebuilt one. Nothing here feeds the
daemon; the planted catalysts are read only after the day, to grade it.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from strategy_grading import DayResult, Planted, picks_from_fills, trades_from_fills

from catalyst.config.loader import load_settings
from catalyst.config.models import Settings
from catalyst.config.strategy import ScanStrategy
from catalyst.daemon.entry import run_simulated_day
from catalyst.domain.funnel import FunnelStage
from catalyst.domain.models import TradingSession
from catalyst.reporting.pnl import realised_pnl
from catalyst.sim.broker import SimBroker
from catalyst.sim.market import SyntheticMarket
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.records import CycleStatus, OrderRecord
from catalyst.store.repository import Store

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class DayJob:
    """One run: a seed, its session day, a strategy, a universe size."""

    seed: int
    day: date
    kind: ScanStrategy
    symbols: int


class BenchError(Exception):
    """The run did not do what the bench measures (wrong strategy, unflat book, ...)."""


def day_settings(job: DayJob, state_dir: Path) -> Settings:
    """The shipped configuration with this job's seed, universe size, strategy and state dir."""
    base = load_settings(REPO / "config", {})
    trading = base.trading
    return base.model_copy(
        update={
            "trading": trading.model_copy(
                update={
                    "paths": trading.paths.model_copy(
                        update={"state_dir": state_dir, "pause_file": None}
                    ),
                    "simulation": trading.simulation.model_copy(
                        update={"seed": job.seed, "symbols": job.symbols}
                    ),
                    # model_copy does not validate: pass the enum (the scan compares by identity)
                    "strategy": trading.strategy.model_copy(update={"kind": job.kind}),
                }
            )
        }
    )


def run_day(job: DayJob) -> DayResult:
    """Run `job`'s day in this process and grade it (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="catalyst-strategy-bench-") as state:
        settings = day_settings(job, Path(state))
        url = f"sqlite+aiosqlite:///{state}/journal.db"
        return asyncio.run(_run_and_grade(job, settings, url))


async def _run_and_grade(job: DayJob, settings: Settings, url: str) -> DayResult:
    brokers: list[SimBroker] = []

    def keep_broker(broker: SimBroker, session: TradingSession) -> None:
        brokers.append(broker)

    started = time.perf_counter()
    summary = await run_simulated_day(
        settings, day=job.day, database_url=url, prepare_market=keep_broker
    )
    wall = time.perf_counter() - started
    if not summary.flat:
        raise BenchError(f"seed {job.seed} {job.day} {job.kind}: not flat at the close")
    market = brokers[0].market
    if market.session.day != job.day:
        raise BenchError(f"the simulator's market is of {market.session.day}, not {job.day}")
    engine = make_engine(url)
    try:
        store = Store(make_session_factory(engine))
        fills = await store.fills_for_day(job.day)
        orders: dict[str, OrderRecord] = {}
        for client_id in {f.client_order_id for f in fills}:
            order = await store.get_order(client_id)
            if order is not None:
                orders[client_id] = order
        selected = await _selected_and_check_strategy(store, job)
    finally:
        await engine.dispose()
    trades, still_open = trades_from_fills(fills, orders)
    realised = realised_pnl(fills)
    if sum((t.pnl for t in trades), Decimal(0)) != realised or realised != summary.realised_pnl:
        raise BenchError(f"seed {job.seed} {job.day}: trade P&L does not add up to the day's")
    return DayResult(
        seed=job.seed,
        day=job.day,
        kind=job.kind.value,
        planted=planted(market, settings),
        picks=picks_from_fills(fills, orders),
        selected=selected,
        trades=tuple(trades),
        open_trades=still_open,
        realised_pnl=realised,
        scans=summary.scans_run,
        wall_seconds=wall,
    )


async def _selected_and_check_strategy(store: Store, job: DayJob) -> frozenset[str]:
    """The symbols the day's scans selected; BenchError unless the journal shows `job.kind`
    ran (only the funnel journals a technicals stage)."""
    selected: set[str] = set()
    funnel_cycles = 0
    for cycle in await store.cycles_for_day(job.day):
        if cycle.status != CycleStatus.COMPLETED:
            continue
        funnel_cycles += "technicals" in cycle.funnel
        ranked = await store.scan_results_for_cycle(cycle.cycle_id, FunnelStage.RANKED)
        selected.update(r.symbol for r in ranked if r.kept)
    ran_funnel = funnel_cycles > 0
    if ran_funnel != (job.kind is ScanStrategy.FUNNEL):
        raise BenchError(f"seed {job.seed} {job.day}: the journal does not show {job.kind} ran")
    return frozenset(selected)


def planted(market: SyntheticMarket, settings: Settings) -> Planted:
    """What `market` planted (see bench/strategy_grading.py for `eligible`)."""
    universe = market.universe
    workflow = settings.trading.workflow
    low, high = float(workflow.min_price), float(workflow.max_price)
    up: set[str] = set()
    down: set[str] = set()
    eligible: set[str] = set()
    for symbol in market.catalyst_symbols:
        col = universe.index[symbol]
        if market.gap[col] <= 0:
            down.add(symbol)
            continue
        up.add(symbol)
        if universe.tradable[col] and low <= market.premarket_price[col] <= high:
            eligible.add(symbol)
    return Planted(up=frozenset(up), down=frozenset(down), eligible_up=frozenset(eligible))
