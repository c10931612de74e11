"""The records cluster DNS serves for some objects, and the names it must not serve.

:func:`expectations` picks the questions worth asking about a scope (one Service,
a namespace, or everything) and lets :class:`~hsvc.core.cluster.ClusterDns`
answer each one, so the expected records and the answer engine can never
disagree. Positive answers become :class:`ExpectedRecord` rows; names people
expect that do not answer become :class:`NegativeExpectation` rows with the
reason (the first failed step of the engine's trace for that very answer).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from hsvc.core import conditions, names
from hsvc.core.answers import Answerer
from hsvc.core.cluster import ClusterDns
from hsvc.core.dataclass import dataclass
from hsvc.core.explain import reason
from hsvc.core.lookup import SliceEndpoint
from hsvc.core.model import (
    MAX_DESIRED_ORDINALS,
    DnsAnswer,
    ExpectedRecord,
    NegativeExpectation,
    ObjectRef,
    Pod,
    Service,
)
from hsvc.core.names import NameKind
from hsvc.core.text import unique


class Group(StrEnum):
    """How rows are grouped in tables (and the ``group`` field of the JSON)."""

    SERVICE = "service"
    ENDPOINT = "endpoint"
    SRV = "srv"
    PTR = "ptr"
    POD = "pod"
    CLUSTER = "cluster"


GROUP_ORDER = tuple(Group)


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """One question worth asking, what cluster DNS must answer, and why it matters."""

    group: Group
    subject: ObjectRef
    expected: DnsAnswer
    # Set when a name people expect must not answer: the reason, in the words of the fix.
    reason: str = ""

    @property
    def positive(self) -> bool:
        """Whether cluster DNS must answer this question with data."""
        return bool(self.expected.answer)


def expectations(
    cluster: ClusterDns,
    *,
    namespace: str | None = None,
    service: str | None = None,
    traces: bool = True,
) -> list[Expectation]:
    """Return every question about the scope with its expected answer.

    With ``service`` the scope is that Service in ``namespace``; with only
    ``namespace`` every Service in it; with neither, every Service. Every name a
    client could expect for the endpoints and pods the scope mentions is asked in
    every forward zone of the plugin (rule 9): the Service's names, hostname and
    dashed-IP names, PTR and pod records. Those that get no data become
    must-not-resolve rows whose reason is the engine's own trace. With
    ``traces=False`` the expected answers drop their trace once the reason is
    worded (a caller that never explains them again holds far less).
    """
    plan = _Plan(cluster, traces=traces)
    services = [
        s
        for s in cluster.services.values()
        if (namespace is None or s.namespace == namespace)
        and (service is None or s.name == service)
    ]
    services.sort(key=lambda s: (s.namespace, s.name))
    for zone in cluster.settings.forward_zones or (cluster.settings.primary_zone,):
        plan.zone = zone
        for svc in services:
            plan.service(svc)
        if service is None:
            # Slices whose Service is gone still give PTRs (rule 36) and their names
            # under the missing Service must not answer.
            for (ns, svc_name), entries in sorted(cluster.slice_endpoints.items()):
                if (namespace is None or ns == namespace) and cluster.service(ns, svc_name) is None:
                    plan.orphan_slices(ns, svc_name, entries)
            # Pods behind no Service in scope still have pod records (rules 28-30).
            for ns, pods in sorted(cluster.pods_by_namespace.items()):
                if namespace is None or ns == namespace:
                    for pod in pods:
                        plan.pod_records(pod)
        plan.ask(Group.CLUSTER, _zone_ref(zone), names.under(zone, "dns-version"), "TXT")
    # The answers hold their provenance and glue; the engine's tables of them are for planning.
    cluster.provenances.clear()
    cluster.glue_records.clear()
    return plan.done()


def expected_records(items: Iterable[Expectation]) -> list[ExpectedRecord]:
    """Flatten the positive expectations into records with their provenance."""
    out: dict[tuple[str, str, str], ExpectedRecord] = {}
    for exp in items:
        for rec, prov in zip(exp.expected.answer, exp.expected.provenance, strict=True):
            if rec.name != exp.expected.name:
                continue  # the tail of a CNAME chain belongs to its own name
            key = rec.key
            if key in out:
                merged = (*out[key].provenance, prov)
                out[key] = ExpectedRecord(
                    record=rec, group=out[key].group, provenance=tuple(unique(merged))
                )
            else:
                out[key] = ExpectedRecord(record=rec, group=exp.group, provenance=(prov,))
    return list(out.values())


def predicted_expectations(items: Iterable[Expectation]) -> list[NegativeExpectation]:
    """Return the names that will answer once the API fills in what the objects lack.

    Desired state (a Service manifest without clusterIP): the name answers data of
    its type, whose value is not known yet; ``reason`` says which part is predicted.
    """
    return [
        _not_answering(e, "; ".join(e.expected.predicted))
        for e in items
        if e.expected.predicted and not e.expected.answer
    ]


def negative_expectations(items: Iterable[Expectation]) -> list[NegativeExpectation]:
    """Return the expectations that must not answer, with their reasons."""
    return [_not_answering(e, e.reason or e.expected.explanation) for e in items if e.reason]


def _not_answering(e: Expectation, reason: str) -> NegativeExpectation:
    """``e`` as a name that does not answer (yet), and why."""
    return NegativeExpectation(
        name=e.expected.name,
        type=e.expected.type,
        group=e.group,
        source=e.subject,
        rules=e.expected.rules,
        reason=reason,
    )


class _Plan:
    """Collects questions once each, in a stable order."""

    def __init__(self, cluster: ClusterDns, *, traces: bool = True) -> None:
        self.c = cluster
        self.traces = traces
        self.zone = cluster.settings.primary_zone
        self.items: dict[tuple[str, str], Expectation] = {}
        self.parents: dict[str, names.Parent | None] = {}
        # The reverse name of each slice endpoint's address, for the pods holding it.
        self.reverse_names: dict[str, str] = {}

    def ask(
        self,
        group: Group,
        subject: ObjectRef,
        name: str,
        qtype: str,
        *,
        expected_by_people: bool = False,
        above: names.Parent | None = None,
        label: str = "",
        address: str = "",
    ) -> DnsAnswer | None:
        """Add one question; a name people expect that gets no data becomes a must-not-resolve row.

        The row's reason is the first failed step of the engine's trace for it. A name
        built from known parts is read from them (the parse it would get): ``label``
        and a dot before ``above``'s name, or the reverse name of ``address``.
        """
        key = (name, qtype)
        asked = self.items.get(key)  # keys are absolute already: no second reading
        if asked is not None:
            return asked.expected
        try:
            spelled = names.absolute(name)
        except names.InvalidName:
            return None  # e.g. a pod name longer than a DNS label: no one can ask it
        if spelled is not name:  # absolute() hands back a name written as it reads
            key = (spelled, qtype)
            if key in self.items:
                return self.items[key].expected
            above, address, name = None, "", spelled
        if above is not None:
            zones = self.c.settings.zones
            parsed = names.parse_child(above, label, name, zones, zonal=self.c.settings.zonal)
        elif address:
            parsed = names.parse_reverse(address, name, self.c.settings.zones)
        else:
            parsed = self.c.parse_absolute(name)
        if parsed.kind is NameKind.OUTSIDE:
            return None  # e.g. a reverse zone the plugin does not serve (rule 34)
        # ClusterDns.answer_parsed, for the plan's own types
        inquiry = Answerer(self.c, parsed, qtype, keep_trace=self.traces)
        answer, trace = inquiry.run(), inquiry.trace
        why = reason(answer, trace) if expected_by_people and not answer.answer else ""
        self.items[key] = Expectation(group=group, subject=subject, expected=answer, reason=why)
        return answer

    def parent(self, name: str) -> names.Parent | None:
        """The parse of a name the plan builds names below, once (None: parse each one)."""
        if name in self.parents:
            return self.parents[name]
        try:
            valid = names.absolute(name) == name
        except names.InvalidName:
            valid = False
        s = self.c.settings
        found = self.parents[name] = names.parent(name, s.zones, zonal=s.zonal) if valid else None
        return found

    def done(self) -> list[Expectation]:
        order = {g: i for i, g in enumerate(GROUP_ORDER)}
        return sorted(self.items.values(), key=lambda e: order[e.group])

    def service(self, svc: Service) -> None:
        ref = svc.ref
        base = names.under(self.zone, f"{svc.name}.{svc.namespace}.svc")
        if svc.is_external_name:
            self.ask(Group.SERVICE, ref, base, "CNAME", expected_by_people=True)
            return
        ready = self.c.ready_endpoints(svc.namespace, svc.name)
        if svc.is_headless:
            families = {ep.family for ep in ready}
        else:
            families = {names.ip_family(ip) for ip in svc.cluster_ips} - {0}
        for family in sorted(families) or [4]:
            qtype = "A" if family == 4 else "AAAA"
            self.ask(Group.SERVICE, ref, base, qtype, expected_by_people=True)
        # SRV: the bare name over all ports (rule 14/18) and each named port (rules 13/18).
        if svc.ports or any(ep.ports for ep in ready):
            self.ask(Group.SRV, ref, base, "SRV")
        port_names = {(p.name.lower(), p.protocol.lower()) for p in svc.ports if p.name}
        port_names |= {
            (p.name.lower(), p.protocol.lower()) for ep in ready for p in ep.ports if p.name
        }
        for port, proto in sorted(port_names):
            self.ask(Group.SRV, ref, f"_{port}._{proto}.{base}", "SRV", expected_by_people=True)
        if not svc.is_headless:
            for ip in svc.cluster_ips:
                canon = names.canonical_ip(ip)
                if canon is not None:
                    self.ask(Group.PTR, ref, names.reverse_name(canon), "PTR")
        self.reverse_names.clear()  # kept for one Service's names at a time
        self.slice_names(svc.namespace, svc.name, base)
        pods = self.c.pods_of(svc)
        self.per_pod_names(svc, base, pods)
        for pod in pods:
            self.pod_records(pod)

    def slice_names(self, ns: str, svc_name: str, base: str) -> None:
        """Every name an endpoint of the Service's slices could be known by, and its PTR.

        Published endpoints answer under their name (rule 6); the others' names
        (hostname, pod name with endpoint_pod_names, dashed IP) must not (rule 2).
        """
        above = self.parent(base)
        pod_names = self.c.settings.endpoint_pod_names
        for entry in self.c.slice_endpoints.get((ns, svc_name), []):
            ep = entry.endpoint
            subject = ep.target_ref or entry.slice.ref
            qtype = "A" if names.ip_family(entry.address) == 4 else "AAAA"
            labels = {entry.name, self.c.dashed(entry.address)}
            if ep.hostname:
                labels.add(ep.hostname.lower())
            published = conditions.published(ep)
            if ep.target_ref is not None and (pod_names or not published):
                labels.add(ep.target_ref.name.lower())
            for label in sorted(labels):
                name = f"{label}.{base}"
                self.ask(
                    Group.ENDPOINT,
                    subject,
                    name,
                    qtype,
                    expected_by_people=True,
                    above=above,
                    label=label,
                )
            reverse = self.reverse_names[entry.address] = names.reverse_name(entry.address)
            self.ask(
                Group.PTR,
                subject,
                reverse,
                "PTR",
                expected_by_people=not published,
                address=entry.address,
            )

    def orphan_slices(self, ns: str, svc_name: str, entries: list[SliceEndpoint]) -> None:
        """Slices whose Service does not exist: PTRs still answer (rule 36)."""
        base = names.under(self.zone, f"{svc_name}.{ns}.svc")
        for entry in entries:
            subject = entry.endpoint.target_ref or entry.slice.ref
            qtype = "A" if names.ip_family(entry.address) == 4 else "AAAA"
            self.ask(
                Group.ENDPOINT, subject, f"{entry.name}.{base}", qtype, expected_by_people=True
            )
            self.ask(
                Group.PTR,
                subject,
                names.reverse_name(entry.address),
                "PTR",
                expected_by_people=not conditions.published(entry.endpoint),
            )

    def per_pod_names(self, svc: Service, base: str, pods: list[Pod]) -> None:
        """Names people expect for pods, including those that must not exist (rules 21-23).

        ``pods``: the pods the Service selects or that name it as subdomain (``pods_of``).
        """
        for sts in self.c.stateful_sets_by_service.get((svc.namespace, svc.name), []):
            # Pods that exist answer through their own records; names of pods not
            # created yet stop at MAX_DESIRED_ORDINALS (replicas: 100000000).
            for ordinal in range(min(sts.replicas, MAX_DESIRED_ORDINALS)):
                pod_name = f"{sts.name}-{ordinal}"
                if (svc.namespace, pod_name) not in self.c.pods_by_name:
                    self.ask(
                        Group.ENDPOINT, sts.ref, f"{pod_name}.{base}", "A", expected_by_people=True
                    )
        # Only pods the Service selects or that name it as subdomain matter here.
        selects = {id(pod) for pod in self.c.selected_pods(svc)}  # conditions.selects
        asked = self.items
        for pod in pods:
            selected = id(pod) in selects
            families = sorted({names.ip_family(ip) for ip in pod.pod_ips} - {0}) or [4]
            qtypes = _A if families == [4] else ["A" if f == 4 else "AAAA" for f in families]
            labels: list[str] = []
            if pod.hostname and (pod.subdomain == svc.name or selected):
                labels.append(pod.hostname.lower())
            if selected and not pod.hostname:
                # People try <pod-name>.<svc>; without a hostname the endpoint is named
                # by its dashed IP (rule 6) unless endpoint_pod_names is on.
                labels.append(pod.name.lower())
            if selected:
                labels.extend(self.c.dashed(ip) for ip in pod.pod_ips)
            for label in labels:
                name = f"{label}.{base}"
                for qtype in qtypes:
                    if (name, qtype) not in asked:  # most were asked from the slices
                        self.ask(Group.ENDPOINT, pod.ref, name, qtype, expected_by_people=True)
            if selected:
                for ip in pod.pod_ips:
                    canon = names.canonical_ip(ip)
                    if canon is None:
                        continue
                    reverse = self.reverse_names.get(canon) or names.reverse_name(canon)
                    if (reverse, "PTR") not in asked:  # most were asked from the slices
                        self.ask(
                            Group.PTR,
                            pod.ref,
                            reverse,
                            "PTR",
                            expected_by_people=True,
                            address=canon,
                        )

    def pod_records(self, pod: Pod) -> None:
        """``<dashed-ip>.<ns>.pod.<zone>`` for every pod IP, per pods mode (rules 28-30).

        hostNetwork pods are included: insecure answers any address, verified
        indexes ``status.podIP`` (the node's IP). With pods disabled, or for the
        secondary IP under verified, the names must not answer.
        """
        parent = names.under(self.zone, f"{pod.namespace}.pod")
        above = self.parent(parent)
        for ip in pod.pod_ips:
            canon = names.canonical_ip(ip)
            if canon is None:
                continue
            qtype = "A" if names.ip_family(canon) == 4 else "AAAA"
            label = self.c.dashed(canon)
            self.ask(
                Group.POD,
                pod.ref,
                f"{label}.{parent}",
                qtype,
                expected_by_people=True,
                above=above,
                label=label,
            )


_A = ("A",)  # the query types of a pod with IPv4 addresses only (the usual pod)


def _zone_ref(zone: str) -> ObjectRef:
    return ObjectRef(kind="Zone", namespace="", name=zone)


__all__ = [
    "GROUP_ORDER",
    "Expectation",
    "Group",
    "expectations",
    "expected_records",
    "negative_expectations",
    "predicted_expectations",
]
