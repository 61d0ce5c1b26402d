"""Whatever the plans and the book, the approved set never breaks a limit when added up."""

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from stubs import book, plan, position

from catalyst.config.models import RiskLimits
from catalyst.domain.decisions import Approved
from catalyst.domain.plans import TradePlan
from catalyst.domain.ticks import is_valid_tick
from catalyst.risk.rules import BookState, check_all

D = Decimal
SYMBOLS = [chr(c) for c in range(ord("A"), ord("P"))]
SECTORS = ["Tech", "Energy", " Tech ", None, "", "  "]


def _bucket(sector: str | None) -> str | None:
    return (sector.strip() or None) if sector is not None else None


@st.composite
def plans(draw: st.DrawFn) -> TradePlan:
    # Mostly plausible plans (so many get approved) with some that break each rule.
    entry_cents = draw(st.integers(min_value=100, max_value=30_000))
    entry = D(entry_cents) / 100
    risk_cents = draw(st.integers(min_value=1, max_value=max(1, entry_cents // 10)))
    reward_cents = risk_cents * draw(st.integers(min_value=1, max_value=4)) + draw(
        st.integers(min_value=0, max_value=50)
    )
    target = entry + D(reward_cents) / 100
    if draw(st.integers(0, 9)) == 0:
        target += D("0.001")  # an off-tick price the rules must catch
    return plan(
        draw(st.sampled_from(SYMBOLS)),
        sector=draw(st.sampled_from(SECTORS)),
        qty=draw(st.integers(min_value=1, max_value=100)),
        entry_price=entry,
        stop_price=entry - D(risk_cents) / 100,
        target_price=target,
        confidence=0.7,
    )


@st.composite
def books(draw: st.DrawFn) -> BookState:
    held = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=3))
    positions = tuple(
        position(s, draw(st.integers(0, 200)), "20", D(draw(st.integers(1, 20_000))) / 100)
        for s in held
    )
    return book(
        positions,
        equity=D(draw(st.integers(min_value=1_000, max_value=200_000))),
        buying_power=D(draw(st.integers(min_value=0, max_value=200_000))),
        open_entry_symbols=frozenset(draw(st.lists(st.sampled_from(SYMBOLS), max_size=2))),
        sectors={s: draw(st.sampled_from(SECTORS)) for s in held if draw(st.booleans())},
        day_pnl=D(draw(st.integers(min_value=-2_000, max_value=2_000))),
        trading_halted=draw(st.integers(0, 9)) == 0,
        paused=draw(st.integers(0, 9)) == 0,
        entries_allowed_now=draw(st.integers(0, 9)) != 0,
    )


limits_strategy = st.builds(
    RiskLimits,
    max_daily_loss_usd=st.integers(min_value=100, max_value=5_000).map(D),
    max_positions=st.integers(min_value=1, max_value=10),
    max_position_size_usd=st.integers(min_value=500, max_value=40_000).map(D),
    max_sector_exposure_pct=st.floats(min_value=0.05, max_value=1.0),
    min_reward_risk=st.floats(min_value=1.0, max_value=3.0),
)


@settings(max_examples=400)
@given(st.lists(plans(), max_size=10), books(), limits_strategy)
def test_approved_plans_together_never_break_a_limit(
    batch: list[TradePlan], book: BookState, limits: RiskLimits
) -> None:
    approved = [p for p, d in check_all(batch, book, limits) if isinstance(d, Approved)]
    if not approved:
        return
    assert not book.trading_halted
    assert not book.paused
    assert book.entries_allowed_now

    held = {p.symbol for p in book.positions if p.qty != 0}
    symbols = [p.symbol for p in approved]
    assert len(set(symbols)) == len(symbols)
    assert not set(symbols) & (held | book.open_entry_symbols)
    assert len(held | book.open_entry_symbols | set(symbols)) <= limits.max_positions

    for p in approved:
        assert p.notional <= limits.max_position_size_usd
        assert p.reward_risk >= D(str(limits.min_reward_risk))
        assert is_valid_tick(p.stop_price)
        assert is_valid_tick(p.target_price)
    assert sum(p.notional for p in approved) <= book.buying_power

    loss_so_far = max(-book.day_pnl, D(0))
    assert loss_so_far + sum(p.max_loss for p in approved) <= limits.max_daily_loss_usd

    for bucket in {_bucket(p.sector) for p in approved}:
        existing = sum(
            abs(pos.current_price * pos.qty)
            for pos in book.positions
            if pos.qty != 0 and _bucket(book.sectors.get(pos.symbol)) == bucket
        )
        added = sum(p.notional for p in approved if _bucket(p.sector) == bucket)
        cap = D(str(limits.max_sector_exposure_pct)) * book.equity
        if bucket is None:
            cap /= 2
        assert existing + added <= cap


@given(st.lists(plans(), min_size=1, max_size=5), books(), limits_strategy)
def test_no_plan_is_approved_while_halted_paused_or_outside_the_window(
    batch: list[TradePlan], book: BookState, limits: RiskLimits
) -> None:
    for blocked in (
        replace(book, trading_halted=True),
        replace(book, paused=True),
        replace(book, entries_allowed_now=False),
    ):
        assert not any(isinstance(d, Approved) for _, d in check_all(batch, blocked, limits))
