"""Layout helpers: names wrap only after dots, piped output is unbounded and trimmed."""

from __future__ import annotations

import io
import itertools

import pytest

from hsvc import terminal
from hsvc.render import layout
from hsvc.terminal import Environment


def test_the_unbounded_width_is_the_same_for_the_terminal_and_the_renderers() -> None:
    assert terminal.UNBOUNDED == layout.UNBOUNDED


@pytest.mark.parametrize(
    ("name", "width", "lines"),
    [
        ("eureka-0.eureka.ms.svc", 40, ["eureka-0.eureka.ms.svc"]),
        ("eureka-0.eureka.ms.svc", 16, ["eureka-0.eureka.", "ms.svc"]),
        ("_eureka._tcp.eureka.ms.svc", 12, ["_eureka.", "_tcp.eureka.", "ms.svc"]),
        ("kafka/schema-registry", 10, ["kafka/", "schema-registry"]),
    ],
)
def test_fit_name_breaks_only_after_dots(name: str, width: int, lines: list[str]) -> None:
    fitted = layout.fit_name(name, width).split("\n")
    assert fitted == lines
    assert "".join(fitted) == name


def test_name_width_keeps_labels_whole() -> None:
    names = ["eureka-0.eureka.ms.svc", "a-very-long-label-of-a-pod.x.svc"]
    assert layout.name_width(names, 200) == len(names[1])
    # Too little room: as narrow as the longest label, never narrower.
    assert layout.name_width(names, 5) == len("a-very-long-label-of-a-pod.")


def test_piped_console_output_has_no_trailing_spaces() -> None:
    out = io.StringIO()
    console = Environment(stdout=out, width=terminal.UNBOUNDED, colors=False).console()
    from rich.table import Table

    grid = Table(show_header=True)
    grid.add_column("A")
    grid.add_column("B")
    grid.add_row("x", "long value")
    grid.add_row("longer", "y")
    console.print(grid)
    text = out.getvalue()
    assert text and all(line == line.rstrip() for line in text.splitlines())
    assert max(len(line) for line in text.splitlines()) < 40  # not padded to the width


TITLES = {"Service name", "Per-pod / endpoint names", "SRV", "PTR", "Pod records", "Cluster"}


@pytest.mark.parametrize("columns", ["60", "80", "120"])
@pytest.mark.parametrize(
    "args",
    [
        ["-n", "kube-system", "-f", "tests/data/seed/"],
        ["gateway", "-n", "ms", "-f", "tests/data/seed/"],
    ],
    ids=["kube-dns", "gateway"],
)
def test_records_names_wrap_only_after_dots(run, monkeypatch, columns, args) -> None:
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    monkeypatch.setenv("COLUMNS", columns)
    out = run("records", *args, "--offline", "--no-color").out
    lines = out.splitlines()
    assert all(len(line) <= int(columns) for line in lines), max(lines, key=len)
    checked = 0
    for at, head in enumerate(lines):
        if not head.lstrip().startswith("NAME "):
            continue
        col, type_col = head.index("NAME"), head.index("TYPE")
        rows = lines[at + 2 :]
        for line, below in itertools.pairwise(rows):
            if not line.strip() or not below.strip():
                continue
            if any(below.strip() in t or line.strip() in t for t in TITLES):
                continue  # a group title (it may wrap at a space)
            # A line that goes on a NAME cell: text under NAME, nothing under TYPE.
            if below[:col].strip() or below[col : col + 1] in ("", " "):
                continue
            if below[type_col : type_col + 5].strip():
                continue
            # A NAME cell that goes on below broke after a dot, never inside a label.
            assert line[col:].split(" ")[0].endswith("."), (line, below)
            checked += 1
    if columns == "60":
        assert checked  # something did wrap, after a dot
