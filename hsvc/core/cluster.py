"""What cluster DNS answers: the CoreDNS kubernetes plugin as a pure function.

:class:`ClusterDns` indexes a :class:`~hsvc.core.model.Snapshot` once and then
answers any question the way the plugin would, naming the dns-records.md rules
that decided it. It follows the plugin's own order of decisions: parse the name
(rule 9), check the namespace (rule 8), find the Service or pod, turn the found
items into records for the asked type, and fall back to NODATA or NXDOMAIN.

Not modelled: records an upstream resolver adds (ExternalName targets outside the
cluster zones, rule 25; fallthrough zones, rule 38). Answers that depend on them
are marked ``open_ended``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from hsvc.core import names
from hsvc.core.model import (
    DnsAnswer,
    DnsSettings,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Namespace,
    ObjectRef,
    Pod,
    PodsMode,
    Provenance,
    Rcode,
    Record,
    Service,
    Snapshot,
    selector_matches,
)

DNS_SCHEMA_VERSION = "1.1.0"
DNS_VERSION_TTL = 28800  # rule 27: fixed, whatever the ttl knob says
SOA_REFRESH, SOA_RETRY, SOA_EXPIRE = 7200, 1800, 86400
NO_PORT = -1  # the plugin's sentinel for a slice without ports (rule 5)


@dataclass(frozen=True, slots=True)
class PublishedEndpoint:
    """One ready address of one slice endpoint, as the plugin indexes it."""

    name: str  # the endpoint label (rule 6)
    address: str  # canonical form
    family: int
    ports: tuple[EndpointPort, ...]
    zone: str
    source: ObjectRef  # the pod behind it when known, else the slice
    slice: ObjectRef
    has_hostname: bool = False  # the slice set a hostname (version gate of rule 36)


@dataclass(frozen=True, slots=True)
class _Item:
    """What the plugin's Services() returns: a host (IP or name) with a port and a key name."""

    host: str
    port: int
    target: str  # the DNS name this item is known by (SRV target, PTR/CNAME data)
    source: ObjectRef
    rule: str


@dataclass(slots=True)
class _Lookup:
    """The plugin's Records() result: items, or a name error with its reason."""

    items: list[_Item] = field(default_factory=list)
    nxdomain: bool = False
    # The name exists even when ``items`` is empty: a zonal name answers NODATA for
    # every type, TXT included (dns-records.md rule 42; CoreDNS kubernetes.go Services).
    exists: bool = False
    rules: list[str] = field(default_factory=list)
    why: str = ""


class ClusterDns:
    """Answer DNS questions from Kubernetes objects, as CoreDNS would.

    Build once per snapshot; every lookup is a dictionary access, so answering
    thousands of questions stays linear in their number.
    """

    def __init__(self, snapshot: Snapshot, settings: DnsSettings) -> None:
        self.snapshot = snapshot
        self.settings = settings
        self.namespaces: dict[str, Namespace] = {ns.name: ns for ns in snapshot.namespaces}
        sel = settings.labels
        # Rule 1 and the `labels` knob: only matching Services and slices are seen.
        self.services: dict[tuple[str, str], Service] = {
            (s.namespace, s.name): s
            for s in snapshot.services
            if sel is None or sel.matches(s.labels)
        }
        self.slices: dict[tuple[str, str], list[EndpointSlice]] = defaultdict(list)
        for sl in snapshot.endpoint_slices:
            if sl.service_name and (sel is None or sel.matches(sl.labels)):
                self.slices[(sl.namespace, sl.service_name)].append(sl)
        self.endpoints: dict[tuple[str, str], list[PublishedEndpoint]] = defaultdict(list)
        # (namespace, service, endpoint label): an endpoint name's lookup stays O(1)
        # with thousands of endpoints behind one Service.
        self.endpoints_by_name: dict[tuple[str, str, str], list[PublishedEndpoint]] = defaultdict(
            list
        )
        self.endpoints_by_ip: dict[str, list[tuple[str, str, PublishedEndpoint]]] = defaultdict(
            list
        )
        if not settings.noendpoints:  # rule 41: slices are not read at all
            for (ns, svc), slices in self.slices.items():
                for sl in slices:
                    for ep in self._published(sl):
                        self.endpoints[(ns, svc)].append(ep)
                        self.endpoints_by_name[(ns, svc, ep.name)].append(ep)
                        self.endpoints_by_ip[ep.address].append((ns, svc, ep))
        self.services_by_ip: dict[str, Service] = {}
        for s in self.services.values():
            if s.is_headless or s.is_external_name:
                continue
            for ip in s.cluster_ips:
                canon = names.canonical_ip(ip)
                if canon is not None:
                    self.services_by_ip.setdefault(canon, s)
        # Rule 30: CoreDNS indexes only the primary podIP and compares it to the
        # decoded label as a string, so the index keeps the address as written.
        self.pods_by_ip: dict[str, list[Pod]] = defaultdict(list)
        for pod in snapshot.pods:
            if pod.pod_ips:
                self.pods_by_ip[pod.pod_ips[0].strip().lower()].append(pod)
        # Pods by namespace, hostname, name, any IP and label, for the planner and the
        # explanations: a scan of every pod per name would be quadratic at thousands.
        self.pods_by_namespace: dict[str, list[Pod]] = defaultdict(list)
        self.pods_by_hostname: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        self.pods_by_name: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        self.pods_by_subdomain: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        self.pods_by_any_ip: dict[str, list[Pod]] = defaultdict(list)
        self._pods_by_label: dict[tuple[str, str, str], list[Pod]] = defaultdict(list)
        self._pod_order: dict[int, int] = {}
        for position, pod in enumerate(snapshot.pods):
            self._pod_order[id(pod)] = position
            self.pods_by_namespace[pod.namespace].append(pod)
            self.pods_by_hostname[(pod.namespace, pod.hostname.lower())].append(pod)
            self.pods_by_name[(pod.namespace, pod.name.lower())].append(pod)
            self.pods_by_subdomain[(pod.namespace, pod.subdomain)].append(pod)
            for ip in pod.pod_ips:
                self.pods_by_any_ip[ip].append(pod)
            for key, value in pod.labels:
                self._pods_by_label[(pod.namespace, key, value)].append(pod)
        self._selected: dict[tuple[str, str], list[Pod]] = {}
        self._slice_index: dict[tuple[str, str], dict[tuple[str, str], tuple[int, Endpoint]]] = {}

    # -- indexing ------------------------------------------------------------

    def _published(self, sl: EndpointSlice) -> list[PublishedEndpoint]:
        out = []
        for ep in sl.endpoints:
            if not ep.is_ready:  # rule 2: ready true or absent
                continue
            for raw in ep.addresses:
                address = names.canonical_ip(raw)
                if address is None:
                    continue
                out.append(
                    PublishedEndpoint(
                        name=self.endpoint_name(ep.hostname, ep.target_ref, raw),
                        address=address,
                        family=names.ip_family(address),
                        ports=sl.ports,
                        zone=ep.zone,
                        source=ep.target_ref or sl.ref,
                        slice=sl.ref,
                        has_hostname=bool(ep.hostname),
                    )
                )
        return out

    def endpoint_name(self, hostname: str, target_ref: ObjectRef | None, address: str) -> str:
        """Return the label an endpoint is known by (rule 6)."""
        if hostname:
            return hostname.lower()
        if (
            self.settings.endpoint_pod_names
            and target_ref is not None
            and 0 < len(target_ref.name) < 64
        ):
            return target_ref.name.lower()
        return names.dashed_ip(address, trailing_zero=self.settings.ipv6_dashed_zero).lower()

    def namespace_exposed(self, namespace: str) -> bool:
        """Return whether names under ``namespace`` can exist (rule 8)."""
        ns = self.namespaces.get(namespace)
        if ns is None:
            return False
        if self.settings.namespaces and namespace not in self.settings.namespaces:
            return False
        sel = self.settings.namespace_labels
        return sel is None or sel.matches(ns.labels)

    def zone_of(self, qname: str) -> str | None:
        """Return the longest plugin zone ``qname`` lies in, or None."""
        best: str | None = None
        for zone in self.settings.zones:
            if names.is_subdomain(qname, zone) and (best is None or len(zone) > len(best)):
                best = zone
        return best

    # -- answering -------------------------------------------------------------

    def answer(self, qname: str, qtype: str) -> DnsAnswer:
        """Return what cluster DNS answers for ``qname`` / ``qtype``.

        Raises:
            InvalidName: ``qname`` is not a valid DNS name.
        """
        name = names.absolute(qname)
        qtype = qtype.upper()
        zone = self.zone_of(name)
        if zone is None:
            return DnsAnswer(
                name=name,
                type=qtype,
                rcode=Rcode.REFUSED,
                rules=("R9",),
                explanation=(
                    f"{name} is outside the zones the kubernetes plugin serves "
                    f"({', '.join(self.settings.zones)}); CoreDNS hands it to the next "
                    "plugin (usually forward), which hsvc does not model"
                ),
                open_ended=True,
            )
        return _Answerer(self, name, qtype, zone).run()

    # -- helpers used by records and diagnostics -----------------------------------

    def soa(self, zone: str) -> Record:
        """Return the SOA record the plugin serves for ``zone`` (rule 44); serial unknown (0)."""
        ttl = min(self.settings.ttl, 300)
        return Record(
            name=zone,
            type="SOA",
            ttl=ttl,
            data=(
                f"{names.under(zone, 'ns.dns')} {names.under(zone, 'hostmaster')} "
                f"0 {SOA_REFRESH} {SOA_RETRY} "
                f"{SOA_EXPIRE} {self.settings.ttl}"
            ),
        )

    def service(self, namespace: str, name: str) -> Service | None:
        """Return the Service the plugin sees under that name, if any."""
        return self.services.get((namespace, name))

    def ready_endpoints(self, namespace: str, service: str) -> list[PublishedEndpoint]:
        """Return the published endpoints of a Service (rules 1, 2, 6)."""
        return self.endpoints.get((namespace, service), [])

    def selected_pods(self, svc: Service) -> list[Pod]:
        """Return the pods a Service's selector matches, in its namespace, in snapshot order."""
        key = (svc.namespace, svc.name)
        if key not in self._selected:
            # The pods carrying the selector's rarest label, then the full check.
            candidates = min(
                (self._pods_by_label.get((svc.namespace, k, v), []) for k, v in svc.selector),
                key=len,
                default=[],
            )
            self._selected[key] = [
                p for p in candidates if selector_matches(svc.selector, p.labels)
            ]
        return self._selected[key]

    def pods_of(self, svc: Service) -> list[Pod]:
        """Return the pods a Service selects or that name it as subdomain, in snapshot order."""
        chosen = {id(p): p for p in self.selected_pods(svc)}
        for pod in self.pods_by_subdomain.get((svc.namespace, svc.name), []):
            chosen.setdefault(id(pod), pod)
        return sorted(chosen.values(), key=lambda p: self._pod_order[id(p)])

    def slice_endpoint(self, namespace: str, service: str, pod: Pod) -> Endpoint | None:
        """Return the first endpoint in the Service's slices that is ``pod`` (targetRef or IP)."""
        index = self._slice_index.get((namespace, service))
        if index is None:
            index = {}
            position = 0
            for sl in self.slices.get((namespace, service), []):
                for ep in sl.endpoints:
                    if ep.target_ref is not None:
                        index.setdefault(("ref", ep.target_ref.name), (position, ep))
                    for address in ep.addresses:
                        index.setdefault(("ip", address), (position, ep))
                    position += 1
            self._slice_index[(namespace, service)] = index
        found = [index.get(("ref", pod.name))] + [index.get(("ip", ip)) for ip in pod.pod_ips]
        first = min((f for f in found if f is not None), key=lambda f: f[0], default=None)
        return first[1] if first is not None else None


class _Answerer:
    """One question's walk through the plugin's decisions."""

    def __init__(self, cluster: ClusterDns, name: str, qtype: str, zone: str) -> None:
        self.c = cluster
        self.s = cluster.settings
        self.name = name
        self.qtype = qtype
        self.zone = zone
        self.rules: list[str] = []
        self.notes: list[str] = []

    # ---- the plugin's Records() -------------------------------------------------

    def lookup(self, name: str) -> _Lookup:
        """Return the items for ``name`` regardless of type, or a name error."""
        rest = names.trim_zone(name, self.zone)
        if rest in ([], ["svc"], ["pod"]):
            return _Lookup(rules=["R32"], why=f"{name} exists but holds no records")
        kind = rest[-1]
        if kind not in ("svc", "pod"):
            return _nx("R9", f"only svc and pod live under {self.zone}; {name} is neither")
        if self.zone.endswith(("in-addr.arpa.", "ip6.arpa.")):
            return _nx("R34", f"{name} is a forward-style name inside a reverse zone")
        namespace = rest[-2] if len(rest) >= 2 else ""
        svc = rest[-3] if len(rest) >= 3 else ""
        extra = rest[:-3]
        endpoint = port = proto = ""
        zonal: tuple[str, str] | None = None
        if len(extra) == 1:
            endpoint = extra[0]
        elif len(extra) == 2:
            port, proto = _strip_underscore(extra[0]), _strip_underscore(extra[1])
        elif (
            len(extra) >= 3
            and self.s.zonal
            and kind == "svc"
            and extra[-1] == "_zone"
            and extra[-2] in ("pin", "prefer")
        ):
            # Rule 42, as CoreDNS parse.go reads it: only under svc, and the topology
            # zone is every label left of the directive (zone label values may hold dots).
            zonal = (".".join(extra[:-2]), extra[-2])
        elif len(extra) > 2:
            return _nx("R9", f"{name} has too many labels before the Service name")
        if not self.c.namespace_exposed(namespace):
            return _nx("R8", _ns_absent(self.c, namespace))
        if kind == "pod":
            return self.find_pod(namespace, svc)
        return self.find_service(namespace, svc, endpoint, port, proto, zonal)

    def find_pod(self, namespace: str, label: str) -> _Lookup:
        """Pod records (rules 28-31); extra labels left of the address were ignored (rule 31)."""
        mode = self.s.pods
        if mode is PodsMode.DISABLED:
            return _nx("R28", "pod records are disabled (pods disabled, the plugin's default)")
        if not label:
            return _Lookup(rules=["R33"], why=f"namespace {namespace} exists; no data at its name")
        ip = names.ip_from_pod_label(label)
        if ip is None:
            return _nx("R29", f"{label!r} does not decode to an IP address")
        ref = ObjectRef(kind="Namespace", namespace="", name=namespace)
        if mode is PodsMode.INSECURE:
            return _Lookup(
                items=[_Item(host=ip, port=0, target=self.name, source=ref, rule="R29")],
                rules=["R29"],
                why=f"pods insecure answers any decodable address ({ip}) without a pod lookup",
            )
        # Verified mode matches the label as decoded, not normalised: a non-compressed
        # IPv6 label ("fd00-1-0-0-0-0-0-5") finds no pod whose podIP reads "fd00:1::5".
        for pod in self.c.pods_by_ip.get(names.decode_pod_label(label), []):
            if pod.namespace == namespace and pod.phase not in ("Succeeded", "Failed", "Unknown"):
                return _Lookup(
                    items=[_Item(host=ip, port=0, target=self.name, source=pod.ref, rule="R30")],
                    rules=["R30"],
                    why=f"pods verified: pod {pod.name} in {namespace} has primary IP {ip}",
                )
        return _nx("R30", f"pods verified: no running pod in {namespace} has primary IP {ip}")

    def find_service(
        self,
        namespace: str,
        name: str,
        endpoint: str,
        port: str,
        proto: str,
        zonal: tuple[str, str] | None,
    ) -> _Lookup:
        """Service, endpoint and port names (rules 12-26, 40-42)."""
        if not name:
            return _Lookup(rules=["R33"], why=f"namespace {namespace} exists; no data at its name")
        svc = self.c.service(namespace, name)
        if svc is None:
            return _nx("R23", f"no Service {name!r} in namespace {namespace}")
        ready = self.c.ready_endpoints(namespace, name)
        if self.s.ignore_empty_service and not svc.is_headless and not svc.is_external_name:
            if not ready:
                return _nx(
                    "R40",
                    f"Service {namespace}/{name} has no ready endpoints and the Corefile "
                    "sets ignore empty_service",
                )
        if svc.is_external_name:
            if endpoint or port or zonal:
                return _nx("R25", f"ExternalName Service {namespace}/{name} has no names below it")
            target = names.canonical_ip(svc.external_name)
            if target is not None or not svc.external_name:
                return _nx(
                    "R26",
                    f"ExternalName Service {namespace}/{name} names an IP address "
                    f"({svc.external_name!r}), which yields no record",
                )
            host = svc.external_name.rstrip(".").lower() + "."
            return _Lookup(
                items=[_Item(host=host, port=0, target=host, source=svc.ref, rule="R24")],
                rules=["R24"],
                why=f"ExternalName Service {namespace}/{name} is a CNAME to {host}",
            )
        base = names.under(self.zone, f"{name}.{namespace}.svc")
        if zonal is not None:
            return self._zonal(svc, ready, zonal, base)
        if endpoint and not svc.is_headless and not self.s.clusterip_endpoint_names:
            # Rule 15 is a CoreDNS extension: kube-dns and Cloud DNS (hsvc.core.flavour)
            # serve endpoint names only under headless Services.
            return _nx(
                "R15",
                f"{_server(self.s)} serves endpoint names only under headless Services; "
                f"{namespace}/{name} is a ClusterIP Service",
            )
        if svc.is_headless or endpoint:
            rule = "R17" if endpoint else "R16"
            if endpoint and not svc.is_headless:
                rule = "R15"
            if port:
                rule = "R18"
            items = []
            named = self.c.endpoints_by_name.get((namespace, name, endpoint), [])
            for ep in named if endpoint else ready:
                target = f"{ep.name}.{base}"
                for p in ep.ports or (EndpointPort(port=NO_PORT),):
                    if not _port_matches(port, proto, p.name, p.protocol):
                        continue
                    number = p.port if p.port is not None else NO_PORT
                    items.append(
                        _Item(
                            host=ep.address, port=number, target=target, source=ep.source, rule=rule
                        )
                    )
            if items:
                return _Lookup(
                    items=items, rules=[rule, "R2", "R6"], why=self._ep_why(svc, endpoint)
                )
            if not ready:
                why = (
                    f"Service {namespace}/{name} has no ready endpoint"
                    if svc.is_headless or not endpoint
                    else f"no ready endpoint of Service {namespace}/{name} is named {endpoint!r}"
                )
                return _nx(rule if endpoint else "R16", why)
            if endpoint:
                return _nx(
                    rule, f"no ready endpoint of Service {namespace}/{name} is named {endpoint!r}"
                )
            return _nx(
                "R18",
                f"no port named {port!r} with protocol {proto!r} "
                f"in the slices of {namespace}/{name}",
            )
        items = []
        rule = "R13" if port else "R12"
        for sp in svc.ports:
            if not _port_matches(port, proto, sp.name, sp.protocol):
                continue
            for ip in svc.cluster_ips:
                canon = names.canonical_ip(ip)
                if canon is not None:
                    items.append(
                        _Item(host=canon, port=sp.port, target=base, source=svc.ref, rule=rule)
                    )
        if items:
            return _Lookup(
                items=items,
                rules=[rule],
                why=f"ClusterIP Service {namespace}/{name} answers its cluster IPs",
            )
        if port:
            return _nx(
                "R13",
                f"Service {namespace}/{name} has no port named {port!r} with protocol {proto!r}",
            )
        return _nx("R12", f"Service {namespace}/{name} has no ports, so the plugin finds nothing")

    def _zonal(
        self, svc: Service, ready: list[PublishedEndpoint], zonal: tuple[str, str], base: str
    ) -> _Lookup:
        if not svc.is_headless:
            return _nx("R42", "zone-scoped names exist only for headless Services")
        topo, mode = zonal
        chosen = [ep for ep in ready if ep.zone.lower() == topo]
        if not chosen and mode == "prefer":
            chosen = ready
        # One item per (address, slice port), as for the Service name (rule 18), so SRV
        # on a zonal name lists the slice ports (CoreDNS findServices addForZone).
        items = [
            _Item(
                host=ep.address,
                port=p.port if p.port is not None else NO_PORT,
                target=f"{ep.name}.{base}",
                source=ep.source,
                rule="R42",
            )
            for ep in chosen
            for p in ep.ports or (EndpointPort(port=NO_PORT),)
        ]
        return _Lookup(items=items, exists=True, rules=["R42"], why=f"zonal {mode} for zone {topo}")

    def _ep_why(self, svc: Service, endpoint: str) -> str:
        where = f"{svc.namespace}/{svc.name}"
        if endpoint:
            return f"ready endpoints of Service {where} named {endpoint!r}"
        return f"every ready endpoint of headless Service {where}"

    # ---- per type -------------------------------------------------------------

    def run(self) -> DnsAnswer:
        qtype = self.qtype
        if qtype == "PTR":
            return self.ptr()
        if qtype == "TXT":
            return self.txt()
        if qtype == "SOA":
            if self.name == self.zone:
                return self.positive(
                    [(self.c.soa(self.zone), _apex_ref(self.zone), "R32")], ["R32"]
                )
            # dns-records.md rules 32/46 say "NODATA if the name exists"; CoreDNS's
            # handler.go answers SOA only at the apex and never looks other names up,
            # so SOA below the apex is NODATA even for absent names. We follow CoreDNS.
            self.rules.extend(["R32", "R46"])
            return self.negative(Rcode.NOERROR, "SOA exists only at the zone apex")
        if qtype in ("AXFR", "IXFR"):
            # Rule 46: the kubernetes plugin refuses zone transfers (handler.go); only
            # the transfer plugin, which hsvc does not model, could allow them.
            return DnsAnswer(
                name=self.name,
                type=qtype,
                rcode=Rcode.REFUSED,
                rules=("R46",),
                explanation="REFUSED: zone transfers need the transfer plugin",
            )
        if qtype == "NS" and self.name == self.zone:
            return self.ns()
        found = self.lookup(self.name)
        self.rules.extend(found.rules)
        if found.nxdomain:
            return self.negative(Rcode.NXDOMAIN, found.why)
        if qtype in ("A", "AAAA"):
            return self.address(found, qtype)
        if qtype == "SRV":
            return self.srv(found)
        if qtype == "CNAME":
            if found.items and names.canonical_ip(found.items[0].host) is None:
                item = found.items[0]
                rec = Record(name=self.name, type="CNAME", ttl=self.s.ttl, data=item.host)
                return self.positive([(rec, item.source, "R24")], ["R24"])
            return self.negative(
                Rcode.NOERROR, f"{found.why}; CNAME exists only for ExternalName Services (rule 46)"
            )
        # Rule 46: any other type is NODATA where the name exists.
        self.rules.append("R46")
        return self.negative(Rcode.NOERROR, f"{found.why}; no {qtype} records exist in cluster DNS")

    def address(self, found: _Lookup, qtype: str) -> DnsAnswer:
        family = 4 if qtype == "A" else 6
        out: list[tuple[Record, ObjectRef, str]] = []
        seen: set[str] = set()
        open_ended = False
        for item in found.items:
            if names.canonical_ip(item.host) is None:
                # ExternalName: the CNAME first, then the target's records (rule 25).
                chain, open_ended = self.cname_chain(item, qtype)
                out.extend(chain)
                continue
            if names.ip_family(item.host) != family or item.host in seen:
                continue
            seen.add(item.host)  # the server deduplicates the message (rule 16)
            out.append(
                (
                    Record(name=self.name, type=qtype, ttl=self.s.ttl, data=item.host),
                    item.source,
                    item.rule,
                )
            )
        if not out:
            if self.name != self.zone and any(
                names.canonical_ip(i.host) is not None for i in found.items
            ):
                other = "AAAA" if qtype == "A" else "A"
                return self.negative(Rcode.NOERROR, f"{found.why}, but only {other} addresses")
            return self.negative(Rcode.NOERROR, found.why, open_ended=open_ended)
        return self.positive(out, found.rules, why=found.why, open_ended=open_ended)

    def cname_chain(
        self, item: _Item, qtype: str
    ) -> tuple[list[tuple[Record, ObjectRef, str]], bool]:
        """Follow an ExternalName CNAME as the plugin does (rule 25)."""
        self.rules.append("R25")
        target = item.host
        cname = (
            Record(name=self.name, type="CNAME", ttl=self.s.ttl, data=target),
            item.source,
            "R24",
        )
        if target == self.name:
            return [], False  # a CNAME loop is dropped
        zone = self.c.zone_of(target)
        if zone is None or zone != self.zone:
            # Outside the zone: the CNAME is returned, the upstream adds the rest.
            self.notes.append(f"records for {target} come from the upstream resolver")
            return [cname], True
        inner = _Answerer(self.c, target, qtype, zone)
        sub = inner.lookup(target)
        if sub.nxdomain:
            return [], False
        nested = inner.address(sub, qtype)
        if not nested.answer:
            return [], nested.open_ended
        chain = [cname]
        for rec, prov in zip(nested.answer, nested.provenance, strict=True):
            chain.append((rec, prov.source, prov.rule))
        return chain, nested.open_ended

    def srv(self, found: _Lookup) -> DnsAnswer:
        items = [i for i in found.items if names.canonical_ip(i.host) is not None]
        if not items:
            return self.negative(Rcode.NOERROR, f"{found.why}; no SRV data at this name (rule 25)")
        # Rule 19: weight floor(100/N) over every candidate, before duplicates collapse.
        weight = max(1, math.floor(100 / len(found.items)))
        self.rules.append("R19")
        records: list[tuple[Record, ObjectRef, str]] = []
        additional: list[Record] = []
        seen_srv: set[tuple[str, int]] = set()
        seen_glue: set[tuple[str, str]] = set()
        for item in items:
            if item.port == NO_PORT:
                continue  # rule 5: a slice without ports gives no SRV
            if not names.fits(item.target):
                # Over 253 characters: no DNS message can carry the target (lint HSVC402).
                continue
            if (item.target, item.port) not in seen_srv:
                seen_srv.add((item.target, item.port))
                data = f"0 {weight} {item.port} {item.target}"
                records.append(
                    (
                        Record(name=self.name, type="SRV", ttl=self.s.ttl, data=data),
                        item.source,
                        _SRV_RULE.get(item.rule, item.rule),
                    )
                )
            if (item.target, item.host) not in seen_glue:
                seen_glue.add((item.target, item.host))
                rtype = "A" if names.ip_family(item.host) == 4 else "AAAA"
                additional.append(
                    Record(name=item.target, type=rtype, ttl=self.s.ttl, data=item.host)
                )
        if not records:
            return self.negative(
                Rcode.NOERROR, f"{found.why}; its slices have no ports, so no SRV (rule 5)"
            )
        rules = [_SRV_RULE.get(r, r) for r in found.rules]
        return self.positive(records, rules, why=found.why, additional=additional)

    def ptr(self) -> DnsAnswer:
        address = names.address_from_reverse(self.name)
        if address is None:
            found = self.lookup(self.name)
            self.rules.extend(found.rules)
            self.rules.append("R37")
            if found.nxdomain:
                return self.negative(Rcode.NXDOMAIN, found.why)
            return self.negative(
                Rcode.NOERROR, f"{found.why}; PTR exists only for full reverse names"
            )
        primary = self.s.primary_zone
        svc = self.c.services_by_ip.get(address)
        svc_ptr = names.under(primary, f"{svc.name}.{svc.namespace}.svc") if svc else ""
        if svc is not None and self._ptr_namespace_ok(svc.namespace) and names.fits(svc_ptr):
            rec = Record(name=self.name, type="PTR", ttl=self.s.ttl, data=svc_ptr)
            return self.positive(
                [(rec, svc.ref, "R35")],
                ["R34", "R35"],
                why=f"{address} is the cluster IP of Service {svc.namespace}/{svc.name}",
            )
        out: list[tuple[Record, ObjectRef, str]] = []
        seen: set[str] = set()
        hidden = 0
        for ns, svc_name, ep in self.c.endpoints_by_ip.get(address, []):
            if not self._ptr_namespace_ok(ns):
                continue
            if not self._ptr_version_ok(ns, svc_name, ep):
                hidden += 1
                continue
            data = names.under(primary, f"{ep.name}.{svc_name}.{ns}.svc")
            if data in seen or not names.fits(data):
                continue  # a name over 253 characters cannot be sent (lint HSVC402)
            seen.add(data)
            out.append(
                (Record(name=self.name, type="PTR", ttl=self.s.ttl, data=data), ep.source, "R36")
            )
        if out:
            return self.positive(out, ["R34", "R36"], why=f"{address} is a ready endpoint address")
        self.rules.extend(["R34", "R37"])
        if hidden:
            self.rules.append("R36")
            return self.negative(
                Rcode.NXDOMAIN,
                f"{address} is a ready endpoint address, but {_server(self.s)} answers endpoint "
                "PTRs only for endpoints with a hostname"
                + (" of headless Services" if self.s.ptr_headless_only else ""),
            )
        return self.negative(
            Rcode.NXDOMAIN, f"{address} is neither a cluster IP nor a ready endpoint address"
        )

    def _ptr_version_ok(self, namespace: str, service: str, ep: PublishedEndpoint) -> bool:
        # Rule 36 by version (hsvc.core.flavour): CoreDNS 1.11.4-1.12.0 and kube-dns
        # answer endpoint PTRs only for endpoints with a hostname; kube-dns and Cloud
        # DNS only for headless Services' endpoints.
        if self.s.ptr_hostname_only and not ep.has_hostname:
            return False
        if self.s.ptr_headless_only:
            svc = self.c.service(namespace, service)
            return svc is not None and svc.is_headless
        return True

    def _ptr_namespace_ok(self, namespace: str) -> bool:
        # Rule 39: only the `namespaces` list filters PTRs, not namespace_labels.
        return not self.s.namespaces or self.c.namespace_exposed(namespace)

    def txt(self) -> DnsAnswer:
        rest = names.trim_zone(self.name, self.zone)
        if rest == ["dns-version"]:
            rec = Record(
                name=self.name, type="TXT", ttl=DNS_VERSION_TTL, data=f'"{DNS_SCHEMA_VERSION}"'
            )
            return self.positive(
                [(rec, _apex_ref(self.zone), "R27")], ["R27"], why="the schema version record"
            )
        found = self.lookup(self.name)
        self.rules.extend(found.rules)
        self.rules.append("R45")
        if found.items or found.exists:
            return self.negative(Rcode.NOERROR, f"{found.why}; no TXT records here")
        return self.negative(
            Rcode.NXDOMAIN, found.why + "; TXT on a name without records is NXDOMAIN (quirk)"
        )

    def ns(self) -> DnsAnswer:
        kube_dns = self.c.service("kube-system", "kube-dns")
        self.rules.append("R32")
        if kube_dns is not None and not kube_dns.is_headless:
            target = names.under(self.zone, "kube-dns.kube-system.svc")
            glue = [
                Record(
                    name=target,
                    type="A" if names.ip_family(ip) == 4 else "AAAA",
                    ttl=self.s.ttl,
                    data=ip,
                )
                for ip in kube_dns.cluster_ips
                if names.canonical_ip(ip)
            ]
            rec = Record(name=self.name, type="NS", ttl=self.s.ttl, data=target)
            return self.positive([(rec, kube_dns.ref, "R32")], ["R32"], additional=glue)
        rec = Record(
            name=self.name, type="NS", ttl=self.s.ttl, data=names.under(self.zone, "ns.dns")
        )
        return self.positive([(rec, _apex_ref(self.zone), "R32")], ["R32"], open_ended=False)

    # ---- building the answer ---------------------------------------------------------

    def positive(
        self,
        records: list[tuple[Record, ObjectRef, str]],
        rules: list[str],
        *,
        why: str = "",
        additional: list[Record] | None = None,
        open_ended: bool = False,
    ) -> DnsAnswer:
        all_rules = _unique(self.rules + rules + [r for _, _, r in records] + (["R43"]))
        text = why or ""
        if self.notes:
            text = "; ".join([t for t in [text, *self.notes] if t])
        return DnsAnswer(
            name=self.name,
            type=self.qtype,
            rcode=Rcode.NOERROR,
            answer=tuple(r for r, _, _ in records),
            additional=tuple(additional or ()),
            rules=tuple(all_rules),
            explanation=text,
            provenance=tuple(Provenance(source=s, rule=r) for _, s, r in records),
            open_ended=open_ended,
        )

    def negative(self, rcode: Rcode, why: str, *, open_ended: bool = False) -> DnsAnswer:
        self.rules.append("R44")
        if rcode is Rcode.NXDOMAIN and any(
            names.is_subdomain(self.name, z) for z in self.s.fallthrough
        ):
            # Rule 38: the NXDOMAIN is handed to the next plugin (forward) instead.
            self.rules.append("R38")
            self.notes.append("with fallthrough here, the upstream resolver answers instead")
            open_ended = True
        label = "NXDOMAIN" if rcode is Rcode.NXDOMAIN else "NODATA"
        text = why
        if self.notes:
            text = "; ".join([why, *self.notes])
        return DnsAnswer(
            name=self.name,
            type=self.qtype,
            rcode=rcode,
            authority=(self.c.soa(self.zone),),
            rules=tuple(_unique(self.rules)),
            explanation=f"{label}: {text}" if text else label,
            open_ended=open_ended,
        )


# SRV at a bare Service name is its own rule: all ports of a ClusterIP Service
# (rule 14), all slice ports of a headless one (rule 18).
_SRV_RULE = {"R12": "R14", "R16": "R18"}


def _server(settings: DnsSettings) -> str:
    """``CoreDNS 1.12.0``, ``kube-dns``: the server the version gates are set for."""
    name = "CoreDNS" if settings.dns_flavour == "coredns" else settings.dns_flavour
    return f"{name} {settings.dns_version}" if settings.dns_version else name


def _nx(rule: str, why: str) -> _Lookup:
    return _Lookup(nxdomain=True, rules=[rule], why=why)


def _ns_absent(cluster: ClusterDns, namespace: str) -> str:
    if not namespace:
        return "no namespace in the name"
    if namespace not in cluster.namespaces:
        return f"namespace {namespace!r} does not exist"
    return f"namespace {namespace!r} is not exposed by the Corefile's namespaces/namespace_labels"


def _apex_ref(zone: str) -> ObjectRef:
    return ObjectRef(kind="Zone", namespace="", name=zone)


def _strip_underscore(label: str) -> str:
    return label[1:] if label.startswith("_") else label


def _port_matches(want_port: str, want_proto: str, name: str, protocol: str) -> bool:
    """Match a requested port and protocol; an empty request matches any (as the plugin does)."""
    return (not want_port or want_port == name.lower()) and (
        not want_proto or want_proto == protocol.lower()
    )


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
