"""Supervised proposals, one step at a time: made by the cycle, acted on by the approval watch.

The cycle runs a real scan on the simulator at 10:30 in supervised mode; the tests then decide
through the journal (as `catalyst approve` does) and run single passes of the watch on the
simulated clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from faulty_broker import FaultyBroker
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update
from stubs import sim_components
from support import make_settings

from catalyst.config.models import SessionMode, Settings
from catalyst.daemon.components import Components
from catalyst.domain.decisions import Approved, Rejected
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.plans import TradePlan
from catalyst.domain.proposals import (
    EntryProposal,
    ProposalStatus,
    normalise_proposal_id,
    proposal_id,
)
from catalyst.risk.approval import price_still_near
from catalyst.sim.broker import build_sim_broker
from catalyst.store.migrate import upgrade_database
from catalyst.store.tables import entry_proposals
from catalyst.tasks.entries import entry_order_id
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
SCAN = datetime.combine(DAY, time(10, 30), tzinfo=EXCHANGE_TZ)


@dataclass
class Day:
    components: Components
    broker: FaultyBroker
    clock: SimClock
    proposals: list[EntryProposal]

    def with_session(self, **changes: object) -> Settings:
        settings = self.components.settings
        session = settings.trading.trading_session.model_copy(update=changes)
        trading = settings.trading.model_copy(update={"trading_session": session})
        fresh = settings.model_copy(update={"trading": trading})
        self.components.approvals.update_settings(fresh)
        return fresh

    async def approve(self, proposal: EntryProposal) -> bool:
        applied, _ = await self.components.store.decide_proposal(
            proposal.proposal_id, ProposalStatus.APPROVED, by="pytest", at=self.clock.now()
        )
        return applied

    async def current(self, proposal: EntryProposal) -> EntryProposal:
        found = await self.components.store.get_proposal(proposal.proposal_id)
        assert found is not None
        return found


@pytest.fixture
async def day(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Day]:
    settings = make_settings(
        tmp_path,
        simulation={"symbols": 400},
        trading_session={"mode": SessionMode.SUPERVISED, "proposal_expiry_minutes": 10},
    )
    await asyncio.to_thread(upgrade_database, sqlite_url)
    clock = SimClock(SCAN)
    calendar = ExchangeCalendar()
    broker = FaultyBroker(build_sim_broker(settings.trading.simulation, calendar, clock), clock)
    components = await sim_components(settings, clock, sqlite_url, broker=broker, calendar=calendar)
    report = await components.scan_cycle.run_scheduled(SCAN)
    proposals = await components.store.proposals()
    assert report.proposed, "the 10:30 scan should propose something on this seed"
    assert [p.proposal_id for p in proposals] == list(report.proposed)
    yield Day(components, broker, clock, proposals)
    await components.close()


async def test_supervised_cycle_proposes_its_entries_and_sends_nothing(day: Day) -> None:
    assert day.broker.submit_calls == 0
    cycle = await day.components.store.get_cycle("20261124-1030")
    assert cycle is not None
    assert cycle.session_mode == "supervised"
    assert cycle.funnel["proposed"] == len(day.proposals)
    assert cycle.trades_executed == 0
    for proposal in day.proposals:
        assert proposal.status is ProposalStatus.PENDING
        assert proposal.proposal_id == proposal_id("20261124-1030", proposal.symbol)
        assert proposal.stop_price < proposal.entry_price < proposal.target_price
        assert proposal.reasons
        assert proposal.expires_at - proposal.created_at == timedelta(minutes=10)
    # A pass with nothing approved sends nothing.
    await day.components.approvals.check_once()
    assert day.broker.submit_calls == 0


async def test_rerunning_the_cycle_makes_no_second_proposal(day: Day) -> None:
    first = day.proposals[0]
    again = await day.components.store.record_proposal(
        EntryProposal.for_plan(
            first.plan,
            cycle_id=first.cycle_id,
            reasons=(),
            created_at=day.clock.now(),
            expires_at=day.clock.now() + timedelta(hours=1),
        )
    )
    assert again == first  # the journaled one, unchanged
    assert len(await day.components.store.proposals()) == len(day.proposals)


async def test_approved_proposal_is_sent_once_even_when_processed_again(day: Day) -> None:
    proposal = day.proposals[0]
    assert await day.approve(proposal)

    await day.components.approvals.check_once()

    sent = await day.current(proposal)
    assert sent.status is ProposalStatus.SENT
    cid = entry_order_id(proposal.cycle_id, proposal.symbol)
    assert sent.client_order_id == cid
    assert day.broker.submit_calls == 1
    order = await day.components.store.get_order(cid)
    assert order is not None
    assert (order.qty, order.limit_price) == (proposal.qty, proposal.entry_price)
    assert (order.stop_loss_price, order.take_profit_price) == (
        proposal.stop_price,
        proposal.target_price,
    )

    # A crash after the send, before the proposal was marked: it is approved again on restart.
    async with day.components.engine.begin() as connection:
        await connection.execute(
            update(entry_proposals)
            .where(entry_proposals.c.proposal_id == proposal.proposal_id)
            .values(status="approved")
        )
    day.clock.advance_to(proposal.expires_at + timedelta(minutes=1))  # even after expiry
    await day.components.approvals.check_once()

    assert day.broker.submit_calls == 1
    assert (await day.current(proposal)).status is ProposalStatus.SENT
    assert len(await day.broker.list_open_orders()) == 1


async def test_approved_but_not_acted_on_before_expiry_is_never_sent(day: Day) -> None:
    proposal = day.proposals[0]
    assert await day.approve(proposal)
    day.clock.advance_to(proposal.expires_at)  # the daemon was down until the expiry

    await day.components.approvals.check_once()

    expired = await day.current(proposal)
    assert expired.status is ProposalStatus.EXPIRED
    assert expired.outcome is not None
    assert "not acted on" in expired.outcome
    assert day.broker.submit_calls == 0


async def test_undecided_proposals_expire_and_cannot_be_approved_afterwards(day: Day) -> None:
    proposal = day.proposals[0]
    day.clock.advance_to(proposal.expires_at)

    assert not await day.approve(proposal)  # the journal refuses: expired by the clock
    await day.components.approvals.check_once()

    assert {(await day.current(p)).status for p in day.proposals} == {ProposalStatus.EXPIRED}
    assert day.broker.submit_calls == 0


async def test_a_decided_proposal_cannot_be_decided_again(day: Day) -> None:
    proposal = day.proposals[0]
    applied, _ = await day.components.store.decide_proposal(
        proposal.proposal_id, ProposalStatus.REJECTED, by="pytest", at=day.clock.now(), note="no"
    )
    assert applied
    assert not await day.approve(proposal)
    await day.components.approvals.check_once()
    rejected = await day.current(proposal)
    assert (rejected.status, rejected.decision_note) == (ProposalStatus.REJECTED, "no")
    assert day.broker.submit_calls == 0


async def test_halt_after_approval_refuses_the_entry(day: Day) -> None:
    proposal = day.proposals[0]
    assert await day.approve(proposal)
    await day.components.store.halt("test halt", "pytest", day.clock.now())

    await day.components.approvals.check_once()

    refused = await day.current(proposal)
    assert refused.status is ProposalStatus.REFUSED
    assert refused.outcome is not None
    assert refused.outcome.startswith("halted")
    assert day.broker.submit_calls == 0


async def test_pause_after_approval_refuses_the_entry(day: Day) -> None:
    proposal = day.proposals[0]
    assert await day.approve(proposal)
    day.components.pause_flag.set("test", "pytest", day.clock.now())

    await day.components.approvals.check_once()

    refused = await day.current(proposal)
    assert refused.status is ProposalStatus.REFUSED
    assert day.broker.submit_calls == 0


async def test_price_moved_away_refuses_the_entry(day: Day) -> None:
    proposal = day.proposals[0]
    assert await day.approve(proposal)
    # The entry limit sits 0.2 % above the last trade: a 0.01 % bound is already broken.
    day.with_session(proposal_max_price_move_pct=0.0001)

    await day.components.approvals.check_once()

    refused = await day.current(proposal)
    assert refused.status is ProposalStatus.REFUSED
    assert refused.outcome is not None
    assert refused.outcome.startswith("price_moved")
    assert day.broker.submit_calls == 0


async def test_max_positions_reached_since_the_proposal_refuses_the_rest(day: Day) -> None:
    first = day.proposals[0]
    other = next(
        a.symbol
        for a in await day.broker.list_assets()
        if a.tradable and a.symbol not in {p.symbol for p in day.proposals}
    )
    # A second proposal of the same scan, made a second later (the rules judge it first).
    second = await day.components.store.record_proposal(
        EntryProposal.for_plan(
            replace(first.plan, symbol=other),
            cycle_id=first.cycle_id,
            reasons=("test",),
            created_at=first.created_at + timedelta(seconds=1),
            expires_at=first.expires_at,
        )
    )
    assert second is not None
    limits = day.components.settings.risk.risk_limits.model_copy(update={"max_positions": 1})
    risk = day.components.settings.risk.model_copy(update={"risk_limits": limits})
    settings = day.components.settings.model_copy(update={"risk": risk})
    day.components.approvals.update_settings(settings)
    assert await day.approve(first)
    assert await day.approve(second)

    await day.components.approvals.check_once()

    assert (await day.current(first)).status is ProposalStatus.SENT
    refused = await day.current(second)
    assert refused.status is ProposalStatus.REFUSED
    assert refused.outcome is not None
    assert refused.outcome.startswith("max_positions")
    assert day.broker.submit_calls == 1


async def test_scan_only_after_a_reload_sends_no_approved_entry(day: Day) -> None:
    proposal = day.proposals[0]
    assert await day.approve(proposal)
    day.with_session(mode=SessionMode.SCAN_ONLY)

    await day.components.approvals.check_once()

    assert (await day.current(proposal)).status is ProposalStatus.REFUSED
    assert day.broker.submit_calls == 0


async def test_proposals_expire_at_the_entry_cutoff_at_the_latest(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        simulation={"symbols": 400},
        trading_session={"mode": SessionMode.SUPERVISED, "proposal_expiry_minutes": 120},
    )
    await asyncio.to_thread(upgrade_database, sqlite_url)
    late = datetime.combine(DAY, time(15, 0), tzinfo=EXCHANGE_TZ)
    clock = SimClock(late)
    components = await sim_components(settings, clock, sqlite_url)
    try:
        await components.scan_cycle.run_scheduled(late)
        proposals = await components.store.proposals()
        cutoff = datetime.combine(DAY, time(15, 30), tzinfo=EXCHANGE_TZ)
        assert proposals, "the 15:00 scan should propose something on this seed"
        assert {p.expires_at for p in proposals} == {cutoff}
    finally:
        await components.close()


PLAN = TradePlan(
    symbol="ABC",
    sector=None,
    qty=10,
    entry_price=Decimal("100.00"),
    stop_price=Decimal("98.00"),
    target_price=Decimal("104.00"),
    confidence=0.8,
)


@pytest.mark.parametrize(
    ("last", "allowed"),
    [
        ("100.00", True),
        ("99.00", True),  # 1 % below: on the bound
        ("101.00", True),  # 1 % above: on the bound
        ("98.99", False),
        ("101.01", False),
        ("97.50", False),  # below the stop
        (None, False),
    ],
)
def test_price_still_near_the_proposed_entry(last: str | None, allowed: bool) -> None:
    decision = price_still_near(PLAN, None if last is None else Decimal(last), Decimal("0.01"))
    assert isinstance(decision, Approved) is allowed
    if not allowed:
        assert isinstance(decision, Rejected)
        assert decision.rule == "price_moved"


@given(
    last=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2),
    bound=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.19"), places=3),
)
def test_an_approved_price_is_never_at_the_stop_nor_beyond_the_bound(
    last: Decimal, bound: Decimal
) -> None:
    if isinstance(price_still_near(PLAN, last, bound), Approved):
        assert last > PLAN.stop_price
        assert abs(last - PLAN.entry_price) <= bound * PLAN.entry_price


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ.", min_size=1, max_size=6))
def test_a_proposal_id_typed_in_any_case_finds_the_proposal(symbol: str) -> None:
    pid = proposal_id("20261124-1030", symbol)
    assert pid.startswith(symbol + "-")
    assert normalise_proposal_id(pid.lower()) == pid
    assert normalise_proposal_id(f"  {pid.upper()} ") == pid
