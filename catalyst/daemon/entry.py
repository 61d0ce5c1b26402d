"""Entry points behind the CLI: the live daemon, the simulated day, and the operator commands.

The wall clock is read here (through `RealClock`) only to decide *which* day to simulate and to
stamp operator actions; the daemon itself takes time from the clock it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import structlog
from sqlalchemy.engine import make_url

from catalyst import __version__
from catalyst.config.loader import database_url, load_settings
from catalyst.config.models import Settings
from catalyst.daemon.components import Components, build_components
from catalyst.daemon.startup import Dependency, StartupWait, StopDuringStartup
from catalyst.daemon.stopping import CLOSE_SECONDS, StopRequest
from catalyst.daemon.supervisor import Supervisor, keep_unsent_alerts
from catalyst.domain.alerts import Alert
from catalyst.domain.decisions import Rejected
from catalyst.domain.errors import (
    BrokerAccessDenied,
    BrokerError,
    CatalystError,
    ConfigError,
    InvalidArgument,
    OperationalError,
    RetryableBrokerError,
    StorageUnusable,
)
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FunnelStage
from catalyst.domain.heartbeat import DaemonPresence, others_alive, presence_for
from catalyst.domain.models import TradingSession
from catalyst.domain.proposals import ProposalStatus, normalise_proposal_id
from catalyst.logs import configure_logging
from catalyst.notify import build_notifier, events
from catalyst.ops.failpoints import Failpoints
from catalyst.ops.filesystem import unusable_path
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.ops.instance_lock import LockHolder, StateDirLock
from catalyst.ops.pause_flag import PauseFlag
from catalyst.ops.sdnotify import SystemdNotifier, watchdog_interval
from catalyst.pipeline.sizing import plan_bracket, priced_at_limit
from catalyst.pipeline.universe import with_sectors
from catalyst.ports import Broker, Clock
from catalyst.redaction import redact_url
from catalyst.reporting.cycles import CycleDetail, CycleList
from catalyst.reporting.day_report import DayReport
from catalyst.reporting.dry_run import DryRun
from catalyst.reporting.journal_day import load_day_report
from catalyst.reporting.proposals import ProposalList, price_text
from catalyst.reporting.report_chart import equity_chart_png
from catalyst.reporting.report_html import png_data_uri, render_html
from catalyst.reporting.status import StatusReport, collect_status
from catalyst.reporting.summary import DaySummary, summarise_day
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.account_lock import AccountLock
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import check_schema_current, upgrade_database
from catalyst.store.repository import Store
from catalyst.tasks.funnel_scan import FunnelScan
from catalyst.tasks.heartbeat import Heartbeat
from catalyst.tasks.scan_cycle import entry_block_reason, scan_type_at
from catalyst.tasks.stage_rows import bracket_fields, to_records
from catalyst.timekeeping.broker_calendar import BrokerSessionCalendar
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import AcceleratedClock, RealClock, SimClock
from catalyst.timekeeping.day_plan import plan_for
from catalyst.web.app import build_app
from catalyst.web.server import bind_loopback, serve
from catalyst.web.source import JournalSource

log = structlog.get_logger(__name__)

SIMULATION_START = time(8, 0)  # exchange time: before the 09:15 pre-market scan
SIMULATION_TAIL = timedelta(minutes=5)  # run a little past the close to prove the book is flat
DEMO_STATE_SUBDIR = "demo"
CLI_ALERT_SECONDS = 15.0  # `halt`/`resume` wait this long for their alert to go out


def _broker_for(settings: Settings, calendar: ExchangeCalendar, clock: Clock) -> Broker:
    if settings.trading.broker.kind == "sim":
        return build_sim_broker(settings.trading.simulation, calendar, clock)
    from catalyst.brokers.alpaca import build_alpaca_broker  # alpaca-py loads only when used

    return build_alpaca_broker(settings, clock)


async def upgrade_database_for(settings: Settings) -> str:
    """`catalyst db upgrade`: apply pending migrations; returns a one-line report."""
    url = database_url(settings)
    await asyncio.to_thread(upgrade_database, url)
    return f"database at {redact_url(url)} is up to date ({_where(settings)})"


async def run_demo(
    settings: Settings, *, day: date | None, database_url: str | None = None
) -> tuple[DaySummary, Settings]:
    """`catalyst demo`: `run_simulated_day` on isolated state (see `demo_settings`), under the
    demo's own state-dir lock. Returns the summary and the settings the demo ran with."""
    isolated = demo_settings(settings)
    lock = StateDirLock(isolated.trading.paths.state_dir, what="demo")
    lock.acquire(LockHolder.this_process(RealClock().now()))
    try:
        summary = await run_simulated_day(isolated, day=day, database_url=database_url)
    finally:
        lock.release()
    return summary, isolated


def demo_settings(settings: Settings) -> Settings:
    """`settings` with its state (database, pause and flatten files, lock) moved to
    `<state_dir>/demo`: a demo never reads, consumes or is paused by a real daemon's files."""
    paths = settings.trading.paths.model_copy(
        update={"state_dir": absolute_state_dir(settings) / DEMO_STATE_SUBDIR, "pause_file": None}
    )
    trading = settings.trading.model_copy(update={"paths": paths})
    return settings.model_copy(update={"trading": trading})


async def run_simulated_day(
    settings: Settings,
    *,
    day: date | None,
    database_url: str | None = None,
    prepare_market: Callable[[SimBroker, TradingSession], None] | None = None,
) -> DaySummary:
    """`catalyst demo`: one full trading session of the real daemon on a simulated clock.

    `prepare_market` may script the simulated market before the day starts (tests use it to
    provoke a crash and the daily loss limit).
    """
    calendar = ExchangeCalendar()
    session = _session_to_simulate(calendar, day)
    clock = simulation_clock(session)
    url = database_url if database_url is not None else _fresh_demo_database(settings)
    broker = build_sim_broker(settings.trading.simulation, calendar, clock)
    if prepare_market is not None:
        prepare_market(broker, session)
    return await simulate_session(settings, session, clock, broker, url)


def simulation_clock(session: TradingSession) -> SimClock:
    """A simulated clock at the start of a simulated session (before the pre-market scan)."""
    return SimClock(datetime.combine(session.day, SIMULATION_START, tzinfo=EXCHANGE_TZ))


async def simulate_session(
    settings: Settings, session: TradingSession, clock: SimClock, broker: Broker, url: str
) -> DaySummary:
    """Run the whole daemon over `session` on `clock` with any broker (the simulator in-process,
    or the Alpaca adapter talking to the fake Alpaca server on the same clock)."""
    calendar = ExchangeCalendar()
    await asyncio.to_thread(upgrade_database, url)
    components = await build_components(
        settings,
        clock=clock,
        broker=broker,
        calendar=calendar,
        notifier=build_notifier(settings, clock=clock),
        database_url=url,
        entries_stopped=lambda: supervisor.stopping,
    )
    supervisor = Supervisor(
        components,
        systemd=SystemdNotifier.from_environment({}),
        simulated_until=session.close + SIMULATION_TAIL,
    )
    try:
        await supervisor.run()
        return await summarise_day(components.store, components.broker, session)
    finally:
        await components.close()


def _session_to_simulate(calendar: ExchangeCalendar, day: date | None) -> TradingSession:
    if day is None:
        today = RealClock().now().astimezone(EXCHANGE_TZ).date()
        return calendar.previous_session(today)
    try:
        session = calendar.session(day)
    except ValueError as exc:  # outside the years the calendar covers
        raise InvalidArgument(f"--date: {exc}: pick a day within it") from exc
    if session is None:
        raise InvalidArgument(
            f"--date: {day.isoformat()} is not a trading day on the exchange calendar "
            "(a weekend or a holiday): pick a session day"
        )
    return session


def _fresh_demo_database(settings: Settings) -> str:
    state_dir = settings.trading.paths.state_dir
    path = state_dir / "demo.db"
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise unusable_path(exc, "state directory", state_dir) from exc
    return f"sqlite+aiosqlite:///{path}"


async def run_live_daemon(
    settings: Settings,
    config_dir: Path,
    *,
    simulated_clock: AcceleratedClock | None = None,
    stop: StopRequest | None = None,
) -> None:
    """`catalyst run`. Before anything else, the stop signals and the state dir's lock.

    From the first moment on, SIGTERM and SIGINT request `stop` (start-up included; see
    `catalyst.daemon.stopping` for what happens then and the bound on it). A second daemon on
    the same state dir stops here with `InstanceLocked` naming the holder (see `_trade_live`).
    """
    stop = stop if stop is not None else StopRequest()
    with stop.on_signals(asyncio.get_running_loop()):
        state_dir = absolute_state_dir(settings)
        holder = LockHolder.this_process(RealClock().now())
        state_lock = StateDirLock(state_dir)
        state_lock.acquire(holder)
        log.info("state dir locked", state_dir=str(state_dir), lock_file=str(state_lock.path))
        try:
            await _trade_live(settings, config_dir, simulated_clock, holder, stop)
        except StopDuringStartup:
            log.info("stopped during start-up; nothing traded", reason=stop.reason)
        finally:
            state_lock.release()


async def _trade_live(
    settings: Settings,
    config_dir: Path,
    simulated_clock: AcceleratedClock | None,
    holder: LockHolder,
    stop: StopRequest,
) -> None:
    """`catalyst run`: the daemon on the wall clock, as systemd starts it.

    With `simulated_clock` (tests and rehearsals: `catalyst run --simulated-clock`) the daemon
    runs on that accelerated timeline instead, drives its schedule with the simulated driver
    (APScheduler reads the wall clock) and stops by itself shortly after that day's close.
    `CATALYST_FAILPOINTS` in the environment arms crash points (crash-safety tests only).
    """
    clock: Clock = RealClock() if simulated_clock is None else simulated_clock
    exchange_calendar = ExchangeCalendar()
    until = None if simulated_clock is None else _simulated_end(exchange_calendar, simulated_clock)
    broker = _broker_for(settings, exchange_calendar, clock)
    # Session times as the broker itself reports them (Alpaca's calendar in paper and live).
    calendar = BrokerSessionCalendar(broker, exchange_calendar)
    systemd = SystemdNotifier.from_environment(os.environ)
    notifier = build_notifier(settings, clock=clock)
    failpoints = _failpoints()
    # A stop ends these waits at once (StopDuringStartup): the start-up work is abandoned.
    wait = StartupWait(clock=clock, stop=stop, systemd=systemd, notifier=notifier)
    # Start-up's own alerts (broker or database unreachable) go out before the supervisor runs.
    early_alerts = asyncio.create_task(notifier.deliver_forever(), name="start-up alerts")
    try:
        await wait.until_available(
            Dependency.BROKER, lambda: _read_broker_calendar(calendar, clock)
        )
        components = await wait.until_available(
            Dependency.DATABASE,
            lambda: build_components(
                settings,
                clock=clock,
                broker=broker,
                calendar=calendar,
                notifier=notifier,
                database_url=database_url(settings),
                # Entries also stop while the account lock is not (or no longer) held.
                entries_stopped=lambda: (
                    stop.requested or not (account_lock is None or account_lock.held)
                ),
                failpoints=failpoints,
            ),
        )
    finally:
        early_alerts.cancel()
        await asyncio.wait([early_alerts])  # the supervisor's delivery task takes over
    try:
        account_lock = await stop.unless_requested(_lock_account(settings, broker, holder))
    except BaseException:
        await keep_unsent_alerts(components.notifier)  # the start-up waits' alerts, say
        await components.close()
        raise
    heartbeat = Heartbeat(
        components.store,
        RealClock(),  # liveness is judged on the operator's wall clock, whatever the daemon's
        host=holder.host,
        state_dir=str(absolute_state_dir(settings)),
        pid=holder.pid,
        version=__version__,
        stopping=lambda: supervisor.stopping,
    )
    supervisor = Supervisor(
        components,
        systemd=systemd,
        stop=stop,
        simulated_until=until,
        watchdog_seconds=watchdog_interval(os.environ),
        refresh_calendar=calendar.refresh,
        heartbeat=heartbeat,
        account_lock=account_lock,
        freeze_heap=True,  # this process runs one supervisor: start-up's heap stays for good
    )
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(
        signal.SIGHUP, lambda: _reload(components, supervisor, systemd, config_dir)
    )
    try:
        await supervisor.run()
    except BrokerAccessDenied:
        raise  # keeps its class: the exit code tells systemd a restart cannot help
    except OperationalError as exc:
        raise OperationalError(f"not trading: {exc}") from exc
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        try:  # within the stop's bound, whatever the database does
            async with asyncio.timeout(CLOSE_SECONDS):
                await _close(heartbeat, account_lock, components)
        except TimeoutError:
            log.error("shutdown did not finish closing the database", seconds=CLOSE_SECONDS)
    if account_lock is not None and account_lock.lost is not None:
        raise account_lock.lost


async def _close(
    heartbeat: Heartbeat, account_lock: AccountLock | None, components: Components
) -> None:
    await heartbeat.sign_off()
    if account_lock is not None:
        await account_lock.release()
    await components.close()


async def _lock_account(
    settings: Settings, broker: Broker, holder: LockHolder
) -> AccountLock | None:
    """On PostgreSQL, the advisory lock of the broker's account, so that two hosts sharing one
    database cannot both trade it. None on SQLite: a local file, one host's journal."""
    url = database_url(settings)
    if make_url(url).get_backend_name() != "postgresql":
        return None
    try:
        account = await broker.get_account()
    except BrokerError as exc:
        raise OperationalError(f"not trading: cannot read the broker account: {exc}") from exc
    lock = AccountLock(url, account.account_number or "unnamed-account", holder)
    await lock.acquire()
    log.info("account locked", account=lock.account)
    return lock


def absolute_state_dir(settings: Settings) -> Path:
    """The state dir every command acts on and reports, as an absolute path."""
    return settings.trading.paths.state_dir.absolute()


async def _read_broker_calendar(calendar: BrokerSessionCalendar, clock: Clock) -> None:
    """The broker's sessions from today on. A temporary failure propagates (start-up waits for
    the broker); a refused API key stays BrokerAccessDenied; any other refusal stops start-up."""
    try:
        await calendar.refresh(clock.now().astimezone(EXCHANGE_TZ).date())
    except RetryableBrokerError:
        raise
    except BrokerError as exc:
        raise OperationalError(f"not trading: cannot read the broker's calendar: {exc}") from exc


def _failpoints() -> Failpoints:
    try:
        return Failpoints.from_environment(os.environ)
    except ValueError as exc:
        raise ConfigError("environment", "CATALYST_FAILPOINTS", str(exc)) from exc


def _simulated_end(calendar: ExchangeCalendar, clock: AcceleratedClock) -> datetime:
    """A little past the close of the session on the simulated clock's start date."""
    day = clock.sim_start.astimezone(EXCHANGE_TZ).date()
    session = calendar.session(day)
    if session is None:
        raise CatalystError(f"simulated clock starts on {day}, not a trading day")
    return session.close + SIMULATION_TAIL


def _reload(
    components: Components, supervisor: Supervisor, systemd: SystemdNotifier, config_dir: Path
) -> None:
    systemd.reloading()
    try:
        fresh = load_settings(config_dir, os.environ)
    except ConfigError as exc:
        log.error("config reload rejected; keeping the running configuration", error=str(exc))
    else:
        for warning in fresh.warnings:
            log.warning("config warning", warning=warning)
        if fresh.trading.logging != components.settings.trading.logging:
            configure_logging(fresh.trading.logging.level, fresh.trading.logging.format)
        reload = supervisor.apply_settings(fresh)
        log.info(
            "configuration reloaded",
            changed=list(reload.changed),
            needs_restart=list(reload.needs_restart),
        )
        if reload.needs_restart:
            log.warning(
                "configuration keys changed that take effect only after a restart; their "
                "running values are kept",
                needs_restart=list(reload.needs_restart),
            )
    systemd.ready()


@contextlib.asynccontextmanager
async def _journal(settings: Settings) -> AsyncIterator[Store]:
    """The configured journal, checked to be migrated, for a command that reads it."""
    engine = make_engine(database_url(settings))
    try:
        await check_schema_current(engine)
        yield Store(make_session_factory(engine))
    finally:
        await engine.dispose()


async def read_status(settings: Settings) -> StatusReport:
    """`catalyst status`: what the journal and the pause flag say, secrets never included."""
    async with _journal(settings) as store:
        return await collect_status(
            settings,
            store,
            RealClock(),
            ExchangeCalendar(),
            host=socket.gethostname(),
            state_dir=absolute_state_dir(settings),
        )


async def read_cycles(settings: Settings, day: date | None) -> CycleList:
    """`catalyst cycles`: the day's cycles (default: today in New York) with their funnels."""
    chosen = day if day is not None else RealClock().now().astimezone(EXCHANGE_TZ).date()
    async with _journal(settings) as store:
        return CycleList(chosen, tuple(await store.cycles_for_day(chosen)))


async def serve_dashboard(settings: Settings, port: int, announce: Callable[[str], None]) -> None:
    """`catalyst web`: the read-only dashboard on 127.0.0.1:`port` until SIGINT/SIGTERM."""
    sock = bind_loopback(port)
    try:
        async with _journal(settings) as store:
            source = JournalSource(
                settings,
                store,
                RealClock(),
                ExchangeCalendar(),
                host=socket.gethostname(),
                state_dir=absolute_state_dir(settings),
            )
            announce(
                f"dashboard on http://127.0.0.1:{sock.getsockname()[1]}/ (read-only; "
                f"{_where(settings)}); Ctrl-C stops it"
            )
            await serve(build_app(source), sock)
    finally:
        sock.close()


async def read_day_report(settings: Settings, day: date | None) -> DayReport:
    """`catalyst report`: the trading day (default: today in New York) from the journal."""
    chosen = day if day is not None else RealClock().now().astimezone(EXCHANGE_TZ).date()
    session = ExchangeCalendar().session(chosen)
    async with _journal(settings) as store:
        return await load_day_report(
            store, chosen, environment=settings.trading.broker.environment.value, session=session
        )


def write_report_html(report: DayReport, path: Path) -> Path:
    """`catalyst report --html PATH`: the report as one self-contained page (the chart inline
    as a `data:` URI); returns the absolute path written."""
    png = equity_chart_png(report)
    page = render_html(report, chart_src=None if png is None else png_data_uri(png))
    target = path.absolute()
    if not target.parent.is_dir():
        raise InvalidArgument(f"--html {target}: the directory {target.parent} does not exist")
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise StorageUnusable(f"--html {target}: cannot write it: {exc.strerror or exc}") from exc
    return target


async def read_cycle(settings: Settings, cycle_id: str) -> CycleDetail:
    """`catalyst cycles show ID`: one cycle and its scan results at every stage; an unknown id
    is `InvalidArgument` (the operator's to correct)."""
    async with _journal(settings) as store:
        cycle = await store.get_cycle(cycle_id)
        if cycle is None:
            raise InvalidArgument(
                f"no cycle {cycle_id!r} in the journal ({_where(settings)}); "
                f"`catalyst cycles --date {_day_of_cycle_id(cycle_id)}` lists a day's cycles"
            )
        return CycleDetail(cycle, tuple(await store.scan_results_for_cycle(cycle_id)))


async def dry_run_scan(
    settings: Settings, at: datetime | None, *, wall_clock: Clock | None = None
) -> DryRun:
    """`catalyst scan --dry-run`: one scan cycle's funnel against the configured broker, with
    the bracket each pick would be sized to; nothing is ordered and nothing is journaled (no
    database is opened).

    The simulator scans at `at` (default: now on `wall_clock`, the real one unless given) on a
    simulated clock. Alpaca scans now, as its own market clock reads it (the wall clock's moment;
    against the fake server, its simulated one), and `at` is refused. Outside the day's scan
    window (its first scan, the pre-market one, up to the close) `InvalidArgument` says the
    market is closed.
    """
    clock = wall_clock if wall_clock is not None else RealClock()
    exchange_calendar = ExchangeCalendar()
    broker: Broker
    if settings.trading.broker.kind == "sim":
        when = at if at is not None else clock.now()
        broker = build_sim_broker(settings.trading.simulation, exchange_calendar, SimClock(when))
        name = "simulator"
    else:
        if at is not None:
            raise InvalidArgument(
                "--at picks the simulator's moment; Alpaca scans now: leave it out"
            )
        from catalyst.brokers.alpaca import build_alpaca_broker  # alpaca-py loads only when used

        when = (await build_alpaca_broker(settings, clock).get_market_clock()).timestamp
        # The adapter's market-data windows run on the broker's time from that reading on (real
        # Alpaca's is the wall clock's; the fake server's, its simulated one).
        alpaca = build_alpaca_broker(settings, AcceleratedClock(when, clock.now(), 1.0))
        broker, name = alpaca, f"Alpaca {'LIVE' if alpaca.live else 'paper'}"
    local = when.astimezone(EXCHANGE_TZ)
    session = await broker.get_session(local.date())
    plan = None if session is None else plan_for(session, settings.trading)
    opens = None if plan is None else min((*plan.scan_times, plan.session.open))
    if plan is None or opens is None or not opens <= when < plan.session.close:
        hours = "" if plan is None else f" (scans run {opens:%H:%M}-{plan.session.close:%H:%M})"
        hint = (
            "; the simulator scans any moment of a session: --at 'YYYY-MM-DD HH:MM' (New York)"
            if at is None and name == "simulator"
            else ""
        )
        raise InvalidArgument(
            f"the market is closed at {local:%a %Y-%m-%d %H:%M} New York{hours}: "
            f"nothing to scan{hint}"
        )
    assets = with_sectors(await broker.list_assets(), settings.sector_overrides)
    scan = FunnelScan(broker=broker, calendar=exchange_calendar, settings=settings)
    outcome = await scan.scan(plan, when, assets)
    account = await broker.get_account()
    brackets: dict[str, dict[str, str]] = {}
    unsized: dict[str, str] = {}
    for pick in outcome.selected:
        sized = plan_bracket(
            priced_at_limit(pick),  # as the cycle sizes it: at the marketable limit
            account_equity=account.equity,
            buying_power=account.buying_power,
            limits=settings.risk.risk_limits,
            workflow=settings.trading.workflow,
        )
        if isinstance(sized, Rejected):
            unsized[pick.symbol] = sized.reason
        else:
            brackets[pick.symbol] = bracket_fields(sized)
    rows = [
        replace(r, plan=brackets[r.symbol])
        if r.stage is FunnelStage.RANKED and r.symbol in brackets
        else r
        for r in outcome.rows
    ]
    scan_type = scan_type_at(plan, when)
    # What the cycle decides before sizing: at such a moment none is ordered.
    held_back = entry_block_reason(settings.trading.trading_session.mode, plan, when)
    return DryRun(
        at=when,
        broker=name,
        scan_type=scan_type,
        funnel=outcome.funnel,
        skipped=outcome.skipped,
        results=tuple(
            to_records(
                rows, cycle_id="dry-run", at=when, scan_type=scan_type, volumes=outcome.volumes
            )
        ),
        unsized=unsized,
        held_back=held_back,
        equity=account.equity,
        buying_power=account.buying_power,
    )


def _day_of_cycle_id(cycle_id: str) -> str:
    """The day a cycle id such as `20261124-0930` names, to list; else the option's form."""
    try:
        return date.fromisoformat(cycle_id[:8]).isoformat()  # 3.11 reads YYYYMMDD too
    except ValueError:
        return "YYYY-MM-DD"


def pause_entries(settings: Settings, *, reason: str, by: str) -> Path:
    """`catalyst pause`: create the pause flag file; returns its absolute path."""
    flag = PauseFlag(settings.trading.paths.resolved_pause_file.absolute())
    flag.set(reason, by, RealClock().now())
    return flag.path


@dataclass(frozen=True, slots=True)
class FlattenOutcome:
    """What `catalyst flatten` did: the request it left, and whether a daemon will act on it."""

    path: Path
    max_age: timedelta
    presence: DaemonPresence | None  # None: the journal could not be read
    unknown_because: str | None = None
    elsewhere: tuple[DaemonPresence, ...] = ()

    @property
    def daemon_alive(self) -> bool:
        """True when a live daemon watches this state dir."""
        return self.presence is not None and self.presence.alive

    def render(self) -> str:
        """The lines the CLI prints."""
        seconds = f"{self.max_age.total_seconds():.0f} s"
        lines = [f"flatten requested: {self.path} (it expires in {seconds})"]
        if self.daemon_alive and self.presence is not None:
            lines.append(f"daemon {self.presence.describe()}: it acts within seconds")
            return "\n".join(lines)
        if self.presence is None:
            lines.append(f"cannot tell whether a daemon is running: {self.unknown_because}")
        else:
            lines.append(f"NO live daemon watches this state dir ({self.presence.describe()})")
        lines += [
            f"a daemon on host {p.beat.host} with state dir {p.beat.state_dir} is alive but "
            "does not read this request"
            for p in self.elsewhere
            if p.beat is not None
        ]
        lines.append(f"nothing is flattened unless a daemon starts within {seconds}")
        return "\n".join(lines)


async def request_flatten(settings: Settings, *, reason: str, by: str) -> FlattenOutcome:
    """`catalyst flatten`: leave a flatten request, then ask the journal's heartbeats whether a
    live daemon watches this state dir to act on it."""
    state_dir = absolute_state_dir(settings)
    max_age = timedelta(seconds=settings.trading.trading_session.flatten_request_max_age_seconds)
    request = FlattenRequest(state_dir, max_age=max_age)
    now = RealClock().now()
    request.submit(reason, by, now)
    host = socket.gethostname()
    engine = make_engine(database_url(settings))
    try:
        await check_schema_current(engine)
        beats = await Store(make_session_factory(engine)).heartbeats()
    except CatalystError as exc:
        return FlattenOutcome(request.path, max_age, None, unknown_because=str(exc))
    finally:
        await engine.dispose()
    return FlattenOutcome(
        request.path,
        max_age,
        presence_for(beats, host, str(state_dir), now),
        elsewhere=tuple(others_alive(beats, host, str(state_dir), now)),
    )


async def resume_trading(settings: Settings, *, ack: str | None, by: str) -> str:
    """`catalyst resume`: clear the pause flag; with an acknowledgement, clear a HALT."""
    flag = PauseFlag(settings.trading.paths.resolved_pause_file.absolute())
    engine = make_engine(database_url(settings))
    try:
        await check_schema_current(engine)
        store = Store(make_session_factory(engine))
        state = await store.get_trading_state()
        if state.is_halted:
            if not ack or not ack.strip():
                raise CatalystError(
                    f"trading is HALTED ({state.reason}); clearing it needs "
                    "`catalyst resume --ack '<why it is safe to trade again>'`"
                )
            now = RealClock().now()
            if await store.resume(ack.strip(), by, now):
                await _alert_from_cli(settings, store, events.resumed(ack.strip(), by, now))
        cleared = flag.clear()
    finally:
        await engine.dispose()
    parts = []
    if state.is_halted:
        parts.append(f"halt cleared by {by}")
    parts.append("pause flag removed" if cleared else "no pause flag was set")
    return "; ".join(parts) + f": new entries allowed ({_where(settings)})"


async def halt_trading(settings: Settings, *, reason: str, by: str) -> str:
    """`catalyst halt`: latch HALTED in the database (the daemon stops entering within seconds)."""
    if not reason.strip():
        raise InvalidArgument("--reason: a halt needs a reason (it is recorded): say why")
    engine = make_engine(database_url(settings))
    try:
        await check_schema_current(engine)
        store = Store(make_session_factory(engine))
        now = RealClock().now()
        if await store.halt(reason, by, now):
            await _alert_from_cli(settings, store, events.halted(reason, by, now))
    finally:
        await engine.dispose()
    return (
        f"HALTED by {by}: {reason}. Clear with: catalyst resume --ack '<why>' ({_where(settings)})"
    )


async def _alert_from_cli(settings: Settings, store: Store, alert: Alert) -> None:
    """Send a command's alert now, bounded; what did not go out waits in the alert journal
    for the daemon's next start."""
    notifier = build_notifier(settings, clock=RealClock())
    notifier.attach_journal(store, load_backlog=False)  # the daemon's pending alerts are its own
    notifier.submit(alert)
    try:
        async with asyncio.timeout(CLI_ALERT_SECONDS):
            await notifier.drain()
    except TimeoutError:
        log.warning("alert not sent in time; left in the alert journal", seconds=CLI_ALERT_SECONDS)
    await notifier.journal_pending()


def _where(settings: Settings) -> str:
    """Where a command acted: the absolute state dir and the database (password masked)."""
    return (
        f"state dir {absolute_state_dir(settings)}, database {redact_url(database_url(settings))}"
    )


async def read_proposals(
    settings: Settings, *, everything: bool = False, clock: Clock | None = None
) -> ProposalList:
    """`catalyst proposals`: the supervised entries waiting for a decision (with `everything`,
    today's proposals whatever became of them)."""
    now = (clock if clock is not None else RealClock()).now()
    async with _journal(settings) as store:
        if everything:
            today = now.astimezone(EXCHANGE_TZ).date()
            found = await store.proposals(since=datetime.combine(today, time(), tzinfo=EXCHANGE_TZ))
        else:
            found = await store.proposals({ProposalStatus.PENDING})
    return ProposalList(now, tuple(found), _where(settings), everything=everything)


async def decide_proposal(
    settings: Settings,
    typed_id: str,
    decision: ProposalStatus,
    *,
    by: str,
    note: str | None = None,
    clock: Clock | None = None,
) -> str:
    """`catalyst approve ID` / `catalyst reject ID`: record a person's decision in the journal
    (a running daemon acts on an approval within seconds). An unknown id is `InvalidArgument`;
    one expired or decided already is a `CatalystError` saying so: nothing changes then."""
    proposal_id = normalise_proposal_id(typed_id)
    at = (clock if clock is not None else RealClock()).now()
    async with _journal(settings) as store:
        applied, proposal = await store.decide_proposal(
            proposal_id, decision, by=by, at=at, note=note
        )
    if proposal is None:
        raise InvalidArgument(
            f"no proposal {typed_id.strip()!r} in the journal ({_where(settings)}); "
            "`catalyst proposals` lists the ones waiting"
        )
    what = (
        f"{proposal.proposal_id} (buy {proposal.qty} {proposal.symbol} at "
        f"{price_text(proposal.entry_price)}, stop {price_text(proposal.stop_price)}, "
        f"target {price_text(proposal.target_price)})"
    )
    if applied and decision is ProposalStatus.APPROVED:
        return (
            f"approved {what} by {by}: the daemon checks it again and sends it within seconds, "
            f"unless it expires first at {_ny(proposal.expires_at)} ({_where(settings)})"
        )
    if applied:
        return f"rejected {what} by {by}: it will not be sent ({_where(settings)})"
    if proposal.status in (ProposalStatus.PENDING, ProposalStatus.EXPIRED):
        raise CatalystError(
            f"proposal {what} expired at {_ny(proposal.expires_at)}: not {decision}, "
            "and it will never be sent"
        )
    decided = (
        f" by {proposal.decided_by} at {_ny(proposal.decided_at)}"
        if proposal.decided_by is not None
        else ""
    )
    outcome = f": {proposal.outcome}" if proposal.outcome else ""
    raise CatalystError(
        f"proposal {what} is already {proposal.status}{decided}{outcome}; nothing changed"
    )


def _ny(when: datetime | None) -> str:
    return "?" if when is None else f"{when.astimezone(EXCHANGE_TZ):%H:%M:%S} New York"
