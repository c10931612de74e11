"""The resolver path: which layers a pod's question passes, and which server answers it.

Pure: the objects read from the API (or files) in, a :class:`ResolverPath` out.
A pod asks the nameserver in its resolv.conf (the ``kube-dns`` ClusterIP). On a
cluster with NodeLocal DNSCache that address is bound on every node by the
``node-local-dns`` DaemonSet, so the node's cache answers first and forwards
misses to the DNS pods. The DNS pods run CoreDNS (its version decides some
rules, :mod:`hsvc.core.flavour`), kube-dns (kubedns + dnsmasq), or nothing at
all (GKE Cloud DNS answers on the node). They listen on the port their
EndpointSlice names, which is not always 53 (OpenShift: 5353).
"""

from __future__ import annotations

from dataclasses import replace

from hsvc.core import corefile, flavour
from hsvc.core.dataclass import dataclass
from hsvc.core.model import EndpointSlice, Labels, ObjectRef, Service
from hsvc.core.vocabulary import Flavour

NODE_LOCAL_NAMES = ("node-local-dns", "nodelocaldns")
_DNS_WORKLOAD_NAMES = ("coredns", "kube-dns", "dns-default", "rke2-coredns-rke2-coredns")
# Placeholders the node-cache binary fills in its Corefile (k8s.io/dns cmd/node-cache).
_LOCAL_PLACEHOLDER = "__PILLAR__LOCAL__DNS__"
_SERVER_PLACEHOLDER = "__PILLAR__DNS__SERVER__"


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsWorkload:
    """A Deployment or DaemonSet that may serve DNS: its images, arguments and size."""

    kind: str  # Deployment or DaemonSet
    namespace: str
    name: str
    labels: Labels = ()
    images: tuple[str, ...] = ()
    # Every container's command and args, in order (node-cache's -localip lives here).
    args: tuple[str, ...] = ()
    replicas: int = 0  # Deployment spec.replicas; DaemonSet status.desiredNumberScheduled
    ready: int = 0  # readyReplicas / numberReady
    selector: Labels = ()  # spec.selector.matchLabels: how to find its pods
    # The pod template's named container ports: (name, protocol, number).
    ports: tuple[tuple[str, str, int], ...] = ()

    @property
    def ref(self) -> ObjectRef:
        """This workload as an object reference."""
        return ObjectRef(kind=self.kind, namespace=self.namespace, name=self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigText:
    """A ConfigMap's text values (Corefiles, NodeHosts, coredns-custom files)."""

    namespace: str
    name: str
    data: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str | None:
        """The value of ``key``, or None."""
        return next((v for k, v in self.data if k == key), None)

    @property
    def ref(self) -> ObjectRef:
        """This ConfigMap as an object reference."""
        return ObjectRef(kind="ConfigMap", namespace=self.namespace, name=self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class PathObjects:
    """What path discovery reads: a constant handful of objects around the DNS Service."""

    service: Service | None = None  # kube-system/kube-dns (or openshift-dns/dns-default)
    slices: tuple[EndpointSlice, ...] = ()  # that Service's EndpointSlices
    workloads: tuple[DnsWorkload, ...] = ()  # Deployments and DaemonSets beside it
    config_maps: tuple[ConfigText, ...] = ()  # coredns, coredns-custom, node-local-dns, ...
    version_bind: str = ""  # the version.bind CH TXT answer, when the chaos plugin gave one
    # Kinds that could not be read (forbidden): conclusions about them are not drawn.
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    """One hop of the path: who may answer a pod's question there."""

    kind: str  # node-local, coredns, kube-dns, cloud-dns
    addresses: tuple[str, ...] = ()  # listen addresses (node-local) or DNS pod IPs
    port: int = 53
    replicas: int = 0
    version: str = ""
    cache: str = ""  # "30/5": the success/denial TTL caps of its cache
    source: ObjectRef | None = None
    # How to find its pods for a per-layer vantage: namespace and label selector.
    pods: tuple[str, str] = ("", "")

    @property
    def text(self) -> str:
        """``node-local 169.254.20.10 (cache 30/5)``, ``CoreDNS ×2 1.12.0 :53``."""
        if self.kind == "node-local":
            where = self.addresses[0] if self.addresses else "(address unknown)"
            cache = f" (cache {self.cache})" if self.cache else ""
            return f"node-local {where}{cache}"
        if self.kind == "cloud-dns":
            return "Cloud DNS (no DNS pods; answered on the node)"
        name = "CoreDNS" if self.kind == "coredns" else self.kind
        version = f" {self.version}" if self.version else ""
        return f"{name} ×{self.replicas}{version} :{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolverPath:
    """Where a pod's DNS question goes, hop by hop, and what decides the answer."""

    flavour: Flavour = Flavour.COREDNS
    distribution: str = ""  # k3s, openshift, aks, gke, "" (kubeadm-like)
    version: str = ""
    version_source: str = ""  # image tag, version.bind
    service: Service | None = None
    layers: tuple[Layer, ...] = ()
    dns_port: int = 53  # the DNS pods' UDP port, from the EndpointSlice
    dns_tcp_port: int | None = None  # their TCP port, when the slice names one
    # The DNS pods' named container ports (name, protocol, number), from their workload:
    # what a NetworkPolicy's ``port: dns`` stands for.
    dns_named_ports: tuple[tuple[str, str, int], ...] = ()
    # Files of coredns-custom the Corefile imports (merged into the settings).
    imports: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """``pod → node-local 169.254.20.10 (cache 30/5) → CoreDNS ×2 1.12.0 :53``."""
        hops = ["pod"]
        if not any(layer.kind == "node-local" for layer in self.layers) and self.service:
            ip = self.service.cluster_ips[0] if self.service.cluster_ips else "?"
            hops.append(f"Service {self.service.namespace}/{self.service.name} {ip}")
        hops.extend(layer.text for layer in self.layers)
        return " → ".join(hops)

    @property
    def node_local(self) -> Layer | None:
        """The NodeLocal DNSCache layer, when the cluster runs one."""
        return next((layer for layer in self.layers if layer.kind == "node-local"), None)

    @property
    def servers(self) -> Layer | None:
        """The DNS pods' layer (CoreDNS or kube-dns), when there are DNS pods."""
        return next((la for la in self.layers if la.kind in ("coredns", "kube-dns")), None)

    @property
    def service_tcp_53(self) -> bool:
        """Whether the DNS Service exposes port 53 over TCP (truncated answers need it)."""
        svc = self.service
        return svc is None or any(p.port == 53 and p.protocol == "TCP" for p in svc.ports)


def _is_node_local(w: DnsWorkload) -> bool:
    return w.name in NODE_LOCAL_NAMES or any("node-cache" in i for i in w.images)


def _server_kind(w: DnsWorkload) -> str:
    """``coredns``, ``kube-dns`` or "" for a workload that is not a DNS server."""
    if _is_node_local(w):
        return ""
    images = " ".join(w.images).lower()
    if "coredns" in images:
        return "coredns"
    if "kube-dns" in images or "dnsmasq" in images:
        return "kube-dns"
    if w.name in _DNS_WORKLOAD_NAMES or ("k8s-app", "kube-dns") in w.labels:
        return "coredns"  # a DNS workload from a mirror with an unusual image name
    return ""


def _version_of(w: DnsWorkload, kind: str) -> flavour.Version | None:
    for image in w.images:
        if kind == "coredns" and "coredns" not in image.lower():
            continue
        found = flavour.version_from_image(image)
        if found is not None:
            return found
    return None


def _ports(slices: tuple[EndpointSlice, ...], svc: Service | None) -> tuple[int, int | None]:
    udp = tcp = None
    for sl in slices:
        for p in sl.ports:
            if p.port is None:
                continue
            if p.protocol == "UDP" and udp is None:
                udp = p.port
            if p.protocol == "TCP" and tcp is None:
                tcp = p.port
    if udp is None and svc is not None:
        for sp in svc.ports:
            if sp.protocol == "UDP" and isinstance(sp.target_port, int):
                udp = sp.target_port
                break
    return (udp if udp is not None else (tcp if tcp is not None else 53)), tcp


def _node_local(w: DnsWorkload, config: ConfigText | None, svc: Service | None, zone: str) -> Layer:
    """The node cache's listen addresses and TTL caps from its ConfigMap and -localip flag."""
    local: list[str] = []
    for i, word in enumerate(w.args):
        value = ""
        if word.startswith(("-localip=", "--localip=")):
            value = word.split("=", 1)[1]
        elif word in ("-localip", "--localip") and i + 1 < len(w.args):
            value = w.args[i + 1]
        local.extend(v.strip() for v in value.split(",") if v.strip())
    cluster_ip = svc.cluster_ips[0] if svc is not None and svc.cluster_ips else ""
    addresses: list[str] = []
    cache = ""
    text = config.get("Corefile") if config is not None else None
    if text:
        try:
            blocks = corefile.server_summaries(text, source="ConfigMap node-local-dns")
        except corefile.CorefileError:
            blocks = ()
        chosen = next(
            (b for b in blocks if any(z.rstrip(".") == zone.rstrip(".") for z in b.zones)),
            next(iter(blocks), None),
        )
        if chosen is not None:
            for word in chosen.args("bind"):
                if word == _LOCAL_PLACEHOLDER:
                    addresses.extend(local[:1] or ["169.254.20.10"])
                elif word == _SERVER_PLACEHOLDER:
                    addresses.extend([cluster_ip] if cluster_ip else [])
                else:
                    addresses.append(word)
            cache = _cache_caps(chosen)
    if not addresses:
        addresses = local or ["169.254.20.10"]
    return Layer(
        kind="node-local",
        addresses=tuple(dict.fromkeys(addresses)),
        port=53,
        replicas=w.ready or w.replicas,
        cache=cache,
        source=w.ref,
        pods=(w.namespace, ",".join(f"{k}={v}" for k, v in w.selector)),
    )


def _cache_caps(block: corefile.ServerSummary) -> str:
    """``success/denial`` TTL caps of a cache directive (CoreDNS cache defaults 3600/1800)."""
    if not block.has("cache"):
        return ""
    args = block.args("cache")
    success = denial = args[0] if args and args[0].isdigit() else ""
    for name, opts in block.options("cache"):
        if name in ("success", "denial") and len(opts) >= 2 and opts[1].isdigit():
            if name == "success":
                success = opts[1]
            else:
                denial = opts[1]
    return f"{success or 3600}/{denial or 1800}"


def _distribution(
    namespace: str,
    configs: dict[tuple[str, str], ConfigText],
    chosen: Flavour,
    notes: list[str],
) -> str:
    """Which distribution the DNS objects look like: openshift, k3s, gke, aks, or ""."""
    coredns_cm = configs.get((namespace, "coredns")) or configs.get((namespace, "dns-default"))
    distribution = ""
    if namespace == "openshift-dns":
        distribution = "openshift"
    elif coredns_cm is not None and coredns_cm.get("NodeHosts") is not None:
        distribution = "k3s"
        notes.append(
            "k3s: the Corefile's hosts plugin answers the node names in NodeHosts before "
            "the kubernetes plugin"
        )
    elif chosen is not Flavour.COREDNS:
        distribution = "gke"
    if configs.get((namespace, "coredns-custom")) is not None:
        distribution = distribution or "aks"
    return distribution


# long: the layers are decided in order over shared locals; split, each would take six
def discover(objects: PathObjects, *, zone: str = "cluster.local.") -> ResolverPath:
    """Work out the resolver path from the objects around the DNS Service."""
    notes: list[str] = []
    svc = objects.service
    configs = {(c.namespace, c.name): c for c in objects.config_maps}
    node_local = next((w for w in objects.workloads if _is_node_local(w)), None)
    servers = [(w, k) for w in objects.workloads if (k := _server_kind(w))]
    dns_port, tcp_port = _ports(objects.slices, svc)
    ready_endpoints = [
        ep for sl in objects.slices for ep in sl.endpoints if ep.is_ready and ep.addresses
    ]
    layers: list[Layer] = []
    chosen_flavour = Flavour.COREDNS
    version: flavour.Version | None = None
    version_source = ""
    workloads_unreadable = any(
        u.startswith(("deployments", "daemonsets")) for u in objects.unreadable
    )
    live = [(w, k) for w, k in servers if w.replicas > 0]
    if live:
        w, kind = live[0]
        chosen_flavour = Flavour(kind)
        version = _version_of(w, kind) if kind == "coredns" else None
        version_source = "image tag" if version is not None else ""
        replicas = len(ready_endpoints) or w.ready or w.replicas
        layers.append(
            Layer(
                kind=kind,
                addresses=tuple(ep.addresses[0] for ep in ready_endpoints),
                port=dns_port,
                replicas=replicas,
                version=flavour.show(version) if version else "",
                source=w.ref,
                pods=(w.namespace, ",".join(f"{k}={v}" for k, v in w.selector)),
            )
        )
    elif servers and not ready_endpoints and not workloads_unreadable:
        # GKE with Cloud DNS keeps the kube-dns Deployment scaled to zero and the
        # Service without endpoints: nothing in the cluster answers.
        chosen_flavour = Flavour.CLOUD_DNS
        layers.append(Layer(kind="cloud-dns", source=servers[0][0].ref))
        notes.append(
            f"no DNS pods: {servers[0][0].ref} runs no replica, so names are answered "
            "outside the cluster (Cloud DNS); its rules follow kube-dns's"
        )
    elif svc is not None:
        layers.append(
            Layer(
                kind="coredns",
                addresses=tuple(ep.addresses[0] for ep in ready_endpoints),
                port=dns_port,
                replicas=len(ready_endpoints),
                source=svc.ref,
            )
        )
        if workloads_unreadable:
            notes.append("the DNS Deployment could not be read: CoreDNS assumed, version unknown")
    # CoreDNS's chaos plugin answers "CoreDNS-1.12.0"; another server's version is not CoreDNS's.
    bind = objects.version_bind
    parsed_bind = flavour.parse_version(bind) if "coredns" in bind.lower() else None
    if chosen_flavour is Flavour.COREDNS and parsed_bind is not None:
        version, version_source = parsed_bind, "version.bind"
        if layers and layers[-1].kind == "coredns":
            layers[-1] = replace(layers[-1], version=flavour.show(version))
    if node_local is not None and node_local.replicas > 0:
        cfg = configs.get((node_local.namespace, "node-local-dns"))
        layers.insert(0, _node_local(node_local, cfg, svc, zone))
    namespace = svc.namespace if svc is not None else "kube-system"
    distribution = _distribution(namespace, configs, chosen_flavour, notes)
    custom = configs.get((namespace, "coredns-custom"))
    imports = custom.data if custom is not None else ()
    return ResolverPath(
        flavour=chosen_flavour,
        distribution=distribution,
        version=flavour.show(version) if version else "",
        version_source=version_source,
        service=svc,
        layers=tuple(layers),
        dns_port=dns_port,
        dns_tcp_port=tcp_port,
        dns_named_ports=live[0][0].ports if live else (),
        imports=imports,
        notes=tuple(notes),
    )
