"""The records cluster DNS serves for some objects, and the names it must not serve.

:func:`expectations` picks the questions worth asking about a scope (one Service,
a namespace, or everything) and lets :class:`~hsvc.core.cluster.ClusterDns`
answer each one, so the expected records and the answer engine can never
disagree. Positive answers become :class:`ExpectedRecord` rows; names people
expect that do not answer become :class:`NegativeExpectation` rows with the
reason (the first broken link of :func:`~hsvc.core.explain.explain_name`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from hsvc.core import names
from hsvc.core.cluster import ClusterDns, PublishedEndpoint
from hsvc.core.explain import explain_name, first_broken, pod_name_link
from hsvc.core.model import (
    DnsAnswer,
    ExpectedRecord,
    NegativeExpectation,
    ObjectRef,
    Pod,
    PodsMode,
    Provenance,
    Service,
)


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
    cluster: ClusterDns, *, namespace: str | None = None, service: str | None = None
) -> list[Expectation]:
    """Return every question about the scope with its expected answer.

    With ``service`` the scope is that Service in ``namespace``; with only
    ``namespace`` every Service in it; with neither, every Service.
    """
    plan = _Plan(cluster)
    services = [
        s
        for s in cluster.services.values()
        if (namespace is None or s.namespace == namespace)
        and (service is None or s.name == service)
    ]
    services.sort(key=lambda s: (s.namespace, s.name))
    pods_by_ns: dict[str, list[Pod]] = defaultdict(list)
    for pod in cluster.snapshot.pods:
        pods_by_ns[pod.namespace].append(pod)
    for svc in services:
        plan.service(svc, pods_by_ns.get(svc.namespace, []))
    if service is None:
        # Pods behind no Service in scope still have pod records (rules 28-30).
        for ns, pods in sorted(pods_by_ns.items()):
            if namespace is None or ns == namespace:
                for pod in pods:
                    plan.pod_records(pod)
    plan.ask(
        Group.CLUSTER,
        _zone_ref(cluster),
        names.under(cluster.settings.primary_zone, "dns-version"),
        "TXT",
    )
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
                    record=rec, group=out[key].group, provenance=_unique(merged)
                )
            else:
                out[key] = ExpectedRecord(record=rec, group=exp.group, provenance=(prov,))
    return list(out.values())


def negative_expectations(items: Iterable[Expectation]) -> list[NegativeExpectation]:
    """Return the expectations that must not answer, with their reasons."""
    return [
        NegativeExpectation(
            name=e.expected.name,
            type=e.expected.type,
            group=e.group,
            source=e.subject,
            rules=e.expected.rules,
            reason=e.reason or e.expected.explanation,
        )
        for e in items
        if e.reason
    ]


class _Plan:
    """Collects questions once each, in a stable order."""

    def __init__(self, cluster: ClusterDns) -> None:
        self.c = cluster
        self.zone = cluster.settings.primary_zone
        self.items: dict[tuple[str, str], Expectation] = {}

    def ask(
        self,
        group: Group,
        subject: ObjectRef,
        name: str,
        qtype: str,
        *,
        expected_by_people: bool | str | Callable[[], str] = False,
    ) -> DnsAnswer | None:
        """Add one question; a name people expect that gets no data becomes a negative row.

        ``expected_by_people`` is True to explain a missing answer with the chain, or
        the reason itself, or a function that words it (called only for a missing answer).
        """
        key = (name, qtype)
        if key in self.items:
            return self.items[key].expected
        try:
            name = names.absolute(name)
        except names.InvalidName:
            return None  # e.g. a pod name longer than a DNS label: no one can ask it
        if self.c.zone_of(name) is None:
            return None  # e.g. a reverse zone the plugin does not serve (rule 34)
        answer = self.c.answer(name, qtype)
        reason = ""
        if expected_by_people and not answer.answer:
            if isinstance(expected_by_people, str):
                reason = expected_by_people
            elif callable(expected_by_people):
                reason = expected_by_people()
            else:
                reason = _reason_for(self.c, name, answer)
        self.items[key] = Expectation(group=group, subject=subject, expected=answer, reason=reason)
        return answer

    def done(self) -> list[Expectation]:
        order = {g: i for i, g in enumerate(GROUP_ORDER)}
        return sorted(self.items.values(), key=lambda e: order[e.group])

    def service(self, svc: Service, ns_pods: list[Pod]) -> None:
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
        self.endpoint_names(svc, ready, base)
        if not svc.is_headless:
            for ip in svc.cluster_ips:
                canon = names.canonical_ip(ip)
                if canon is not None:
                    self.ask(Group.PTR, ref, names.reverse_name(canon), "PTR")
        for ep in ready:
            self.ask(Group.PTR, ep.source, names.reverse_name(ep.address), "PTR")
        self.per_pod_names(svc, ns_pods, base)
        for pod in self.c.pods_of(svc):
            self.pod_records(pod)

    def endpoint_names(self, svc: Service, ready: list[PublishedEndpoint], base: str) -> None:
        seen: set[tuple[str, int]] = set()
        for ep in ready:
            if (ep.name, ep.family) in seen:
                continue
            seen.add((ep.name, ep.family))
            self.ask(
                Group.ENDPOINT, ep.source, f"{ep.name}.{base}", "A" if ep.family == 4 else "AAAA"
            )

    def per_pod_names(self, svc: Service, ns_pods: list[Pod], base: str) -> None:
        """Names people expect for pods, including those that must not exist (rules 21-23)."""
        for sts in self.c.snapshot.stateful_sets:
            if sts.namespace != svc.namespace or sts.service_name != svc.name:
                continue
            for ordinal in range(sts.replicas):
                pod_name = f"{sts.name}-{ordinal}"
                name = f"{pod_name}.{base}"
                if (svc.namespace, pod_name) not in self.c.pods_by_name:
                    missing = f"pod {pod_name} of StatefulSet {sts.name} does not exist (yet)"
                    self.ask(Group.ENDPOINT, sts.ref, name, "A", expected_by_people=missing)
        # Only pods the Service selects or that name it as subdomain matter here.
        selected_ids = {id(p) for p in self.c.selected_pods(svc)}
        for pod in self.c.pods_of(svc):
            selected = id(pod) in selected_ids
            if not pod.hostname:
                if selected and pod.pod_ips and not self.c.settings.endpoint_pod_names:
                    # People try <pod-name>.<svc>; without a hostname the endpoint is
                    # named by its dashed IP (rule 6), so that name must not answer.
                    dashed = names.dashed_ip(pod.pod_ips[0])
                    self.ask(
                        Group.ENDPOINT,
                        pod.ref,
                        f"{pod.name.lower()}.{base}",
                        "A",
                        expected_by_people=(
                            f"pod {pod.name} sets no hostname, so under Service {svc.name} it "
                            f"is named {dashed} (rule 6); per-pod names need hostname+subdomain"
                            " (a StatefulSet) or endpoint_pod_names"
                        ),
                    )
                continue
            if pod.subdomain != svc.name and not selected:
                continue
            name = f"{pod.hostname.lower()}.{base}"
            if (name, "A") in self.items or (name, "AAAA") in self.items:
                continue
            reason = functools.partial(_pod_reason, self.c, pod, svc)
            self.ask(Group.ENDPOINT, pod.ref, name, "A", expected_by_people=reason)

    def pod_records(self, pod: Pod) -> None:
        """``<dashed-ip>.<ns>.pod.<zone>`` (rules 28-30)."""
        mode = self.c.settings.pods
        if mode is PodsMode.DISABLED or pod.host_network:
            return
        ips = pod.pod_ips[:1] if mode is PodsMode.VERIFIED else pod.pod_ips
        for ip in ips:
            canon = names.canonical_ip(ip)
            if canon is None:
                continue
            qtype = "A" if names.ip_family(canon) == 4 else "AAAA"
            self.ask(
                Group.POD,
                pod.ref,
                names.under(self.zone, f"{names.dashed_ip(canon)}.{pod.namespace}.pod"),
                qtype,
            )


def _pod_reason(cluster: ClusterDns, pod: Pod, svc: Service) -> str:
    link = pod_name_link(cluster, pod, svc)
    return f"{link.detail}; {link.fix}" if link.fix else link.detail


def _reason_for(cluster: ClusterDns, name: str, answer: DnsAnswer) -> str:
    if answer.answer:
        return ""
    link = first_broken(explain_name(cluster, name))
    if link is None:
        return answer.explanation
    return f"{link.detail}; {link.fix}" if link.fix else link.detail


def _zone_ref(cluster: ClusterDns) -> ObjectRef:
    return ObjectRef(kind="Zone", namespace="", name=cluster.settings.primary_zone)


def _unique(items: tuple[Provenance, ...]) -> tuple[Provenance, ...]:
    return tuple(dict.fromkeys(items))


__all__ = [
    "GROUP_ORDER",
    "Expectation",
    "Group",
    "expectations",
    "expected_records",
    "negative_expectations",
]
