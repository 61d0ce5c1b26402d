"""How multi-symbol Alpaca requests are batched (by encoded URL length) and run (a few at once)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from catalyst.brokers.alpaca.batching import (
    MAX_CONCURRENT_REQUESTS,
    REQUEST_TARGET_BUDGET,
    SNAPSHOT_SYMBOLS_BUDGET,
    SYMBOLS_QUERY_BUDGET,
    encode_query,
    even_parts,
    run_in_order,
    symbol_batches,
)
from catalyst.sim.universe import build_universe


def _encoded(batch: list[str]) -> int:
    """Bytes of the `symbols` value as the market-data calls put it in the URL."""
    return len(encode_query({"symbols": ",".join(batch)})) - len("symbols=")


def test_batches_keep_every_symbol_once_in_order() -> None:
    symbols = list(build_universe(3, 4000).symbols)
    batches = symbol_batches([*symbols, *symbols[:10]])
    assert [s for batch in batches for s in batch] == symbols


@pytest.mark.parametrize("length", [1, 4, 5, 9])
def test_batches_fill_the_url_budget_and_never_exceed_it(length: int) -> None:
    symbols = [f"{i:0{length}d}"[-length:] for i in range(20_000)]
    symbols = list(dict.fromkeys(symbols))
    batches = symbol_batches(symbols)
    assert all(_encoded(batch) <= SYMBOLS_QUERY_BUDGET for batch in batches)
    # Full: one more symbol would not have fitted in any batch but the last.
    per_symbol = length + 1  # and a literal comma
    assert all(_encoded(batch) + per_symbol > SYMBOLS_QUERY_BUDGET for batch in batches[:-1])


def test_batches_of_symbols_that_need_escaping_count_the_escapes() -> None:
    symbols = [f"B/{i:04d}" for i in range(3000)]  # "/" is sent as "%2F"
    batches = symbol_batches(symbols, budget=1000)
    assert all(_encoded(batch) <= 1000 for batch in batches)
    assert len(batches[0]) == (1000 + 1) // (len("B%2F0000") + 1)


def test_twelve_thousand_typical_symbols_take_nine_batches() -> None:
    symbols = build_universe(11, 12_000).symbols  # 3-4 letters, as most US tickers
    # 14 with the commas sent as %2C; 500-symbol batches took 24.
    assert len(symbol_batches(symbols)) == 9
    assert len(symbol_batches(symbols, budget=SNAPSHOT_SYMBOLS_BUDGET)) == 9
    assert len(symbol_batches(symbols[:11_183], budget=SNAPSHOT_SYMBOLS_BUDGET)) == 8


@pytest.mark.parametrize("budget", [SNAPSHOT_SYMBOLS_BUDGET, SYMBOLS_QUERY_BUDGET])
def test_every_budget_leaves_the_request_target_under_the_servers_limit(budget: int) -> None:
    # aiohttp (and nginx's, Apache's defaults) refuse a request target over about 8 KiB.
    assert budget < REQUEST_TARGET_BUDGET <= 8_190 * 0.86


def test_the_query_escapes_each_symbol_and_every_other_value_but_not_the_commas() -> None:
    query = encode_query(
        {"symbols": "AAPL,BRK/B,A B", "start": "2026-11-24T14:30:00+00:00", "asc": True}
    )
    assert query == "symbols=AAPL,BRK%2FB,A+B&start=2026-11-24T14%3A30%3A00%2B00%3A00&asc=True"
    assert encode_query({"limit": 50}) == "limit=50"


def test_a_symbol_longer_than_the_budget_goes_alone_and_none_is_empty() -> None:
    assert symbol_batches(["AAAA", "B" * 50, "CC"], budget=10) == [["AAAA"], ["B" * 50], ["CC"]]
    assert symbol_batches([]) == []


async def test_run_in_order_bounds_concurrency_and_keeps_the_jobs_order() -> None:
    running = 0
    peak = 0
    release = asyncio.Event()

    def job(i: int) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await release.wait()
            # Later jobs finish first: the results must still come back in the jobs' order.
            await asyncio.sleep(0.001 * (10 - i))
            running -= 1
            return i

        return run

    task = asyncio.create_task(run_in_order("test", [job(i) for i in range(10)]))
    for _ in range(20):
        await asyncio.sleep(0)
    assert running == MAX_CONCURRENT_REQUESTS  # all of the first four started, no more
    release.set()
    assert await task == list(range(10))
    assert peak == MAX_CONCURRENT_REQUESTS


async def test_run_in_order_raises_the_first_failure_and_cancels_the_rest() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    def job(i: int) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            started.append(i)
            if i == 1:
                raise LookupError("batch 1 failed")
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                cancelled.append(i)
                raise
            return i

        return run

    with pytest.raises(LookupError, match="batch 1"):
        await run_in_order("test", [job(i) for i in range(6)], limit=3)
    # Every other job that had started was cancelled, none ran on; the last ones never started.
    assert sorted(cancelled) == sorted(set(started) - {1})
    assert {0, 2} <= set(cancelled)
    assert 5 not in started


def test_even_parts_are_as_few_as_the_limit_allows_and_even_in_size() -> None:
    names = [f"S{i:02d}" for i in range(50)]
    assert [len(p) for p in even_parts(names, 30)] == [25, 25]
    assert [len(p) for p in even_parts(names, 25)] == [25, 25]
    assert [len(p) for p in even_parts(names, 24)] == [17, 17, 16]
    assert [s for p in even_parts(names, 7) for s in p] == names  # every name once, in order
    assert even_parts(names, 50) == [names]
    assert even_parts([], 5) == []
    with pytest.raises(ValueError, match="at least 1"):
        even_parts(names, 0)
