"""The text layout `catalyst cycles` and the dry run share: the terminal width, wrapping, aligned
table cells, how prices, scores and a row's key figures are written.

Pure: strings and journal rows in, lines out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from catalyst.store.records import ScanResultRecord

WIDTH = 100  # the terminal width the text is laid out for
MIN_REASON_WIDTH = 40  # narrower than this, a row's outcome goes on the lines below it
REASON_INDENT = 8  # where a reason starts when it is put below its row
FUNNEL_ARROW = " → "
NOT_KNOWN = "-"


def wrap_items(label: str, items: Sequence[str], separator: str) -> list[str]:
    """`items` joined by `separator` after `label`, lines broken only between items (after the
    separator), continuation lines hung under the first item."""
    pieces = [item + separator for item in items[:-1]] + list(items[-1:])
    lines: list[str] = []
    current = label
    for piece in pieces:
        if current != label and not current.isspace() and len(current + piece.rstrip()) > WIDTH:
            lines.append(current.rstrip())
            current = " " * len(label)
        current += piece
    lines.append(current.rstrip())
    return lines


def wrap_text(text: str, width: int, *, indent: str = "", hang: str = "") -> list[str]:
    # Never at a hyphen: "-0.3%" is a number, not two words.
    return textwrap.wrap(
        text, width, initial_indent=indent, subsequent_indent=hang, break_on_hyphens=False
    )


def with_outcome(prefix: str, outcome: str) -> list[str]:
    """A row's cells and its outcome: wrapped in the outcome's column when there is room for
    it, otherwise on the lines below the row."""
    room = WIDTH - len(prefix)
    if len(outcome) <= room or room >= MIN_REASON_WIDTH:
        first, *more = wrap_text(outcome, max(room, 1))
        return [prefix + first, *(" " * len(prefix) + line for line in more)]
    below = " " * REASON_INDENT
    return [prefix.rstrip(), *wrap_text(outcome, WIDTH, indent=below, hang=below)]


@dataclass(frozen=True, slots=True)
class Figure:
    """A key figure shown as a column of a stage's table (when some row of it has the figure)."""

    header: str
    key: str  # in the row's features, or with `indicator` in its indicators
    form: str
    indicator: bool = False

    def value(self, row: ScanResultRecord) -> object:
        figures: Mapping[str, object] = row.indicators if self.indicator else row.features
        return figures.get(self.key)

    def text(self, row: ScanResultRecord) -> str:
        value = self.value(row)
        if value is None:
            return NOT_KNOWN
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        text = self.form.format(value)
        if self.key == "news_count":  # the count, and the headlines' score when they moved it
            score = row.features.get("news_score")
            if isinstance(score, int | float) and score:
                text += f" {score:+.2f}"
        return text


FIGURES = (
    Figure("rvol", "relative_volume", "{:.1f}x"),
    Figure("gap", "gap_pct", "{:+.1f}%"),
    Figure("news", "news_count", "{:.0f}"),
    Figure("rsi", "rsi", "{:.0f}", indicator=True),
)


def column_widths(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[int]:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    return widths


def aligned_cells(row: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    """`row` padded to `widths` (right-aligned where `right` says), two spaces in; not
    stripped, so that text appended to it starts in one column for every row."""
    parts = [
        cell.rjust(width) if align_right else cell.ljust(width)
        for cell, width, align_right in zip(row, widths, right, strict=True)
    ]
    return "  " + "  ".join(parts)


def price_text(price: Decimal) -> str:
    return f"{price:.4f}" if price < 1 else f"{price:.2f}"


def score_text(score: float | None) -> str:
    return NOT_KNOWN if score is None else f"{score:.2f}"
