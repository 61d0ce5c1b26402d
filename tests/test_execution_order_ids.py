import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.execution.order_ids import MAX_LENGTH, client_order_id

_ALLOWED = re.compile(r"^[A-Za-z0-9_-]+$")


def test_client_order_id_is_the_same_for_the_same_inputs() -> None:
    first = client_order_id("2024-05-01T13:30Z", "AAPL", "entry")
    assert first == client_order_id("2024-05-01T13:30Z", "AAPL", "entry")
    assert first.startswith("cat-AAPL-entry-")


@pytest.mark.parametrize(
    "purposes",
    [
        ("entry", "exit"),
        ("flatten-2024-05-01", "emergency-2024-05-01-1"),
        ("emergency-2024-05-01-1", "emergency-2024-05-01-2"),
    ],
)
def test_client_order_id_differs_by_purpose(purposes: tuple[str, str]) -> None:
    a, b = (client_order_id("cycle-1", "MSFT", p) for p in purposes)
    assert a != b


def test_client_order_id_separates_inputs_that_concatenate_alike() -> None:
    assert client_order_id("c-1", "A", "entry") != client_order_id("c", "1-A", "entry")


def test_client_order_id_sanitises_symbols_with_dots() -> None:
    assert client_order_id("c", "BRK.B", "entry").startswith("cat-BRK_B-entry-")


@pytest.mark.parametrize(
    ("cycle", "symbol", "purpose"), [("", "A", "entry"), ("c", "", "entry"), ("c", "A", "")]
)
def test_client_order_id_rejects_empty_inputs(cycle: str, symbol: str, purpose: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        client_order_id(cycle, symbol, purpose)


texts = st.text(min_size=1, max_size=80)


@given(texts, texts, texts)
def test_client_order_id_is_short_and_uses_only_safe_characters(
    cycle: str, symbol: str, purpose: str
) -> None:
    value = client_order_id(cycle, symbol, purpose)
    assert len(value) <= MAX_LENGTH
    assert _ALLOWED.match(value)


@given(st.sets(st.tuples(texts, texts, texts), min_size=2, max_size=50))
def test_client_order_id_is_unique_over_distinct_inputs(triples: set[tuple[str, str, str]]) -> None:
    ids = {client_order_id(*triple) for triple in triples}
    assert len(ids) == len(triples)
