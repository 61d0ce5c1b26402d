"""Stage 5: size a candidate and price its bracket (stop below, target above, valid ticks)."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal

from catalyst.config.models import RiskLimits, WorkflowConfig
from catalyst.domain.decisions import Rejected
from catalyst.domain.plans import TradePlan
from catalyst.domain.ticks import PENNY, round_down_to_tick, round_up_to_tick
from catalyst.pipeline.candidates import Candidate

BUYING_POWER_USE = Decimal("0.95")  # headroom for the fill landing above the last trade
ENTRY_LIMIT_MARKUP = Decimal("1.002")  # entry limit 0.2 % above the last trade


def plan_bracket(
    candidate: Candidate,
    *,
    account_equity: Decimal,
    buying_power: Decimal,
    limits: RiskLimits,
    workflow: WorkflowConfig,
) -> TradePlan | Rejected:
    """A long bracket plan for `candidate`, or `Rejected` with the reason it cannot be sized.

    Entry reference is the last price. The stop is the candidate's proposed stop
    (`catalyst.pipeline.stops`) when it has one, else entry x (1 - stop_loss_pct), rounded down
    to a valid tick; it must sit at least $0.01 below the entry; the target is entry +
    reward_risk_ratio x (entry - stop) rounded up, so the realised reward:risk is never below the
    configured ratio.
    Quantity is floor(min(max_position_size_usd, 95 % of buying power) / entry) whole shares.
    """
    entry = candidate.last_price
    if not (isinstance(entry, Decimal) and entry.is_finite() and entry > 0):
        return Rejected(f"invalid entry price {entry}", "sizing.entry_price")
    if not (account_equity.is_finite() and account_equity > 0):
        return Rejected(f"account equity {account_equity} is not positive", "sizing.equity")
    try:
        proposed = candidate.stop_price
        if proposed is None:
            proposed = entry * (1 - Decimal(str(workflow.stop_loss_pct)))
        stop = round_down_to_tick(proposed)
        if stop <= 0 or entry - stop < PENNY:
            return Rejected(
                f"stop {stop} is not at least $0.01 below entry {entry}", "sizing.stop_distance"
            )
        ratio = Decimal(str(workflow.reward_risk_ratio))
        target = round_up_to_tick(entry + ratio * (entry - stop))
    except ArithmeticError:  # a price beyond Decimal precision cannot be quantised to a tick
        return Rejected(f"cannot price a bracket at entry {entry}", "sizing.entry_price")
    if not buying_power.is_finite():
        return Rejected(f"buying power {buying_power} is not a number", "sizing.buying_power")
    budget = min(limits.max_position_size_usd, buying_power * BUYING_POWER_USE)
    qty = int((budget / entry).to_integral_value(rounding=ROUND_FLOOR)) if budget > 0 else 0
    if qty < 1:
        return Rejected("position size below one share", "sizing.min_qty")
    return TradePlan(
        symbol=candidate.symbol,
        sector=candidate.sector,
        qty=qty,
        entry_price=entry,
        stop_price=stop,
        target_price=target,
        confidence=candidate.confidence,
    )


def priced_at_limit(candidate: Candidate) -> Candidate:
    """The candidate priced at its entry limit: the worst price Catalyst will pay.

    Entries are marketable limit orders, so the fill can never be above the price the position
    was sized, stopped and risk-checked at (a market order could slip past every limit).
    """
    limit = round_down_to_tick(candidate.last_price * ENTRY_LIMIT_MARKUP)
    if limit < candidate.last_price:
        limit = round_up_to_tick(candidate.last_price)
    return replace(candidate, last_price=limit)
