"""Forward names: the plugin's Records() for Service, endpoint, port and pod names.

:class:`ForwardInquiry` parses nothing itself: it takes the parsed name (rule 9),
checks the namespace (rule 8), finds the Service (rules 12-26, 40-42) or the pod
(rules 28-31) and returns the found items as a :class:`~hsvc.core.lookup.Lookup`,
or a name error with its reason, recording every decision in the trace.
"""

from __future__ import annotations

from functools import partial

from hsvc.core import causes, names, podnames, text
from hsvc.core.clusterindex import ClusterIndex
from hsvc.core.inquiry import Inquiry
from hsvc.core.lookup import (
    ALLOCATED_ON_CREATE,
    ASSIGNED_AT_START,
    NO_PORT,
    Item,
    Lookup,
    PredictedEndpoint,
    PublishedEndpoint,
    port_matches,
    server,
)
from hsvc.core.model import EndpointPort, ObjectRef, PodsMode, Service, Step
from hsvc.core.names import NameKind


class ForwardInquiry(Inquiry):
    """A question's forward lookup: the items a name holds, whatever the type asked."""

    __slots__ = ()

    def lookup(self) -> Lookup:
        """Return the items for the name regardless of type, or a name error."""
        p = self.p
        kind = p.kind
        if kind is NameKind.APEX:
            self.step(
                "name form", True, f"{p.lower} is the zone apex (or svc/pod below it)", ("R32",)
            )
            return Lookup(rules=["R32"], why=f"{p.lower} exists but holds no records")
        if kind in (NameKind.INVALID, NameKind.DNS_VERSION, NameKind.NS_DNS):
            label = names.trim_zone(p.lower, self.zone)[-1]
            self.step(
                "name form",
                False,
                f"the label before {self.zone} must be svc or pod, not {label!r}",
                ("R9",),
                fix="cluster names look like <svc>.<ns>.svc.<zone> or <ip>.<ns>.pod.<zone>",
            )
            return self.nx("R9", f"only svc and pod live under {self.zone}; {p.lower} is neither")
        if kind in (NameKind.REVERSE, NameKind.REVERSE_OTHER):
            self.step(
                "name form",
                False,
                f"{p.lower} is a reverse name: it holds PTR records only",
                ("R34", "R37"),
                fix="ask PTR for a full reverse name (hsvc resolve -t PTR <ip>)",
            )
            return self.nx("R34", f"{p.lower} is a reverse name; only PTR can exist there")
        if kind is NameKind.TOO_LONG:
            # CoreDNS parse.go rejects the name before it looks at any object.
            self.step(
                "name form",
                False,
                f"too many labels before the {'pod address' if p.service == '' else 'Service name'}"
                + ("" if self.s.zonal else " (zone-scoped names need the zonal option)"),
                ("R9", "R42") if p.service else ("R9", "R31"),
            )
            return self.nx("R9", f"{p.lower} has too many labels")
        namespace = p.namespace
        if not self.c.namespace_exposed(namespace):
            exists = namespace in self.c.namespaces
            self.step(
                "namespace",
                False,
                f"namespace {namespace!r} is not exposed by the Corefile"
                if exists
                else f"namespace {namespace!r} does not exist",
                ("R8",),
                fix="add it to the kubernetes plugin's namespaces list"
                if exists
                else "check the namespace part of the name (-n)",
                subject=ObjectRef(kind="Namespace", namespace="", name=namespace),
            )
            return self.nx("R8", _ns_absent(self.c, namespace))
        # <ns>.pod or a pod record (rule 28); the parse put every svc name in other kinds.
        is_pod = kind is NameKind.POD or (
            kind is NameKind.NAMESPACE and names.trim_zone(p.lower, self.zone)[-1] == "pod"
        )
        if is_pod and self.s.pods is PodsMode.DISABLED:
            self.step(
                "pods mode",
                False,
                "pod records are disabled in the Corefile (pods disabled, the plugin's default)",
                ("R28",),
                fix="set 'pods insecure' or 'pods verified' in the Corefile's kubernetes block",
            )
            return self.nx("R28", "pod records are disabled (pods disabled, the plugin's default)")
        self.last_ok = True  # shared steps held; worded only for a kept trace (shared_step)
        if self.keep_trace:
            self.shared_step(("namespace", namespace), _namespace_step, namespace)
        if kind is NameKind.NAMESPACE:
            return Lookup(rules=["R33"], why=f"namespace {namespace} exists; no data at its name")
        if kind is NameKind.POD:
            return self.find_pod()
        return self.find_service()

    def find_pod(self) -> Lookup:
        """Pod records (rules 28-31): :func:`hsvc.core.podnames.find_pod`."""
        return podnames.find_pod(self)

    def find_service(self) -> Lookup:
        """Service, endpoint and port names (rules 12-26, 40-42)."""
        p = self.p
        namespace, name = p.namespace, p.service
        svc = self.c.services.get((namespace, name))  # ClusterIndex.service
        if svc is None:
            self.add([causes.missing_service_step(self.c, namespace, name)])
            return self.nx("R23", f"no Service {name!r} in namespace {namespace}")
        if self.keep_trace:
            self.shared_step(("service", namespace, name), _service_step, svc)
        below = p.kind in (NameKind.ENDPOINT, NameKind.ZONAL)
        if svc.is_external_name:
            return self._external_name(svc)
        ready = self.c.endpoints.get((namespace, name), [])  # ClusterIndex.ready_endpoints
        headless = svc.is_headless
        if self.s.ignore_empty_service and not headless and not ready:
            self.step(
                "ready endpoints",
                False,
                f"Service {namespace}/{name} has no ready endpoint and the Corefile sets "
                "ignore empty_service, so its name is NXDOMAIN",
                ("R40", "R2"),
                fix="make a selected pod ready, or remove 'ignore empty_service'",
                subject=svc.ref,
            )
            return self.nx(
                "R40",
                f"Service {namespace}/{name} has no ready endpoints and the Corefile "
                "sets ignore empty_service",
            )
        below_or_port = below or p.kind is NameKind.PORT
        if self.keep_trace:
            self.shared_step(
                ("headless", namespace, name, below_or_port), _headless_step, svc, below_or_port
            )
        base = names.under(self.zone_spelled, f"{name}.{namespace}.svc")
        if p.kind is NameKind.ZONAL:
            return self._zonal(svc, ready, base)
        if p.kind is NameKind.ENDPOINT and not headless and not self.s.clusterip_endpoint_names:
            # Rule 15 is a CoreDNS extension: kube-dns and Cloud DNS (hsvc.core.flavour)
            # serve endpoint names only under headless Services.
            self.step(
                "headless",
                False,
                f"{server(self.s)} serves endpoint names only under headless Services; "
                f"{namespace}/{name} is a ClusterIP Service",
                ("R15",),
                subject=svc.ref,
            )
            return self.nx(
                "R15",
                f"{server(self.s)} serves endpoint names only under headless Services; "
                f"{namespace}/{name} is a ClusterIP Service",
            )
        if (headless or p.kind is NameKind.ENDPOINT) and self.s.noendpoints:
            self.step(
                "noendpoints",
                False,
                "the Corefile sets noendpoints: slices are not read, so headless Service names "
                "and every name below a Service are NXDOMAIN",
                ("R41",),
                fix="remove noendpoints from the kubernetes block",
                subject=svc.ref,
            )
            return self.nx("R41", "the Corefile sets noendpoints: slices are not read")
        if headless or p.kind is NameKind.ENDPOINT:
            return self._endpoints(svc, ready, base)
        return self._cluster_ip(svc, base)

    def _predicted_note(self, svc: Service) -> list[str]:
        if (svc.namespace, svc.name) in self.c.predicted_slices:
            return [
                "EndpointSlices predicted from the selected pods: the input holds no "
                "EndpointSlice, so the controller's output is assumed"
            ]
        return []

    def _external_name(self, svc: Service) -> Lookup:
        p = self.p
        where = f"{svc.namespace}/{svc.name}"
        if p.kind is not NameKind.SERVICE:
            self.step(
                "name form",
                False,
                "an ExternalName Service has no names below it",
                ("R25",),
                fix="query the Service name itself",
                subject=svc.ref,
            )
            return self.nx("R25", f"ExternalName Service {where} has no names below it")
        target = names.canonical_ip(svc.external_name)
        if target is not None or not svc.external_name:
            self.step(
                "externalName",
                False,
                f"externalName {svc.external_name!r} is an IP address (or empty): no record",
                ("R26",),
                fix="use a ClusterIP Service without selector plus an EndpointSlice for an IP",
                subject=svc.ref,
            )
            return self.nx(
                "R26",
                f"ExternalName Service {where} names an IP address "
                f"({svc.external_name!r}), which yields no record",
            )
        host = svc.external_name.rstrip(".").lower() + "."
        self.step("externalName", True, f"a CNAME to {host}", ("R24",), subject=svc.ref)
        return Lookup(
            items=[Item(host=host, port=0, target=host, source=svc.ref, rule="R24")],
            rules=["R24"],
            why=f"ExternalName Service {where} is a CNAME to {host}",
        )

    def _cluster_ip(self, svc: Service, base: str) -> Lookup:
        p = self.p
        where = f"{svc.namespace}/{svc.name}"
        port, proto = p.port, p.protocol
        rule = "R13" if p.kind is NameKind.PORT else "R12"
        matching = [sp for sp in svc.ports if port_matches(port, proto, sp.name, sp.protocol)]
        if not matching:
            if p.kind is NameKind.PORT:
                named = sorted(f"_{sp.name}._{sp.protocol.lower()}" for sp in svc.ports if sp.name)
                return self._no_such_port(
                    svc,
                    named,
                    "the Service",
                    "R13",
                    f"Service {where} has no port named {port!r} with protocol {proto!r}",
                )
            # CoreDNS findServices makes one item per (port, cluster IP): a Service
            # without ports yields none, so NXDOMAIN. The API requires ports on every
            # Service with a cluster IP, so only a hand-written manifest gets here.
            self.step(
                "port",
                False,
                f"Service {where} has no ports, so the plugin finds nothing (the API requires "
                "ports on a ClusterIP Service)",
                ("R12",),
                fix="add spec.ports",
                subject=svc.ref,
            )
            return self.nx("R12", f"Service {where} has no ports, so the plugin finds nothing")
        ips = [c for c in (names.canonical_ip(ip) for ip in svc.cluster_ips) if c is not None]
        if p.kind is NameKind.PORT:
            self.step("port", True, f"Service port {port}/{proto} exists", (rule,), subject=svc.ref)
        if not ips:
            # Desired state: the API allocates the cluster IP on create.
            self.step(
                "cluster IP",
                True,
                f"Service {where} has no clusterIP yet: the API allocates one on create "
                "(predicted)",
                ("R7", "R12"),
                subject=svc.ref,
            )
            return Lookup(
                rules=[rule],
                why=f"ClusterIP Service {where} answers the cluster IP allocated on create",
                predicted=[ALLOCATED_ON_CREATE],
                exists=True,
            )
        items = [
            Item(host=ip, port=sp.port, target=base, source=svc.ref, rule=rule)
            for sp in matching
            for ip in ips
        ]
        return Lookup(
            items=items,
            rules=[rule],
            why=f"ClusterIP Service {where} answers its cluster IPs",
        )

    def _no_such_port(
        self, svc: Service, named: list[str], place: str, rule: str, why: str
    ) -> Lookup:
        """No port of that name and protocol in ``place`` (rules 5, 13, 18): NXDOMAIN."""
        port, proto = self.p.port, self.p.protocol
        self.step(
            "port",
            False,
            f"no port named {port!r} with protocol {proto!r} in {place}"
            + (f" (named ports: {', '.join(named)})" if named else " (no named ports)"),
            (rule, "R5"),
            fix="name the port in the Service spec.ports (SRV names need a port name)",
            subject=svc.ref,
        )
        return self.nx(rule, why)

    def _endpoints(self, svc: Service, ready: list[PublishedEndpoint], base: str) -> Lookup:
        p = self.p
        namespace, name = svc.namespace, svc.name
        endpoint = p.endpoint if p.kind is NameKind.ENDPOINT else ""
        port, proto = p.port, p.protocol
        rule = "R17" if endpoint else "R16"
        if endpoint and not svc.is_headless:
            rule = "R15"
        if port:
            rule = "R18"
        desired = self.c.predicted_slices or self.c.predicted_endpoints  # else none predicted
        predicted = self._predicted_note(svc) if desired else []
        pending = self.c.predicted_endpoints.get((namespace, name), []) if desired else []
        if pending and not endpoint:
            self.notes.extend(predicted)
            return self._pending(svc, pending, rule)
        if not ready and not endpoint:
            self.add(causes.no_ready_steps(self.c, svc))
            return self.nx("R16", f"Service {namespace}/{name} has no ready endpoint")
        chosen = (
            self.c.endpoints_by_name.get((namespace, name, endpoint), []) if endpoint else ready
        )
        if endpoint:
            by_name = self.c.predicted_endpoints_by_name
            waiting = by_name.get((namespace, name, endpoint), []) if desired else []
            if not chosen and waiting:
                self.notes.extend(predicted)
                return self._pending(svc, waiting, rule)
            if not chosen:
                self.add(
                    causes.endpoint_cause(self.c, svc, endpoint, failed_only=not self.keep_trace)
                )
                return self.nx(
                    rule, f"no ready endpoint of Service {namespace}/{name} is named {endpoint!r}"
                )
            if self.held():
                self.step(
                    "endpoint",
                    True,
                    f"a ready endpoint is named {endpoint!r}",
                    ("R6",),
                    subject=chosen[0].source,
                )
        items: list[Item] = []
        # The port numbers asked for, per ports tuple: a slice's endpoints share theirs.
        numbers: dict[int, tuple[tuple[EndpointPort, ...], list[int]]] = {}
        # An address answer keeps one record per address (rule 16): the items of an
        # endpoint's other ports would be dropped unread, so only SRV gets them all.
        every_port = self.qtype not in ("A", "AAAA")
        for ep in chosen:
            known = numbers.get(id(ep.ports))
            if known is None or known[0] is not ep.ports:
                known = numbers[id(ep.ports)] = self._port_numbers(ep.ports, every_port)
            if known[1]:
                target = f"{ep.name}.{base}"
                for number in known[1]:
                    items.append(_item((ep.address, number, target, ep.source, rule)))
        if not items:
            ports = {(sp.name.lower(), sp.protocol.lower()) for ep in ready for sp in ep.ports}
            named = sorted(f"_{n}._{q}" for n, q in ports if n)
            return self._no_such_port(
                svc,
                named,
                "the ready endpoints' slices",
                "R18",
                f"no port named {port!r} with protocol {proto!r} in the slices of "
                f"{namespace}/{name}",
            )
        if port and self.held():
            self.step("port", True, f"slice port {port}/{proto} exists", ("R18",), subject=svc.ref)
        why = (
            f"ready endpoints of Service {namespace}/{name} named {endpoint!r}"
            if endpoint
            else f"every ready endpoint of headless Service {namespace}/{name}"
        )
        self.notes.extend(predicted)
        return Lookup(items=items, rules=[rule, "R2", "R6"], why=why)

    def _port_numbers(
        self, ports: tuple[EndpointPort, ...], every_port: bool
    ) -> tuple[tuple[EndpointPort, ...], list[int]]:
        """``ports`` and the numbers the name asks for of them, made once per engine."""
        key = (id(ports), self.p.port, self.p.protocol, every_port)
        known = self.c.port_numbers.get(key)
        if known is None or known[0] is not ports:  # the value holds the tuple: ids stay
            wanted = _numbers(ports, self.p.port, self.p.protocol)
            known = self.c.port_numbers[key] = (ports, wanted if every_port else wanted[:1])
        return known

    def _pending(self, svc: Service, pending: list[PredictedEndpoint], rule: str) -> Lookup:
        """Desired state: endpoints of pods not started yet answer, their addresses unknown."""
        where = f"{svc.namespace}/{svc.name}"
        pods = sorted({e.pod.name for e in pending})
        shown = text.and_more(pods, 3)
        missing = sorted({e.pod.name for e in pending if e.predicted_pod})
        origin = (
            "StatefulSet pod(s) not in the input, predicted as the controller creates them"
            if len(missing) == len(pods)
            else "pod(s) without status"
            if not missing
            else "pod(s) without status or not in the input"
        )
        self.step(
            "endpoint",
            True,
            f"endpoint(s) of Service {where} predicted for {shown} ({origin}): the controller "
            "writes them once the pods start; their addresses are not known yet (predicted)",
            ("R3", "R4", "R21"),
            subject=pending[0].subject,
        )
        return Lookup(
            rules=[rule, "R21"],
            why=f"Service {where} will answer the endpoint(s) of {shown}",
            predicted=[ASSIGNED_AT_START],
            exists=True,
        )

    def _zonal(self, svc: Service, ready: list[PublishedEndpoint], base: str) -> Lookup:
        p = self.p
        if not svc.is_headless:
            self.step(
                "zonal",
                False,
                "zone-scoped names exist only for headless Services",
                ("R42",),
                subject=svc.ref,
            )
            return self.nx("R42", "zone-scoped names exist only for headless Services")
        mode = "prefer" if p.prefer else "pin"
        chosen = [ep for ep in ready if ep.zone.lower() == p.topology]
        if not chosen and p.prefer:
            chosen = ready
        # One item per (address, slice port), as for the Service name (rule 18), so SRV
        # on a zonal name lists the slice ports (CoreDNS findServices addForZone).
        items = [
            Item(
                host=ep.address,
                port=sp.port if sp.port is not None else NO_PORT,
                target=f"{ep.name}.{base}",
                source=ep.source,
                rule="R42",
            )
            for ep in chosen
            for sp in ep.ports or (EndpointPort(port=NO_PORT),)
        ]
        self.step(
            "zonal",
            bool(items),
            f"zonal {mode} for zone {p.topology!r}: {len(chosen)} ready endpoint(s)"
            + ("" if items else " in that zone, so the name exists without data (NODATA)"),
            ("R42",),
            subject=svc.ref,
        )
        return Lookup(
            items=items, exists=True, rules=["R42"], why=f"zonal {mode} for zone {p.topology}"
        )


_NO_PORTS = (EndpointPort(port=NO_PORT),)
# An Item from its five fields at once (a headless Service's name makes one per endpoint).
_item = partial(tuple.__new__, Item)


def _numbers(ports: tuple[EndpointPort, ...], port: str, proto: str) -> list[int]:
    """The numbers of the slice ports a name asks for (all when it names none, rule 18)."""
    return [
        sp.port if sp.port is not None else NO_PORT
        for sp in ports or _NO_PORTS
        if port_matches(port, proto, sp.name, sp.protocol)
    ]


def _namespace_step(namespace: str) -> Step:
    return Step(check="namespace", ok=True, detail=f"namespace {namespace} exists", rules=("R8",))


def _service_step(svc: Service) -> Step:
    kind_text = (
        "headless" if svc.is_headless else ("ExternalName" if svc.is_external_name else "ClusterIP")
    )
    return Step(
        check="service",
        ok=True,
        detail=f"Service {svc.namespace}/{svc.name} exists ({kind_text})",
        subject=svc.ref,
    )


def _headless_step(svc: Service, below: bool) -> Step:
    if svc.is_headless:
        detail = (
            "headless: names below it are the ready endpoints' names"
            if below
            else "headless: the name answers the ready endpoint addresses"
        )
        return Step(check="headless", ok=True, detail=detail, rules=("R7", "R16"), subject=svc.ref)
    detail = (
        "not headless: CoreDNS still serves endpoint names under a ClusterIP Service, but the "
        "DNS spec and kube-dns do not"
        if below
        else "not headless: the name answers the cluster IP"
    )
    return Step(
        check="headless",
        ok=True,
        detail=detail,
        rules=("R7", "R15") if below else ("R7", "R12"),
        subject=svc.ref,
    )


def _ns_absent(cluster: ClusterIndex, namespace: str) -> str:
    if not namespace:
        return "no namespace in the name"
    if namespace not in cluster.namespaces:
        return f"namespace {namespace!r} does not exist"
    return f"namespace {namespace!r} is not exposed by the Corefile's namespaces/namespace_labels"
