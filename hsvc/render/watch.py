"""``inspect --watch`` output: one JSON event per line, or a live table that updates in place.

The stream contract (docs/reference/output.md, "Watch events"): every line is one
JSON object ``{"apiVersion": "hsvc/v1alpha1", "kind": "WatchEvent", "event": ...,
"time": ..., "elapsed": ..., <fields of that event>}`` with sorted keys; the last
line is the ``summary`` event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from rich.console import Console, Group  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.text import Text  # noqa: TID251

from hsvc.core.convergence import WatchEvent, WatchSummary
from hsvc.render.data import API_VERSION
from hsvc.render.table import safe

__all__ = ["LiveView", "event_doc", "json_lines", "print_summary", "summary_doc", "summary_event"]

STATE_STYLE = {"ok": "green", "converging": "yellow", "stuck": "bold red", "flapping": "magenta"}
MAX_ROWS = 25  # rows listed in the live table; the rest are counted


def _wall(started_mono: float, started_wall: datetime, at: float) -> str:
    when = started_wall + timedelta(seconds=at - started_mono)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_doc(event: WatchEvent, *, started: float, wall: datetime) -> dict[str, Any]:
    """One event as the stream's JSON object."""
    return {
        "apiVersion": API_VERSION,
        "kind": "WatchEvent",
        "event": event.event,
        "time": _wall(started, wall, event.at),
        "elapsed": round(event.at - started, 3),
        **event.data,
    }


def summary_doc(summary: WatchSummary) -> dict[str, Any]:
    """The summary event's fields."""
    return {
        "ok": summary.ok,
        "reason": summary.reason,
        "counts": dict(summary.counts),
        "notOk": list(summary.not_ok),
        "measurements": list(summary.measurements),
        "replicas": list(summary.replicas),
        "questionsAsked": summary.questions_asked,
        "rounds": summary.rounds,
        "duration": round(summary.elapsed, 3),
    }


def summary_event(summary: WatchSummary, at: float) -> WatchEvent:
    """The stream's last event."""
    return WatchEvent(event="summary", at=at, data=summary_doc(summary))


def json_lines(stream: TextIO, started: float) -> Callable[[WatchEvent], None]:
    """A sink writing each event as one line of JSON, flushed at once."""
    wall = datetime.now(UTC)

    def write(event: WatchEvent) -> None:
        doc = event_doc(event, started=started, wall=wall)
        stream.write(json.dumps(doc, sort_keys=True, ensure_ascii=False) + "\n")
        stream.flush()

    return write


class LiveView:
    """What the live table shows, updated from events; :meth:`render` builds the table."""

    def __init__(self, zone: str, clock: Callable[[], float]) -> None:
        self.zone = "." + zone
        self.clock = clock
        self.scope = ""
        self.servers: list[str] = []
        self.rows: dict[tuple[str, str, str], dict[str, Any]] = {}  # (name, type, server)
        self.replicas: dict[str, dict[str, Any]] = {}
        self.changes: list[str] = []
        self.converged: list[str] = []
        self.started = clock()

    def update(self, event: WatchEvent) -> None:
        """Take one event."""
        data = event.data
        if event.event == "start":
            self.scope, self.servers, self.started = data["scope"], list(data["servers"]), event.at
        elif event.event == "row":
            self.rows[(data["name"], data["type"], data["server"])] = {**data, "at": event.at}
        elif event.event == "replica":
            self.replicas[data["server"]] = data
        elif event.event == "change":
            self.changes = [*self.changes[-4:], data["what"]]
        elif event.event == "converged":
            worst = max(data["latency"].values(), default=0.0)
            self.converged = [
                *self.converged[-4:],
                f"{'; '.join(data['what'])}: {worst:.1f} s (bound {data['bound']:g} s)",
            ]

    def _short(self, name: str) -> str:
        return name[: -len(self.zone)] if name.endswith(self.zone) else name

    def render(self) -> Group:
        """The table: counts per state, the rows not ok, replicas, recent changes."""
        now = self.clock()
        counts: dict[str, int] = dict.fromkeys(STATE_STYLE, 0)
        per_row: dict[tuple[str, str], str] = {}
        order = list(STATE_STYLE)
        for (name, rtype, _server), row in self.rows.items():
            state = row["state"]
            key = (name, rtype)
            if key not in per_row or order.index(state) > order.index(per_row[key]):
                per_row[key] = state
        for state in per_row.values():
            counts[state] += 1
        head = Text()
        head.append_text(safe(self.scope))
        head.append(f"  {now - self.started:.0f} s  ")
        for state, style in STATE_STYLE.items():
            head.append(f"{state} {counts[state]}  ", style=style if counts[state] else "")
        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("STATE", "NAME", "TYPE", "SERVER", "FOR", "LEFT", "WHY"):
            table.add_column(column, overflow="fold" if column == "WHY" else "ellipsis")
        wrong = [r for r in self.rows.values() if r["state"] != "ok"]
        wrong.sort(key=lambda r: (order.index(r["state"]) * -1, r["name"], r["server"]))
        for row in wrong[:MAX_ROWS]:
            left = ""
            if row["state"] == "converging":
                left = f"{max(row['secondsLeft'] - (now - row['at']), 0):.0f} s"
            table.add_row(
                Text(row["state"], style=STATE_STYLE[row["state"]]),
                safe(self._short(row["name"])),
                row["type"],
                safe(row["server"]),
                f"{now - row['at']:.0f} s",
                left,
                safe(row["why"], limit=160),
            )
        parts: list[Any] = [head]
        if wrong:
            parts.append(table)
            if len(wrong) > MAX_ROWS:
                parts.append(Text(f"... and {len(wrong) - MAX_ROWS} more rows not ok"))
        for server, rep in sorted(self.replicas.items()):
            line = Text(f"replica {server}: SOA serial {rep['serial']}")
            if rep["lagging"]:
                line.append(f"  lagging {rep['behind']} s behind", style="bold red")
            parts.append(safe(line.plain) if not rep["lagging"] else line)
        for text in self.changes[-3:]:
            parts.append(safe(f"change: {text}", "dim", limit=200))
        for text in self.converged[-3:]:
            parts.append(safe(f"converged: {text}", "green", limit=200))
        return Group(*parts)


def print_summary(console: Console, summary: WatchSummary) -> None:
    """The summary after a live table (or a Ctrl-C)."""
    counts = ", ".join(f"{n} {state}" for state, n in summary.counts.items() if n)
    console.print(
        Text(f"watched {summary.elapsed:.0f} s ({summary.reason}): {counts or 'no rows'}")
    )
    for m in summary.measurements:
        lat = ", ".join(f"{s} {v:.1f} s" for s, v in m["latency"].items()) or "not yet"
        line = f"change {m['change']} ({'; '.join(m['what'])}): {lat}; bound {m['bound']:g} s"
        console.print(safe(line, limit=400))
    for rep in summary.replicas:
        if rep["lagging"]:
            console.print(
                safe(f"replica {rep['server']} lagging {rep['behind']} s behind", "bold red")
            )
    for row in summary.not_ok:
        line = f"{row['state']}: {row['name']} {row['type']} on {', '.join(row['servers'])}"
        console.print(safe(line, STATE_STYLE.get(row["state"], ""), limit=400))
