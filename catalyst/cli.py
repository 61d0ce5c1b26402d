"""The `catalyst` command line: thin wrappers over the daemon's entry points.

Every failure ends as one line on stderr and an exit code from `catalyst.exit_codes`, never a
traceback: a usage mistake, a Catalyst error (bad config, unreachable or unmigrated database, broker
refusal), and even a bug, which the last-resort handler reports as such (CATALYST_DEBUG=1 shows its
traceback; the daemon also logs it to its journal).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
import traceback
from collections.abc import Coroutine
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import structlog

from catalyst import __version__
from catalyst.config.loader import describe_settings, load_settings
from catalyst.config.models import Settings
from catalyst.domain.errors import CatalystError, ConfigError
from catalyst.exit_codes import ExitCode, exit_code_for
from catalyst.logs import configure_logging
from catalyst.redaction import redact_urls_in
from catalyst.store.urls import async_database_url

T = TypeVar("T")

DEBUG_VARIABLE = "CATALYST_DEBUG"  # =1: let an unexpected error's traceback through

config_option = click.option(
    "--config",
    "config_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=lambda: os.environ.get("CATALYST_CONFIG_DIR", "config"),
    show_default="config (or $CATALYST_CONFIG_DIR)",
    help="Directory holding trading_config.yaml and risk_parameters.yaml.",
)


trading_day_option = click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Trading day, YYYY-MM-DD (default: today in New York).",
)


def _clock_spec(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """Parse a `--simulated-clock` value (see `parse_clock_spec`), None when not given."""
    if value is None:
        return None
    from catalyst.timekeeping.clock import parse_clock_spec

    try:
        return parse_clock_spec(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


simulated_clock_option = click.option(
    "--simulated-clock",
    "simulated_clock",
    metavar="SIM_START@WALL_ANCHORxSPEED",
    default=None,
    callback=_clock_spec,
    help=(
        "For tests and rehearsals only: run on an accelerated simulated clock, e.g. "
        "2026-11-24T09:25:00-05:00@2026-11-25T12:40:00+00:00x60 (simulated 09:25 when the "
        "wall clock reads the anchor, 60 times faster). Processes given the same value share "
        "one timeline."
    ),
)


def _non_blank(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Refuse an empty or blank text (a `--reason` is recorded and must say something)."""
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty: say why (it is recorded)")
    return value


def _async_database_url(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    """A `--database-url` on the async driver (`sqlite:///x` is accepted), or a usage error."""
    if value is None:
        return None
    try:
        return async_database_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"catalyst: {redact_urls_in(message)}", err=True)  # an error may quote a URL
    sys.exit(code)


def _unexpected(exc: Exception, command: str | None) -> NoReturn:
    """The last resort: a bug. One line, unless CATALYST_DEBUG=1 asks for the traceback."""
    if os.environ.get(DEBUG_VARIABLE) == "1":
        raise exc
    if command == "run":  # the daemon's log is the journal: keep the traceback there
        structlog.get_logger(__name__).error("unexpected error", exc_info=exc)
    # The type and where it happened, not the message: that might quote a secret (a URL).
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    _fail(
        f"unexpected error ({type(exc).__name__}{where}); this is a bug, please report it "
        f"with the output of the same command run with {DEBUG_VARIABLE}=1",
        ExitCode.INTERNAL,
    )


class _OneLineErrors(click.Group):
    """The top-level group: every failure of a command ends as one line and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, mapping its failures onto `ExitCode`s."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "catalyst"
            click.echo(f"{where}: {exc.format_message()} (see `{where} --help`)", err=True)
            sys.exit(ExitCode.USAGE)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ConfigError as exc:
            _fail(f"config error: {exc}", exit_code_for(exc))
        except CatalystError as exc:
            _fail(str(exc), exit_code_for(exc))
        except Exception as exc:  # the last resort, see _unexpected
            _unexpected(exc, ctx.invoked_subcommand)


def _settings(config_dir: Path) -> Settings:
    settings = load_settings(config_dir, os.environ)  # a ConfigError ends in _OneLineErrors
    for warning in settings.warnings:
        click.echo(f"catalyst: config warning: {warning}", err=True)
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@click.group(cls=_OneLineErrors)
@click.version_option(__version__, prog_name="catalyst")
def main() -> None:
    """Catalyst: autonomous intraday trading daemon for US equities."""


@main.command()
@config_option
@simulated_clock_option
def run(config_dir: Path, simulated_clock: Any) -> None:
    """Run the daemon on the wall clock (what systemd starts).

    With --simulated-clock it trades the simulated day instead and exits shortly after that
    day's close.
    """
    from catalyst.daemon.stopping import (
        StopRequest,
        arm_exit_deadline,
        exit_on_stop_signals_until_running,
        exiting_promptly,
        run_daemon_loop,
    )

    exit_on_stop_signals_until_running()  # first: the imports and the config take seconds
    from catalyst.daemon.entry import run_live_daemon

    settings = _settings(config_dir)
    configure_logging(settings.trading.logging.level, settings.trading.logging.format)
    stop = StopRequest()
    stop.on_request(arm_exit_deadline)  # the bound holds even if something ignores the stop
    with exiting_promptly():
        run_daemon_loop(
            run_live_daemon(settings, config_dir, simulated_clock=simulated_clock, stop=stop)
        )


@main.command()
@config_option
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Trading day to simulate (default: the last completed session).",
)
@click.option(
    "--database-url",
    default=None,
    envvar="CATALYST_DEMO_DATABASE_URL",
    callback=_async_database_url,
    help="Database for the demo (default: a fresh SQLite file in the state directory).",
)
@click.option("--quiet", is_flag=True, help="Only print the summary.")
def demo(config_dir: Path, day: Any, database_url: str | None, quiet: bool) -> None:
    """Run one full simulated trading session in seconds (SQLite + exchange simulator)."""
    from catalyst.daemon.entry import run_demo

    settings = _settings(config_dir)
    configure_logging(
        "WARNING" if quiet else settings.trading.logging.level,
        settings.trading.logging.format,
        stream=sys.stderr,
    )
    chosen: date | None = day.date() if day is not None else None
    summary, isolated = _run(run_demo(settings, day=chosen, database_url=database_url))
    if not quiet:
        click.echo(f"demo state dir (isolated): {isolated.trading.paths.state_dir}", err=True)
    click.echo(summary.render())


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(config_dir: Path, as_json: bool) -> None:
    """Daemon, trading state, account, positions with stops, orders, fills, next scan."""
    from catalyst.daemon.entry import read_status
    from catalyst.reporting.status_render import print_status

    settings = _settings(config_dir)
    report = _run(read_status(settings))
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        print_status(report)


@main.group(invoke_without_command=True)
@config_option
@trading_day_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def cycles(ctx: click.Context, config_dir: Path, day: Any, as_json: bool) -> None:
    """The day's scan cycles with their funnels; `cycles show ID` explains one of them."""
    if ctx.invoked_subcommand is not None:
        if day is not None:
            raise click.UsageError("--date lists a day's cycles; `show` takes a cycle id only")
        ctx.obj = (config_dir, as_json)  # `cycles --config X show ID` means what it says
        return
    from catalyst.daemon.entry import read_cycles

    settings = _settings(config_dir)
    report = _run(read_cycles(settings, day.date() if day is not None else None))
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.render())


@cycles.command("show")
@click.argument("cycle_id")
@click.option(
    "--config",
    "config_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory holding trading_config.yaml and risk_parameters.yaml (as for `cycles`).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def cycles_show(
    group: tuple[Path, bool], cycle_id: str, config_dir: Path | None, as_json: bool
) -> None:
    """One cycle's candidates at every stage, and why each went on or dropped out."""
    from catalyst.daemon.entry import read_cycle

    group_config_dir, group_json = group
    settings = _settings(config_dir if config_dir is not None else group_config_dir)
    report = _run(read_cycle(settings, cycle_id))
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json or group_json else report.render())


@main.command()
@config_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port, printed at start).",
)
def web(config_dir: Path, port: int) -> None:
    """The read-only web dashboard on 127.0.0.1: state, positions, cycles, risk events."""
    from catalyst.daemon.entry import serve_dashboard

    settings = _settings(config_dir)
    _run(serve_dashboard(settings, port, lambda line: click.echo(line, err=True)))


@main.command()
@config_option
@click.option(
    "--all", "everything", is_flag=True, help="Today's proposals, whatever became of them."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def proposals(config_dir: Path, everything: bool, as_json: bool) -> None:
    """Supervised mode: the entries waiting for a decision, time left, and the commands."""
    from catalyst.daemon.entry import read_proposals

    settings = _settings(config_dir)
    report = _run(read_proposals(settings, everything=everything))
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.render())


@main.command()
@config_option
@click.argument("proposal_id")
def approve(config_dir: Path, proposal_id: str) -> None:
    """Approve a proposed entry: the daemon checks it again and sends it within seconds."""
    from catalyst.daemon.entry import decide_proposal
    from catalyst.domain.proposals import ProposalStatus

    settings = _settings(config_dir)
    click.echo(
        _run(decide_proposal(settings, proposal_id, ProposalStatus.APPROVED, by=_operator()))
    )


@main.command()
@config_option
@click.argument("proposal_id")
@click.option("--reason", default=None, callback=_non_blank, help="Why not (recorded).")
def reject(config_dir: Path, proposal_id: str, reason: str | None) -> None:
    """Reject a proposed entry: it is never sent."""
    from catalyst.daemon.entry import decide_proposal
    from catalyst.domain.proposals import ProposalStatus

    settings = _settings(config_dir)
    click.echo(
        _run(
            decide_proposal(
                settings, proposal_id, ProposalStatus.REJECTED, by=_operator(), note=reason
            )
        )
    )


@main.command()
@config_option
@trading_day_option
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the report as a self-contained HTML page (chart inline) to this file.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def report(config_dir: Path, day: Any, html_path: Path | None, as_json: bool) -> None:
    """The day's trades, P&L, win rate, drawdown, cycles and risk events."""
    from catalyst.daemon.entry import read_day_report, write_report_html

    settings = _settings(config_dir)
    day_report = _run(read_day_report(settings, day.date() if day is not None else None))
    click.echo(json.dumps(day_report.as_dict(), indent=2) if as_json else day_report.render())
    if html_path is not None:
        written = write_report_html(day_report, html_path)
        click.echo(f"HTML report written to {written}", err=as_json)


LIVE_SCAN_ONLY_IN_RUN = (
    "a live scan only happens inside `catalyst run` (it may place orders); "
    "`catalyst scan --dry-run` scans once and places nothing"
)


@main.command()
@config_option
@click.option(
    "--dry-run", "dry_run", is_flag=True, help="Required: scan once, order and journal nothing."
)
@click.option(
    "--at",
    "at",
    type=click.DateTime(["%Y-%m-%d %H:%M"]),
    default=None,
    help="The simulator only: the moment to scan, 'YYYY-MM-DD HH:MM' New York time "
    "(default: now, if the market is open).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def scan(config_dir: Path, dry_run: bool, at: Any, as_json: bool) -> None:
    """Run one scan now against the configured broker and print its ranked picks.

    Prints the counts per funnel stage and the ranked shortlist (price, rel. volume, gap, news,
    pattern, RSI, score, confidence, and each pick's entry, stop and target). Places no order
    and writes nothing to the journal.
    """
    if not dry_run:
        _fail(LIVE_SCAN_ONLY_IN_RUN, ExitCode.USAGE)
    from catalyst.daemon.entry import dry_run_scan
    from catalyst.domain.exchange import EXCHANGE_TZ

    settings = _settings(config_dir)
    # The scan's log lines go to stderr, and only from WARNING: stdout is the table (or JSON).
    configure_logging("WARNING", settings.trading.logging.format, stream=sys.stderr)
    moment = at.replace(tzinfo=EXCHANGE_TZ) if at is not None else None
    report = _run(dry_run_scan(settings, moment))
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else report.render())


@main.command()
@config_option
@click.option(
    "--reason", required=True, callback=_non_blank, help="Why entries are paused (recorded)."
)
def pause(config_dir: Path, reason: str) -> None:
    """Stop new entries (risk-watch and flattener keep working) until `resume`."""
    from catalyst.daemon.entry import absolute_state_dir, pause_entries

    settings = _settings(config_dir)
    path = pause_entries(settings, reason=reason, by=_operator())
    where = absolute_state_dir(settings)
    click.echo(f"paused: new entries stop while {path} exists (state dir {where})")


@main.command()
@config_option
@click.option(
    "--ack", default=None, help="Acknowledgement that clears a HALT (required if halted)."
)
def resume(config_dir: Path, ack: str | None) -> None:
    """Remove the pause flag; with --ack, also clear an emergency HALT."""
    from catalyst.daemon.entry import resume_trading

    settings = _settings(config_dir)
    click.echo(_run(resume_trading(settings, ack=ack, by=_operator())))


@main.command()
@config_option
@click.option(
    "--reason", required=True, callback=_non_blank, help="Why trading is halted (recorded)."
)
def halt(config_dir: Path, reason: str) -> None:
    """Latch HALTED: no new entries until `resume --ack`. Does not close positions."""
    from catalyst.daemon.entry import halt_trading

    settings = _settings(config_dir)
    click.echo(_run(halt_trading(settings, reason=reason, by=_operator())))


@main.command()
@config_option
@click.option(
    "--reason",
    required=True,
    callback=_non_blank,
    help="Why everything is being closed (recorded).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def flatten(config_dir: Path, reason: str, yes: bool) -> None:
    """Ask the running daemon to cancel every order and close every position."""
    from catalyst.daemon.entry import request_flatten

    settings = _settings(config_dir)
    if not yes:
        click.confirm(
            f"Close ALL positions ({settings.trading.broker.environment.value.upper()})?",
            abort=True,
        )
    outcome = _run(request_flatten(settings, reason=reason, by=_operator()))
    click.echo(outcome.render())
    if not outcome.daemon_alive:
        sys.exit(ExitCode.NO_DAEMON)


@main.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@config_option
def db_upgrade(config_dir: Path) -> None:
    """Apply every pending migration to the configured database."""
    from catalyst.daemon.entry import upgrade_database_for

    settings = _settings(config_dir)
    click.echo(_run(upgrade_database_for(settings)))


@main.group()
def config() -> None:
    """Configuration tools."""


@config.command("check")
@config_option
def config_check(config_dir: Path) -> None:
    """Validate the configuration and print the effective values (secrets masked)."""
    settings = _settings(config_dir)
    click.echo(json.dumps(describe_settings(settings), indent=2, default=str))
    click.echo("configuration OK", err=True)


@main.group()
def broker() -> None:
    """Broker tools."""


@broker.command("check")
@config_option
def broker_check(config_dir: Path) -> None:
    """Connect to Alpaca and print account, market clock and today's session (no orders)."""
    from catalyst.brokers.alpaca import build_alpaca_broker
    from catalyst.domain.exchange import EXCHANGE_TZ
    from catalyst.timekeeping.clock import RealClock

    settings = _settings(config_dir)
    if settings.trading.broker.kind != "alpaca":
        _fail("broker check needs broker.kind: alpaca in trading_config.yaml", ExitCode.USAGE)

    async def check() -> list[str]:
        clock = RealClock()
        adapter = build_alpaca_broker(settings, clock)
        account = await adapter.get_account()
        market = await adapter.get_market_clock()
        today = clock.now().astimezone(EXCHANGE_TZ).date()
        session = await adapter.get_session(today)
        hours = (
            "closed today"
            if session is None
            else f"{session.open:%H:%M}-{session.close:%H:%M} America/New_York"
            + (" (early close)" if session.early_close else "")
        )
        stamp = "%Y-%m-%d %H:%M UTC"
        return [
            f"broker: Alpaca {'LIVE (real money)' if adapter.live else 'paper'}",
            f"account: {'TRADING BLOCKED' if account.trading_blocked else 'active'}",
            f"equity: {account.equity}  last equity: {account.last_equity}",
            f"cash: {account.cash}  buying power: {account.buying_power}",
            f"market: {'open' if market.is_open else 'closed'} at {market.timestamp:{stamp}};"
            f" next open {market.next_open:{stamp}}, next close {market.next_close:{stamp}}",
            f"session {today}: {hours}",
        ]

    for line in _run(check()):
        click.echo(line)


@main.command("fake-alpaca")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="TCP port.")
@config_option
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Simulated seconds per real second (1 = real time).",
)
@simulated_clock_option
def fake_alpaca(host: str, port: int, config_dir: Path, speed: float, simulated_clock: Any) -> None:
    """Serve a fake Alpaca (trading, market data, trade_updates) over the exchange simulator.

    --simulated-clock (tests, rehearsals) replaces --speed: the market starts at the clock's
    simulated date and time, on the same timeline as a `catalyst run` given the same value.
    """
    from catalyst.fake_alpaca.server import run_fake_alpaca

    settings = _settings(config_dir)
    _run(
        run_fake_alpaca(
            host,
            port,
            settings.trading.simulation,
            speed=speed,
            clock=simulated_clock,
            announce=click.echo,
        )
    )
