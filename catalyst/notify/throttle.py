"""Which alerts go out: duplicates suppressed, and at most so many per kind and hour.

A duplicate is the same kind, severity and `dedup_key` as one sent less than the dedup window
ago (once the window has passed it goes out again, as a reminder). The rate limit counts per kind
*and severity*, so a burst of warnings never holds back a critical alert of the same kind.
Whatever is suppressed is counted per kind, and the count rides on the next alert of that kind
that goes out. Times are the alerts' own (`Alert.at`, from the injected clock).
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime, timedelta

from catalyst.domain.alerts import Alert, AlertKind, Severity

__all__ = ["AlertThrottle"]

_RATE_WINDOW = timedelta(hours=1)


class AlertThrottle:
    """`admit(alert)`: the alert to send (with its suppressed count), or None."""

    def __init__(self, *, dedup_window: timedelta, per_hour: int) -> None:
        if per_hour < 1:
            raise ValueError("per_hour must be at least 1")
        self._dedup_window = dedup_window
        self._per_hour = per_hour
        self._last_sent: dict[tuple[AlertKind, Severity, str], datetime] = {}
        self._sent: defaultdict[tuple[AlertKind, Severity], deque[datetime]] = defaultdict(deque)
        self._suppressed: defaultdict[AlertKind, int] = defaultdict(int)

    def suppressed(self, kind: AlertKind) -> int:
        """How many alerts of `kind` were suppressed since the last one sent."""
        return self._suppressed[kind]

    def admit(self, alert: Alert) -> Alert | None:
        key = (alert.kind, alert.severity, alert.dedup_key)
        last = self._last_sent.get(key)
        if last is not None and alert.at - last < self._dedup_window:
            self._suppressed[alert.kind] += 1
            return None
        sent = self._sent[(alert.kind, alert.severity)]
        while sent and alert.at - sent[0] >= _RATE_WINDOW:
            sent.popleft()
        if len(sent) >= self._per_hour:
            self._suppressed[alert.kind] += 1
            return None
        sent.append(alert.at)
        self._last_sent[key] = alert.at
        count = self._suppressed.pop(alert.kind, 0)
        return alert.with_suppressed(alert.suppressed + count) if count else alert
