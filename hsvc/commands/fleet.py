"""One command over many kubeconfig contexts: ``--context A --context B`` or ``--all-contexts``.

Each context runs the ordinary command (:func:`hsvc.commands.inspect.run_inspect`,
``run_records``, ``run_lint``) with its own options: its own API connection, its
own ``--request-timeout`` deadline and its own DNS vantage point (the CoreDNS
replicas of that cluster, through its API server, unless ``--nameserver`` says
otherwise). Contexts run in threads, at most ``parallel`` at once: the work is
waiting on sockets. An error in one context (an unreachable cluster, a denied
list) is that context's result; the others still run. The exit code is the
worst (highest) of the contexts' codes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from hsvc.commands.options import Options
from hsvc.core.report import ContextResult, FleetReport, InspectReport, LintReport, RecordsReport
from hsvc.core.tally import ServiceTally, lint_tally, records_tally, tally
from hsvc.errors import ExitCode, HsvcError, UsageError

log = logging.getLogger(__name__)

R = TypeVar("R", InspectReport, RecordsReport, LintReport)

MAX_PARALLEL = 64

# Called with (context, event, detail): event is "start", "done" or "error".
FleetProgress = Callable[[str, str, str], None]


def contexts_of(opts: Options) -> list[str]:
    """The contexts to run: ``--context`` values in order, or every context with ``--all-contexts``.

    Raises:
        UsageError: ``--all-contexts`` with ``--context`` or ``-f``, or no context at all.
        ApiUnreachableError: No kubeconfig to read the contexts from.
    """
    if opts.all_contexts:
        if opts.contexts:
            raise UsageError("--all-contexts and --context exclude each other")
        if opts.files:
            raise UsageError("--all-contexts reads live clusters; it does not apply with -f")
        from hsvc.adapters.kubeconfig import list_contexts

        names, where = list_contexts(opts.kubeconfig)
        if not names:
            raise UsageError(f"kubeconfig {where} has no contexts")
        return names
    return list(dict.fromkeys(opts.contexts))


def is_fleet(opts: Options) -> bool:
    """Whether the options ask for more than one context."""
    return opts.all_contexts or len(set(opts.contexts)) > 1


def run_fleet(
    command: str,
    opts: Options,
    work: Callable[[Options], R],
    *,
    progress: FleetProgress | None = None,
) -> FleetReport[R]:
    """Run ``work`` once per context, at most ``opts.parallel`` at once, and summarise.

    Raises:
        UsageError: bad context flags (see :func:`contexts_of`), ``-f`` with several contexts.
        ApiUnreachableError: ``--all-contexts`` without a kubeconfig.
    """
    if opts.files:
        raise UsageError("several contexts read live clusters; they do not apply with -f")
    names = contexts_of(opts)
    lock = threading.Lock()

    def tell(context: str, event: str, detail: str) -> None:
        if progress is not None:
            with lock:
                progress(context, event, detail)

    def one(context: str) -> ContextResult[R]:
        started = time.monotonic()
        tell(context, "start", "")
        mine = replace(opts, context=context, contexts=(context,), all_contexts=False)
        try:
            report = work(mine)
        except HsvcError as exc:
            seconds = time.monotonic() - started
            tell(context, "error", exc.message)
            return ContextResult(
                context=context, exit_code=int(exc.exit_code), seconds=seconds, error=exc.message
            )
        seconds = time.monotonic() - started
        code = int(ExitCode.OK if report.ok else ExitCode.MISMATCH)
        tell(context, "done", f"exit {code}")
        return ContextResult(context=context, exit_code=code, seconds=seconds, report=report)

    from concurrent.futures import ThreadPoolExecutor  # here: a one-context run never needs it

    from hsvc.adapters.kubeconfig import import_client

    import_client()  # before the threads: the client's lazy imports are not thread-safe
    workers = max(1, min(opts.parallel, MAX_PARALLEL, len(names)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hsvc-context") as pool:
        results = tuple(pool.map(one, names))
    return FleetReport(command=command, results=results, summary=_summary(results))


def _summary(results: Sequence[ContextResult[R]]) -> tuple[tuple[str, ServiceTally], ...]:
    out: list[tuple[str, ServiceTally]] = []
    for result in results:
        report = result.report
        if report is None:
            continue
        zones = report.source.settings.zones
        if isinstance(report, InspectReport):
            tallies = tally(report.rows, report.findings, zones)
        elif isinstance(report, RecordsReport):
            tallies = records_tally(
                (
                    (e.record.name, e.record.data if e.record.type == "PTR" else "")
                    for e in report.records
                ),
                ((n.name, "") for n in report.absent),
                zones,
            )
        else:
            tallies = lint_tally(report.findings)
        out.extend((result.context, t) for t in tallies)
    return tuple(out)
