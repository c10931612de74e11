"""The ``hsvc`` command line (also ``kubectl hsvc``): options in, report out, exit code.

This module is the only catch point for errors (as httpie's ``raw_main``): an
:class:`~hsvc.errors.HsvcError` becomes ``hsvc: error: <message>`` on stderr and
its exit code; Ctrl-C becomes 130; anything else 70 with a hint to rerun with
``--debug``. Heavy modules (kubernetes, dnspython, yaml, rich) are imported inside
command bodies so that ``hsvc --help`` stays instant.
"""

import copy
import functools
import gc
import os
import signal
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO, cast

try:
    import typer  # noqa: TID251
except KeyboardInterrupt:  # Ctrl-C while starting up: no traceback, as after (exit-codes.md)
    sys.stderr.write("hsvc: error: interrupted\n")
    sys.exit(130)

from hsvc import __version__
from hsvc.cliapp import DEMO_ONLY, command_names, commands, hoist_command, value_flags
from hsvc.coercion import PlainCoercion
from hsvc.commands.options import (
    MONITOR_INTERVAL,
    MONITOR_LISTEN,
    WATCH_INTERVAL,
    WATCH_SWEEP,
)
from hsvc.core import collector
from hsvc.core.vocabulary import DEFAULT_MAX_SERVICES, WATCH_ALLOWANCE
from hsvc.errors import ExitCode, WriteFailedError
from hsvc.flags import (
    FLEET,
    LIVE,
    AllRowsOpt,
    ForOpt,
    IncludeSecretsOpt,
    InspectReferencesOpt,
    IntervalOpt,
    LintOutput,
    LintOutputOpt,
    ListenOpt,
    MaxServicesOpt,
    MonitorIntervalOpt,
    MonitorWatchOpt,
    NodeLocalCorefileOpt,
    OnlyFailuresOpt,
    ReferencesOpt,
    SelectorOpt,
    StuckAfterOpt,
    SweepOpt,
    UntilOkOpt,
    WatchLagOpt,
    WatchOpt,
    complete_services,
)
from hsvc.outstreams import BestEffort, Checked, silence_stdout, write_failed
from hsvc.present import (
    Invocation,
    Progress,
    error_line,
    exit_code,
    fleet,
    watch_view,
    with_references,
)
from hsvc.terminal import Environment

if TYPE_CHECKING:
    from hsvc.core.report import InspectReport


class _Group(typer.core.TyperGroup):
    """The root group; its flags are coerced without pydantic (:class:`PlainCoercion`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        # Here, not in __init__: typer adds the completion flags later, click the help flag.
        params = list(super().get_params(ctx))
        for param in params:
            PlainCoercion.install(param)
        return params


app = typer.Typer(
    cls=_Group,
    name="hsvc",
    help=(
        "Explain Kubernetes Service and StatefulSet DNS: what cluster DNS must answer, "
        "what it does answer, and why they differ."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help: rendering it with rich costs ~0.1 s at every `--help` (benchmarks.md).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"hsvc {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Explain Kubernetes Service and StatefulSet DNS."""


command = commands(app)


# --- commands ---------------------------------------------------------------------------


@command(FLEET)
def cmd_records(
    service: Annotated[
        str | None,
        typer.Argument(
            metavar="SERVICE",
            help="Service name (default: every Service).",
            autocompletion=complete_services,
        ),
    ] = None,
    *,
    run: Invocation,
) -> int:
    """List the records cluster DNS serves for a Service (or namespace), and names it must not.

    Example: hsvc records eureka -n ms -f manifests/ --offline
    """
    from hsvc.commands.fleet import is_fleet
    from hsvc.commands.records import run_records

    if is_fleet(run.opts):
        return fleet("records", run, run.out.output.value, lambda o: run_records(o, service))
    report = run_records(run.opts, service)
    if run.out.data:
        from hsvc.render.data import records_doc

        run.emit(records_doc(report), run.out.output.value)
    else:
        from hsvc.render.table import print_notes, records_table

        records_table(run.console(), report, wide=run.out.wide, headers=run.out.headers)
        if run.out.headers:
            print_notes(run.console(stderr=True), report.source)
    return exit_code(report.ok)


@command(LIVE, without=frozenset({"all_namespaces"}))
def cmd_resolve(
    names: Annotated[
        list[str],
        typer.Argument(metavar="NAME", help="Names to resolve (short names are expanded)."),
    ],
    *,
    type: Annotated[
        str,
        typer.Option(
            "--type", "-t", metavar="TYPE", help="Record type (A, AAAA, SRV, PTR, CNAME, TXT…)."
        ),
    ] = "A",
    run: Invocation,
) -> int:
    """Say what cluster DNS answers for names, why, and (live) what it does answer.

    Example: hsvc resolve eureka-1.eureka -n ms --nameserver 10.96.0.10
    """
    from hsvc.commands.resolve import run_resolve

    opts = run.opts
    live = not opts.offline and bool(opts.nameservers or not opts.files)
    report = run_resolve(opts, names, type, live=live)
    if run.out.data:
        from hsvc.render.data import resolve_doc

        run.emit(resolve_doc(report), run.out.output.value)
    else:
        from hsvc.render.table import resolve_blocks

        resolve_blocks(run.console(), report, wide=run.out.wide)
    if run.out.headers:
        from hsvc.render.table import print_notes

        print_notes(run.console(stderr=True), report.source)
    return exit_code(report.ok)


@command(LIVE, FLEET, without=frozenset({"offline"}))
def cmd_inspect(
    service: Annotated[
        str | None,
        typer.Argument(
            metavar="SERVICE",
            help="Service name (default: every Service).",
            autocompletion=complete_services,
        ),
    ] = None,
    *,
    only_failures: OnlyFailuresOpt = False,
    all_rows: AllRowsOpt = False,
    references: InspectReferencesOpt = False,
    watch: WatchOpt = False,
    until_ok: UntilOkOpt = False,
    for_: ForOpt = None,
    interval: IntervalOpt = WATCH_INTERVAL,
    sweep: SweepOpt = WATCH_SWEEP,
    watch_lag: WatchLagOpt = WATCH_ALLOWANCE,
    node_local_corefile: NodeLocalCorefileOpt = None,
    run: Invocation,
) -> int:
    """Compare what cluster DNS must answer for a Service with what it answers, row by row.

    For -A, a namespace or several Services it prints one line per Service, then
    only the rows that are not ok (--all-rows: every row).

    With --watch, follow the objects (one LIST and WATCH per kind) and DNS: each
    row is ok, converging (a cache may still legitimately hold the old answer),
    stuck or flapping, per replica; --until-ok makes it a rollout gate.

    With --references, lists the workloads that use the Service's names ("used by:
    deploy/api env KAFKA_BOOTSTRAP"), so a broken Service shows who breaks with it.

    Example: hsvc inspect eureka -n ms --until-ok --for 2m
    """
    from hsvc.commands.fleet import is_fleet
    from hsvc.commands.inspect import run_inspect
    from hsvc.errors import UsageError

    if only_failures and all_rows:
        raise UsageError("--only-failures and --all-rows exclude each other; pass one")
    run = replace(run, opts=with_references(run.opts, references, False))

    if watch or until_ok or for_ is not None:
        from hsvc.commands.watch import WatchOptions, parse_duration

        wopts = WatchOptions(
            until_ok=until_ok,
            duration=parse_duration(for_) if for_ is not None else None,
            interval=interval,
            sweep=sweep,
            watch_allowance=watch_lag,
            node_local_corefile=node_local_corefile,
        )
        return watch_view(run, service, wopts)
    if is_fleet(run.opts):
        return fleet("inspect", run, run.out.output.value, lambda o: run_inspect(o, service))
    progress = Progress(run)
    try:
        report = run_inspect(run.opts, service, progress=progress)
    finally:
        progress.stop()
    _show_inspect(run, report, service, only_failures=only_failures, all_rows=all_rows)
    return exit_code(report.ok)


def _show_inspect(
    run: Invocation,
    report: "InspectReport",
    service: str | None,
    *,
    only_failures: bool,
    all_rows: bool,
) -> None:
    """Write an inspect report: data, the row table, or the per-Service summary."""
    if run.out.data:
        from hsvc.render.data import inspect_doc

        run.emit(inspect_doc(report), run.out.output.value)
        return
    from hsvc.render.summary import inspect_summary
    from hsvc.render.table import COLLAPSE_AT, inspect_table, print_notes

    console = run.console()
    many = service is None or len(report.services) > 1 or len(report.rows) > COLLAPSE_AT
    if all_rows or (many is False and not only_failures):
        inspect_table(
            console,
            report,
            wide=run.out.wide,
            headers=run.out.headers,
            collapse=not all_rows,
        )
    else:
        inspect_summary(
            console,
            report,
            wide=run.out.wide,
            headers=run.out.headers,
            services=not only_failures,
        )
    if run.out.headers:
        stderr = run.console(stderr=True)
        print_notes(stderr, report.source)
        for note in report.notes:
            print_notes(stderr, note)


@command(FLEET)
def cmd_lint(
    *,
    output: LintOutputOpt = LintOutput.table,
    references: ReferencesOpt = False,
    include_secrets: IncludeSecretsOpt = False,
    run: Invocation,
) -> int:
    """Check objects for mistakes that break their DNS names, without asking DNS.

    Reads manifests (-f, for CI before deploying: every object in the files; -f -
    reads a rendered chart from stdin) or the live API (-n NS, -A). With
    --references, also checks every cluster name the workloads, ConfigMaps, routes
    and ExternalName Services use. Exits 1 when any finding is an error, else 0.
    Every code is explained by hsvc explain CODE (hsvc explain --list lists them).

    Example: helm template ./chart | hsvc lint -f - --references -o sarif > hsvc.sarif
    """
    from hsvc.commands.fleet import is_fleet
    from hsvc.commands.lint import run_lint

    run = replace(run, opts=with_references(run.opts, references, include_secrets))
    if is_fleet(run.opts):
        if output is LintOutput.sarif:
            from hsvc.errors import UsageError

            raise UsageError("-o sarif describes one run; with several contexts use -o json")
        return fleet("lint", run, output.value, run_lint)
    report = run_lint(run.opts)
    if output is LintOutput.sarif:
        from hsvc.render.sarif import sarif_doc

        run.emit(sarif_doc(report, __version__), "json")
    elif output in (LintOutput.json, LintOutput.yaml):
        from hsvc.render.data import lint_doc

        run.emit(lint_doc(report), output.value)
    else:
        from hsvc.render.table import lint_table, print_notes

        headers = run.out.headers
        lint_table(run.console(), report, wide=output is LintOutput.wide, headers=headers)
        if headers:
            print_notes(run.console(stderr=True), report.source)
    return exit_code(report.ok)


@command(LIVE)
def cmd_monitor(
    *,
    listen: ListenOpt = MONITOR_LISTEN,
    interval: MonitorIntervalOpt = MONITOR_INTERVAL,
    stuck_after: StuckAfterOpt = None,
    max_services: MaxServicesOpt = DEFAULT_MAX_SERVICES,
    watch: MonitorWatchOpt = True,
    selector: SelectorOpt = "",
    run: Invocation,
) -> int:
    """Check cluster DNS continuously and serve the results as Prometheus metrics.

    Runs until SIGTERM or Ctrl-C: a full sweep every --interval, changed
    Services re-checked as soon as the watch reports them, every state change
    (mismatch, converged, stuck) one JSON line on stdout. Every namespace
    unless -n. Read-only: it lists, watches and gets, nothing else. See
    docs/how-to/monitor-a-fleet.md and docs/reference/metrics.md.

    Example: hsvc monitor --listen 0.0.0.0:9897 --interval 60
    """
    from hsvc.commands.monitor import MonitorOptions
    from hsvc.present import monitor

    settings = MonitorOptions(
        interval=interval,
        stuck_after=stuck_after,
        max_services=max_services,
        watch=watch,
        selector=selector,
    )
    return monitor(run, settings, listen)


@command(only=DEMO_ONLY)
def cmd_demo(*, run: Invocation) -> int:
    """Replay a small recorded cluster and its DNS on 127.0.0.1, and inspect it step by step.

    Needs no cluster and no network. Exits 0 when the demo runs as designed: its
    ✗ rows are part of the show. It brings its own objects and DNS, so it takes
    only the output options.

    Example: hsvc demo
    """
    from hsvc.commands.demo import INTRO, OUTRO, STEPS, check_script, demo_cluster
    from hsvc.errors import UsageError
    from hsvc.render.demo import demo_intro, demo_outro, demo_step

    if run.out.data:
        raise UsageError("demo prints a story; -o json|yaml is for inspect, records and resolve")
    console = run.console()
    played = []
    with demo_cluster() as cluster:
        demo_intro(console, cluster.address, INTRO)
        for number, step in enumerate(STEPS, start=1):
            played.append(cluster.play(step))
            demo_step(
                console,
                played[-1],
                number,
                len(STEPS),
                wide=run.out.wide,
                headers=run.out.headers,
            )
    demo_outro(console, played, OUTRO)
    check_script(played)
    return int(ExitCode.OK)


@command(only=frozenset({"no_color", "debug"}))
def cmd_explain(
    code: Annotated[
        str | None,
        typer.Argument(metavar="CODE", help="Finding code, e.g. HSVC204."),
    ] = None,
    *,
    list_codes: Annotated[
        bool, typer.Option("--list", help="List every finding code with its one-line summary.")
    ] = False,
    run: Invocation,
) -> int:
    """Print a finding's full explanation and fix, offline (no cluster needed).

    Example: hsvc explain HSVC204
    """
    from hsvc.commands.explain import explain, finding_docs
    from hsvc.errors import UsageError

    out = run.env.stdout
    if list_codes:
        for doc in finding_docs():
            out.write(f"{doc.code}  {doc.summary}\n")
        return int(ExitCode.OK)
    if code is None:
        raise UsageError("name a finding code (hsvc explain HSVC204) or pass --list")
    doc = explain(code)
    out.write(f"{doc.code}\n\n{doc.text}\n")
    return int(ExitCode.OK)


# --- entry point ------------------------------------------------------------------------


@functools.cache
def _group() -> Any:
    """The app as a click group, built once per process.

    typer builds it anew at every ``get_command`` and every ``app()`` call: three
    times per command, each a twentieth of a small inspect (docs/reference/benchmarks.md).
    """
    from typer.main import get_command  # noqa: TID251

    return get_command(app)


@functools.cache
def _one_command(name: str) -> Any:
    """The app as a click group that holds only the command ``name``.

    What typer builds for that command is the same whichever others stand beside
    it, so a run of one command builds only that one (building all of them was a
    twentieth of a small inspect, docs/reference/benchmarks.md). The root help,
    an unknown command and shell completion use :func:`_group`.
    """
    from typer.main import get_command  # noqa: TID251

    alone = copy.copy(app)
    alone.registered_commands = [c for c in app.registered_commands if c.name == name]
    return get_command(alone)


def _command_names() -> set[str]:
    return command_names(app)


def _value_flags() -> set[str]:
    return value_flags(app)


def _group_for(args: list[str]) -> Any:
    """The click group to run ``args`` with: the command's alone when it is one."""
    completing = any(name.endswith("_COMPLETE") for name in os.environ)
    if args and not completing and args[0] in _command_names():
        return _one_command(args[0])
    return _group()


def main(argv: list[str] | None = None, env: Environment | None = None) -> NoReturn:
    """Run the CLI (console scripts ``hsvc`` and ``kubectl-hsvc``).

    Args:
        argv: The arguments (default: the process's).
        env: The terminal to run in (default: the process's streams and variables).
    """
    own = env is None and argv is None  # the process's own streams, not a test's
    env = env if env is not None else Environment.from_process()
    # Results must reach stdout or the run failed (exit 74); stderr is best effort:
    # a note that cannot be written must not turn a finished run into a failure.
    env = replace(
        env,
        stdout=cast(TextIO, Checked(env.stdout)),
        stderr=cast(TextIO, BestEffort(env.stderr)),
    )
    args = list(sys.argv[1:] if argv is None else argv)
    if argv is None:
        collector.collect_rarely()  # the process is ours, not a test calling main
    if argv is None and hasattr(signal, "SIGPIPE"):
        # `hsvc ... | head` ends quietly like other Unix tools instead of exiting 1,
        # which would read as "mismatch found".
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    prog = "kubectl hsvc" if os.path.basename(sys.argv[0]).startswith("kubectl-") else "hsvc"
    try:
        names = _command_names()
        if args and args[0] not in names and args[0] not in ("-h", "--help", "--version"):
            # Only when the command is not first: the value flags are read from every
            # command's signature.
            args = hoist_command(args, names, _value_flags())
        code = _group_for(args)(args=args, prog_name=prog, standalone_mode=False, obj=env)
        if code != ExitCode.WRITE_FAILED:
            env.stdout.flush()
            if own:
                sys.stdout.flush()  # --help and --version write there directly
    except typer.TyperException as exc:
        sys.exit(_usage_error(exc, env))
    except (KeyboardInterrupt, typer.Abort):
        code = ExitCode.INTERRUPTED
    except (OSError, WriteFailedError) as exc:
        code = write_failed(exc, env, own=own)
    if code == ExitCode.WRITE_FAILED and own:
        silence_stdout()
    if code == ExitCode.INTERRUPTED:
        # From hsvc.cliapp's guard, or from typer, which turns a Ctrl-C outside the command
        # (while parsing) into a silent exit 130.
        error_line("interrupted", env.stderr)
    code = code if isinstance(code, int) else 0
    if argv is None and env.exit_now:
        # hsvc monitor, stopped: tearing down a heap of tens of thousands of objects
        # (and threads still mid-query) took seconds; SIGTERM must end it at once.
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)
    if argv is None:
        # The process ends now: what the run built (a million objects in cycles after
        # `inspect -A` at 1,000 Services) need not be collected and freed one by one
        # at interpreter teardown (0.8 of 6.9 CPU s there). atexit handlers still run.
        gc.freeze()
    sys.exit(code)


def _usage_error(exc: typer.TyperException, env: Environment) -> int:
    """Report a parsing error as one line (exit 2); ``hsvc`` alone prints the help."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # typer vendors click; no public name
        env.stdout.write(exc.format_message() + "\n")
        return int(ExitCode.OK)
    ctx = getattr(exc, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    message = " ".join(exc.format_message().split())
    error_line(f"{message}{where}", env.stderr)
    return int(getattr(exc, "exit_code", ExitCode.USAGE))
