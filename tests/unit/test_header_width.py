"""At 80 columns: inspect's header lines fit or hang; records' header rules fit their rows."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from hsvc.core.model import Service, ServicePort
from hsvc.core.report import EndpointState, ServiceSummary
from hsvc.render import header as headers
from hsvc.render import table
from hsvc.terminal import Environment

ROOT = Path(__file__).resolve().parents[2]


def _console(width: int) -> tuple[io.StringIO, object]:
    out = io.StringIO()
    return out, Environment(stdout=out, width=width, colors=False).console()


def _summary() -> ServiceSummary:
    svc = Service(
        namespace="ms",
        name="eureka",
        cluster_ips=("None",),
        selector=(("app", "eureka"),),
        ports=(ServicePort(name="http", port=8888),),
    )
    ep = EndpointState(
        name="eureka-2",
        addresses=("10.244.1.211",),
        pod="eureka-2",
        ready=False,
        serving=False,
        terminating=False,
        published=False,
        is_serving=False,
        is_terminating=False,
    )
    return ServiceSummary(service=svc, stateful_sets=(), ready=2, not_ready=1, endpoints=(ep,))


def test_inspect_header_lines_fit_80_columns_or_hang() -> None:
    out, console = _console(80)
    header = headers.service_header(_summary())
    # The endpoint line alone is wider than 80: it must wrap, not be cut or run over.
    assert max(len(line) for line in header.plain.split("\n")) > 80
    table.hanging(console, header)  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    at = next(i for i, line in enumerate(lines) if line.startswith("    eureka-2 "))
    # The continuation hangs right of the line's own indent, and nothing is lost.
    assert lines[at + 1].startswith("        ") and lines[at + 1].strip()
    joined = " ".join(line.strip() for line in lines[at : at + 2])
    assert "terminating=false" in joined and joined.endswith("not in DNS")


def test_inspect_header_lines_that_fit_are_printed_whole() -> None:
    out, console = _console(200)
    header = headers.service_header(_summary())
    table.hanging(console, header)  # type: ignore[arg-type]
    assert out.getvalue().splitlines() == header.plain.split("\n")


def _rules(text: str) -> list[tuple[int, int]]:
    """(rule width, widest line of its table) for each header rule."""
    found = []
    lines = text.splitlines()
    for at, line in enumerate(lines):
        if line.strip() and not line.strip().strip("─"):
            body = []
            for row in lines[at + 1 :]:
                if not row.strip() or (row.strip() and not row.strip().strip("─")):
                    break
                body.append(row)
            head = lines[at - 1]
            found.append((len(line.rstrip()), max(len(r.rstrip()) for r in [head, *body])))
    return found


@pytest.mark.parametrize("args", [["-n", "ms"], ["-n", "kube-system"], ["-A"]])
def test_records_header_rule_is_as_wide_as_the_rows_at_80_columns(
    run: Any, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "80")
    out = run("records", *args, "-f", "tests/data/seed/", "--offline", "--no-color").out
    rules = _rules(out)
    assert rules
    for rule, widest in rules:
        assert rule == widest
        assert rule <= 80
