"""Failpoints: crash the process at a named point, for crash-safety tests.

`CATALYST_FAILPOINTS=after_intent_commit=2,after_submit_before_ack=1` makes the process die the
2nd time the first point is reached and the 1st time the second one is. Dying means
`os._exit(137)`: no exception handlers, no `finally`, no flush, no database rollback; what a
SIGKILL leaves behind. Without the variable every `hit()` is a no-op.

Only the composition root reads the environment; business code receives a `Failpoints`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import NoReturn

ENV_VAR = "CATALYST_FAILPOINTS"
CRASH_EXIT_CODE = 137  # 128 + SIGKILL, what a shell reports for a killed process

AFTER_INTENT_COMMIT = "after_intent_commit"  # the intent row is committed, nothing sent yet
AFTER_SUBMIT_BEFORE_ACK = "after_submit_before_ack"  # the broker has the order, no ack journaled
KNOWN = frozenset({AFTER_INTENT_COMMIT, AFTER_SUBMIT_BEFORE_ACK})


def _crash(code: int) -> NoReturn:
    os._exit(code)


class Failpoints:
    """Counts how often each armed point is reached and exits on the chosen occurrence."""

    def __init__(
        self, armed: Mapping[str, int] | None = None, *, exit: Callable[[int], object] = _crash
    ) -> None:
        armed = dict(armed or {})
        for name, nth in armed.items():
            if name not in KNOWN:
                raise ValueError(f"unknown failpoint {name!r}; known: {', '.join(sorted(KNOWN))}")
            if nth < 1:
                raise ValueError(f"failpoint {name}: the occurrence must be 1 or more, got {nth}")
        self._armed = armed
        self._reached: dict[str, int] = {}
        self._exit = exit

    @classmethod
    def parse(cls, text: str, *, exit: Callable[[int], object] = _crash) -> Failpoints:
        """Failpoints from `name=N,name=N` (blank: none armed). ValueError on a malformed entry."""
        armed: dict[str, int] = {}
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            name, equals, count = entry.partition("=")
            name = name.strip()
            if not equals or not name:
                raise ValueError(f"{ENV_VAR}: {entry!r} must read name=N")
            try:
                armed[name] = int(count)
            except ValueError:
                raise ValueError(f"{ENV_VAR}: {entry!r}: N must be a whole number") from None
        return cls(armed, exit=exit)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str], *, exit: Callable[[int], object] = _crash
    ) -> Failpoints:
        """Failpoints armed by `CATALYST_FAILPOINTS` in `environ`; none when it is unset."""
        return cls.parse(environ.get(ENV_VAR, ""), exit=exit)

    @property
    def armed(self) -> dict[str, int]:
        """Armed points and the occurrence each one crashes on."""
        return dict(self._armed)

    def reached(self, name: str) -> int:
        """How many times `name` has been reached so far."""
        return self._reached.get(name, 0)

    def hit(self, name: str) -> None:
        """Mark `name` reached; exit the process if this is the armed occurrence."""
        if name not in KNOWN:
            raise ValueError(f"unknown failpoint {name!r}")
        if not self._armed:
            return
        count = self._reached.get(name, 0) + 1
        self._reached[name] = count
        if self._armed.get(name) == count:
            self._exit(CRASH_EXIT_CODE)


NO_FAILPOINTS = Failpoints()
