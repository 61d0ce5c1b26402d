"""A whole simulated day of the real daemon in supervised mode, with a person deciding.

The "person" is a task on the same simulated clock that, every simulated minute, reads the
pending proposals and decides through `decide_proposal`, the very function `catalyst approve` /
`catalyst reject` call, on its own connection to the journal (as the CLI's own process would):
it approves some at once, some only minutes later, rejects some, lets the rest expire and then
tries to approve those too. What a user relies on: nothing enters without an approval, nothing
expired or rejected is ever sent, approvals are acted on within seconds, and the exits (stops,
targets, end-of-day flatten) happen on the approved entries without waiting for anyone.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from support import make_settings

from catalyst.config.models import SessionMode, Settings
from catalyst.daemon.entry import decide_proposal, simulate_session, simulation_clock
from catalyst.domain.alerts import AlertKind
from catalyst.domain.errors import CatalystError
from catalyst.domain.proposals import EntryProposal, ProposalStatus
from catalyst.reporting.summary import DaySummary
from catalyst.sim.broker import build_sim_broker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import upgrade_database
from catalyst.store.repository import Store
from catalyst.store.tables import alert_outbox, orders
from catalyst.tasks.approvals import APPROVAL_POLL_SECONDS
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
EXPIRY_MINUTES = 10
LATE_APPROVAL = timedelta(minutes=4)

pytestmark = pytest.mark.slow


class Operator:
    """Decides every proposal by its place in the order they appeared (deterministic):
    0 approve at once, 1 reject, 2 let expire (then try to approve), 3 approve a few minutes
    later."""

    def __init__(self, settings: Settings, clock: SimClock, url: str) -> None:
        self._settings = settings
        self._clock = clock
        self._url = url
        self.seen: list[str] = []
        self.approved_at: dict[str, datetime] = {}
        self.rejected: set[str] = set()
        self.left_to_expire: set[str] = set()
        self.refused_late: dict[str, str] = {}  # id -> what approve said after expiry

    async def run(self, until: datetime) -> None:
        engine = make_engine(self._url)
        store = Store(make_session_factory(engine))
        try:
            async with self._clock.participant():
                while self._clock.now() < until:
                    await self._look(store)
                    await self._clock.sleep(60)
        finally:
            await engine.dispose()

    async def _look(self, store: Store) -> None:
        now = self._clock.now()
        for proposal in await store.proposals():
            if proposal.proposal_id not in self.seen:
                self.seen.append(proposal.proposal_id)
            await self._decide(proposal, self.seen.index(proposal.proposal_id), now)

    async def _decide(self, proposal: EntryProposal, index: int, now: datetime) -> None:
        pid = proposal.proposal_id
        if proposal.status is not ProposalStatus.PENDING and pid not in self.left_to_expire:
            return
        kind = index % 4
        if kind == 0 or (kind == 3 and now - proposal.created_at >= LATE_APPROVAL):
            await self._approve(pid, now)
        elif kind == 1:
            await decide_proposal(
                self._settings,
                pid.lower(),  # typed as a person might: the id is case-insensitive
                ProposalStatus.REJECTED,
                by="pytest",
                note="not today",
                clock=self._clock,
            )
            self.rejected.add(pid)
        elif kind == 2:
            self.left_to_expire.add(pid)
            if proposal.expired_at(now) and pid not in self.refused_late:
                with pytest.raises(CatalystError) as refused:
                    await self._approve(pid, now)
                self.refused_late[pid] = str(refused.value)

    async def _approve(self, pid: str, now: datetime) -> None:
        await decide_proposal(
            self._settings, pid, ProposalStatus.APPROVED, by="pytest", clock=self._clock
        )
        self.approved_at[pid] = now


async def _supervised_day(tmp_path: Path, url: str) -> tuple[DaySummary, Operator]:
    settings = make_settings(
        tmp_path,
        simulation={"symbols": 800},
        database={"url": url},  # what the person's commands open, as `catalyst approve` does
        trading_session={
            "mode": SessionMode.SUPERVISED,
            "proposal_expiry_minutes": EXPIRY_MINUTES,
            # Wide enough that the approvals a few minutes late still find the price near.
            "proposal_max_price_move_pct": 0.05,
        },
    )
    calendar = ExchangeCalendar()
    session = calendar.session(DAY)
    assert session is not None
    clock = simulation_clock(session)
    broker = build_sim_broker(settings.trading.simulation, calendar, clock)
    await asyncio.to_thread(upgrade_database, url)  # the operator reads it from the start
    operator = Operator(settings, clock, url)
    summary, _ = await asyncio.gather(
        simulate_session(settings, session, clock, broker, url),
        operator.run(session.close),
    )
    return summary, operator


async def _journal(url: str) -> tuple[list[EntryProposal], list[dict[str, object]], list]:  # type: ignore[type-arg]
    engine = make_engine(url)
    try:
        store = Store(make_session_factory(engine))
        async with engine.connect() as connection:
            rows = [dict(r) for r in (await connection.execute(select(orders))).mappings()]
        return await store.proposals(), rows, await store.fills_for_day(DAY)
    finally:
        await engine.dispose()


async def test_supervised_day_enters_only_what_a_person_approved_in_time_and_still_exits(
    tmp_path: Path, sqlite_url: str
) -> None:
    summary, operator = await _supervised_day(tmp_path, sqlite_url)
    proposals, journal, fills = await _journal(sqlite_url)
    by_id = {p.proposal_id: p for p in proposals}
    entries = [o for o in journal if o["role"] == "entry"]
    sent = [p for p in proposals if p.status is ProposalStatus.SENT]

    # The person saw every kind of decision at least once.
    assert len(proposals) >= 8, [p.proposal_id for p in proposals]
    assert operator.rejected
    assert operator.left_to_expire
    assert operator.refused_late

    # Nothing enters without an approval: every entry order is a sent proposal's, made after
    # the person approved it and within seconds of the approval.
    assert sent, "some approvals should have been sent"
    assert len(entries) == len(sent)
    assert {o["client_order_id"] for o in entries} == {p.client_order_id for p in sent}
    for proposal in sent:
        assert proposal.decided_by == "pytest"
        assert proposal.decided_at is not None
        entry = next(o for o in entries if o["client_order_id"] == proposal.client_order_id)
        waited = entry["created_at"] - proposal.decided_at  # type: ignore[operator]
        assert timedelta(0) <= waited <= timedelta(seconds=3 * APPROVAL_POLL_SECONDS), waited

    # Rejected and expired proposals are never sent, not even when approved after expiry.
    sent_ids = {p.proposal_id for p in sent}
    for pid in operator.rejected:
        assert by_id[pid].status is ProposalStatus.REJECTED
        assert by_id[pid].decision_note == "not today"
    for pid in operator.left_to_expire:
        assert by_id[pid].status is ProposalStatus.EXPIRED
        assert pid not in sent_ids
    assert all("expired" in message for message in operator.refused_late.values())
    # Every proposal ended one way or another, none later than the entry cutoff.
    assert {p.status for p in proposals} <= {s for s in ProposalStatus if s.final}
    for proposal in proposals:
        assert proposal.expires_at - proposal.created_at <= timedelta(minutes=EXPIRY_MINUTES)
    refused = [p for p in proposals if p.status is ProposalStatus.REFUSED]
    assert all(p.outcome for p in refused)

    # Exits never waited for anyone: the approved entries that filled were sold again (stops,
    # targets, the end-of-day flatten) and the book is flat at the close.
    bought = {f.symbol for f in fills if f.side.value == "buy"}
    sold = {f.symbol for f in fills if f.side.value == "sell"}
    assert bought, "some approved entries should have filled"
    assert bought <= sold
    exits = [o for o in journal if o["role"] in ("stop_loss", "take_profit", "exit")]
    assert any(o["filled_qty"] for o in exits)
    assert summary.flat, summary.render()
    assert summary.scans_run == 6

    # A person was told of every proposal, with the command that approves it.
    told = await _alerts_of_kind(sqlite_url, AlertKind.ENTRIES_PROPOSED)
    assert told, "the proposals were announced"
    for proposal in proposals:
        assert any(f"catalyst approve {proposal.proposal_id}" in text for text in told)


async def _alerts_of_kind(url: str, kind: AlertKind) -> list[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                select(alert_outbox.c.payload).where(alert_outbox.c.kind == kind.value)
            )
            return [str(payload) for payload in result.scalars()]
    finally:
        await engine.dispose()


async def test_supervised_day_repeats_exactly_with_the_same_seed(
    tmp_path: Path, sqlite_url: str
) -> None:
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    second_url = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"
    await _supervised_day(first_dir, sqlite_url)
    await _supervised_day(second_dir, second_url)

    def comparable(journal: tuple[list[EntryProposal], list[dict[str, object]], list]) -> tuple:  # type: ignore[type-arg]
        proposals, rows, fills = journal
        return (
            proposals,
            [{k: v for k, v in row.items() if k != "broker_order_id"} for row in rows],
            fills,
        )

    assert comparable(await _journal(sqlite_url)) == comparable(await _journal(second_url))
