"""Human-readable tables for the terminal (rich), and the same rows as JSON for scripts.

An on-call engineer reads these in an 80-column pane: a label, an id or a time broken over
two lines cannot be copied into a query, so those columns never wrap, and free text (a
message, a root cause) wraps in the width left over. When the labels leave too little of
it, each row is shown as a record of its own, one field a line, as psql's expanded display
does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

# a column is free text when some value holds a space and some value is longer than this
TEXT_MIN_LENGTH = 24
# the least width a free-text column is given before rows are shown as records instead
TEXT_MIN_WIDTH = 20
# what a column costs besides its content: one padding space on each side and a border
COLUMN_OVERHEAD = 3


def cell(value: Any) -> str:
    """A value as the table shows it: times to the second, nothing for NULL."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _is_text(values: Sequence[str]) -> bool:
    return any(" " in value for value in values) and any(len(value) > TEXT_MIN_LENGTH for value in values)


def print_table(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    console: Console | None = None,
    row_styles: Sequence[str | None] = (),
) -> None:
    """Print rows under their headers; ``row_styles`` (one per row) highlights rows, failures for instance."""
    console = console or Console()
    cells = [[cell(value) for value in row] for row in rows]
    columns = [[row[index] for row in cells] for index in range(len(headers))]
    text = [_is_text(column) for column in columns]
    widths = [max([len(header), *map(len, column)]) for header, column in zip(headers, columns, strict=True)]
    labels = sum(width for width, is_text in zip(widths, text, strict=True) if not is_text)
    room = console.width - 1 - labels - COLUMN_OVERHEAD * len(headers)
    if room >= TEXT_MIN_WIDTH * sum(text):
        table = Table(title=title, title_justify="left")
        for header, width, is_text in zip(headers, widths, text, strict=True):
            if is_text:
                table.add_column(header, overflow="fold", ratio=1)
            else:
                table.add_column(header, no_wrap=True, min_width=width)
        for row, style in zip(cells, _styles(row_styles, len(cells)), strict=True):
            table.add_row(*map(Text, row), style=style)
    else:
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("field", no_wrap=True, style="bold")
        table.add_column("value", overflow="fold")
        for row, style in zip(cells, _styles(row_styles, len(cells)), strict=True):
            for header, value in zip(headers, row, strict=True):
                table.add_row(header, Text(value), style=style)
            table.add_section()
    console.print(table)


def _styles(row_styles: Sequence[str | None], rows: int) -> Sequence[str | None]:
    return row_styles or [None] * rows
