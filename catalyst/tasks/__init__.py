"""The daemon's long-running work, one job per module: the scan cycle the schedule fires, the
risk-watch, max hold, the operator's flatten request, order events, reconciliation, end of day.

These are the async shells around the pure cores (`catalyst.pipeline`, `catalyst.risk`): they hold
the broker, the store and the clock; the supervisor runs each in its TaskGroup.
"""
