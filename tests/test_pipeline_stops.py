"""The proposed stop: the tighter valid one of an ATR multiple and the pattern's invalidation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.config.strategy import StopSettings
from catalyst.domain.ticks import is_valid_tick
from catalyst.pipeline.stops import StopParams, propose_stop

D = Decimal
PARAMS = StopParams.of(StopSettings(), max_stop_pct=0.02)  # 0.5 x daily ATR; 0.5-2 % below


def test_the_tighter_of_two_valid_stops_wins() -> None:
    # ATR stop 50 - 0.5 x 1.60 = 49.20 (1.6 %); invalidation 49.60 -> 49.55 (0.9 %).
    stop = propose_stop(D("50"), daily_atr=1.60, invalidation=49.60, params=PARAMS)
    assert (stop.price, stop.basis) == (D("49.55"), "pattern")
    stop = propose_stop(D("50"), daily_atr=1.20, invalidation=49.10, params=PARAMS)
    assert (stop.price, stop.basis) == (D("49.40"), "atr")


def test_a_stop_too_close_to_the_entry_is_not_valid() -> None:
    # The invalidation sits 0.2 % under the entry: noise would take the trade out.
    stop = propose_stop(D("50"), daily_atr=1.60, invalidation=49.91, params=PARAMS)
    assert (stop.price, stop.basis) == (D("49.20"), "atr")


def test_a_stop_too_far_from_the_entry_is_not_valid() -> None:
    # ATR stop 50 - 0.5 x 4 = 48 (4 %), wider than the 2 % allowed; no pattern.
    stop = propose_stop(D("50"), daily_atr=4.0, invalidation=None, params=PARAMS)
    assert (stop.price, stop.basis) == (D("49"), "percent")
    assert "2.0% below the entry" in stop.reason


def test_without_atr_or_pattern_the_stop_is_the_percent_below_entry() -> None:
    stop = propose_stop(D("12.34"), daily_atr=None, invalidation=None, params=PARAMS)
    assert (stop.price, stop.basis) == (D("12.09"), "percent")


def test_an_invalidation_above_the_entry_is_ignored() -> None:
    stop = propose_stop(D("50"), daily_atr=None, invalidation=50.5, params=PARAMS)
    assert stop.basis == "percent"


def test_params_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="atr_multiple"):
        StopParams(atr_multiple=0, min_stop_pct=0, max_stop_pct=0.02, invalidation_buffer_pct=0)
    with pytest.raises(ValueError, match="min_stop_pct"):
        StopParams(atr_multiple=1, min_stop_pct=0.03, max_stop_pct=0.02, invalidation_buffer_pct=0)


def test_a_configured_minimum_at_or_above_the_widest_stop_is_halved_below_it() -> None:
    params = StopParams.of(StopSettings(min_stop_pct=0.03), max_stop_pct=0.02)
    assert params.min_stop_pct == 0.01


@given(
    entry=st.decimals(min_value=D("0.05"), max_value=D("5000"), places=2),
    atr=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    invalidation=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_the_stop_is_always_a_valid_tick_below_the_entry_within_the_widest_allowed(
    entry: Decimal, atr: float | None, invalidation: float | None
) -> None:
    stop = propose_stop(entry, daily_atr=atr, invalidation=invalidation, params=PARAMS)
    assert 0 <= stop.price < entry
    assert is_valid_tick(stop.price) or stop.price == 0
    if stop.basis != "percent":
        assert entry - stop.price <= entry * D("0.02")
