"""The day report's chart, HTML page and email form, from a constructed day with an equity curve:
the PNG is a real picture of the expected size with something drawn on it, the HTML stands
alone, and the email's HTML shows the very image it carries."""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from PIL import Image, ImageChops, ImageStat
from stubs import fill

from catalyst.domain.models import LegRole, OrderClass, OrderType, Side
from catalyst.reporting.day_report import NO_SAMPLES, DayReport
from catalyst.reporting.equity import EquityPoint
from catalyst.reporting.report_chart import HEIGHT_PX, WIDTH_PX, equity_chart_png
from catalyst.reporting.report_email import CHART_CONTENT_ID, report_email
from catalyst.reporting.report_html import png_data_uri, render_html
from catalyst.reporting.trades import DayTrades, pair_trades
from catalyst.store.records import OrderRecord, OrderSource

DAY = date(2026, 11, 24)
OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 New York
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _entry(symbol: str) -> OrderRecord:
    return OrderRecord(
        client_order_id=f"entry-{symbol}",
        broker_order_id=None,
        parent_client_order_id=None,
        cycle_id=None,
        symbol=symbol,
        side=Side.BUY,
        qty=100,
        order_type=OrderType.LIMIT,
        order_class=OrderClass.BRACKET,
        role=LegRole.ENTRY,
        limit_price=Decimal(50),
        stop_price=None,
        take_profit_price=Decimal(52),
        stop_loss_price=Decimal(49),
        status="filled",
        filled_qty=100,
        filled_avg_price=Decimal(50),
        created_at=OPEN,
        updated_at=OPEN,
        source=OrderSource.CATALYST,
        error=None,
    )


def _day(*, samples: bool = True, environment: str = "paper") -> DayReport:
    """One losing trade <AAA & b> (the symbol carries HTML to be escaped), and a curve that
    rises to 100 150, falls to 99 800 and ends at 99 900."""
    symbol = "A<&>"
    fills = [
        fill(
            Side.BUY,
            100,
            "50",
            symbol=symbol,
            at=OPEN + timedelta(minutes=30),
            client_order_id=f"entry-{symbol}",
        ),
        fill(
            Side.SELL,
            100,
            "49",
            symbol=symbol,
            at=OPEN + timedelta(minutes=200),
            client_order_id="someone",
        ),
    ]
    rise = [150 * min(i, 60) / 60 for i in range(391)]
    fall = [350 * min(max(0, i - 120), 120) / 120 for i in range(391)]
    levels = [100000 + up - down for up, down in zip(rise, fall, strict=True)]
    levels[-1] = 99900
    curve = tuple(
        EquityPoint(OPEN + timedelta(minutes=i), Decimal(str(round(v, 2))))
        for i, v in enumerate(levels)
    )
    return DayReport.build(
        DAY,
        environment=environment,
        trades=pair_trades(fills, {f"entry-{symbol}": _entry(symbol)}, {}),
        cycles=(),
        risk_events=(),
        equity=curve if samples else (),
        start_equity=Decimal(100000),
    )


def test_the_chart_is_a_png_of_the_expected_size_with_a_curve_drawn_on_it() -> None:
    png = equity_chart_png(_day())
    assert png is not None
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    # Mostly white, but a curve, axes and text: far from one flat colour.
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 20
    # The curve itself: a line across the plot in its own colour (axes and text are black).
    red, green, blue = (image.getchannel(c) for c in "RGB")
    curve = ImageChops.multiply(
        ImageChops.multiply(_band(red, 31), _band(green, 78)), _band(blue, 121)
    )
    curve_pixels = curve.histogram()[255]
    assert curve_pixels > 1000
    left, _, right, _ = curve.getbbox() or (0, 0, 0, 0)
    assert right - left > WIDTH_PX // 2  # it spans the session


def _band(channel: Image.Image, value: int, tolerance: int = 40) -> Image.Image:
    """255 where `channel` is within `tolerance` of `value`, else 0."""
    return channel.point(lambda v: 255 if abs(v - value) <= tolerance else 0)


def test_no_equity_samples_means_no_chart_and_the_page_says_why() -> None:
    report = _day(samples=False)
    assert equity_chart_png(report) is None
    page = render_html(report, chart_src=None)
    assert NO_SAMPLES in page
    assert "<img" not in page


def test_the_html_file_stands_alone_with_the_chart_inline_and_text_escaped() -> None:
    report = _day()
    png = equity_chart_png(report)
    assert png is not None
    page = render_html(report, chart_src=png_data_uri(png))
    found = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert found is not None
    assert base64.b64decode(found.group(1)) == png
    assert "A&lt;&amp;&gt;" in page
    assert "A<&>" not in page
    assert "http" not in page  # nothing fetched from anywhere
    assert "-100.00" in page
    assert "manual/external" in page


def test_the_email_names_paper_or_live_and_the_day_pnl_and_shows_the_image_it_carries() -> None:
    email = report_email(_day(environment="live"))
    assert email.subject == "Catalyst 2026-11-24 LIVE: day P&L -100.00 USD, 1 trade"
    (image,) = email.images
    assert image.content_id == CHART_CONTENT_ID
    assert image.data.startswith(PNG_SIGNATURE)
    assert f'src="cid:{CHART_CONTENT_ID}"' in email.html
    assert "max drawdown:" in email.text
    assert "-350.00 USD" in email.text  # 100 150 down to 99 800


def test_an_email_of_a_day_without_trading_carries_no_image() -> None:
    report = DayReport.build(
        DAY,
        environment="paper",
        trades=DayTrades(()),
        cycles=(),
        risk_events=(),
        equity=(),
        start_equity=None,
    )
    email = report_email(report)
    assert email.subject == "Catalyst 2026-11-24 PAPER: no trading"
    assert email.images == ()
    assert "No trading on 2026-11-24" in email.html
