"""The exchange's own time zone: session times, trading days and order-id dates are New York's."""

from zoneinfo import ZoneInfo

EXCHANGE_TZ = ZoneInfo("America/New_York")
