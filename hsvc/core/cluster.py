"""What cluster DNS answers: the CoreDNS kubernetes plugin as a pure function, with its reasons.

:class:`ClusterDns` indexes a :class:`~hsvc.core.model.Snapshot` once and then
answers any question the way the plugin would. It follows the plugin's own order
of decisions: parse the name once (:func:`hsvc.core.names.parse_query`, rule 9),
check the namespace (rule 8), find the Service or pod, turn the found items into
records for the asked type, and fall back to NODATA or NXDOMAIN.

Every decision is recorded as a :class:`~hsvc.core.model.Step` in the answer's
``trace``, as it is taken: which object was looked at, which condition held or
failed, which rule. When a name does not answer, the engine goes on to the cause
(which pod, which condition of :mod:`hsvc.core.conditions`), so ``explain``,
resolve's because/broken/fix lines and every must-not-resolve reason are read
from the decision itself and never derived a second time.

Desired state: when the input holds no EndpointSlice at all (manifests, or an
export of pods and Services), the slices the EndpointSlice controller will write
are predicted from the selected pods (rules 3, 4); a Service without a cluster IP
answers an address allocated on create. The answers say which parts were predicted.

Not modelled: records an upstream resolver adds (ExternalName targets outside the
cluster zones, rule 25; fallthrough zones, rule 38; names outside the zones).
Answers that depend on them are marked ``open_ended``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from hsvc.core import conditions, names
from hsvc.core.model import (
    MAX_DESIRED_ORDINALS,
    Deployment,
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
    StatefulSet,
    Step,
)
from hsvc.core.names import NameKind, ParsedName

DNS_SCHEMA_VERSION = "1.1.0"
DNS_VERSION_TTL = 28800  # rule 27: fixed, whatever the ttl knob says
SOA_REFRESH, SOA_RETRY, SOA_EXPIRE = 7200, 1800, 86400
NO_PORT = -1  # the plugin's sentinel for a slice without ports (rule 5)
# What a predicted answer holds where the objects hold no address yet.
ALLOCATED_ON_CREATE = "ClusterIP allocated on create"
ASSIGNED_AT_START = "address assigned when the pod starts"


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
class SliceEndpoint:
    """One address of one slice endpoint, published or not (for causes and must-not-resolve)."""

    namespace: str
    service: str
    name: str  # the label it would be known by (rule 6)
    address: str
    endpoint: Endpoint
    slice: EndpointSlice


@dataclass(frozen=True, slots=True)
class PredictedEndpoint:
    """A slice endpoint the controller will write for a pod whose address is not known yet.

    Desired state: the pod was written without status, or is a StatefulSet pod
    missing from the input (predicted as the controller creates it, rule 21).
    """

    name: str  # its label (rule 6): the hostname when written (rule 4), "" for a dashed IP
    pod: Pod
    predicted_pod: bool  # the pod itself is predicted (not in the input)

    @property
    def subject(self) -> ObjectRef:
        """The object to point at: the pod, or its StatefulSet when the pod is predicted."""
        return (self.pod.owner or self.pod.ref) if self.predicted_pod else self.pod.ref


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
    predicted: list[str] = field(default_factory=list)
    open_ended: bool = False


class ClusterDns:
    """Answer DNS questions from Kubernetes objects, as CoreDNS would.

    Build once per snapshot; every lookup is a dictionary access, so answering
    thousands of questions stays linear in their number.

    Args:
        snapshot: The objects.
        settings: The kubernetes plugin's knobs.
        partial_slices: Only some namespaces' EndpointSlices were read (a scoped
            live read): PTR answers for endpoint addresses may hold more names than
            the engine knows, and are marked open-ended (CoreDNS looks reverse names
            up across every slice, rule 36).
        predict: Treat a snapshot without any EndpointSlice as desired state and
            predict the slices the controller will write (False for a live read,
            where missing slices are a finding).
    """

    def __init__(
        self,
        snapshot: Snapshot,
        settings: DnsSettings,
        *,
        partial_slices: bool = False,
        predict: bool = True,
    ) -> None:
        self.snapshot = snapshot
        self.settings = settings
        self.partial_slices = partial_slices
        self.namespaces: dict[str, Namespace] = {ns.name: ns for ns in snapshot.namespaces}
        sel = settings.labels
        # Rule 1 and the `labels` knob: only matching Services, slices and pods are seen.
        self.services: dict[tuple[str, str], Service] = {
            (s.namespace, s.name): s
            for s in snapshot.services
            if sel is None or sel.matches(s.labels)
        }
        # The slices read, by Service (rule 1), and below the ones DNS answers from
        # (those read, or predicted for desired state).
        self.read_slices: dict[tuple[str, str], list[EndpointSlice]] = defaultdict(list)
        for sl in snapshot.endpoint_slices:
            if sl.service_name and (sel is None or sel.matches(sl.labels)):
                self.read_slices[(sl.namespace, sl.service_name)].append(sl)
        self.slices: dict[tuple[str, str], list[EndpointSlice]] = defaultdict(list)
        for key, found in self.read_slices.items():
            self.slices[key] = list(found)
        # Pods by namespace, hostname, name, any IP and label, for the planner and the
        # explanations: a scan of every pod per name would be quadratic at thousands.
        self.pods_by_namespace: dict[str, list[Pod]] = defaultdict(list)
        self.pods_by_hostname: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        self.pods_by_name: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        self.pods_by_subdomain: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        self.pods_by_any_ip: dict[str, list[Pod]] = defaultdict(list)
        self.pods_by_label: dict[tuple[str, str, str], list[Pod]] = defaultdict(list)
        self._pod_order: dict[int, int] = {}
        for position, pod in enumerate(snapshot.pods):
            self._pod_order[id(pod)] = position
            self.pods_by_namespace[pod.namespace].append(pod)
            self.pods_by_hostname[(pod.namespace, pod.hostname.lower())].append(pod)
            self.pods_by_name[(pod.namespace, pod.name.lower())].append(pod)
            self.pods_by_subdomain[(pod.namespace, pod.subdomain)].append(pod)
            for ip in pod.pod_ips:
                canon = names.canonical_ip(ip)
                self.pods_by_any_ip[canon or ip].append(pod)
            for label_key, value in pod.labels:
                self.pods_by_label[(pod.namespace, label_key, value)].append(pod)
        # Services by namespace, workload templates by label, workloads by name: what
        # the diagnostics read (they keep no index of their own).
        self.services_by_namespace: dict[str, list[Service]] = defaultdict(list)
        for key in sorted(self.services):
            self.services_by_namespace[key[0]].append(self.services[key])
        self.templates_by_label: dict[tuple[str, str, str], list[StatefulSet | Deployment]] = (
            defaultdict(list)
        )
        workloads: list[StatefulSet | Deployment] = [*snapshot.stateful_sets, *snapshot.deployments]
        for workload in workloads:
            for label_key, value in workload.template_labels:
                self.templates_by_label[(workload.namespace, label_key, value)].append(workload)
        # Every address any object holds (pods, cluster IPs, slices): an answer holding
        # another one is stale (HSVC603).
        self.known_addresses = frozenset(
            canon
            for raw in (
                *(ip for p in snapshot.pods for ip in p.pod_ips),
                *(ip for s in snapshot.services for ip in s.cluster_ips),
                *(
                    a
                    for sl in snapshot.endpoint_slices
                    for ep in sl.endpoints
                    for a in ep.addresses
                ),
            )
            if (canon := names.canonical_ip(raw)) is not None
        )
        self.stateful_sets_by_name = {(s.namespace, s.name): s for s in snapshot.stateful_sets}
        self.deployments_by_name = {(d.namespace, d.name): d for d in snapshot.deployments}
        self._selected: dict[tuple[str, str], list[Pod]] = {}
        self._slice_index: dict[tuple[str, str], dict[tuple[str, str], tuple[int, Endpoint]]] = {}
        # Desired state: with no EndpointSlice in the input at all, the slices are
        # what the EndpointSlice controller will write for the selected pods.
        self.predicted_slices: set[tuple[str, str]] = set()
        unreadable = any(u.startswith(("endpointslices", "endpoints")) for u in snapshot.unreadable)
        if predict and not snapshot.endpoint_slices and not unreadable:
            for svc in self.services.values():
                if svc.selector and not svc.is_external_name:
                    predicted = self._predict_slices(svc)
                    if predicted:
                        self.slices[(svc.namespace, svc.name)].extend(predicted)
                    self.predicted_slices.add((svc.namespace, svc.name))
        # Desired state, continued: the pods the slices will hold once they start (pods
        # without status, StatefulSet pods missing from the input), addresses unknown.
        self.predicted_pods: list[Pod] = []
        self.capped_stateful_sets: list[StatefulSet] = []
        self.predicted_endpoints: dict[tuple[str, str], list[PredictedEndpoint]] = defaultdict(list)
        self.predicted_endpoints_by_name: dict[tuple[str, str, str], list[PredictedEndpoint]] = (
            defaultdict(list)
        )
        if self.predicted_slices and not settings.noendpoints:  # rule 41
            self.predicted_pods = self._predict_pods()
            for key in sorted(self.predicted_slices):
                self._predict_unaddressed(self.services[key])
        self.endpoints: dict[tuple[str, str], list[PublishedEndpoint]] = defaultdict(list)
        # (namespace, service, endpoint label): an endpoint name's lookup stays O(1)
        # with thousands of endpoints behind one Service.
        self.endpoints_by_name: dict[tuple[str, str, str], list[PublishedEndpoint]] = defaultdict(
            list
        )
        self.endpoints_by_ip: dict[str, list[tuple[str, str, PublishedEndpoint]]] = defaultdict(
            list
        )
        # Every slice address, published or not: the causes of missing names, and the
        # names that must not resolve.
        self.slice_endpoints: dict[tuple[str, str], list[SliceEndpoint]] = defaultdict(list)
        self.slice_endpoints_by_name: dict[tuple[str, str, str], list[SliceEndpoint]] = defaultdict(
            list
        )
        self.slice_endpoints_by_ip: dict[str, list[SliceEndpoint]] = defaultdict(list)
        if not settings.noendpoints:  # rule 41: slices are not read at all
            for (ns, svc_name), slices in self.slices.items():
                for sl in slices:
                    self._index_slice(ns, svc_name, sl)
        self.services_by_ip: dict[str, Service] = {}
        for s in self.services.values():
            if s.is_headless or s.is_external_name:
                continue
            for ip in s.cluster_ips:
                canon = names.canonical_ip(ip)
                if canon is not None:
                    self.services_by_ip.setdefault(canon, s)
        # Rule 30: CoreDNS indexes only the primary podIP (hostNetwork pods too: the
        # node's IP) of pods the `labels` knob lets through, and compares it to the
        # decoded label as a string, so the index keeps the address as written.
        self.pods_by_ip: dict[str, list[Pod]] = defaultdict(list)
        for pod in snapshot.pods:
            if pod.pod_ips and (sel is None or sel.matches(pod.labels)):
                self.pods_by_ip[pod.pod_ips[0].strip().lower()].append(pod)

    # -- indexing ------------------------------------------------------------

    def _predict_pods(self) -> list[Pod]:
        """The StatefulSet pods missing from the input, as the controller creates them.

        dns-records.md rule 21: pod ``<sts>-<ordinal>`` for ordinals 0 to replicas-1,
        ``spec.hostname`` its name, ``spec.subdomain`` the StatefulSet's serviceName,
        the template's labels. At most :data:`MAX_DESIRED_ORDINALS` per StatefulSet.
        """
        out: list[Pod] = []
        for sts in self.snapshot.stateful_sets:
            if sts.replicas > MAX_DESIRED_ORDINALS:
                self.capped_stateful_sets.append(sts)
            for ordinal in range(min(max(0, sts.replicas), MAX_DESIRED_ORDINALS)):
                name = f"{sts.name}-{ordinal}"
                if self.pods_by_name.get((sts.namespace, name.lower())):
                    continue
                out.append(
                    Pod(
                        namespace=sts.namespace,
                        name=name,
                        labels=sts.template_labels,
                        hostname=name,
                        subdomain=sts.service_name,
                        owner=sts.ref,
                        has_status=False,
                    )
                )
        return out

    def _predict_unaddressed(self, svc: Service) -> None:
        """Index the endpoints ``svc`` will have for pods not started yet (rules 3, 4, 6)."""
        waiting = [
            (p, False)
            for p in self.selected_pods(svc)
            if not p.pod_ips and not p.has_status and not p.is_terminal
        ]
        waiting += [(p, True) for p in self.predicted_pods if conditions.selects(svc, p)]
        for pod, predicted_pod in waiting:
            if not conditions.ready_written(svc, pod):
                continue  # not published once it runs either (rule 3)
            if conditions.hostname_written(svc, pod):
                label = pod.hostname.lower()
            elif self.settings.endpoint_pod_names and 0 < len(pod.name) < 64:
                label = pod.name.lower()
            else:
                label = ""  # the dashed IP, not known before the pod starts
            entry = PredictedEndpoint(name=label, pod=pod, predicted_pod=predicted_pod)
            self.predicted_endpoints[(svc.namespace, svc.name)].append(entry)
            if label:
                self.predicted_endpoints_by_name[(svc.namespace, svc.name, label)].append(entry)

    def _predict_slices(self, svc: Service) -> list[EndpointSlice]:
        """The slices the EndpointSlice controller writes for ``svc`` (rules 3-5)."""
        by_family: dict[int, list[Endpoint]] = defaultdict(list)
        for pod in self.selected_pods(svc):
            if not conditions.in_slices(pod):
                continue
            for ip in pod.pod_ips:
                family = names.ip_family(ip)
                if not family:
                    continue
                by_family[family].append(
                    Endpoint(
                        addresses=(ip,),
                        ready=conditions.ready_written(svc, pod),
                        serving=conditions.serving_written(pod),
                        terminating=conditions.terminating_written(pod),
                        hostname=pod.hostname if conditions.hostname_written(svc, pod) else "",
                        target_ref=pod.ref,
                    )
                )
        ports = tuple(
            EndpointPort(
                name=p.name,
                protocol=p.protocol,
                port=p.target_port if isinstance(p.target_port, int) else p.port,
            )
            for p in svc.ports
        )
        return [
            EndpointSlice(
                namespace=svc.namespace,
                name=f"{svc.name}-predicted-ipv{family}",
                service_name=svc.name,
                address_type=f"IPv{family}",
                endpoints=tuple(eps),
                ports=ports,
            )
            for family, eps in sorted(by_family.items())
        ]

    def _index_slice(self, ns: str, svc_name: str, sl: EndpointSlice) -> None:
        for ep in sl.endpoints:
            for raw in ep.addresses:
                address = names.canonical_ip(raw)
                if address is None:
                    continue
                label = self.endpoint_name(ep.hostname, ep.target_ref, raw)
                entry = SliceEndpoint(
                    namespace=ns,
                    service=svc_name,
                    name=label,
                    address=address,
                    endpoint=ep,
                    slice=sl,
                )
                self.slice_endpoints[(ns, svc_name)].append(entry)
                self.slice_endpoints_by_name[(ns, svc_name, label)].append(entry)
                self.slice_endpoints_by_ip[address].append(entry)
                if not conditions.published(ep):  # rule 2: ready true or absent
                    continue
                published = PublishedEndpoint(
                    name=label,
                    address=address,
                    family=names.ip_family(address),
                    ports=sl.ports,
                    zone=ep.zone,
                    source=ep.target_ref or sl.ref,
                    slice=sl.ref,
                    has_hostname=bool(ep.hostname),
                )
                self.endpoints[(ns, svc_name)].append(published)
                self.endpoints_by_name[(ns, svc_name, label)].append(published)
                self.endpoints_by_ip[address].append((ns, svc_name, published))

    def endpoint_name(self, hostname: str, target_ref: ObjectRef | None, address: str) -> str:
        """Return the label an endpoint is known by (rule 6).

        With ``endpoint_pod_names`` a pod name of 64 characters or more is not used
        (CoreDNS object/endpoint.go drops it): the dashed IP names the endpoint.
        """
        if hostname:
            return hostname.lower()
        if (
            self.settings.endpoint_pod_names
            and target_ref is not None
            and 0 < len(target_ref.name) < 64
        ):
            return target_ref.name.lower()
        return self.dashed(address)

    def dashed(self, address: str) -> str:
        """Return an address as an endpoint label, as the configured server writes it (rule 6)."""
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
        return names.zone_of(qname.lower(), self.settings.zones)

    def parse(self, qname: str) -> ParsedName:
        """Parse a query name as this engine reads it (the one parser, rule 9).

        Raises:
            InvalidName: ``qname`` is not a valid DNS name.
        """
        return names.parse_query(qname, self.settings.zones, zonal=self.settings.zonal)

    # -- answering -------------------------------------------------------------

    def answer(self, qname: str, qtype: str) -> DnsAnswer:
        """Return what cluster DNS answers for ``qname`` / ``qtype``, with its trace.

        Raises:
            InvalidName: ``qname`` is not a valid DNS name.
        """
        return _Answerer(self, self.parse(qname), qtype.upper()).run()

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

    def has_slices(self, namespace: str, service: str) -> bool:
        """Return whether any slice (read or predicted) belongs to the Service (rule 1)."""
        return bool(self.slices.get((namespace, service)))

    def ready_endpoints(self, namespace: str, service: str) -> list[PublishedEndpoint]:
        """Return the published endpoints of a Service (rules 1, 2, 6)."""
        return self.endpoints.get((namespace, service), [])

    def selected_pods(self, svc: Service) -> list[Pod]:
        """Return the pods a Service's selector matches, in its namespace, in snapshot order."""
        key = (svc.namespace, svc.name)
        if key not in self._selected:
            # The pods carrying the selector's rarest label, then the full check.
            candidates = min(
                (self.pods_by_label.get((svc.namespace, k, v), []) for k, v in svc.selector),
                key=len,
                default=[],
            )
            self._selected[key] = [p for p in candidates if conditions.selects(svc, p)]
        return self._selected[key]

    def selected_templates(self, svc: Service) -> list[StatefulSet | Deployment]:
        """Return the StatefulSets and Deployments whose pod template the Service selects."""
        candidates = min(
            (self.templates_by_label.get((svc.namespace, k, v), []) for k, v in svc.selector),
            key=len,
            default=[],
        )
        return [
            w for w in candidates if conditions.selects_labels(svc, w.namespace, w.template_labels)
        ]

    def owner_in_snapshot(self, pod: Pod) -> bool:
        """Whether a StatefulSet or Deployment among the objects made this pod."""
        owner = pod.owner
        if owner is None:
            return False
        if owner.kind == "StatefulSet":
            return (pod.namespace, owner.name) in self.stateful_sets_by_name
        if owner.kind == "ReplicaSet":
            return (pod.namespace, owner.name.rsplit("-", 1)[0]) in self.deployments_by_name
        return False

    def pods_of(self, svc: Service) -> list[Pod]:
        """Return the pods a Service selects or that name it as subdomain, in snapshot order."""
        chosen = {id(p): p for p in self.selected_pods(svc)}
        for pod in self.pods_by_subdomain.get((svc.namespace, svc.name), []):
            chosen.setdefault(id(pod), pod)
        return sorted(chosen.values(), key=lambda p: self._pod_order[id(p)])

    def pod_of(self, ref: ObjectRef | None) -> Pod | None:
        """Return the pod an endpoint's targetRef names, if it is among the objects."""
        if ref is None or ref.kind != "Pod":
            return None
        found = self.pods_by_name.get((ref.namespace, ref.name.lower()), [])
        return found[0] if found else None

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

    def dns_service_addresses(self) -> tuple[list[tuple[str, ObjectRef]], bool]:
        """Return the addresses ``ns.dns.<zone>`` answers, and whether they are known.

        CoreDNS (ns.go) finds the endpoints holding its own pod's IP and answers the
        cluster IPs of their Services (endpoint addresses for headless ones); without
        such an endpoint it answers its own address, which the objects do not hold.
        The DNS pods are taken as the ready endpoints of kube-system/kube-dns.
        """
        dns_svc = self.service("kube-system", "kube-dns")
        if dns_svc is None:
            return [], False
        own = {ep.address for ep in self.ready_endpoints("kube-system", "kube-dns")}
        if not own:
            return [], False
        out: list[tuple[str, ObjectRef]] = []
        for address in sorted(own):
            for ns, svc_name, ep in self.endpoints_by_ip.get(address, []):
                svc = self.service(ns, svc_name)
                if svc is None:
                    continue
                if svc.is_headless:
                    out.append((ep.address, svc.ref))
                    continue
                for ip in svc.cluster_ips:
                    canon = names.canonical_ip(ip)
                    if canon is not None:
                        out.append((canon, svc.ref))
        unique = list(dict.fromkeys(out))
        return unique, True


class _Answerer:
    """One question's walk through the plugin's decisions, recording each one."""

    def __init__(self, cluster: ClusterDns, parsed: ParsedName, qtype: str) -> None:
        self.c = cluster
        self.s = cluster.settings
        self.p = parsed
        self.name = parsed.name  # as spelled: owner names echo the question (rule 10)
        self.qtype = qtype
        self.zone = parsed.zone
        # The zone as spelled in the question: SRV targets end with it (rule 10).
        self.zone_spelled = (
            parsed.name[len(parsed.name) - len(parsed.zone) :] if parsed.zone else ""
        )
        self.rules: list[str] = []
        self.notes: list[str] = []
        self.trace: list[Step] = []
        self.uncertain = ""

    def step(
        self,
        check: str,
        ok: bool,
        detail: str,
        rules: tuple[str, ...] = (),
        fix: str = "",
        subject: ObjectRef | None = None,
    ) -> None:
        self.trace.append(
            Step(check=check, ok=ok, detail=detail, rules=rules, fix=fix, subject=subject)
        )

    def add(self, steps: list[Step]) -> None:
        self.trace.extend(steps)

    def nx(self, rule: str, why: str) -> _Lookup:
        return _Lookup(nxdomain=True, rules=[rule], why=why)

    # ---- the plugin's Records() -------------------------------------------------

    def lookup(self) -> _Lookup:
        """Return the items for the name regardless of type, or a name error."""
        p = self.p
        kind = p.kind
        if kind is NameKind.APEX:
            self.step(
                "name form", True, f"{p.lower} is the zone apex (or svc/pod below it)", ("R32",)
            )
            return _Lookup(rules=["R32"], why=f"{p.lower} exists but holds no records")
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
        is_pod = names.trim_zone(p.lower, self.zone)[-1] == "pod"
        if is_pod and self.s.pods is PodsMode.DISABLED:
            self.step(
                "pods mode",
                False,
                "pod records are disabled in the Corefile (pods disabled, the plugin's default)",
                ("R28",),
                fix="set 'pods insecure' or 'pods verified' in the Corefile's kubernetes block",
            )
            return self.nx("R28", "pod records are disabled (pods disabled, the plugin's default)")
        self.step("namespace", True, f"namespace {namespace} exists", ("R8",))
        if kind is NameKind.NAMESPACE:
            return _Lookup(rules=["R33"], why=f"namespace {namespace} exists; no data at its name")
        if kind is NameKind.POD:
            return self.find_pod()
        return self.find_service()

    def find_pod(self) -> _Lookup:
        """Pod records (rules 28-31); extra labels left of the address are ignored (rule 31)."""
        p = self.p
        label, namespace = p.pod_label, p.namespace
        ip = names.ip_from_pod_label(label)
        if ip is None:
            self.step(
                "pod address",
                False,
                f"{label!r} does not decode to an IP address",
                ("R29",),
                fix="write the pod IP with dashes: 10-244-1-7 (IPv6: fd00--1 for fd00::1)",
            )
            return self.nx("R29", f"{label!r} does not decode to an IP address")
        ref = ObjectRef(kind="Namespace", namespace="", name=namespace)
        if self.s.pods is PodsMode.INSECURE:
            self.step(
                "pod address",
                True,
                f"pods insecure answers {ip} without looking for a pod",
                ("R29",),
            )
            return _Lookup(
                items=[_Item(host=ip, port=0, target=self.name, source=ref, rule="R29")],
                rules=["R29"],
                why=f"pods insecure answers any decodable address ({ip}) without a pod lookup",
            )
        # Verified mode matches the label as decoded, not normalised: a non-compressed
        # IPv6 label ("fd00-1-0-0-0-0-0-5") finds no pod whose podIP reads "fd00:1::5".
        found = [
            pod
            for pod in self.c.pods_by_ip.get(names.decode_pod_label(label), [])
            if pod.namespace == namespace and conditions.verified_pod(pod)
        ]
        stable = [pod for pod in found if not pod.deleting]
        if stable:
            pod = stable[0]
            self.step(
                "pod address",
                True,
                f"pods verified: pod {pod.name} in {namespace} has primary IP {ip}",
                ("R30",),
                subject=pod.ref,
            )
            return _Lookup(
                items=[_Item(host=ip, port=0, target=self.name, source=pod.ref, rule="R30")],
                rules=["R30"],
                why=f"pods verified: pod {pod.name} in {namespace} has primary IP {ip}",
            )
        if found:
            # CoreDNS object/pod.go: a pod first seen with deletionTimestamp set is never
            # stored; one stored before its deletion began stays until it is deleted.
            pod = found[0]
            self.uncertain = (
                f"pod {pod.name} is terminating: a CoreDNS replica that stored it before its "
                f"deletion began answers {ip}, one that first saw it terminating answers "
                "NXDOMAIN (pods verified, rule 30)"
            )
            self.step(
                "pod address",
                True,
                f"pods verified: pod {pod.name} has primary IP {ip} but is terminating: the "
                "answer depends on the replica",
                ("R30",),
                subject=pod.ref,
            )
            return _Lookup(
                items=[_Item(host=ip, port=0, target=self.name, source=pod.ref, rule="R30")],
                rules=["R30"],
                why=self.uncertain,
            )
        other = [pod for pod in self.c.pods_by_any_ip.get(ip, []) if pod.namespace == namespace]
        detail = f"pods verified: no running pod in {namespace} has primary IP {ip}"
        subject = None
        if other:
            pod = other[0]
            subject = pod.ref
            if pod.pod_ips and names.canonical_ip(pod.pod_ips[0]) == ip:
                detail += f" (pod {pod.name} has it, but is {pod.phase or 'not running'})"
            else:
                detail += f" (pod {pod.name} has it as a secondary IP, which is not indexed)"
        self.step(
            "pod address",
            False,
            detail,
            ("R30",),
            fix="check the namespace and the pod IP (kubectl get pods -o wide)",
            subject=subject,
        )
        return self.nx("R30", f"pods verified: no running pod in {namespace} has primary IP {ip}")

    def find_service(self) -> _Lookup:
        """Service, endpoint and port names (rules 12-26, 40-42)."""
        p = self.p
        namespace, name = p.namespace, p.service
        svc = self.c.service(namespace, name)
        if svc is None:
            self.add([self._missing_service_step(namespace, name)])
            return self.nx("R23", f"no Service {name!r} in namespace {namespace}")
        kind_text = (
            "headless"
            if svc.is_headless
            else ("ExternalName" if svc.is_external_name else "ClusterIP")
        )
        self.step(
            "service",
            True,
            f"Service {namespace}/{name} exists ({kind_text})",
            subject=svc.ref,
        )
        below = p.kind in (NameKind.ENDPOINT, NameKind.ZONAL)
        if svc.is_external_name:
            return self._external_name(svc)
        ready = self.c.ready_endpoints(namespace, name)
        if self.s.ignore_empty_service and not svc.is_headless and not ready:
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
        self.add([_headless_step(svc, below or p.kind is NameKind.PORT)])
        base = names.under(self.zone_spelled, f"{name}.{namespace}.svc")
        if p.kind is NameKind.ZONAL:
            return self._zonal(svc, ready, base)
        if (
            p.kind is NameKind.ENDPOINT
            and not svc.is_headless
            and not self.s.clusterip_endpoint_names
        ):
            # Rule 15 is a CoreDNS extension: kube-dns and Cloud DNS (hsvc.core.flavour)
            # serve endpoint names only under headless Services.
            self.step(
                "headless",
                False,
                f"{_server(self.s)} serves endpoint names only under headless Services; "
                f"{namespace}/{name} is a ClusterIP Service",
                ("R15",),
                subject=svc.ref,
            )
            return self.nx(
                "R15",
                f"{_server(self.s)} serves endpoint names only under headless Services; "
                f"{namespace}/{name} is a ClusterIP Service",
            )
        if (svc.is_headless or p.kind is NameKind.ENDPOINT) and self.s.noendpoints:
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
        if svc.is_headless or p.kind is NameKind.ENDPOINT:
            return self._endpoints(svc, ready, base)
        return self._cluster_ip(svc, base)

    def _predicted_note(self, svc: Service) -> list[str]:
        if (svc.namespace, svc.name) in self.c.predicted_slices:
            return [
                "EndpointSlices predicted from the selected pods: the input holds no "
                "EndpointSlice, so the controller's output is assumed"
            ]
        return []

    def _external_name(self, svc: Service) -> _Lookup:
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
        return _Lookup(
            items=[_Item(host=host, port=0, target=host, source=svc.ref, rule="R24")],
            rules=["R24"],
            why=f"ExternalName Service {where} is a CNAME to {host}",
        )

    def _cluster_ip(self, svc: Service, base: str) -> _Lookup:
        p = self.p
        where = f"{svc.namespace}/{svc.name}"
        port, proto = p.port, p.protocol
        rule = "R13" if p.kind is NameKind.PORT else "R12"
        matching = [sp for sp in svc.ports if _port_matches(port, proto, sp.name, sp.protocol)]
        if not matching:
            if p.kind is NameKind.PORT:
                named = sorted(f"_{sp.name}._{sp.protocol.lower()}" for sp in svc.ports if sp.name)
                self.step(
                    "port",
                    False,
                    f"no port named {port!r} with protocol {proto!r} in the Service"
                    + (f" (named ports: {', '.join(named)})" if named else " (no named ports)"),
                    ("R13", "R5"),
                    fix="name the port in the Service spec.ports (SRV names need a port name)",
                    subject=svc.ref,
                )
                return self.nx(
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
            return _Lookup(
                rules=[rule],
                why=f"ClusterIP Service {where} answers the cluster IP allocated on create",
                predicted=[ALLOCATED_ON_CREATE],
                exists=True,
            )
        items = [
            _Item(host=ip, port=sp.port, target=base, source=svc.ref, rule=rule)
            for sp in matching
            for ip in ips
        ]
        return _Lookup(
            items=items,
            rules=[rule],
            why=f"ClusterIP Service {where} answers its cluster IPs",
        )

    def _endpoints(self, svc: Service, ready: list[PublishedEndpoint], base: str) -> _Lookup:
        p = self.p
        namespace, name = svc.namespace, svc.name
        endpoint = p.endpoint if p.kind is NameKind.ENDPOINT else ""
        port, proto = p.port, p.protocol
        rule = "R17" if endpoint else "R16"
        if endpoint and not svc.is_headless:
            rule = "R15"
        if port:
            rule = "R18"
        predicted = self._predicted_note(svc)
        pending = self.c.predicted_endpoints.get((namespace, name), [])
        if pending and not endpoint:
            self.notes.extend(predicted)
            return self._pending(svc, pending, rule)
        if not ready and not endpoint:
            self.add(self._no_ready_steps(svc))
            return self.nx("R16", f"Service {namespace}/{name} has no ready endpoint")
        chosen = (
            self.c.endpoints_by_name.get((namespace, name, endpoint), []) if endpoint else ready
        )
        if endpoint:
            waiting = self.c.predicted_endpoints_by_name.get((namespace, name, endpoint), [])
            if not chosen and waiting:
                self.notes.extend(predicted)
                return self._pending(svc, waiting, rule)
            if not chosen:
                self.add(self._endpoint_cause(svc, endpoint))
                return self.nx(
                    rule, f"no ready endpoint of Service {namespace}/{name} is named {endpoint!r}"
                )
            self.step(
                "endpoint",
                True,
                f"a ready endpoint is named {endpoint!r}",
                ("R6",),
                subject=chosen[0].source,
            )
        items = []
        for ep in chosen:
            target = f"{ep.name}.{base}"
            for sp in ep.ports or (EndpointPort(port=NO_PORT),):
                if not _port_matches(port, proto, sp.name, sp.protocol):
                    continue
                number = sp.port if sp.port is not None else NO_PORT
                items.append(
                    _Item(host=ep.address, port=number, target=target, source=ep.source, rule=rule)
                )
        if not items:
            ports = {(sp.name.lower(), sp.protocol.lower()) for ep in ready for sp in ep.ports}
            named = sorted(f"_{n}._{q}" for n, q in ports if n)
            self.step(
                "port",
                False,
                f"no port named {port!r} with protocol {proto!r} in the ready endpoints' slices"
                + (f" (named ports: {', '.join(named)})" if named else " (no named ports)"),
                ("R18", "R5"),
                fix="name the port in the Service spec.ports (SRV names need a port name)",
                subject=svc.ref,
            )
            return self.nx(
                "R18",
                f"no port named {port!r} with protocol {proto!r} in the slices of "
                f"{namespace}/{name}",
            )
        if port:
            self.step("port", True, f"slice port {port}/{proto} exists", ("R18",), subject=svc.ref)
        why = (
            f"ready endpoints of Service {namespace}/{name} named {endpoint!r}"
            if endpoint
            else f"every ready endpoint of headless Service {namespace}/{name}"
        )
        self.notes.extend(predicted)
        return _Lookup(items=items, rules=[rule, "R2", "R6"], why=why)

    def _pending(self, svc: Service, pending: list[PredictedEndpoint], rule: str) -> _Lookup:
        """Desired state: endpoints of pods not started yet answer, their addresses unknown."""
        where = f"{svc.namespace}/{svc.name}"
        pods = sorted({e.pod.name for e in pending})
        shown = ", ".join(pods[:3]) + (f" and {len(pods) - 3} more" if len(pods) > 3 else "")
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
        return _Lookup(
            rules=[rule, "R21"],
            why=f"Service {where} will answer the endpoint(s) of {shown}",
            predicted=[ASSIGNED_AT_START],
            exists=True,
        )

    def _zonal(self, svc: Service, ready: list[PublishedEndpoint], base: str) -> _Lookup:
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
            _Item(
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
        return _Lookup(
            items=items, exists=True, rules=["R42"], why=f"zonal {mode} for zone {p.topology}"
        )

    # ---- causes: why a name the objects suggest does not exist ------------------------

    def _missing_service_step(self, namespace: str, svc_name: str) -> Step:
        elsewhere = sorted(ns for (ns, n) in self.c.services if n == svc_name and ns != namespace)
        governed = sorted(
            s.name
            for s in self.c.snapshot.stateful_sets
            if s.namespace == namespace and s.service_name == svc_name
        )
        detail = f"no Service {svc_name!r} in namespace {namespace}"
        if elsewhere:
            detail += f" (one exists in {', '.join(elsewhere)}; the name follows its namespace)"
        if governed:
            fix = (
                f"create a headless Service {svc_name!r} in {namespace}: StatefulSet "
                f"{governed[0]} names it as its serviceName"
            )
        elif elsewhere:
            fix = (
                f"ask {svc_name}.{elsewhere[0]}.svc.{self.s.primary_zone}, or create the "
                f"Service in {namespace}"
            )
        else:
            fix = f"check the Service name, or create Service {svc_name!r} in {namespace}"
        return Step(check="service", ok=False, detail=detail, rules=("R23",), fix=fix)

    def _no_ready_steps(self, svc: Service) -> list[Step]:
        """Why a headless Service has no ready endpoint (rules 2, 3, 16)."""
        pods = self.c.selected_pods(svc)
        all_eps = self.c.slice_endpoints.get((svc.namespace, svc.name), [])
        predicted = (svc.namespace, svc.name) in self.c.predicted_slices
        not_ready = [e for e in all_eps if not conditions.published(e.endpoint)]
        rules = ("R16", "R2", "R3")
        if not_ready:
            first = not_ready[0]
            pod = self.c.pod_of(first.endpoint.target_ref)
            who = f"pod {pod.name} ({conditions.pod_state_text(pod)})" if pod else first.address
            detail = (
                f"headless Service has no ready endpoint: {len(not_ready)} endpoint(s) not "
                f"ready, e.g. {who} with {conditions.condition_text(first.endpoint)}; "
                f"publishNotReadyAddresses is {'on' if svc.publish_not_ready_addresses else 'off'}"
            )
            fix = (
                "wait for readiness, or set publishNotReadyAddresses: true when peers must find "
                "each other before they are ready (terminating pods then stay in DNS too)"
            )
        elif not pods and not self.c.pods_by_namespace.get(svc.namespace):
            detail = (
                f"headless Service has no ready endpoint, and no pod of namespace {svc.namespace} "
                "is among the objects read (not created yet, or not in the manifests)"
            )
            fix = "create the workload (or pass its pods with -f) and let the pods become ready"
        elif not pods and svc.selector:
            detail = "headless Service has no ready endpoint: its selector matches no pod"
            fix = "fix the Service selector or the pod labels"
        elif not svc.selector and not all_eps:
            detail = (
                "headless Service has no selector and no EndpointSlice labelled "
                f"kubernetes.io/service-name={svc.name}"
            )
            fix = "write an EndpointSlice for it, or add a selector"
        elif predicted:
            waiting = [p.name for p in pods if not conditions.in_slices(p)]
            not_ready_pods = [
                p.name
                for p in pods
                if conditions.in_slices(p) and not conditions.ready_written(svc, p)
            ]
            if not_ready_pods:
                detail = (
                    f"headless Service has no ready endpoint: the input holds no EndpointSlice, "
                    f"and the selected pods ({', '.join(not_ready_pods[:5])}) are not ready with "
                    "publishNotReadyAddresses off"
                )
            else:
                detail = (
                    "headless Service has no ready endpoint: the input holds no EndpointSlice, "
                    f"and the selected pods have no IP yet ({', '.join(waiting[:5])})"
                )
            fix = "wait for the pods to start and become ready"
        else:
            detail = "headless Service has no ready endpoint in its EndpointSlices"
            fix = "check the EndpointSlices labelled kubernetes.io/service-name=" + svc.name
        return [
            Step(
                check="ready endpoints",
                ok=False,
                detail=detail,
                rules=rules,
                fix=fix,
                subject=svc.ref,
            )
        ]

    def _endpoint_cause(self, svc: Service, label: str) -> list[Step]:
        """Why no ready endpoint of ``svc`` is named ``label`` (rules 2-6, 17, 21-23)."""
        ns = svc.namespace
        where = f"{ns}/{svc.name}"
        # 1. An endpoint has this name but is not published: readiness (rule 2).
        unpublished = [
            e
            for e in self.c.slice_endpoints_by_name.get((ns, svc.name, label), [])
            if not conditions.published(e.endpoint)
        ]
        found_pod = next(
            (
                (p, e)
                for e in unpublished
                if (p := self.c.pod_of(e.endpoint.target_ref)) is not None
            ),
            None,
        )
        if found_pod is not None:
            # The pod is known: walk its conditions (Ready, publishNotReadyAddresses). The
            # subdomain matters only when the slice names the endpoint by its hostname.
            known_pod, known_entry = found_pod
            by_hostname = known_entry.endpoint.hostname.lower() == label
            steps = [
                Step(
                    check="hostname" if by_hostname else "endpoint",
                    ok=True,
                    detail=f"{label!r} is the name of pod {known_pod.name}'s endpoint in "
                    f"Service {where}'s EndpointSlice, which is not published",
                    rules=("R6",),
                    subject=known_pod.ref,
                )
            ]
            for step in conditions.pod_steps(self.c, known_pod, svc, by_hostname=by_hostname):
                steps.append(step)
                if not step.ok:
                    break
            return steps
        if unpublished:
            entry = unpublished[0]
            pod = self.c.pod_of(entry.endpoint.target_ref)
            who = f"pod {pod.name}" if pod else f"the endpoint {entry.address}"
            state = f" ({conditions.pod_state_text(pod)})" if pod else ""
            pnra = "on" if svc.publish_not_ready_addresses else "off"
            return [
                Step(
                    check="endpoint",
                    ok=True,
                    detail=f"{label!r} is the name of {who} in Service {where}'s EndpointSlice",
                    rules=("R6",),
                    subject=pod.ref if pod else entry.slice.ref,
                ),
                Step(
                    check="ready",
                    ok=False,
                    detail=f"{who}{state} is in EndpointSlice {entry.slice.name} with "
                    f"{conditions.condition_text(entry.endpoint)} and publishNotReadyAddresses is "
                    f"{pnra}: CoreDNS publishes only ready endpoints",
                    rules=("R2", "R3", "R17"),
                    fix=(
                        "wait for the readiness probe; if peers must resolve each other before "
                        f"they are ready, set publishNotReadyAddresses: true on Service {svc.name} "
                        "(terminating pods then stay in DNS too)"
                    ),
                    subject=pod.ref if pod else entry.slice.ref,
                ),
            ]
        # 2. A pod has this hostname: a condition on the pod.
        pods = sorted(
            self.c.pods_by_hostname.get((ns, label), []),
            key=lambda p: p.subdomain != svc.name,
        )
        if pods:
            return [
                Step(
                    check="hostname",
                    ok=True,
                    detail=f"no ready endpoint is named {label!r} yet, but pod {pods[0].name} has "
                    f"hostname {label!r}",
                    rules=("R6", "R21"),
                    subject=pods[0].ref,
                ),
                *conditions.pod_steps(self.c, pods[0], svc),
            ]
        # 3. A StatefulSet ordinal that does not exist (yet).
        missing = self._stateful_set_step(svc, label)
        if missing is not None:
            return [missing]
        # 4. The dashed IP of a pod, or a pod name under endpoint_pod_names.
        address = names.ip_from_pod_label(label)
        by_ip = self.c.pods_by_any_ip.get(address, []) if address else []
        by_name = self.c.pods_by_name.get((ns, label), [])
        candidate = next((p for p in [*by_ip, *by_name] if p.namespace == ns), None)
        if candidate is not None:
            steps = [
                Step(
                    check="endpoint",
                    ok=True,
                    detail=f"{label!r} would name pod {candidate.name}",
                    rules=("R6",),
                    subject=candidate.ref,
                )
            ]
            for step in conditions.pod_steps(self.c, candidate, svc, by_hostname=False):
                if step.check in ("endpoint slice", "noendpoints"):
                    break  # listed or not, the label is the question here
                steps.append(step)
                if not step.ok:
                    return steps
            # The pod is listed, ready, but known by another label (rule 6).
            owned = next(
                (
                    e
                    for e in self.c.slice_endpoints.get((ns, svc.name), [])
                    if e.endpoint.target_ref is not None
                    and e.endpoint.target_ref.name == candidate.name
                ),
                None,
            )
            known = owned.name if owned is not None else ""
            if by_name and not self.s.endpoint_pod_names:
                fix = (
                    f"pod {label} has no hostname, so its endpoint is named by its dashed IP"
                    + (f" ({known})" if known else "")
                    + "; give it hostname+subdomain, or enable endpoint_pod_names in the Corefile"
                )
            elif known:
                fix = f"ask {known}.{svc.name}.{ns}.svc.{self.s.primary_zone}"
            else:
                fix = (
                    "per-pod names need spec.hostname + spec.subdomain (StatefulSet pods get both)"
                )
            steps.append(
                Step(
                    check="endpoint",
                    ok=False,
                    detail=f"pod {candidate.name}'s endpoint in Service {where} is named "
                    f"{known or 'otherwise'!r}, not {label!r} (rule 6: hostname, then the pod "
                    "name with endpoint_pod_names, then the dashed IP)",
                    rules=("R6", "R17"),
                    fix=fix,
                    subject=candidate.ref,
                )
            )
            return steps
        return [
            Step(
                check="endpoint",
                ok=False,
                detail=f"no ready endpoint of Service {where} is named {label!r}, "
                f"and no pod in {ns} has hostname {label!r}",
                rules=("R6", "R17", "R21"),
                fix="per-pod names need spec.hostname + spec.subdomain (StatefulSet pods get both)",
                subject=svc.ref,
            )
        ]

    def _stateful_set_step(self, svc: Service, label: str) -> Step | None:
        """Explain ``<sts>-<n>`` when StatefulSet pod ``n`` does not exist."""
        for sts in self.c.snapshot.stateful_sets:
            if sts.namespace != svc.namespace or sts.service_name != svc.name:
                continue
            prefix, _, number = label.rpartition("-")
            if prefix != sts.name.lower() or not number.isdigit():
                continue
            if int(number) >= sts.replicas:
                return Step(
                    check="endpoint",
                    ok=False,
                    detail=f"StatefulSet {sts.name} has {sts.replicas} replica(s), so pod {label} "
                    f"does not exist (ordinals 0 to {sts.replicas - 1})",
                    rules=("R21",),
                    fix=f"kubectl scale statefulset {sts.name} -n {sts.namespace} "
                    f"--replicas={int(number) + 1}",
                    subject=sts.ref,
                )
            return Step(
                check="endpoint",
                ok=False,
                detail=f"pod {label} of StatefulSet {sts.name} does not exist (yet); with "
                "OrderedReady it is created only once the pods before it are ready",
                rules=("R21", "R22"),
                fix=f"kubectl describe statefulset {sts.name} -n {sts.namespace}",
                subject=sts.ref,
            )
        return None

    def _ptr_cause(self, address: str) -> list[Step]:
        """Why an address has no PTR (rules 35-37)."""
        upstream = any(names.is_subdomain(self.p.lower, z) for z in self.s.fallthrough)
        tail = "; with fallthrough, the upstream resolver answers instead" if upstream else ""
        unpublished = [
            e
            for e in self.c.slice_endpoints_by_ip.get(address, [])
            if not conditions.published(e.endpoint)
        ]
        if unpublished:
            entry = unpublished[0]
            pod = self.c.pod_of(entry.endpoint.target_ref)
            who = f"pod {pod.name} ({conditions.pod_state_text(pod)})" if pod else address
            return [
                Step(
                    check="ready",
                    ok=False,
                    detail=f"{address} is {who}, in EndpointSlice {entry.slice.name} of Service "
                    f"{entry.namespace}/{entry.service} with "
                    f"{conditions.condition_text(entry.endpoint)}, and no ready endpoint of any "
                    f"Service holds it: PTR exists only for cluster IPs and ready endpoints{tail}",
                    rules=("R2", "R36", "R37"),
                    fix="wait for readiness, or set publishNotReadyAddresses: true on Service "
                    f"{entry.service}",
                    subject=pod.ref if pod else entry.slice.ref,
                )
            ]
        pods = self.c.pods_by_any_ip.get(address, [])
        if pods:
            pod = pods[0]
            state = "" if pod.ready else " (it is not ready)"
            return [
                Step(
                    check="address",
                    ok=False,
                    detail=f"{address} is the IP of pod {pod.namespace}/{pod.name}{state}, which "
                    "is no ready endpoint of any Service: PTR exists only for cluster IPs and "
                    f"ready endpoints{tail}",
                    rules=("R36", "R37"),
                    fix="select the pod with a Service (PTR then names it under that Service)",
                    subject=pod.ref,
                )
            ]
        return [
            Step(
                check="address",
                ok=False,
                detail=f"{address} is neither a cluster IP nor a ready endpoint address{tail}",
                rules=("R37",),
                fix="check the address (kubectl get pods,svc -A -o wide)",
            )
        ]

    # ---- per type -------------------------------------------------------------

    def run(self) -> DnsAnswer:
        p = self.p
        if p.kind is NameKind.OUTSIDE:
            self.step(
                "zone",
                False,
                f"{p.lower} is outside the cluster zones ({', '.join(self.s.zones)}): CoreDNS "
                "hands it to the next plugin (usually forward), which hsvc does not model",
                ("R9",),
                fix="use <service>.<namespace>.svc.<cluster domain>, or check --cluster-domain",
            )
            return DnsAnswer(
                name=self.name,
                type=self.qtype,
                rcode=Rcode.REFUSED,
                rules=("R9",),
                explanation=(
                    f"{p.lower} is outside the zones the kubernetes plugin serves "
                    f"({', '.join(self.s.zones)}); CoreDNS hands it to the next "
                    "plugin (usually forward), which hsvc does not model"
                ),
                open_ended=True,
                trace=tuple(self.trace),
            )
        self.step("zone", True, f"in zone {self.zone}", ("R9",))
        qtype = self.qtype
        if qtype == "PTR":
            return self.ptr()
        if qtype == "TXT":
            return self.txt()
        if qtype == "SOA":
            if p.kind is NameKind.APEX and names.trim_zone(p.lower, self.zone) == []:
                return self.positive(
                    [(self.c.soa(self.zone), _apex_ref(self.zone), "R32")], ["R32"]
                )
            # dns-records.md rules 32/46 say "NODATA if the name exists"; CoreDNS's
            # handler.go answers SOA only at the apex and never looks other names up,
            # so SOA below the apex is NODATA even for absent names. We follow CoreDNS.
            self.rules.extend(["R32", "R46"])
            self.step("type", False, "SOA exists only at the zone apex", ("R32", "R46"))
            return self.negative(Rcode.NOERROR, "SOA exists only at the zone apex")
        if qtype in ("AXFR", "IXFR"):
            # Rule 46: the kubernetes plugin refuses zone transfers (handler.go); only
            # the transfer plugin, which hsvc does not model, could allow them.
            self.step("type", False, "zone transfers need the transfer plugin", ("R46",))
            return DnsAnswer(
                name=self.name,
                type=qtype,
                rcode=Rcode.REFUSED,
                rules=("R46",),
                explanation="REFUSED: zone transfers need the transfer plugin",
                trace=tuple(self.trace),
            )
        if qtype == "NS" and p.kind is NameKind.APEX and names.trim_zone(p.lower, self.zone) == []:
            return self.ns()
        if p.kind is NameKind.NS_DNS:
            return self.ns_dns()
        found = self.lookup()
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
            self.step("type", False, "CNAME exists only for ExternalName Services", ("R46",))
            return self.negative(
                Rcode.NOERROR, f"{found.why}; CNAME exists only for ExternalName Services (rule 46)"
            )
        # Rule 46: any other type (MX, HINFO, CAA, ...) is NODATA where the name exists
        # (CoreDNS handler.go asks a fake A question to tell NODATA from NXDOMAIN).
        self.rules.append("R46")
        self.step("type", False, f"cluster DNS serves no {qtype} records", ("R46",))
        return self.negative(Rcode.NOERROR, f"{found.why}; no {qtype} records exist in cluster DNS")

    def address(self, found: _Lookup, qtype: str) -> DnsAnswer:
        family = 4 if qtype == "A" else 6
        out: list[tuple[Record, ObjectRef, str]] = []
        seen: set[str] = set()
        open_ended = found.open_ended
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
        if found.predicted:
            return self.predicted(found, qtype)
        if not out:
            if any(names.canonical_ip(i.host) is not None for i in found.items):
                other = "AAAA" if qtype == "A" else "A"
                self.step(
                    "family",
                    False,
                    f"only {other} addresses at this name",
                    tuple(found.rules[:1]),
                )
                return self.negative(Rcode.NOERROR, f"{found.why}, but only {other} addresses")
            if not self.trace[-1:] or self.trace[-1].ok:
                self.step("data", False, found.why or "no address at this name", tuple(found.rules))
            return self.negative(Rcode.NOERROR, found.why, open_ended=open_ended)
        return self.positive(out, found.rules, why=found.why, open_ended=open_ended)

    def predicted(self, found: _Lookup, qtype: str) -> DnsAnswer:
        """A name that will answer once the API has filled in what the objects lack."""
        self.rules.append("R43")
        what = "; ".join(found.predicted)
        return DnsAnswer(
            name=self.name,
            type=qtype,
            rcode=Rcode.NOERROR,
            rules=tuple(_unique(self.rules + found.rules)),
            explanation=f"{found.why} ({what})",
            open_ended=True,
            trace=tuple(self.trace),
            predicted=tuple(found.predicted),
        )

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
        if target == self.p.lower:
            return [], False  # a CNAME loop is dropped
        zone = self.c.zone_of(target)
        if zone is None or zone != self.zone:
            # Outside the zone: the CNAME is returned, the upstream adds the rest.
            self.notes.append(f"records for {target} come from the upstream resolver")
            return [cname], True
        inner = _Answerer(self.c, self.c.parse(target), qtype)
        sub = inner.lookup()
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
        if found.predicted:
            return self.predicted(found, "SRV")
        if not items:
            self.step("type", False, "no SRV data at this name", ("R25",))
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
            if (item.target.lower(), item.port) not in seen_srv:
                seen_srv.add((item.target.lower(), item.port))
                data = f"0 {weight} {item.port} {item.target}"
                records.append(
                    (
                        Record(name=self.name, type="SRV", ttl=self.s.ttl, data=data),
                        item.source,
                        _SRV_RULE.get(item.rule, item.rule),
                    )
                )
            if (item.target.lower(), item.host) not in seen_glue:
                seen_glue.add((item.target.lower(), item.host))
                rtype = "A" if names.ip_family(item.host) == 4 else "AAAA"
                additional.append(
                    Record(name=item.target, type=rtype, ttl=self.s.ttl, data=item.host)
                )
        if not records:
            self.step("port", False, "the slices have no ports, so no SRV", ("R5",))
            return self.negative(
                Rcode.NOERROR, f"{found.why}; its slices have no ports, so no SRV (rule 5)"
            )
        rules = [_SRV_RULE.get(r, r) for r in found.rules]
        return self.positive(records, rules, why=found.why, additional=additional)

    def ptr(self) -> DnsAnswer:
        p = self.p
        if p.kind is not NameKind.REVERSE:
            # CoreDNS reverse.go: no address in the name, so Records() reads it as a
            # forward name (ns.dns.<zone> PTR is NXDOMAIN: "dns" is neither svc nor pod).
            found = self.lookup()
            self.rules.extend(found.rules)
            self.rules.append("R37")
            if found.nxdomain:
                return self.negative(Rcode.NXDOMAIN, found.why)
            self.step("type", False, "PTR exists only for full reverse names", ("R37",))
            return self.negative(
                Rcode.NOERROR, f"{found.why}; PTR exists only for full reverse names"
            )
        address = p.address
        primary = self.s.primary_zone
        svc = self.c.services_by_ip.get(address)
        svc_ptr = names.under(primary, f"{svc.name}.{svc.namespace}.svc") if svc else ""
        if svc is not None and self._ptr_namespace_ok(svc.namespace) and names.fits(svc_ptr):
            self.step(
                "address",
                True,
                f"{address} is the cluster IP of Service {svc.namespace}/{svc.name}",
                ("R35",),
                subject=svc.ref,
            )
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
        partial = self.c.partial_slices
        if partial:
            self.notes.append(
                "only the EndpointSlices in scope were read: other Services' slices may add "
                "PTR names for this address"
            )
        if out:
            first = self.c.endpoints_by_ip[address][0]
            self.step(
                "address",
                True,
                f"{address} is a ready endpoint of Service {first[0]}/{first[1]}",
                ("R36",),
                subject=first[2].source,
            )
            return self.positive(
                out,
                ["R34", "R36"],
                why=f"{address} is a ready endpoint address",
                open_ended=partial,
            )
        self.rules.extend(["R34", "R37"])
        if hidden:
            self.rules.append("R36")
            why = (
                f"{address} is a ready endpoint address, but {_server(self.s)} answers endpoint "
                "PTRs only for endpoints with a hostname"
                + (" of headless Services" if self.s.ptr_headless_only else "")
            )
            self.step("address", False, why, ("R36",))
            return self.negative(Rcode.NXDOMAIN, why, open_ended=partial)
        self.add(self._ptr_cause(address))
        return self.negative(
            Rcode.NXDOMAIN,
            f"{address} is neither a cluster IP nor a ready endpoint address",
            open_ended=partial,
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
        if self.p.kind is NameKind.DNS_VERSION:
            rec = Record(
                name=self.name, type="TXT", ttl=DNS_VERSION_TTL, data=f'"{DNS_SCHEMA_VERSION}"'
            )
            self.step("name form", True, "the schema version record", ("R27",))
            return self.positive(
                [(rec, _apex_ref(self.zone), "R27")], ["R27"], why="the schema version record"
            )
        # CoreDNS Services(): TXT looks the name up as a forward name, before the
        # ns.dns.<zone> special case, so ns.dns TXT is NXDOMAIN ("dns" is no svc/pod).
        found = self.lookup()
        self.rules.extend(found.rules)
        self.rules.append("R45")
        if found.nxdomain:
            return self.negative(Rcode.NXDOMAIN, found.why)
        if found.items or found.exists:
            self.step("type", False, "no TXT records here", ("R45",))
            return self.negative(Rcode.NOERROR, f"{found.why}; no TXT records here")
        self.step(
            "type",
            False,
            "TXT on a name without records is NXDOMAIN (CoreDNS quirk)",
            ("R45",),
        )
        return self.negative(
            Rcode.NXDOMAIN, found.why + "; TXT on a name without records is NXDOMAIN (quirk)"
        )

    def ns(self) -> DnsAnswer:
        kube_dns = self.c.service("kube-system", "kube-dns")
        self.rules.append("R32")
        self.step("name form", True, "the zone apex: NS names the DNS server", ("R32",))
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

    def ns_dns(self) -> DnsAnswer:
        """``ns.dns.<zone>``: the DNS server's own addresses (CoreDNS ns.go, kubernetes.go).

        dns-records.md names ``ns.dns.<Z>`` only as the NS target and the SOA's
        mname; CoreDNS serves it: A/AAAA answer the cluster IPs of the Services
        whose endpoints hold the DNS pod's IP, every other type is NODATA.
        """
        self.rules.append("R32")
        if self.qtype not in ("A", "AAAA"):
            self.step("type", False, f"ns.dns.{self.zone} holds A/AAAA records only", ("R32",))
            return self.negative(Rcode.NOERROR, f"ns.dns.{self.zone} holds A/AAAA records only")
        found, known = self.c.dns_service_addresses()
        family = 4 if self.qtype == "A" else 6
        if not known:
            self.step(
                "name form",
                True,
                f"ns.dns.{self.zone} answers the DNS server's own address: no kube-dns "
                "endpoint is among the objects, so CoreDNS answers its local IP",
                ("R32",),
            )
            return DnsAnswer(
                name=self.name,
                type=self.qtype,
                rcode=Rcode.NOERROR,
                rules=tuple(_unique([*self.rules, "R43"])),
                explanation="the DNS server's own address (not among the objects)",
                open_ended=True,
                trace=tuple(self.trace),
                predicted=("the DNS server's own IP",),
            )
        out = [
            (Record(name=self.name, type=self.qtype, ttl=self.s.ttl, data=ip), ref, "R32")
            for ip, ref in found
            if names.ip_family(ip) == family
        ]
        self.step(
            "name form",
            True,
            f"ns.dns.{self.zone} answers the addresses of the Services in front of the DNS pods",
            ("R32",),
        )
        if not out:
            self.step("family", False, f"no {self.qtype} address for the DNS Service", ("R32",))
            return self.negative(Rcode.NOERROR, "the DNS Service has no address of this family")
        return self.positive(out, ["R32"], why="the DNS Service's cluster IPs")

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
            trace=tuple(self.trace),
            uncertain=self.uncertain,
        )

    def negative(self, rcode: Rcode, why: str, *, open_ended: bool = False) -> DnsAnswer:
        self.rules.append("R44")
        if rcode is Rcode.NXDOMAIN and any(
            names.is_subdomain(self.p.lower, z) for z in self.s.fallthrough
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
            trace=tuple(self.trace),
        )


# SRV at a bare Service name is its own rule: all ports of a ClusterIP Service
# (rule 14), all slice ports of a headless one (rule 18).
_SRV_RULE = {"R12": "R14", "R16": "R18"}


def _server(settings: DnsSettings) -> str:
    """``CoreDNS 1.12.0``, ``kube-dns``: the server the version gates are set for."""
    name = "CoreDNS" if settings.dns_flavour == "coredns" else settings.dns_flavour
    return f"{name} {settings.dns_version}" if settings.dns_version else name


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


def _ns_absent(cluster: ClusterDns, namespace: str) -> str:
    if not namespace:
        return "no namespace in the name"
    if namespace not in cluster.namespaces:
        return f"namespace {namespace!r} does not exist"
    return f"namespace {namespace!r} is not exposed by the Corefile's namespaces/namespace_labels"


def _apex_ref(zone: str) -> ObjectRef:
    return ObjectRef(kind="Zone", namespace="", name=zone)


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
