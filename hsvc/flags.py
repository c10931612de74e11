"""The CLI's flags: one ``Annotated`` alias per flag, each default written once, output options.

:mod:`hsvc.cli` adds the shared groups to every command's signature and gathers
what was given into the frozen :class:`~hsvc.commands.options.Options` and
:class:`OutputOptions`, once per command.
"""

from enum import StrEnum
from typing import Annotated, Any

import typer  # noqa: TID251

from hsvc.commands.options import CONCURRENCY, DNS_TIMEOUT, PARALLEL, REQUEST_TIMEOUT, Via
from hsvc.core.dataclass import dataclass
from hsvc.core.vocabulary import Flavour, PodsMode


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


CLUSTER = "Cluster (like kubectl)"
SETTINGS = "DNS settings"
LIVE_DNS = "Live DNS"
OUT = "Output"
WATCH = "Watch (inspect --watch)"
MONITOR = "Monitor"

# --- shell completion from the cluster (hsvc.commands.complete, imported when asked) -----


def complete_namespaces(ctx: typer.Context, incomplete: str) -> list[str]:
    """Namespaces for ``-n``: one LIST, bounded by --request-timeout, silent on errors."""
    from hsvc.commands import complete

    return complete.namespaces(ctx.params, incomplete)


def complete_services(ctx: typer.Context, incomplete: str) -> list[str]:
    """Services of the namespace typed for the SERVICE argument (as -n)."""
    from hsvc.commands import complete

    return complete.services(ctx.params, incomplete)


def complete_contexts(ctx: typer.Context, incomplete: str) -> list[str]:
    """Contexts of the kubeconfig for ``--context`` (no request is sent)."""
    from hsvc.commands import complete

    return complete.contexts(ctx.params, incomplete)


# --- options: one alias per flag; each default is written once, in SHARED / LIVE --------

NamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        "-n",
        metavar="NAMESPACE",
        help="Namespace (default: the context's namespace, else 'default').",
        rich_help_panel=CLUSTER,
        autocompletion=complete_namespaces,
    ),
]
AllNamespacesOpt = Annotated[
    bool,
    typer.Option("--all-namespaces", "-A", help="Every namespace.", rich_help_panel=CLUSTER),
]
FilenameOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filename",
        "-f",
        metavar="PATH",
        help="Manifest file or folder (YAML/JSON, repeatable) instead of the live API.",
        rich_help_panel=CLUSTER,
    ),
]
OfflineOpt = Annotated[
    bool,
    typer.Option("--offline", help="Never touch the network (needs -f).", rich_help_panel=CLUSTER),
]
KubeconfigOpt = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig",
        metavar="PATH",
        help="Path to the kubeconfig file (else KUBECONFIG, else ~/.kube/config).",
        rich_help_panel=CLUSTER,
    ),
]
ContextOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--context",
        metavar="NAME",
        help="Kubeconfig context to use (inspect, records, lint: repeatable, "
        "each context checked on its own).",
        rich_help_panel=CLUSTER,
        autocompletion=complete_contexts,
    ),
]
AllContextsOpt = Annotated[
    bool,
    typer.Option(
        "--all-contexts",
        help="Every context of the kubeconfig, each checked on its own, one summary.",
        rich_help_panel=CLUSTER,
    ),
]
ParallelOpt = Annotated[
    int,
    typer.Option(
        "--parallel",
        metavar="N",
        help="Contexts checked at once (with several contexts).",
        min=1,
        max=64,
        rich_help_panel=CLUSTER,
    ),
]
RequestTimeoutOpt = Annotated[
    float,
    typer.Option(
        "--request-timeout",
        metavar="SECONDS",
        help=(
            "Seconds to wait on the API: all requests together, afresh after each"
            " page of a long list."
        ),
        min=0.1,
        rich_help_panel=CLUSTER,
    ),
]
CorefileOpt = Annotated[
    str | None,
    typer.Option(
        "--corefile",
        metavar="PATH",
        help="Read DNS settings from this Corefile (else the cluster's coredns ConfigMap).",
        rich_help_panel=SETTINGS,
    ),
]
ClusterDomainOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster-domain",
        metavar="ZONE",
        help="Cluster zone (default cluster.local).",
        envvar="HSVC_CLUSTER_DOMAIN",
        rich_help_panel=SETTINGS,
    ),
]
PodsOpt = Annotated[
    PodsMode | None,
    typer.Option(
        "--pods",
        metavar="[disabled|insecure|verified]",
        help="Pod records mode.",
        rich_help_panel=SETTINGS,
    ),
]
EndpointPodNamesOpt = Annotated[
    bool | None,
    typer.Option(
        "--endpoint-pod-names/--no-endpoint-pod-names",
        help="Name hostname-less endpoints after their pod.",
        rich_help_panel=SETTINGS,
        show_default=False,
    ),
]
TtlOpt = Annotated[
    int | None,
    typer.Option(
        "--ttl",
        metavar="SECONDS",
        help="Record TTL the Corefile sets (0 to 3600).",
        min=0,
        max=3600,
        rich_help_panel=SETTINGS,
    ),
]
DnsFlavourOpt = Annotated[
    Flavour | None,
    typer.Option(
        "--dns-flavour",
        metavar="[coredns|kube-dns|cloud-dns]",
        help="DNS server whose rules to apply (else detected live, else coredns).",
        rich_help_panel=SETTINGS,
    ),
]
DnsVersionOpt = Annotated[
    str | None,
    typer.Option(
        "--dns-version",
        metavar="VERSION",
        help="CoreDNS version whose rules to apply, e.g. 1.12.0 (else detected live, else 1.14.7).",
        rich_help_panel=SETTINGS,
    ),
]
OutputOpt = Annotated[
    Output,
    typer.Option(
        "--output",
        "-o",
        metavar="[table|wide|json|yaml]",
        help="Output format.",
        rich_help_panel=OUT,
    ),
]
NoHeadersOpt = Annotated[
    bool,
    typer.Option(
        "--no-headers", help="No headers, titles or notes in tables.", rich_help_panel=OUT
    ),
]
NoColorOpt = Annotated[
    bool,
    typer.Option(
        "--no-color",
        # NO_COLOR is read by Environment.from_process, not as envvar=: no-color.org says
        # any non-empty value counts, and a bool option rejects e.g. NO_COLOR=yes please.
        help="No colours (also NO_COLOR).",
        rich_help_panel=OUT,
    ),
]
DebugOpt = Annotated[
    bool,
    typer.Option(
        "--debug", help="Show tracebacks and debug logs (never credentials).", rich_help_panel=OUT
    ),
]
NameserverOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--nameserver",
        metavar="HOST[:PORT]",
        help="DNS server HOST[:PORT] to ask (repeatable; each is asked separately).",
        envvar="HSVC_NAMESERVER",
        rich_help_panel=LIVE_DNS,
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Seconds per DNS query attempt (at least 0.05).",
        min=0.05,
        rich_help_panel=LIVE_DNS,
    ),
]
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        "--concurrency",
        metavar="N",
        help="DNS queries in flight at once.",
        min=1,
        max=4096,
        rich_help_panel=LIVE_DNS,
    ),
]
ViaOpt = Annotated[
    Via,
    typer.Option(
        "--via",
        metavar="[auto|direct|port-forward|exec]",
        help=(
            "Where to ask from: port-forward to every CoreDNS replica, direct to "
            "--nameserver or the DNS Service IP, exec in --pod; auto: --pod means exec, "
            "--nameserver (or running in a pod, or -f) direct, else port-forward."
        ),
        envvar="HSVC_VIA",
        rich_help_panel=LIVE_DNS,
    ),
]
PodOpt = Annotated[
    str | None,
    typer.Option(
        "--pod",
        metavar="[NAMESPACE/]NAME",
        help="Pod ([NAMESPACE/]NAME) to run the lookups in, with its own resolver "
        "and tools (--via exec).",
        rich_help_panel=LIVE_DNS,
    ),
]
ContainerOpt = Annotated[
    str | None,
    typer.Option(
        "--container",
        "-c",
        metavar="NAME",
        help="Container of --pod to exec in.",
        rich_help_panel=LIVE_DNS,
    ),
]
ReferencesOpt = Annotated[
    bool,
    typer.Option(
        "--references",
        help="Also check every cluster name apps use: env, args, ConfigMaps, probes, "
        "Ingress/HTTPRoute backends, ExternalName targets (one more LIST per kind live).",
    ),
]
IncludeSecretsOpt = Annotated[
    bool,
    typer.Option(
        "--include-secrets",
        help="With --references, read Secret values too (only names found in them are "
        "shown; live, one more LIST).",
    ),
]
InspectReferencesOpt = Annotated[
    bool,
    typer.Option(
        "--references",
        help="List who uses the Service: every name apps use that points at it "
        "(workloads and ConfigMaps in scope; one more LIST per kind live).",
    ),
]

# Options shared by the commands: (name, alias, default). Added to each command's
# signature by `_command`, so every command accepts them before or after its
# arguments and lists them in its --help.
FlagGroup = tuple[tuple[str, Any, Any], ...]
SHARED: FlagGroup = (
    ("namespace", NamespaceOpt, None),
    ("all_namespaces", AllNamespacesOpt, False),
    ("filename", FilenameOpt, None),
    ("offline", OfflineOpt, False),
    ("kubeconfig", KubeconfigOpt, None),
    ("context", ContextOpt, None),
    ("request_timeout", RequestTimeoutOpt, REQUEST_TIMEOUT),
    ("corefile", CorefileOpt, None),
    ("cluster_domain", ClusterDomainOpt, None),
    ("pods", PodsOpt, None),
    ("endpoint_pod_names", EndpointPodNamesOpt, None),
    ("ttl", TtlOpt, None),
    ("dns_flavour", DnsFlavourOpt, None),
    ("dns_version", DnsVersionOpt, None),
    ("output", OutputOpt, Output.table),
    ("no_headers", NoHeadersOpt, False),
    ("no_color", NoColorOpt, False),
    ("debug", DebugOpt, False),
)
LIVE: FlagGroup = (
    ("nameserver", NameserverOpt, None),
    ("timeout", TimeoutOpt, DNS_TIMEOUT),
    ("concurrency", ConcurrencyOpt, CONCURRENCY),
    ("via", ViaOpt, Via.AUTO),
    ("pod", PodOpt, None),
    ("container", ContainerOpt, None),
)
# The commands that can run over several contexts (hsvc.commands.fleet).
FLEET: FlagGroup = (
    ("all_contexts", AllContextsOpt, False),
    ("parallel", ParallelOpt, PARALLEL),
)


def defaults(*groups: FlagGroup) -> dict[str, Any]:
    """Every flag's default, by parameter name."""
    return {name: default for group in groups for name, _alias, default in group}


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputOptions:
    """How results are shown (shared by every command)."""

    output: Output = Output.table
    headers: bool = True
    no_color: bool = False
    debug: bool = False

    @property
    def data(self) -> bool:
        """Whether the output is a document (json, yaml) rather than tables."""
        return self.output in (Output.json, Output.yaml)

    @property
    def wide(self) -> bool:
        """Whether tables show every column and row."""
        return self.output is Output.wide


# --- options of one command (inspect, lint, monitor) -------------------------------------

OnlyFailuresOpt = Annotated[
    bool,
    typer.Option(
        "--only-failures",
        help="Show only the rows that are not ok, grouped by Service, with their explanations.",
        rich_help_panel=OUT,
    ),
]
AllRowsOpt = Annotated[
    bool,
    typer.Option(
        "--all-rows",
        help="Show every row of every Service (the default for one small Service).",
        rich_help_panel=OUT,
    ),
]
WatchOpt = Annotated[
    bool,
    typer.Option(
        "--watch",
        "-w",
        help="Keep watching the objects and DNS: rows ok, converging, stuck or flapping.",
        rich_help_panel=WATCH,
    ),
]
UntilOkOpt = Annotated[
    bool,
    typer.Option(
        "--until-ok",
        help="Watch until every row is ok (exit 0); with --for, exit 1 when it passes first.",
        rich_help_panel=WATCH,
    ),
]
ForOpt = Annotated[
    str | None,
    typer.Option(
        "--for",
        help="Watch at most this long (90s, 5m, 1h30m; plain numbers are seconds).",
        rich_help_panel=WATCH,
    ),
]
IntervalOpt = Annotated[
    float,
    typer.Option(
        "--interval",
        metavar="SECONDS",
        help="Seconds between re-asks of rows not ok yet.",
        min=0.05,
        rich_help_panel=WATCH,
    ),
]
SweepOpt = Annotated[
    float,
    typer.Option(
        "--sweep",
        metavar="SECONDS",
        help="Seconds between full sweeps (every row asked again).",
        min=1.0,
        rich_help_panel=WATCH,
    ),
]
WatchLagOpt = Annotated[
    float,
    typer.Option(
        "--watch-lag",
        metavar="SECONDS",
        help="Seconds allowed for CoreDNS's own API watch to see a change.",
        min=0.0,
        rich_help_panel=WATCH,
    ),
]
NodeLocalCorefileOpt = Annotated[
    str | None,
    typer.Option(
        "--node-local-corefile",
        help="NodeLocal DNSCache's Corefile: its caches count for answers through it.",
        rich_help_panel=WATCH,
    ),
]
LintOutputOpt = Annotated[
    LintOutput,
    typer.Option(
        "--output",
        "-o",
        metavar="[table|wide|json|yaml|sarif]",
        help="Output format (sarif for code scanning).",
        rich_help_panel=OUT,
    ),
]
ListenOpt = Annotated[
    str,
    typer.Option(
        "--listen",
        metavar="HOST:PORT",
        help="HOST:PORT to serve /metrics, /healthz and /readyz on (port 0: any).",
        rich_help_panel=MONITOR,
    ),
]
MonitorIntervalOpt = Annotated[
    float,
    typer.Option(
        "--interval",
        metavar="SECONDS",
        help="Seconds between full sweeps.",
        min=1.0,
        rich_help_panel=MONITOR,
    ),
]
StuckAfterOpt = Annotated[
    float | None,
    typer.Option(
        "--stuck-after",
        metavar="SECONDS",
        help="Seconds a row may stay wrong before it counts as stuck (default: the "
        "lag model's bound for the cluster's Corefile, plus --interval).",
        min=1.0,
        rich_help_panel=MONITOR,
    ),
]
MaxServicesOpt = Annotated[
    int,
    typer.Option(
        "--max-services",
        metavar="N",
        help="Services with their own metric labels; the rest share service=_other.",
        min=1,
        rich_help_panel=MONITOR,
    ),
]
MonitorWatchOpt = Annotated[
    bool,
    typer.Option(
        "--watch/--no-watch",
        help="Watch objects and re-check changed Services at once (else only sweeps).",
        rich_help_panel=MONITOR,
    ),
]
SelectorOpt = Annotated[
    str,
    typer.Option(
        "--selector",
        "-l",
        help="Only Services with these labels (key=value,...).",
        rich_help_panel=MONITOR,
    ),
]
