"""Crash safety: SIGKILL the daemon again and again through a simulated session, restart it each
time, and prove nothing is duplicated, nothing is left unprotected and nothing is lost.

Two real processes share one accelerated timeline (`--simulated-clock`): `catalyst fake-alpaca`
(the broker, which survives every death) and `catalyst run` with `broker.kind: alpaca` (the
daemon, killed over and over). Kills come from a seeded random delay after READY=1, or from a
failpoint (`CATALYST_FAILPOINTS`) that exits the process exactly between the intent commit and the
POST, or between the POST and the recorded acknowledgement. Half-way, `catalyst halt` latches
HALTED while the daemon is down; the kills go on; finally a last life closes the book on an
operator's flatten request and is stopped, and one more start reconciles.

The kill phase is counted, not raced: it ends when the kills (and failpoint deaths in each window)
are done, and scans run every five minutes until 15:15, so it has most of the day. How fast the
simulated day runs is chosen from this machine's measured start-up cost (`_calibrated_speed`): a
slow or loaded machine gets a slower day, never a missed deadline. Every process runs in its own
process group and is killed at teardown, pass or fail.

Checked at the broker (alpaca-py over HTTP) and in the SQLite journal (SQLAlchemy):
- no client_order_id twice at the broker; every broker order journaled, as Catalyst's own;
- at most one entry per (cycle, symbol); no entry created at the broker after the halt;
- after every start-up reconciliation and at every death, each position covered by a working
  sell stop (or being closed);
- each failpoint death happened in its window, and was resolved after the restart;
- journal equal to the broker after the last reconciliation, flat at the end, still HALTED.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position as AlpacaPosition
from alpaca.trading.requests import GetOrdersRequest
from processes import (
    KEY,
    SECRET,
    Child,
    NotifySocket,
    Processes,
    alpaca_environment,
    fake_alpaca_broker,
    free_port,
    start_fake_alpaca,
    write_config,
)
from sqlalchemy import Engine, create_engine, select

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.ops.failpoints import AFTER_INTENT_COMMIT, AFTER_SUBMIT_BEFORE_ACK, CRASH_EXIT_CODE
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.store.tables import orders, positions, trading_state
from catalyst.timekeeping.clock import AcceleratedClock, RealClock

pytestmark = pytest.mark.slow

DAY = datetime(2026, 11, 24, tzinfo=EXCHANGE_TZ).date()
SIM_START = datetime.combine(DAY, clock_time(9, 25), tzinfo=EXCHANGE_TZ)
SEED = 20261124

MIN_KILLS = 14
MIN_PER_WINDOW = 3  # failpoint deaths in each of the two windows
KILLS_AFTER_HALT = 4
# Scans every 5 minutes up to 15:15; the kill phase must be over by 15:20 (the final life still
# has the end-of-day flatten at 15:50 and the close to itself). The whole run lasts the
# simulated day over the calibrated speed: a kill phase that fills most of the day makes the
# speed as high as the lives allow.
LAST_SCAN = clock_time(15, 15)
LAST_KILL_BY = datetime.combine(DAY, clock_time(15, 20), tzinfo=EXCHANGE_TZ)
SCAN_EVERY = timedelta(minutes=5)
READY_TIMEOUT = 90.0  # wall seconds from spawn to READY=1 (generous: a loaded machine)
EXIT_TIMEOUT = 60.0  # wall seconds for a life to end once it should
READ_ATTEMPTS = 50  # consistent reads of the broker's book (each three requests)

# How fast the simulated day runs: as fast as MAX_SPEED, but slow enough that the lives the kill
# phase needs fit in its window with room to spare on *this* machine, at its current load.
MAX_SPEED = 150.0  # simulated seconds per wall second: the 6 h 40 min day in ~2 min 40 s
MIN_SPEED = 20.0
EXPECTED_LIVES = 18  # MIN_KILLS plus failpoint lives that found no order, with some to spare
FAILPOINT_LIVES = 6  # each also waits for the next scan to place an order
SAFETY = 1.5


def _scan_times() -> list[str]:
    # Every 5 minutes through the kill phase.
    first = datetime.combine(DAY, clock_time(9, 35))
    times: list[datetime] = []
    while (first + len(times) * SCAN_EVERY).time() <= LAST_SCAN:
        times.append(first + len(times) * SCAN_EVERY)
    return [f"{t:%H:%M}" for t in times]


def _calibrated_speed(env: dict[str, str]) -> tuple[float, float]:
    """(speed, wall seconds one life costs), from timing what dominates a life here and now:
    starting a Python process that imports the daemon (the better of two tries)."""
    tries = []
    for _ in range(2):
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-c", "import catalyst.daemon.entry, catalyst.brokers.alpaca"],
            env=env,
            check=True,
            timeout=120,
        )
        tries.append(time.monotonic() - started)
    # A life: the imports, then its start-up work and reconciliation (measured: from half as
    # long again on a quiet machine to as long again on a loaded one), then a kill delay of one
    # second on average.
    life = 1.5 * min(tries) + 1.0
    # The window must hold every life, plus a scan interval for each failpoint life to find an
    # order in: window / SAFETY >= lives * life * speed + failpoint lives * scan interval.
    window = (LAST_KILL_BY - SIM_START).total_seconds()
    room = window / SAFETY - FAILPOINT_LIVES * SCAN_EVERY.total_seconds()
    speed = room / (EXPECTED_LIVES * life)
    return max(MIN_SPEED, min(MAX_SPEED, speed)), life


def _write_config(root: Path, port: int) -> Path:
    # Many small positions (many orders to crash around); no loss halt: the halt is the CLI's.
    # Positions live until the end-of-day flatten: no max-hold close runs during the kill phase.
    # risk_watch_interval_seconds is simulated: at 150x, 10 s is one account request every 67 ms.
    return write_config(
        root,
        trading={
            "broker": fake_alpaca_broker(port),
            "simulation": {"symbols": 300, "catalyst_fraction": 0.3},
            "schedule": {"scan_times": _scan_times()},
            "workflow": {"min_confidence_score": 0.3, "execute_top_n": 3},
            "trading_session": {"max_hold_time_minutes": 390},
            "logging": {"format": "json", "level": "INFO"},
        },
        risk={
            "risk_limits": {
                "max_positions": 40,
                "max_position_size_usd": 2000,
                "max_sector_exposure_pct": 1.0,
                "max_daily_loss_usd": 90000,
            },
            "emergency_actions": {"risk_watch_interval_seconds": 10},
        },
    )


@dataclass
class Life:
    """One start of the daemon and how it ended."""

    number: int
    kind: str  # "random", AFTER_INTENT_COMMIT or AFTER_SUBMIT_BEFORE_ACK
    log: Path
    returncode: int | None = None
    killed_at: datetime | None = None  # simulated time of the death
    window_order: str | None = None  # the client_order_id a failpoint died on
    window_cycle: str | None = None


@dataclass
class CrashRig:
    """Both processes, the shared clock and the views the checks use."""

    processes: Processes
    config: Path
    port: int
    clock: AcceleratedClock
    notify: NotifySocket
    journal: Engine
    trading: TradingClient
    env: dict[str, str]
    life_seconds: float  # the calibrated wall cost of one life
    lives: list[Life] = field(default_factory=list)

    # ------------------------------------------------------------------ processes

    def start_server(self) -> None:
        start_fake_alpaca(
            self.processes, self.config, self.port, self.env, clock_spec=self.clock.spec()
        )

    def start_daemon(self, kind: str) -> tuple[Life, Child]:
        number = len(self.lives) + 1
        env = dict(self.env)
        if kind != "random":
            env["CATALYST_FAILPOINTS"] = f"{kind}=1"
        self.notify.drain()
        args = ["run", "--config", str(self.config), "--simulated-clock", self.clock.spec()]
        child = self.processes.spawn(f"daemon-{number:02d}", args, env)
        life = Life(number, kind, child.log)
        self.lives.append(life)
        return life, child

    def wait_ready(self, life: Life, child: Child) -> bool:
        """True on READY=1; False if the process died first (a failpoint during start-up)."""
        try:
            return self.notify.wait_for("READY=1", READY_TIMEOUT, while_true=lambda: child.alive)
        except AssertionError:
            message = f"life {life.number}: no READY=1 in time\n{child.tail()}"
            raise AssertionError(message) from None

    def failpoint_patience(self) -> float:
        """Wall seconds a failpoint life may wait for an order: three scans, and a life's cost."""
        return 3 * SCAN_EVERY.total_seconds() / self.clock.speed + self.life_seconds

    def kill(self, life: Life, child: Child) -> None:
        if not child.alive:
            raise AssertionError(
                f"life {life.number} ended by itself (exit {child.process.returncode}) before "
                f"its kill at {self.sim_now():%H:%M:%S}\n{child.tail()}"
            )
        child.process.kill()
        life.returncode = child.wait_exit(EXIT_TIMEOUT)
        life.killed_at = self.sim_now()

    def stop(self, child: Child) -> int:
        """SIGTERM the daemon; its exit status (0: it stopped cleanly)."""
        child.signal(signal.SIGTERM)
        code = child.wait_exit(EXIT_TIMEOUT)
        assert code == 0, f"exit {code} after SIGTERM\n{child.tail()}"
        return code

    def wait_until_flat(self, child: Child) -> None:
        """Until the broker holds no position and no open order (the flatten request done)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while self.broker_positions() or any(
            o.status.value not in _FINAL_BROKER_STATUSES for o in self.broker_orders()
        ):
            assert child.alive, f"the daemon died while flattening\n{child.tail()}"
            assert time.monotonic() < deadline, f"not flat in time\n{child.tail()}"
            time.sleep(0.2)

    def run_cli(self, *args: str) -> str:
        return self.processes.run([*args, "--config", str(self.config)], self.env)

    def sim_now(self) -> datetime:
        return self.clock.now().astimezone(EXCHANGE_TZ)

    # ------------------------------------------------------------------ views

    def broker_orders(self) -> list[AlpacaOrder]:
        """Every order at the broker, legs flattened out of their parents."""
        listed = self.trading.get_orders(
            GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500, nested=True)
        )
        assert isinstance(listed, list)
        assert len(listed) < 500, "more orders than one listing shows; raise the limit"
        flat: list[AlpacaOrder] = []
        for order in listed:
            assert isinstance(order, AlpacaOrder)
            flat.append(order)
            flat.extend(order.legs or [])
        return flat

    def broker_positions(self) -> list[AlpacaPosition]:
        held = self.trading.get_all_positions()
        assert isinstance(held, list)
        return [p for p in held if isinstance(p, AlpacaPosition)]

    def broker_order(self, client_order_id: str) -> AlpacaOrder | None:
        try:
            found = self.trading.get_order_by_client_id(client_order_id)
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise
        assert isinstance(found, AlpacaOrder)
        return found

    def journal_orders(self) -> list[dict[str, Any]]:
        with self.journal.connect() as connection:
            rows = connection.execute(select(orders).order_by(orders.c.id)).mappings().all()
        return [dict(row) for row in rows]

    def journal_positions(self) -> dict[str, int]:
        with self.journal.connect() as connection:
            rows = connection.execute(select(positions)).mappings().all()
        return {row["symbol"]: row["qty"] for row in rows}

    def journal_state(self) -> tuple[str, str | None]:
        with self.journal.connect() as connection:
            row = connection.execute(select(trading_state)).mappings().first()
        return ("active", None) if row is None else (row["status"], row["reason"])

    def consistent_book(self) -> tuple[list[AlpacaOrder], list[AlpacaPosition]]:
        """The broker's orders and positions as of one moment.

        They are two requests, and the simulated market trades on between them: an entry that
        fills in between shows as held shares beside a still-new entry with held legs. The
        positions are read between two order listings and kept only when nothing changed."""
        for _ in range(READ_ATTEMPTS):
            before = self.broker_orders()
            positions = self.broker_positions()
            after = self.broker_orders()
            if _order_states(before) == _order_states(after):
                return after, positions
        raise AssertionError(f"the broker's book changed during each of {READ_ATTEMPTS} reads")

    def assert_every_position_protected(self, when: str) -> None:
        """Each long position covered by open sell stops (bracket legs included) or a market
        sell already working: no position is ever left without protection."""
        orders, positions = self.consistent_book()
        open_orders = [o for o in orders if o.status.value not in _FINAL_BROKER_STATUSES]
        covered: Counter[str] = Counter()
        for order in open_orders:
            kind, side = _value(order.type), _value(order.side)
            protective = kind in ("stop", "stop_limit", "market")
            if side == "sell" and protective and order.status.value != "held":
                remaining = float(order.qty or 0) - float(order.filled_qty or 0)
                covered[str(order.symbol)] += int(remaining)
        for position in positions:
            qty = int(float(position.qty))
            assert qty > 0, f"{when}: a short position in {position.symbol}: {qty}"
            working = [
                (o.client_order_id, _value(o.type), _value(o.side), o.status.value, o.qty)
                for o in open_orders
                if o.symbol == position.symbol
            ]
            assert covered[position.symbol] >= qty, (
                f"{when}: {qty} {position.symbol} held, only {covered[position.symbol]} covered "
                f"by working sell stops; its open orders: {working}"
            )


def _order_states(orders: Sequence[AlpacaOrder]) -> list[tuple[str, str, str]]:
    return [(o.client_order_id, o.status.value, str(o.filled_qty)) for o in orders]


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)


_FINAL_BROKER_STATUSES = frozenset(
    {"filled", "canceled", "expired", "rejected", "replaced", "done_for_day", "stopped"}
)
_FINAL_JOURNAL_STATUSES = frozenset({"filled", "canceled", "expired", "rejected", "not_placed"})


@pytest.fixture
def rig(processes: Processes) -> Iterator[CrashRig]:
    root = processes.root
    port = free_port()
    config = _write_config(root, port)
    env = alpaca_environment(NOTIFY_SOCKET=str(root / "notify.sock"))
    speed, life_seconds = _calibrated_speed(env)
    print(f"crash test: one life ~{life_seconds:.1f} s here now; simulated day at {speed:.0f}x")
    # The wall anchor a little ahead, so both processes start before the simulated 09:25 moves.
    clock = AcceleratedClock(SIM_START, RealClock().now() + timedelta(seconds=2), speed)
    notify = NotifySocket(root / "notify.sock")
    engine = create_engine(f"sqlite:///{root / 'state' / 'catalyst.db'}")
    trading = TradingClient(KEY, SECRET, paper=True, url_override=f"http://127.0.0.1:{port}")
    crash_rig = CrashRig(processes, config, port, clock, notify, engine, trading, env, life_seconds)
    try:
        crash_rig.run_cli("db", "upgrade")
        crash_rig.start_server()
        yield crash_rig
    finally:
        engine.dispose()
        notify.close()


def _failpoint_life(rig: CrashRig, kind: str) -> Life:
    """Start with one failpoint armed; it must die with 137 in its window, or be killed."""
    journal_before = {row["client_order_id"] for row in rig.journal_orders()}
    life, child = rig.start_daemon(kind)
    if rig.wait_ready(life, child):
        rig.assert_every_position_protected(f"life {life.number} after start-up reconciliation")
        try:
            child.process.wait(timeout=rig.failpoint_patience())
        except subprocess.TimeoutExpired:
            life.kind = "random"  # no order in time: an ordinary kill
            rig.kill(life, child)
            return life
    life.returncode = child.wait_exit(EXIT_TIMEOUT)
    life.killed_at = rig.sim_now()
    assert life.returncode == CRASH_EXIT_CODE, (
        f"life {life.number} ({kind}) exited {life.returncode}\n{child.tail()}"
    )
    # The order it died on: the newest intent row this life wrote.
    fresh = [r for r in rig.journal_orders() if r["client_order_id"] not in journal_before]
    intents = [r for r in fresh if r["status"] == "intent"]
    assert intents, f"life {life.number} died at {kind} without a fresh intent: {fresh}"
    died_on = intents[-1]
    life.window_order, life.window_cycle = died_on["client_order_id"], died_on["cycle_id"]
    at_broker = rig.broker_order(died_on["client_order_id"])
    if kind == AFTER_INTENT_COMMIT:
        assert at_broker is None, f"life {life.number}: the intent reached the broker"
    else:
        assert at_broker is not None, f"life {life.number}: the POST did not reach the broker"
    return life


def _random_life(rig: CrashRig, rng: random.Random) -> Life:
    life, child = rig.start_daemon("random")
    assert rig.wait_ready(life, child), f"life {life.number} died during start-up"
    rig.assert_every_position_protected(f"life {life.number} after start-up reconciliation")
    time.sleep(rng.uniform(0.05, 2.0))  # a random moment of its life, not a wait for anything
    rig.kill(life, child)
    return life


def test_sigkill_at_any_point_never_duplicates_loses_or_unprotects_an_order(
    rig: CrashRig,
) -> None:
    rng = random.Random(SEED)
    halted_at: datetime | None = None
    plan: Sequence[str] = (AFTER_INTENT_COMMIT, "random", AFTER_SUBMIT_BEFORE_ACK, "random")

    def window_deaths(kind: str) -> list[Life]:
        return [life for life in rig.lives if life.kind == kind and life.window_order]

    while True:
        if rig.sim_now() > LAST_KILL_BY:
            pytest.fail(
                f"kill phase ran past {LAST_KILL_BY:%H:%M}: {len(rig.lives)} lives, "
                f"{len(window_deaths(AFTER_INTENT_COMMIT))} intent-window and "
                f"{len(window_deaths(AFTER_SUBMIT_BEFORE_ACK))} ack-window deaths at "
                f"{rig.clock.speed:.0f}x (a life calibrated at {rig.life_seconds:.1f} s)"
            )
        quotas_met = all(
            len(window_deaths(kind)) >= MIN_PER_WINDOW
            for kind in (AFTER_INTENT_COMMIT, AFTER_SUBMIT_BEFORE_ACK)
        )
        if halted_at is None and quotas_met and len(rig.lives) >= MIN_KILLS - KILLS_AFTER_HALT:
            # Halt while the daemon is down: every later entry would come from a later life.
            halted_at = rig.sim_now()
            rig.run_cli("halt", "--reason", "crash-test")
        if halted_at is not None:
            after_halt = [life for life in rig.lives if life.killed_at > halted_at]  # type: ignore[operator]
            if len(after_halt) >= KILLS_AFTER_HALT and len(rig.lives) >= MIN_KILLS:
                break
        kind = plan[len(rig.lives) % len(plan)]
        if halted_at is not None or (
            kind != "random" and len(window_deaths(kind)) >= MIN_PER_WINDOW
        ):
            kind = "random"
        life = _failpoint_life(rig, kind) if kind != "random" else _random_life(rig, rng)
        assert life.returncode in (CRASH_EXIT_CODE, -9), life
        rig.assert_every_position_protected(f"life {life.number} at its death")
        if halted_at is not None:
            assert rig.journal_state() == ("halted", "crash-test"), "HALTED must survive restarts"

    # The last life closes the book on the operator's request and is stopped once flat: the
    # request file `catalyst flatten` leaves, dated on the shared simulated clock (the command
    # dates it on the wall clock, which is this timeline's only in production).
    final, child = rig.start_daemon("random")
    assert rig.wait_ready(final, child)
    rig.assert_every_position_protected("the final life after start-up reconciliation")
    FlattenRequest(rig.processes.root / "state").submit("crash test over", "test", rig.clock.now())
    rig.wait_until_flat(child)
    final.returncode = rig.stop(child)
    # One more start: its start-up reconciliation is the last one.
    last, child = rig.start_daemon("random")
    assert rig.wait_ready(last, child)
    last.returncode = rig.stop(child)

    _check_the_end_state(rig, halted_at)
    kinds = Counter(life.kind for life in rig.lives if life.returncode != 0)
    print(f"crash test: {sum(kinds.values())} kills {dict(kinds)}; halted at {halted_at:%H:%M}")


def _check_the_end_state(rig: CrashRig, halted_at: datetime | None) -> None:
    assert halted_at is not None
    at_broker = rig.broker_orders()
    journal = rig.journal_orders()
    by_cid = {row["client_order_id"]: row for row in journal}
    kills = [life for life in rig.lives if life.returncode in (CRASH_EXIT_CODE, -9)]
    assert len(kills) >= MIN_KILLS

    # No duplicates, nothing unjournaled, nothing mistaken for someone else's order.
    counts = Counter(o.client_order_id for o in at_broker)
    assert [cid for cid, n in counts.items() if n > 1] == [], "client_order_id twice at the broker"
    missing = [o.client_order_id for o in at_broker if o.client_order_id not in by_cid]
    assert missing == [], "broker orders missing from the journal"
    external = [row["client_order_id"] for row in journal if row["source"] != "catalyst"]
    assert external == [], "Catalyst's own orders journaled as external"
    for order in at_broker:
        row = by_cid[order.client_order_id]
        assert row["broker_order_id"] == str(order.id), row
        for leg in order.legs or []:
            assert by_cid[leg.client_order_id]["parent_client_order_id"] == order.client_order_id

    # At most one entry per (cycle, symbol), none after the halt.
    entries = [o for o in at_broker if by_cid[o.client_order_id]["role"] == "entry"]
    assert entries, "the session placed no entries: the test proved nothing"
    per_cycle = Counter((by_cid[o.client_order_id]["cycle_id"], o.symbol) for o in entries)
    assert [key for key, n in per_cycle.items() if n > 1] == []
    late = [
        (o.client_order_id, o.created_at)
        for o in entries
        if o.created_at.astimezone(UTC) > halted_at.astimezone(UTC)
    ]
    assert late == [], f"entries sent after the halt at {halted_at:%H:%M:%S}"

    # Each failpoint death: its order resolved once, as the window implies.
    for life in rig.lives:
        if life.window_order is None:
            continue
        row, broker = by_cid[life.window_order], rig.broker_order(life.window_order)
        if life.kind == AFTER_INTENT_COMMIT:
            assert broker is None, f"life {life.number}: an intent was sent after the restart"
            assert row["status"] == "not_placed", row
        else:
            assert broker is not None
            assert row["broker_order_id"] == str(broker.id), row
    cycles = {life.window_cycle for life in rig.lives if life.window_order}
    assert len(cycles) >= 2 * MIN_PER_WINDOW - 1, f"failpoint deaths bunched in cycles {cycles}"

    # Journal == broker after the last reconciliation; flat; still halted.
    open_at_broker = {
        o.client_order_id for o in at_broker if o.status.value not in _FINAL_BROKER_STATUSES
    }
    open_in_journal = {
        row["client_order_id"] for row in journal if row["status"] not in _FINAL_JOURNAL_STATUSES
    }
    assert open_in_journal == open_at_broker
    held = {p.symbol: int(float(p.qty)) for p in rig.broker_positions()}
    assert rig.journal_positions() == held
    assert held == {}, "not flat at the end of the session"
    assert open_at_broker == set()
    assert rig.journal_state() == ("halted", "crash-test")
