"""The one check only an approved proposal needs: has the price walked away from the plan?

A supervised entry is sized, stopped and risk-checked at the scan's price, then waits minutes for
a person. Sent unchanged after the market moved, it is no longer the trade that was approved: a
price far above the entry leaves the limit resting (filling later, at a moment nobody chose); one
near or below the stop enters a trade that is already stopped out. So the last trade must still be
within `max_move` (a fraction, `trading_session.proposal_max_price_move_pct`) of the proposed
entry, on either side, and above the proposed stop; otherwise the proposal is refused.
"""

from __future__ import annotations

from decimal import Decimal

from catalyst.domain.decisions import APPROVED, Decision, Rejected
from catalyst.domain.plans import TradePlan

PRICE_RULE = "price_moved"


def price_still_near(plan: TradePlan, last_price: Decimal | None, max_move: Decimal) -> Decision:
    """Approve `plan` at `last_price` (None: no current price known, refused)."""
    if last_price is None or not last_price.is_finite() or last_price <= 0:
        return Rejected(f"no current price for {plan.symbol}", PRICE_RULE)
    if last_price <= plan.stop_price:
        return Rejected(
            f"last trade {last_price} is at or below the proposed stop {plan.stop_price}",
            PRICE_RULE,
        )
    move = abs(last_price - plan.entry_price) / plan.entry_price
    if move > max_move:
        return Rejected(
            f"last trade {last_price} is {move:.2%} from the proposed entry {plan.entry_price} "
            f"(at most {max_move:.2%})",
            PRICE_RULE,
        )
    return APPROVED
