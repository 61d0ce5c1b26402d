"""Crash safety: SIGKILL the daemon again and again through a simulated session, restart it each
time, and prove nothing is duplicated, nothing is left unprotected and nothing is lost.

Two real processes share one accelerated timeline (`--simulated-clock`): `catalyst fake-alpaca`
(the broker, which survives every death) and `catalyst run` with `broker.kind: alpaca` (the
daemon, killed over and over). Kills come from a seeded random delay after READY=1, or from a
failpoint (`CATALYST_FAILPOINTS`) that exits the process exactly between the intent commit and the
POST, or between the POST and the recorded acknowledgement. Half-way, `catalyst halt` latches
HALTED while the daemon is down; the kills go on; finally the daemon trades to the close and exits.

Checked at the broker (alpaca-py over HTTP) and in the SQLite journal (SQLAlchemy):
- no client_order_id twice at the broker; every broker order journaled, as Catalyst's own;
- at most one entry per (cycle, symbol); no entry created at the broker after the halt;
- after every start-up reconciliation and at every death, each position covered by a working
  sell stop (or being closed);
- each failpoint death happened in its window, and was resolved after the restart;
- journal equal to the broker after the last reconciliation, flat at the end, still HALTED.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
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
import yaml
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position as AlpacaPosition
from alpaca.trading.requests import GetOrdersRequest
from sqlalchemy import Engine, create_engine, select
from support import CONFIG_DIR

from catalyst.ops.failpoints import AFTER_INTENT_COMMIT, AFTER_SUBMIT_BEFORE_ACK, CRASH_EXIT_CODE
from catalyst.store.tables import orders, positions, trading_state
from catalyst.timekeeping.calendar import EXCHANGE_TZ, ExchangeCalendar
from catalyst.timekeeping.clock import AcceleratedClock, RealClock

pytestmark = pytest.mark.slow

DAY = datetime(2026, 11, 24, tzinfo=EXCHANGE_TZ).date()
SIM_START = datetime.combine(DAY, clock_time(9, 25), tzinfo=EXCHANGE_TZ)
SPEED = 150.0  # simulated seconds per wall second: the 6 h 40 min day takes ~2 min 40 s
SEED = 20261124
KEY, SECRET = "crash-test-key", "crash-test-secret"

MIN_KILLS = 22
MIN_PER_WINDOW = 4  # failpoint deaths in each of the two windows
KILLS_AFTER_HALT = 6
LAST_KILL_BY = datetime.combine(DAY, clock_time(12, 40), tzinfo=EXCHANGE_TZ)
READY_TIMEOUT = 30.0  # wall seconds from spawn to READY=1
FAILPOINT_PATIENCE = 12.0  # wall seconds a failpoint life may wait for an order to be placed
EXIT_TIMEOUT = 60.0  # wall seconds for a life to end once it should


def _scan_times() -> list[str]:
    # Every 5 minutes through the kill phase, then two late scans for the final life.
    times = [datetime.combine(DAY, clock_time(9, 35)) + timedelta(minutes=5 * k) for k in range(36)]
    return [f"{t:%H:%M}" for t in times] + ["14:00", "15:00"]


def _write_config(root: Path, port: int) -> Path:
    target = root / "config"
    shutil.copytree(CONFIG_DIR, target)
    trading_file = target / "trading_config.yaml"
    trading = yaml.safe_load(trading_file.read_text())
    trading["paths"]["state_dir"] = str(root / "state")
    trading["broker"].update(
        kind="alpaca",
        trading_base_url=f"http://127.0.0.1:{port}",
        data_base_url=f"http://127.0.0.1:{port}",
    )
    trading["simulation"].update(symbols=300, catalyst_fraction=0.3)
    trading["schedule"]["scan_times"] = _scan_times()
    trading["workflow"].update(min_confidence_score=0.3, execute_top_n=3)
    # Positions live until the end-of-day flatten: no max-hold close runs during the kill phase.
    trading["trading_session"]["max_hold_time_minutes"] = 390
    trading["logging"].update(format="json", level="INFO")
    trading_file.write_text(yaml.safe_dump(trading))
    risk_file = target / "risk_parameters.yaml"
    risk = yaml.safe_load(risk_file.read_text())
    # Many small positions (many orders to crash around); no loss halt: the halt is the CLI's.
    risk["risk_limits"].update(
        max_positions=40,
        max_position_size_usd=2000,
        max_sector_exposure_pct=1.0,
        max_daily_loss_usd=90000,
    )
    # Simulated seconds: at 150x, 10 s is one account request every 67 ms of wall time.
    risk["emergency_actions"]["risk_watch_interval_seconds"] = 10
    risk_file.write_text(yaml.safe_dump(risk))
    return target


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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

    root: Path
    config: Path
    port: int
    clock: AcceleratedClock
    notify: socket.socket
    journal: Engine
    trading: TradingClient
    env: dict[str, str]
    lives: list[Life] = field(default_factory=list)
    server: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ processes

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "catalyst", *args, "--config", str(self.config)]

    def start_server(self) -> None:
        with (self.root / "fake-alpaca.log").open("wb") as log:
            self.server = subprocess.Popen(
                [
                    *self.command("fake-alpaca", "--port", str(self.port)),
                    "--simulated-clock",
                    self.clock.spec(),
                ],
                cwd=self.root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.server.poll() is None, self._tail(self.root / "fake-alpaca.log")
            try:
                self.trading.get_clock()
            except Exception:  # not listening yet
                time.sleep(0.1)
            else:
                return
        raise AssertionError("the fake Alpaca server did not answer within the deadline")

    def start_daemon(self, kind: str) -> tuple[Life, subprocess.Popen[bytes]]:
        life = Life(len(self.lives) + 1, kind, self.root / f"daemon-{len(self.lives) + 1:02d}.log")
        self.lives.append(life)
        self._drain_notify()
        env = dict(self.env)
        if kind != "random":
            env["CATALYST_FAILPOINTS"] = f"{kind}=1"
        with life.log.open("wb") as log:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [*self.command("run"), "--simulated-clock", self.clock.spec()],
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return life, process

    def wait_ready(self, life: Life, process: subprocess.Popen[bytes]) -> bool:
        """True on READY=1; False if the process died first (a failpoint during start-up)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                datagram = self.notify.recv(4096).decode()
            except TimeoutError:
                datagram = ""
            if "READY=1" in datagram.split("\n"):
                return True
            if process.poll() is not None:
                return False
        process.kill()
        process.wait()
        raise AssertionError(f"life {life.number}: no READY=1 in time\n{self._tail(life.log)}")

    def kill(self, life: Life, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is not None:
            raise AssertionError(
                f"life {life.number} ended by itself (exit {process.returncode}) before its "
                f"kill at {self.sim_now():%H:%M:%S}\n{self._tail(life.log)}"
            )
        process.kill()
        life.returncode = process.wait(timeout=EXIT_TIMEOUT)
        life.killed_at = self.sim_now()

    def run_cli(self, *args: str) -> str:
        result = subprocess.run(
            self.command(*args),
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"catalyst {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def sim_now(self) -> datetime:
        return self.clock.now().astimezone(EXCHANGE_TZ)

    def _drain_notify(self) -> None:
        self.notify.setblocking(False)
        try:
            while True:
                self.notify.recv(4096)
        except BlockingIOError:
            pass
        finally:
            self.notify.settimeout(0.2)

    @staticmethod
    def _tail(path: Path, lines: int = 30) -> str:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

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

    def assert_every_position_protected(self, when: str) -> None:
        """Each long position covered by open sell stops (bracket legs included) or a market
        sell already working: no position is ever left without protection."""
        open_orders = [
            o for o in self.broker_orders() if o.status.value not in _FINAL_BROKER_STATUSES
        ]
        covered: Counter[str] = Counter()
        for order in open_orders:
            kind, side = _value(order.type), _value(order.side)
            protective = kind in ("stop", "stop_limit", "market")
            if side == "sell" and protective and order.status.value != "held":
                remaining = float(order.qty or 0) - float(order.filled_qty or 0)
                covered[str(order.symbol)] += int(remaining)
        for position in self.broker_positions():
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


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)


_FINAL_BROKER_STATUSES = frozenset(
    {"filled", "canceled", "expired", "rejected", "replaced", "done_for_day", "stopped"}
)
_FINAL_JOURNAL_STATUSES = frozenset({"filled", "canceled", "expired", "rejected", "not_placed"})


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[CrashRig]:
    port = _free_port()
    config = _write_config(tmp_path, port)
    # The wall anchor a little ahead, so both processes start before the simulated 09:25 moves.
    clock = AcceleratedClock(SIM_START, RealClock().now() + timedelta(seconds=2), SPEED)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "CATALYST_"))}
    notify_path = tmp_path / "notify.sock"
    env = {
        **clean,
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "NOTIFY_SOCKET": str(notify_path),
    }
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    engine = create_engine(f"sqlite:///{tmp_path / 'state' / 'catalyst.db'}")
    trading = TradingClient(KEY, SECRET, paper=True, url_override=f"http://127.0.0.1:{port}")
    crash_rig = CrashRig(tmp_path, config, port, clock, sock, engine, trading, env)
    try:
        crash_rig.run_cli("db", "upgrade")
        crash_rig.start_server()
        yield crash_rig
    finally:
        if crash_rig.server is not None and crash_rig.server.poll() is None:
            crash_rig.server.terminate()
            try:
                crash_rig.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                crash_rig.server.kill()
                crash_rig.server.wait()
        engine.dispose()
        sock.close()


def _failpoint_life(rig: CrashRig, kind: str) -> Life:
    """Start with one failpoint armed; it must die with 137 in its window, or be killed."""
    journal_before = {row["client_order_id"] for row in rig.journal_orders()}
    life, process = rig.start_daemon(kind)
    if rig.wait_ready(life, process):
        rig.assert_every_position_protected(f"life {life.number} after start-up reconciliation")
        try:
            process.wait(timeout=FAILPOINT_PATIENCE)
        except subprocess.TimeoutExpired:
            life.kind = "random"  # no order in time: an ordinary kill
            rig.kill(life, process)
            return life
    life.returncode = process.wait(timeout=EXIT_TIMEOUT)
    life.killed_at = rig.sim_now()
    assert life.returncode == CRASH_EXIT_CODE, (
        f"life {life.number} ({kind}) exited {life.returncode}\n{rig._tail(life.log)}"
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
    life, process = rig.start_daemon("random")
    assert rig.wait_ready(life, process), f"life {life.number} died during start-up"
    rig.assert_every_position_protected(f"life {life.number} after start-up reconciliation")
    time.sleep(rng.uniform(0.05, 2.0))
    rig.kill(life, process)
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
                f"{len(window_deaths(AFTER_SUBMIT_BEFORE_ACK))} ack-window deaths"
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

    # The last life trades to the end of the session and stops by itself.
    final, process = rig.start_daemon("random")
    assert rig.wait_ready(final, process)
    rig.assert_every_position_protected("the final life after start-up reconciliation")
    session = ExchangeCalendar().session(DAY)
    assert session is not None
    wall_left = (session.close + timedelta(minutes=5) - rig.clock.now()).total_seconds() / SPEED
    final.returncode = process.wait(timeout=wall_left + EXIT_TIMEOUT)
    assert final.returncode == 0, rig._tail(final.log)
    # One more start after the session: its start-up reconciliation is the last one, and the
    # daemon, past its simulated end, stops at once.
    last, process = rig.start_daemon("random")
    last.returncode = process.wait(timeout=EXIT_TIMEOUT)
    assert last.returncode == 0, rig._tail(last.log)

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
