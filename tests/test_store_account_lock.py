"""The PostgreSQL advisory lock per broker account: one holder, named to the loser, re-taken
after the connection is lost, and given up (the daemon stops) if someone took it meanwhile."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from pg_admin import terminate_sessions
from private_postgres import private_postgres, stop_quietly
from support import eventually

from catalyst.domain.errors import InstanceLocked
from catalyst.ops.instance_lock import LockHolder
from catalyst.store.account_lock import AccountLock

pytestmark = pytest.mark.postgres

SINCE = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
ALPHA = LockHolder(4242, "alpha.example", SINCE)
BETA = LockHolder(5353, "beta.example", SINCE)


class Ticks:
    """A `sleep` for `AccountLock.keep` that returns at once `count` times, then blocks."""

    def __init__(self, count: int) -> None:
        self.left = count
        self.done = asyncio.Event()

    async def __call__(self, _seconds: float) -> None:
        if self.left == 0:
            self.done.set()
            await asyncio.Event().wait()
        self.left -= 1
        await asyncio.sleep(0)


async def test_a_second_daemon_on_the_same_account_is_refused_naming_the_holder(
    pg_url: str,
) -> None:
    first = AccountLock(pg_url, "PA3FAKE00001", ALPHA)
    await first.acquire()
    try:
        with pytest.raises(InstanceLocked) as refused:
            await AccountLock(pg_url, "PA3FAKE00001", BETA).acquire()
        other_account = AccountLock(pg_url, "PA3OTHER0002", BETA)
        await other_account.acquire()  # another account is another lock
        await other_account.release()
    finally:
        await first.release()
    message = str(refused.value)
    assert "broker account PA3FAKE00001" in message
    assert "pid 4242 on host alpha.example since 20" in message
    assert "\n" not in message

    after = AccountLock(pg_url, "PA3FAKE00001", BETA)
    await after.acquire()  # released: free for the next
    await after.release()


async def test_lock_lost_with_its_connection_is_re_taken_when_the_database_answers(
    pg_url: str,
) -> None:
    lock = AccountLock(pg_url, "PA3FAKE00001", ALPHA)
    await lock.acquire()
    stopped: list[bool] = []
    try:
        await terminate_sessions(
            pg_url, ALPHA.pid, ALPHA.host
        )  # what a database restart does to it
        assert not await lock.verify()
        assert not lock.held, "entries stop while the lock is not held"
        ticks = Ticks(1)
        keeper = asyncio.create_task(lock.keep(lambda: stopped.append(True), sleep=ticks))
        await asyncio.wait_for(ticks.done.wait(), 30)
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        assert lock.held
        assert lock.lost is None
        with pytest.raises(InstanceLocked, match=r"pid 4242 on host alpha\.example"):
            await AccountLock(pg_url, "PA3FAKE00001", BETA).acquire()
    finally:
        await lock.release()
    assert stopped == []


async def test_lock_taken_by_another_daemon_meanwhile_stops_this_one(pg_url: str) -> None:
    lock = AccountLock(pg_url, "PA3FAKE00001", ALPHA)
    await lock.acquire()
    usurper = AccountLock(pg_url, "PA3FAKE00001", BETA)
    stopped: list[bool] = []
    try:
        await terminate_sessions(pg_url, ALPHA.pid, ALPHA.host)

        async def usurped() -> bool:
            try:
                await usurper.acquire()
            except InstanceLocked:
                return False
            return True

        # The terminated session lets go a moment later.
        await eventually(usurped, within=30, message="the terminated session kept the lock")
        keeper = asyncio.create_task(lock.keep(lambda: stopped.append(True), sleep=Ticks(5)))
        await asyncio.wait_for(keeper, 30)  # returns by itself once it knows
    finally:
        await usurper.release()
        await lock.release()
    assert stopped == [True]
    assert not lock.held
    assert lock.lost is not None
    assert "pid 5353 on host beta.example" in str(lock.lost)


async def test_lock_is_re_taken_after_a_real_database_restart() -> None:
    server = private_postgres()  # a private server: the shared one is never stopped
    try:
        await asyncio.to_thread(server.start)
        url = server.url()
        lock = AccountLock(url, "PA3FAKE00001", ALPHA)
        await lock.acquire()
        stopped: list[bool] = []

        async def quick(_seconds: float) -> None:
            await asyncio.sleep(0.1)

        keeper = asyncio.create_task(lock.keep(lambda: stopped.append(True), sleep=quick))
        try:
            await asyncio.to_thread(server.stop)
            # The keeper notices: entries stop ...
            await eventually(
                lambda: not lock.held, within=60, message="the lost connection was never noticed"
            )
            await asyncio.to_thread(server.start)

            def retaken() -> bool:
                assert not keeper.done(), "a database outage must never end the keeper"
                return lock.held

            # ... and re-takes the lock once the database is back.
            await eventually(retaken, within=60, message="the lock was never re-taken")
            with pytest.raises(InstanceLocked, match=r"pid 4242 on host alpha\.example"):
                await AccountLock(url, "PA3FAKE00001", BETA).acquire()
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await lock.release()
        assert stopped == []
        assert lock.lost is None
    finally:
        stop_quietly(server)
