"""``hsvc inspect`` for many Services: one line per Service, then only what broke.

The summary view (the default for ``-A``, a namespace, several Services or a
Service with many checks) prints a line per Service with its type, endpoints,
checks by status and the main cause, then the rows that are not ok grouped by
Service, each explanation once with the rows it covers. ``--only-failures``
prints only the second part; ``--all-rows`` the full table (``inspect_table``).
"""

from __future__ import annotations

from rich.console import Console  # noqa: TID251
from rich.text import Text  # noqa: TID251

from hsvc.core.compare import Verdict
from hsvc.core.model import Finding, Severity
from hsvc.core.report import InspectReport, ServiceSummary
from hsvc.core.summary import ServiceKey, ServiceTally, explanations, row_services, tallies
from hsvc.render.cells import MARK, safe
from hsvc.render.findings import SEVERITY_STYLE
from hsvc.render.header import path_line, settings_line, used_by
from hsvc.render.layout import UNBOUNDED, print_table, unbounded
from hsvc.render.rows import (
    RowsView,
    footnote,
    numbered,
    print_explanations,
    print_tail,
    rows_table,
    summary_line,
)
from hsvc.render.table import hanging

# A cause gets its own line under the Service when less than this is left of the line.
CAUSE_INLINE = 30

_ORDER = (
    Verdict.OK,
    Verdict.WRONG,
    Verdict.MISSING,
    Verdict.UNEXPECTED,
    Verdict.TOO_LARGE,
    Verdict.ERROR,
)


def _kind(s: ServiceSummary) -> str:
    svc = s.service
    return "headless" if svc.is_headless else svc.type


def _checks(t: ServiceTally) -> Text:
    parts = [f"{t.counts.get(v.value, 0)} {v.value}" for v in _ORDER if t.counts.get(v.value, 0)]
    return Text(", ".join(parts) or "0 checks", style="" if t.ok else "red")


def _cut(console: Console, text: Text) -> Text:
    """``text`` cut to the terminal's width with "…" (whole when piped)."""
    if unbounded(console) or len(text.plain) <= console.width:
        return text
    cut = text[: console.width - 1]
    cut.append("…")
    return cut


def print_services(
    console: Console,
    report: InspectReport,
    counted: list[ServiceTally],
    *,
    headers: bool,
    fold_ok: bool = False,
    causes: bool = True,
) -> None:
    """One line per Service: verdict, name, type, ready endpoints, checks by status, cause.

    Laid out here rather than by rich, so that no column is squeezed: on a narrow
    terminal a failing Service's cause goes on the line below it, cut to the width.
    ``fold_ok``: the Services that are ok share one line after the others;
    ``causes=False``: no cause (the rows below explain them).
    """
    rows: list[tuple[ServiceTally, list[Text], Text]] = []
    ok_names: list[str] = []
    for s, t in zip(report.services, counted, strict=True):
        if fold_ok and t.ok:
            ok_names.append(f"{t.namespace}/{t.name}")
            continue
        cells = [
            safe(f"{t.namespace}/{t.name}"),
            Text(_kind(s)),
            Text(f"{s.ready}/{s.ready + s.not_ready}"),
            _checks(t),
        ]
        cause = safe(t.cause) if t.cause and causes else Text("")
        rows.append((t, cells, cause))
    _service_lines(console, rows, headers=headers)
    if ok_names:
        mark, colour = MARK[Verdict.OK]
        others = "other " if rows else ""
        line = Text(f"{mark} ", style=colour)
        line.append(f"{len(ok_names)} {others}Service{'s' if len(ok_names) > 1 else ''} ok: ")
        line.append_text(safe(", ".join(ok_names)))
        console.print(_cut(console, line), crop=False, no_wrap=True)


def _service_lines(
    console: Console, rows: list[tuple[ServiceTally, list[Text], Text]], *, headers: bool
) -> None:
    if not rows:
        return
    heads = ("SERVICE", "TYPE", "READY", "CHECKS")
    widths = [
        max([len(h) if headers else 0, *(len(r[1][n].plain) for r in rows)])
        for n, h in enumerate(heads)
    ]
    used = 2 + sum(widths) + 2 * len(widths)
    free = unbounded(console)
    below = not free and console.width - used < CAUSE_INLINE
    if headers:
        line = Text("  ")
        for head, width in zip(heads, widths, strict=True):
            line.append(head.ljust(width + 2))
        line.append("CAUSE" if not below and any(r[2].plain for r in rows) else "")
        console.print(Text(line.plain.rstrip()), crop=not free)
    for t, cells, cause in rows:
        mark, colour = MARK[Verdict.OK] if t.ok else MARK[Verdict.WRONG]
        line = Text(mark + " ", style=colour)
        for cell, width in zip(cells, widths, strict=True):
            line.append_text(cell)
            line.append(" " * (width - len(cell.plain) + 2))
        if not cause.plain:
            line.rstrip()
            console.print(line, crop=not free)
            continue
        if below:
            line.rstrip()
            console.print(line, crop=False)
            line = Text("    ")
            room = console.width - 4
        else:
            room = console.width - used
        if not free and len(cause.plain) > room:
            cause = Text(cause.plain[: room - 1] + "…", style=cause.style)
        line.append_text(cause)
        console.print(line, crop=not free, no_wrap=True)


def compact_findings(console: Console, findings: list[Finding], *, one_line: bool = False) -> None:
    """Findings as numbered-like lines: severity, code, object, message, fix (hanging indent)."""
    for f in findings:
        ref = f.object
        where = f"{ref.kind} {ref.namespace}/{ref.name}" if ref.namespace else str(ref)
        body = safe(where + ": ", "bold")
        body.append_text(safe(f.message))
        body.append(" fix: " if one_line else "\nfix: ", style="dim")
        body.append_text(safe(f.hint))
        head = Text(f"{f.severity.value} {f.code}", style=SEVERITY_STYLE[f.severity])
        footnote(console, head.plain, body, one_line=one_line)


# How much the summary is folded to fit the screen: 0 every Service on its own line and
# every note whole; 1 the Services that are ok on one line; 2 each note on one line;
# 3 the header on two lines, no titles or rule in the rows table (the names say whose
# rows they are) and no ok counts in its cells; 4 no causes (the rows below explain them),
# each header line cut to the width, no "(--all-rows)" hint where it would wrap.
_FOLDS = 4
# The screen the summary aims at when stdout is not a terminal (a pipe, a file).
SCREEN_LINES = 24


def inspect_summary(
    console: Console,
    report: InspectReport,
    *,
    wide: bool,
    headers: bool = True,
    services: bool = True,
) -> None:
    """Print the summary view (``services=False``: only the rows that are not ok).

    The view folds (see ``_FOLDS``) until it fits one screen (the terminal's height,
    or ``SCREEN_LINES`` lines when piped); the ✗ rows are always all shown. ``-o wide``
    and ``--no-headers`` never fold.
    """
    # Worked out once for every fold tried below (each a whole rendering).
    owners = row_services(report)
    counted = tallies(report, owners)
    if wide or not headers:
        _summary(console, report, counted, owners, wide=wide, headers=headers, services=services)
        return
    screen = console.height if console.is_terminal else SCREEN_LINES
    # The notes printed after the view (on stderr) share the screen.
    width = console.width if not unbounded(console) else UNBOUNDED
    notes = [*report.source.notes, *report.notes]
    screen -= sum(-(-len("note: " + n) // width) for n in notes)
    # Every fold prints each error and warning finding on a line at least, and the summary
    # line: when those alone overflow the screen, no fold fits and the last is the view.
    least = 1 + sum(1 for f in report.findings if f.severity is not Severity.INFO)
    text = ""
    for fold in range(_FOLDS if least > screen else 0, _FOLDS + 1):
        with console.capture() as capture:
            _summary(
                console,
                report,
                counted,
                owners,
                wide=wide,
                headers=headers,
                services=services,
                fold=fold,
            )
        text = capture.get()
        if text.count("\n") <= screen:
            break
    console.file.write(text)
    console.file.flush()


def _settings_lines(console: Console, report: InspectReport, fold: int) -> None:
    """The resolver path and DNS settings above the summary, cut to the terminal when folded."""
    line = path_line(report.source)
    if line is not None:
        hanging(console, line, style="dim")
    settings = settings_line(report.source, report.servers, compact=fold >= 3)
    if fold < 4:
        hanging(console, settings, style="dim")
    else:
        for part in settings.split("\n"):
            console.print(_cut(console, part), style="dim", crop=False, no_wrap=True)


def _summary(
    console: Console,
    report: InspectReport,
    counted: list[ServiceTally],
    owners: list[ServiceKey | None],
    *,
    wide: bool,
    headers: bool,
    services: bool,
    fold: int = 0,
) -> None:

    if headers:
        _settings_lines(console, report, fold)
    if services and report.services:
        print_services(
            console, report, counted, headers=headers, fold_ok=fold >= 1, causes=fold < 4
        )
    if report.used_by is not None and headers:
        # --references: who breaks with each Service that is not ok.
        for s, t in zip(report.services, counted, strict=True):
            if not t.ok:
                console.print(safe(f"{t.namespace}/{t.name}", "bold"))
                console.print(used_by(s, report.used_by))
    failed = [i for i, r in enumerate(report.rows) if r.status is not Verdict.OK]
    # Grouped by Service, in the summary's order; rows about no Service last.
    order = {(t.namespace, t.name): n for n, t in enumerate(counted)}
    failed.sort(key=lambda i: (order.get(owners[i] or ("", ""), len(order)), i))
    multi = len(report.servers) > 1
    groups = explanations(report.rows, failed, multi=multi)
    titles: dict[int, str] = {}
    last: object = object()
    for i in failed:
        owner = owners[i]
        if owner != last:
            last = owner
            titles[i] = f"{owner[0]}/{owner[1]}" if owner else "other"
    if failed:
        if headers and services and fold < 3:
            console.print()
        # Folded all the way: the names say whose rows they are (the Services are above).
        view = RowsView(
            wide=wide,
            headers=headers,
            collapse=False,
            short_cells=not wide,
            by_service=True,
            ok_counts=fold < 3,
            rule=fold < 3,
        )
        table, _hidden = rows_table(
            console,
            report,
            failed,
            view,
            numbers=numbered(groups),
            titles=titles if fold < 3 or not services else {},
        )
        print_table(console, table, wide=wide, headers=headers)
    if not headers:
        return
    print_explanations(console, report, groups, wide=wide, one_line=fold >= 2)
    # Errors and warnings; info findings (a pod starting) are in --all-rows and lint.
    shown = [f for f in report.findings if f.severity is not Severity.INFO]
    if shown:
        compact_findings(console, shown, one_line=fold >= 2)
    infos = len(report.findings) - len(shown)
    line = summary_line(report)
    if infos:
        line.append(f"; {infos} info finding{'s' if infos > 1 else ''}")
    hint = " (--all-rows)"
    room = fold < 4 or unbounded(console) or len(line.plain) + len(hint) <= console.width
    if (failed or not services or infos) and room:
        line.append(hint, style="dim")
    console.print(line)
    print_tail(console, report)
