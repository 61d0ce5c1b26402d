"""Exchange-local dates of the simulator's instants (exchange time is America/New_York)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from catalyst.domain.exchange import EXCHANGE_TZ


def exchange_midnight(day: date) -> datetime:
    """Midnight at the start of `day` in exchange time, as a UTC instant (daily bar timestamps)."""
    return datetime.combine(day, time(0), tzinfo=EXCHANGE_TZ).astimezone(UTC)


def exchange_date(at: datetime) -> date:
    """The exchange-local calendar date of the instant `at`."""
    return at.astimezone(EXCHANGE_TZ).date()


def require_aware(at: datetime) -> None:
    """Refuse naive datetimes: every instant in the simulator is timezone-aware."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {at!r}")
