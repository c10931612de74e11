"""The ``hsvc`` command line (also ``kubectl hsvc``): options in, report out, exit code.

This module is the only catch point for errors (as httpie's ``raw_main``): an
:class:`~hsvc.errors.HsvcError` becomes ``hsvc: error: <message>`` on stderr and
its exit code; Ctrl-C becomes 130; anything else 70 with a hint to rerun with
``--debug``. Heavy modules (kubernetes, dnspython, yaml, rich) are imported inside
command bodies so that ``hsvc --help`` stays instant.
"""

import functools
import gc
import inspect
import logging
import os
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, NoReturn

try:
    import typer
except KeyboardInterrupt:  # Ctrl-C while starting up: no traceback, as after (exit-codes.md)
    sys.stderr.write("hsvc: error: interrupted\n")
    sys.exit(130)

from hsvc import __version__
from hsvc.errors import ExitCode, HsvcError

log = logging.getLogger("hsvc")

MAX_ERROR = 2000  # characters of one error line


class Output(StrEnum):
    """Output formats."""

    table = "table"
    wide = "wide"
    json = "json"
    yaml = "yaml"


class LintOutput(StrEnum):
    """Output formats of ``lint``: the usual ones plus SARIF for code scanning."""

    table = "table"
    wide = "wide"
    json = "json"
    yaml = "yaml"
    sarif = "sarif"


class Via(StrEnum):
    """Where live DNS is asked from (hsvc.vantage)."""

    auto = "auto"
    direct = "direct"
    port_forward = "port-forward"
    exec = "exec"


class Pods(StrEnum):
    """The Corefile's ``pods`` knob."""

    disabled = "disabled"
    insecure = "insecure"
    verified = "verified"


class DnsFlavour(StrEnum):
    """The DNS server behind the cluster DNS Service (hsvc.core.flavour)."""

    coredns = "coredns"
    kube_dns = "kube-dns"
    cloud_dns = "cloud-dns"


CLUSTER = "Cluster (like kubectl)"
SETTINGS = "DNS settings"
LIVE = "Live DNS"
OUT = "Output"

# Options shared by the commands: name -> (annotation, default). Added to each
# command's signature by `_command`, so every command accepts them before or after
# its arguments and lists them in its --help.
_SHARED: dict[str, tuple[Any, Any]] = {
    "namespace": (
        Annotated[
            str | None,
            typer.Option(
                "--namespace",
                "-n",
                help="Namespace (default: the context's namespace, else 'default').",
                rich_help_panel=CLUSTER,
            ),
        ],
        None,
    ),
    "all_namespaces": (
        Annotated[
            bool,
            typer.Option(
                "--all-namespaces", "-A", help="Every namespace.", rich_help_panel=CLUSTER
            ),
        ],
        False,
    ),
    "filename": (
        Annotated[
            list[str] | None,
            typer.Option(
                "--filename",
                "-f",
                help="Manifest file or folder (YAML/JSON, repeatable) instead of the live API.",
                rich_help_panel=CLUSTER,
            ),
        ],
        None,
    ),
    "offline": (
        Annotated[
            bool,
            typer.Option(
                "--offline",
                help="Never touch the network (needs -f).",
                rich_help_panel=CLUSTER,
            ),
        ],
        False,
    ),
    "kubeconfig": (
        Annotated[
            str | None,
            typer.Option(
                "--kubeconfig",
                help="Path to the kubeconfig file (else KUBECONFIG, else ~/.kube/config).",
                rich_help_panel=CLUSTER,
            ),
        ],
        None,
    ),
    "context": (
        Annotated[
            str | None,
            typer.Option("--context", help="Kubeconfig context to use.", rich_help_panel=CLUSTER),
        ],
        None,
    ),
    "request_timeout": (
        Annotated[
            float,
            typer.Option(
                "--request-timeout",
                help="Seconds to wait for each API request.",
                min=0.1,
                rich_help_panel=CLUSTER,
            ),
        ],
        10.0,
    ),
    "corefile": (
        Annotated[
            str | None,
            typer.Option(
                "--corefile",
                help="Read DNS settings from this Corefile (else the cluster's coredns ConfigMap).",
                rich_help_panel=SETTINGS,
            ),
        ],
        None,
    ),
    "cluster_domain": (
        Annotated[
            str | None,
            typer.Option(
                "--cluster-domain",
                help="Cluster zone (default cluster.local).",
                envvar="HSVC_CLUSTER_DOMAIN",
                rich_help_panel=SETTINGS,
            ),
        ],
        None,
    ),
    "pods": (
        Annotated[
            Pods | None,
            typer.Option("--pods", help="Pod records mode.", rich_help_panel=SETTINGS),
        ],
        None,
    ),
    "endpoint_pod_names": (
        Annotated[
            bool | None,
            typer.Option(
                "--endpoint-pod-names/--no-endpoint-pod-names",
                help="Name hostname-less endpoints after their pod.",
                rich_help_panel=SETTINGS,
                show_default=False,
            ),
        ],
        None,
    ),
    "ttl": (
        Annotated[
            int | None,
            typer.Option(
                "--ttl",
                help="Record TTL the Corefile sets.",
                min=0,
                max=3600,
                rich_help_panel=SETTINGS,
            ),
        ],
        None,
    ),
    "dns_flavour": (
        Annotated[
            DnsFlavour | None,
            typer.Option(
                "--dns-flavour",
                help="DNS server whose rules to apply (else detected live, else coredns).",
                rich_help_panel=SETTINGS,
            ),
        ],
        None,
    ),
    "dns_version": (
        Annotated[
            str | None,
            typer.Option(
                "--dns-version",
                help="CoreDNS version whose rules to apply, e.g. 1.12.0 (else detected live, "
                "else 1.14.7).",
                rich_help_panel=SETTINGS,
            ),
        ],
        None,
    ),
    "output": (
        Annotated[
            Output,
            typer.Option("--output", "-o", help="Output format.", rich_help_panel=OUT),
        ],
        Output.table,
    ),
    "no_headers": (
        Annotated[
            bool,
            typer.Option(
                "--no-headers", help="No headers, titles or notes in tables.", rich_help_panel=OUT
            ),
        ],
        False,
    ),
    "no_color": (
        Annotated[
            bool,
            typer.Option(
                "--no-color",
                # NO_COLOR is read in _console, not as envvar=: no-color.org says any
                # non-empty value counts, and a bool option rejects e.g. NO_COLOR=yes please.
                help="No colours (also NO_COLOR).",
                rich_help_panel=OUT,
            ),
        ],
        False,
    ),
    "debug": (
        Annotated[
            bool,
            typer.Option(
                "--debug",
                help="Show tracebacks and debug logs (never credentials).",
                rich_help_panel=OUT,
            ),
        ],
        False,
    ),
}

_LIVE: dict[str, tuple[Any, Any]] = {
    "nameserver": (
        Annotated[
            list[str] | None,
            typer.Option(
                "--nameserver",
                help="DNS server HOST[:PORT] to ask (repeatable; each is asked separately).",
                envvar="HSVC_NAMESERVER",
                rich_help_panel=LIVE,
            ),
        ],
        None,
    ),
    "timeout": (
        Annotated[
            float,
            typer.Option(
                "--timeout", help="Seconds per DNS query attempt.", min=0.05, rich_help_panel=LIVE
            ),
        ],
        2.0,
    ),
    "concurrency": (
        Annotated[
            int,
            typer.Option(
                "--concurrency",
                help="DNS queries in flight at once.",
                min=1,
                max=4096,
                rich_help_panel=LIVE,
            ),
        ],
        64,
    ),
    "via": (
        Annotated[
            Via,
            typer.Option(
                "--via",
                help=(
                    "Where to ask from: port-forward to every CoreDNS replica, direct to "
                    "--nameserver or the DNS Service IP, exec in --pod; auto: --pod means exec, "
                    "--nameserver (or running in a pod, or -f) direct, else port-forward."
                ),
                envvar="HSVC_VIA",
                rich_help_panel=LIVE,
            ),
        ],
        Via.auto,
    ),
    "pod": (
        Annotated[
            str | None,
            typer.Option(
                "--pod",
                help="Pod ([NAMESPACE/]NAME) to run the lookups in, with its own resolver "
                "and tools (--via exec).",
                rich_help_panel=LIVE,
            ),
        ],
        None,
    ),
    "container": (
        Annotated[
            str | None,
            typer.Option(
                "--container", "-c", help="Container of --pod to exec in.", rich_help_panel=LIVE
            ),
        ],
        None,
    ),
}

app = typer.Typer(
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


def _command(
    *groups: dict[str, tuple[Any, Any]],
) -> Callable[[Callable[..., int]], Callable[..., None]]:
    """Register a command with the shared options added to its signature.

    The wrapped function receives its own arguments plus ``opts`` (the shared options
    as a dict) and returns an exit code; errors are turned into codes here.
    """

    def register(fn: Callable[..., int]) -> Callable[..., None]:
        sig = inspect.signature(fn)
        own = [p for p in sig.parameters.values() if p.name != "shared"]
        own_names = {p.name for p in own}
        # A command may redefine a shared option (lint's --output adds sarif).
        extra = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann)
            for group in (_SHARED, *groups)
            for name, (ann, default) in group.items()
            if name not in own_names
        ]
        shared_names = {p.name for p in extra}

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> None:
            shared = {k: kwargs.pop(k) for k in list(kwargs) if k in shared_names}
            code = _guarded(fn, kwargs, shared)
            raise typer.Exit(int(code))

        wrapper.__signature__ = sig.replace(parameters=[*own, *extra], return_annotation=None)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *extra]}
        app.command(name=fn.__name__.removeprefix("cmd_"))(wrapper)
        return wrapper

    return register


def _guarded(fn: Callable[..., int], kwargs: dict[str, Any], shared: dict[str, Any]) -> int:
    debug = bool(shared.get("debug"))
    _setup_logging(debug)
    try:
        return fn(**kwargs, shared=shared)
    except HsvcError as exc:
        if debug:
            log.debug("error", exc_info=True)
        _error(exc.message)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)  # reported by main, like a Ctrl-C while parsing
    except typer.Exit:
        raise
    except Exception as exc:  # the one catch-all: the CLI boundary
        if debug:
            raise
        _error(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)")
        return int(ExitCode.INTERNAL)


def _error(message: str) -> None:
    from hsvc.render.table import safe

    # An error line is cut far later than a table cell: its end says what to do.
    text = safe(message, limit=MAX_ERROR).plain
    sys.stderr.write(f"hsvc: error: {text}\n")


class _InertFormatter(logging.Formatter):
    """Log lines with control characters escaped, as in tables: logs quote cluster text too."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        from hsvc.render.table import safe

        # Only the message: a --debug traceback keeps its lines.
        return safe(super().formatMessage(record), limit=MAX_ERROR).plain


def _setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_InertFormatter("hsvc: %(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])
    # Even with --debug: the client's and urllib3's debug logs may carry headers.
    for noisy in ("kubernetes", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _options(shared: dict[str, Any]) -> Any:
    from hsvc.commands import Options
    from hsvc.core.model import PodsMode

    pods = shared.get("pods")
    return Options(
        files=tuple(shared.get("filename") or ()),
        offline=bool(shared.get("offline")),
        kubeconfig=shared.get("kubeconfig"),
        context=shared.get("context"),
        namespace=shared.get("namespace"),
        all_namespaces=bool(shared.get("all_namespaces")),
        request_timeout=float(shared.get("request_timeout") or 10.0),
        corefile=shared.get("corefile"),
        cluster_domain=shared.get("cluster_domain"),
        pods=PodsMode(pods.value) if pods is not None else None,
        endpoint_pod_names=shared.get("endpoint_pod_names"),
        ttl=shared.get("ttl"),
        dns_flavour=getattr(shared.get("dns_flavour"), "value", None),
        dns_version=shared.get("dns_version"),
        nameservers=tuple(shared.get("nameserver") or ()),
        timeout=float(shared.get("timeout") or 2.0),
        concurrency=int(shared.get("concurrency") or 64),
        via=str(getattr(shared.get("via"), "value", None) or "auto"),
        pod=shared.get("pod"),
        container=shared.get("container"),
        in_pod=bool(os.environ.get("KUBERNETES_SERVICE_HOST")),
    )


def _console(shared: dict[str, Any], *, stderr: bool = False) -> Any:
    from rich.console import Console

    no_color = bool(shared.get("no_color")) or bool(os.environ.get("NO_COLOR"))
    return Console(
        file=sys.stderr if stderr else sys.stdout,
        no_color=no_color,
        color_system=None if no_color else "auto",
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )


def _emit(doc: dict[str, Any], output: Output) -> None:
    from hsvc.render.data import dump

    sys.stdout.write(dump(doc, output.value))


class _Progress:
    """A transient progress bar on stderr, only on a terminal and only for table output."""

    def __init__(self, shared: dict[str, Any]) -> None:
        self.enabled = sys.stderr.isatty() and shared.get("output") in (Output.table, Output.wide)
        self.shared = shared
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from rich.progress import Progress

            self.bar = Progress(console=_console(self.shared, stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("resolving", total=total)
        self.bar.update(self.task, completed=done)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# --- commands ---------------------------------------------------------------------------


@_command()
def cmd_records(
    service: Annotated[
        str | None, typer.Argument(help="Service name (default: every Service).")
    ] = None,
    *,
    shared: dict[str, Any],
) -> int:
    """List the records cluster DNS serves for a Service (or namespace), and names it must not.

    Example: hsvc records eureka -n ms -f manifests/ --offline
    """
    from hsvc.commands import run_records

    report = run_records(_options(shared), service)
    output: Output = shared["output"]
    if output in (Output.json, Output.yaml):
        from hsvc.render.data import records_doc

        _emit(records_doc(report), output)
    else:
        from hsvc.render.table import print_notes, records_table

        console = _console(shared)
        records_table(console, report, wide=output is Output.wide, headers=not shared["no_headers"])
        if not shared["no_headers"]:
            print_notes(_console(shared, stderr=True), report.source)
    return int(ExitCode.OK)


@_command(_LIVE)
def cmd_resolve(
    names: Annotated[
        list[str], typer.Argument(help="Names to resolve (short names are expanded).")
    ],
    *,
    type: Annotated[str, typer.Option("--type", "-t", help="Record type.")] = "A",
    shared: dict[str, Any],
) -> int:
    """Say what cluster DNS answers for names, why, and (live) what it does answer.

    Example: hsvc resolve eureka-1.eureka -n ms --nameserver 10.96.0.10
    """
    from hsvc.commands import run_resolve

    opts = _options(shared)
    live = not opts.offline and bool(opts.nameservers or not opts.files)
    report = run_resolve(opts, names, type, live=live)
    output: Output = shared["output"]
    if output in (Output.json, Output.yaml):
        from hsvc.render.data import resolve_doc

        _emit(resolve_doc(report), output)
    else:
        from hsvc.render.table import resolve_blocks

        resolve_blocks(_console(shared), report, wide=output is Output.wide)
    if not shared["no_headers"]:
        from hsvc.render.table import print_notes

        print_notes(_console(shared, stderr=True), report.source)
    if live and any(r.row is not None and r.row.status.value != "ok" for r in report.results):
        return int(ExitCode.MISMATCH)
    return int(ExitCode.OK)


@_command(_LIVE)
def cmd_inspect(
    service: Annotated[
        str | None, typer.Argument(help="Service name (default: every Service).")
    ] = None,
    *,
    shared: dict[str, Any],
) -> int:
    """Compare what cluster DNS must answer for a Service with what it answers, row by row.

    Example: hsvc inspect eureka -n ms
    """
    from hsvc.commands import run_inspect

    progress = _Progress(shared)
    try:
        report = run_inspect(_options(shared), service, progress=progress)
    finally:
        progress.stop()
    output: Output = shared["output"]
    if output in (Output.json, Output.yaml):
        from hsvc.render.data import inspect_doc

        _emit(inspect_doc(report), output)
    else:
        from hsvc.render.table import inspect_table

        inspect_table(
            _console(shared), report, wide=output is Output.wide, headers=not shared["no_headers"]
        )
    ok = all(r.status.value == "ok" for r in report.rows)
    return int(ExitCode.OK if ok else ExitCode.MISMATCH)


@_command()
def cmd_lint(
    *,
    output: Annotated[
        LintOutput,
        typer.Option(
            "--output", "-o", help="Output format (sarif for code scanning).", rich_help_panel=OUT
        ),
    ] = LintOutput.table,
    shared: dict[str, Any],
) -> int:
    """Check objects for mistakes that break their DNS names, without asking DNS.

    Reads manifests (-f, for CI before deploying: every object in the files) or the
    live API (-n NS, -A). Exits 1 when any finding is an error, else 0. Every code
    is explained in docs/reference/findings.md.

    Example: hsvc lint -f k8s/ -o sarif > hsvc.sarif
    """
    from hsvc.commands import run_lint
    from hsvc.core.diagnose import has_errors

    report = run_lint(_options(shared))
    if output is LintOutput.sarif:
        from hsvc.render.data import dump
        from hsvc.render.sarif import sarif_doc

        sys.stdout.write(dump(sarif_doc(report, __version__), "json"))
    elif output in (LintOutput.json, LintOutput.yaml):
        from hsvc.render.data import lint_doc

        _emit(lint_doc(report), Output(output.value))
    else:
        from hsvc.render.table import lint_table, print_notes

        headers = not shared["no_headers"]
        lint_table(_console(shared), report, wide=output is LintOutput.wide, headers=headers)
        if headers:
            print_notes(_console(shared, stderr=True), report.source)
    return int(ExitCode.MISMATCH if has_errors(report.findings) else ExitCode.OK)


@_command()
def cmd_demo(*, shared: dict[str, Any]) -> int:
    """Replay a small recorded cluster and its DNS on 127.0.0.1, and inspect it step by step.

    Needs no cluster and no network. Exits 0 when the demo runs as designed: its
    ✗ rows are part of the show. Only --output table|wide, --no-headers, --no-color
    and --debug apply; the demo brings its own objects and DNS.

    Example: hsvc demo
    """
    from hsvc.demo import STEPS, check_script, demo_cluster
    from hsvc.errors import UsageError
    from hsvc.render.demo import demo_intro, demo_outro, demo_step

    output: Output = shared["output"]
    if output in (Output.json, Output.yaml):
        raise UsageError("demo prints a story; -o json|yaml is for inspect, records and resolve")
    console = _console(shared)
    played = []
    with demo_cluster() as cluster:
        demo_intro(console, cluster.address)
        for number, step in enumerate(STEPS, start=1):
            played.append(cluster.play(step))
            demo_step(
                console,
                played[-1],
                number,
                len(STEPS),
                wide=output is Output.wide,
                headers=not shared["no_headers"],
            )
    demo_outro(console, played)
    check_script(played)
    return int(ExitCode.OK)


# --- entry point ------------------------------------------------------------------------


def _value_flags() -> set[str]:
    """Option names that take a value, across every command (for argument hoisting)."""
    from typer.main import get_command

    group = get_command(app)
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


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI (console scripts ``hsvc`` and ``kubectl-hsvc``)."""
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
            from typer.main import get_command

            commands = set(getattr(get_command(app), "commands", {}))
            args = hoist_command(args, commands, _value_flags())
        code = app(args=args, prog_name=prog, standalone_mode=False)
    except typer.TyperException as exc:
        sys.exit(_usage_error(exc))
    except (KeyboardInterrupt, typer.Abort):
        code = ExitCode.INTERRUPTED
    if code == ExitCode.INTERRUPTED:
        # From _guarded, or from typer, which turns a Ctrl-C outside the command
        # (while parsing) into a silent exit 130.
        _error("interrupted")
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: typer.TyperException) -> int:
    """Report a parsing error as one line (exit 2); ``hsvc`` alone prints the help."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # typer vendors click; no public name
        sys.stdout.write(exc.format_message() + "\n")
        return int(ExitCode.OK)
    ctx = getattr(exc, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    message = " ".join(exc.format_message().split())
    _error(f"{message}{where}")
    return int(getattr(exc, "exit_code", ExitCode.USAGE))
