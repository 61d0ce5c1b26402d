"""`catalyst status` on screen: rich tables on a terminal, plain aligned text anywhere else.

A pipe or a file gets the plain form (no ANSI codes, one `label: value` line per field, so `grep`
works); a terminal gets rich's tables, in colour unless NO_COLOR is set (rich honours it, and
TERM=dumb).
"""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from catalyst.reporting.status import StatusReport
from catalyst.reporting.status_view import Level, StatusView, Table, status_view

LABEL_WIDTH = 16
_STYLE = {
    Level.NORMAL: "",
    Level.GOOD: "green",
    Level.WARN: "yellow",
    Level.ALARM: "bold red",
}
_MARK = {Level.NORMAL: "  ", Level.GOOD: "  ", Level.WARN: " !", Level.ALARM: "!!"}


def print_status(report: StatusReport, file: TextIO | None = None) -> None:
    """Write `report` to `file` (stdout by default) in the form that suits it."""
    out = file if file is not None else sys.stdout
    view = status_view(report)
    if out.isatty():
        render_rich(view, Console(file=out))
    else:
        out.write(render_plain(view) + "\n")


def render_plain(view: StatusView) -> str:
    """The view as plain text: fields, then each table with aligned columns."""
    lines = [view.title]
    lines += [f"!! {alarm}" for alarm in view.alarms]
    lines += [f"{field.label + ':':<{LABEL_WIDTH}}{field.value}" for field in view.fields]
    for table in view.tables:
        lines += ["", *_plain_table(table)]
    return "\n".join(lines)


def _plain_table(table: Table) -> list[str]:
    if not table.rows:
        return [f"{table.title}: {table.empty}"]
    headers = tuple(c.header for c in table.columns)
    widths = [
        max(len(cells[i]) for cells in (headers, *(r.cells for r in table.rows)))
        for i in range(len(headers))
    ]

    def line(mark: str, cells: tuple[str, ...]) -> str:
        padded = (
            cell.rjust(width) if column.numeric else cell.ljust(width)
            for cell, width, column in zip(cells, widths, table.columns, strict=True)
        )
        return f"{mark} {'  '.join(padded)}".rstrip()

    lines = [f"{table.title}:", line("  ", headers)]
    lines += [line(_MARK[row.level], row.cells) for row in table.rows]
    if table.footnote:
        lines.append(f"   {table.footnote}")
    return lines


def render_rich(view: StatusView, console: Console) -> None:
    """The view as rich tables on `console`."""
    console.rule(Text(view.title, style="bold"))
    if view.alarms:
        console.print(
            Panel(
                Text("\n".join(view.alarms), style="bold red"),
                title="needs attention",
                border_style="red",
            )
        )
    fields = RichTable.grid(padding=(0, 2))
    fields.add_column(style="dim", no_wrap=True)
    fields.add_column(overflow="fold")
    for field in view.fields:
        fields.add_row(field.label, Text(field.value, style=_STYLE[field.level]))
    console.print(fields)
    for table in view.tables:
        console.print()
        console.print(_rich_table(table))


def _rich_table(table: Table) -> RichTable | Group:
    if not table.rows:
        return Group(Text(f"{table.title}: {table.empty}", style="dim"))
    rich = RichTable(
        title=table.title,
        title_justify="left",
        caption=table.footnote,
        caption_justify="left",
        header_style="bold",
    )
    for column in table.columns:
        rich.add_column(column.header, justify="right" if column.numeric else "left")
    for row in table.rows:
        rich.add_row(*row.cells, style=_STYLE[row.level] or None)
    return rich
