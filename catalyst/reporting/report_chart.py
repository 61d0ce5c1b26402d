"""The day report's intraday equity curve as a PNG, drawn headless.

matplotlib is used through its object API only (`Figure` + `FigureCanvasAgg`): no pyplot, no
backend switch, no global figure registry, so drawing a chart in the daemon or in a test changes
no state anyone else shares. It is imported when a chart is drawn, not when Catalyst starts.
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.reporting.day_report import DayReport

WIDTH_PX = 1000
HEIGHT_PX = 420
DPI = 100

_CURVE = "#1f4e79"
_START = "#7f7f7f"
_ENTRY = "#2e7d32"
_WIN = "#2e7d32"
_LOSS = "#c62828"
_DRAWDOWN = "#f4cccc"


@dataclass(frozen=True, slots=True)
class _Marker:
    at: datetime
    y: float
    colour: str
    shape: str
    label: str


def equity_chart_png(report: DayReport) -> bytes | None:
    """The session's equity with the day's starting equity as a line, entries (▲) and exits (▼,
    green for a gain, red for a loss) on the curve, the deepest fall shaded; New York time on
    the axis; the date, PAPER/LIVE and the day P&L in the title. None without equity samples."""
    if not report.equity:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, DateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    xs = [p.at for p in report.equity]
    ys = [float(p.equity) for p in report.equity]
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)  # attaches itself to the figure
    ax = figure.add_subplot()
    dd = report.drawdown
    if dd is not None and dd.amount > 0:
        ax.axvspan(
            dd.peak.at,  # type: ignore[arg-type]  # matplotlib converts datetimes itself
            dd.trough.at,  # type: ignore[arg-type]
            color=_DRAWDOWN,
            alpha=0.6,
            label=f"max drawdown {-dd.amount:.2f}",
        )
    if report.start_equity is not None:
        ax.axhline(
            float(report.start_equity),
            color=_START,
            linestyle="--",
            linewidth=1,
            label=f"start {report.start_equity:.2f}",
        )
    ax.plot(xs, ys, color=_CURVE, linewidth=1.6, label="equity")  # type: ignore[arg-type]
    labelled: set[str] = set()  # one legend entry per kind of marker
    for m in _markers(report, ys):
        label = m.label if m.label not in labelled else None
        labelled.add(m.label)
        ax.scatter([m.at], [m.y], color=m.colour, marker=m.shape, s=42, zorder=3, label=label)  # type: ignore[arg-type]
    # matplotlib.dates is not annotated; the ticks are New York time whatever rcParams say.
    locator = AutoDateLocator(tz=EXCHANGE_TZ, minticks=5, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=EXCHANGE_TZ))  # type: ignore[no-untyped-call]
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_xlabel("New York time")
    ax.set_ylabel("equity (USD)")
    ax.grid(True, color="#e6e6e6", linewidth=0.8)
    ax.legend(loc="best", fontsize="small", frameon=False)
    ax.set_title(
        f"{report.day.isoformat()} {report.environment.upper()}: day P&L "
        f"{report.day_pnl:+,.2f} USD",
        color=_WIN if report.day_pnl >= 0 else _LOSS,
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _markers(report: DayReport, ys: list[float]) -> list[_Marker]:
    """Entries and exits placed on the curve (equity interpolated at their moment); those
    outside the samples' span are left off."""
    stamps = [p.at.timestamp() for p in report.equity]

    def on_curve(at: datetime) -> float | None:
        x = at.timestamp()
        if x < stamps[0] or x > stamps[-1]:
            return None
        after = bisect.bisect_left(stamps, x)
        if stamps[after] == x or after == 0:
            return ys[after]
        share = (x - stamps[after - 1]) / (stamps[after] - stamps[after - 1])
        return ys[after - 1] + (ys[after] - ys[after - 1]) * share

    markers: list[_Marker] = []
    for trade in report.trades:
        y = on_curve(trade.entered_at)
        if y is not None:
            markers.append(_Marker(trade.entered_at, y, _ENTRY, "^", "entry"))
        if trade.exited_at is not None:
            y = on_curve(trade.exited_at)
            if y is not None:
                gain = trade.pnl >= Decimal(0)
                colour, label = (_WIN, "exit, gain") if gain else (_LOSS, "exit, loss")
                markers.append(_Marker(trade.exited_at, y, colour, "v", label))
    return markers
