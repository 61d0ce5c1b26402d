"""`catalyst proposals`: a supervised session's entries waiting for a person, and the commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.proposals import EntryProposal, ProposalStatus


def _local(when: datetime | None) -> str | None:
    return None if when is None else f"{when.astimezone(EXCHANGE_TZ):%H:%M:%S}"


def price_text(value: Decimal) -> str:
    """A price as a person reads it: at least cents (the journal may give back `101.2`)."""
    return str(value.quantize(Decimal("0.01")) if value.as_tuple().exponent > -2 else value)  # type: ignore[operator]


def approve_command(proposal_id: str) -> str:
    """The command that approves `proposal_id`."""
    return f"catalyst approve {proposal_id}"


def reject_command(proposal_id: str) -> str:
    """The command that rejects `proposal_id`."""
    return f"catalyst reject {proposal_id} --reason '...'"


@dataclass(frozen=True, slots=True)
class ProposalList:
    """Proposals as of `now`: the open ones (pending, not yet expired), or with `everything` all
    of the listed ones whatever became of them."""

    now: datetime
    proposals: tuple[EntryProposal, ...]
    where: str  # the state dir and database the list was read from
    everything: bool = False

    @property
    def open(self) -> tuple[EntryProposal, ...]:
        """Pending and not expired: a person may still decide these."""
        return tuple(
            p
            for p in self.proposals
            if p.status is ProposalStatus.PENDING and not p.expired_at(self.now)
        )

    def _shown(self) -> tuple[EntryProposal, ...]:
        return self.proposals if self.everything else self.open

    def _seconds_left(self, proposal: EntryProposal) -> int:
        return max(0, int((proposal.expires_at - self.now).total_seconds()))

    def as_dict(self) -> dict[str, Any]:
        """The `--json` form: every field, times in ISO 8601 UTC."""
        open_ids = {p.proposal_id for p in self.open}
        return {
            "now": self.now.isoformat(),
            "where": self.where,
            "proposals": [
                {
                    "proposal_id": p.proposal_id,
                    "cycle_id": p.cycle_id,
                    "symbol": p.symbol,
                    "sector": p.sector,
                    "qty": p.qty,
                    "entry": price_text(p.entry_price),
                    "stop": price_text(p.stop_price),
                    "target": price_text(p.target_price),
                    "confidence": p.confidence,
                    "reasons": list(p.reasons),
                    "created_at": p.created_at.isoformat(),
                    "expires_at": p.expires_at.isoformat(),
                    # An undecided proposal past its time is expired, whether marked yet or not.
                    "status": (
                        ProposalStatus.EXPIRED.value
                        if p.status is ProposalStatus.PENDING and p.expired_at(self.now)
                        else p.status.value
                    ),
                    "seconds_left": self._seconds_left(p) if p.proposal_id in open_ids else 0,
                    "decided_by": p.decided_by,
                    "decided_at": None if p.decided_at is None else p.decided_at.isoformat(),
                    "decision_note": p.decision_note,
                    "outcome": p.outcome,
                    "client_order_id": p.client_order_id,
                    "approve": approve_command(p.proposal_id)
                    if p.proposal_id in open_ids
                    else None,
                    "reject": reject_command(p.proposal_id) if p.proposal_id in open_ids else None,
                }
                for p in self._shown()
            ],
        }

    def render(self) -> str:
        """The lines the CLI prints."""
        shown = self._shown()
        stamp = f"{self.now.astimezone(EXCHANGE_TZ):%Y-%m-%d %H:%M:%S} New York"
        if not shown:
            what = "no proposals today" if self.everything else "no proposals waiting"
            return f"{what} at {stamp} ({self.where})"
        open_ids = {p.proposal_id for p in self.open}
        lines = [f"{len(self.open)} waiting for a decision at {stamp} ({self.where})"]
        for p in shown:
            lines.append("")
            lines.append(
                f"{p.proposal_id}  buy {p.qty} {p.symbol} at {price_text(p.entry_price)} limit, "
                f"stop {price_text(p.stop_price)}, target {price_text(p.target_price)}  "
                f"confidence {p.confidence:.2f}  "
                f"(scan {p.cycle_id})"
            )
            if p.reasons:
                lines.append("  why: " + "; ".join(p.reasons))
            if p.proposal_id in open_ids:
                left = self._seconds_left(p)
                lines.append(
                    f"  expires {_local(p.expires_at)} ({left // 60} min {left % 60:02d} s left)"
                )
                lines.append(f"  {approve_command(p.proposal_id)}")
                lines.append(f"  {reject_command(p.proposal_id)}")
            else:
                lines.append("  " + _what_became_of(p))
        return "\n".join(lines)


def _what_became_of(p: EntryProposal) -> str:
    if p.status is ProposalStatus.PENDING:
        return f"expired at {_local(p.expires_at)}, nobody decided"
    details = []
    if p.decided_by is not None:
        details.append(f"decided by {p.decided_by} at {_local(p.decided_at)}")
    if p.decision_note:
        details.append(p.decision_note)
    if p.outcome:
        details.append(p.outcome)
    return f"{p.status}: " + "; ".join(details) if details else str(p.status)
