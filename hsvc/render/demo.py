"""The ``hsvc demo`` story: narration around the ordinary ``inspect`` tables.

The words come from :mod:`hsvc.commands.demo` (the script); this module only lays them
out. Names and addresses from the recording pass :func:`~hsvc.render.table.safe`
like every other string from a cluster or DNS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from rich import box  # noqa: TID251
from rich.console import Console  # noqa: TID251
from rich.rule import Rule  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.text import Text  # noqa: TID251

from hsvc.core.compare import Row
from hsvc.core.model import Rcode
from hsvc.core.records import Group
from hsvc.core.report import Played
from hsvc.render.table import Names, fit_name, inspect_table, safe, unbounded

TITLE = "hsvc demo: cluster DNS of a headless and a ClusterIP Service"


def demo_intro(console: Console, address: str, intro: Sequence[str]) -> None:
    """Print the demo's title and what it replays (``intro``, paragraphs naming ``{address}``)."""
    console.print(Text(TITLE, style="bold"))
    for paragraph in intro:
        console.print()
        console.print(Text(paragraph.format(address=address)))


def demo_step(
    console: Console, played: Played, number: int, total: int, *, wide: bool, headers: bool
) -> None:
    """Print one step: its story, the equivalent command, the inspection, its moral."""
    step = played.step
    console.print()
    _heading(console, f"Step {number}/{total}: {step.title}")
    console.print(Text(step.story))
    console.print()
    _command(console, step.command, "on your cluster")
    console.print()
    inspect_table(console, played.report, wide=wide, headers=headers)
    for paragraph in step.moral:
        console.print()
        console.print(Text(paragraph))
    if step.hints:
        console.print()
        for hint in step.hints:
            _command(console, hint)


def demo_outro(console: Console, played: Sequence[Played], outro: Sequence[str]) -> None:
    """Print the Services side by side, then where to go next (``outro``, paragraphs)."""
    console.print()
    _heading(console, "Side by side")
    console.print(side_by_side(played, width=None if unbounded(console) else console.width))
    for paragraph in outro:
        console.print()
        console.print(Text(paragraph))


def side_by_side(played: Sequence[Played], *, width: int | None = None) -> Table:
    """Return what DNS must answer for each Service, one column per Service.

    ``width``: the terminal's; names too long for their column wrap after a dot, never
    inside a label (None: nothing wraps).
    """
    # What each Service's column gets: the line less the labels and the gaps.
    room = (width - len("must not resolve") - 3 * len(played)) // len(played) if width else 0
    table = Table(box=box.SIMPLE, pad_edge=False, show_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    columns = []
    for p in played:
        summary = next(s for s in p.report.services if s.service.name == p.step.service)
        headless = summary.service.is_headless
        kind = "headless" if headless else summary.service.type
        table.add_column(safe(f"{p.step.service} ({kind})"), overflow="fold")
        how = "every ready pod" if headless else "its virtual IP"
        columns.append((p.report.rows, Names(p.report.source.settings.primary_zone, False), how))
    facts: tuple[tuple[str, Callable[[Row], bool]], ...] = (
        ("Service name", lambda r: r.group is Group.SERVICE and r.type in ("A", "AAAA")),
        ("names below it", lambda r: r.group is Group.ENDPOINT and bool(r.expected.answer)),
        (
            "must not resolve",
            lambda r: r.group is Group.ENDPOINT and r.expected.rcode is Rcode.NXDOMAIN,
        ),
        ("SRV targets", lambda r: r.group is Group.SRV and r.name.startswith("_")),
    )
    for label, wanted in facts:
        cells = []
        for rows, short, how in columns:
            matching = [r for r in rows if wanted(r)]
            if label == "Service name":
                cell = _lines(short.data(rec) for r in matching for rec in r.expected.answer)
                cell.append(f"\n({how})", style="dim")
            elif label == "SRV targets":
                cell = _lines(short.data(rec) for r in matching for rec in r.expected.answer)
            else:
                cell = _lines(short(r.name) for r in matching)
                if room > 0:
                    # Escaped first (safe), then wrapped after dots: a label stays whole.
                    cell = Text(
                        "\n".join(fit_name(line, room) for line in cell.plain.split("\n")),
                        style=cell.style,
                    )
            cells.append(cell)
        table.add_row(label, *cells)
    return table


def _lines(values: Iterable[str]) -> Text:
    text = Text()
    for i, value in enumerate(sorted(dict.fromkeys(values))):
        if i:
            text.append("\n")
        text.append_text(safe(value))
    return text or Text("none", style="dim")


def _command(console: Console, command: str, note: str = "") -> None:
    text = Text("  $ ", style="dim")
    text.append(command, style="bold")
    if note:
        text.append(f"   ({note})", style="dim")
    console.print(text)


def _heading(console: Console, title: str) -> None:
    """Print a section rule: the terminal's width, or 80 columns when output is piped."""
    rule = Rule(Text(title, style="bold"), align="left")
    console.print(rule, width=80 if unbounded(console) else console.width)
