from decimal import Decimal

import pytest
from stubs import AT, book, plan, position

from catalyst.config.models import RiskLimits
from catalyst.domain.decisions import APPROVED, Approved, Rejected
from catalyst.domain.plans import TradePlan
from catalyst.risk.rules import BookState, check_all, check_entry, projected_loss, sector_cap

D = Decimal
# $100k equity: sector cap 40 % = $40k, unknown-sector cap $20k; loss budget $2000.
LIMITS = RiskLimits(
    max_daily_loss_usd=D("2000"),
    max_positions=5,
    max_position_size_usd=D("10000"),
    max_sector_exposure_pct=0.40,
    min_reward_risk=1.5,
)


def rule_of(decision: Approved | Rejected) -> str:
    return decision.rule if isinstance(decision, Rejected) else "approved"


def test_check_entry_approves_a_plan_within_every_limit() -> None:
    assert check_entry(plan(), book(), LIMITS) is APPROVED


@pytest.mark.parametrize(
    ("the_plan", "the_book", "rule"),
    [
        (plan(), book(trading_halted=True), "halted"),
        (plan(), book(paused=True), "paused"),
        (plan(), book(entries_allowed_now=False), "entry_window"),
        (plan("HELD"), book([position("HELD")]), "duplicate_symbol"),
        (plan("OPEN"), book(open_entry_symbols=frozenset({"OPEN"})), "duplicate_symbol"),
        (plan("NEW"), book(pending_plans=(plan("NEW"),)), "duplicate_symbol"),
        (plan("COOL"), book(cooling_down={"COOL": AT}), "stop_out_cooldown"),
        (plan(stop_price=D("49.005")), book(), "invalid_prices"),
        (plan(target_price=D("52.001")), book(), "invalid_prices"),
        (plan(), book(equity=D("0")), "equity"),
        (plan(), book([position(s, qty=1) for s in "ABCDE"]), "max_positions"),
        (
            plan(),
            book([position(s, qty=1) for s in "ABC"], open_entry_symbols=frozenset("DE")),
            "max_positions",
        ),
        (plan(qty=201), book(), "max_position_size"),
        (plan(), book([position("A", qty=700, entry="50.01")]), "sector_exposure"),
        (plan(target_price=D("51.40")), book(), "min_reward_risk"),
        (plan(), book(buying_power=D("4999.99")), "buying_power"),
        (plan(), book(day_pnl=D("-1900.01")), "daily_loss"),
    ],
)
def test_check_entry_rejects_with_the_broken_rule(
    the_plan: TradePlan, the_book: BookState, rule: str
) -> None:
    assert rule_of(check_entry(the_plan, the_book, LIMITS)) == rule


def test_check_entry_allows_sector_exposure_exactly_at_the_limit() -> None:
    assert check_entry(plan(), book([position("A", qty=700)]), LIMITS) is APPROVED  # 35k + 5k


def test_check_entry_counts_only_the_plans_own_sector() -> None:
    crowded_tech = book([position("A", qty=700, entry="50.01")])
    assert check_entry(plan(sector="Energy"), crowded_tech, LIMITS) is APPROVED


def test_check_entry_caps_unknown_sectors_together_at_half_the_sector_limit() -> None:
    unknown_held = book([position("A", qty=300, entry="50.01")], sectors={})  # $15,003 unknown
    assert rule_of(check_entry(plan(sector=None), unknown_held, LIMITS)) == "sector_exposure"
    assert rule_of(check_entry(plan(sector="  "), unknown_held, LIMITS)) == "sector_exposure"
    assert check_entry(plan(sector="Tech"), unknown_held, LIMITS) is APPROVED
    assert sector_cap(None, D("100000"), LIMITS) == D("20000")


def test_check_entry_counts_pending_plans_toward_sector_exposure() -> None:
    pending = tuple(plan(f"P{i}", qty=175) for i in range(4))  # 4 x $8,750 = $35,000 Tech
    assert (
        rule_of(check_entry(plan(qty=101), book(pending_plans=pending), LIMITS))
        == "sector_exposure"
    )


def test_check_entry_allows_the_loss_budget_to_be_used_exactly() -> None:
    assert check_entry(plan(), book(day_pnl=D("-1900")), LIMITS) is APPROVED


def test_check_entry_does_not_spend_todays_gains_as_extra_loss_budget() -> None:
    risky = plan(stop_price=D("29.99"), target_price=D("80.02"))  # max loss $2001
    assert rule_of(check_entry(risky, book(day_pnl=D("5000")), LIMITS)) == "daily_loss"


def test_check_entry_ignores_flat_positions_when_counting() -> None:
    flat = book([position(s, qty=0) for s in "ABCDE"])
    assert check_entry(plan(), flat, LIMITS) is APPROVED


def test_check_all_feeds_approvals_forward_so_a_batch_respects_max_positions() -> None:
    plans = [plan(f"S{i}", sector=f"Sector{i}") for i in range(7)]
    results = check_all(plans, book([position("HELD", qty=1)], sectors={"HELD": "Other"}), LIMITS)
    assert [rule_of(d) for _, d in results] == ["approved"] * 4 + ["max_positions"] * 3
    assert [p for p, _ in results] == plans


def test_check_all_feeds_approvals_forward_so_a_batch_respects_the_loss_budget() -> None:
    # Each plan risks $500: with $600 lost today only two more fit under $2000.
    plans = [
        plan(f"S{i}", sector=f"Sector{i}", stop_price=D("45.00"), target_price=D("57.50"))
        for i in range(4)
    ]
    results = check_all(plans, book(day_pnl=D("-600")), LIMITS)
    assert [rule_of(d) for _, d in results] == ["approved", "approved", "daily_loss", "daily_loss"]


def test_check_all_feeds_approvals_forward_so_a_batch_respects_buying_power() -> None:
    plans = [plan(f"S{i}", sector=f"Sector{i}") for i in range(3)]
    results = check_all(plans, book(buying_power=D("12000")), LIMITS)
    assert [rule_of(d) for _, d in results] == ["approved", "approved", "buying_power"]


def test_check_all_rejects_a_second_plan_for_the_same_symbol() -> None:
    results = check_all([plan("X", sector="A"), plan("X", sector="B")], book(), LIMITS)
    assert [rule_of(d) for _, d in results] == ["approved", "duplicate_symbol"]


def test_projected_loss_adds_pending_stop_outs_to_todays_loss() -> None:
    assert projected_loss(book(day_pnl=D("-250"), pending_plans=(plan("A"), plan("B")))) == D("450")
    assert projected_loss(book(day_pnl=D("300"))) == D("0")


@pytest.mark.parametrize("field", ["equity", "buying_power", "day_pnl"])
def test_book_state_refuses_non_finite_numbers(field: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        book(**{field: D("NaN")})
