"""The store: explicit async methods over the journal, one short transaction each.

Rows never leave this package: every method takes and returns frozen records
(`catalyst.store.records`) or domain objects. Idempotent writes use INSERT ... ON CONFLICT DO
NOTHING RETURNING, which SQLite and PostgreSQL both speak, so "already there" is an answer rather
than an exception, even when several tasks race. Database failures surface as
`catalyst.domain.errors.OperationalError`: when the journal cannot be written, nobody should trade.
"""

from __future__ import annotations

from catalyst.store.repository.account import AccountStore
from catalyst.store.repository.alerts import AlertStore
from catalyst.store.repository.cycles import CycleStore
from catalyst.store.repository.heartbeats import HeartbeatStore
from catalyst.store.repository.orders import OrderStore
from catalyst.store.repository.positions import PositionStore
from catalyst.store.repository.proposals import ProposalStore
from catalyst.store.repository.risk import RiskStore

__all__ = ["Store"]


class Store(
    CycleStore,
    OrderStore,
    PositionStore,
    RiskStore,
    HeartbeatStore,
    AccountStore,
    ProposalStore,
    AlertStore,
):
    """The journal. Share one per process; every method is its own unit of work."""
