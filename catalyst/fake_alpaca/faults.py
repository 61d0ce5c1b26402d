"""Fault injection for the fake Alpaca server, switchable at runtime.

A `FaultPlan` holds rules; each request takes the first rule that matches its method and path
prefix (and still has uses left). Kinds:

- `latency`: wait `latency_ms`, then answer normally;
- `status`: answer `status` (429 with `X-Ratelimit-*` headers, 500, 503, ...) without running the
  handler;
- `timeout`: wait `seconds` (longer than the client's timeout), then answer normally;
- `drop`: close the connection without an answer; nothing was done;
- `lose_response`: run the handler (an order IS created), then close the connection unanswered.

`count` is how many requests the rule applies to (None: until cleared). Stream disconnects are an
action, not a rule: `POST /__faults/stream_disconnect` (or `StreamHub.disconnect_all()`).
Tests use the plan directly (`app[FAULTS]`); a person uses `POST /__faults` with the same fields
as JSON, `GET /__faults` to list and `DELETE /__faults` to clear.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["latency", "status", "timeout", "drop", "lose_response"]
_KINDS: frozenset[str] = frozenset({"latency", "status", "timeout", "drop", "lose_response"})


@dataclass(slots=True)
class Fault:
    """One rule; see the module docstring."""

    kind: FaultKind
    count: int | None = 1
    path: str = "/"  # path prefix the rule applies to
    method: str | None = None  # None: any method
    status: int = 503
    latency_ms: int = 0
    seconds: float = 30.0

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request."""
        if self.count is not None and self.count <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path)


class FaultPlan:
    """The active fault rules of one server."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Activate `fault` (after the rules already active)."""
        if fault.kind not in _KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        if fault.count is not None and fault.count < 1:
            raise ValueError("count must be at least 1 (or None for unlimited)")
        self._rules.append(fault)
        return fault

    def latency(self, ms: int, **scope: Any) -> Fault:
        """Delay matching requests by `ms` (every request unless `count` is given)."""
        return self.add(Fault("latency", latency_ms=ms, **{"count": None, **scope}))

    def fail(self, status: int, count: int = 1, **scope: Any) -> Fault:
        """The next `count` matching requests answer `status`."""
        return self.add(Fault("status", status=status, count=count, **scope))

    def timeout(self, seconds: float, count: int = 1, **scope: Any) -> Fault:
        """The next `count` matching requests hang for `seconds` first."""
        return self.add(Fault("timeout", seconds=seconds, count=count, **scope))

    def drop(self, count: int = 1, **scope: Any) -> Fault:
        """The next `count` matching requests lose their connection, unanswered and undone."""
        return self.add(Fault("drop", count=count, **scope))

    def lose_response(self, count: int = 1, **scope: Any) -> Fault:
        """The next `count` matching requests are carried out, then their answer is lost."""
        return self.add(Fault("lose_response", count=count, **scope))

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The rule for this request, with one use consumed, or None."""
        for rule in self._rules:
            if rule.matches(method, path):
                if rule.count is not None:
                    rule.count -= 1
                return rule
        return None

    def describe(self) -> list[dict[str, Any]]:
        """The active rules as JSON-ready dicts."""
        return [asdict(rule) for rule in self._rules if rule.count is None or rule.count > 0]


def fault_from_json(body: dict[str, Any]) -> Fault:
    """A `Fault` from the admin endpoint's JSON body; ValueError on bad input."""
    allowed = {"kind", "count", "path", "method", "status", "latency_ms", "seconds"}
    unknown = set(body) - allowed
    if unknown:
        raise ValueError(f"unknown fault fields: {sorted(unknown)}")
    kind = body.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {sorted(_KINDS)}")
    default_count = None if kind == "latency" else 1
    return Fault(
        kind=kind,
        count=body.get("count", default_count),
        path=str(body.get("path", "/")),
        method=body.get("method"),
        status=int(body.get("status", 503)),
        latency_ms=int(body.get("latency_ms", 0)),
        seconds=float(body.get("seconds", 30.0)),
    )
