"""Column types: UTC timestamps and exact decimals round-trip on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.exc import StatementError

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.store.engine import make_engine
from catalyst.store.types import JSONText, Money, UTCDateTime, canonical_decimal_text, dump_json

_metadata = MetaData()
_samples = Table(
    "type_samples",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=True),
    Column("amount", Money, nullable=True),
    Column("doc", JSONText, nullable=True),
    Column("label", String, nullable=True),
)

TIMESTAMPS = [
    datetime(2024, 6, 3, 13, 30, tzinfo=UTC),
    datetime(2024, 6, 3, 9, 30, 0, 123456, tzinfo=EXCHANGE_TZ),  # EDT, microseconds
    datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=EXCHANGE_TZ),  # the repeated hour, second pass
    datetime(2024, 3, 10, 3, 0, tzinfo=EXCHANGE_TZ),  # just after spring-forward
    datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    datetime(1999, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC),
]

DECIMALS = [
    Decimal("0"),
    Decimal("0.01"),
    Decimal("10.50"),
    Decimal("-3.75"),
    Decimal("123456789012345678.123456789012345678"),
    Decimal("0.000000000001"),
    Decimal("1E+3"),
    Decimal("-0.0"),
    Decimal(42),
]


async def test_timestamps_round_trip_as_the_same_instant_in_utc(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
            await connection.execute(
                insert(_samples), [{"id": i, "at": at} for i, at in enumerate(TIMESTAMPS)]
            )
        async with engine.connect() as connection:
            stored = (await connection.execute(select(_samples.c.at).order_by(_samples.c.id))).all()
    finally:
        await engine.dispose()
    for (back,), original in zip(stored, TIMESTAMPS, strict=True):
        # compare in UTC: PEP 495 makes fold=1 times unequal to every other zone's datetimes
        assert back == original.astimezone(UTC)
        assert back.timestamp() == original.timestamp()
        assert back.tzinfo is UTC
        assert back.utcoffset() == timedelta(0)


async def test_timestamps_compare_in_sql_by_instant_not_by_wall_time(db_url: str) -> None:
    early_ny = datetime(2024, 6, 3, 9, 0, tzinfo=EXCHANGE_TZ)  # 13:00 UTC
    later_utc = datetime(2024, 6, 3, 13, 30, tzinfo=UTC)
    engine = make_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
            await connection.execute(
                insert(_samples), [{"id": 1, "at": later_utc}, {"id": 2, "at": early_ny}]
            )
            ids = (
                await connection.execute(
                    select(_samples.c.id)
                    .where(_samples.c.at >= datetime(2024, 6, 3, 9, 15, tzinfo=EXCHANGE_TZ))
                    .order_by(_samples.c.at)
                )
            ).scalars()
            assert list(ids) == [1]
    finally:
        await engine.dispose()


async def test_naive_datetime_is_refused_on_write(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
        async with engine.begin() as connection:
            with pytest.raises(StatementError) as raised:
                await connection.execute(insert(_samples).values(id=1, at=datetime(2024, 6, 3)))
    finally:
        await engine.dispose()
    assert isinstance(raised.value.orig, ValueError)
    assert "naive" in str(raised.value.orig)


async def test_decimals_round_trip_exactly(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
            await connection.execute(
                insert(_samples), [{"id": i, "amount": d} for i, d in enumerate(DECIMALS)]
            )
        async with engine.connect() as connection:
            stored = (
                await connection.execute(select(_samples.c.amount).order_by(_samples.c.id))
            ).all()
    finally:
        await engine.dispose()
    for (back,), original in zip(stored, DECIMALS, strict=True):
        assert isinstance(back, Decimal)
        assert back == original


@pytest.mark.parametrize("bad", [1.5, "1.5", Decimal("NaN"), Decimal("Infinity"), True])
async def test_money_refuses_floats_strings_and_non_finite_values(
    sqlite_url: str, bad: object
) -> None:
    engine = make_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
        async with engine.begin() as connection:
            with pytest.raises(StatementError) as raised:
                await connection.execute(insert(_samples).values(id=1, amount=bad))
    finally:
        await engine.dispose()
    assert isinstance(raised.value.orig, TypeError | ValueError)


async def test_json_documents_round_trip_with_decimals_and_datetimes_as_text(db_url: str) -> None:
    doc = {"limit": Decimal("2000.00"), "at": datetime(2024, 6, 3, 14, tzinfo=UTC), "n": [1, 2]}
    engine = make_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
            await connection.execute(insert(_samples).values(id=1, doc=doc))
            back = (await connection.execute(select(_samples.c.doc))).scalar_one()
    finally:
        await engine.dispose()
    assert back == {"limit": "2000", "at": "2024-06-03T14:00:00+00:00", "n": [1, 2]}


finite_decimals = st.decimals(allow_nan=False, allow_infinity=False)


@given(finite_decimals)
def test_canonical_decimal_text_keeps_the_exact_value(value: Decimal) -> None:
    text = canonical_decimal_text(value)
    assert Decimal(text) == value
    assert "E" not in text.upper()


@given(finite_decimals, st.integers(min_value=0, max_value=6))
def test_canonical_decimal_text_is_one_spelling_per_number(value: Decimal, zeros: int) -> None:
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    padded = Decimal((sign, (*digits, *(0,) * zeros), exponent - zeros))  # 1.5 -> 1.500
    assert padded == value
    assert canonical_decimal_text(padded) == canonical_decimal_text(value)


def test_dump_json_refuses_objects_it_cannot_represent_faithfully() -> None:
    with pytest.raises(TypeError):
        dump_json({"x": object()})
    with pytest.raises(ValueError, match="Out of range float"):
        dump_json({"x": float("nan")})
