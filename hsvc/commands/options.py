"""The options every command reads, built once by the CLI from its flags."""

from __future__ import annotations

from enum import StrEnum

from hsvc.core.dataclass import dataclass
from hsvc.core.vocabulary import Flavour, PodsMode

# Each default is written here once; the CLI's flags take theirs from these.
REQUEST_TIMEOUT = 10.0  # seconds per API request (and for the command's API work)
DNS_TIMEOUT = 2.0  # seconds per DNS query attempt
CONCURRENCY = 64  # DNS queries in flight at once
WATCH_INTERVAL = 1.0  # seconds between re-asks of rows that are not ok (inspect --watch)
WATCH_SWEEP = 120.0  # seconds between full sweeps (inspect --watch)
MONITOR_INTERVAL = 60.0  # seconds between full sweeps (hsvc monitor)
MONITOR_LISTEN = "0.0.0.0:9897"  # where hsvc monitor serves /metrics
PARALLEL = 4  # contexts checked at once (hsvc.commands.fleet)


class Via(StrEnum):
    """Where live DNS is asked from (:mod:`hsvc.commands.vantage`)."""

    AUTO = "auto"
    DIRECT = "direct"
    PORT_FORWARD = "port-forward"
    EXEC = "exec"


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """Every option a command may read, gathered once by the CLI."""

    files: tuple[str, ...] = ()
    offline: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    # Several contexts (--context repeated, or --all-contexts): hsvc.commands.fleet runs each.
    contexts: tuple[str, ...] = ()
    all_contexts: bool = False
    parallel: int = PARALLEL
    namespace: str | None = None
    all_namespaces: bool = False
    request_timeout: float = REQUEST_TIMEOUT
    corefile: str | None = None
    cluster_domain: str | None = None
    pods: PodsMode | None = None
    endpoint_pod_names: bool | None = None
    ttl: int | None = None
    dns_flavour: Flavour | None = None  # --dns-flavour: whose rules (hsvc.core.flavour)
    dns_version: str | None = None  # --dns-version
    nameservers: tuple[str, ...] = ()
    timeout: float = DNS_TIMEOUT
    concurrency: int = CONCURRENCY
    via: Via = Via.AUTO
    pod: str | None = None  # --via exec: the pod whose view to check
    container: str | None = None
    # Running inside a pod (KUBERNETES_SERVICE_HOST set), and that pod's
    # /etc/resolv.conf as the CLI read it ("" when unreadable or outside a pod).
    in_pod: bool = False
    resolv_conf: str = ""
    # lint/inspect --references: also read what apps read (hsvc.core.references);
    # --include-secrets: Secret values too (never shown, only names found in them).
    references: bool = False
    include_secrets: bool = False
