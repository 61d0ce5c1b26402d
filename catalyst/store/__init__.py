"""Persistence: the journal of intents and events (SQLite embedded, PostgreSQL in production).

Import the submodules themselves (`catalyst.store.engine`, `.repository`, `.migrate`, `.urls`):
this package imports nothing, so the CLI can use `catalyst.store.urls` without loading the
engine, Alembic and the repository.
"""
