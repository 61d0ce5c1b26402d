"""Entry proposals: what a supervised session would enter, waiting for a person's decision.

A proposal is born `pending` and ends in exactly one final status:

    pending ──approve──▶ approved ──(checks pass, sent)──▶ sent
       │                    ├──(a check fails at approval time)──▶ refused
       │                    └──(not acted on before it expired)──▶ expired
       ├──reject──▶ rejected
       └──(nobody decided in time)──▶ expired

Only a person moves it out of `pending` (or time does); only the daemon moves it out of
`approved`. Exits never wait for a proposal: they are not proposals.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from catalyst.domain.plans import TradePlan

# Crockford's base32 without the letters people misread (i, l, o, u): typed, not pasted.
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_ID_HASH_CHARS = 5  # ~33 million per symbol: a collision is refused by the journal, and logged


class ProposalStatus(StrEnum):
    """Where a proposal stands; see the module docstring for the transitions."""

    PENDING = "pending"  # waiting for `catalyst approve` / `catalyst reject`
    APPROVED = "approved"  # a person said yes; the daemon checks again and sends
    REJECTED = "rejected"  # a person said no
    EXPIRED = "expired"  # nobody decided in time, or approved but not acted on in time
    SENT = "sent"  # the bracket is at the broker
    REFUSED = "refused"  # approved, but a check at approval time (or the broker) said no

    @property
    def final(self) -> bool:
        """True once nothing more happens to the proposal."""
        return self not in (ProposalStatus.PENDING, ProposalStatus.APPROVED)


def proposal_id(cycle_id: str, symbol: str) -> str:
    """The id a person types: `<symbol>-<5 chars>`, e.g. `AAPL-7k3qz`; the same (cycle, symbol)
    always gives the same id, so a re-run cycle finds its proposal instead of making another."""
    payload = json.dumps([cycle_id, symbol], ensure_ascii=True).encode("ascii")
    number = int.from_bytes(hashlib.sha256(payload).digest()[:8], "big")
    chars = []
    for _ in range(_ID_HASH_CHARS):
        number, index = divmod(number, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[index])
    return f"{symbol}-{''.join(chars)}"


def normalise_proposal_id(typed: str) -> str:
    """What a person typed, as the journal spells ids: symbol upper case, hash lower case."""
    symbol, _, tail = typed.strip().rpartition("-")
    return f"{symbol.upper()}-{tail.lower()}" if symbol else typed.strip()


@dataclass(frozen=True, slots=True)
class EntryProposal:
    """One sized bracket entry the cycle would have placed, and what became of it."""

    proposal_id: str
    cycle_id: str
    symbol: str
    sector: str | None
    qty: int
    entry_price: Decimal
    stop_price: Decimal
    target_price: Decimal
    confidence: float
    reasons: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    status: ProposalStatus = ProposalStatus.PENDING
    decided_by: str | None = None  # who approved or rejected it (the OS user)
    decided_at: datetime | None = None
    decision_note: str | None = None  # a rejection's reason
    resolved_at: datetime | None = None  # when it was sent, refused or expired
    outcome: str | None = None  # why it was refused or expired; what was sent
    client_order_id: str | None = None  # the entry's id once sent

    @property
    def plan(self) -> TradePlan:
        """The bracket as proposed: what approval checks again and sends, unchanged."""
        return TradePlan(
            symbol=self.symbol,
            sector=self.sector,
            qty=self.qty,
            entry_price=self.entry_price,
            stop_price=self.stop_price,
            target_price=self.target_price,
            confidence=self.confidence,
        )

    def expired_at(self, now: datetime) -> bool:
        """True from `expires_at` on."""
        return now >= self.expires_at

    @classmethod
    def for_plan(
        cls,
        plan: TradePlan,
        *,
        cycle_id: str,
        reasons: tuple[str, ...],
        created_at: datetime,
        expires_at: datetime,
    ) -> EntryProposal:
        """A new pending proposal of `plan`, made by cycle `cycle_id`."""
        return cls(
            proposal_id=proposal_id(cycle_id, plan.symbol),
            cycle_id=cycle_id,
            symbol=plan.symbol,
            sector=plan.sector,
            qty=plan.qty,
            entry_price=plan.entry_price,
            stop_price=plan.stop_price,
            target_price=plan.target_price,
            confidence=plan.confidence,
            reasons=reasons,
            created_at=created_at,
            expires_at=expires_at,
        )
