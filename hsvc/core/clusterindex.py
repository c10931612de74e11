"""The answer engine's indexes: the objects as the kubernetes plugin sees them.

:class:`ClusterIndex` reads a :class:`~hsvc.core.model.Snapshot` once: Services,
slices and pods by every key a question or a diagnostic looks them up by, the
``labels`` / namespace knobs applied (rules 1, 8), and, for desired state, the
slices and pods the controllers will write (rules 3, 4, 21). The questions
themselves are answered by :class:`~hsvc.core.cluster.ClusterDns`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar, cast

from hsvc.core import conditions, names
from hsvc.core.desired import stateful_set_pod
from hsvc.core.lookup import (
    SOA_EXPIRE,
    SOA_REFRESH,
    SOA_RETRY,
    PredictedEndpoint,
    PublishedEndpoint,
    SliceEndpoint,
)
from hsvc.core.model import (
    MAX_DESIRED_ORDINALS,
    Deployment,
    DnsSettings,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Namespace,
    ObjectRef,
    Pod,
    Provenance,
    Record,
    Service,
    Snapshot,
    StatefulSet,
    Step,
)
from hsvc.core.names import ParsedName

K = TypeVar("K")
V = TypeVar("V")


# A slice's ports (held, so the key's id stays theirs) and the port numbers a name asks for.
_PortNumbers = tuple[tuple[EndpointPort, ...], list[int]]


def _settled(index: dict[K, list[V]]) -> dict[K, tuple[V, ...]]:
    """An index built by appending, kept as tuples.

    Most keys have one item, and a one-item tuple is half the memory of a one-item list.
    The values are replaced in place (a second dictionary of every key was a fifth of
    indexing 150,000 pods); a missing key then raises KeyError, as in a plain dict.
    """
    settled = cast(dict[K, tuple[V, ...]], index)
    for key, found in index.items():
        settled[key] = tuple(found)
    if isinstance(index, defaultdict):
        index.default_factory = None
    return settled


def _lower(text: str) -> str:
    """``text`` in lower case, the same string when it is already (one string per key)."""
    return text if text.islower() or not text else text.lower()


class _EndpointIndexes:
    """The slice endpoints by name and address while the slices are read."""

    def __init__(self) -> None:
        self.by_name: dict[tuple[str, str, str], list[PublishedEndpoint]] = defaultdict(list)
        self.by_ip: dict[str, list[tuple[str, str, PublishedEndpoint]]] = defaultdict(list)
        self.slice_by_name: dict[tuple[str, str, str], list[SliceEndpoint]] = defaultdict(list)
        self.slice_by_ip: dict[str, list[SliceEndpoint]] = defaultdict(list)


class _SliceIndex:
    """One Service's slice endpoints in order, by targetRef name and by address."""

    __slots__ = ("by_ip", "by_ref", "endpoints")

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []
        self.by_ref: dict[str, int] = {}  # the first endpoint's position
        self.by_ip: dict[str, int] = {}


class ClusterIndex:
    """The objects indexed the way the CoreDNS kubernetes plugin reads them.

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
        self._index_pods()
        self._index_workloads()
        self._index_predicted(predict=predict)
        self._index_endpoints()

    def _index_pods(self) -> None:
        """Pods by namespace, hostname, name, subdomain, any IP and label."""
        snapshot = self.snapshot
        # Pods by namespace, hostname, name, any IP and label, for the planner and the
        # explanations: a scan of every pod per name would be quadratic at thousands.
        self.pods_by_namespace: dict[str, list[Pod]] = defaultdict(list)
        by_hostname: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        by_name: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        by_subdomain: dict[tuple[str, str], list[Pod]] = defaultdict(list)
        by_any_ip: dict[str, list[Pod]] = defaultdict(list)
        self.pods_by_label: dict[tuple[str, str, str], list[Pod]] = defaultdict(list)
        self._pod_order: dict[int, int] = {}
        for position, pod in enumerate(snapshot.pods):
            self._pod_order[id(pod)] = position
            self.pods_by_namespace[pod.namespace].append(pod)
            by_hostname[(pod.namespace, _lower(pod.hostname))].append(pod)
            by_name[(pod.namespace, _lower(pod.name))].append(pod)
            by_subdomain[(pod.namespace, pod.subdomain)].append(pod)
            for ip in pod.pod_ips:
                canon = names.canonical_ip(ip)
                by_any_ip[canon or ip].append(pod)
            for label_key, value in pod.labels:
                self.pods_by_label[(pod.namespace, label_key, value)].append(pod)
        self.pods_by_hostname = _settled(by_hostname)
        self.pods_by_name = _settled(by_name)
        self.pods_by_subdomain = _settled(by_subdomain)
        self.pods_by_any_ip = _settled(by_any_ip)

    def _index_workloads(self) -> None:
        """Services by namespace, workloads by template label and name, every known address."""
        snapshot = self.snapshot
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
        # (namespace, serviceName): the StatefulSets a Service governs, in snapshot order.
        self.stateful_sets_by_service: dict[tuple[str, str], list[StatefulSet]] = defaultdict(list)
        for sts in snapshot.stateful_sets:
            self.stateful_sets_by_service[(sts.namespace, sts.service_name)].append(sts)
        self.deployments_by_name = {(d.namespace, d.name): d for d in snapshot.deployments}
        self._selected: dict[tuple[str, str], list[Pod]] = {}
        self._soa: dict[str, Record] = {}  # by zone: one SOA record per zone, made once
        # Trace steps that depend only on the objects (a zone, a namespace, a Service),
        # made once for the thousands of questions that take them (hsvc.core.inquiry).
        self.shared_steps: dict[tuple[object, ...], Step] = {}
        self.provenances: dict[tuple[int, str], Provenance] = {}  # hsvc.core.inquiry
        self.glue_records: dict[tuple[str, str], Record] = {}  # SRV glue, hsvc.core.answers
        # A slice's ports and the numbers a name asks for of them (hsvc.core.forward).
        self.port_numbers: dict[tuple[int, str, str, bool], _PortNumbers] = {}
        self._slice_index: dict[tuple[str, str], _SliceIndex] = {}

    def _index_predicted(self, *, predict: bool) -> None:
        """Desired state: the slices and endpoints the controllers will write (rules 3, 4, 21)."""
        snapshot, settings = self.snapshot, self.settings
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

    def _index_endpoints(self) -> None:
        """The endpoints DNS answers from (rules 2, 6), Services by IP, pods by primary IP."""
        snapshot, settings = self.snapshot, self.settings
        sel = self.settings.labels
        self.endpoints: dict[tuple[str, str], list[PublishedEndpoint]] = defaultdict(list)
        # (namespace, service, endpoint label): an endpoint name's lookup stays O(1)
        # with thousands of endpoints behind one Service.
        # Every slice address, published or not: the causes of missing names, and the
        # names that must not resolve.
        self.slice_endpoints: dict[tuple[str, str], list[SliceEndpoint]] = defaultdict(list)
        # (namespace, service, targetRef name): a pod's first endpoint in the Service's slices.
        self.slice_endpoint_of_pod: dict[tuple[str, str, str], SliceEndpoint] = {}
        into = _EndpointIndexes()
        if not settings.noendpoints:  # rule 41: slices are not read at all
            for (ns, svc_name), slices in self.slices.items():
                for sl in slices:
                    self._index_slice(ns, svc_name, sl, into)
        self.endpoints_by_name = _settled(into.by_name)
        self.endpoints_by_ip = _settled(into.by_ip)
        self.slice_endpoints_by_name = _settled(into.slice_by_name)
        self.slice_endpoints_by_ip = _settled(into.slice_by_ip)
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
        by_ip: dict[str, list[Pod]] = defaultdict(list)
        for pod in snapshot.pods:
            if pod.pod_ips and (sel is None or sel.matches(pod.labels)):
                by_ip[pod.pod_ips[0].strip().lower()].append(pod)
        self.pods_by_ip = _settled(by_ip)

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
                out.append(stateful_set_pod(sts, name, has_status=False))
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
                endpoints=tuple(eps),
                ports=ports,
            )
            for family, eps in sorted(by_family.items())
        ]

    def _index_slice(
        self, ns: str, svc_name: str, sl: EndpointSlice, into: _EndpointIndexes
    ) -> None:
        slice_ref = sl.ref  # one reference for every endpoint of the slice
        key = (ns, svc_name)
        for ep in sl.endpoints:
            for raw in ep.addresses:
                address = names.canonical_ip(raw)
                if address is None:
                    continue
                label = self.endpoint_name(ep.hostname, ep.target_ref, raw)
                entry = SliceEndpoint(ns, svc_name, label, address, ep, sl)
                self.slice_endpoints[key].append(entry)
                into.slice_by_name[(ns, svc_name, label)].append(entry)
                into.slice_by_ip[address].append(entry)
                if ep.target_ref is not None:
                    self.slice_endpoint_of_pod.setdefault((ns, svc_name, ep.target_ref.name), entry)
                if not conditions.published(ep):  # rule 2: ready true or absent
                    continue
                published = PublishedEndpoint(
                    label,
                    address,
                    names.ip_family(address),
                    sl.ports,
                    ep.zone,
                    ep.target_ref or slice_ref,
                    slice_ref,
                    bool(ep.hostname),
                )
                self.endpoints[key].append(published)
                into.by_name[(ns, svc_name, label)].append(published)
                into.by_ip[address].append((ns, svc_name, published))

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

    def parse_absolute(self, qname: str) -> ParsedName:
        """:meth:`parse` for a name :func:`~hsvc.core.names.absolute` returned (not read again)."""
        return names.parse_query(
            qname, self.settings.zones, zonal=self.settings.zonal, absolute_name=True
        )

    # -- helpers used by records and diagnostics -----------------------------------

    def soa(self, zone: str) -> Record:
        """Return the SOA record the plugin serves for ``zone`` (rule 44); serial unknown (0)."""
        cached = self._soa.get(zone)
        if cached is None:
            cached = self._soa[zone] = self._make_soa(zone)
        return cached

    def _make_soa(self, zone: str) -> Record:
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
        found = self.pods_by_name.get((ref.namespace, ref.name.lower()), ())
        return found[0] if found else None

    def slice_endpoint(self, namespace: str, service: str, pod: Pod) -> Endpoint | None:
        """Return the first endpoint in the Service's slices that is ``pod`` (targetRef or IP)."""
        index = self._slice_index.get((namespace, service))
        if index is None:
            index = _SliceIndex()
            for sl in self.slices.get((namespace, service), []):
                for ep in sl.endpoints:
                    position = len(index.endpoints)
                    index.endpoints.append(ep)
                    if ep.target_ref is not None:
                        index.by_ref.setdefault(ep.target_ref.name, position)
                    for address in ep.addresses:
                        index.by_ip.setdefault(address, position)
            self._slice_index[(namespace, service)] = index
        # The first in slice order of the endpoints naming the pod or holding one of its IPs.
        first = index.by_ref.get(pod.name)
        for ip in pod.pod_ips:
            found = index.by_ip.get(ip)
            if found is not None and (first is None or found < first):
                first = found
        return index.endpoints[first] if first is not None else None

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
