from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.domain.trading_state import (
    HaltRequested,
    LossBreached,
    NewTradingDay,
    OperationalFailure,
    PersonAcknowledged,
    TradingEvent,
    TradingState,
    next_state,
)

D = Decimal

AUTOMATIC: list[TradingEvent] = [
    LossBreached(D("-2500")),
    OperationalFailure("reconciliation failed"),
    NewTradingDay(date(2024, 5, 2)),
]


@pytest.mark.parametrize(
    ("current", "event", "expected"),
    [
        (TradingState.ACTIVE, LossBreached(D("-2000")), TradingState.HALTED),
        (TradingState.ACTIVE, OperationalFailure("flatten failed"), TradingState.HALTED),
        (TradingState.ACTIVE, HaltRequested("ops", "news"), TradingState.HALTED),
        (TradingState.ACTIVE, NewTradingDay(date(2024, 5, 2)), TradingState.ACTIVE),
        (TradingState.ACTIVE, PersonAcknowledged("alice"), TradingState.ACTIVE),
        (TradingState.HALTED, NewTradingDay(date(2024, 5, 2)), TradingState.HALTED),
        (TradingState.HALTED, LossBreached(D("-1")), TradingState.HALTED),
        (TradingState.HALTED, PersonAcknowledged("alice", "reviewed"), TradingState.ACTIVE),
    ],
)
def test_next_state_only_a_person_lifts_a_halt(
    current: TradingState, event: TradingEvent, expected: TradingState
) -> None:
    assert next_state(current, event) is expected


@pytest.mark.parametrize("name", ["", "   "])
def test_person_acknowledged_must_name_the_person(name: str) -> None:
    with pytest.raises(ValueError, match="name the person"):
        PersonAcknowledged(name)


@given(st.lists(st.sampled_from(AUTOMATIC), max_size=30))
def test_no_sequence_of_automatic_events_ever_lifts_a_halt(events: list[TradingEvent]) -> None:
    state = TradingState.HALTED
    for event in events:
        state = next_state(state, event)
        assert state is TradingState.HALTED


@given(st.lists(st.sampled_from(AUTOMATIC), max_size=30))
def test_automatic_events_never_raise_the_state(events: list[TradingEvent]) -> None:
    state = TradingState.ACTIVE
    for event in events:
        after = next_state(state, event)
        assert not (state is TradingState.HALTED and after is TradingState.ACTIVE)
        state = after
    if any(isinstance(e, LossBreached | OperationalFailure) for e in events):
        assert state is TradingState.HALTED
