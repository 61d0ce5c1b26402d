"""Alpaca answers decoded in pieces give what `json.loads` gives, and fail where it fails."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from catalyst.brokers.alpaca.json_pieces import (
    LISTING_KEYS,
    PiecewiseJsonResponse,
    loads_in_pieces,
)

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_keys = st.sampled_from(sorted(LISTING_KEYS)) | st.text(max_size=5)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=30,
)


@given(value=_values, indent=st.sampled_from([None, 0, 2]), spaced=st.booleans())
def test_pieces_decode_to_what_json_loads_gives(
    value: Any, indent: int | None, spaced: bool
) -> None:
    separators = (" , ", " : ") if spaced else None
    text = json.dumps(value, indent=indent, separators=separators)
    text = f" \n{text}\t " if spaced else text
    assert loads_in_pieces(text) == json.loads(text)


def test_a_snapshot_page_and_a_bars_page_decode_whole() -> None:
    snapshots = {"AAPL": {"latestTrade": {"p": 1.5}}, "MSFT": {"dailyBar": None}}
    bars = {"bars": {"AAPL": [{"c": 1}, {"c": 2}], "MSFT": []}, "next_page_token": "x"}
    assets = [{"symbol": "AAPL", "tradable": True}, {"symbol": "MSFT", "tradable": False}]
    for value in (snapshots, bars, assets, {"news": [{"id": 1}]}, {}, [], 3, "s"):
        assert loads_in_pieces(json.dumps(value)) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"a": 1',
        '{"a" 1}',
        '{"a": 1 "b": 2}',
        '{"a": 1,}',
        "{1: 2}",
        '{"bars": {"A": [1,]}}',
        '{"bars": {"A": [1] "B": 2}}',
        "[1, 2",
        "[1 2]",
        '{"a": 1} x',
        '{"a": nope}',
    ],
)
def test_bad_json_raises_json_decode_error_as_json_loads_does(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        loads_in_pieces(text)


def _response(body: bytes, content_type: str | None = "application/json") -> requests.Response:
    response = PiecewiseJsonResponse()
    response._content = body
    response.status_code = 200
    if content_type is not None:
        response.encoding = requests.utils.get_encoding_from_headers({"content-type": content_type})
    return response


def test_a_response_decodes_its_body_in_pieces_as_requests_would() -> None:
    body = json.dumps({"bars": {"A": [{"c": 1}]}, "next_page_token": None}).encode()
    assert _response(body).json() == requests.Response.json(_response(body))
    assert _response(body, None).json() == json.loads(body)
    utf16 = json.dumps({"AAPL": {"n": "é"}}).encode("utf-16")
    assert _response(utf16, None).json() == {"AAPL": {"n": "é"}}


def test_a_response_with_a_bad_body_raises_requests_json_decode_error() -> None:
    with pytest.raises(requests.exceptions.JSONDecodeError):
        _response(b'{"AAPL": ').json()


def test_records_decoded_one_by_one_share_their_keys_as_json_loads_does() -> None:
    # Unshared, 12,000 assets' keys took 10 MB more than json.loads's decode of the same list.
    first, second = loads_in_pieces('[{"symbol": "A"}, {"symbol": "B"}]')
    assert next(iter(first)) is next(iter(second))
