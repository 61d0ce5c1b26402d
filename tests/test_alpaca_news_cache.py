"""Which news reads the Alpaca adapter makes when asked again the same day, and what it answers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from catalyst.brokers.alpaca.news_cache import REREAD, NewsCache, NewsFetch
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import NewsItem

DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 9, 15, tzinfo=EXCHANGE_TZ)
HOUR = timedelta(hours=1)


def _item(item_id: str, created: datetime, *symbols: str) -> NewsItem:
    return NewsItem(id=item_id, headline=f"headline {item_id}", symbols=symbols, created_at=created)


def test_symbols_never_read_are_read_from_since() -> None:
    cache = NewsCache(page_items=2)
    assert cache.plan(DAY, ["AAA", "BBB", "AAA"], T0 - 24 * HOUR) == [
        NewsFetch(("AAA", "BBB"), T0 - 24 * HOUR)
    ]


def test_symbols_read_earlier_today_are_read_only_from_just_before_that_read() -> None:
    cache = NewsCache(page_items=2)
    cache.plan(DAY, ["AAA", "BBB"], T0 - 24 * HOUR)
    held = [_item("1", T0 - 2 * HOUR, "AAA"), _item("2", T0 - HOUR, "BBB")]  # a page's worth
    cache.record(["AAA", "BBB"], T0 - 24 * HOUR, held, until=T0)
    later = T0 + HOUR
    assert cache.plan(DAY, ["CCC", "AAA", "BBB"], later - 24 * HOUR) == [
        NewsFetch(("CCC",), later - 24 * HOUR),
        NewsFetch(("AAA", "BBB"), T0 - REREAD),
    ]
    assert cache.plan(DAY, ["AAA", "BBB"], later - 24 * HOUR) == [
        NewsFetch(("AAA", "BBB"), T0 - REREAD)  # nothing new to read: only the latest
    ]


def test_symbols_holding_less_than_a_page_are_read_again_with_the_new_ones() -> None:
    # A read of their own would cost a request; read again, they fit in the new ones' pages.
    cache = NewsCache(page_items=2)
    cache.plan(DAY, ["AAA", "BBB"], T0 - 24 * HOUR)
    cache.record(["AAA", "BBB"], T0 - 24 * HOUR, [_item("1", T0 - HOUR, "AAA")], until=T0)
    later = T0 + HOUR
    assert cache.plan(DAY, ["CCC", "AAA", "BBB"], later - 24 * HOUR) == [
        NewsFetch(("CCC", "AAA", "BBB"), later - 24 * HOUR)
    ]


def test_a_symbol_held_from_later_than_wanted_is_read_again_from_since() -> None:
    cache = NewsCache(page_items=2)
    cache.plan(DAY, ["AAA"], T0 - 2 * HOUR)
    cache.record(["AAA"], T0 - 2 * HOUR, [], until=T0)
    assert cache.plan(DAY, ["AAA"], T0 - 3 * HOUR) == [NewsFetch(("AAA",), T0 - 3 * HOUR)]


def test_incremental_reads_keep_the_window_held_from_the_first_read() -> None:
    cache = NewsCache(page_items=2)
    cache.plan(DAY, ["AAA"], T0 - 24 * HOUR)
    cache.record(["AAA"], T0 - 24 * HOUR, [], until=T0)
    cache.record(["AAA"], T0 - REREAD, [], until=T0 + HOUR)
    # Still held from T0 - 24 h: a window starting 23 h before is answered without a full read.
    assert cache.plan(DAY, ["AAA"], T0 - 23 * HOUR) == [NewsFetch(("AAA",), T0 + HOUR - REREAD)]


def test_a_new_day_forgets_what_was_held() -> None:
    cache = NewsCache(page_items=2)
    cache.plan(DAY, ["AAA"], T0 - 24 * HOUR)
    cache.record(["AAA"], T0 - 24 * HOUR, [_item("1", T0 - HOUR, "AAA")], until=T0)
    assert cache.plan(DAY + timedelta(days=1), ["AAA"], T0) == [NewsFetch(("AAA",), T0)]
    assert cache.headlines(["AAA"], T0 - 24 * HOUR) == []


def test_headlines_are_those_of_the_window_and_symbols_once_each_oldest_first() -> None:
    cache = NewsCache(page_items=2)
    cache.plan(DAY, ["AAA", "BBB"], T0 - 24 * HOUR)
    old = _item("0", T0 - 25 * HOUR, "AAA")
    first = _item("2", T0 - 2 * HOUR, "AAA", "ZZZ")
    second = _item("1", T0 - 2 * HOUR, "BBB")
    other = _item("3", T0 - HOUR, "ZZZ")
    cache.record(["AAA", "BBB"], T0 - 24 * HOUR, [old, first, second, other], until=T0)
    cache.record(["AAA"], T0 - REREAD, [first], until=T0 + HOUR)  # read twice: kept once
    assert cache.headlines(["AAA", "BBB"], T0 - 24 * HOUR) == [second, first]
    assert cache.headlines(["AAA"], T0 - 3 * HOUR) == [first]
