"""A configuration reload (SIGHUP) reaches every component of a running daemon.

The supervisor runs a whole simulated session with every task. At 09:35, with the scan trigger,
the end-of-day flattener, the reconciler and the risk-watch all armed with the start-up values,
the configuration is replaced; each component must act on the new values from then on.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs
from stubs import sim_components
from support import make_settings

from catalyst.config.models import Settings
from catalyst.daemon.supervisor import Supervisor
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import LegRole, OrderRequest, OrderType, Side
from catalyst.domain.ticks import round_down_to_tick
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.sim.broker import build_sim_broker
from catalyst.store.migrate import upgrade_database
from catalyst.store.tables import orders
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
RELOAD_AT = datetime.combine(DAY, time(9, 35), tzinfo=EXCHANGE_TZ)


def _et(hhmm: str) -> datetime:
    return datetime.combine(DAY, time.fromisoformat(hhmm), tzinfo=EXCHANGE_TZ)


class _ReadyEvent(SystemdNotifier):
    """No socket; `is_ready` is set when the supervisor reports READY=1."""

    def __init__(self) -> None:
        super().__init__(None)
        self.is_ready = asyncio.Event()

    def ready(self) -> None:
        self.is_ready.set()


def _reloaded(settings: Settings) -> Settings:
    """The start-up settings with one key changed for each component that must follow."""
    trading = settings.trading
    return settings.model_copy(
        update={
            "trading": trading.model_copy(
                update={
                    "schedule": trading.schedule.model_copy(
                        update={
                            "scan_times": (time(9, 15), time(9, 30), time(11, 0), time(14, 0)),
                            "flatten_minutes_before_close": 60,
                        }
                    ),
                    "workflow": trading.workflow.model_copy(update={"stop_loss_pct": 0.05}),
                    "trading_session": trading.trading_session.model_copy(
                        update={"max_hold_time_minutes": 20}
                    ),
                    "broker": trading.broker.model_copy(update={"requests_per_minute": 100}),
                }
            )
        }
    )


async def test_reload_reaches_scans_flattener_reconciler_and_risk_watch(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path, simulation={"symbols": 300})
    await asyncio.to_thread(upgrade_database, sqlite_url)
    calendar = ExchangeCalendar()
    session = calendar.session(DAY)
    assert session is not None
    clock = SimClock(datetime.combine(DAY, time(8, 0), tzinfo=EXCHANGE_TZ))
    broker = build_sim_broker(settings.trading.simulation, calendar, clock)
    stopping = False
    components = await sim_components(
        settings,
        clock,
        sqlite_url,
        broker=broker,
        calendar=calendar,
        entries_stopped=lambda: stopping,
    )
    systemd = _ReadyEvent()
    supervisor = Supervisor(
        components, systemd=systemd, simulated_until=session.close + timedelta(minutes=5)
    )
    fresh = _reloaded(settings)
    external: dict[str, object] = {}

    async def reload_mid_session() -> None:
        await systemd.is_ready.wait()  # every task armed with the start-up values
        async with clock.participant():
            await clock.sleep_until(RELOAD_AT)
            external["reload"] = supervisor.apply_settings(fresh)
            # A position bought outside Catalyst: no stop, so the reconciler must place one.
            assets = [a.symbol for a in await broker.list_assets() if a.tradable]
            snapshots = await broker.get_snapshots(assets)
            symbol = next(s for s, v in sorted(snapshots.items()) if v.last_price > 5)
            await broker.submit_order(OrderRequest("manual-buy-1", symbol, Side.BUY, 10))
            external["symbol"] = symbol
            position = next(p for p in await broker.list_positions() if p.symbol == symbol)
            external["avg_price"] = position.avg_entry_price

    try:
        with capture_logs() as logs:
            async with asyncio.TaskGroup() as group:
                run = group.create_task(supervisor.run())
                group.create_task(reload_mid_session())
        record = run.result()
        async with components.engine.connect() as connection:
            journal = [dict(r) for r in (await connection.execute(select(orders))).mappings()]
        risk_events = await components.store.risk_events_since(_et("09:00"))
    finally:
        stopping = True
        await components.close()

    reload = external["reload"]
    assert reload.needs_restart == ("broker.requests_per_minute",)  # type: ignore[attr-defined]
    assert "workflow.stop_loss_pct" in reload.changed  # type: ignore[attr-defined]

    # Scans: the old times until the reload, then only the new ones (never the old 10:30).
    assert [c.cycle_id for c in record.cycles] == [
        "20261124-0915",
        "20261124-0930",
        "20261124-1100",
        "20261124-1400",
    ]

    # Reconciler: the protective stop is 5 % below the entry, not the start-up 2 %.
    symbol = external["symbol"]
    protective = [
        o
        for o in journal
        if o["symbol"] == symbol
        and o["order_type"] == OrderType.STOP.value
        and o["role"] == LegRole.STOP_LOSS.value
        and o["parent_client_order_id"] is None
    ]
    assert protective, "the reconciler placed no protective stop"
    avg_price = external["avg_price"]
    assert isinstance(avg_price, Decimal)
    expected_stop = round_down_to_tick(avg_price * (1 - Decimal("0.05")))
    assert {Decimal(str(o["stop_price"])) for o in protective} == {expected_stop}

    # Risk-watch: the external position is closed after the new 20-minute max hold.
    holds = [e for e in risk_events if e.kind == "max_hold_time" and symbol in e.message]
    assert holds, [e.kind for e in risk_events]
    assert _et("09:55") <= holds[0].at.astimezone(EXCHANGE_TZ) < _et("10:05")

    # End-of-day flattener: re-armed for 60 minutes before the close, not the start-up 10.
    armed = [e["at"] for e in logs if e["event"] == "end-of-day flatten armed"]
    today = [at for at in armed if at.startswith(DAY.isoformat())]
    assert today == [_et("15:50").isoformat(), _et("15:00").isoformat()]
    assert len(components.end_of_day.results) == 1, "the flattener must run once"
    assert components.end_of_day.results[0].flat


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("broker", "requests_per_minute", 100),
        ("paths", "pause_file", Path("/elsewhere/PAUSE")),
        ("notifications", "smtp_port", 2525),
        ("simulation", "seed", 8),
        ("database", "echo", True),
    ],
)
async def test_reload_names_each_key_that_needs_a_restart_and_keeps_its_running_value(
    tmp_path: Path, sqlite_url: str, section: str, key: str, value: object
) -> None:
    settings = make_settings(tmp_path, simulation={"symbols": 50})
    await asyncio.to_thread(upgrade_database, sqlite_url)
    clock = SimClock(datetime.combine(DAY, time(8, 0), tzinfo=EXCHANGE_TZ))
    components = await sim_components(settings, clock, sqlite_url)
    try:
        supervisor = Supervisor(components, systemd=SystemdNotifier.from_environment({}))
        current = getattr(settings.trading, section)
        changed = getattr(settings.trading, section).model_copy(update={key: value})
        fresh = settings.model_copy(
            update={
                "trading": settings.trading.model_copy(update={section: changed}),
                "risk": settings.risk.model_copy(
                    update={
                        "risk_limits": settings.risk.risk_limits.model_copy(
                            update={"max_positions": 3}
                        )
                    }
                ),
            }
        )

        reload = supervisor.apply_settings(fresh)

        assert reload.needs_restart == (f"{section}.{key}",)
        assert set(reload.changed) == {f"{section}.{key}", "risk_limits.max_positions"}
        assert getattr(components.settings.trading, section) == current
        assert components.settings.risk.risk_limits.max_positions == 3
    finally:
        await components.close()
