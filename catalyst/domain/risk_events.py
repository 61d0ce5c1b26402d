"""What the journal's risk events can say: their kinds and severities.

The values are what the `risk_events` table holds and what operators grep for; never rename one.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class RiskEventKind(StrEnum):
    # the risk-watch
    DAILY_LOSS_WARNING = "daily_loss_warning"
    EMERGENCY_STOP = "emergency_stop"
    EMERGENCY_FLATTEN = "emergency_flatten"
    HALTED_EXPOSURE = "halted_exposure"  # something appeared while halted and flat
    BROKER_OUTAGE = "broker_outage"
    # max hold and the operator's flatten request
    MAX_HOLD_TIME = "max_hold_time"
    MANUAL_FLATTEN = "manual_flatten"
    MANUAL_FLATTEN_EXPIRED = "manual_flatten_expired"
    MANUAL_FLATTEN_DONE = "manual_flatten_done"
    # reconciliation with the broker
    POSITION_APPEARED = "position_appeared"
    POSITION_GONE = "position_gone"
    EXTERNAL_ORDER_ADOPTED = "external_order_adopted"
    UNPROTECTED_POSITION = "unprotected_position"
