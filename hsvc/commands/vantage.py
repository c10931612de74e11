"""Where live DNS answers come from: a server asked directly, every CoreDNS replica, or a pod.

:func:`open_vantage` picks the vantage point from ``--via`` and holds what it
needs open (port-forward streams) until the command's ``ExitStack`` closes:

``direct`` (:class:`DirectVantage`)
    ``--nameserver`` servers, else (inside a pod) the pod's resolv.conf
    nameservers, else the cluster DNS Service IP; over UDP, TCP on truncation.
``port-forward`` (:class:`PortForwardVantage`)
    one port-forward per CoreDNS replica through the API server, DNS over TCP
    (port-forward carries TCP only); every replica is asked every question and
    labelled with its pod's name. The default outside a pod without ``--nameserver``:
    the Service IP is rarely reachable from a laptop, and finding that out costs
    a timeout, while a port-forward always works where the API server does.
``exec`` (:class:`~hsvc.commands.execvantage.ExecVantage`)
    one exec of a lookup script in an existing pod (``--pod``): its own
    resolver, search list and tools (:mod:`hsvc.core.podexec`).

Every Observation's ``server`` names its vantage point. Each class is built
from narrow arguments: the command's one API connection, DNS parameters, and
the resolv.conf text the CLI read.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import field
from typing import TYPE_CHECKING

from hsvc.commands.options import Options, Via
from hsvc.commands.source import Api
from hsvc.commands.vantagebase import (
    DNS_PORT,
    DnsParams,
    LayerTarget,
    PodView,
    Progress,
    Vantage,
    candidate_questions,
    labels,
    layer_targets,
    resolver_layer,
)
from hsvc.core.dataclass import dataclass
from hsvc.core.dnspath import ResolverPath
from hsvc.core.model import Nameserver, Observation, Pod, Question
from hsvc.core.report import Source
from hsvc.core.resolvconf import ResolvConf, read_resolv_conf
from hsvc.core.searchpath import Libc
from hsvc.errors import AccessDeniedError, NoDnsError, UsageError

if TYPE_CHECKING:
    from hsvc.adapters.kubeapi import KubeSource, PortForwards

log = logging.getLogger(__name__)


def layers(vantage: Vantage) -> dict[str, str]:
    """Server label -> the resolver layer it stands for ("" for a server of no known layer)."""
    # ExecVantage too: imported only for --via exec (so there is none without it).
    exec_vantage = sys.modules.get("hsvc.commands.execvantage")
    kinds = (PortForwardVantage, DirectVantage)
    if isinstance(vantage, kinds) or (
        exec_vantage is not None and isinstance(vantage, exec_vantage.ExecVantage)
    ):
        return dict(vantage.layers)
    return {}


def _resolve(
    questions: list[Question], servers: Sequence[Nameserver], dns: DnsParams
) -> list[Observation]:
    from hsvc.adapters.resolver import resolve_all

    total = len(questions) * len(servers)
    progress = dns.progress
    report = None if progress is None else (lambda done: progress(done, total))
    return resolve_all(
        questions, servers, timeout=dns.timeout, concurrency=dns.concurrency, progress=report
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectVantage:
    """Servers asked directly over UDP (TCP on truncation)."""

    servers: tuple[Nameserver, ...]
    dns: DnsParams
    notes: tuple[str, ...] = ()
    pod: None = None
    # Server label -> the layer it stands for (inside a pod: the resolv.conf
    # servers, node-local's address, each DNS pod at its pod IP).
    layers: dict[str, str] = field(default_factory=dict)

    def ask(self, questions: list[Question]) -> list[Observation]:
        """Ask every server every question.

        Raises:
            HsvcError: from the resolver.
        """
        return _resolve(questions, self.servers, self.dns)

    def lookup(
        self, names: Sequence[str], types: Sequence[str], conf: ResolvConf, libc: Libc
    ) -> list[Observation]:
        """Ask every search-list candidate of each name, for each type.

        Raises:
            HsvcError: from the resolver.
        """
        return self.ask(candidate_questions(names, types, conf, libc))


class PortForwardVantage:
    """Every running CoreDNS replica, each through its own port-forward (DNS over TCP)."""

    pod: None = None

    def __init__(
        self,
        forwards: PortForwards,
        dns: DnsParams,
        notes: Sequence[str],
        layers: dict[str, str] | None = None,
        extra: Sequence[PortForwards] = (),
    ) -> None:
        self._forwards = forwards
        self._extra = list(extra)
        self._dns = dns
        self._notes = list(notes)
        # Server label -> the layer it stands for ("CoreDNS replica x", "node-local on node n").
        self.layers: dict[str, str] = dict(layers or {})

    @classmethod
    def open(
        cls,
        api: KubeSource,
        dns_pods: tuple[str, str],
        dns: DnsParams,
        stack: ExitStack,
        path: ResolverPath | None = None,
    ) -> PortForwardVantage:
        """Port-forward to every running replica (and node-local cache); closed with ``stack``.

        Each replica is forwarded to its own DNS port (its ``dns`` container port,
        else the port its EndpointSlice names, else 53: OpenShift's listen on 5353).
        With NodeLocal DNSCache on the path, each running node-local pod is asked
        too (one more LIST of pods), so a stale node cache shows as its own layer.

        Raises:
            NoDnsError: no replica runs.
            HsvcError: from the API.
        """
        namespace, selector = dns_pods
        pods = api.dns_replicas(namespace, selector)
        running = [p for p in pods if p.phase == "Running" and p.pod_ips and not p.deleting]
        notes = [
            f"replica {p.name} is not running ({p.phase}{', terminating' if p.deleting else ''}): "
            "not asked"
            for p in pods
            if p not in running
        ]
        if not running:
            raise NoDnsError(
                f"no running cluster DNS pod in namespace {namespace!r} with labels {selector!r} "
                f"({api.target}); pass --nameserver, or --via exec --pod POD"
            )
        notes.extend(
            f"replica {p.name} is running but not ready: asked anyway"
            for p in running
            if not p.ready
        )
        default_port = path.dns_port if path is not None else DNS_PORT
        by_port: dict[int, list[Pod]] = {}
        for p in running:
            by_port.setdefault(p.dns_port or default_port, []).append(p)
        groups = [stack.enter_context(api.forward(ps, port)) for port, ps in by_port.items()]
        layer = "CoreDNS" if path is None or path.flavour.value == "coredns" else "kube-dns"
        layers = {f"{p.name} (port-forward)": f"{layer} replica {p.name}" for p in running}
        node_local = path.node_local if path is not None else None
        if node_local is not None and node_local.pods[1]:
            cache_pods = [
                p
                for p in api.dns_replicas(*node_local.pods)
                if p.phase == "Running" and not p.deleting
            ]
            if cache_pods:
                groups.append(stack.enter_context(api.forward(cache_pods, node_local.port)))
                for p in cache_pods:
                    where = f"node {p.node_name}" if p.node_name else f"pod {p.name}"
                    layers[f"{p.name} (port-forward)"] = f"node-local on {where}"
        log.debug("port-forwarding to %d replicas: %s", len(running), [p.name for p in running])
        return cls(groups[0], dns, notes, layers, groups[1:])

    @property
    def servers(self) -> Sequence[Nameserver]:
        """One server per replica (and node-local pod), labelled with its pod's name."""
        out = list(self._forwards.nameservers)
        for more in self._extra:
            out.extend(more.nameservers)
        return out

    @property
    def notes(self) -> Sequence[str]:
        """Replicas not asked, and streams that failed while asking."""
        return tuple(self._notes)

    def ask(self, questions: list[Question]) -> list[Observation]:
        """Ask every replica every question.

        Raises:
            HsvcError: from the resolver.
        """
        observations = _resolve(questions, self.servers, self._dns)
        for forwards in (self._forwards, *self._extra):
            for problem in forwards.problems():
                if problem not in self._notes:
                    self._notes.append(problem)
        return observations

    def lookup(
        self, names: Sequence[str], types: Sequence[str], conf: ResolvConf, libc: Libc
    ) -> list[Observation]:
        """Ask every search-list candidate of each name, for each type.

        Raises:
            HsvcError: from the resolver.
        """
        return self.ask(candidate_questions(names, types, conf, libc))


def via_of(opts: Options) -> Via:
    """Resolve ``--via auto`` to a mode.

    Raises:
        UsageError: ``--pod`` without ``--via exec``.
    """
    via = opts.via
    if opts.pod and via not in (Via.AUTO, Via.EXEC):
        raise UsageError(f"--pod is for --via exec, not --via {via.value}")
    if via is not Via.AUTO:
        return via
    if opts.pod:
        return Via.EXEC
    if opts.nameservers or opts.in_pod or opts.files:
        return Via.DIRECT
    return Via.PORT_FORWARD


def direct_nameservers(
    nameservers: Sequence[str], *, resolv_conf: str | None, kube_dns_ip: str | None
) -> list[Nameserver]:
    """Return ``--nameserver``, else the pod's resolv.conf servers, else the kube-dns IP.

    Args:
        nameservers: ``--nameserver`` values, HOST[:PORT].
        resolv_conf: The pod's /etc/resolv.conf when running in one, else None.
        kube_dns_ip: The cluster DNS Service IP, when known.

    Raises:
        UsageError: a malformed ``--nameserver``.
        NoDnsError: no server can be found.
    """
    from hsvc.adapters.nameservers import parse_nameserver

    if nameservers:
        return [parse_nameserver(text) for text in nameservers]
    if resolv_conf is not None:
        # Inside a pod: ask what the pod's own resolver asks.
        conf = read_resolv_conf(resolv_conf)
        if conf.nameservers:
            return list(conf.nameservers)
    if kube_dns_ip:
        return [Nameserver(host=kube_dns_ip, port=DNS_PORT, label=f"kube-dns {kube_dns_ip}")]
    raise NoDnsError(
        "no DNS server to ask: pass --nameserver HOST[:PORT] (the cluster DNS Service IP when "
        "you can reach it), or --via port-forward to ask every CoreDNS replica through the "
        "API server"
    )


def open_vantage(
    opts: Options, source: Source, api: Api, stack: ExitStack, progress: Progress | None = None
) -> Vantage:
    """Open the vantage point ``--via`` asks for; whatever it holds open closes with ``stack``.

    Raises:
        UsageError: bad ``--via``/``--pod`` combinations or a malformed ``--nameserver``.
        NoDnsError: no server to ask, or no CoreDNS replica to forward to.
        AccessDeniedError: ``pods/portforward`` or ``pods/exec`` not granted.
        HsvcError: other API failures.
    """
    mode = via_of(opts)
    dns = DnsParams(timeout=opts.timeout, concurrency=opts.concurrency, progress=progress)
    if mode is Via.EXEC:
        if not opts.pod:
            raise UsageError("--via exec needs --pod POD (a running pod whose view to check)")
        from hsvc.commands.execvantage import ExecVantage

        return ExecVantage.open(
            api.get(),
            opts.pod,
            namespace=source.namespace or opts.namespace or "default",
            container=opts.container,
            timeout=opts.timeout,
            zone=source.settings.primary_zone,
            kube_dns_ip=source.kube_dns_ip,
            path=source.path,
            dns_pods=source.dns_pods,
        )
    if mode is Via.PORT_FORWARD:
        return PortForwardVantage.open(api.get(), source.dns_pods, dns, stack, source.path)
    servers = direct_nameservers(
        opts.nameservers,
        resolv_conf=opts.resolv_conf if opts.in_pod else None,
        kube_dns_ip=source.kube_dns_ip,
    )
    notes: tuple[str, ...] = ()
    layer_of: dict[str, str] = {}
    if opts.in_pod and not opts.nameservers and not opts.files:
        replicas, notes = pod_replicas(api.get(), source.dns_pods)
        servers = [*servers, *(r for r in replicas if r not in servers)]
        servers, layer_of = in_pod_layers(source.path, servers)
    return DirectVantage(servers=tuple(servers), dns=dns, notes=notes, layers=layer_of)


def in_pod_layers(
    path: ResolverPath | None, servers: Sequence[Nameserver]
) -> tuple[list[Nameserver], dict[str, str]]:
    """Inside a pod: add NodeLocal DNSCache's own address, and name each server's layer.

    The resolv.conf servers are what the pod's resolver asks (the ClusterIP, which
    the node's cache answers when it binds it); replicas asked at their pod IPs are
    CoreDNS itself. So a stale node cache and a stale replica are told apart.
    """
    out = list(servers)
    layer_of: dict[str, str] = {}
    node_local = path.node_local if path is not None else None
    cluster_ips = path.service.cluster_ips if path is not None and path.service else ()
    if node_local is not None:
        local = next((a for a in node_local.addresses if a not in cluster_ips), "")
        if local and not any(s.host == local for s in out):
            out.insert(0, Nameserver(host=local, port=node_local.port))
    for s in out:
        label = str(s)
        if label.endswith(" (pod IP)"):
            layer_of[label] = f"CoreDNS replica {label.removesuffix(' (pod IP)')}"
        elif node_local is not None and s.host in node_local.addresses:
            layer_of[label] = f"node-local on this pod's node ({s.host})"
        elif s.host in cluster_ips:
            layer_of[label] = f"ClusterIP {s.host} (Service to a DNS pod)"
    return out, layer_of


def pod_replicas(
    api: KubeSource, dns_pods: tuple[str, str]
) -> tuple[list[Nameserver], tuple[str, ...]]:
    """Inside a pod: every running CoreDNS replica at its pod IP, asked directly.

    The pod network reaches every replica, so no port-forward is needed; asking
    each one (besides the Service IP the pod's resolv.conf names) shows a replica
    that answers apart. The port is the replica's ``dns`` UDP container port (53
    when it names none).

    Raises:
        HsvcError: from the API, except 403 (noted: the resolv.conf servers are still asked).
    """
    namespace, selector = dns_pods
    try:
        pods = api.dns_replicas(namespace, selector)
    except AccessDeniedError as exc:
        return [], (f"CoreDNS replicas not asked one by one: {exc.message}",)
    servers = [
        Nameserver(host=p.pod_ips[0], port=p.dns_port or DNS_PORT, label=f"{p.name} (pod IP)")
        for p in pods
        if p.phase == "Running" and p.pod_ips and not p.deleting
    ]
    notes = tuple(
        f"replica {p.name} is not running ({p.phase}): not asked"
        for p in pods
        if p.phase != "Running" or not p.pod_ips
    )
    return servers, notes


def nobody_answered(observations: Sequence[Observation]) -> NoDnsError:
    """Say what each server did instead of answering: silence, garbage, refused connections.

    A server that sends garbage answers at once; calling that a timeout would send
    the user looking at the network instead of at the server.
    """
    why: dict[str, Counter[str]] = {}
    for obs in observations:
        why.setdefault(obs.server, Counter())[obs.error or obs.rcode.value] += 1
    servers = "; ".join(
        f"{server}: {errors.most_common(1)[0][0]}" for server, errors in why.items()
    )
    return NoDnsError(
        f"no DNS server answered any query ({servers}); "
        "check --nameserver and that the server is reachable"
    )


__all__ = [
    "DNS_PORT",
    "DirectVantage",
    "DnsParams",
    "LayerTarget",
    "PodView",
    "PortForwardVantage",
    "Progress",
    "Vantage",
    "direct_nameservers",
    "in_pod_layers",
    "labels",
    "layer_targets",
    "layers",
    "nobody_answered",
    "open_vantage",
    "pod_replicas",
    "resolver_layer",
    "via_of",
]
