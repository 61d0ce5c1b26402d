"""The alerts Catalyst raises, built in one place so their headlines stay consistent.

Each function is pure: it takes the facts and the time (from the injected clock) and returns the
`Alert`; the caller hands it to the `Notifier`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from catalyst.domain.alerts import Alert, AlertKind, Severity, format_usd
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.proposals import EntryProposal
from catalyst.execution.flatten import FlattenResult
from catalyst.execution.reconcile import ReconcileReport

__all__ = [
    "daily_loss_warning",
    "dependency_back",
    "dependency_down",
    "emergency_stop",
    "halted",
    "halted_exposure",
    "reconciliation_corrections",
    "repeated_errors",
    "resumed",
    "shutdown",
    "startup",
]

RESUME_HINT = "Trading stays halted until a person runs: catalyst resume --ack '<why it is safe>'"


def _pnl(day_pnl: Decimal | None, limit: Decimal) -> str:
    shown = "unknown" if day_pnl is None else format_usd(day_pnl)
    return f"day P&L {shown} (limit -{format_usd(limit)})"


def daily_loss_warning(day_pnl: Decimal, limit: Decimal, pct: float, at: datetime) -> Alert:
    return Alert(
        kind=AlertKind.DAILY_LOSS_WARNING,
        severity=Severity.WARNING,
        headline=f"{_pnl(day_pnl, limit)}, {pct:.0%} of the limit reached",
        body=(
            f"The day's P&L is {format_usd(day_pnl)}, past the warning level ({pct:.0%}) of the "
            f"{format_usd(limit)} daily loss limit. At the limit the emergency stop halts "
            "trading and closes every position."
        ),
        at=at,
        dedup_key=at.date().isoformat(),
    )


def emergency_stop(
    reason: str,
    *,
    day_pnl: Decimal | None,
    limit: Decimal,
    result: FlattenResult | None,
    cancelled_only: bool,
    at: datetime,
) -> Alert:
    """`result` is the flattener's (None when positions were not to be closed)."""
    if result is None:
        book = "orders cancelled, positions kept" if cancelled_only else "book left as it is"
        detail = f"Positions were not closed (emergency_actions say so); {book}."
    elif result.flat:
        book = "book flat"
        closed = ", ".join(result.closed_symbols) or "none were open"
        detail = f"The broker reports the book FLAT. Closed: {closed}."
    else:
        book = f"NOT flat: {', '.join(result.remaining)} still open"
        detail = (
            f"The broker still reports open positions after {result.attempts} attempt(s): "
            f"{', '.join(result.remaining)}. The risk-watch keeps trying; check the account now."
        )
    return Alert(
        kind=AlertKind.EMERGENCY_STOP,
        severity=Severity.CRITICAL,
        headline=f"{_pnl(day_pnl, limit)}, {book}",
        body=f"{reason}\n\nTrading is HALTED. {detail}\n\n{RESUME_HINT}",
        at=at,
        dedup_key=book,
    )


def halted_exposure(message: str, at: datetime) -> Alert:
    return Alert(
        kind=AlertKind.HALTED_EXPOSURE,
        severity=Severity.CRITICAL,
        headline="closing what appeared while halted",
        body=message,
        at=at,
        dedup_key=message,
    )


def halted(reason: str, by: str, at: datetime) -> Alert:
    return Alert(
        kind=AlertKind.HALTED,
        severity=Severity.WARNING,
        headline=f"by {by}: {reason}",
        body=f"Trading was HALTED by {by}: {reason}\nNo new entries; positions are kept.\n\n"
        + RESUME_HINT,
        at=at,
        dedup_key=reason,
    )


def resumed(ack: str, by: str, at: datetime) -> Alert:
    return Alert(
        kind=AlertKind.RESUMED,
        severity=Severity.INFO,
        headline=f"by {by}",
        body=f"The halt was cleared by {by}: {ack}\nNew entries are allowed again.",
        at=at,
        dedup_key=ack,
    )


def reconciliation_corrections(report: ReconcileReport, at: datetime) -> Alert | None:
    """An alert when reconciliation had to correct the journal (None when it agreed)."""
    lines = []
    if report.positions_added:
        lines.append(f"positions found at the broker only: {', '.join(report.positions_added)}")
    if report.positions_removed:
        lines.append(f"positions gone at the broker: {', '.join(report.positions_removed)}")
    if report.orders_adopted:
        lines.append(f"orders adopted from the broker: {report.orders_adopted}")
    if report.protected:
        lines.append(f"unprotected positions given a stop: {', '.join(report.protected)}")
    if not lines:
        return None
    return Alert(
        kind=AlertKind.RECONCILIATION,
        severity=Severity.WARNING,
        headline=f"{len(lines)} correction(s): {lines[0]}",
        body="The journal was corrected to agree with the broker:\n- " + "\n- ".join(lines),
        at=at,
        dedup_key="; ".join(lines),
    )


def startup(mode: str, session_mode: str, trading: str, reason: str | None, at: datetime) -> Alert:
    state = trading.upper() + (f" ({reason})" if reason else "")
    return Alert(
        kind=AlertKind.STARTUP,
        severity=Severity.WARNING if trading == "halted" else Severity.INFO,
        headline=f"trading {state}",
        body=f"Catalyst started: {mode}, session mode {session_mode}, trading {state}.",
        at=at,
    )


def shutdown(reason: str, at: datetime) -> Alert:
    return Alert(
        kind=AlertKind.SHUTDOWN,
        severity=Severity.INFO,
        headline=reason,
        body=f"Catalyst is stopping: {reason}. No new entries until it is started again.",
        at=at,
    )


def dependency_down(what: str, since: datetime, detail: str, at: datetime) -> Alert:
    """The broker or the database is unreachable (`what`: "broker" or "database")."""
    kind = AlertKind.BROKER_OUTAGE if what == "broker" else AlertKind.DATABASE_OUTAGE
    minutes = (at - since).total_seconds() / 60
    return Alert(
        kind=kind,
        severity=Severity.CRITICAL,
        headline=f"down for {minutes:.0f} min",
        body=f"The {what} has been unreachable since {since.isoformat()}: {detail}",
        at=at,
        dedup_key=since.isoformat(),
    )


def dependency_back(what: str, since: datetime, detail: str, at: datetime) -> Alert:
    kind = AlertKind.BROKER_RECOVERED if what == "broker" else AlertKind.DATABASE_RECOVERED
    minutes = (at - since).total_seconds() / 60
    return Alert(
        kind=kind,
        severity=Severity.INFO,
        headline=f"after {minutes:.0f} min",
        body=f"The {what} is reachable again (down since {since.isoformat()}). {detail}".strip(),
        at=at,
        dedup_key=since.isoformat(),
    )


def repeated_errors(what: str, count: int, last_error: str, at: datetime) -> Alert:
    return Alert(
        kind=AlertKind.REPEATED_ERRORS,
        severity=Severity.WARNING,
        headline=f"{what} failed {count} times in a row",
        body=f"{what} has failed {count} times in a row; the last error: {last_error}",
        at=at,
        dedup_key=what,
    )


def entries_proposed(proposals: Sequence[EntryProposal], at: datetime) -> Alert:
    """Supervised mode: one scan's proposed entries, each with the commands that decide it.

    Nothing is sent without a person, so a person must hear of them before they expire."""
    first = min(p.expires_at for p in proposals).astimezone(EXCHANGE_TZ)
    symbols = ", ".join(p.symbol for p in proposals)
    lines = [
        f"{len(proposals)} entr{'y' if len(proposals) == 1 else 'ies'} proposed, waiting for a "
        "decision. Each expires unsent at the time shown; risk is checked again at approval.",
        "",
    ]
    for p in proposals:
        lines += [
            f"{p.proposal_id}: buy {p.qty} {p.symbol} at {p.entry_price}, stop {p.stop_price}, "
            f"target {p.target_price}, confidence {p.confidence:.2f}, expires "
            f"{p.expires_at.astimezone(EXCHANGE_TZ):%H:%M} New York",
            *(f"    {reason}" for reason in p.reasons),
            f"    catalyst approve {p.proposal_id}    |    catalyst reject {p.proposal_id}",
        ]
    return Alert(
        kind=AlertKind.ENTRIES_PROPOSED,
        severity=Severity.WARNING,
        headline=f"{len(proposals)} waiting, first expires {first:%H:%M}: {symbols}",
        body="\n".join(lines),
        at=at,
        dedup_key=",".join(p.proposal_id for p in proposals),
    )
