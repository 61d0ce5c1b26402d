"""Column types that store exactly what Catalyst means on both SQLite and PostgreSQL.

- `UTCDateTime`: timezone-aware UTC in, timezone-aware UTC out. PostgreSQL keeps a
  `timestamp with time zone`; SQLite has no time zones, so it gets naive UTC text.
  Naive datetimes are refused on write: a wall time without a zone is a bug waiting to happen.
- `Money`: `Decimal` kept exactly. PostgreSQL uses arbitrary-precision `NUMERIC`; SQLite would
  round `NUMERIC` through a float (and warn), so there it is canonical decimal text.
- `JSONText`: a JSON document stored as text (key order kept: a cycle's funnel is in stage order).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def _is_postgresql(dialect: Dialect) -> bool:
    return dialect.name == "postgresql"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp; naive datetimes are rejected with ValueError."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store naive datetime {value.isoformat()}: attach a zone")
        utc = value.astimezone(UTC)
        # SQLite would silently drop the offset; store the UTC wall time explicitly instead.
        return utc if _is_postgresql(dialect) else utc.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def canonical_decimal_text(value: Decimal) -> str:
    """`value` as plain decimal text without exponent or trailing zeros ("10.50" -> "10.5").

    One spelling per number, so a UNIQUE constraint over a price means the same on SQLite
    (text) as it does on PostgreSQL (numeric equality).
    """
    if not value.is_finite():
        raise ValueError(f"refusing to store non-finite decimal {value}")
    if value.is_zero():
        return "0"
    # normalize() rounds to the context's precision (28 digits by default): give it enough.
    exact = Context(prec=max(1, len(value.as_tuple().digits)), Emax=MAX_EMAX, Emin=MIN_EMIN)
    return format(value.normalize(exact), "f")


class Money(TypeDecorator[Decimal]):
    """An exact `Decimal` (prices, equity): NUMERIC on PostgreSQL, canonical text on SQLite."""

    impl = Numeric(asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if _is_postgresql(dialect):
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            # floats are how money goes wrong; make the caller decide on the exact value
            raise TypeError(f"expected a Decimal, got {type(value).__name__}: {value!r}")
        exact = Decimal(value)
        text = canonical_decimal_text(exact)  # also rejects NaN and infinities
        return exact if _is_postgresql(dialect) else text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return canonical_decimal_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON: {value!r}")


def dump_json(value: object) -> str:
    """Serialise `value` as JSON text, keys in their given order; Decimals and datetimes as text."""
    return json.dumps(value, default=_json_default, allow_nan=False)


class JSONText(TypeDecorator[Any]):
    """A JSON document stored as text (the same bytes on both backends, key order kept)."""

    impl = Text()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return dump_json(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(value)
