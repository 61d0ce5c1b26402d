"""Why Catalyst closes a position: the purposes its closing orders' client_order_ids are derived
from, defined once for the tasks that close and for the day report that reads the journal back.

A closing order's id is `client_order_id(purpose, symbol, "exit-<attempt>")` (a protective stop's:
`client_order_id(purpose, symbol, "stop")`), so the readable part of the id never says the
purpose: it is in the hash. Each purpose is a pure function of the day or of the moment the task
acted, and that moment is journaled with the risk event the task records just before it closes
(max hold, the operator's flatten, exposure found while halted, an unprotected position). The day
report recomputes the ids from those moments (`exit_purposes`) to tell, say, a max-hold exit from
the end-of-day flatten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from enum import StrEnum

from catalyst.domain.risk_events import RiskEventKind
from catalyst.execution.order_ids import client_order_id


class ClosePurpose(StrEnum):
    """What a closing order was for."""

    END_OF_DAY = "eod"
    EMERGENCY = "emergency"  # the daily loss limit's emergency stop
    HALTED_EXPOSURE = "halted"  # something appeared while halted: closed at once
    MAX_HOLD = "maxhold"
    MANUAL_FLATTEN = "manual"  # `catalyst flatten`
    PROTECTIVE = "protect"  # reconciliation: a position without a working stop


def end_of_day_purpose(day: date) -> str:
    return f"{ClosePurpose.END_OF_DAY}-{day:%Y%m%d}"


def emergency_purpose(day: date) -> str:
    return f"{ClosePurpose.EMERGENCY}-{day:%Y%m%d}"


def halted_exposure_purpose(at: datetime) -> str:
    return f"{ClosePurpose.HALTED_EXPOSURE}-{at.astimezone(UTC):%Y%m%d%H%M%S}"


def max_hold_purpose(at: datetime) -> str:
    return f"{ClosePurpose.MAX_HOLD}-{at.astimezone(UTC):%Y%m%d%H%M}"


def manual_flatten_purpose(at: datetime) -> str:
    return f"{ClosePurpose.MANUAL_FLATTEN}-{at.astimezone(UTC):%Y%m%d%H%M%S}"


def protective_purpose(at: datetime) -> str:
    return f"{ClosePurpose.PROTECTIVE}-{at.astimezone(UTC):%Y%m%d%H%M}"


PROTECTIVE_ORDER_PART = "stop"  # the third part of a protective stop's (or close's) id

# The risk event each timed purpose's task records at the very moment it names its purpose.
_TIMED: Mapping[RiskEventKind, tuple[ClosePurpose, Callable[[datetime], str]]] = {
    RiskEventKind.HALTED_EXPOSURE: (ClosePurpose.HALTED_EXPOSURE, halted_exposure_purpose),
    RiskEventKind.MAX_HOLD_TIME: (ClosePurpose.MAX_HOLD, max_hold_purpose),
    RiskEventKind.MANUAL_FLATTEN: (ClosePurpose.MANUAL_FLATTEN, manual_flatten_purpose),
    RiskEventKind.UNPROTECTED_POSITION: (ClosePurpose.PROTECTIVE, protective_purpose),
}
_EXIT_ATTEMPT = re.compile(r"-exit-(\d+)-[0-9a-f]+$")


def exit_purposes(
    day: date,
    closing_orders: Iterable[tuple[str, str]],
    risk_events: Iterable[tuple[RiskEventKind, datetime]],
) -> dict[str, ClosePurpose]:
    """The purpose of each closing order, by client_order_id, as far as it can be recovered.

    `closing_orders` are (client_order_id, symbol) pairs; `risk_events` the day's (kind, at).
    An id that matches no purpose the day's journal can name is left out.
    """
    candidates: list[tuple[ClosePurpose, str]] = [
        (ClosePurpose.END_OF_DAY, end_of_day_purpose(day)),
        (ClosePurpose.EMERGENCY, emergency_purpose(day)),
    ]
    for kind, at in risk_events:
        timed = _TIMED.get(kind)
        if timed is not None:
            purpose, derive = timed
            candidates.append((purpose, derive(at)))
    found: dict[str, ClosePurpose] = {}
    for cid, symbol in closing_orders:
        attempt = _EXIT_ATTEMPT.search(cid)
        part = f"exit-{attempt.group(1)}" if attempt else PROTECTIVE_ORDER_PART
        for purpose, text in candidates:
            if client_order_id(text, symbol, part) == cid:
                found[cid] = purpose
                break
    return found
