"""How a command joins the typer app: shared flags, options built once, errors caught.

:func:`command` registers a command function with the shared option groups of
:mod:`hsvc.flags` added to its signature; the wrapper gathers them into the frozen
:class:`~hsvc.commands.options.Options` (:func:`invocation`) and turns every error
into its exit code (:func:`_guarded`). The commands themselves are in :mod:`hsvc.cli`.
"""

import copy
import functools
import inspect
import logging
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Annotated, Any, TextIO

import typer  # noqa: TID251

from hsvc.coercion import PlainCoercion
from hsvc.commands.options import Options
from hsvc.errors import ExitCode, HsvcError
from hsvc.flags import FLEET, LIVE, SHARED, FlagGroup, OutputOptions, defaults
from hsvc.present import MAX_ERROR, Invocation, error_line
from hsvc.terminal import Environment

log = logging.getLogger("hsvc")


def invocation(flags: dict[str, Any], env: Environment) -> Invocation:
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
DEMO_ONLY = frozenset({"output", "no_headers", "no_color", "debug"})


Register = Callable[..., Callable[[Callable[..., int]], Callable[..., None]]]


def commands(app: typer.Typer) -> Register:
    """Return the decorator that registers commands on ``app`` (:func:`command` bound to it)."""
    return functools.partial(command, app)


def command(
    app: typer.Typer,
    *groups: FlagGroup,
    without: frozenset[str] = frozenset(),
    only: frozenset[str] | None = None,
) -> Callable[[Callable[..., int]], Callable[..., None]]:
    """Register a command on ``app`` with the shared options added to its signature.

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
        return fn(**kwargs, run=invocation(flags, env))
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


# --- what the command line holds, read without building the commands ---------------------


def command_names(app: typer.Typer) -> set[str]:
    """The commands' names, from the app's registrations (nothing built)."""
    return {str(c.name) for c in app.registered_commands}


def value_flags(app: typer.Typer) -> set[str]:
    """Option names that take a value, across every command (for argument hoisting).

    Read from the registered signatures without building the commands, by the rule
    typer follows: an option takes a value unless its type is ``bool`` (a flag);
    its names are those declared (in ``Annotated``, ``typer.Option``'s positional
    arguments), else ``--`` and the parameter's name.
    ``tests/unit/test_cli.py`` holds this against the options typer builds.
    """
    flags: set[str] = set()
    for info in app.registered_commands:
        signature = inspect.signature(info.callback)  # type: ignore[arg-type]
        for param in signature.parameters.values():
            option = _option_info(param.annotation)
            if option is None or _base_type(param.annotation) is bool:
                continue
            # In Annotated, typer.Option's first positional argument is a name too.
            named = [option.default] if option.default is not ... else []
            decls = [d for d in (*named, *(option.param_decls or ())) if d.startswith("-")]
            flags.update(decls or [f"--{param.name.replace('_', '-')}"])
    return flags


def _option_info(annotation: Any) -> Any:
    """The ``typer.Option`` of an ``Annotated`` parameter, else None."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, typer.models.OptionInfo):
            return meta
    return None


def _base_type(annotation: Any) -> Any:
    """``bool`` for ``Annotated[bool, ...]`` and ``Annotated[bool | None, ...]``."""
    base = getattr(annotation, "__origin__", annotation)
    args = [a for a in getattr(base, "__args__", ()) if a is not type(None)]
    return args[0] if len(args) == 1 else base


def hoist_command(
    argv: list[str], commands: AbstractSet[str], value_flags: AbstractSet[str]
) -> list[str]:
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
