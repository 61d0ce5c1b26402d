"""How multi-symbol market-data requests are split and run: batches sized by URL length, a few
requests in flight at once, results kept in batch order.

Batch size
----------
Alpaca takes the symbols as one comma-joined query parameter (`symbols=AAPL,MSFT`, as its own
documentation writes it). Given a dict, alpaca-py (through `requests`) would percent-encode each
comma as `%2C`; the market-data calls hand it the query already encoded (`encode_query`), with
each symbol escaped on its own and the commas left literal (a comma is a legal query character,
RFC 3986 sub-delims, and `requests` leaves it alone), so a symbol costs its own length plus 1 byte,
not 3. That alone takes 12,000 typical symbols from 14 requests to 10. The other parameters of a
bars request (times, timeframe, limit, adjustment, sort, feed, a page token) add about 200 bytes.

Alpaca documents no limit on the symbol count or the URL length, so the choice is conservative.
Common servers refuse a request line over about 8 KiB: aiohttp, which serves the fake Alpaca
server, answers 400 to a request target over 8,190 bytes (checked); nginx's and Apache's defaults
are 8 KiB too. Every request target is kept within `REQUEST_TARGET_BUDGET` (7,000 bytes, 15 %
under those limits, whatever the symbols' lengths): a snapshot request carries nothing but its
path and `feed` beside the symbols (`SNAPSHOT_SYMBOLS_BUDGET` leaves them 100 bytes), a bars or
news request its times, timeframe, limit, sort, feed and a page token
(`SYMBOLS_QUERY_BUDGET` leaves them 400). That is about 1,470 typical (3-4 letter) symbols per
snapshot request: 9 for 12,000 symbols (8 for the 11,183 a later scan of the simulated 12,000
asks for) and 3 for 4,119, where 500-symbol batches with escaped commas took 24 and 9.

Concurrency
-----------
Batches are independent, so up to `MAX_CONCURRENT_REQUESTS` are in flight at once (each one still
passes the shared rate limiter); latency per request then adds up per round of requests, not per
batch. The results come back in batch order, so merging them is deterministic.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote_plus, urlencode

T = TypeVar("T")

REQUEST_TARGET_BUDGET = 7_000  # bytes of a request's path and query (module doc)
# Encoded bytes of one request's `symbols` value: the target's budget less what else it carries.
SNAPSHOT_SYMBOLS_BUDGET = REQUEST_TARGET_BUDGET - 100  # the path, `feed`
SYMBOLS_QUERY_BUDGET = REQUEST_TARGET_BUDGET - 400  # bars and news: times, limits, a page token
MAX_CONCURRENT_REQUESTS = 4
# Characters `quote_plus` leaves as they are: a symbol made of them alone costs its length. The
# check is a tenth of the price of quoting, which at 12,000 symbols took 25 ms on the event loop.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")
SYMBOLS_PARAM = "symbols"
_SEPARATOR = ","  # sent as it is, never as %2C (module doc)
_SEPARATOR_BYTES = len(_SEPARATOR)


def encode_query(params: Mapping[str, Any]) -> str:
    """`params` as the query string alpaca-py's `get` sends unchanged: every value escaped as
    `requests` would (booleans as `True`/`False`), except that the commas between the symbols of
    `symbols` stay literal, which is what `symbol_batches` budgets for."""
    plain = {key: value for key, value in params.items() if key != SYMBOLS_PARAM}
    parts = [urlencode(plain)] if plain else []
    if SYMBOLS_PARAM in params:
        symbols = str(params[SYMBOLS_PARAM]).split(_SEPARATOR)
        joined = _SEPARATOR.join(quote_plus(symbol) for symbol in symbols)
        parts.insert(0, f"{SYMBOLS_PARAM}={joined}")
    return "&".join(parts)


def symbol_batches(symbols: Sequence[str], budget: int = SYMBOLS_QUERY_BUDGET) -> list[list[str]]:
    """`symbols` without repeats, in order, cut into batches whose encoded, comma-joined query
    value is at most `budget` bytes (a single symbol longer than that makes a batch of its own)."""
    batches: list[list[str]] = []
    current: list[str] = []
    used = 0
    for symbol in dict.fromkeys(symbols):
        cost = len(symbol) if _UNQUOTED.fullmatch(symbol) else len(quote_plus(symbol))
        if current and used + _SEPARATOR_BYTES + cost > budget:
            batches.append(current)
            current, used = [], 0
        used += cost + (_SEPARATOR_BYTES if current else 0)
        current.append(symbol)
    if current:
        batches.append(current)
    return batches


def even_parts(batch: list[str], most: int) -> list[list[str]]:
    """`batch` cut into as few parts of at most `most` symbols as can be, of even sizes (50 at
    most 30 each: 25 and 25, not 30 and 20), in order."""
    if most < 1:
        raise ValueError("most must be at least 1")
    parts = -(-len(batch) // most)  # ceiling
    if parts <= 1:
        return [batch] if batch else []
    size = -(-len(batch) // parts)
    return [batch[i : i + size] for i in range(0, len(batch), size)]


async def run_in_order(
    name: str,
    jobs: Sequence[Callable[[], Awaitable[T]]],
    limit: int = MAX_CONCURRENT_REQUESTS,
) -> list[T]:
    """Run `jobs` with at most `limit` in flight; their results in the jobs' order.

    The first failure cancels the jobs still running and is raised as it is (not wrapped in an
    ExceptionGroup), so callers see the same broker errors as from a single request.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    gate = asyncio.Semaphore(limit)

    async def gated(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    tasks = [
        asyncio.create_task(gated(job), name=f"{name} {i + 1}/{len(jobs)}")
        for i, job in enumerate(jobs)
    ]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
