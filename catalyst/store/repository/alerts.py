"""The alert journal: alerts not yet delivered everywhere, kept for the next delivery task.

While the database is known to be down (the outbox says so) these methods raise
`JournalUnavailable` at once instead of trying: alerts must go out during an outage, and a
delivery task waiting on a dead database would hold them up. The journal record is best-effort
then; the delivery task keeps the alert in memory and journals it once the database is back.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from catalyst.domain.alerts import Alert, AlertDelivery, alert_from_json, alert_to_json
from catalyst.domain.errors import JournalUnavailable
from catalyst.store.records import JournaledAlert
from catalyst.store.repository._base import StoreBase, _require_aware
from catalyst.store.tables import alert_outbox


class AlertStore(StoreBase):
    """Rows of `alert_outbox`; see the module docstring for the outage rule."""

    def _refuse_while_unavailable(self, operation: str) -> None:
        if self.outbox.unavailable:
            raise JournalUnavailable(f"database {operation} not attempted: journal unavailable")

    async def journal_alert(
        self,
        alert: Alert,
        *,
        subject: str,
        status: AlertDelivery,
        delivered_channels: Collection[str],
        attempts: int,
        last_error: str | None,
        at: datetime,
    ) -> int:
        """Record one alert; its row id."""
        _require_aware("at", at)
        self._refuse_while_unavailable("journal_alert")
        async with self._transaction("journal_alert") as session:
            row_id = await session.scalar(
                alert_outbox.insert()
                .values(
                    created_at=alert.at,
                    updated_at=at,
                    kind=alert.kind.value,
                    severity=alert.severity.value,
                    subject=subject,
                    payload=alert_to_json(alert),
                    status=status.value,
                    delivered_channels=sorted(delivered_channels),
                    attempts=attempts,
                    last_error=last_error,
                )
                .returning(alert_outbox.c.id)
            )
        return int(row_id) if row_id is not None else 0

    async def update_alert(
        self,
        alert_id: int,
        *,
        status: AlertDelivery,
        delivered_channels: Collection[str],
        attempts: int,
        last_error: str | None,
        at: datetime,
    ) -> None:
        """Note how far the delivery of journaled alert `alert_id` got."""
        _require_aware("at", at)
        self._refuse_while_unavailable("update_alert")
        async with self._transaction("update_alert") as session:
            await session.execute(
                update(alert_outbox)
                .where(alert_outbox.c.id == alert_id)
                .values(
                    status=status.value,
                    delivered_channels=sorted(delivered_channels),
                    attempts=attempts,
                    last_error=last_error,
                    updated_at=at,
                )
            )

    async def pending_alerts(
        self, limit: int, *, exclude: Collection[int] = ()
    ) -> list[JournaledAlert]:
        """Up to `limit` pending alerts, oldest first, leaving out the ids in `exclude`."""
        self._refuse_while_unavailable("pending_alerts")
        query = select(alert_outbox).where(alert_outbox.c.status == AlertDelivery.PENDING.value)
        if exclude:
            query = query.where(alert_outbox.c.id.not_in(list(exclude)))
        async with self._transaction("pending_alerts") as session:
            result = await session.execute(query.order_by(alert_outbox.c.id).limit(limit))
            return [_journaled(row) for row in result]

    async def journaled_alerts(self, since: datetime) -> list[JournaledAlert]:
        """Every journaled alert raised at or after `since`, oldest first."""
        async with self._transaction("journaled_alerts") as session:
            result = await session.execute(
                select(alert_outbox)
                .where(alert_outbox.c.created_at >= since)
                .order_by(alert_outbox.c.id)
            )
            return [_journaled(row) for row in result]


def _journaled(row: Row[Any]) -> JournaledAlert:
    return JournaledAlert(
        id=row.id,
        alert=alert_from_json(row.payload),
        subject=row.subject,
        status=AlertDelivery(row.status),
        delivered_channels=frozenset(row.delivered_channels or ()),
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
