"""The approval watch: acts on a person's decisions about supervised proposals within seconds.

`catalyst approve ID` and `catalyst reject ID` only write the journal (they may run anywhere,
while the daemon runs or not); this task reads it every `APPROVAL_POLL_SECONDS` and:

- marks every pending proposal past its `expires_at` as expired (nobody decided in time);
- for every approved one, in the order they were made:
  1. if its entry was journaled already (an earlier pass sent it and then stopped, a restart),
     asks the submitter, which adopts the broker's order or refuses to send it again: the entry's
     client_order_id is derived from the proposal's (cycle, symbol), so one proposal can never
     become two orders, however often or by however many passes it is processed;
  2. past its `expires_at`: expired, never sent (approved in time, but not acted on in time:
     the daemon was down, or the journal was);
  3. the session mode must still be supervised (a reload to scan_only orders nothing);
  4. the pre-trade rules run again against the book as it is now (halt, pause, entry window,
     duplicate symbol, cool-down, max positions, position size, sector exposure, reward:risk,
     buying power, projected daily loss) and the price must not have moved away
     (`catalyst.risk.approval`);
  5. right before the send, the last-moment checks (stopping, pause flag, halt);
  6. the bracket goes out through the submitter, unchanged from what the person saw.
  Any check that fails marks it refused, with the reason; a stop in progress leaves it approved
  for the next start to judge (or expire).

Exits (stops, targets, max hold, end of day, emergency) are not proposals: nothing here holds
them up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import structlog

from catalyst.config.models import SessionMode, Settings
from catalyst.domain.decisions import Rejected
from catalyst.domain.errors import BrokerError, JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.proposals import EntryProposal, ProposalStatus
from catalyst.execution.submitter import OrderSubmitter
from catalyst.ops.pause_flag import PauseFlag
from catalyst.ports import Broker, Clock
from catalyst.risk.approval import price_still_near
from catalyst.risk.rules import check_entry
from catalyst.store.repository import Store
from catalyst.tasks.entries import entry_order_id, late_block_reason, place_bracket, read_book
from catalyst.timekeeping.alarm import Alarm
from catalyst.timekeeping.calendar import SessionCalendar
from catalyst.timekeeping.day_plan import plan_for

log = structlog.get_logger(__name__)

APPROVAL_POLL_SECONDS = 2.0  # a person's approval is acted on within this (plus one pass)
# With nothing open (or outside supervised mode) there is nothing to decide: proposals are made
# only by this daemon's cycles, which wake the watch (`wake`), so looking seldom loses nothing.
# It keeps a simulated day fast: polling every 2 s all day long took it from 30 s to 5 minutes.
IDLE_POLL_SECONDS = 60.0


class ApprovalWatch:
    """Expires undecided proposals and sends approved ones; see the module docstring."""

    def __init__(
        self,
        *,
        broker: Broker,
        store: Store,
        clock: Clock,
        calendar: SessionCalendar,
        settings: Settings,
        submitter: OrderSubmitter,
        pause_flag: PauseFlag,
        entries_stopped: Callable[[], bool],
    ) -> None:
        self._broker = broker
        self._store = store
        self._clock = clock
        self._calendar = calendar
        self._settings = settings
        self._submitter = submitter
        self._pause_flag = pause_flag
        self._entries_stopped = entries_stopped
        self._alarm = Alarm(clock, "approvals")

    def wake(self) -> None:
        """Look now: a cycle has just proposed something."""
        self._alarm.wake()

    def update_settings(self, settings: Settings) -> None:
        """Use `settings` from the next pass on (config reload), which starts now."""
        self._settings = settings
        self._alarm.wake()

    async def run(self) -> None:
        """Look every poll interval (cancel to stop)."""
        while True:
            still_open = True
            try:
                still_open = await self.check_once()
            except (BrokerError, JournalUnavailable) as exc:
                # Nothing is lost: the proposals stay as they are in the journal; next pass.
                log.warning("approvals: pass not finished; retrying", error=str(exc))
            supervised = self._settings.trading.trading_session.mode == SessionMode.SUPERVISED
            busy = supervised and still_open
            await self._alarm.sleep(APPROVAL_POLL_SECONDS if busy else IDLE_POLL_SECONDS)

    async def check_once(self) -> bool:
        """One pass: expire the undecided, act on the approved. True while some proposal is
        still pending (a person may yet approve it)."""
        now = self._clock.now()
        waiting = False
        for proposal in await self._store.proposals(
            {ProposalStatus.PENDING, ProposalStatus.APPROVED}
        ):
            if proposal.status is ProposalStatus.APPROVED:
                await self._act(proposal)
            elif proposal.expired_at(now):
                await self._resolve(
                    proposal,
                    ProposalStatus.EXPIRED,
                    f"nobody decided before it expired at {_local(proposal.expires_at)}",
                )
            else:
                waiting = True
        return waiting

    async def _act(self, proposal: EntryProposal) -> None:
        cid = entry_order_id(proposal.cycle_id, proposal.symbol)
        if await self._store.get_order(cid) is not None:
            await self._send(proposal)  # the submitter adopts or refuses: never a second order
            return
        now = self._clock.now()
        if proposal.expired_at(now):
            await self._resolve(
                proposal,
                ProposalStatus.EXPIRED,
                f"approved at {_local(proposal.decided_at)} but not acted on before it expired "
                f"at {_local(proposal.expires_at)}; nothing sent",
            )
            return
        refusal = await self._refusal(proposal, now)
        if refusal is not None:
            await self._resolve(proposal, ProposalStatus.REFUSED, refusal)
            return
        blocked = await late_block_reason(
            entries_stopped=self._entries_stopped, pause_flag=self._pause_flag, store=self._store
        )
        if blocked == "daemon stopping":
            return  # still approved: the next start judges it again, or it expires
        if blocked is not None:
            await self._resolve(proposal, ProposalStatus.REFUSED, blocked)
            return
        await self._send(proposal)

    async def _refusal(self, proposal: EntryProposal, now: datetime) -> str | None:
        """Why the approved `proposal` may not be entered now, or None."""
        mode = self._settings.trading.trading_session.mode
        if mode != SessionMode.SUPERVISED:
            return f"the session mode is now {mode}: approved entries are not sent"
        day = now.astimezone(EXCHANGE_TZ).date()
        session = self._calendar.session(day)
        if session is None or proposal.created_at.astimezone(EXCHANGE_TZ).date() != day:
            return "proposed on another day"
        plan = proposal.plan
        _, book = await read_book(
            broker=self._broker,
            store=self._store,
            clock=self._clock,
            settings=self._settings,
            plan=plan_for(session, self._settings.trading),
            pause_flag=self._pause_flag,
        )
        decision = check_entry(plan, book, self._settings.risk.risk_limits)
        if isinstance(decision, Rejected):
            return f"{decision.rule}: {decision.reason}"
        snapshot = (await self._broker.get_snapshots([plan.symbol])).get(plan.symbol)
        max_move = Decimal(str(self._settings.trading.trading_session.proposal_max_price_move_pct))
        moved = price_still_near(plan, None if snapshot is None else snapshot.last_price, max_move)
        if isinstance(moved, Rejected):
            return f"{moved.rule}: {moved.reason}"
        return None

    async def _send(self, proposal: EntryProposal) -> None:
        failure = await place_bracket(
            broker=self._broker,
            submitter=self._submitter,
            clock=self._clock,
            cycle_id=proposal.cycle_id,
            trade=proposal.plan,
        )
        if failure is None:
            await self._resolve(
                proposal,
                ProposalStatus.SENT,
                "bracket at the broker",
                client_order_id=entry_order_id(proposal.cycle_id, proposal.symbol),
            )
        else:
            await self._resolve(proposal, ProposalStatus.REFUSED, f"not sent: {failure}")

    async def _resolve(
        self,
        proposal: EntryProposal,
        to: ProposalStatus,
        outcome: str,
        *,
        client_order_id: str | None = None,
    ) -> None:
        done = await self._store.resolve_proposal(
            proposal.proposal_id,
            leaving={proposal.status},
            to=to,
            at=self._clock.now(),
            outcome=outcome,
            client_order_id=client_order_id,
        )
        if done:
            log.info(
                f"proposal {to}",
                proposal_id=proposal.proposal_id,
                symbol=proposal.symbol,
                outcome=outcome,
            )


def _local(when: datetime | None) -> str:
    return "?" if when is None else f"{when.astimezone(EXCHANGE_TZ):%H:%M:%S} New York"
