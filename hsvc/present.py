"""How the CLI runs a command beyond one report: progress, several contexts, watch, monitor.

Part of the CLI layer (with :mod:`hsvc.cli`, :mod:`hsvc.flags` and
:mod:`hsvc.terminal`): it holds the :class:`Invocation` each command receives,
writes error lines, and drives the long-running and multi-context commands.
Everything heavy is imported inside the functions.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TextIO

from hsvc.commands.options import Options
from hsvc.core.dataclass import dataclass
from hsvc.errors import ExitCode
from hsvc.flags import OutputOptions
from hsvc.terminal import Environment

if TYPE_CHECKING:
    from rich.console import Console  # noqa: TID251

    from hsvc.commands.monitor import MonitorOptions

MAX_ERROR = 2000  # characters of one error line


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    """One command's options, output options and terminal, built once by the wrapper."""

    opts: Options
    out: OutputOptions
    env: Environment

    def console(self, *, stderr: bool = False) -> Console:
        """A console on the environment's stdout (or stderr), honouring --no-color."""
        return self.env.console(stderr=stderr, no_color=self.out.no_color)

    def emit(self, doc: dict[str, Any], fmt: str) -> None:
        """Write one document (json, yaml) to stdout; JSON in pieces, as it is made."""
        from hsvc.render.data import dump, write_json

        if fmt == "json":
            write_json(doc, self.env.stdout.write)
            self.env.stdout.write("\n")
        else:
            self.env.stdout.write(dump(doc, fmt))


def error_line(message: str, stderr: TextIO) -> None:
    """Write ``hsvc: error: <message>`` on stderr, inert and cut at :data:`MAX_ERROR`."""
    from hsvc.render.table import safe

    # An error line is cut far later than a table cell: its end says what to do.
    text = safe(message, limit=MAX_ERROR).plain
    stderr.write(f"hsvc: error: {text}\n")


class Progress:
    """A transient progress bar on stderr, only on a terminal and only for table output."""

    def __init__(self, run: Invocation) -> None:
        self.enabled = run.env.stderr_isatty and not run.out.data
        self.run = run
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` queries (a no-op off a terminal)."""
        if not self.enabled:
            return
        if self.bar is None:
            from rich.progress import Progress  # noqa: TID251

            self.bar = Progress(console=self.run.console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("resolving", total=total)
        self.bar.update(self.task, completed=done)

    def stop(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.stop()


def exit_code(ok: bool) -> int:
    """0 when the report is ok, else 1 (a mismatch found)."""
    return int(ExitCode.OK if ok else ExitCode.MISMATCH)


def fleet(command: str, run: Invocation, output: str, work: Callable[[Options], Any]) -> int:
    """Run a command over several contexts: progress per context on stderr, one summary."""
    from hsvc.commands.fleet import run_fleet
    from hsvc.render.table import safe

    stderr = run.env.stderr

    def progress(context: str, event: str, detail: str) -> None:
        name = safe(context).plain
        if event == "start":
            stderr.write(f"hsvc: context {name}: started\n")
        elif event == "done":
            stderr.write(f"hsvc: context {name}: done ({detail})\n")
        else:
            why = safe(detail, limit=MAX_ERROR).plain
            stderr.write(f"hsvc: context {name}: error: {why}\n")
        stderr.flush()

    report = run_fleet(command, run.opts, work, progress=progress)
    if output in ("json", "yaml"):
        from hsvc.render.fleet import fleet_doc

        run.emit(fleet_doc(report), output)
    else:
        from hsvc.render.fleet import fleet_table

        fleet_table(run.console(), report, headers=run.out.headers)
    return report.exit_code


def with_references(opts: Options, references: bool, include_secrets: bool) -> Options:
    """The options with ``--references`` (and ``--include-secrets``) set.

    Raises:
        UsageError: ``--include-secrets`` without ``--references``.
    """
    if include_secrets and not references:
        from hsvc.errors import UsageError

        raise UsageError("--include-secrets needs --references")
    return replace(opts, references=references, include_secrets=include_secrets)


def watch_view(run: Invocation, service: str | None, wopts: Any) -> int:
    """Run ``inspect --watch``: a live table on a terminal, else one JSON event per line."""
    import threading
    import time

    from hsvc.commands.fleet import is_fleet
    from hsvc.commands.watch import run_watch
    from hsvc.errors import UsageError
    from hsvc.render.watch import LiveView, json_lines, print_summary, summary_event

    if is_fleet(run.opts):
        raise UsageError("--watch follows one context; drop --all-contexts or the extra --context")
    if run.out.output.value == "yaml":
        raise UsageError("--watch streams one JSON event per line: use -o json, not -o yaml")
    isatty = getattr(run.env.stdout, "isatty", None)
    live_table = not run.out.data and bool(isatty and isatty())
    started = time.monotonic()
    if not live_table:
        sink = json_lines(run.env.stdout, started)
        summary = run_watch(run.opts, service, wopts, sink)
        sink(summary_event(summary, time.monotonic()))
    else:
        from rich.live import Live  # noqa: TID251

        zone = (run.opts.cluster_domain or "cluster.local").rstrip(".")
        view = LiveView(zone, time.monotonic)
        lock = threading.Lock()

        def render() -> Any:
            with lock:
                return view.render()

        console = run.console()
        with Live(console=console, get_renderable=render, refresh_per_second=2):

            def sink(event: Any) -> None:
                with lock:
                    view.update(event)

            summary = run_watch(run.opts, service, wopts, sink)
        print_summary(console, summary)
    if not summary.ok and (wopts.until_ok or summary.reason == "duration"):
        named = "; ".join(
            f"{r['state']} {r['name']} {r['type']} ({', '.join(r['servers']) or 'not answered'})"
            for r in summary.not_ok[:5]
        )
        more = f" and {len(summary.not_ok) - 5} more" if len(summary.not_ok) > 5 else ""
        error_line(
            f"not every row is ok after {summary.elapsed:.0f} s: {named}{more}", run.env.stderr
        )
    if summary.reason == "interrupted" and wopts.until_ok:
        return int(ExitCode.INTERRUPTED)
    return exit_code(summary.ok)


def monitor(run: Invocation, settings: MonitorOptions, listen: str) -> int:
    """Run ``hsvc monitor`` until SIGTERM or Ctrl-C: one JSON line per state change on stdout.

    Raises:
        UsageError: ``--listen`` is not HOST:PORT, or ``-f`` was given.
    """
    import json
    import threading
    from datetime import UTC, datetime

    from hsvc.commands.monitor import run_monitor
    from hsvc.errors import UsageError

    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or int(port_text) > 65535:
        raise UsageError(f"--listen takes HOST:PORT, got {listen!r}")
    if run.opts.files:
        raise UsageError("monitor reads a live cluster; -f does not apply")
    lock = threading.Lock()
    stdout = run.env.stdout

    def emit(record: dict[str, Any]) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = json.dumps({"time": stamp, **record}, sort_keys=True)
        # The last line must not hold the exit back behind a loop blocked on a full pipe.
        if not lock.acquire(timeout=0.5 if record.get("event") == "stopped" else -1):
            return
        try:
            stdout.write(line + "\n")
            stdout.flush()
        finally:
            lock.release()

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    # End the process without interpreter teardown once main returns (hsvc.cli.main).
    run.env.exit_now = True
    # A signal ignored when hsvc started (SIGINT under `nohup`) stays ignored.
    previous = {
        sig: signal.signal(sig, on_signal)
        for sig in (signal.SIGTERM, signal.SIGINT)
        if signal.getsignal(sig) is not signal.SIG_IGN
    }
    try:
        run_monitor(run.opts, settings, (host.strip("[]"), int(port_text)), emit, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return int(ExitCode.OK)
