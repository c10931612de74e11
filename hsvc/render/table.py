"""Rich tables for people: records, resolve blocks, search walks, the inspect table.

Every string from the cluster or DNS passes :func:`~hsvc.render.cells.safe`. The
cells, layout, header lines, rows and findings tables live in :mod:`hsvc.render.cells`,
:mod:`hsvc.render.layout`, :mod:`hsvc.render.header`, :mod:`hsvc.render.rows` and
:mod:`hsvc.render.findings`; the names other modules read are re-exported here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

from rich import box  # noqa: TID251
from rich.console import Console, Group  # noqa: TID251
from rich.segment import Segment, Segments  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.text import Text  # noqa: TID251

from hsvc.core.compare import Verdict
from hsvc.core.dataclass import dataclass
from hsvc.core.model import (
    rcode_word,
)
from hsvc.core.records import GROUP_ORDER
from hsvc.core.report import (
    InspectReport,
    RecordsReport,
    ResolveReport,
    SearchView,
)
from hsvc.core.searchpath import Walk
from hsvc.core.summary import explanations
from hsvc.render.cells import (
    COLLAPSE_AT,
    GROUP_TITLES,
    MARK,
    MAX_CELL,
    Names,
    expected_text,
    observed_text,
    safe,
)
from hsvc.render.findings import findings_table, lint_table
from hsvc.render.header import path_line, print_notes, service_header, settings_line, used_by
from hsvc.render.layout import DATA_FLOOR, fit_name, name_width, print_table, unbounded
from hsvc.render.rows import (
    RowsView,
    _server_header,
    numbered,
    print_explanations,
    print_tail,
    rows_table,
    summary_line,
)

# hsvc's own reasons (a sentence around a few names) may be longer than a cluster's value.
REASON_CELL = 4 * MAX_CELL


def records_table(
    console: Console, report: RecordsReport, *, wide: bool, headers: bool = True
) -> None:
    """Print ``hsvc records`` as tables."""
    short = Names(report.source.settings.primary_zone, wide, compact_srv=False)
    table = Table(box=box.SIMPLE, show_header=headers, pad_edge=False, expand=False)
    table.add_column("NAME", overflow="fold", ratio=2)
    table.add_column("TYPE", no_wrap=True)
    table.add_column("TTL", justify="right", no_wrap=True)
    table.add_column("DATA", overflow="fold", ratio=2)
    if wide:
        table.add_column("FROM", overflow="fold", ratio=2)
    order = {g.value: i for i, g in enumerate(GROUP_ORDER)}
    records = sorted(report.records, key=lambda e: order.get(e.group, 99))
    fit = _Fit.for_columns(
        console,
        [safe(short(e.record.name)).plain for e in records],
        [safe(short.data(e.record)).plain for e in records],
        fixed=len("TYPE") + len("28800"),
        columns=len(table.columns),
        active=not wide,
    )
    if fit.names:
        table.columns[0].width = fit.names
        table.columns[3].width = fit.data
    group = None
    for e in records:
        if e.group != group and headers:
            group = e.group
            title = Text(GROUP_TITLES.get(group, group), style="bold cyan")
            table.add_row(title, *([""] * (len(table.columns) - 1)))
        cells: list[Text | str] = [
            fit.name(safe(short(e.record.name))),
            e.record.type,
            str(e.record.ttl),
            fit.datum(safe(short.data(e.record))),
        ]
        if wide:
            cells.append(safe("; ".join(f"{p.source} ({p.rule})" for p in e.provenance)))
        table.add_row(*cells)
    print_snug(console, table)
    if report.predicted:
        rows = [(n.name, n.type, safe(n.reason)) for n in report.predicted]
        heading = "Names that will answer once created (predicted)"
        _names_table(console, heading, "PREDICTED", rows, short, headers=headers)
    if report.absent:
        # A reason is hsvc's own sentence around a few names: longer than a cell from the
        # cluster may be, and cut only far beyond what any reason says.
        rows = [
            (n.name, n.type, safe(f"{n.reason} ({', '.join(n.rules)})", limit=REASON_CELL))
            for n in report.absent
        ]
        _names_table(console, "Names that must not resolve", "WHY", rows, short, headers=headers)
    if headers:
        hanging(console, settings_line(report.source), style="dim")


def _names_table(
    console: Console,
    title: str,
    last: str,
    rows: Sequence[tuple[str, str, Text]],
    short: Names,
    *,
    headers: bool,
) -> None:
    """A table of names with their type and one more column (predicted, or why not)."""
    table = Table(
        title=title if headers else None,
        box=box.SIMPLE,
        show_header=headers,
        title_justify="left",
    )
    table.add_column("NAME", overflow="fold")
    table.add_column("TYPE")
    table.add_column(last, overflow="fold")
    names = _Fit.for_columns(
        console, [safe(short(name)).plain for name, _, _ in rows], [], fixed=5, columns=3
    )
    if names.names:
        table.columns[0].width = names.names
    for name, rtype, text in rows:
        table.add_row(names.name(safe(short(name))), rtype, text)
    print_snug(console, table)


def print_snug(console: Console, table: Table) -> None:
    """Print ``table`` with its header rule no wider than its widest line of text.

    Rich draws the rule over each column's whole width, while the cells wrapped in a
    column (at dots, at spaces) may all end short of it: the rule would stick out.
    """
    if unbounded(console):
        console.print(table)
        return
    lines = console.render_lines(table, console.options, pad=False, new_lines=False)
    texts = ["".join(seg.text for seg in line) for line in lines]

    def is_rule(text: str) -> bool:
        return bool(text.strip()) and not text.strip().strip("─")

    widest = max((len(t.rstrip()) for t in texts if not is_rule(t)), default=0)
    out: list[Segment] = []
    for line, text in zip(lines, texts, strict=True):
        if is_rule(text) and len(text.rstrip()) > widest:
            line = Segment.adjust_line_length(line, widest)
        out.extend(line)
        out.append(Segment.line())
    console.print(Segments(out), crop=False, no_wrap=True)


def hanging(console: Console, text: Text, *, hang: int = 4, style: str = "") -> None:
    """Print header lines that fit the width, or wrap with their rest indented by ``hang``.

    Each line of ``text`` is printed on its own; one wider than the console breaks
    between its parts (separated by two spaces), else at spaces, its continuation
    lines ``hang`` columns right of where the line starts.
    """
    for line in text.split("\n"):
        if unbounded(console) or len(line.plain) <= console.width:
            console.print(line, crop=False, no_wrap=True, soft_wrap=True, style=style)
            continue
        lead = len(line.plain) - len(line.plain.lstrip(" "))
        indent = min(lead + hang, max(console.width // 2, 1))
        # The parts: cut before each run of two spaces after the lead.
        cuts = [m.start() for m in re.finditer(r"(?<! )  (?! )", line.plain) if m.start() > lead]
        bounds = [0, *cuts, len(line.plain)]
        parts = [line[a:b] for a, b in itertools.pairwise(bounds)]
        out: list[Text] = []
        current = parts[0]
        for part in parts[1:]:
            room = console.width - (0 if not out else indent)
            if len(current.plain) + len(part.plain) <= room:
                current = current + part
            else:
                out.append(current)
                current = part[len(part.plain) - len(part.plain.lstrip(" ")) :]
        out.append(current)
        for n, piece in enumerate(out):
            width = console.width - (indent if n else 0)
            for k, row in enumerate(piece.wrap(console, width)):
                pad = indent if n or k else 0
                console.print(
                    Text(" " * pad) + row, crop=False, no_wrap=True, soft_wrap=True, style=style
                )


def resolve_blocks(console: Console, report: ResolveReport, *, wide: bool) -> None:
    """Print ``hsvc resolve`` as one block per name, under the resolver path (once)."""
    line = path_line(report.source)
    if line is not None:
        console.print(line, style="dim")
    short = Names(report.source.settings.primary_zone, True)
    for res in report.results:
        chosen = res.candidates[res.chosen]
        exp = chosen.expected
        head = Text()
        head.append_text(safe(res.query, "bold"))
        head.append(f" {res.type}  → ")
        head.append_text(safe(chosen.name))
        if res.row is not None:
            mark, colour = MARK[res.row.status]
            head.append(f"  {mark} {res.row.status.value}", style=colour)
        console.print(head)
        lines = Table.grid(padding=(0, 1))
        lines.add_column(style="dim", no_wrap=True)
        lines.add_column(overflow="fold")
        lines.add_row(
            "expected", Group(expected_text(exp, short), safe(", ".join(exp.rules), "dim"))
        )
        if res.row is not None:
            for check in res.row.checks:
                cell = observed_text(check.observation, short)
                if check.note:
                    cell.append("  ")
                    cell.append_text(safe(check.note, "yellow"))
                lines.add_row(safe(check.observation.server), cell)
        lines.add_row("because", safe(exp.explanation))
        if exp.provenance:
            origins = "; ".join(dict.fromkeys(f"{p.source} ({p.rule})" for p in exp.provenance))
            lines.add_row("from", safe(origins))
        broken = next((link for link in res.chain if not link.ok), None)
        if broken is not None:
            lines.add_row("broken", safe(f"{broken.check}: {broken.detail}"))
            if broken.fix:
                lines.add_row("fix", safe(broken.fix))
        if len(res.candidates) > 1 or wide:
            tried = ", ".join(f"{c.name} ({rcode_word(c.expected)})" for c in res.candidates)
            lines.add_row("tried", safe(tried))
        if res.search is not None:
            for key, text in search_rows(res.search):
                lines.add_row(key, safe(text))
        console.print(lines)
        console.print()
    for note in report.notes:
        console.print(safe("note: " + note, "yellow"))


def _walk_text(walk: Walk) -> str:
    steps = " → ".join(f"{step.name} {step.outcome.value.upper()}" for step in walk.steps)
    end = "answers" if walk.answered else "fails"
    return f"{steps} ({end}; {walk.queries} queries)"


def search_rows(view: SearchView) -> list[tuple[str, str]]:
    """Label/text rows for how getaddrinfo walks the search list (A and AAAA per candidate)."""
    conf = view.resolv_conf
    where = "ClusterFirst, assumed" if view.assumed else "the pod's"
    rows = [
        (
            "search",
            f"{' '.join(d.rstrip('.') for d in conf.search) or '(none)'}; ndots {conf.ndots} "
            f"({where})",
        )
    ]
    for seen, walks in (("expected", view.expected), ("actual", view.actual)):
        if not walks:
            continue
        same = len({_walk_text(w) for w in walks}) == 1
        shown = walks[:1] if same else walks
        for w in shown:
            libc = "glibc/musl" if same and len(walks) > 1 else w.libc.value
            rows.append((f"{libc} {seen}", _walk_text(w)))
    gai = view.getaddrinfo
    if gai is not None:
        got = (
            f"{gai.canonical.rstrip('.')} {' '.join(gai.addresses)}"
            if gai.ok
            else f"fails: {gai.error}"
        )
        rows.append(("getaddrinfo", f"{got} ({gai.tool}{', ' + view.libc if view.libc else ''})"))
    return rows


@dataclass(frozen=True, slots=True)
class _Fit:
    """Widths for a name column and a data column of a rich table on a terminal.

    Names wrap only after dots (``fit_name``), never inside a label: rich would fold
    them anywhere. ``names`` 0: nothing to fit (piped, or ``-o wide``).
    """

    names: int = 0
    data: int = 0

    @classmethod
    def for_columns(
        cls,
        console: Console,
        names: Sequence[str],
        data: Sequence[str],
        *,
        fixed: int,
        columns: int,
        active: bool = True,
    ) -> _Fit:
        if not active or unbounded(console) or not names:
            return cls()
        room = console.width - fixed - 3 * (columns - 1) - 2
        longest_data = max((len(d) for d in data), default=0)
        # Names take what the data leaves, and at least half when both are long.
        budget = max(room // 2, room - longest_data) if data else room // 2
        width = name_width(names, budget)
        if max(map(len, names)) <= width and longest_data <= room - width:
            return cls()  # everything fits: rich lays it out at its natural width
        return cls(names=width, data=max(room - width, DATA_FLOOR) if data else 0)

    def name(self, cell: Text) -> Text:
        if not self.names or len(cell.plain) <= self.names:
            return cell
        return Text(fit_name(cell.plain, self.names), style=cell.style)

    def datum(self, cell: Text) -> Text:
        if not self.data or len(cell.plain) <= self.data:
            return cell
        return Text(fit_name(cell.plain, self.data), style=cell.style)


def layers_line(layers: Mapping[str, str]) -> Text:
    """``layers: coredns-a = CoreDNS replica coredns-a; ...``: which layer each column is."""
    text = Text("layers: ")
    for i, (server, layer) in enumerate(sorted(layers.items())):
        if i:
            text.append("; ")
        text.append_text(safe(_server_header(server)))
        text.append(" = ")
        text.append_text(safe(layer))
    return text


def inspect_table(
    console: Console,
    report: InspectReport,
    *,
    wide: bool,
    headers: bool = True,
    collapse: bool = True,
) -> None:
    """Print ``hsvc inspect`` row by row: headers, the side-by-side table, explanations.

    ``collapse``: groups of many rows show their ok rows as a count (not ``--all-rows``).
    """
    if headers:
        line = path_line(report.source)
        if line is not None:
            hanging(console, line, style="dim")
        if report.layers:
            hanging(console, layers_line(report.layers), style="dim")
        for s in report.services:
            hanging(console, service_header(s))
            if report.used_by is not None:
                console.print(used_by(s, report.used_by))
        hanging(console, settings_line(report.source, report.servers), style="dim")
    multi = len(report.servers) > 1
    failed = [i for i, r in enumerate(report.rows) if r.status is not Verdict.OK]
    groups = explanations(report.rows, failed, multi=multi)
    view = RowsView(wide=wide, headers=headers, collapse=collapse)
    table, hidden = rows_table(
        console, report, range(len(report.rows)), view, numbers=numbered(groups)
    )
    print_table(console, table, wide=wide, headers=headers)
    if hidden and headers:
        console.print(
            Text("(ok rows of large groups are counted; -o wide lists every row)", style="dim")
        )
    if headers:
        print_explanations(console, report, groups, wide=wide)
    if report.findings and headers:
        findings_table(console, report.findings, wide=wide, headers=headers)
    if headers:
        console.print(summary_line(report))
        print_tail(console, report)


__all__ = [
    "COLLAPSE_AT",
    "MARK",
    "REASON_CELL",
    "Names",
    "fit_name",
    "hanging",
    "inspect_table",
    "layers_line",
    "lint_table",
    "name_width",
    "print_notes",
    "print_snug",
    "records_table",
    "resolve_blocks",
    "safe",
    "search_rows",
    "unbounded",
]
