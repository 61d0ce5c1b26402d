"""Pre-trade risk rules: each plan is checked against the book, the limits and earlier approvals.

Rules run in a fixed order and the first one broken decides; every rejection names its rule.
Plans approved earlier in the same cycle ride along as `pending_plans`, so a batch of approvals
together still respects position count, sector exposure, buying power and the loss budget.

Sector exposure: a name's sector comes from `BookState.sectors` (held names) or the plan itself.
An unknown sector (None or blank) is treated conservatively: every unknown-sector name counts
together as one sector, and that bucket is capped at half of `max_sector_exposure_pct`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from catalyst.config.models import RiskLimits
from catalyst.domain.decisions import APPROVED, Approved, Decision, Rejected
from catalyst.domain.models import Position
from catalyst.domain.plans import TradePlan
from catalyst.domain.ticks import is_valid_tick

UNKNOWN_SECTOR_SHARE = Decimal("0.5")  # unknown-sector bucket gets half the sector limit


@dataclass(frozen=True, slots=True)
class BookState:
    """Everything the rules need to know about the account at the moment of a decision."""

    equity: Decimal
    buying_power: Decimal
    positions: Sequence[Position]
    open_entry_symbols: frozenset[str]  # symbols with any open order at the broker
    sectors: Mapping[str, str | None]  # sector of each held symbol; missing means unknown
    day_pnl: Decimal  # broker equity - the day's starting equity: realised + unrealised
    trading_halted: bool
    paused: bool
    entries_allowed_now: bool  # market open and before the entry cutoff
    pending_plans: tuple[TradePlan, ...] = ()  # approved earlier in this cycle, not yet placed
    # What the positions already held would still lose if every one stopped out from here:
    # Σ qty x (mark - stop), never negative. Counting it keeps "all stops hit" within the limit.
    open_risk: Decimal = Decimal(0)
    # Symbols stopped out recently, with the instant each may be entered again (risk/cooldown.py).
    cooling_down: Mapping[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        numbers = [self.equity, self.buying_power, self.day_pnl, self.open_risk]
        numbers += [p.current_price for p in self.positions]
        if not all(isinstance(n, Decimal) and n.is_finite() for n in numbers):
            raise ValueError("book state needs finite Decimal equity, buying power, P&L and prices")

    @property
    def held_symbols(self) -> frozenset[str]:
        return frozenset(p.symbol for p in self.positions if p.qty != 0)

    @property
    def committed_symbols(self) -> frozenset[str]:
        """Symbols already held, with an open order, or approved earlier this cycle."""
        pending = frozenset(p.symbol for p in self.pending_plans)
        return self.held_symbols | self.open_entry_symbols | pending


def sector_bucket(sector: str | None) -> str | None:
    """The exposure bucket for `sector`: its stripped name, or None for the unknown bucket."""
    if sector is None:
        return None
    return sector.strip() or None


def sector_cap(bucket: str | None, equity: Decimal, limits: RiskLimits) -> Decimal:
    """The most market value one sector bucket may hold (half the limit for the unknown bucket)."""
    cap = Decimal(str(limits.max_sector_exposure_pct)) * equity
    return cap * UNKNOWN_SECTOR_SHARE if bucket is None else cap


def sector_exposure(bucket: str | None, book: BookState) -> Decimal:
    """Market value held plus notional pending in `bucket`."""
    held = sum(
        (
            abs(p.market_value)
            for p in book.positions
            if p.qty != 0 and sector_bucket(book.sectors.get(p.symbol)) == bucket
        ),
        Decimal(0),
    )
    pending = sum(
        (p.notional for p in book.pending_plans if sector_bucket(p.sector) == bucket), Decimal(0)
    )
    return held + pending


def check_entry(plan: TradePlan, book: BookState, limits: RiskLimits) -> Decision:
    """Approve `plan` or reject it with the first broken rule, in the order of `_RULES`."""
    for rule in _RULES:
        rejection = rule(plan, book, limits)
        if rejection is not None:
            return rejection
    return APPROVED


def check_all(
    plans: Sequence[TradePlan], book: BookState, limits: RiskLimits
) -> list[tuple[TradePlan, Decision]]:
    """Check `plans` in order; each approval joins `pending_plans` for the plans after it."""
    results: list[tuple[TradePlan, Decision]] = []
    for plan in plans:
        decision = check_entry(plan, book, limits)
        if isinstance(decision, Approved):
            book = replace(book, pending_plans=(*book.pending_plans, plan))
        results.append((plan, decision))
    return results


_Rule = Callable[[TradePlan, BookState, RiskLimits], Rejected | None]


def _halted(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    return Rejected("trading is halted", "halted") if book.trading_halted else None


def _paused(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    return Rejected("trading is paused", "paused") if book.paused else None


def _entry_window(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    if book.entries_allowed_now:
        return None
    return Rejected("outside the entry window", "entry_window")


def _duplicate(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    if plan.symbol not in book.committed_symbols:
        return None
    return Rejected(f"{plan.symbol} already held, ordered or planned", "duplicate_symbol")


def _cooldown(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    until = book.cooling_down.get(plan.symbol)
    if until is None:
        return None
    return Rejected(
        f"{plan.symbol} was stopped out; no re-entry before {until:%H:%M} UTC "
        f"(stop_out_cooldown_minutes {limits.stop_out_cooldown_minutes})",
        "stop_out_cooldown",
    )


def _ticks(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    if is_valid_tick(plan.stop_price) and is_valid_tick(plan.target_price):
        return None
    return Rejected(
        f"stop {plan.stop_price} or target {plan.target_price} is not a valid tick",
        "invalid_prices",
    )


def _equity(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    return None if book.equity > 0 else Rejected(f"equity {book.equity} not positive", "equity")


def _max_positions(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    count = len(book.committed_symbols) + 1
    if count <= limits.max_positions:
        return None
    return Rejected(f"{count} positions would exceed {limits.max_positions}", "max_positions")


def _position_size(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    if plan.notional <= limits.max_position_size_usd:
        return None
    return Rejected(
        f"notional {plan.notional} exceeds {limits.max_position_size_usd}", "max_position_size"
    )


def _sector(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    bucket = sector_bucket(plan.sector)
    after = sector_exposure(bucket, book) + plan.notional
    cap = sector_cap(bucket, book.equity, limits)
    if after <= cap:
        return None
    name = bucket if bucket is not None else "unknown sectors"
    return Rejected(f"{name} exposure {after:.2f} would exceed {cap:.2f}", "sector_exposure")


def _reward_risk(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    minimum = Decimal(str(limits.min_reward_risk))
    if plan.reward_risk >= minimum:
        return None
    return Rejected(f"reward:risk {plan.reward_risk:.2f} below {minimum}", "min_reward_risk")


def _buying_power(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    needed = plan.notional + sum((p.notional for p in book.pending_plans), Decimal(0))
    if needed <= book.buying_power:
        return None
    return Rejected(f"needs {needed} of buying power {book.buying_power}", "buying_power")


def _daily_loss(plan: TradePlan, book: BookState, limits: RiskLimits) -> Rejected | None:
    projected = projected_loss(book) + plan.max_loss
    if projected <= limits.max_daily_loss_usd:
        return None
    return Rejected(
        f"projected loss {projected} would exceed {limits.max_daily_loss_usd}", "daily_loss"
    )


def projected_loss(book: BookState) -> Decimal:
    """Today's loss so far (0 when up), plus what held positions would lose to their stops,
    plus the stop-out loss of every pending plan."""
    current = -book.day_pnl if book.day_pnl < 0 else Decimal(0)
    open_risk = max(book.open_risk, Decimal(0))
    return current + open_risk + sum((p.max_loss for p in book.pending_plans), Decimal(0))


_RULES: tuple[_Rule, ...] = (
    _halted,
    _paused,
    _entry_window,
    _duplicate,
    _cooldown,
    _ticks,
    _equity,
    _max_positions,
    _position_size,
    _sector,
    _reward_risk,
    _buying_power,
    _daily_loss,
)
