"""The rows table of ``inspect`` and what follows it: explanations, footnotes, the tail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.text import Text  # noqa: TID251

from hsvc.core.compare import Row, Verdict
from hsvc.core.dataclass import dataclass
from hsvc.core.model import (
    DnsAnswer,
    Observation,
    Rcode,
)
from hsvc.core.report import (
    InspectReport,
)
from hsvc.core.summary import Explanation
from hsvc.render.cells import (
    COLLAPSE_AT,
    COLLAPSED_OK_ROWS,
    GROUP_TITLES,
    MARK,
    Names,
    expected_text,
    observed_text,
    safe,
)
from hsvc.render.layout import SHORT_CELL, Grid, one_line, unbounded


def _diff_text(row: Row, obs: Observation, short: Names, *, ok_counts: bool = True) -> Text | None:
    """A short cell for an answer of many records: what is extra (+) and missing (−).

    Records are compared as shown (an SRV as target:port: weights are in the notes).
    """
    want = {short.data(r).lower(): r for r in row.expected.answer if r.type == row.type}
    got = {short.data(r).lower(): r for r in obs.answer if r.type == row.type}
    if obs.rcode is not Rcode.NOERROR or not got or max(len(got), len(want)) <= 1:
        return None
    extra = [got[k] for k in got if k not in want]
    missing = [want[k] for k in want if k not in got]
    same = len(got) - len(extra)
    text = Text()
    parts: list[Text] = [safe("+" + short.data(r), "red") for r in extra[:SHORT_CELL]]
    parts += [safe("−" + short.data(r), "red") for r in missing[:SHORT_CELL]]
    more = len(extra) + len(missing) - len(parts)
    for i, part in enumerate(parts):
        if i:
            text.append(" ")
        text.append_text(part)
    if more > 0:
        text.append(f" +{more} more")
    if same and (ok_counts or not parts):
        text.append(f" (+{same} ok)" if parts else f"{same} ok", style="dim")
    return text


def _count_text(answer: DnsAnswer, short: Names) -> Text:
    """A large expected answer as a count (the full set is in -o wide and JSON)."""
    records = [r for r in answer.answer if r.type == answer.type]
    if len(records) <= 1:
        return expected_text(answer, short)
    kind = {"A": "addresses", "AAAA": "addresses", "SRV": "targets"}.get(answer.type, "records")
    text = Text(f"{len(records)} {kind}")
    if answer.open_ended:
        text.append(" (+upstream)", style="dim")
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class RowsView:
    """How the rows table is drawn."""

    wide: bool = False
    headers: bool = True
    collapse: bool = True  # large groups show their ok rows as a count
    short_cells: bool = False  # large answers as counts and differences
    by_service: bool = False  # titles are Services, not record groups
    ok_counts: bool = True  # a short cell says how many records are ok
    rule: bool = True  # a line under the column headers


def rows_table(
    console: Console,
    report: InspectReport,
    indices: Sequence[int],
    view: RowsView,
    *,
    numbers: dict[int, int] | None = None,
    titles: dict[int, str] | None = None,
) -> tuple[Table, dict[str, int]]:
    """The side-by-side table of the given rows; returns it and the ok rows hidden per group.

    ``numbers`` gives each row not ok its footnote number; ``titles`` the title to
    print before a row (``by_service``).
    """
    short = Names(report.source.settings.primary_zone, view.wide)
    multi = len(report.servers) > 1
    joined = view.wide or not view.headers
    heads = ["", "NAME", "TYPE", "EXPECTED"]
    heads += [_server_header(s) for s in report.servers] if multi else ["ACTUAL"]
    if view.wide:
        heads.append("RULES")
    grid = Grid(heads, name_col=1, data_cols=range(3, 4 + max(len(report.servers), 1)))
    group_sizes = Counter(report.rows[i].group for i in indices)
    group: str | None = None
    shown_ok: Counter[str] = Counter()
    hidden_ok: dict[str, int] = {}
    numbers = numbers or {}
    for i in indices:
        row = report.rows[i]
        if titles and i in titles and view.headers:
            grid.title(safe(titles[i], "bold cyan"))
            group = None
        if row.group != group and not view.by_service:
            if hidden_ok.get(group or ""):
                grid.add(_hidden_cells(hidden_ok[group or ""], len(heads)))
            group = row.group
            if view.headers:
                grid.title(Text(GROUP_TITLES.get(group, group), style="bold cyan"))
        if (
            row.status is Verdict.OK
            and view.collapse
            and not view.wide
            and group_sizes[row.group] > COLLAPSE_AT
        ):
            # Big groups (thousands of pods) show their problems and a few good rows.
            shown_ok[row.group] += 1
            if shown_ok[row.group] > COLLAPSED_OK_ROWS:
                hidden_ok[row.group] = hidden_ok.get(row.group, 0) + 1
                continue
        ref = str(numbers[i]) if i in numbers else ""
        cells = _row_cells(row, ref, report.servers, short, view, joined=joined)
        grid.add(cells)
    if hidden_ok.get(group or ""):
        grid.add(_hidden_cells(hidden_ok[group or ""], len(heads)))
    table = grid.table(console, headers=view.headers, one_line=joined)
    if not view.rule:
        table.box = None
    return table, hidden_ok


def _row_cells(
    row: Row,
    ref: str,
    servers: Sequence[str],
    short: Names,
    view: RowsView,
    *,
    joined: bool,
) -> list[Text | str]:
    """One row's cells: mark and footnote, name, type, expected, each server's answer."""
    mark, colour = MARK[row.status]
    expected = (
        _count_text(row.expected, short) if view.short_cells else expected_text(row.expected, short)
    )
    server_cells: dict[str, Text] = {}
    limits = {c.ttl_over[1] for c in row.checks if c.ttl_over is not None}
    if limits:
        # Failing on TTL alone (rule 43): the records agree, so show the TTLs.
        expected = expected.copy()
        expected.append(f"\nTTL ≤{min(limits)}", style="bold")
    for c in row.checks:
        cell = (
            _diff_text(row, c.observation, short, ok_counts=view.ok_counts)
            if view.short_cells
            else None
        )
        shown = cell or observed_text(c.observation, short)
        if limits:
            ttls = {r.ttl for r in c.observation.answer if r.type == row.type}
            shown = shown.copy()
            ttl = max(ttls, default=0)
            shown.append(f"\nTTL {ttl}", style="bold red" if c.ttl_over else "bold")
        server_cells[c.observation.server] = one_line(shown, joined)
    cells: list[Text | str] = [
        Text(f"{mark}{ref}", style=colour),
        safe(short(row.name)),
        row.type,
        one_line(expected, joined),
    ]
    for server in servers:
        cells.append(server_cells.get(server, Text("—")))
    if view.wide:
        cells.append(safe(", ".join(row.expected.rules)))
    return cells


def _hidden_cells(count: int, ncols: int) -> list[Text | str]:
    return [
        Text("✓", style="green"),
        Text(f"… {count} more ok", style="green"),
        *([""] * (ncols - 2)),
    ]


def _server_header(server: str) -> str:
    """A replica's column header: its name without the way it is reached (said in "asked:")."""
    for suffix in (" (port-forward)", " (exec)"):
        server = server.removesuffix(suffix)
    return server


def footnote(console: Console, number: str, body: Text, *, one_line: bool = False) -> None:
    """Print a numbered note whose wrapped lines hang under its text, not under the number.

    ``one_line``: the note is cut to the terminal's width (whole when piped).
    """
    if one_line:
        line = Text(number, style="bold")
        line.append(" ")
        line.append_text(body)
        if not unbounded(console) and len(line.plain) > console.width:
            line = line[: console.width - 1]
            line.append("…")
        console.print(line, crop=False, no_wrap=True)
        return
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(number, style="bold"), body)
    console.print(grid, crop=not unbounded(console))


def explanation_text(
    report: InspectReport, explanation: Explanation, short: Names, *, one_line: bool = False
) -> Text:
    """The rows an explanation covers, their status, what differs, and the why."""
    rows = [report.rows[i] for i in explanation.rows]
    names = [f"{short(r.name)} {r.type}" for r in rows[:5]]
    if len(rows) > 5:
        names.append(f"and {len(rows) - 5} more")
    statuses = ", ".join(dict.fromkeys(r.status.value for r in rows))
    # On one line the rows are those marked with the note's number: only the status.
    head = statuses if one_line else ", ".join(names) + f": {statuses}"
    text = safe(head, MARK[explanation.status][1])
    for n, note in enumerate(explanation.notes):
        text.append(" — " if n == 0 else "; ")
        text.append_text(safe(note))
    if explanation.why:
        text.append(" — because: " if one_line else "\nexpected because: ", style="dim")
        text.append_text(safe(explanation.why))
    return text


def print_explanations(
    console: Console,
    report: InspectReport,
    groups: Sequence[Explanation],
    *,
    wide: bool,
    one_line: bool = False,
) -> None:
    """Print each explanation once, numbered, with the rows it covers."""
    short = Names(report.source.settings.primary_zone, wide)
    for number, explanation in enumerate(groups, start=1):
        body = explanation_text(report, explanation, short, one_line=one_line)
        footnote(console, f"{number}.", body, one_line=one_line)


def numbered(groups: Sequence[Explanation]) -> dict[int, int]:
    """Footnote number of each row, from the explanation groups."""
    return {i: n for n, g in enumerate(groups, start=1) for i in g.rows}


def summary_line(report: InspectReport) -> Text:
    """``13 checks, 12 ok, 1 missing``."""
    summary = report.summary
    parts = [f"{summary.get('total', 0)} checks"]
    parts += [f"{v} {k}" for k, v in summary.items() if k != "total" and v]
    ok = summary.get("ok", 0) == summary.get("total", 0)
    return Text(", ".join(parts), style="bold green" if ok else "bold red")


def print_tail(console: Console, report: InspectReport) -> None:
    """The replicas that stand apart and the notes about where answers came from."""
    for odd in report.disagreements:
        if not odd.rows:
            console.print(
                Text(
                    f"server {odd.server} sent no response to {odd.silent} of "
                    f"{odd.silent + odd.total} queries (silent, not disagreeing)",
                    style="bold yellow",
                )
            )
            continue
        line = Text(
            f"replica {odd.server} disagrees with the others on {len(odd.rows)} of "
            f"{odd.total} rows ({odd.wrong} also wrong against the objects): ",
            style="bold red" if odd.wrong else "bold yellow",
        )
        line.append_text(safe(", ".join(odd.rows[:5]) + (" …" if len(odd.rows) > 5 else "")))
        console.print(line)
