"""The Store on both backends: idempotent journaling, durable risk state, the position mirror."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import MigratedDatabase
from sqlalchemy import func, select
from stubs import fill, order, position

from catalyst.domain.errors import OperationalError
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FunnelStage
from catalyst.domain.models import (
    Asset,
    BracketSpec,
    LegRole,
    Order,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.domain.trading_state import TradingState
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.records import (
    CycleStart,
    CycleStatus,
    OrderIntent,
    OrderSource,
    PositionDiff,
    ScanResultRecord,
)
from catalyst.store.repository import Store
from catalyst.store.repository.cycles import SECURITIES_PER_STATEMENT
from catalyst.store.tables import orders

DAY = date(2024, 6, 3)
T0 = datetime(2024, 6, 3, 13, 45, tzinfo=UTC)  # 09:45 New York


def intent(client_order_id: str = "cat-20240603-1-AAPL", **overrides: object) -> OrderIntent:
    request = OrderRequest(
        client_order_id=client_order_id,
        symbol="AAPL",
        side=Side.BUY,
        qty=10,
        type=OrderType.LIMIT,
        limit_price=Decimal("190.25"),
        bracket=BracketSpec(take_profit_limit=Decimal("195.50"), stop_loss_stop=Decimal("187.40")),
    )
    base = OrderIntent.from_request(request, role=LegRole.ENTRY, created_at=T0)
    if not overrides:
        return base
    fields = {name: getattr(base, name) for name in OrderIntent.__dataclass_fields__}
    fields.update(overrides)
    return OrderIntent(**fields)


def broker_order(
    client_order_id: str, *, broker_id: str, role: LegRole = LegRole.ENTRY, **changes: Any
) -> Order:
    """5 MSFT: a market buy when it is the entry, a limit sell when it is a leg."""
    entry = role is LegRole.ENTRY
    return order(
        client_order_id,
        broker_id=broker_id,
        symbol="MSFT",
        side=Side.BUY if entry else Side.SELL,
        qty=5,
        type=OrderType.MARKET if entry else OrderType.LIMIT,
        submitted_at=T0,
        role=role,
        **changes,
    )


async def count_orders(db: MigratedDatabase, client_order_id: str) -> int:
    async with db.engine.connect() as connection:
        value = await connection.scalar(
            select(func.count())
            .select_from(orders)
            .where(orders.c.client_order_id == client_order_id)
        )
    return int(value or 0)


# ------------------------------------------------------------------------- order intents


async def test_record_order_intent_when_id_is_new_journals_it_with_status_intent(
    migrated_store: Store,
) -> None:
    assert await migrated_store.record_order_intent(intent()) is True

    record = await migrated_store.get_order("cat-20240603-1-AAPL")
    assert record is not None
    assert record.status == "intent"
    assert record.source is OrderSource.CATALYST
    assert record.order_class is OrderClass.BRACKET
    assert (record.limit_price, record.take_profit_price, record.stop_loss_price) == (
        Decimal("190.25"),
        Decimal("195.50"),
        Decimal("187.40"),
    )
    assert record.created_at == T0
    assert record.filled_qty == 0
    events = await migrated_store.order_events_for("cat-20240603-1-AAPL")
    assert [(e.status, e.at) for e in events] == [("intent", T0)]


async def test_record_order_intent_when_id_exists_returns_false_and_keeps_one_row(
    migrated_db: MigratedDatabase,
) -> None:
    store = migrated_db.store
    assert await store.record_order_intent(intent()) is True
    assert await store.record_order_intent(intent(qty=99)) is False

    assert await count_orders(migrated_db, "cat-20240603-1-AAPL") == 1
    record = await store.get_order("cat-20240603-1-AAPL")
    assert record is not None
    assert record.qty == 10  # the first intent stands
    assert len(await store.order_events_for("cat-20240603-1-AAPL")) == 1


async def test_record_order_intent_when_tasks_race_on_one_id_exactly_one_wins(
    migrated_db: MigratedDatabase,
) -> None:
    results = await asyncio.gather(
        *(migrated_db.store.record_order_intent(intent()) for _ in range(8))
    )
    assert sorted(results) == [False] * 7 + [True]
    assert await count_orders(migrated_db, "cat-20240603-1-AAPL") == 1


async def test_record_order_intent_is_visible_to_another_engine_once_it_returns(
    migrated_db: MigratedDatabase,
) -> None:
    await migrated_db.store.record_order_intent(intent())
    other = make_engine(migrated_db.url)
    try:
        record = await Store(make_session_factory(other)).get_order("cat-20240603-1-AAPL")
    finally:
        await other.dispose()
    assert record is not None


def test_order_intent_refuses_naive_times_and_empty_ids() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        intent(created_at=datetime(2024, 6, 3, 9, 45))
    with pytest.raises(ValueError, match="client_order_id"):
        intent(client_order_id="")


# ------------------------------------------------------------------------- order updates


async def test_record_order_update_applies_changes_and_appends_one_event_each(
    migrated_store: Store,
) -> None:
    await migrated_store.record_order_intent(intent())
    coid = "cat-20240603-1-AAPL"

    assert await migrated_store.record_order_update(
        coid, status="accepted", at=T0 + timedelta(seconds=1), broker_order_id="b-1"
    )
    assert await migrated_store.record_order_update(
        coid,
        status="filled",
        at=T0 + timedelta(seconds=2),
        filled_qty=10,
        filled_avg_price=Decimal("190.2433"),
        detail="fill",
    )

    record = await migrated_store.get_order(coid)
    assert record is not None
    assert (record.status, record.broker_order_id) == ("filled", "b-1")
    assert (record.filled_qty, record.filled_avg_price) == (10, Decimal("190.2433"))
    assert record.updated_at == T0 + timedelta(seconds=2)
    assert record.is_final
    events = await migrated_store.order_events_for(coid)
    assert [e.status for e in events] == ["intent", "accepted", "filled"]
    assert events[-1].detail == "fill"


async def test_record_order_update_when_nothing_changed_writes_no_event(
    migrated_store: Store,
) -> None:
    await migrated_store.record_order_intent(intent())
    coid = "cat-20240603-1-AAPL"
    await migrated_store.record_order_update(coid, status="new", at=T0, broker_order_id="b-1")

    changed = await migrated_store.record_order_update(
        coid, status="new", at=T0 + timedelta(seconds=5), broker_order_id="b-1", filled_qty=0
    )

    assert changed is False
    assert len(await migrated_store.order_events_for(coid)) == 2
    record = await migrated_store.get_order(coid)
    assert record is not None
    assert record.updated_at == T0


async def test_record_order_update_ignores_stale_reports_after_a_final_status(
    migrated_store: Store,
) -> None:
    await migrated_store.record_order_intent(intent())
    coid = "cat-20240603-1-AAPL"
    await migrated_store.record_order_update(coid, status="filled", at=T0, filled_qty=10)

    changed = await migrated_store.record_order_update(
        coid, status="partially_filled", at=T0 + timedelta(seconds=1), filled_qty=4
    )

    assert changed is False
    record = await migrated_store.get_order(coid)
    assert record is not None
    assert (record.status, record.filled_qty) == ("filled", 10)


async def test_record_order_update_refuses_unknown_orders_statuses_and_broker_id_conflicts(
    migrated_store: Store,
) -> None:
    with pytest.raises(LookupError):
        await migrated_store.record_order_update("nope", status="new", at=T0)
    await migrated_store.record_order_intent(intent())
    coid = "cat-20240603-1-AAPL"
    with pytest.raises(ValueError, match="unknown order status"):
        await migrated_store.record_order_update(coid, status="pending_everything", at=T0)
    await migrated_store.record_order_update(coid, status="new", at=T0, broker_order_id="b-1")
    with pytest.raises(OperationalError, match="b-2"):
        await migrated_store.record_order_update(coid, status="new", at=T0, broker_order_id="b-2")


async def test_non_final_orders_lists_intents_and_open_orders_only(migrated_store: Store) -> None:
    for number in (1, 2, 3, 4):
        await migrated_store.record_order_intent(
            intent(f"cat-{number}", created_at=T0 + timedelta(seconds=number))
        )
    await migrated_store.record_order_update("cat-2", status="accepted", at=T0)
    await migrated_store.record_order_update("cat-3", status="canceled", at=T0)
    await migrated_store.record_order_update("cat-4", status="not_placed", at=T0)

    open_ids = [o.client_order_id for o in await migrated_store.non_final_orders()]

    assert open_ids == ["cat-1", "cat-2"]


async def test_adopt_external_order_journals_it_and_its_legs_once(migrated_store: Store) -> None:
    legs = (
        broker_order(
            "ext-tp", broker_id="b-tp", role=LegRole.TAKE_PROFIT, limit_price=Decimal("420.10")
        ),
        broker_order(
            "ext-sl",
            broker_id="b-sl",
            role=LegRole.STOP_LOSS,
            status=OrderStatus.HELD,
            stop_price=Decimal("401.00"),
        ),
    )
    parent = broker_order(
        "ext-1",
        broker_id="b-ext",
        status=OrderStatus.FILLED,
        legs=legs,
        order_class=OrderClass.BRACKET,
    )

    assert await migrated_store.adopt_external_order(parent, T0) is True
    assert await migrated_store.adopt_external_order(parent, T0) is False

    adopted = await migrated_store.get_order("ext-1")
    assert adopted is not None
    assert adopted.source is OrderSource.EXTERNAL
    assert (adopted.take_profit_price, adopted.stop_loss_price) == (
        Decimal("420.10"),
        Decimal("401.00"),
    )
    children = await migrated_store.legs_of("ext-1")
    assert sorted((c.client_order_id, c.role, c.status) for c in children) == [
        ("ext-sl", LegRole.STOP_LOSS, "held"),
        ("ext-tp", LegRole.TAKE_PROFIT, "new"),
    ]
    assert all(c.source is OrderSource.EXTERNAL for c in children)
    still_open = sorted(o.client_order_id for o in await migrated_store.non_final_orders())
    assert still_open == ["ext-sl", "ext-tp"]  # the filled parent is final


async def test_record_legs_journals_broker_legs_under_catalysts_parent(
    migrated_store: Store,
) -> None:
    await migrated_store.start_cycle(CycleStart("c-1", DAY, 1, "paper", "schedule", T0))
    await migrated_store.record_order_intent(intent("cat-1", cycle_id="c-1"))
    legs = [broker_order("leg-tp", broker_id="b-tp", role=LegRole.TAKE_PROFIT)]

    assert await migrated_store.record_legs("cat-1", legs, T0) == 1
    assert await migrated_store.record_legs("cat-1", legs, T0) == 0

    (leg,) = await migrated_store.legs_of("cat-1")
    assert (leg.parent_client_order_id, leg.cycle_id, leg.source) == (
        "cat-1",
        "c-1",
        OrderSource.CATALYST,
    )
    with pytest.raises(LookupError):
        await migrated_store.record_legs("missing", legs, T0)


async def test_order_counts_for_day_counts_catalysts_top_level_orders_by_status(
    migrated_store: Store,
) -> None:
    await migrated_store.record_order_intent(intent("cat-1"))
    await migrated_store.record_order_intent(intent("cat-2"))
    await migrated_store.record_order_intent(intent("cat-3", created_at=T0 - timedelta(days=1)))
    await migrated_store.record_order_update("cat-2", status="filled", at=T0, filled_qty=10)
    await migrated_store.record_legs("cat-2", [broker_order("leg", broker_id="b-leg")], T0)
    await migrated_store.adopt_external_order(broker_order("ext", broker_id="b-ext"), T0)

    assert await migrated_store.order_counts_for_day(DAY, EXCHANGE_TZ) == {"intent": 1, "filled": 1}


async def test_latest_filled_entries_are_each_symbols_newest_filled_top_level_entry(
    migrated_store: Store,
) -> None:
    store = migrated_store
    for client_id, symbol, minutes in [
        ("aapl-old", "AAPL", 0),
        ("aapl-new", "AAPL", 30),
        ("aapl-unfilled", "AAPL", 60),
        ("tsla", "TSLA", 10),
    ]:
        await store.record_order_intent(
            intent(client_id, symbol=symbol, created_at=T0 + timedelta(minutes=minutes))
        )
        if client_id != "aapl-unfilled":
            await store.record_order_update(client_id, status="filled", at=T0, filled_qty=10)
    await store.record_legs("aapl-new", [broker_order("leg", broker_id="b-leg")], T0)

    latest = await store.latest_filled_entries(["AAPL", "MSFT"])

    assert {symbol: e.client_order_id for symbol, e in latest.items()} == {"AAPL": "aapl-new"}
    assert await store.latest_filled_entries([]) == {}


async def test_orders_for_day_lists_legs_and_intents_of_the_local_day_only(
    migrated_store: Store,
) -> None:
    await migrated_store.record_order_intent(intent("cat-1"))
    await migrated_store.record_order_intent(intent("cat-0", created_at=T0 - timedelta(days=1)))
    leg = broker_order("leg", broker_id="b-leg", role=LegRole.TAKE_PROFIT)
    await migrated_store.record_legs("cat-1", [leg], T0)

    listed = await migrated_store.orders_for_day(DAY, EXCHANGE_TZ)

    assert [o.client_order_id for o in listed] == ["cat-1", "leg"]


# ------------------------------------------------------------------------- fills


async def test_stop_outs_of_the_day_are_the_stop_loss_fills_only(migrated_store: Store) -> None:
    journal = [
        ("entry-AAPL", "AAPL", LegRole.ENTRY, Side.BUY, T0),
        ("stop-AAPL", "AAPL", LegRole.STOP_LOSS, Side.SELL, T0 + timedelta(minutes=30)),
        ("stop-AAPL-2", "AAPL", LegRole.STOP_LOSS, Side.SELL, T0 + timedelta(minutes=90)),
        ("target-MSFT", "MSFT", LegRole.TAKE_PROFIT, Side.SELL, T0 + timedelta(minutes=5)),
        ("exit-TSLA", "TSLA", LegRole.EXIT, Side.SELL, T0 + timedelta(minutes=5)),
        ("stop-NVDA-yesterday", "NVDA", LegRole.STOP_LOSS, Side.SELL, T0 - timedelta(days=1)),
    ]
    for number, (client_id, symbol, role, side, at) in enumerate(journal):
        await migrated_store.record_order_intent(
            intent(client_id, symbol=symbol, role=role, side=side, created_at=at)
        )
        await migrated_store.record_fill(
            fill(side, symbol=symbol, at=at, order_id=f"b-{number}", client_order_id=client_id)
        )

    assert await migrated_store.stop_outs_for_day(DAY) == {"AAPL": T0 + timedelta(minutes=90)}


async def test_record_fill_twice_journals_it_once(migrated_store: Store) -> None:
    assert await migrated_store.record_fill(fill(at=T0)) is True
    assert await migrated_store.record_fill(fill(at=T0)) is False
    assert await migrated_store.record_fill(fill(at=T0, price="50.000")) is False  # same price
    assert await migrated_store.record_fill(fill(at=T0, qty=3)) is True  # a different execution

    assert len(await migrated_store.fills_for_day(DAY, EXCHANGE_TZ)) == 2


async def test_fills_for_day_uses_the_local_calendar_day(migrated_store: Store) -> None:
    local_midnight = datetime(2024, 6, 4, 0, 0, tzinfo=EXCHANGE_TZ)
    await migrated_store.record_fill(fill(at=local_midnight - timedelta(microseconds=1), qty=1))
    await migrated_store.record_fill(fill(at=local_midnight, qty=2))
    await migrated_store.record_fill(fill(at=datetime(2024, 6, 3, 0, 0, tzinfo=EXCHANGE_TZ), qty=3))

    on_day = await migrated_store.fills_for_day(DAY, EXCHANGE_TZ)

    assert [f.qty for f in on_day] == [3, 1]
    assert on_day[0].price == Decimal("50.00")
    assert on_day[0].timestamp.tzinfo is UTC


async def test_fills_since_includes_the_boundary_and_keeps_time_order(
    migrated_store: Store,
) -> None:
    for qty, minutes in [(1, -1), (2, 5), (3, 0)]:
        await migrated_store.record_fill(fill(at=T0 + timedelta(minutes=minutes), qty=qty))

    assert [f.qty for f in await migrated_store.fills_since(T0)] == [3, 2]


# ------------------------------------------------------------------------- trading state


async def test_trading_state_starts_active_and_halt_resume_append_history(
    migrated_store: Store,
) -> None:
    initial = await migrated_store.get_trading_state()
    assert initial.status is TradingState.ACTIVE
    assert initial.changed_at is None

    assert await migrated_store.halt("daily loss limit", "risk-watch", T0, day=DAY) is True
    assert await migrated_store.halt("again", "risk-watch", T0 + timedelta(seconds=5)) is False
    halted = await migrated_store.get_trading_state()
    assert (halted.status, halted.reason, halted.changed_by, halted.halt_day) == (
        TradingState.HALTED,
        "daily loss limit",
        "risk-watch",
        DAY,
    )
    assert halted.is_halted

    later = T0 + timedelta(hours=2)
    assert await migrated_store.resume("checked the account", "alice", later) is True
    assert await migrated_store.resume("twice", "alice", later) is False
    resumed = await migrated_store.get_trading_state()
    assert (resumed.status, resumed.reason, resumed.changed_at, resumed.halt_day) == (
        TradingState.ACTIVE,
        "checked the account",
        later,
        None,
    )

    history = await migrated_store.trading_state_history()
    assert [(h.status, h.changed_by, h.changed_at) for h in history] == [
        (TradingState.HALTED, "risk-watch", T0),
        (TradingState.ACTIVE, "alice", later),
    ]


async def test_halt_survives_a_new_engine(migrated_db: MigratedDatabase) -> None:
    await migrated_db.store.halt("broker refuses to close", "flattener", T0)
    await migrated_db.engine.dispose()

    fresh = make_engine(migrated_db.url)
    try:
        state = await Store(make_session_factory(fresh)).get_trading_state()
    finally:
        await fresh.dispose()
    assert state.is_halted
    assert state.reason == "broker refuses to close"


async def test_resume_needs_an_acknowledgement_and_a_name(migrated_store: Store) -> None:
    await migrated_store.halt("x", "risk-watch", T0)
    with pytest.raises(ValueError, match="acknowledgement"):
        await migrated_store.resume("  ", "alice", T0)
    with pytest.raises(ValueError, match="who"):
        await migrated_store.resume("ok", "", T0)
    assert (await migrated_store.get_trading_state()).is_halted


# ------------------------------------------------------------------------- daily equity


async def test_day_start_equity_first_writer_wins(migrated_store: Store) -> None:
    first = await migrated_store.get_or_set_day_start_equity(DAY, Decimal("100000.55"))
    second = await migrated_store.get_or_set_day_start_equity(DAY, Decimal("97000"))
    other_day = await migrated_store.get_or_set_day_start_equity(
        DAY + timedelta(days=1), Decimal("97000")
    )

    assert (first, second, other_day) == (
        Decimal("100000.55"),
        Decimal("100000.55"),
        Decimal("97000"),
    )


async def test_day_start_equity_when_callers_race_all_see_one_value(migrated_store: Store) -> None:
    values = await asyncio.gather(
        *(migrated_store.get_or_set_day_start_equity(DAY, Decimal(n)) for n in range(1, 7))
    )
    assert len(set(values)) == 1


async def test_mark_warning_sent_is_true_only_the_first_time(migrated_store: Store) -> None:
    with pytest.raises(LookupError):
        await migrated_store.mark_warning_sent(DAY, T0)
    await migrated_store.get_or_set_day_start_equity(DAY, Decimal("100000"))

    results = await asyncio.gather(
        *(migrated_store.mark_warning_sent(DAY, T0 + timedelta(seconds=n)) for n in range(5))
    )

    assert sorted(results) == [False] * 4 + [True]
    assert await migrated_store.mark_warning_sent(DAY, T0) is False


# ------------------------------------------------------------------------- positions


async def test_sync_positions_reports_added_removed_and_changed(migrated_store: Store) -> None:
    first = await migrated_store.sync_positions(
        [position("AAA", 10), position("BBB", 5), position("CCC", -3)],
        T0,
        catalyst_symbols={"AAA"},
    )
    assert first == PositionDiff(added=("AAA", "BBB", "CCC"))

    later = T0 + timedelta(minutes=5)
    second = await migrated_store.sync_positions(
        [position("AAA", 10, mark="11.00"), position("BBB", 8), position("DDD", 1)], later
    )
    assert second == PositionDiff(added=("DDD",), removed=("CCC",), changed=("BBB",))
    assert (
        await migrated_store.sync_positions(
            [position("AAA", 10, mark="12"), position("BBB", 8), position("DDD", 1)], later
        )
    ).is_empty

    mirror = {p.symbol: p for p in await migrated_store.list_positions()}
    assert sorted(mirror) == ["AAA", "BBB", "DDD"]
    assert mirror["AAA"].source is OrderSource.CATALYST
    assert mirror["BBB"].source is OrderSource.EXTERNAL
    assert mirror["AAA"].current_price == Decimal("12")
    assert mirror["AAA"].opened_at == T0
    assert mirror["BBB"].updated_at == later


async def test_sync_positions_with_no_broker_positions_empties_the_mirror(
    migrated_store: Store,
) -> None:
    await migrated_store.sync_positions([position("AAA", 1)], T0)
    diff = await migrated_store.sync_positions([], T0)
    assert diff == PositionDiff(removed=("AAA",))
    assert await migrated_store.list_positions() == []


# ------------------------------------------------------------------------- cycles, scans


async def test_cycle_start_finish_and_scan_results_are_journaled(migrated_store: Store) -> None:
    assert await migrated_store.next_cycle_number(DAY) == 1
    await migrated_store.start_cycle(CycleStart("c-1", DAY, 1, "paper", "schedule", T0))
    assert await migrated_store.next_cycle_number(DAY) == 2
    assert await migrated_store.next_cycle_number(DAY + timedelta(days=1)) == 1

    rows = [
        ScanResultRecord(
            "c-1", "AAPL", T0, Decimal("190.25"), 1_000_000, 1, "momentum", 0.91, True
        ),
        ScanResultRecord(
            "c-1", "XYZ", T0, Decimal("3.1"), 50_000_000_000, 2, "momentum", None, False, "price"
        ),
    ]
    await migrated_store.record_scan_results(rows)
    funnel = {"universe": 3000, "filtered": 40, "ranked": 5, "executed": 1}
    finished = T0 + timedelta(seconds=42)
    await migrated_store.finish_cycle(
        "c-1",
        status=CycleStatus.COMPLETED,
        scan_completed_at=T0 + timedelta(seconds=10),
        finished_at=finished,
        candidates_identified=5,
        trades_executed=1,
        funnel=funnel,
    )

    (cycle,) = await migrated_store.cycles_for_day(DAY)
    assert (cycle.status, cycle.finished_at, cycle.trades_executed) == (
        CycleStatus.COMPLETED,
        finished,
        1,
    )
    assert dict(cycle.funnel) == funnel
    assert list(cycle.funnel) == list(funnel)  # stage order is kept
    assert await migrated_store.get_cycle("c-1") == cycle
    assert await migrated_store.scan_results_for_cycle("c-1") == rows


async def test_scan_results_keep_each_stage_with_what_moved_the_symbol(
    migrated_store: Store,
) -> None:
    await migrated_store.start_cycle(CycleStart("c-1", DAY, 1, "paper", "schedule", T0))

    def row(stage: FunnelStage, rank: int, **fields: Any) -> ScanResultRecord:
        return ScanResultRecord(
            "c-1",
            "AAPL",
            T0,
            Decimal("190.25"),
            1_000,
            rank,
            "intraday",
            0.8,
            False,
            stage=stage,
            **fields,
        )

    ranked = row(
        FunnelStage.RANKED,
        1,
        kept=True,
        pattern="opening_range_breakout",
        features={"gap_pct": 4.2, "relative_volume": 3.5, "news": "fda_clinical"},
        indicators={"rsi": 61.5, "atr": None},
        reasons=("gap +4.2%", "FDA approval 1 h ago"),
        plan={"entry": "190.63", "stop": "187.10", "target": "197.69"},
    )
    patterns = row(FunnelStage.TECHNICALS, 3, kept=True)
    active = row(FunnelStage.MOST_ACTIVE, 7, kept=True)
    # Written out of order: read back in funnel order.
    await migrated_store.record_scan_results([ranked, patterns, active])
    await migrated_store.finish_cycle(
        "c-1",
        status=CycleStatus.COMPLETED,
        scan_completed_at=T0,
        finished_at=T0,
        candidates_identified=1,
        trades_executed=0,
        funnel={"universe": 10},
        skipped={"stale": 3, "no_snapshot": 1},
    )

    assert await migrated_store.scan_results_for_cycle("c-1") == [active, patterns, ranked]
    assert await migrated_store.scan_results_for_cycle("c-1", FunnelStage.RANKED) == [ranked]
    cycle = await migrated_store.get_cycle("c-1")
    assert cycle is not None
    assert dict(cycle.skipped) == {"stale": 3, "no_snapshot": 1}


async def test_finish_cycle_when_never_started_raises_lookup_error(migrated_store: Store) -> None:
    with pytest.raises(LookupError):
        await migrated_store.finish_cycle(
            "ghost",
            status=CycleStatus.FAILED,
            scan_completed_at=None,
            finished_at=T0,
            candidates_identified=0,
            trades_executed=0,
            funnel={},
            error_message="boom",
        )


async def test_scan_result_with_naive_timestamp_is_refused(migrated_store: Store) -> None:
    await migrated_store.start_cycle(CycleStart("c-1", DAY, 1, "paper", "schedule", T0))
    naive = ScanResultRecord(
        "c-1", "AAPL", datetime(2024, 6, 3, 9, 45), Decimal("1"), 1, 1, "momentum", None, False
    )
    with pytest.raises(ValueError, match="naive"):
        await migrated_store.record_scan_results([naive])


async def test_order_for_an_unknown_cycle_is_a_database_error(migrated_store: Store) -> None:
    with pytest.raises(OperationalError, match="record_order_intent"):
        await migrated_store.record_order_intent(intent(cycle_id="no-such-cycle"))


# ------------------------------------------------------------------------- risk, securities


async def test_risk_events_are_kept_with_their_details(migrated_store: Store) -> None:
    await migrated_store.record_risk_event(
        RiskEventKind.DAILY_LOSS_WARNING, Severity.WARNING, "75% of loss limit", T0
    )
    stored = await migrated_store.record_risk_event(
        RiskEventKind.EMERGENCY_STOP,
        Severity.CRITICAL,
        "loss limit breached",
        T0 + timedelta(minutes=1),
        {"loss": Decimal("2001.50"), "limit": Decimal("2000")},
    )

    since = await migrated_store.risk_events_since(T0 + timedelta(seconds=1))

    assert since == [stored]
    assert since[0].details == {"loss": "2001.5", "limit": "2000"}
    # Read back as the enums they were written with, not as bare strings.
    assert since[0].kind is RiskEventKind.EMERGENCY_STOP
    assert since[0].severity is Severity.CRITICAL
    assert stored.id > 0


async def test_upsert_securities_refreshes_existing_symbols(migrated_store: Store) -> None:
    await migrated_store.upsert_securities(
        [Asset("AAPL", "Apple", "NASDAQ", "Tech", True), Asset("XOM", "Exxon", "NYSE", None, True)],
        T0,
    )
    written = await migrated_store.upsert_securities(
        [Asset("XOM", "Exxon Mobil", "NYSE", "Energy", True)] * 2, T0 + timedelta(days=1)
    )

    assert written == 1
    assert await migrated_store.sectors(["AAPL", "XOM", "NOPE"]) == {
        "AAPL": "Tech",
        "XOM": "Energy",
    }


async def test_upsert_securities_writes_every_symbol_of_a_list_longer_than_one_statement(
    migrated_store: Store,
) -> None:
    count = SECURITIES_PER_STATEMENT * 2 + 7  # written in slices, one transaction
    assets = [Asset(f"S{i:05d}", f"Name {i}", "NYSE", f"sector {i}", True) for i in range(count)]
    await migrated_store.upsert_securities(assets[:10], T0)  # some exist already

    written = await migrated_store.upsert_securities(assets, T0 + timedelta(days=1))

    assert written == count
    symbols = [a.symbol for a in assets]
    assert await migrated_store.sectors(symbols) == {a.symbol: a.sector for a in assets}
