"""The ``hsvc`` command line (also ``kubectl hsvc``): options in, report out, exit code.

This module is the only catch point for errors (as httpie's ``raw_main``): an
:class:`~hsvc.errors.HsvcError` becomes ``hsvc: error: <message>`` on stderr and
its exit code; Ctrl-C becomes 130; anything else 70 with a hint to rerun with
``--debug``. Heavy modules (kubernetes, dnspython, yaml, rich) are imported inside
command bodies so that ``hsvc --help`` stays instant.
"""

import copy
import errno
import functools
import gc
import inspect
import logging
import os
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, NoReturn, TextIO, cast

try:
    import typer  # noqa: TID251
except KeyboardInterrupt:  # Ctrl-C while starting up: no traceback, as after (exit-codes.md)
    sys.stderr.write("hsvc: error: interrupted\n")
    sys.exit(130)

from hsvc import __version__
from hsvc.commands.options import (
    MONITOR_INTERVAL,
    MONITOR_LISTEN,
    WATCH_INTERVAL,
    WATCH_SWEEP,
    Options,
)
from hsvc.core.vocabulary import DEFAULT_MAX_SERVICES, WATCH_ALLOWANCE
from hsvc.errors import ExitCode, HsvcError, WriteFailedError
from hsvc.flags import (
    FLEET,
    LIVE,
    SHARED,
    AllRowsOpt,
    FlagGroup,
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
    OutputOptions,
    PlainCoercion,
    ReferencesOpt,
    SelectorOpt,
    StuckAfterOpt,
    SweepOpt,
    UntilOkOpt,
    WatchLagOpt,
    WatchOpt,
    complete_services,
    defaults,
)
from hsvc.present import (
    MAX_ERROR,
    Invocation,
    Progress,
    error_line,
    exit_code,
    fleet,
    watch_view,
    with_references,
)
from hsvc.terminal import Environment

log = logging.getLogger("hsvc")


def _invocation(flags: dict[str, Any], env: Environment) -> Invocation:
    """Gather the flags into the frozen options, once per command."""
    given = defaults(SHARED, LIVE, FLEET) | flags
    contexts = tuple(dict.fromkeys(given["context"] or ()))
    if len(contexts) > 1 and "parallel" not in flags:
        from hsvc.errors import UsageError

        raise UsageError("--context is given once here; several are for inspect, records and lint")
    opts = Options(
        files=tuple(given["filename"] or ()),
        offline=given["offline"],
        kubeconfig=given["kubeconfig"],
        context=contexts[0] if len(contexts) == 1 else None,
        contexts=contexts,
        all_contexts=given["all_contexts"],
        parallel=given["parallel"],
        namespace=given["namespace"],
        all_namespaces=given["all_namespaces"],
        request_timeout=given["request_timeout"],
        corefile=given["corefile"],
        cluster_domain=given["cluster_domain"],
        pods=given["pods"],
        endpoint_pod_names=given["endpoint_pod_names"],
        ttl=given["ttl"],
        dns_flavour=given["dns_flavour"],
        dns_version=given["dns_version"],
        nameservers=tuple(given["nameserver"] or ()),
        timeout=given["timeout"],
        concurrency=given["concurrency"],
        via=given["via"],
        pod=given["pod"],
        container=given["container"],
        in_pod=env.in_pod,
        resolv_conf=env.resolv_conf(),
    )
    out = OutputOptions(
        output=given["output"],
        headers=not given["no_headers"],
        no_color=given["no_color"],
        debug=given["debug"],
    )
    return Invocation(opts=opts, out=out, env=env)


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


def _hidden(annotation: Any) -> Any:
    """The same option, left out of ``--help``."""
    info = copy.copy(annotation.__metadata__[0])
    info.hidden = True
    return Annotated[annotation.__origin__, info]


class _PlainHelp(typer.core.TyperCommand):
    """Help without Python types after argument names (typer adds ``<str>``, ``<list[str]>``).

    Its flags are coerced without pydantic (:class:`~hsvc.flags.PlainCoercion`).
    """

    def get_params(self, ctx: Any) -> list[Any]:
        params = list(super().get_params(ctx))
        for param in params:
            PlainCoercion.install(param)
        return params

    def format_help(self, ctx: Any, formatter: Any) -> None:
        super().format_help(ctx, formatter)
        formatter.buffer[:] = [_PY_TYPE.sub("", line) for line in formatter.buffer]


_PY_TYPE = re.compile(r" <(?:str|list\[str\])>")

# What the demo reads: it brings its own objects and DNS, so nothing else is offered.
_DEMO_ONLY = frozenset({"output", "no_headers", "no_color", "debug"})


def _command(
    *groups: FlagGroup, without: frozenset[str] = frozenset(), only: frozenset[str] | None = None
) -> Callable[[Callable[..., int]], Callable[..., None]]:
    """Register a command with the shared options added to its signature.

    ``without`` names shared options the command does not offer (they would mean
    nothing there); ``only`` lists just the named ones in its help, the others are
    still accepted and ignored (``kubectl hsvc demo -n x`` works). The wrapped function
    receives its own arguments plus ``run`` (the :class:`Invocation`) and returns
    an exit code; errors are turned into codes here.
    """

    def register(fn: Callable[..., int]) -> Callable[..., None]:
        sig = inspect.signature(fn)
        own = [p for p in sig.parameters.values() if p.name != "run"]
        own_names = {p.name for p in own}
        # A command may redefine a shared option (lint's --output adds sarif).
        extra = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=ann if only is None or name in only else _hidden(ann),
            )
            for group in (SHARED, *groups)
            for name, ann, default in group
            if name not in own_names and name not in without
        ]
        shared_names = {p.name for p in extra}
        ctx_param = inspect.Parameter(
            "ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
        )

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> None:
            ctx: typer.Context = kwargs.pop("ctx")
            env = ctx.obj if isinstance(ctx.obj, Environment) else Environment.from_process()
            flags = {k: kwargs.pop(k) for k in list(kwargs) if k in shared_names}
            code = _guarded(fn, kwargs, flags, env)
            raise typer.Exit(int(code))

        params = [*own, *extra, ctx_param]
        wrapper.__signature__ = sig.replace(parameters=params, return_annotation=None)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        # The whole first line in the command list (click cuts a derived one at ~45 characters).
        summary = (fn.__doc__ or "").strip().splitlines()[0]
        app.command(name=fn.__name__.removeprefix("cmd_"), short_help=summary, cls=_PlainHelp)(
            wrapper
        )
        return wrapper

    return register


def _guarded(
    fn: Callable[..., int], kwargs: dict[str, Any], flags: dict[str, Any], env: Environment
) -> int:
    debug = bool(flags.get("debug"))
    _setup_logging(debug, env.stderr)
    try:
        return fn(**kwargs, run=_invocation(flags, env))
    except HsvcError as exc:
        if debug:
            log.debug("error", exc_info=True)
        error_line(exc.message, env.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)  # reported by main, like a Ctrl-C while parsing
    except typer.Exit:
        raise
    except Exception as exc:  # the one catch-all: the CLI boundary
        if debug:
            raise
        error_line(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
            env.stderr,
        )
        return int(ExitCode.INTERNAL)


class _InertFormatter(logging.Formatter):
    """Log lines with control characters escaped, as in tables: logs quote cluster text too."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        from hsvc.render.table import safe

        # Only the message: a --debug traceback keeps its lines.
        return safe(super().formatMessage(record), limit=MAX_ERROR).plain


def _setup_logging(debug: bool, stream: TextIO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_InertFormatter("hsvc: %(levelname)s: %(message)s"))
    noisy = ("kubernetes", "urllib3", "asyncio")
    if not debug:
        # Nothing of theirs without --debug: urllib3 warns with a traceback (headers
        # cut off by the request deadline, a retry), and the error line says it
        # already. A filter, not a level: the kubernetes client resets urllib3's.
        handler.addFilter(lambda record: not record.name.startswith(noisy))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])
    # Even with --debug: the client's and urllib3's debug logs may carry headers.
    for name in noisy:
        logging.getLogger(name).setLevel(logging.WARNING)


# --- commands ---------------------------------------------------------------------------


@_command(FLEET)
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


@_command(LIVE, without=frozenset({"all_namespaces"}))
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


@_command(LIVE, FLEET, without=frozenset({"offline"}))
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
    if run.out.data:
        from hsvc.render.data import inspect_doc

        run.emit(inspect_doc(report), run.out.output.value)
    else:
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
    return exit_code(report.ok)


@_command(FLEET)
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


@_command(LIVE)
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


@_command(only=_DEMO_ONLY)
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


@_command(only=frozenset({"no_color", "debug"}))
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


def _value_flags() -> set[str]:
    """Option names that take a value, across every command (for argument hoisting)."""
    group = _group()
    flags: set[str] = set()
    for cmd in getattr(group, "commands", {}).values():
        for param in cmd.params:
            if getattr(param, "is_flag", True) or getattr(param, "param_type_name", "") != "option":
                continue
            flags.update(param.opts)
    return flags


def hoist_command(argv: list[str], commands: set[str], value_flags: set[str]) -> list[str]:
    """Move the subcommand to the front, so flags may come before it (kubectl plugin style)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return argv
        if token.startswith("-"):
            if token in value_flags:
                i += 2
                continue
            i += 1
            continue
        if token in commands and i > 0:
            return [token, *argv[:i], *argv[i + 1 :]]
        return argv
    return argv


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
        stdout=cast(TextIO, _Checked(env.stdout)),
        stderr=cast(TextIO, _BestEffort(env.stderr)),
    )
    args = list(sys.argv[1:] if argv is None else argv)
    if argv is None:
        # The process is ours (not a test calling main): a large inspect builds
        # millions of long-lived objects and few cycles, which the cyclic GC would
        # rescan again and again (up to a quarter of the run, docs/reference/
        # benchmarks.md). Collect rarely, as mypy does.
        gc.set_threshold(200_000, 30, 30)
    if argv is None and hasattr(signal, "SIGPIPE"):
        # `hsvc ... | head` ends quietly like other Unix tools instead of exiting 1,
        # which would read as "mismatch found".
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    prog = "kubectl hsvc" if os.path.basename(sys.argv[0]).startswith("kubectl-") else "hsvc"
    try:
        if args and args[0] not in ("-h", "--help", "--version"):
            commands = set(getattr(_group(), "commands", {}))
            args = hoist_command(args, commands, _value_flags())
        code = _group()(args=args, prog_name=prog, standalone_mode=False, obj=env)
        if code != ExitCode.WRITE_FAILED:
            env.stdout.flush()
            if own:
                sys.stdout.flush()  # --help and --version write there directly
    except typer.TyperException as exc:
        sys.exit(_usage_error(exc, env))
    except (KeyboardInterrupt, typer.Abort):
        code = ExitCode.INTERRUPTED
    except (OSError, WriteFailedError) as exc:
        code = _write_failed(exc, env, own=own)
    if code == ExitCode.WRITE_FAILED and own:
        _silence_stdout()
    if code == ExitCode.INTERRUPTED:
        # From _guarded, or from typer, which turns a Ctrl-C outside the command
        # (while parsing) into a silent exit 130.
        error_line("interrupted", env.stderr)
    code = code if isinstance(code, int) else 0
    if argv is None and env.exit_now:
        # hsvc monitor, stopped: tearing down a heap of tens of thousands of objects
        # (and threads still mid-query) took seconds; SIGTERM must end it at once.
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)
    sys.exit(code)


_WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EBADF, errno.EDQUOT}
)


class _Checked:
    """Standard output: a failed write is :class:`WriteFailedError`, reported at the catch point."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise WriteFailedError(f"cannot write the results: {_why(exc)}") from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise WriteFailedError(f"cannot write the results: {_why(exc)}") from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _BestEffort:
    """Standard error: what cannot be written is dropped (there is nowhere to say so)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower() if exc.errno != errno.EPIPE else "the pipe closed"


def _write_failed(exc: BaseException, env: Environment, *, own: bool) -> int:
    """Report output that could not be written; exit 74 (exit-codes.md).

    Raises:
        OSError: ``exc`` itself, when it is no write failure (a bug elsewhere).
    """
    if isinstance(exc, OSError):
        if exc.errno not in _WRITE_ERRNOS:
            raise exc
        exc = WriteFailedError(f"cannot write the results: {_why(exc)}")
    assert isinstance(exc, WriteFailedError)
    error_line(exc.message, env.stderr)
    return int(ExitCode.WRITE_FAILED)


def _silence_stdout() -> None:
    """Point stdout at /dev/null after a write failure.

    The interpreter flushes stdout once more on exit; what is still buffered would
    fail again and print a traceback.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


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
