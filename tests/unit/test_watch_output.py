"""``inspect --watch`` output: the JSON stream contract and the live table (hsvc.render.watch)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from rich.console import Console

from hsvc.core.convergence import WatchEvent, WatchSummary
from hsvc.render.watch import LiveView, json_lines, print_summary, summary_event

ROW = {
    "name": "eureka-3.eureka.ms.svc.cluster.local.",
    "type": "A",
    "group": "endpoint",
    "server": "coredns-a (port-forward)",
    "state": "converging",
    "previous": "ok",
    "verdict": "missing",
    "secondsLeft": 4.5,
    "bound": 7.0,
    "sinceChange": 2.5,
    "why": "a negative answer ...",
}


def summary(**extra: object) -> WatchSummary:
    fields: dict = {
        "ok": False,
        "reason": "duration",
        "counts": {"ok": 3, "converging": 0, "stuck": 1, "flapping": 0},
        "not_ok": ({"name": "x.", "type": "A", "state": "stuck", "servers": ["a"], "why": "w"},),
        "measurements": (),
        "replicas": ({"server": "a", "serial": 5, "behind": 2, "lagging": True},),
        "questions_asked": 10,
        "rounds": 2,
        "elapsed": 3.0,
        "answered": True,
    }
    return WatchSummary(**(fields | extra))


def test_each_event_is_one_sorted_json_line_with_the_envelope() -> None:
    out = io.StringIO()
    sink = json_lines(out, started=100.0)
    sink(WatchEvent(event="row", at=102.5, data=ROW))
    sink(summary_event(summary(), 103.0))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    row, last = (json.loads(line) for line in lines)
    assert list(row) == sorted(row)
    assert {k: row[k] for k in ("apiVersion", "kind", "event", "elapsed")} == {
        "apiVersion": "hsvc/v1alpha1",
        "kind": "WatchEvent",
        "event": "row",
        "elapsed": 2.5,
    }
    assert datetime.fromisoformat(row["time"].replace("Z", "+00:00")).tzinfo == UTC
    assert set(last) == {
        "apiVersion", "kind", "event", "time", "elapsed", "ok", "reason", "counts", "notOk",
        "measurements", "replicas", "questionsAsked", "rounds", "duration",
    }  # fmt: skip
    assert last["notOk"][0]["state"] == "stuck" and last["replicas"][0]["lagging"]


def test_live_table_shows_rows_not_ok_and_cluster_strings_inert() -> None:
    clock = iter([0.0, *[3.0] * 10])
    view = LiveView("cluster.local", lambda: next(clock))
    view.update(WatchEvent(event="start", at=0.0, data={"scope": "service ms/x", "servers": []}))
    hostile = dict(ROW, name="evil[bold]\x1b[31m.ms.svc.cluster.local.")
    view.update(WatchEvent(event="row", at=1.0, data=hostile))
    view.update(
        WatchEvent(
            event="replica",
            at=1.0,
            data={"server": "b", "serial": 7, "behind": 3, "lagging": True},
        )
    )
    console = Console(file=io.StringIO(), width=160, no_color=True, markup=False)
    console.print(view.render())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "converging 1" in text and "evil[bold]\\x1b[31m.ms.svc" in text
    assert "\x1b" not in text and "replica b: SOA serial 7  lagging 3 s behind" in text


def test_summary_names_stuck_rows_and_lagging_replicas() -> None:
    console = Console(file=io.StringIO(), width=160, no_color=True, markup=False)
    print_summary(console, summary())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "stuck: x. A on a" in text and "replica a lagging 2 s behind" in text
