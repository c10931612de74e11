"""What every vantage point shares: the protocol, DNS parameters, the view from a pod.

:class:`Vantage` is what the commands ask answers of; :mod:`hsvc.commands.vantage`
builds one (direct, port-forward) and :mod:`hsvc.commands.execvantage` the exec one.
The resolver layers a pod can ask one by one (:func:`layer_targets`) live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from hsvc.core.dataclass import dataclass
from hsvc.core.dnspath import ResolverPath
from hsvc.core.model import Nameserver, Observation, Pod, Question
from hsvc.core.resolvconf import ResolvConf
from hsvc.core.searchpath import Libc, candidates

if TYPE_CHECKING:
    from hsvc.core.podexec import PodLookups  # a field type: --via exec imports it


DNS_PORT = 53


# Called with (queries done, queries in all) while DNS is asked.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsParams:
    """How to ask DNS: per-attempt timeout, queries in flight, progress callback."""

    timeout: float
    concurrency: int
    progress: Progress | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PodView:
    """What an exec in a pod showed: its resolv.conf, libc and tools, and the warnings."""

    namespace: str
    name: str
    container: str | None
    conf: ResolvConf
    lookups: PodLookups
    warnings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``pod ms/client`` (``pod ms/client/c`` with a container)."""
        where = f"{self.namespace}/{self.name}"
        return f"pod {where}/{self.container}" if self.container else f"pod {where}"

    @property
    def libc(self) -> Libc:
        """The pod's libc; glibc when it cannot be told."""
        return self.lookups.libc or Libc.GLIBC


class Vantage(Protocol):
    """The servers (or pod) answers come from, and how to ask them."""

    @property
    def servers(self) -> Sequence[Nameserver]:
        """Every server asked, as rows name them."""

    @property
    def notes(self) -> Sequence[str]:
        """What the reader should know about where the answers came from."""

    @property
    def pod(self) -> PodView | None:
        """What the pod showed (exec only)."""

    def ask(self, questions: list[Question]) -> list[Observation]:
        """Ask every server every question (absolute names, no search list)."""

    def lookup(
        self, names: Sequence[str], types: Sequence[str], conf: ResolvConf, libc: Libc
    ) -> list[Observation]:
        """Ask every candidate a resolver may try for each name, for each type."""


def labels(vantage: Vantage) -> tuple[str, ...]:
    """How each server of ``vantage`` is named in rows."""
    return tuple(str(s) for s in vantage.servers)


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerTarget:
    """One resolver layer a pod asks by address: NodeLocal DNSCache, the ClusterIP, a DNS pod."""

    host: str
    port: int
    layer: str  # "node-local on node n1 (169.254.20.10 from pod ms/client)"

    @property
    def where(self) -> str:
        """``169.254.20.10``, ``10.244.0.10:5353``, ``[fd00::a]:5353``."""
        if self.port == DNS_PORT:
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def layer_targets(
    path: ResolverPath | None, replicas: Sequence[Pod], *, pod: Pod, label: str
) -> list[LayerTarget]:
    """The layers a pod can ask one by one, when NodeLocal DNSCache stands in front.

    A pod's own resolver asks its nameserver, which NodeLocal DNSCache answers on
    its node (it binds 169.254.20.10 and the kube-dns ClusterIP there): asked that
    way, a stale cache looks like stale CoreDNS. So the pod asks the cache's own
    address, the ClusterIP, and each DNS pod at its pod IP and real port. Without
    a node cache the pod's resolver is the ClusterIP's answer already: none.
    """
    node_local = path.node_local if path is not None else None
    if node_local is None or path is None:
        return []
    cluster_ip = path.service.cluster_ips[0] if path.service and path.service.cluster_ips else ""
    node = f"node {pod.node_name}" if pod.node_name else "the pod's node"
    out: list[LayerTarget] = []
    local = next((a for a in node_local.addresses if a != cluster_ip), "")
    if local:
        out.append(
            LayerTarget(
                host=local,
                port=node_local.port,
                layer=f"node-local on {node} ({local} from {label})",
            )
        )
    if cluster_ip:
        bound = cluster_ip in node_local.addresses
        out.append(
            LayerTarget(
                host=cluster_ip,
                port=DNS_PORT,
                layer=(
                    f"node-local on {node} (the ClusterIP {cluster_ip} it binds, from {label})"
                    if bound
                    else f"ClusterIP {cluster_ip} (from {label})"
                ),
            )
        )
    server = path.servers
    kind = "kube-dns" if server is not None and server.kind == "kube-dns" else "CoreDNS"
    default_port = path.dns_port
    for p in replicas:
        if p.phase != "Running" or not p.pod_ips or p.deleting:
            continue
        port = p.dns_port or default_port
        target = LayerTarget(host=p.pod_ips[0], port=port, layer="")
        out.append(replace(target, layer=f"{kind} replica {p.name} ({target.where} from {label})"))
    return out


def resolver_layer(path: ResolverPath | None, pod: Pod, nameserver: str) -> str:
    """The layer a pod's own resolver reaches through its resolv.conf ``nameserver``."""
    node_local = path.node_local if path is not None else None
    if node_local is not None and nameserver in node_local.addresses:
        node = f"node {pod.node_name}" if pod.node_name else "the pod's node"
        return f"node-local on {node} (the pod's resolver, {nameserver})"
    if path is not None and path.service is not None and nameserver in path.service.cluster_ips:
        return f"ClusterIP {nameserver} (the pod's resolver)"
    return f"the pod's resolver ({nameserver})" if nameserver else ""


def all_candidates(name: str, conf: ResolvConf, libc: Libc) -> list[str]:
    """Every candidate either libc may try (glibc's and musl's orders differ, not their set)."""
    return list(dict.fromkeys([*candidates(name, conf, libc), *candidates(name, conf, Libc.MUSL)]))


def candidate_questions(
    names: Sequence[str], types: Sequence[str], conf: ResolvConf, libc: Libc
) -> list[Question]:
    """Every (candidate, type) question for ``names``, without repeats."""
    wanted = [
        Question(name=c, type=t)
        for n in names
        for c in all_candidates(n, conf, libc)
        for t in types
    ]
    return list(dict.fromkeys(wanted))
