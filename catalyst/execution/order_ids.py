"""Deterministic `client_order_id`s: the idempotency key saved before an order is POSTed.

The same (cycle, symbol, purpose) always yields the same id, so a retry after an unknown outcome
finds the original order instead of creating a second one (Alpaca refuses a reused id).
"""

from __future__ import annotations

import hashlib
import json
import re

PREFIX = "cat-"
MAX_LENGTH = 48
_HASH_CHARS = 20  # 80 bits of SHA-256: collisions are not a practical concern
_SYMBOL_CHARS = 8
_PURPOSE_CHARS = 12
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def client_order_id(cycle_id: str, symbol: str, purpose: str) -> str:
    """A readable, deterministic id: `cat-<symbol>-<purpose>-<hash>`, at most 48 characters.

    Only `[A-Za-z0-9_-]` appear. The readable parts are truncated and sanitised; uniqueness comes
    from a hash over the exact, unambiguous encoding of all three inputs.
    """
    for name, value in (("cycle_id", cycle_id), ("symbol", symbol), ("purpose", purpose)):
        if not value:
            raise ValueError(f"client_order_id needs a non-empty {name}")
    # JSON of a list is an unambiguous encoding: ("a-b", "c") and ("a", "b-c") hash differently.
    payload = json.dumps([cycle_id, symbol, purpose], ensure_ascii=True).encode("ascii")
    digest = hashlib.sha256(payload).hexdigest()[:_HASH_CHARS]
    readable_symbol = _UNSAFE.sub("_", symbol)[:_SYMBOL_CHARS]
    readable_purpose = _UNSAFE.sub("_", purpose)[:_PURPOSE_CHARS]
    return f"{PREFIX}{readable_symbol}-{readable_purpose}-{digest}"
