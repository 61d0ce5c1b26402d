"""JSON decoded a piece at a time, so that a big answer never holds the interpreter for long.

`json.loads` is C code that keeps the GIL from the first byte to the last: 18 ms for one page of
~900 snapshots (490 KB), 90 ms for the 12,000-asset list (3.8 MB). The decode runs in a worker
thread, but while it holds the GIL the event loop (and the risk-watch on it) cannot run, however
long it has waited. `loads_in_pieces` walks the outer levels of an answer in Python and hands each
record below them to the same C scanner `json.loads` runs: one symbol's snapshot, one asset, one
symbol's bars, one headline. Between pieces the interpreter
can switch threads, so the longest hold is one piece's decode (well under a millisecond for a
snapshot). The result is the same value `json.loads` gives, and bad JSON raises the same
`json.JSONDecodeError`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

import requests
from requests.utils import guess_json_utf

# Alpaca's paginated answers hold their records under one of these keys, beside
# `next_page_token` (`{"bars": {"AAPL": [...], ...}}`, `{"news": [...]}`): such a value is walked
# one level further, so that each symbol's bars or each headline is a piece of its own.
LISTING_KEYS = frozenset({"assets", "bars", "news", "quotes", "snapshots", "trades"})
# The C scanner json.loads itself runs (typeshed does not declare it).
_SCANNER: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_WHITESPACE_CHARS = " \t\n\r"


def loads_in_pieces(text: str) -> Any:
    """`json.loads(text)`, decoded in pieces: the outer object's values or the outer array's
    items, and inside a value under one of `LISTING_KEYS` its values or items."""
    index = _skip(text, 0)
    value, index = _value(text, index, walk=True)
    index = _skip(text, index)
    if index != len(text):
        raise json.JSONDecodeError("Extra data", text, index)
    return value


class PiecewiseJsonResponse(requests.Response):
    """A `requests.Response` whose `json()` decodes with `loads_in_pieces`.

    alpaca-py decodes every answer with `response.json()` inside its own request method; the
    transport's session gives its responses this class (see `transport._TimeoutSession`), the
    one place where the decode can be changed without copying alpaca-py's request code.
    """

    def json(self, **kwargs: Any) -> Any:
        """The body decoded as `requests.Response.json` would (same errors), piece by piece."""
        if kwargs:  # options for json.loads: leave them to requests' own decode
            return super().json(**kwargs)
        encoding = None if self.encoding else guess_json_utf(self.content)
        text = self.text if encoding is None else self.content.decode(encoding)
        try:
            return loads_in_pieces(text)
        except json.JSONDecodeError as exc:
            raise requests.exceptions.JSONDecodeError(exc.msg, exc.doc, exc.pos) from exc


def _value(text: str, index: int, *, walk: bool) -> tuple[Any, int]:
    if walk and index < len(text):
        if text[index] == "{":
            return _object(text, index + 1)
        if text[index] == "[":
            return _array(text, index + 1)
    return _piece(text, index)


def _object(text: str, index: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    index = _skip(text, index)
    if text.startswith("}", index):
        return result, index + 1
    while True:
        if not text.startswith('"', index):
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, index
            )
        key, index = _piece(text, index)
        index = _skip(text, index)
        if not text.startswith(":", index):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
        walk = key in LISTING_KEYS
        result[key], index = _value(text, _skip(text, index + 1), walk=walk)
        index = _skip(text, index)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
        elif text.startswith("}", index):
            return result, index + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)


def _array(text: str, index: int) -> tuple[list[Any], int]:
    # An array's items are the records (assets, headlines, a symbol's bars): each is one piece.
    result: list[Any] = []
    index = _skip(text, index)
    if text.startswith("]", index):
        return result, index + 1
    while True:
        item, index = _piece(text, index)
        result.append(item)
        index = _skip(text, index)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
        elif text.startswith("]", index):
            return result, index + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)


def _piece(text: str, index: int) -> tuple[Any, int]:
    """One value decoded whole by the C scanner (as `JSONDecoder.raw_decode` does).

    The scanner shares equal keys within one call only, so a record's keys are interned: 12,000
    assets decoded one by one held 21 MB of strings instead of json.loads's 11 MB without it.
    """
    try:
        value, end = _SCANNER(text, index)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if isinstance(value, dict):
        value = {sys.intern(key): item for key, item in value.items()}
    return value, end


def _skip(text: str, index: int) -> int:
    # Alpaca's answers are compact: most of the time there is nothing to skip.
    if index >= len(text) or text[index] not in _WHITESPACE_CHARS:
        return index
    match = _WHITESPACE.match(text, index)
    return index if match is None else match.end()
