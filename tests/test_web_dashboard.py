"""The web dashboard on a journal with a simulated day in it: served over real HTTP by uvicorn,
read as a script would (JSON) and as a person would (headless Chromium, screenshots)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import aiohttp
import pytest
from browser import rendered_dom, screenshot
from day_journal import JournaledDay
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from stubs import plan
from support import eventually, make_settings

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.proposals import EntryProposal
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.reporting.cycles import CycleDetail
from catalyst.reporting.dashboard import DashboardView
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.repository import Store
from catalyst.store.tables import metadata
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock
from catalyst.web.app import DashboardSource, build_app
from catalyst.web.server import bind_loopback, make_server
from catalyst.web.source import JournalSource

pytestmark = pytest.mark.slow


@dataclass
class Served:
    url: str
    store: Store
    engine: AsyncEngine
    day: JournaledDay
    clock: SimClock
    source: DashboardSource

    async def get(self, path: str, **headers: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.url + path, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def json(self, path: str) -> dict[str, object]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.url + path) as response,
        ):
            assert response.status == 200
            body: dict[str, object] = await response.json()
            return body


async def _serve(
    tmp_path: Path,
    day: JournaledDay,
    *,
    refresh_seconds: int,
    wrap: Callable[[JournalSource, Store, SimClock], DashboardSource] | None = None,
) -> AsyncIterator[Served]:
    engine = make_engine(day.copy_to(tmp_path / "journal"))
    store = Store(make_session_factory(engine))
    clock = SimClock(datetime.combine(day.day, time(16, 30), tzinfo=EXCHANGE_TZ))
    settings = make_settings(tmp_path / "state")
    source = JournalSource(
        settings, store, clock, ExchangeCalendar(), host="test-host", state_dir=tmp_path / "state"
    )
    served_source = wrap(source, store, clock) if wrap is not None else source
    sock = bind_loopback(0)
    server = make_server(build_app(served_source, refresh_seconds=refresh_seconds))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started, within=30)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield Served(url, store, engine, day, clock, served_source)
    finally:
        server.should_exit = True
        await task
        sock.close()
        await engine.dispose()


@pytest.fixture
async def served(tmp_path: Path, simulated_day: JournaledDay) -> AsyncIterator[Served]:
    async for served in _serve(tmp_path, simulated_day, refresh_seconds=10):
        yield served


async def _row_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        counts = {}
        for table in metadata.sorted_tables:
            result = await connection.execute(select(func.count()).select_from(table))
            counts[table.name] = result.scalar_one()
        return counts


async def test_the_page_shows_the_day_s_cycles_account_and_state(served: Served) -> None:
    status, page = await served.get("/")

    assert status == 200
    summary = served.day.summary
    cycle_links = re.findall(r'href="/cycles/([^"]+)"', page)
    assert len(cycle_links) == summary.scans_run
    assert "PAPER" in page
    assert "ACTIVE" in page
    assert "universe 800" in page
    assert "The book is flat." in page, "flat at the close"
    assert "No daemon is running" in page, "the simulated daemon has stopped"
    assert f"{summary.end_equity:,.2f}" in page, "equity as the risk-watch last read it"
    trades = page[page.index('id="trades"') : page.index('id="cycles"')]
    assert trades.count("<tr>") - 1 == summary.entries_placed, "one row per trade"
    assert "end of day" in trades or "max hold" in trades or "stop" in trades
    assert re.search(r'<img src="/chart\.png\?date=2026-11-24&amp;v=[^"]+"', page)
    assert 'id="proposals"' not in page, "an autonomous day has no proposals"


async def test_the_chart_is_a_png_drawn_once_until_the_day_changes(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(served.url + "/chart.png?date=2026-11-24") as response:
            assert response.status == 200
            assert response.content_type == "image/png"
            first = await response.read()
        async with session.get(served.url + "/chart.png?date=2026-11-24") as response:
            again = await response.read()
        async with session.get(served.url + "/chart.png?date=2026-11-22") as response:
            assert response.status == 404, "a Sunday: no samples, no chart"

    assert first.startswith(b"\x89PNG")
    assert again == first
    source = served.source
    assert isinstance(source, JournalSource)
    cached = source._charts[served.day.day]  # the cache is the point of the test
    assert cached[1] is not None
    assert cached[1] == first, "drawn once, then served from the cache"


async def test_supervised_proposals_are_listed_with_the_command_to_run(served: Served) -> None:
    body = await served.json("/api/dashboard")
    cycles = body["cycles"]
    assert isinstance(cycles, list)
    now = served.clock.now()
    made = await served.store.record_proposal(
        EntryProposal.for_plan(
            plan(symbol="WXYZ"),
            cycle_id=str(cycles[-1]["cycle_id"]),
            reasons=("gap +4.1 %",),
            created_at=now - timedelta(minutes=1),
            expires_at=now + timedelta(minutes=14),
        )
    )
    assert made is not None

    status, page = await served.get("/")

    assert status == 200
    section = page[page.index('id="proposals"') :]
    assert "1 waiting" in section
    assert f"<code>catalyst approve {made.proposal_id}</code>" in section
    assert "<form" not in page, "read-only: nothing to submit"
    assert "<button" not in page, "read-only: nothing to click"


async def test_the_json_carries_what_the_page_shows(served: Served) -> None:
    body = await served.json(f"/api/dashboard?date={served.day.day.isoformat()}")

    assert body["day"] == served.day.day.isoformat()
    cycles = body["cycles"]
    assert isinstance(cycles, list)
    assert len(cycles) == served.day.summary.scans_run
    equity = body["equity"]
    assert isinstance(equity, list)
    assert 350 <= len(equity) <= 420, "one sample a minute over the session, a few outside"
    assert equity[-1]["equity"] == str(served.day.summary.end_equity)


async def test_a_cycle_page_explains_each_candidate_and_an_unknown_one_is_404(
    served: Served,
) -> None:
    body = await served.json("/api/dashboard")
    cycles = body["cycles"]
    assert isinstance(cycles, list)
    traded = next(c for c in cycles if c["trades_executed"])

    status, page = await served.get(f"/cycles/{traded['cycle_id']}")
    missing, _ = await served.get("/cycles/20990101-0930")

    assert status == 200
    assert "Final candidates" in page
    assert page.count('class="verdict-final"') >= traded["trades_executed"]
    assert 'class="verdict-dropped"' in page
    assert missing == 404


async def test_it_is_read_only_and_answers_only_loopback_hosts(served: Served) -> None:
    before = await _row_counts(served.engine)
    async with aiohttp.ClientSession() as session:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            async with session.request(method, served.url + "/") as response:
                assert response.status == 405, method
    for path in ("/", "/api/dashboard", "/?date=2026-11-23", "/healthz"):
        assert (await served.get(path))[0] == 200
    foreign, _ = await served.get("/", Host="dashboard.example.com")
    bad_date, _ = await served.get("/?date=24/11/2026")

    assert foreign == 400, "DNS rebinding: a foreign Host header is refused"
    assert bad_date == 400
    assert await _row_counts(served.engine) == before


class _AfterFirstLoad:
    """The journal source, which records a risk event once the first page has been served:
    only the page's own refresh can then show it."""

    def __init__(self, inner: JournalSource, store: Store, clock: SimClock) -> None:
        self._inner = inner
        self._store = store
        self._clock = clock
        self.loads = 0
        self.charts_served = 0

    async def dashboard(self, day: date | None) -> DashboardView:
        view = await self._inner.dashboard(day)
        self.loads += 1
        if self.loads == 1:
            await self._store.record_risk_event(
                RiskEventKind.MANUAL_FLATTEN,
                Severity.WARNING,
                "appeared after the page loaded",
                self._clock.now(),
            )
        return view

    async def cycle(self, cycle_id: str) -> CycleDetail | None:
        return await self._inner.cycle(cycle_id)

    async def chart(self, day: date | None) -> bytes | None:
        png = await self._inner.chart(day)
        self.charts_served += png is not None
        return png


async def test_in_a_browser_the_page_renders_and_refreshes_itself_in_place(
    tmp_path: Path, simulated_day: JournaledDay
) -> None:
    async for served in _serve(tmp_path, simulated_day, refresh_seconds=1, wrap=_AfterFirstLoad):
        source = served.source
        assert isinstance(source, _AfterFirstLoad)

        dom = await asyncio.to_thread(rendered_dom, served.url + "/", virtual_time_ms=3_000)

        assert source.loads >= 2, "the page fetched itself again"
        assert 'id="cycles"' in dom
        assert "appeared after the page loaded" in dom, "the refresh replaced the content"
        assert dom.count('id="cycles"') == 1, "replaced, not appended"
        shot = await asyncio.to_thread(screenshot, served.url + "/", tmp_path / "dashboard.png")
        assert shot.stat().st_size > 20_000, "a page with content, not a blank one"
        assert source.charts_served >= 1, "the browser loaded the equity chart"
