"""The dashboard's ASGI app (Starlette): HTML pages and their JSON, GET only, loopback hosts only.

Read-only by construction: every route is GET (HEAD), nothing here writes, and the source it
reads through (`DashboardSource`) offers only reads. A `Host` header other than the loopback
names is refused (a page on another site cannot reach it through DNS rebinding).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from catalyst.reporting.cycles import CycleDetail
from catalyst.reporting.dashboard import DashboardView
from catalyst.web.pages import Pages

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
REFRESH_SECONDS = 10


class DashboardSource(Protocol):
    """Where the pages come from: the journal, read only."""

    async def dashboard(self, day: date | None) -> DashboardView:
        """The page for `day` (None: today in New York)."""
        ...

    async def cycle(self, cycle_id: str) -> CycleDetail | None:
        """One cycle's detail, None if unknown."""
        ...

    async def chart(self, day: date | None) -> bytes | None:
        """The day's equity chart as PNG, None without equity samples."""
        ...


def _day_parameter(request: Request) -> date | None:
    text = request.query_params.get("date")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def build_app(source: DashboardSource, *, refresh_seconds: int = REFRESH_SECONDS) -> Starlette:
    """The dashboard over `source`; `refresh_seconds` is how often the page reloads itself."""
    pages = Pages(refresh_seconds=refresh_seconds)

    async def dashboard(request: Request) -> Response:
        if request.query_params.get("date") and _day_parameter(request) is None:
            return PlainTextResponse("date must be YYYY-MM-DD", status_code=400)
        view = await source.dashboard(_day_parameter(request))
        return HTMLResponse(pages.dashboard(view))

    async def dashboard_json(request: Request) -> Response:
        if request.query_params.get("date") and _day_parameter(request) is None:
            return JSONResponse({"error": "date must be YYYY-MM-DD"}, status_code=400)
        return JSONResponse((await source.dashboard(_day_parameter(request))).as_dict())

    async def cycle(request: Request) -> Response:
        detail = await source.cycle(request.path_params["cycle_id"])
        if detail is None:
            return HTMLResponse(pages.not_found("no such cycle in the journal"), status_code=404)
        return HTMLResponse(pages.cycle(detail))

    async def chart(request: Request) -> Response:
        if request.query_params.get("date") and _day_parameter(request) is None:
            return PlainTextResponse("date must be YYYY-MM-DD", status_code=400)
        png = await source.chart(_day_parameter(request))
        if png is None:
            return PlainTextResponse("no equity samples for this day", status_code=404)
        # The page's address carries the chart's version, so a changed chart has a new address.
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/", dashboard, methods=["GET"]),
            Route("/api/dashboard", dashboard_json, methods=["GET"]),
            Route("/cycles/{cycle_id}", cycle, methods=["GET"]),
            Route("/chart.png", chart, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK_HOSTS))],
    )
