"""Persistence: the journal of intents and events (SQLite embedded, PostgreSQL in production)."""

from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import check_schema_current, head_revision, upgrade_database
from catalyst.store.repository import Store

__all__ = [
    "Store",
    "check_schema_current",
    "head_revision",
    "make_engine",
    "make_session_factory",
    "upgrade_database",
]
