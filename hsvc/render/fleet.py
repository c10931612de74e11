"""Output of a run over several contexts: one summary table, or one JSON/YAML document."""

from __future__ import annotations

from typing import Any

from rich import box  # noqa: TID251
from rich.console import Console  # noqa: TID251
from rich.table import Table  # noqa: TID251

from hsvc.core.report import FleetReport, InspectReport, LintReport, RecordsReport
from hsvc.render.data import envelope, inspect_doc, lint_doc, records_doc
from hsvc.render.table import safe


def fleet_doc(report: FleetReport[Any]) -> dict[str, Any]:
    """``-o json`` with several contexts (docs/reference/output.md, "Several contexts")."""
    contexts = []
    for result in report.results:
        inner: dict[str, Any] | None = None
        if isinstance(result.report, InspectReport):
            inner = inspect_doc(result.report)
        elif isinstance(result.report, RecordsReport):
            inner = records_doc(result.report)
        elif isinstance(result.report, LintReport):
            inner = lint_doc(result.report)
        contexts.append(
            {
                "context": result.context,
                "exitCode": result.exit_code,
                "error": result.error or None,
                "seconds": round(result.seconds, 3),
                "result": inner,
            }
        )
    return envelope(
        "FleetResult",
        command=report.command,
        exitCode=report.exit_code,
        contexts=contexts,
        summary=[
            {
                "context": context,
                "namespace": t.namespace,
                "name": t.service,
                "counts": dict(t.counts),
                "cause": t.cause,
            }
            for context, t in report.summary
        ],
    )


def fleet_table(console: Console, report: FleetReport[Any], *, headers: bool = True) -> None:
    """One row per context × Service (inspect, records) or object (lint), errors per context."""
    name = "OBJECT" if report.command == "lint" else "SERVICE"
    table = Table(box=box.SIMPLE, show_header=headers, pad_edge=False)
    for column in ("CONTEXT", "NAMESPACE", name, "COUNTS", "CAUSE"):
        table.add_column(column, overflow="fold")
    for context, t in report.summary:
        counts = ", ".join(f"{k} {v}" for k, v in t.counts.items())
        table.add_row(
            safe(context),
            safe(t.namespace or "-"),
            safe(t.service or ("(pods)" if t.namespace else "(cluster)")),
            safe(counts),
            safe(t.cause or "-", "red" if t.cause else ""),
        )
    for result in report.results:
        if result.error:
            table.add_row(
                safe(result.context),
                "-",
                "-",
                safe(f"exit {result.exit_code}"),
                safe(result.error, "red"),
            )
    console.print(table)
