"""Today's headlines per symbol, so that a later scan asks Alpaca only for what is new.

Every scan wants the headlines of the last `strategy.news.lookback_hours` for its most active
names. Most of those names were asked for by the previous scan already, and their older headlines
have not changed, so for a symbol whose headlines are held from at or before the wanted `since`
up to the previous fetch, only headlines from just before that fetch on are asked for (Alpaca's
news `start`); a symbol not held yet is asked for from `since`, as before. The wanted window is
then answered from what is held, so it stays exactly `since` to now.

A separate read costs at least one request of its own, so the symbols held already go back into
the whole-window read of the new ones whenever they hold fewer than a page of headlines in the
window (reading those again fits in the pages the new symbols take anyway, about): with the
most active names churning between scans, two reads would otherwise take more requests than one.

Headlines can reach Alpaca's index a little after their `created_at` (which `start` filters
on): each incremental fetch starts `REREAD` before the previous one, and headlines are kept by id,
so one read twice counts once. What is held is for one exchange day: the day's first scan (and a
restarted daemon's first) reads the whole window again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from catalyst.domain.models import NewsItem

REREAD = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class NewsFetch:
    """One news read to make: these symbols' headlines created at or after `start`."""

    symbols: tuple[str, ...]
    start: datetime


@dataclass(frozen=True, slots=True)
class _Held:
    """Every headline of the symbol created in [since, until] is held."""

    since: datetime
    until: datetime


class NewsCache:
    """Headlines fetched today, and for each symbol the window they are complete for."""

    def __init__(self, page_items: int) -> None:
        self._page_items = page_items  # headlines per page of Alpaca's answer
        self._day: date | None = None
        self._items: dict[str, NewsItem] = {}
        self._held: dict[str, _Held] = {}

    def plan(self, day: date, symbols: Sequence[str], since: datetime) -> list[NewsFetch]:
        """The reads that complete `symbols`' headlines from `since` on, earliest start first
        (usually two: the symbols held since before `since`, and the new ones). A new `day`
        forgets everything held."""
        if day != self._day:
            self._day, self._items, self._held = day, {}, {}
        groups: dict[datetime, list[str]] = {}
        for symbol in dict.fromkeys(symbols):
            held = self._held.get(symbol)
            fresh = held is None or held.since > since  # never read, or not as far back
            start = since if fresh or held is None else max(since, held.until - REREAD)
            groups.setdefault(start, []).append(symbol)
        whole = groups.get(since)
        if whole is not None:
            for start in [s for s in groups if s != since]:
                if len(self.headlines(groups[start], since)) < self._page_items:
                    whole.extend(groups.pop(start))
        return [NewsFetch(tuple(groups[start]), start) for start in sorted(groups)]

    def record(
        self, symbols: Iterable[str], start: datetime, items: Iterable[NewsItem], until: datetime
    ) -> None:
        """Keep `items`, the answer of a read of `symbols` from `start` made at `until`."""
        for item in items:
            self._items[item.id] = item
        for symbol in symbols:
            held = self._held.get(symbol)
            joined = held is not None and held.since <= start <= held.until
            self._held[symbol] = _Held(held.since if held and joined else start, until)

    def headlines(self, symbols: Sequence[str], since: datetime) -> list[NewsItem]:
        """Held headlines mentioning any of `symbols`, created at or after `since`, oldest
        first (ties by id)."""
        wanted = set(symbols)
        found = [
            item
            for item in self._items.values()
            if item.created_at >= since and wanted.intersection(item.symbols)
        ]
        return sorted(found, key=lambda item: (item.created_at, item.id))
