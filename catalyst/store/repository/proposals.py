"""Entry proposals of supervised sessions: made by the cycle, decided by a person, acted on by
the approval watch.

Every change of status is one conditional UPDATE (`... WHERE status = <the status it leaves>`),
so the person's command and the daemon can never both win: an approval racing the expiry, or
two daemons' watches racing each other, leave exactly one of them applied.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, select, update

from catalyst.domain.proposals import EntryProposal, ProposalStatus
from catalyst.store.repository._base import StoreBase, _insert, _require_aware
from catalyst.store.tables import entry_proposals


class ProposalStore(StoreBase):
    """The `entry_proposals` table."""

    async def record_proposal(self, proposal: EntryProposal) -> EntryProposal | None:
        """Journal `proposal` unless its (cycle, symbol) has one already; returns the journaled
        one (the earlier one on a re-run). None when its id is taken by another (cycle, symbol),
        a hash collision: nothing is proposed then."""
        _require_aware("created_at", proposal.created_at)
        _require_aware("expires_at", proposal.expires_at)
        async with self._transaction("record_proposal") as session:
            await session.execute(
                _insert(session, entry_proposals)
                .values(_columns(proposal))
                .on_conflict_do_nothing()
            )
            row = (
                await session.execute(
                    select(entry_proposals).where(
                        and_(
                            entry_proposals.c.cycle_id == proposal.cycle_id,
                            entry_proposals.c.symbol == proposal.symbol,
                        )
                    )
                )
            ).first()
        return None if row is None else _proposal(row)

    async def get_proposal(self, proposal_id: str) -> EntryProposal | None:
        """One proposal by its id, or None."""
        async with self._transaction("get_proposal") as session:
            row = (
                await session.execute(
                    select(entry_proposals).where(entry_proposals.c.proposal_id == proposal_id)
                )
            ).first()
        return None if row is None else _proposal(row)

    async def proposals(
        self, statuses: Collection[ProposalStatus] | None = None, *, since: datetime | None = None
    ) -> list[EntryProposal]:
        """Proposals with one of `statuses` (all if None) made at or after `since`, oldest first."""
        query = select(entry_proposals)
        if statuses is not None:
            query = query.where(entry_proposals.c.status.in_([s.value for s in statuses]))
        if since is not None:
            _require_aware("since", since)
            query = query.where(entry_proposals.c.created_at >= since)
        query = query.order_by(entry_proposals.c.created_at, entry_proposals.c.proposal_id)
        async with self._transaction("proposals") as session:
            return [_proposal(row) for row in await session.execute(query)]

    async def decide_proposal(
        self,
        proposal_id: str,
        decision: ProposalStatus,
        *,
        by: str,
        at: datetime,
        note: str | None = None,
    ) -> tuple[bool, EntryProposal | None]:
        """A person's approval or rejection: applied only to a pending proposal not expired at
        `at`. Returns whether it was applied, and the proposal as it stands afterwards."""
        if decision not in (ProposalStatus.APPROVED, ProposalStatus.REJECTED):
            raise ValueError(f"a person approves or rejects, not {decision}")
        _require_aware("at", at)
        async with self._transaction("decide_proposal") as session:
            result = await session.execute(
                update(entry_proposals)
                .where(
                    and_(
                        entry_proposals.c.proposal_id == proposal_id,
                        entry_proposals.c.status == ProposalStatus.PENDING.value,
                        entry_proposals.c.expires_at > at,
                    )
                )
                .values(status=decision.value, decided_by=by, decided_at=at, decision_note=note)
                .returning(entry_proposals.c.proposal_id)
            )
            applied = result.first() is not None
            row = (
                await session.execute(
                    select(entry_proposals).where(entry_proposals.c.proposal_id == proposal_id)
                )
            ).first()
        return applied, None if row is None else _proposal(row)

    async def resolve_proposal(
        self,
        proposal_id: str,
        *,
        leaving: Collection[ProposalStatus],
        to: ProposalStatus,
        at: datetime,
        outcome: str,
        client_order_id: str | None = None,
    ) -> bool:
        """Move a proposal from one of `leaving` to the final status `to`; False if it had
        moved on already (someone else resolved it first)."""
        if not to.final:
            raise ValueError(f"{to} is not a final status")
        _require_aware("at", at)
        async with self._transaction("resolve_proposal") as session:
            result = await session.execute(
                update(entry_proposals)
                .where(
                    and_(
                        entry_proposals.c.proposal_id == proposal_id,
                        entry_proposals.c.status.in_([s.value for s in leaving]),
                    )
                )
                .values(
                    status=to.value,
                    resolved_at=at,
                    outcome=outcome,
                    client_order_id=client_order_id,
                )
                .returning(entry_proposals.c.proposal_id)
            )
            return result.first() is not None


def _columns(proposal: EntryProposal) -> dict[str, object]:
    return {
        "proposal_id": proposal.proposal_id,
        "cycle_id": proposal.cycle_id,
        "symbol": proposal.symbol,
        "sector": proposal.sector,
        "qty": proposal.qty,
        "entry_price": proposal.entry_price,
        "stop_price": proposal.stop_price,
        "target_price": proposal.target_price,
        "confidence": proposal.confidence,
        "reasons": list(proposal.reasons),
        "created_at": proposal.created_at,
        "expires_at": proposal.expires_at,
        "status": proposal.status.value,
        "decided_by": proposal.decided_by,
        "decided_at": proposal.decided_at,
        "decision_note": proposal.decision_note,
        "resolved_at": proposal.resolved_at,
        "outcome": proposal.outcome,
        "client_order_id": proposal.client_order_id,
    }


def _proposal(row: Row[Any]) -> EntryProposal:
    return EntryProposal(
        proposal_id=row.proposal_id,
        cycle_id=row.cycle_id,
        symbol=row.symbol,
        sector=row.sector,
        qty=row.qty,
        entry_price=row.entry_price,
        stop_price=row.stop_price,
        target_price=row.target_price,
        confidence=row.confidence,
        reasons=tuple(row.reasons or ()),
        created_at=row.created_at,
        expires_at=row.expires_at,
        status=ProposalStatus(row.status),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
        resolved_at=row.resolved_at,
        outcome=row.outcome,
        client_order_id=row.client_order_id,
    )
