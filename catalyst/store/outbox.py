"""The journal outbox: writes that waited out a database outage, made in order once it is back.

While the journal is unavailable (`JournalUnavailable`), the writes that may lag behind the event
they record (risk events, the halt, the loss warning, fills and order updates the broker pushed,
the intent of an exit already sent) are queued here instead of being lost. Before the store
starts any later unit of work it makes the queued writes first, oldest first, so nothing reads
the journal (the trading state above all) before the deferred writes are in, and no later write
overtakes an earlier one. An intent for a new *entry* is never deferred: it is not sent at all.

What is guaranteed:
- while the process lives, every deferred write is made once the database answers again, in the
  order it was deferred (a write the database then refuses for another reason is logged and
  dropped, so it cannot block the rest);
- a halt is also written to a spool file in the state directory (fsync'ed) before anything else
  happens, so a process that dies during the outage still starts HALTED: the next start puts the
  spooled halt into the journal before reconciliation, the scheduler or anything else runs;
- everything else deferred is in memory only. If the process dies during the outage, the broker
  still has the truth (the emergency stop has flattened the book; fills and open orders are read
  back by start-up reconciliation); risk events other than the halt are then lost.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import os
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import structlog

from catalyst.domain.errors import JournalUnavailable

log = structlog.get_logger(__name__)

Write = Callable[[], Awaitable[object]]
SPOOL_FILE_PREFIX = "journal-pending-halt"

# Set while the outbox makes its writes: those go through the store too and must not wait for
# the catch-up they are part of.
_CATCHING_UP: contextvars.ContextVar[bool] = contextvars.ContextVar("catching_up", default=False)


@dataclass(frozen=True, slots=True)
class SpooledHalt:
    """A halt the journal could not take yet."""

    reason: str
    by: str
    at: datetime
    day: date | None = None


class HaltSpool:
    """One pending halt in a small JSON file, written durably (temp file, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_database(cls, state_dir: Path, database: str) -> HaltSpool:
        """The spool of the journal `database` (a redacted URL) in `state_dir`: one file per
        database, so a halt spooled for one journal is never applied to another."""
        digest = hashlib.sha256(database.encode()).hexdigest()[:12]
        return cls(state_dir / f"{SPOOL_FILE_PREFIX}-{digest}.json")

    def save(self, halt: SpooledHalt) -> None:
        """Keep `halt` on disk; an earlier spooled halt is kept (its reason came first)."""
        if self.path.exists():
            return
        payload = {
            "reason": halt.reason,
            "by": halt.by,
            "at": halt.at.isoformat(),
            "day": None if halt.day is None else halt.day.isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def load(self) -> SpooledHalt | None:
        """The spooled halt, if any. An unreadable file still means "halted" (fail safe)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
            return SpooledHalt(
                reason=str(data["reason"]),
                by=str(data["by"]),
                at=datetime.fromisoformat(data["at"]),
                day=None if data.get("day") is None else date.fromisoformat(data["day"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            log.error(
                "spooled halt unreadable; halting anyway", path=str(self.path), error=str(exc)
            )
            return SpooledHalt(
                reason=f"halt spooled during a database outage ({self.path} unreadable)",
                by="risk-watch",
                at=datetime.fromtimestamp(self.path.stat().st_mtime, tz=UTC),
            )

    def clear(self) -> None:
        """Forget the spooled halt (the journal has it now)."""
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class _Deferred:
    what: str  # for the logs: which write this is
    write: Write
    spooled: bool


class JournalOutbox:
    """Deferred journal writes in order, and whether the journal is reachable (see module doc)."""

    def __init__(self, spool: HaltSpool | None = None) -> None:
        self._spool = spool
        self._pending: deque[_Deferred] = deque()
        self._lock = asyncio.Lock()
        self.unavailable = False
        self.deferred_total = 0  # writes ever deferred (for tests and the summary)

    @property
    def pending(self) -> int:
        """How many writes wait for the database."""
        return len(self._pending)

    def defer(self, what: str, write: Write, *, halt: SpooledHalt | None = None) -> None:
        """Queue `write` (a coroutine function) for when the journal is back.

        With `halt`, the halt is first spooled to disk so that it survives the process.
        """
        if halt is not None and self._spool is not None:
            try:
                self._spool.save(halt)
            except OSError as exc:  # the emergency stop must go on: the halt is held in memory
                log.critical(
                    "halt could not be spooled to disk; it is held in memory only",
                    path=str(self._spool.path),
                    error=str(exc),
                )
        self._pending.append(_Deferred(what, write, spooled=halt is not None))
        self.deferred_total += 1
        log.warning("journal write deferred until the database is back", what=what)

    def restore_spooled_halt(self, write: Callable[[SpooledHalt], Write]) -> SpooledHalt | None:
        """At start-up: queue the halt a previous process spooled (first, before anything else)."""
        if self._spool is None:
            return None
        halt = self._spool.load()
        if halt is not None:
            log.warning(
                "a halt spooled during a database outage is put into the journal",
                reason=halt.reason,
                at=halt.at.isoformat(),
            )
            self._pending.appendleft(_Deferred("spooled halt", write(halt), spooled=True))
        return halt

    async def catch_up(self) -> int:
        """Make the deferred writes, oldest first; returns how many were made.

        Raises JournalUnavailable (keeping the write that failed and those after it) while the
        database is still unreachable. Tasks calling this together wait for one catch-up.
        """
        if not self._pending or _CATCHING_UP.get():
            return 0
        made = 0
        async with self._lock:
            token = _CATCHING_UP.set(True)
            try:
                while self._pending:
                    item = self._pending[0]
                    try:
                        await item.write()
                    except JournalUnavailable:
                        raise
                    except Exception as exc:  # one write that can never succeed must not block
                        log.error(
                            "deferred journal write dropped",
                            what=item.what,
                            error=f"{type(exc).__name__}: {exc}",
                        )
                    else:
                        made += 1
                    self._pending.popleft()
                    if item.spooled and self._spool is not None:
                        self._spool.clear()
            finally:
                _CATCHING_UP.reset(token)
        if made:
            log.info("journal caught up with the writes deferred during the outage", writes=made)
        return made

    def note_unavailable(self, operation: str, exc: BaseException) -> None:
        """The store saw the database unreachable (logged once per outage)."""
        if not self.unavailable:
            self.unavailable = True
            log.error(
                "journal unavailable: database unreachable; no new entries, deferring what can "
                "wait, the risk-watch keeps protecting the book from the broker",
                operation=operation,
                error=f"{type(exc).__name__}: {exc}".splitlines()[0],
            )

    def note_available(self) -> None:
        """The store completed a unit of work (logs the recovery once)."""
        if self.unavailable:
            self.unavailable = False
            log.warning("journal available again", still_deferred=len(self._pending))
