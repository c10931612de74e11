"""Table layout: column widths, names folded at their dots, the grid that fits a terminal."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich import box  # noqa: TID251
from rich.console import Console  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.text import Text  # noqa: TID251

# Wider than any terminal: the console width when nothing is to wrap (hsvc.terminal sets it
# for a pipe or a file).
UNBOUNDED = 100_000


_PIECE = re.compile(r"[^./]*[./]|[^./]+")


# Data columns give way to whole names down to this width (an IPv4 address) or their
# longest word, whichever is less; below it names wrap at dots first.
DATA_FLOOR = 15


# Answer cells list at most this many records in the summary views (the notes say the rest).
SHORT_CELL = 3


def unbounded(console: Console) -> bool:
    """Whether the console lays out without wrapping (stdout is not a terminal)."""
    return console.width >= UNBOUNDED


def name_pieces(name: str) -> list[str]:
    """Split a name after each dot (and the slash of namespace/name): where it may wrap."""
    return _PIECE.findall(name) or [name]


def fit_name(name: str, width: int) -> str:
    """Break ``name`` into lines of at most ``width`` characters, only after dots."""
    if len(name) <= width:
        return name
    lines: list[str] = []
    line = ""
    for piece in name_pieces(name):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    return "\n".join(lines)


def name_width(names: Sequence[str], budget: int, *, header: str = "NAME") -> int:
    """Width of a name column: every name whole if ``budget`` allows, else wrapped at dots.

    A single label is never cut unless it alone is wider than ``budget``.
    """
    longest = max((len(n) for n in names), default=len(header))
    piece = max((len(p) for n in names for p in name_pieces(n)), default=len(header))
    return max(len(header), min(longest, max(budget, piece)))


def _lines_width(cells: Sequence[Text | str]) -> int:
    return max(
        (len(line) for c in cells for line in (c.plain if isinstance(c, Text) else c).split("\n")),
        default=0,
    )


def _fit_lines(cell: Text | str, width: int) -> Text | str:
    """Wrap the long name-like lines of a data cell at dots (addresses and names alike)."""
    text = _plain(cell)
    if all(len(line) <= width or " " in line for line in text.split("\n")):
        return cell
    fitted = "\n".join(
        line if len(line) <= width or " " in line else fit_name(line, width)
        for line in text.split("\n")
    )
    return Text(fitted, style=cell.style if isinstance(cell, Text) else "")


def _plain(cell: Text | str) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _header(text: str) -> Text:
    return Text(text, no_wrap=True, overflow="ellipsis")


class Grid:
    """Rows of cells collected first, so column widths can be chosen before rich lays out."""

    def __init__(
        self,
        headers: Sequence[str],
        *,
        name_col: int,
        data_cols: Sequence[int],
        cut_cols: Sequence[int] = (),
    ) -> None:
        self.headers = list(headers)
        self.name_col = name_col
        self.data_cols = set(data_cols) | set(cut_cols)
        self.cut_cols = set(cut_cols)  # one line per cell on a terminal, cut with "…"
        self.rows: list[list[Text | str]] = []
        self.titles: set[int] = set()  # indices of group title rows

    def add(self, cells: Sequence[Text | str]) -> None:
        """Add one row."""
        self.rows.append(list(cells))

    def title(self, text: Text) -> None:
        """Add a group title row."""
        self.titles.add(len(self.rows))
        cells: list[Text | str] = [""] * len(self.headers)
        cells[self.name_col] = text
        self.rows.append(cells)

    def table(self, console: Console, *, headers: bool, one_line: bool = False) -> Table:
        """Lay the grid out for ``console``: names fitted first, data columns share the rest.

        ``one_line`` (``-o wide``, ``--no-headers``): nothing wraps, each row is one line.
        """
        free = one_line or unbounded(console)
        body = [r for i, r in enumerate(self.rows) if i not in self.titles]
        ncols = len(self.headers)
        natural = [
            max(_lines_width([r[c] for r in body]), len(self.headers[c]) if headers else 0)
            for c in range(ncols)
        ]
        fixed = sum(
            natural[c] for c in range(ncols) if c != self.name_col and c not in self.data_cols
        )
        # A data cell wraps at spaces: its longest word is what it cannot do without.
        words = [
            max((len(w) for r in body for w in _plain(r[c]).split()), default=0)
            for c in range(ncols)
        ]
        floors = {
            c: max(min(words[c], DATA_FLOOR), len(self.headers[c]) if headers else 0)
            for c in self.data_cols
            if c not in self.cut_cols
        }
        cut_floor = {c: len(self.headers[c]) + 2 for c in self.cut_cols}
        budget = console.width - fixed - sum(floors.values()) - sum(cut_floor.values())
        budget -= 3 * (ncols - 1)
        names = [r[self.name_col] for r in body]
        plain = [n.plain if isinstance(n, Text) else n for n in names]
        width = name_width(plain, UNBOUNDED if free else budget)
        titles = [_plain(r[self.name_col]) for i, r in enumerate(self.rows) if i in self.titles]
        width = max(width, min(max(map(len, titles), default=0), max(budget, 0)))
        # What the names leave over: data columns share it, none below its header.
        spare = console.width - fixed - width - 3 * (ncols - 1)
        table = Table(
            box=box.SIMPLE,
            show_header=headers,
            show_edge=False,
            pad_edge=False,
            expand=not free,
        )
        cut: dict[int, int] = {}
        data = [c for c in self.data_cols if c not in self.cut_cols]
        # About what each data column gets: names in it wrap at dots to that, not mid-label.
        estimates = {c: max(floors[c], spare // max(len(data), 1)) for c in data}
        for c, head in enumerate(self.headers):
            if c == self.name_col:
                table.add_column(_header(head), width=width, overflow="fold")
            elif c in self.cut_cols:
                # What is left of the line; cells are cut to it here (rich would squeeze it).
                cut[c] = max(cut_floor[c], spare)
                table.add_column(_header(head), no_wrap=True, overflow="ellipsis")
            elif c in self.data_cols:
                share = spare // max(len(self.data_cols), 1)
                floor = max(len(head), min(floors[c], share))
                table.add_column(
                    _header(head), overflow="fold", ratio=None if free else 1, min_width=floor
                )
            else:
                table.add_column(_header(head), no_wrap=True)
        for i, row in enumerate(self.rows):
            cells = list(row)
            for c, limit in cut.items():
                cell = cells[c]
                if not free and isinstance(cell, Text) and len(cell.plain) > limit:
                    cells[c] = Text(cell.plain[: limit - 1] + "…", style=cell.style)
            if not free:
                for c, limit in estimates.items():
                    cells[c] = _fit_lines(cells[c], limit)
            if i not in self.titles:
                cell = cells[self.name_col]
                text = cell if isinstance(cell, Text) else Text(cell)
                fitted = fit_name(text.plain, width)
                cells[self.name_col] = (
                    text if fitted == text.plain else Text(fitted, style=text.style)
                )
            table.add_row(*cells)
        return table


def one_line(text: Text, joined: bool) -> Text:
    """Join a multi-line cell with commas (``--no-headers``, ``-o wide``: one row per line)."""
    if not joined or "\n" not in text.plain:
        return text
    return Text(",".join(text.plain.split("\n")), style=text.style)


def print_table(console: Console, table: Table, *, wide: bool, headers: bool) -> None:
    """Print a table; ``-o wide`` and ``--no-headers`` keep each row on one line."""
    if (wide or not headers) and not unbounded(console):
        for col in table.columns:
            col.no_wrap = True
            col.overflow = "ignore"
            col.ratio = None
            col.min_width = None
        table.expand = False
        # console.print(width=) cannot go past the console's own width: widen it meanwhile.
        width = console.width
        console.width = UNBOUNDED
        try:
            console.print(table, crop=False)
        finally:
            console.width = width
        return
    console.print(table, crop=not unbounded(console))
