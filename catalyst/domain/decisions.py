"""What a risk rule answers: `Approved`, or `Rejected` with a reason and the rule's stable name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Approved:
    """The plan passed every rule. Use the shared `APPROVED` instance."""


APPROVED = Approved()


@dataclass(frozen=True, slots=True)
class Rejected:
    """The plan broke `rule` (a stable name for metrics and logs); `reason` is for a person."""

    reason: str
    rule: str


Decision: TypeAlias = Approved | Rejected
