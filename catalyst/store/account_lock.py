"""One daemon per broker account on a shared PostgreSQL: a session-level advisory lock.

The state-dir lock (`catalyst.ops.instance_lock`) stops two daemons on one host and one state dir;
two hosts that share one database (and so one journal and one account) need a lock the database
holds. `pg_try_advisory_lock(namespace, hash(account))` is taken on a dedicated connection, kept
open for the life of the process, outside any transaction; PostgreSQL drops it when that session
ends, so a dead daemon never blocks the next one. The holder's pid and host travel in the
connection's `application_name`, and `pg_stat_activity.backend_start` says since when, so a
refused daemon can name who has the account.

If the connection is lost (a database restart), the daemon keeps protecting its book (the
risk-watch needs only the broker) but enters nothing until it has re-taken the lock; should
another daemon have taken it meanwhile, `keep` reports the loss and the daemon stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from catalyst.domain.errors import InstanceLocked, InstanceLockLost, OperationalError
from catalyst.ops.instance_lock import LockHolder
from catalyst.redaction import redact_url

log = structlog.get_logger(__name__)

__all__ = ["AccountLock", "account_lock_key"]

_NAMESPACE = 0x4361_7461  # "Cata": the first key of Catalyst's two-key advisory locks
_CHECK_TIMEOUT_SECONDS = 10.0
_SHUTDOWN_TIMEOUT_SECONDS = 2.0
# A holder on this host whose process is gone is a dead daemon whose session PostgreSQL has not
# reaped yet (a restart right after SIGKILL): wait this long for it rather than refuse.
_DEAD_HOLDER_PATIENCE_SECONDS = 15.0
_DEAD_HOLDER_POLL_SECONDS = 0.2
KEEP_INTERVAL_SECONDS = 5.0
RETAKE_INTERVAL_SECONDS = 2.0

_HOLDER_QUERY = text(
    "SELECT a.application_name, a.backend_start, host(a.client_addr) AS client "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid = CAST(:namespace AS oid) AND l.objid = CAST(:key AS oid)"
)


def account_lock_key(account: str) -> tuple[int, int]:
    """The advisory lock's two 32-bit keys for broker account `account` (both non-negative)."""
    digest = hashlib.sha256(account.encode("utf-8")).digest()
    return _NAMESPACE, int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF


def _application_name(holder: LockHolder) -> str:
    return f"catalyst pid={holder.pid} host={holder.host}"  # PostgreSQL keeps 63 bytes


def _parse_application_name(name: str) -> tuple[int, str] | None:
    words = dict(w.partition("=")[::2] for w in name.split() if "=" in w)
    if not name.startswith("catalyst ") or "pid" not in words or "host" not in words:
        return None
    try:
        return int(words["pid"]), words["host"]
    except ValueError:
        return None


def _is_dead_local_process(pid: int, host: str) -> bool:
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


class AccountLock:
    """The advisory lock for one broker account, on its own connection to `url`."""

    def __init__(self, url: str, account: str, holder: LockHolder) -> None:
        """`url` must be a postgresql+asyncpg URL; `holder` is this process."""
        self._url = make_url(url)
        self._account = account
        self._holder = holder
        self._keys = account_lock_key(account)
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self.lost: InstanceLockLost | None = None

    @property
    def account(self) -> str:
        """The broker account this lock stands for."""
        return self._account

    @property
    def held(self) -> bool:
        """True while this process holds the lock on a connection it believes alive."""
        return self._connection is not None

    async def acquire(self) -> None:
        """Take the lock without waiting (but see the dead-holder patience above).

        Raises `InstanceLocked` naming the holder, or `OperationalError` when the database
        cannot be reached.
        """
        loop = asyncio.get_running_loop()
        patience_until = loop.time() + _DEAD_HOLDER_PATIENCE_SECONDS
        while True:
            holder = await self._try_once()
            if holder is None:
                return
            parsed = _parse_application_name(holder.application_name)
            # No holder row: it let go between our two statements. A dead local holder, or our
            # own session that was just cut off: it is about to end. Either way the lock is
            # about to be free.
            about_to_free = (
                not holder.present
                or holder.application_name == self._own_name()
                or (parsed is not None and _is_dead_local_process(*parsed))
            )
            if about_to_free and loop.time() < patience_until:
                await asyncio.sleep(_DEAD_HOLDER_POLL_SECONDS)
                continue
            raise InstanceLocked(
                f"another Catalyst daemon holds broker account {self._account} in the database "
                f"at {redact_url(self._url)}: {holder.describe()}"
            )

    async def verify(self) -> bool:
        """True if the lock's connection still answers; on failure it is dropped (not held)."""
        connection = self._connection
        if connection is None:
            return False
        try:
            # asyncio.timeout, not wait_for (3.11's can swallow a cancellation: see heartbeat).
            async with asyncio.timeout(_CHECK_TIMEOUT_SECONDS):
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # whatever the failure, that session's lock cannot be trusted
            log.warning(
                "account lock: database connection lost; entries stop until it is re-taken",
                account=self._account,
                error=_first_line(exc),
            )
            await self._drop()
            return False
        return True

    async def keep(
        self,
        on_lost: Callable[[], None],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Hold the lock for the life of the daemon (run as a task; cancel to stop).

        Checks the connection every few seconds; when it is gone, retries until the database is
        back. Re-taken: trading goes on. Taken by someone else meanwhile: sets `lost`, calls
        `on_lost()` (the supervisor's stop) and returns. A database outage alone never stops
        the daemon.
        """
        unreachable_logged = False
        while True:
            await sleep(KEEP_INTERVAL_SECONDS if self.held else RETAKE_INTERVAL_SECONDS)
            if self.held:
                await self.verify()
                if self.held:
                    continue
            try:
                await self.acquire()
            except InstanceLocked as exc:
                self.lost = InstanceLockLost(
                    f"lost the account lock while the database was away; {exc}"
                )
                log.critical("account lock taken by another daemon; stopping", error=str(exc))
                on_lost()
                return
            except Exception as exc:  # an outage (or a surprise) never kills the daemon
                if not unreachable_logged:  # once per outage, not every retry
                    log.info("account lock: database unreachable; retrying", error=str(exc))
                unreachable_logged = True
                continue
            unreachable_logged = False
            log.info("account lock re-taken", account=self._account)

    async def release(self) -> None:
        """Give the lock up at once, then close its session. Bounded: a stop must not hang on an
        unreachable database (which ends the session, and so the lock, anyway). Idempotent."""
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_SHUTDOWN_TIMEOUT_SECONDS):
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:namespace, :key)"), self._params()
                    )
        await self._drop(patience=_SHUTDOWN_TIMEOUT_SECONDS)

    # ----------------------------------------------------------------- internals

    def _own_name(self) -> str:
        # As PostgreSQL stores it: at most 63 bytes.
        return _application_name(self._holder).encode()[:63].decode("utf-8", "ignore")

    def _params(self) -> dict[str, int]:
        return {"namespace": self._keys[0], "key": self._keys[1]}

    async def _try_once(self) -> _Holder | None:
        """None when the lock is ours now, else who holds it."""
        await self._drop()
        engine = create_async_engine(
            self._url,
            poolclass=NullPool,
            connect_args={"server_settings": {"application_name": _application_name(self._holder)}},
        )
        try:
            connection = await engine.connect()
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = await connection.scalar(
                text(
                    "SELECT pg_try_advisory_lock(CAST(:namespace AS integer), "
                    "CAST(:key AS integer))"
                ),
                self._params(),
            )
            if got:
                self._engine, self._connection = engine, connection
                return None
            row = (await connection.execute(_HOLDER_QUERY, self._params())).first()
            await connection.close()
        except (SQLAlchemyError, OSError) as exc:
            await engine.dispose()
            raise OperationalError(
                f"cannot take the account lock for {self._account}: {_first_line(exc)}"
            ) from exc
        await engine.dispose()
        if row is None:  # released between the two statements: the caller may try again
            return _Holder(present=False)
        return _Holder(True, row.application_name or "", row.backend_start, row.client)

    async def _drop(self, *, patience: float = _CHECK_TIMEOUT_SECONDS) -> None:
        connection, self._connection = self._connection, None
        engine, self._engine = self._engine, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a dead session is closed either way
                async with asyncio.timeout(patience):
                    await connection.close()
        if engine is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(patience):
                    await engine.dispose()


@dataclass(frozen=True, slots=True)
class _Holder:
    present: bool
    application_name: str = ""
    since: datetime | None = None
    client: str | None = None

    def describe(self) -> str:
        parsed = _parse_application_name(self.application_name)
        who = (
            f"pid {parsed[0]} on host {parsed[1]}"
            if parsed is not None
            else f"session {self.application_name or '(unnamed)'} from "
            f"{self.client or 'a local socket'}"
        )
        when = f" since {self.since.isoformat(timespec='seconds')}" if self.since else ""
        return who + when


def _first_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc)
    return text_.splitlines()[0] if text_ else type(exc).__name__
