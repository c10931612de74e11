"""Findings for people: the findings table and its summary line (``lint``, ``inspect``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich import box  # noqa: TID251
from rich.console import Console  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.text import Text  # noqa: TID251

from hsvc.core.model import (
    Finding,
    ObjectRef,
    Severity,
)
from hsvc.core.report import (
    LintReport,
)
from hsvc.render.cells import safe
from hsvc.render.layout import unbounded

SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def findings_table(
    console: Console,
    findings: Sequence[Finding],
    *,
    wide: bool,
    headers: bool = True,
    locations: dict[ObjectRef, tuple[str, int]] | None = None,
    locate: Callable[[Finding], tuple[str, int] | None] | None = None,
) -> None:
    """Print findings: severity, code, object (and its file:line), message with the fix."""
    where = locations or {}
    table = Table(
        title="Findings" if headers else None,
        title_justify="left",
        box=box.SIMPLE,
        show_header=headers,
        pad_edge=False,
        expand=not unbounded(console),  # piped: natural widths, no padding to "infinity"
    )
    table.add_column("SEVERITY", no_wrap=True)
    table.add_column("CODE", no_wrap=True)
    table.add_column("OBJECT", overflow="fold", ratio=2)
    table.add_column("MESSAGE", overflow="fold", ratio=5)
    if wide:
        table.add_column("RULES", overflow="fold")
    for f in findings:
        ref = f.object
        obj = safe(ref.kind)
        obj.append("\n")
        obj.append_text(safe(f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name))
        at = locate(f) if locate is not None else where.get(f.object)
        if at is not None:
            path, line = at
            obj.append("\n")
            obj.append_text(safe(f"{path}:{line}", "dim"))
        message = safe(f.message)
        message.append("\nfix: ", style="dim")
        message.append_text(safe(f.hint))
        cells: list[Text | str] = [
            Text(f.severity.value, style=SEVERITY_STYLE[f.severity]),
            f.code,
            obj,
            message,
        ]
        if wide:
            cells.append(", ".join(f.rules))
        table.add_row(*cells)
    console.print(table)


def findings_summary(findings: Sequence[Finding]) -> Text:
    """One line: how many findings of each severity."""
    if not findings:
        return Text("no findings", style="bold green")
    counts = [
        (sum(1 for f in findings if f.severity is sev), sev)
        for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    ]
    words = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
    parts = [
        f"{n} {words[sev]}{'s' if n != 1 and sev is not Severity.INFO else ''}"
        for n, sev in counts
        if n
    ]
    style = "bold red" if counts[0][0] else "bold yellow" if counts[1][0] else "bold"
    return Text(", ".join(parts), style=style)


def lint_table(console: Console, report: LintReport, *, wide: bool, headers: bool = True) -> None:
    """Print ``hsvc lint``: the findings table and a one-line summary."""
    if report.findings:
        findings_table(
            console, report.findings, wide=wide, headers=headers, locate=report.location_of
        )
    if headers:
        console.print(findings_summary(report.findings))
