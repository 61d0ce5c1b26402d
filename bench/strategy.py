"""Benchmark: the funnel against the single catalyst score, graded on seeded simulated days.

Each seed (default 1001-1020, none of them used while developing: the tests use 7, 11 and 23)
is one simulated trading day of the real daemon (`run_simulated_day`, the shipped
configuration, a universe of `--symbols`), run once with `strategy.kind: funnel` (the default)
and once with `strategy.kind: catalyst_score` (the score Catalyst ranked by before), each on a
fresh state dir and journal. Seed k runs on the k-th session from `--start`. The simulator plants
its catalysts independently of the detectors; only the bench reads them, after the day, to grade
the picks and trades (definitions: bench/strategy_grading.py, printed with the results).

Days run in `--workers` processes. Benchmarks print, they do not gate: the exit code is non-zero
only when a run fails or does not add up.
Run: .venv/bin/python bench/strategy.py [--days N] [--symbols N] [--seeds A-B] [--quick]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from decimal import Decimal
from pathlib import Path

from strategy_day import DayJob, day_settings, run_day
from strategy_grading import DayResult, StrategyTotals, totals

from catalyst.config.strategy import ScanStrategy
from catalyst.logs import configure_logging
from catalyst.timekeeping.calendar import ExchangeCalendar

KINDS = (ScanStrategy.FUNNEL, ScanStrategy.CATALYST_SCORE)
DEFINITIONS = """\
definitions
  planted up-catalyst: a symbol the simulator gave a catalyst with a positive gap (tradable long)
  eligible: a planted up-catalyst that is tradable and whose pre-market price (previous close
            moved by the gap, what the 09:15 scan sees) is within [min_price, max_price]
  pick: a symbol whose entry order filled that day (once per symbol per day)
  precision = picks that were planted up-catalysts / picks
  recall    = eligible up-catalysts picked / eligible up-catalysts (the denominator counts every
              eligible one of every day, though the risk limits allow at most max_positions at once)
  selection precision: the same as precision for the scans' selected candidates (before risk)
  trade: one position from flat to flat; P&L = its fills' sells - buys (end-of-day flatten included)
  R multiple = trade P&L / (qty x (entry fill price - the bracket's stop price))
  win rate = trades with P&L > 0 / trades
  every ratio is pooled: a sum over all days over a sum over all days"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="1001-1020", help="seed range A-B, one day per seed")
    parser.add_argument("--days", type=int, default=None, help="the first N seeds of the range")
    parser.add_argument("--quick", action="store_true", help="3 days")
    parser.add_argument("--symbols", type=int, default=1000, help="simulated universe size")
    parser.add_argument("--start", default="2026-11-02", help="first session day (YYYY-MM-DD)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    seeds = _seed_range(args.seeds)
    count = 3 if args.quick else (args.days if args.days is not None else len(seeds))
    if not 0 < count <= len(seeds):
        parser.error(f"--days {count}: the seed range {args.seeds} has {len(seeds)} seeds")
    seeds = seeds[:count]
    jobs = [
        DayJob(seed, day, kind, args.symbols)
        for seed, day in zip(seeds, _sessions(date.fromisoformat(args.start), count), strict=True)
        for kind in KINDS
    ]
    _print_header(jobs, args.workers)
    started = time.perf_counter()
    results, failures = _run_all(jobs, args.workers)
    wall = time.perf_counter() - started
    if results:
        _print_days(results)
        _print_totals(results)
    print(f"\nwall time {wall:.0f} s for {len(jobs)} runs in {args.workers} worker processes")
    for failure in failures:
        print(f"ERROR: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _seed_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    low, high = int(first), int(last or first)
    if high < low:
        raise SystemExit(f"--seeds {text}: the range is empty")
    return list(range(low, high + 1))


def _sessions(start: date, count: int) -> list[date]:
    calendar = ExchangeCalendar()
    session = calendar.session(start) or calendar.next_session(start)
    days = [session.day]
    while len(days) < count:
        days.append(calendar.next_session(days[-1]).day)
    return days


def _quiet_worker() -> None:
    configure_logging("ERROR", "json", stream=sys.stderr)


def _run_all(jobs: Sequence[DayJob], workers: int) -> tuple[list[DayResult], list[str]]:
    results: list[DayResult] = []
    failures: list[str] = []
    context = multiprocessing.get_context("spawn")  # a clean interpreter per worker
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_worker) as pool:
        futures = {pool.submit(run_day, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                results.append(future.result())
            except Exception as exc:  # reported at the end; the other days still run
                failures.append(
                    f"seed {job.seed} {job.day} {job.kind}: {type(exc).__name__}: {exc}"
                )
            print(f"  {len(results) + len(failures)}/{len(jobs)} runs done", file=sys.stderr)
    for day in {r.day for r in results}:
        planted = {r.planted for r in results if r.day == day}
        if len(planted) > 1:  # both strategies must have traded the very same market
            failures.append(f"{day}: the two strategies' runs saw different planted catalysts")
    return results, failures


def _print_header(jobs: Sequence[DayJob], workers: int) -> None:
    settings = day_settings(jobs[0], Path())  # read only, for the figures it shows
    workflow, limits = settings.trading.workflow, settings.risk.risk_limits
    seeds = sorted({j.seed for j in jobs})
    print(
        f"strategy benchmark: {len(seeds)} seeded simulated days (seeds {seeds[0]}-{seeds[-1]}), "
        f"{jobs[0].symbols:,} symbols, {settings.trading.simulation.catalyst_fraction:.0%} "
        "planted catalysts a day"
    )
    scans = ", ".join(t.strftime("%H:%M") for t in settings.trading.schedule.scan_times)
    max_hold = settings.trading.trading_session.max_hold_time_minutes
    print(
        f"shipped config: scans {scans}; execute_top_n {workflow.execute_top_n}, "
        f"min_confidence {workflow.min_confidence_score}, price band "
        f"[{workflow.min_price}, {workflow.max_price}], max_positions {limits.max_positions}, "
        f"max hold {max_hold} min"
    )
    print(DEFINITIONS)
    print()


def _print_days(results: Sequence[DayResult]) -> None:
    by_key = {(r.seed, r.kind): r for r in results}
    print("per day (picks: entered / of them planted up; trades; P&L USD)")
    print(
        f"  {'seed':>4} {'day':10} {'up':>3} {'elig':>4} {'down':>4} | "
        + " | ".join(f"{k.value:>30}" for k in KINDS)
    )
    for seed in sorted({r.seed for r in results}):
        cells = []
        first = next(r for r in results if r.seed == seed)
        for kind in KINDS:
            r = by_key.get((seed, kind.value))
            if r is None:
                cells.append(f"{'failed':>30}")
                continue
            pnl = sum((t.pnl for t in r.trades), Decimal(0))
            hits = len(r.picks & r.planted.up)
            cells.append(f"picks {len(r.picks):2}/{hits:2} trades {len(r.trades):2} {pnl:+9.2f}")
        p = first.planted
        print(
            f"  {seed:>4} {first.day.isoformat():10} {len(p.up):>3} {len(p.eligible_up):>4} "
            f"{len(p.down):>4} | " + " | ".join(cells)
        )
    print()


def _print_totals(results: Sequence[DayResult]) -> None:
    both = {k: totals([r for r in results if r.kind == k.value]) for k in KINDS}
    funnel, score = both[ScanStrategy.FUNNEL], both[ScanStrategy.CATALYST_SCORE]
    rows: list[tuple[str, Callable[[StrategyTotals], float | Decimal | int | None], str, bool]] = [
        ("days", lambda t: t.days, "d", False),
        ("scans run", lambda t: t.scans, "d", False),
        ("selected by the scans", lambda t: t.selected, "d", False),
        ("  selection precision", lambda t: t.selection_precision, "%", True),
        ("picks (entered)", lambda t: t.picks, "d", True),
        ("  planted up-catalysts", lambda t: t.picks_up, "d", True),
        ("  planted down-catalysts", lambda t: t.picks_down, "d", False),
        ("  noise (nothing planted)", lambda t: t.picks - t.picks_up - t.picks_down, "d", False),
        ("precision", lambda t: t.precision, "%", True),
        ("eligible up-catalysts", lambda t: t.eligible_up, "d", False),
        ("  picked", lambda t: t.eligible_picked, "d", True),
        ("recall", lambda t: t.recall, "%", True),
        ("trades", lambda t: t.trades, "d", True),
        ("  won (P&L > 0)", lambda t: t.wins, "d", True),
        ("win rate", lambda t: t.win_rate, "%", True),
        ("average R multiple", lambda t: t.mean_r, ".3f", True),
        ("median R multiple", lambda t: t.median_r, ".3f", True),
        ("trades without R (no stop)", lambda t: t.r_undefined, "d", False),
        ("total P&L USD", lambda t: t.pnl, "+,.2f", True),
        ("P&L per trade USD", lambda t: t.pnl_per_trade, "+,.2f", True),
        ("per-day P&L min USD", lambda t: min(t.day_pnls), "+,.2f", False),
        ("per-day P&L median USD", lambda t: statistics.median(t.day_pnls), "+,.2f", False),
        ("per-day P&L max USD", lambda t: max(t.day_pnls), "+,.2f", False),
        ("days with P&L > 0", lambda t: sum(1 for p in t.day_pnls if p > 0), "d", True),
        ("exits at take profit", lambda t: t.exits.get("take_profit", 0), "d", False),
        ("exits at stop loss", lambda t: t.exits.get("stop_loss", 0), "d", False),
        ("exits by flatten/max hold", lambda t: t.exits.get("exit", 0), "d", False),
        ("wall s per day (one worker)", lambda t: t.wall_seconds / t.days, ".1f", False),
    ]
    print(f"{'':30} {'funnel':>14} {'catalyst_score':>14} {'funnel/score':>13}")
    for label, get, style, ratio in rows:
        a, b = get(funnel), get(score)
        shown = _ratio(a, b) if ratio else ""
        print(f"{label:30} {_fmt(a, style):>14} {_fmt(b, style):>14} {shown:>13}")
    print("funnel/score: shown where both figures are positive (a ratio of losses says nothing)")


def _fmt(value: float | Decimal | int | None, style: str) -> str:
    if value is None:
        return "n/a"
    if style == "%":
        return f"{float(value):.1%}"
    return format(value, style)


def _ratio(a: float | Decimal | int | None, b: float | Decimal | int | None) -> str:
    if a is None or b is None or a <= 0 or b <= 0:
        return "—"
    return f"{float(a) / float(b):.2f}x"


if __name__ == "__main__":
    sys.exit(main())
