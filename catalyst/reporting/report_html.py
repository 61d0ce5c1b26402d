"""The day report as one self-contained HTML page (inline CSS, no scripts, no external files):
readable in a browser and in a mail client. Where the chart comes from is the caller's: a
`data:` URI for a file, `cid:...` for an email with the PNG attached inline."""

from __future__ import annotations

import base64
from html import escape

from catalyst.reporting.day_report import NO_SAMPLES, DayReport, local_time, trade_cells

_STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #222;
       max-width: 1040px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.note { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-size: 14px; }
th, td { padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
tr:nth-child(even) td { background: #fafafa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th { background: none; color: #555; font-weight: normal; }
.gain { color: #2e7d32; } .loss { color: #c62828; }
.critical { color: #c62828; font-weight: 600; } .warning { color: #a15c00; }
.funnel { color: #555; font-size: 13px; }
img.chart { max-width: 100%; border: 1px solid #e3e3e3; }
"""


def png_data_uri(png: bytes) -> str:
    """A PNG as a `data:` URI, for an HTML file that must stand alone."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(report: DayReport, *, chart_src: str | None) -> str:
    """The whole page; `chart_src` None: no chart (no equity samples), said in its place."""
    title = f"Catalyst day report {report.day.isoformat()} ({report.environment.upper()})"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        '<p class="note">times America/New_York</p>',
    ]
    if not report.traded:
        parts.append(
            f"<p>No trading on {report.day.isoformat()}: no cycles, trades or risk events in "
            "the journal.</p></body></html>"
        )
        return "\n".join(parts)
    parts += [_summary(report), "<h2>Equity</h2>"]
    if chart_src is not None:
        alt = f"equity over the session of {report.day.isoformat()}"
        parts.append(f'<img class="chart" src="{escape(chart_src)}" alt="{escape(alt)}">')
    else:
        parts.append(f'<p class="note">{escape(NO_SAMPLES)}: no chart.</p>')
    parts += [_trades(report), _cycles(report), _risk_events(report), "</body></html>"]
    return "\n".join(parts)


def _summary(report: DayReport) -> str:
    rows = []
    for label, value in report.summary_lines():
        css = ""
        if label in ("day P&L", "realised P&L"):
            css = ' class="gain"' if value.startswith("+") else ' class="loss"'
        rows.append(f"<tr><th>{escape(label)}</th><td{css}>{escape(value)}</td></tr>")
    return '<table class="summary">' + "".join(rows) + "</table>"


def _trades(report: DayReport) -> str:
    if not report.trades:
        return "<h2>Trades</h2><p>None.</p>"
    header = ("symbol", "qty", "entry", "at", "exit", "at", "reason", "P&amp;L", "R")
    numeric = {1, 2, 4, 7, 8}
    head = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(header)
    )
    body = []
    for trade in report.trades:
        cells = []
        for i, cell in enumerate(trade_cells(trade)):
            classes = ["num"] if i in numeric else []
            if i == 7:
                classes.append("gain" if trade.pnl > 0 else "loss" if trade.pnl < 0 else "")
            css = f' class="{" ".join(c for c in classes if c)}"' if classes else ""
            cells.append(f"<td{css}>{escape(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<h2>Trades ({len(report.trades)})</h2><table><tr>{head}</tr>" + "".join(body) + "</table>"
    )


def _cycles(report: DayReport) -> str:
    if not report.cycles:
        return "<h2>Cycles</h2><p>None.</p>"
    rows = []
    for c in report.cycles:
        funnel = " → ".join(f"{stage} {count}" for stage, count in c.funnel.items())
        if c.error_message:
            funnel += f" ({c.error_message})"
        rows.append(
            f'<tr><td class="num">{c.cycle_number}</td><td>{local_time(c.started_at)}</td>'
            f"<td>{escape(c.status)}</td>"
            f'<td class="num">{c.candidates_identified}</td>'
            f'<td class="num">{c.trades_executed}</td>'
            f'<td class="funnel">{escape(funnel)}</td></tr>'
        )
    head = (
        '<tr><th class="num">#</th><th>started</th><th>status</th>'
        '<th class="num">candidates</th><th class="num">trades</th><th>funnel</th></tr>'
    )
    run = len(report.cycles_run)
    return f"<h2>Cycles run ({run})</h2><table>{head}" + "".join(rows) + "</table>"


def _risk_events(report: DayReport) -> str:
    if not report.risk_events:
        return "<h2>Risk events</h2><p>None.</p>"
    rows = [
        f'<tr><td>{local_time(e.at)}</td><td class="{escape(e.severity)}">'
        f"{escape(e.severity)}</td><td>{escape(e.kind)}</td><td>{escape(e.message)}</td></tr>"
        for e in report.risk_events
    ]
    head = "<tr><th>at</th><th>severity</th><th>kind</th><th>message</th></tr>"
    return (
        f"<h2>Risk events ({len(report.risk_events)})</h2><table>{head}"
        + "".join(rows)
        + "</table>"
    )
