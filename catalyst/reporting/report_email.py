"""The day report in the form an email needs: subject, text body, HTML body and the chart as an
inline PNG with its content id. Sending it is the alert channel's job, not this module's."""

from __future__ import annotations

from dataclasses import dataclass

from catalyst.reporting.day_report import DayReport
from catalyst.reporting.report_chart import equity_chart_png
from catalyst.reporting.report_html import render_html

CHART_CONTENT_ID = "catalyst-equity-chart"


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image the HTML body shows through `cid:<content_id>`."""

    content_id: str
    data: bytes
    filename: str
    mime_type: str = "image/png"


@dataclass(frozen=True, slots=True)
class ReportEmail:
    """A day report ready to send: the HTML references each of `images` by its content id."""

    subject: str
    text: str
    html: str
    images: tuple[InlineImage, ...] = ()


def report_email(report: DayReport) -> ReportEmail:
    """The email of `report`; its subject says PAPER or LIVE and the day P&L."""
    png = equity_chart_png(report)
    images = (
        ()
        if png is None
        else (InlineImage(CHART_CONTENT_ID, png, f"equity-{report.day.isoformat()}.png"),)
    )
    return ReportEmail(
        subject=f"Catalyst {report.headline()}",
        text=report.render(),
        html=render_html(report, chart_src=None if png is None else f"cid:{CHART_CONTENT_ID}"),
        images=images,
    )
