"""Findings: every misconfiguration that changes what cluster DNS answers, and why a row failed.

:func:`diagnose` reads the objects (a :class:`~hsvc.core.cluster.ClusterDns` over a
Snapshot and the DNS settings) and, after a live comparison, the compared rows. Each
finding has a stable code (documented in docs/reference/findings.md), grouped by theme:

- 1xx StatefulSets and their governing Service (dns-records.md rules 21-23)
- 2xx selection, EndpointSlices and readiness (rules 1-3, 16)
- 3xx ports and SRV names (rules 5, 13, 14, 18)
- 4xx names and hostnames (rules 4, 6, 17, 24-26)
- 5xx DNS settings and the cluster domain (rules 8, 9, 28, 40, 41)
- 6xx live DNS answers (rules 43, 44)
- 7xx names apps use, checked by :mod:`hsvc.core.refcheck` (``--references``)

``observed`` says whether the snapshot is the cluster's state (API) rather than
manifests meant for it: only observed snapshots are expected to hold
EndpointSlices written by the controller, so checks about missing slices run only then.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hsvc.core import compare, names, transport
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import Row
from hsvc.core.dnspath import ResolverPath
from hsvc.core.model import (
    Deployment,
    Finding,
    ObjectRef,
    Pod,
    Rcode,
    Record,
    Service,
    Severity,
    StatefulSet,
    selector_matches,
)
from hsvc.core.refcheck import REFERENCE_CHECKS


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """What one finding code means: its severity, a title and the rules behind it."""

    code: str
    severity: Severity
    title: str
    rules: tuple[str, ...]


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

CHECKS: dict[str, Check] = {
    c.code: c
    for c in (
        # 1xx StatefulSet and its governing Service
        Check(code="HSVC101", severity=_W, title="StatefulSet has no serviceName", rules=("R23",)),
        Check(
            code="HSVC102", severity=_E, title="serviceName names no Service", rules=("R22", "R23")
        ),
        Check(
            code="HSVC103",
            severity=_E,
            title="serviceName names a Service in another namespace only",
            rules=("R4", "R23"),
        ),
        Check(
            code="HSVC104",
            severity=_W,
            title="governing Service is not headless",
            rules=("R15", "R23"),
        ),
        Check(
            code="HSVC105",
            severity=_E,
            title="governing Service is an ExternalName Service",
            rules=("R25",),
        ),
        Check(
            code="HSVC106",
            severity=_E,
            title="governing Service does not select the pod template",
            rules=("R22", "R23"),
        ),
        Check(
            code="HSVC107",
            severity=_I,
            title="other headless Services select the same pods",
            rules=("R6", "R23"),
        ),
        # 2xx selection, endpoints, readiness
        Check(code="HSVC201", severity=_W, title="selector matches no pod", rules=("R3",)),
        Check(
            code="HSVC202", severity=_W, title="Service has no EndpointSlice", rules=("R1", "R16")
        ),
        Check(
            code="HSVC203",
            severity=_W,
            title="Service without selector has no hand-written EndpointSlice",
            rules=("R1", "R16"),
        ),
        Check(
            code="HSVC204",
            severity=_I,
            title="selected pods are not ready, so their names are absent",
            rules=("R2", "R3", "R22"),
        ),
        Check(
            code="HSVC205",
            severity=_W,
            title="OrderedReady StatefulSet waits on a pod whose peers cannot resolve",
            rules=("R3", "R16", "R22"),
        ),
        # 3xx ports
        Check(
            code="HSVC301", severity=_I, title="unnamed Service port", rules=("R13", "R14", "R18")
        ),
        Check(code="HSVC302", severity=_E, title="invalid Service port name", rules=("R13",)),
        Check(
            code="HSVC303",
            severity=_W,
            title="hand-written EndpointSlice ports lack names",
            rules=("R5", "R18"),
        ),
        Check(
            code="HSVC304",
            severity=_I,
            title="headless SRV records carry the target port",
            rules=("R5", "R18"),
        ),
        # 4xx names and hostnames
        Check(code="HSVC401", severity=_E, title="invalid hostname or subdomain", rules=("R4",)),
        Check(code="HSVC402", severity=_E, title="per-pod name too long", rules=("R21", "R22")),
        Check(code="HSVC403", severity=_W, title="subdomain names no Service", rules=("R4", "R23")),
        Check(
            code="HSVC404",
            severity=_W,
            title="several ready pods share one hostname",
            rules=("R17", "R23"),
        ),
        Check(
            code="HSVC405",
            severity=_W,
            title="Deployment template sets a hostname",
            rules=("R17", "R21"),
        ),
        Check(
            code="HSVC406",
            severity=_W,
            title="subdomain without hostname: no per-pod names",
            rules=("R4", "R6"),
        ),
        Check(
            code="HSVC407",
            severity=_I,
            title="hand-written EndpointSlice endpoints lack hostnames",
            rules=("R6",),
        ),
        Check(code="HSVC408", severity=_E, title="externalName is an IP address", rules=("R26",)),
        # 5xx settings and cluster domain
        Check(
            code="HSVC501",
            severity=_W,
            title="hard-coded name in another cluster domain",
            rules=("R9",),
        ),
        Check(
            code="HSVC502",
            severity=_W,
            title="hard-coded pod name while pod records are disabled",
            rules=("R28",),
        ),
        Check(
            code="HSVC503",
            severity=_W,
            title="hostNetwork pod does not use cluster DNS",
            rules=(),
        ),
        Check(
            code="HSVC504",
            severity=_W,
            title="ignore empty_service hides a Service",
            rules=("R40",),
        ),
        Check(
            code="HSVC505", severity=_E, title="noendpoints hides headless Services", rules=("R41",)
        ),
        Check(
            code="HSVC507",
            severity=_W,
            title="names that only CoreDNS serves (portability)",
            rules=("R15", "R36"),
        ),
        Check(
            code="HSVC508",
            severity=_I,
            title="hard-coded cluster domain (portability)",
            rules=("R9",),
        ),
        Check(
            code="HSVC506",
            severity=_W,
            title="namespace not exposed by the Corefile",
            rules=("R8",),
        ),
        # 8xx resolver path and transport (hsvc.core.transport)
        *(
            Check(code=code, severity=sev, title=title, rules=rules)
            for code, (sev, title, rules) in transport.CHECKS.items()
        ),
        # 6xx live DNS
        Check(
            code="HSVC601",
            severity=_I,
            title="NXDOMAIN still cached after the pod became ready",
            rules=("R44",),
        ),
        Check(code="HSVC602", severity=_W, title="DNS servers disagree", rules=("R43",)),
        Check(
            code="HSVC603",
            severity=_W,
            title="answer holds an address no current pod has",
            rules=("R2", "R43"),
        ),
    )
}

# 7xx the names apps use (hsvc.core.refcheck, ``hsvc lint --references``).
CHECKS.update(
    (code, Check(code=code, severity=severity, title=title, rules=rules))
    for code, severity, title, rules in REFERENCE_CHECKS
)

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

# A StatefulSet's name plus "-" and a 10-character hash is the pods'
# controller-revision-hash label value, which must fit 63 characters
# (kubernetes/kubernetes#64023): longer names never get pods.
MAX_STATEFULSET_NAME = 52
# Slices follow a pod's readiness within about a second; allow some slack.
_PROPAGATION_S = 5
_SVC_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?\.)+(svc|pod)\.([a-z0-9.-]+)")


def diagnose(
    cluster: ClusterDns,
    *,
    namespace: str | None = None,
    rows: Sequence[Row] = (),
    observed: bool = False,
    now: datetime | None = None,
    path: ResolverPath | None = None,
    layers: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Return the findings about the objects in scope and, when live, about the rows.

    Args:
        cluster: The answer engine over the snapshot and DNS settings.
        namespace: Only objects in this namespace; None for every namespace.
        rows: Compared rows of a live run (6xx findings come from them).
        observed: The snapshot is the cluster's state, not manifests.
        now: The time of the live run (timezone-aware), for the negative-cache window.
        path: The resolver path found live (the DNS Service, its pods' port), for 8xx.
        layers: Server label -> the layer it stands for ("node-local on node n1"),
            to name the layer that holds a stale answer (HSVC806).

    Returns:
        Findings, errors first, then by code and object.
    """
    d = _Diagnosis(cluster, namespace, observed)
    d.stateful_sets()
    d.services()
    d.pods_and_templates()
    d.shared_hostnames()
    d.settings_checks()
    d.transport(path)
    if rows:
        d.live(rows, now)
        d.live_transport(rows, layers or {})
    return sort_findings(d.found)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Return findings without repeats, errors first, then by code, object and message."""
    return sorted(
        dict.fromkeys(findings),
        key=lambda f: (_SEVERITY_ORDER[f.severity], f.code, str(f.object), f.message),
    )


def has_errors(findings: Iterable[Finding]) -> bool:
    """Return whether any finding is an error (``hsvc lint`` exits 1 then)."""
    return any(f.severity is Severity.ERROR for f in findings)


def _finding(code: str, obj: ObjectRef, message: str, hint: str) -> Finding:
    check = CHECKS[code]
    return Finding(
        code=code,
        severity=check.severity,
        object=obj,
        message=message,
        hint=hint,
        rules=check.rules,
    )


def _labels_text(labels: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels) or "(none)"


def _few(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


class _Diagnosis:
    """The checks, sharing the indexes they need."""

    def __init__(self, cluster: ClusterDns, namespace: str | None, observed: bool) -> None:
        self.c = cluster
        self.snap = cluster.snapshot
        self.s = cluster.settings
        self.ns = namespace
        self.observed = observed
        self.zone = self.s.primary_zone
        self.long_names: set[str] = set()
        self.found: list[Finding] = []
        self.pods_unreadable = any(u.startswith("pods") for u in self.snap.unreadable)
        self.slices_unreadable = any(
            u.startswith(("endpointslices", "endpoints")) for u in self.snap.unreadable
        )
        self.pods_by_ns: dict[str, list[Pod]] = defaultdict(list)
        # Selectors are equality maps: index pods by (namespace, label) to find candidates.
        self.pods_by_label: dict[tuple[str, str, str], list[Pod]] = defaultdict(list)
        for pod in self.snap.pods:
            self.pods_by_ns[pod.namespace].append(pod)
            for key, value in pod.labels:
                self.pods_by_label[(pod.namespace, key, value)].append(pod)
        self.templates_by_label: dict[tuple[str, str, str], list[StatefulSet | Deployment]] = (
            defaultdict(list)
        )
        workloads: list[StatefulSet | Deployment] = [
            *self.snap.stateful_sets,
            *self.snap.deployments,
        ]
        for workload in workloads:
            for key, value in workload.template_labels:
                self.templates_by_label[(workload.namespace, key, value)].append(workload)
        self.services_by_ns: dict[str, list[Service]] = defaultdict(list)
        for (ns, _), svc in sorted(cluster.services.items()):
            self.services_by_ns[ns].append(svc)
        self.sts_names = {(s.namespace, s.name) for s in self.snap.stateful_sets}
        self.deploy_names = {(d.namespace, d.name) for d in self.snap.deployments}

    def add(self, code: str, obj: ObjectRef, message: str, hint: str) -> None:
        self.found.append(_finding(code, obj, message, hint))

    def in_scope(self, namespace: str) -> bool:
        return self.ns is None or namespace == self.ns

    def services_in(self, namespace: str) -> list[Service]:
        return self.services_by_ns.get(namespace, [])

    def selected(self, svc: Service) -> list[Pod]:
        """Return the pods the Service's selector matches (none without a selector)."""
        if not svc.selector:
            return []
        key, value = svc.selector[0]
        return [
            p
            for p in self.pods_by_label.get((svc.namespace, key, value), [])
            if selector_matches(svc.selector, p.labels)
        ]

    def owned_by_workload(self, pod: Pod) -> bool:
        """Whether a StatefulSet or Deployment in the snapshot made this pod (checked there)."""
        owner = pod.owner
        if owner is None:
            return False
        if owner.kind == "StatefulSet":
            return (pod.namespace, owner.name) in self.sts_names
        if owner.kind == "ReplicaSet":
            return (pod.namespace, owner.name.rsplit("-", 1)[0]) in self.deploy_names
        return False

    # ---- 1xx: StatefulSets ----------------------------------------------------------

    def stateful_sets(self) -> None:
        for sts in self.snap.stateful_sets:
            if not self.in_scope(sts.namespace):
                continue
            self.sts_name_length(sts)
            if not sts.service_name:
                self.add(
                    "HSVC101",
                    sts.ref,
                    f"StatefulSet {sts.namespace}/{sts.name} sets no serviceName, so its pods "
                    "get no hostname.subdomain DNS names",
                    "set spec.serviceName to a headless Service that selects the pods "
                    "(serviceName is immutable: recreate the StatefulSet, e.g. with "
                    "kubectl delete --cascade=orphan)",
                )
                continue
            svc = self.c.service(sts.namespace, sts.service_name)
            if svc is None:
                self.missing_governing(sts)
                continue
            self.governing(sts, svc)
            self.other_headless(sts)
            self.ordered_ready(sts, svc)

    def sts_name_length(self, sts: StatefulSet) -> None:
        if len(sts.name) > MAX_STATEFULSET_NAME:
            self.add(
                "HSVC402",
                sts.ref,
                f"StatefulSet name {sts.name!r} has {len(sts.name)} characters: its pods "
                f"cannot be created (the controller-revision-hash label <name>-<hash> "
                f"exceeds 63), so no per-pod name ever exists",
                f"shorten the name to at most {MAX_STATEFULSET_NAME} characters",
            )
            return
        if sts.service_name and sts.replicas > 0:
            longest = f"{sts.name}-{sts.replicas - 1}.{sts.service_name}.{sts.namespace}.svc."
            self.name_length(sts.ref, names.under(self.zone, longest.rstrip(".")))

    def endpoint_name_lengths(self, svc: Service) -> None:
        # An endpoint name is an SRV target and PTR data; over 253 characters no DNS
        # message can carry it, so CoreDNS cannot serve those records.
        for ep in self.c.ready_endpoints(svc.namespace, svc.name):
            name = names.under(self.zone, f"{ep.name}.{svc.name}.{svc.namespace}.svc")
            self.name_length(ep.source, name)

    def name_length(self, obj: ObjectRef, name: str) -> None:
        if name in self.long_names:
            return  # the same name seen from a pod and from its endpoint
        if len(name.rstrip(".")) > names.MAX_NAME:
            self.long_names.add(name)
            self.add(
                "HSVC402",
                obj,
                f"per-pod name {name} has {len(name.rstrip('.'))} characters, over the "
                f"{names.MAX_NAME} a DNS name may have: no client can ask it",
                "shorten the pod hostname, the Service name or the namespace",
            )

    def missing_governing(self, sts: StatefulSet) -> None:
        elsewhere = sorted(
            ns for (ns, name) in self.c.services if name == sts.service_name and ns != sts.namespace
        )
        labels = _labels_text(sts.template_labels)
        create = (
            f"create a headless Service (clusterIP: None) named {sts.service_name!r} in "
            f"namespace {sts.namespace} with selector {labels}"
        )
        if elsewhere:
            self.add(
                "HSVC103",
                sts.ref,
                f"serviceName {sts.service_name!r} of StatefulSet {sts.namespace}/{sts.name} "
                f"names no Service in {sts.namespace}; a Service of that name exists in "
                f"{_few(elsewhere)}, but the governing Service must be in the pods' namespace",
                create + "; a Service in another namespace can never govern these pods",
            )
            return
        self.add(
            "HSVC102",
            sts.ref,
            f"serviceName {sts.service_name!r} of StatefulSet {sts.namespace}/{sts.name} names "
            f"no Service: <pod>.{sts.service_name}.{sts.namespace}.svc and "
            f"{sts.service_name}.{sts.namespace}.svc are NXDOMAIN",
            create + self.lookalike(sts),
        )

    def lookalike(self, sts: StatefulSet) -> str:
        """Suggest a headless Service that already selects the pods (a likely typo)."""
        candidates = sorted(
            s.name
            for s in self.services_in(sts.namespace)
            if s.is_headless and selector_matches(s.selector, sts.template_labels)
        )
        if not candidates:
            return ""
        return (
            f"; or did you mean the headless Service {candidates[0]!r}, which selects these "
            "pods? (serviceName is immutable: recreate the StatefulSet with it)"
        )

    def governing(self, sts: StatefulSet, svc: Service) -> None:
        where = f"{svc.namespace}/{svc.name}"
        if svc.is_external_name:
            self.add(
                "HSVC105",
                sts.ref,
                f"the governing Service {where} of StatefulSet {sts.name} is an ExternalName "
                "Service: it has no endpoints and no names below it, so per-pod names are "
                "NXDOMAIN",
                "point serviceName at a headless Service (clusterIP: None) with a selector",
            )
            return
        if not svc.is_headless:
            self.add(
                "HSVC104",
                sts.ref,
                f"the governing Service {where} of StatefulSet {sts.name} is not headless: "
                f"{svc.name}.{svc.namespace}.svc answers the cluster IP, and per-pod names are "
                "served by CoreDNS only (not by the DNS spec or kube-dns)",
                "make the governing Service headless (clusterIP: None; immutable, so recreate "
                "it) and keep a separate ClusterIP Service for load-balanced access",
            )
            self.portability(sts, svc)
        if selector_matches(svc.selector, sts.template_labels):
            return
        hand_written = any(
            ep.hostname
            for sl in self.c.read_slices.get((svc.namespace, svc.name), [])
            for ep in sl.endpoints
        )
        if not svc.selector and hand_written:
            return  # hostnames come from hand-written slices
        if not svc.selector:
            message = (
                f"the governing Service {where} of StatefulSet {sts.name} has no selector: the "
                "EndpointSlice controller never lists the pods, so per-pod names are NXDOMAIN"
            )
        else:
            message = (
                f"the governing Service {where} selects {_labels_text(svc.selector)}, which the "
                f"pod template of StatefulSet {sts.name} ({_labels_text(sts.template_labels)}) "
                "does not match: per-pod names are NXDOMAIN"
            )
        self.add(
            "HSVC106",
            sts.ref,
            message,
            "make the Service selector a subset of the pod template labels "
            f"({_labels_text(sts.template_labels)})",
        )

    def portability(self, sts: StatefulSet, svc: Service) -> None:
        """Per-pod names under a ClusterIP Service exist on CoreDNS only (hsvc.core.flavour)."""
        from hsvc.core.flavour import RULE_RANGES

        where = f"{svc.namespace}/{svc.name}"
        first = f"{sts.name}-0.{svc.name}.{svc.namespace}.svc"
        here = self.s.dns_flavour
        now = (
            "this cluster's kube-dns/Cloud DNS already answers NXDOMAIN for them"
            if here != "coredns"
            else "they resolve here, on CoreDNS"
        )
        self.add(
            "HSVC507",
            sts.ref,
            f"the per-pod names of StatefulSet {sts.name} ({first}, ...) and their PTRs sit "
            f"under the ClusterIP Service {where}: {now}, but kube-dns and Cloud DNS "
            f"({RULE_RANGES['R15'].differs}) and CoreDNS 1.11.4 to 1.12.0 for the PTRs of "
            "hostname-less endpoints do not serve the same names",
            "make the governing Service headless (clusterIP: None; recreate it), which every "
            "DNS server and the DNS spec serve per-pod names for",
        )

    def other_headless(self, sts: StatefulSet) -> None:
        others = sorted(
            s.name
            for s in self.services_in(sts.namespace)
            if s.is_headless
            and s.name != sts.service_name
            and selector_matches(s.selector, sts.template_labels)
        )
        if not others:
            return
        self.add(
            "HSVC107",
            sts.ref,
            f"headless Service(s) {_few(others)} also select the pods of StatefulSet {sts.name}; "
            f"<pod>.<svc> names exist only under the governing Service {sts.service_name!r}, "
            "elsewhere the pods are named by their dashed IP",
            f"ask {sts.name}-0.{sts.service_name}.{sts.namespace}.svc, or enable "
            "endpoint_pod_names in the Corefile to name them after the pods everywhere",
        )

    def ordered_ready(self, sts: StatefulSet, svc: Service) -> None:
        if sts.pod_management_policy != "OrderedReady" or svc.publish_not_ready_addresses:
            return
        pods = [
            p
            for p in self.pods_by_ns.get(sts.namespace, [])
            if (p.owner is not None and p.owner.kind == "StatefulSet" and p.owner.name == sts.name)
            or (p.owner is None and _ordinal(p.name, sts.name) is not None)
        ]
        stuck = sorted(
            (p for p in pods if not p.is_terminal and not p.ready),
            key=lambda p: _ordinal(p.name, sts.name) or 0,
        )
        if sts.replicas <= 1 or len(pods) >= sts.replicas or not stuck:
            return
        self.add(
            "HSVC205",
            sts.ref,
            f"StatefulSet {sts.namespace}/{sts.name} waits on pod {stuck[0].name} (not ready, "
            f"{len(pods)} of {sts.replicas} pods exist): OrderedReady creates the next pod only "
            "once it is ready, and while publishNotReadyAddresses is off no peer name "
            "resolves; an app that waits for its peers in DNS before turning ready deadlocks",
            f"set publishNotReadyAddresses: true on Service {svc.name} (usual for etcd, "
            "ZooKeeper, Kafka, Cassandra), or podManagementPolicy: Parallel (immutable)",
        )

    # ---- 2xx/3xx/4xx: Services ------------------------------------------------------

    def services(self) -> None:
        for svc in sorted(self.c.services.values(), key=lambda s: (s.namespace, s.name)):
            if not self.in_scope(svc.namespace):
                continue
            if svc.is_external_name:
                self.external_name(svc)
                continue
            self.ports(svc)
            self.endpoint_name_lengths(svc)
            slices = self.c.read_slices.get((svc.namespace, svc.name), [])
            if svc.selector:
                self.selection(svc)
                if self.observed and not slices and not self.slices_unreadable:
                    self.add(
                        "HSVC202",
                        svc.ref,
                        f"Service {svc.namespace}/{svc.name} has a selector but no "
                        "EndpointSlice carries kubernetes.io/service-name="
                        f"{svc.name}: DNS has no endpoints for it",
                        "the EndpointSlice controller writes one within seconds; if none "
                        "appears, check kube-controller-manager's logs",
                    )
                self.not_ready(svc)
            else:
                self.selectorless(svc)

    def external_name(self, svc: Service) -> None:
        if svc.external_name and names.canonical_ip(svc.external_name) is None:
            return
        what = repr(svc.external_name) if svc.external_name else "empty"
        self.add(
            "HSVC408",
            svc.ref,
            f"externalName of Service {svc.namespace}/{svc.name} is {what}, not a DNS name: "
            "cluster DNS answers NXDOMAIN for every type",
            "for a fixed IP use a Service without selector plus an EndpointSlice holding it",
        )

    def selection(self, svc: Service) -> None:
        if self.pods_unreadable:
            return
        pods = self.selected(svc)
        key, value = svc.selector[0]
        templates = [
            w
            for w in self.templates_by_label.get((svc.namespace, key, value), [])
            if selector_matches(svc.selector, w.template_labels)
        ]
        if pods or templates:
            return
        where = "pod" if self.observed else "pod, StatefulSet or Deployment template"
        self.add(
            "HSVC201",
            svc.ref,
            f"the selector {_labels_text(svc.selector)} of Service {svc.namespace}/{svc.name} "
            f"matches no {where} in {svc.namespace}: it has no endpoints"
            + (", and as a headless Service its name is NXDOMAIN" if svc.is_headless else ""),
            "make the selector a subset of the pod template labels (kubectl get pods "
            "--show-labels)",
        )

    def not_ready(self, svc: Service) -> None:
        if svc.publish_not_ready_addresses:
            return
        pods = [p for p in self.selected(svc) if p.pod_ips and not p.is_terminal]
        waiting = sorted(p.name for p in pods if not p.ready or p.deleting)
        if not waiting:
            return
        self.add(
            "HSVC204",
            svc.ref,
            f"{len(waiting)} of {len(pods)} pods selected by Service {svc.namespace}/{svc.name} "
            f"are not ready or terminating ({_few(waiting)}): their addresses and names are "
            "absent from DNS until they are ready (publishNotReadyAddresses is off)",
            "expected while pods start; if peers must resolve each other before they are "
            "ready, set publishNotReadyAddresses: true on the headless Service",
        )

    def selectorless(self, svc: Service) -> None:
        if (svc.namespace, svc.name) == ("default", "kubernetes"):
            return  # the API server writes its slices itself
        real = self.c.read_slices.get((svc.namespace, svc.name), [])
        if not real:
            if self.slices_unreadable:
                return
            effect = (
                "its name is NXDOMAIN (no ready address)"
                if svc.is_headless
                else "its cluster IP leads nowhere"
            )
            self.add(
                "HSVC203",
                svc.ref,
                f"Service {svc.namespace}/{svc.name} has no selector and no EndpointSlice "
                f"labelled kubernetes.io/service-name={svc.name}: {effect}",
                "write an EndpointSlice (discovery.k8s.io/v1) with that label and the "
                "backend addresses, or add a selector",
            )
            return
        if not svc.is_headless:
            return
        ports = [p for sl in real for p in sl.ports]
        svc_names = {p.name for p in svc.ports if p.name}
        if not ports:
            self.add(
                "HSVC303",
                svc.ref,
                f"the hand-written EndpointSlices of headless Service {svc.namespace}/{svc.name} "
                "list no ports: no SRV record exists for it",
                "add ports (name, protocol, port) to the EndpointSlices",
            )
        elif any(not p.name for p in ports) and svc_names:
            self.add(
                "HSVC303",
                svc.ref,
                f"the hand-written EndpointSlices of headless Service {svc.namespace}/{svc.name} "
                "have unnamed ports: no _<port>._<proto> SRV name exists for them",
                f"name the slice ports as the Service does ({_few(sorted(svc_names))})",
            )
        elif svc_names and not svc_names & {p.name for p in ports}:
            self.add(
                "HSVC303",
                svc.ref,
                f"the hand-written EndpointSlices of headless Service {svc.namespace}/{svc.name} "
                f"name their ports {_few(sorted({p.name for p in ports}))}, the Service "
                f"{_few(sorted(svc_names))}: SRV names follow the slices",
                f"name the slice ports as the Service does ({_few(sorted(svc_names))}), so "
                "_<port>._<proto> names are the ones clients expect",
            )
        bare = sorted(
            {
                names.dashed_ip(ep.addresses[0])
                for sl in real
                for ep in sl.endpoints
                if not ep.hostname and ep.addresses
            }
        )
        if bare:
            self.add(
                "HSVC407",
                svc.ref,
                f"{len(bare)} endpoint(s) of the hand-written EndpointSlices of headless Service "
                f"{svc.namespace}/{svc.name} have no hostname, so they are named by their "
                f"dashed IP ({_few(bare, 3)})",
                "set endpoints[].hostname in the EndpointSlices for stable per-endpoint names",
            )

    def ports(self, svc: Service) -> None:
        seen: set[str] = set()
        for port in svc.ports:
            if not port.name:
                if len(svc.ports) > 1:
                    self.add(
                        "HSVC302",
                        svc.ref,
                        f"Service {svc.namespace}/{svc.name} has {len(svc.ports)} ports and port "
                        f"{port.port}/{port.protocol} has no name: the API rejects it",
                        "name every port when a Service has more than one",
                    )
                else:
                    self.add(
                        "HSVC301",
                        svc.ref,
                        f"port {port.port}/{port.protocol} of Service {svc.namespace}/{svc.name} "
                        f"has no name: no _<port>._{port.protocol.lower()} SRV name exists, only "
                        "the bare-name SRV CoreDNS adds",
                        "name the port (for example name: http) to get "
                        f"_http._{port.protocol.lower()}.{svc.name}.{svc.namespace}.svc",
                    )
                continue
            if not names.is_dns1123_label(port.name):
                self.add(
                    "HSVC302",
                    svc.ref,
                    f"port name {port.name!r} of Service {svc.namespace}/{svc.name} is not a "
                    "DNS-1123 label: the API rejects the Service",
                    "use lower-case letters, digits and '-' (at most 63, no leading or "
                    "trailing '-')",
                )
            elif port.name in seen:
                self.add(
                    "HSVC302",
                    svc.ref,
                    f"port name {port.name!r} appears twice in Service "
                    f"{svc.namespace}/{svc.name}: the API rejects the Service",
                    "give every port a distinct name",
                )
            seen.add(port.name)
            if svc.is_headless and port.target_port not in (None, port.port):
                self.add(
                    "HSVC304",
                    svc.ref,
                    f"headless Service {svc.namespace}/{svc.name} maps port {port.port} to "
                    f"{port.target_port}: its SRV records carry the container port, not "
                    f"{port.port}",
                    "clients that read SRV connect to the target port directly; set port equal "
                    "to targetPort to avoid confusion",
                )

    # ---- 4xx: pods and workload templates -------------------------------------------

    def pods_and_templates(self) -> None:
        for deploy in self.snap.deployments:
            if self.in_scope(deploy.namespace):
                self.deployment(deploy)
        for sts in self.snap.stateful_sets:
            if self.in_scope(sts.namespace):
                self.hardcoded(sts.ref, sts.namespace, sts.hardcoded_names)
        for pod in self.snap.pods:
            if not self.in_scope(pod.namespace):
                continue
            self.host_network(pod)
            if self.owned_by_workload(pod):
                continue
            self.hardcoded(pod.ref, pod.namespace, pod.hardcoded_names)
            self.pod_names(pod)

    def deployment(self, deploy: Deployment) -> None:
        self.hardcoded(deploy.ref, deploy.namespace, deploy.hardcoded_names)
        host, sub = deploy.template_hostname, deploy.template_subdomain
        if not self.valid_labels(deploy.ref, host, sub):
            return
        if host:
            svc = self.c.service(deploy.namespace, sub) if sub else None
            shared = (
                f"; {host}.{sub}.{deploy.namespace}.svc answers all their addresses"
                if svc is not None
                else ""
            )
            self.add(
                "HSVC405",
                deploy.ref,
                f"the pod template of Deployment {deploy.namespace}/{deploy.name} sets hostname "
                f"{host!r}: every replica ({deploy.replicas}) gets it{shared}",
                "use a StatefulSet for stable per-pod names, or drop spec.hostname",
            )
            if sub:
                self.name_length(
                    deploy.ref, names.under(self.zone, f"{host}.{sub}.{deploy.namespace}.svc")
                )
        elif sub:
            self.add(
                "HSVC406",
                deploy.ref,
                f"the pod template of Deployment {deploy.namespace}/{deploy.name} sets subdomain "
                f"{sub!r} but no hostname: its pods get no <hostname>.{sub} name; Service "
                f"{sub} lists them under their dashed IP",
                "use a StatefulSet (one hostname per pod), or enable endpoint_pod_names in the "
                "Corefile to name endpoints after their pods",
            )
        if sub:
            self.subdomain_service(deploy.ref, deploy.namespace, sub, f"Deployment {deploy.name}")

    def pod_names(self, pod: Pod) -> None:
        if not self.valid_labels(pod.ref, pod.hostname, pod.subdomain):
            return
        if pod.subdomain and not pod.hostname:
            self.add(
                "HSVC406",
                pod.ref,
                f"pod {pod.namespace}/{pod.name} sets subdomain {pod.subdomain!r} but no "
                f"hostname: it gets no <hostname>.{pod.subdomain} name",
                "set spec.hostname too, or enable endpoint_pod_names in the Corefile",
            )
        if pod.subdomain:
            self.subdomain_service(pod.ref, pod.namespace, pod.subdomain, f"pod {pod.name}")
            if pod.hostname:
                name = names.under(self.zone, f"{pod.hostname}.{pod.subdomain}.{pod.namespace}.svc")
                self.name_length(pod.ref, name)

    def valid_labels(self, obj: ObjectRef, hostname: str, subdomain: str) -> bool:
        ok = True
        for field_name, value in (("hostname", hostname), ("subdomain", subdomain)):
            if value and not names.is_dns1123_label(value):
                ok = False
                self.add(
                    "HSVC401",
                    obj,
                    f"{field_name} {value!r} of {obj} is not a DNS-1123 label (lower-case "
                    "letters, digits and '-', at most 63): the API rejects the pod",
                    f"rename the {field_name}",
                )
        return ok

    def subdomain_service(self, obj: ObjectRef, namespace: str, sub: str, who: str) -> None:
        if self.c.service(namespace, sub) is not None:
            return
        self.add(
            "HSVC403",
            obj,
            f"subdomain {sub!r} of {who} names no Service in {namespace}: the EndpointSlice "
            "controller writes no hostname, so no per-pod name exists",
            f"create a headless Service named {sub!r} in {namespace} selecting these pods",
        )

    def host_network(self, pod: Pod) -> None:
        if not pod.host_network or pod.dns_policy != "ClusterFirst":
            return
        if pod.namespace == "kube-system":
            return  # node agents (kube-proxy, CNI) use the node's resolver on purpose
        self.add(
            "HSVC503",
            pod.ref,
            f"pod {pod.namespace}/{pod.name} uses hostNetwork with dnsPolicy ClusterFirst, "
            "which falls back to the node's resolver: cluster names do not resolve in it",
            "set dnsPolicy: ClusterFirstWithHostNet",
        )

    def hardcoded(self, obj: ObjectRef, namespace: str, texts: Sequence[str]) -> None:
        zones = self.s.forward_zones
        seen: set[str] = set()
        for text in texts:
            for match in _SVC_NAME.finditer(text.lower()):
                name = match.group(0).rstrip(".")
                kind, rest = match.group(1), match.group(2).rstrip(".")
                zone = rest + "."
                if name in seen or not rest:
                    continue
                seen.add(name)
                if not any(names.is_subdomain(zone, z) or zone == z for z in zones):
                    self.add(
                        "HSVC501",
                        obj,
                        f"{obj} names {name} in its env, args or command, but the cluster "
                        f"zone is {self.zone.rstrip('.')} (settings: {self.s.source}); that "
                        "name is outside it and does not resolve",
                        f"use the short name ({name.split('.' + kind + '.')[0]}.{kind}; the "
                        "search path adds the zone) or the cluster's zone",
                    )
                elif zone == self.zone and kind == "svc":
                    short = name.removesuffix("." + self.zone.rstrip("."))
                    self.add(
                        "HSVC508",
                        obj,
                        f"{obj} writes the cluster domain out in {name}: it resolves on this "
                        f"cluster, and breaks on one whose domain is not "
                        f"{self.zone.rstrip('.')}",
                        f"use {short} (the pod's search path adds the cluster domain)",
                    )
                elif kind == "pod" and self.s.pods.value == "disabled":
                    self.add(
                        "HSVC502",
                        obj,
                        f"{obj} names the pod record {name}, but pod records are disabled "
                        "in the Corefile: it is NXDOMAIN",
                        "set 'pods insecure' (or verified) in the Corefile, or use a Service "
                        "name instead",
                    )

    def shared_hostnames(self) -> None:
        reported: set[tuple[str, str, str]] = set()
        for (ns, svc_name), eps in self.c.endpoints.items():
            if not self.in_scope(ns):
                continue
            by_name: dict[tuple[str, int], set[str]] = defaultdict(set)
            for ep in eps:
                if ep.name != names.dashed_ip(ep.address).lower():
                    by_name[(ep.name, ep.family)].add(ep.address)
            for (label, _family), addresses in sorted(by_name.items()):
                if len(addresses) > 1 and (ns, svc_name, label) not in reported:
                    reported.add((ns, svc_name, label))
                    self.shared(ns, svc_name, label, sorted(addresses))
        for ns, pods in self.pods_by_ns.items():
            if not self.in_scope(ns):
                continue
            groups: dict[tuple[str, str], list[Pod]] = defaultdict(list)
            for pod in pods:
                svc = self.c.service(ns, pod.subdomain) if pod.subdomain else None
                if (
                    pod.hostname
                    and svc is not None
                    and pod.ready
                    and selector_matches(svc.selector, pod.labels)
                ):
                    groups[(pod.subdomain, pod.hostname.lower())].append(pod)
            for (sub, host), group in sorted(groups.items()):
                if len(group) > 1 and (ns, sub, host) not in reported:
                    reported.add((ns, sub, host))
                    self.shared(ns, sub, host, sorted(p.name for p in group))

    def shared(self, ns: str, svc_name: str, label: str, holders: list[str]) -> None:
        self.add(
            "HSVC404",
            ObjectRef(kind="Service", namespace=ns, name=svc_name),
            f"{len(holders)} ready endpoints of Service {ns}/{svc_name} share hostname "
            f"{label!r} ({_few(holders, 3)}): {label}.{svc_name}.{ns}.svc answers all of them",
            "give each pod its own spec.hostname (a StatefulSet does)",
        )

    # ---- 5xx: settings -----------------------------------------------------------------

    def settings_checks(self) -> None:
        services = [s for s in self.c.services.values() if self.in_scope(s.namespace)]
        for svc in sorted(services, key=lambda s: (s.namespace, s.name)):
            if svc.is_external_name:
                continue
            if svc.is_headless and self.s.noendpoints:
                self.add(
                    "HSVC505",
                    svc.ref,
                    f"the Corefile sets noendpoints, so headless Service "
                    f"{svc.namespace}/{svc.name} and every per-pod name under it are NXDOMAIN",
                    "remove noendpoints from the kubernetes block",
                )
            if (
                not svc.is_headless
                and self.s.ignore_empty_service
                and self.observed
                and not self.c.ready_endpoints(svc.namespace, svc.name)
            ):
                self.add(
                    "HSVC504",
                    svc.ref,
                    f"Service {svc.namespace}/{svc.name} has no ready endpoint and the Corefile "
                    "sets ignore empty_service: its name is NXDOMAIN",
                    "expected while no pod is ready; remove 'ignore empty_service' if clients "
                    "need the name regardless",
                )
        for ns in sorted({s.namespace for s in services}):
            if ns in self.c.namespaces and not self.c.namespace_exposed(ns):
                self.add(
                    "HSVC506",
                    ObjectRef(kind="Namespace", namespace="", name=ns),
                    f"namespace {ns} is not exposed by the Corefile's namespaces/namespace_labels: "
                    "every name under it is NXDOMAIN",
                    "add it to the kubernetes plugin's namespaces list (or label it to match "
                    "namespace_labels)",
                )

    # ---- 6xx: live rows ------------------------------------------------------------------

    def transport(self, path: ResolverPath | None) -> None:
        """HSVC801/802 from the objects: the DNS Service's TCP port, UDP-only policies."""
        service = path.service if path is not None else None
        if service is None:
            # From manifests: a cluster DNS Service among the files.
            service = self.c.service("kube-system", "kube-dns") or self.c.service(
                "openshift-dns", "dns-default"
            )
        found = list(transport.service_tcp(service))
        clients = [p for p in self.snap.pods if self.in_scope(p.namespace)]
        dns_pods = None
        if service is not None and service.selector:
            dns_pods = (service.namespace, service.selector)
        port = path.dns_port if path is not None else transport.DNS_PORT
        found.extend(
            transport.network_policies(self.snap.network_policies, clients, dns_pods, port)
        )
        for code, obj, message, hint in found:
            self.add(code, obj, message, hint)

    def live_transport(self, rows: Sequence[Row], layers: Mapping[str, str]) -> None:
        """HSVC803-806 from the answers: sizes, truncation, TCP, and which layer is stale."""
        in_scope = [
            r for r in rows if not r.subject.namespace or self.in_scope(r.subject.namespace)
        ]
        musl = transport.musl_looking(p for p in self.snap.pods if self.in_scope(p.namespace))
        pairs = [(r.subject, c.observation) for r in in_scope for c in r.checks]
        for code, obj, message, hint in transport.answer_sizes(pairs, musl):
            self.add(code, obj, message, hint)
        if not layers:
            return
        stale: dict[tuple[ObjectRef, str], list[Row]] = defaultdict(list)
        for row in in_scope:
            good = [c for c in row.checks if c.verdict is compare.Verdict.OK]
            bad = [
                c
                for c in row.checks
                if c.verdict not in (compare.Verdict.OK, compare.Verdict.ERROR)
            ]
            if not good or not bad:
                continue
            for check in bad:
                stale[(row.subject, check.observation.server)].append(row)
        for (subject, server), group in stale.items():
            row = group[0]
            layer = layers.get(server, server)
            obs = next(c.observation for c in row.checks if c.observation.server == server)
            ok = next(c.observation for c in row.checks if c.verdict is compare.Verdict.OK)
            more = f" (and {len(group) - 1} more name(s))" if len(group) > 1 else ""
            self.add(
                "HSVC806",
                subject,
                f"{layer} holds a stale answer for {row.name} {row.type}{more}: it says "
                f"{_observed(obs.rcode, obs.answer)} while {layers.get(ok.server, ok.server)} "
                f"says {_observed(ok.rcode, ok.answer)}, as the objects do",
                _stale_hint(layer, self.s.ttl),
            )

    def live(self, rows: Sequence[Row], now: datetime | None) -> None:
        pods = {(p.namespace, p.name): p for p in self.snap.pods}
        known: set[str] = set()
        for pod in self.snap.pods:
            known.update(filter(None, (names.canonical_ip(ip) for ip in pod.pod_ips)))
        for svc in self.snap.services:
            known.update(filter(None, (names.canonical_ip(ip) for ip in svc.cluster_ips)))
        for sl in self.snap.endpoint_slices:
            for ep in sl.endpoints:
                known.update(filter(None, (names.canonical_ip(a) for a in ep.addresses)))
        disagreeing: dict[ObjectRef, list[Row]] = defaultdict(list)
        for row in rows:
            if not self.in_scope(row.subject.namespace) and row.subject.namespace:
                continue
            if now is not None:
                self.negative_cache(row, pods, now)
            if _disagree(row):
                disagreeing[row.subject].append(row)
            if not self.pods_unreadable:
                self.stale(row, known)
        for subject, group in disagreeing.items():
            row = group[0]
            answers = "; ".join(
                f"{c.observation.server}: {_observed(c.observation.rcode, c.observation.answer)}"
                for c in row.checks
            )
            more = f" (and {len(group) - 1} more name(s))" if len(group) > 1 else ""
            self.add(
                "HSVC602",
                subject,
                f"DNS servers disagree on {row.name} {row.type}{more}: {answers}",
                "one CoreDNS replica may serve stale data (watch lag or a stuck replica: check "
                "its logs, restart it) or a cache still holds an old answer; compare again "
                f"after {self.s.ttl} s",
            )

    def negative_cache(self, row: Row, pods: dict[tuple[str, str], Pod], now: datetime) -> None:
        if not row.expected.answer:
            return
        nx = [c for c in row.checks if c.observation.rcode is Rcode.NXDOMAIN]
        if not nx:
            return
        window = min(self.s.ttl, 300)  # the SOA's TTL and minimum (rule 44)
        best: tuple[float, Pod] | None = None
        for prov in row.expected.provenance:
            ref = prov.source
            pod = pods.get((ref.namespace, ref.name)) if ref.kind == "Pod" else None
            since = _parse_time(pod.ready_since) if pod is not None and pod.ready else None
            if pod is None or since is None:
                continue
            age = (now - since).total_seconds()
            if 0 <= age <= window + _PROPAGATION_S and (best is None or age < best[0]):
                best = (age, pod)
        if best is None:
            return
        age, pod = best
        wait = max(1, round(window + _PROPAGATION_S - age))
        at = (now + timedelta(seconds=wait)).astimezone(UTC).strftime("%H:%M:%S UTC")
        servers = ", ".join(c.observation.server for c in nx)
        self.add(
            "HSVC601",
            pod.ref,
            f"{row.name} {row.type} got NXDOMAIN ({servers}), but pod {pod.name} became ready "
            f"only {round(age)} s ago: resolvers may keep the denial for up to {window} s "
            f"(SOA minimum, ttl {self.s.ttl} capped at 300)",
            f"retry in {wait} s (after {at}); nothing to fix if it answers then",
        )

    def stale(self, row: Row, known: set[str]) -> None:
        if row.type not in ("A", "AAAA") or row.expected.open_ended:
            return
        want = {r.data for r in row.expected.answer}
        for check in row.checks:
            for rec in check.observation.answer:
                if rec.type != row.type:
                    continue
                address = names.canonical_ip(rec.data)
                if address is None or address in want or address in known:
                    continue
                self.add(
                    "HSVC603",
                    row.subject,
                    f"{row.name} answers {address} ({check.observation.server}), an address no "
                    "current pod, Service or EndpointSlice has: a stale record",
                    "a cache or a lagging CoreDNS replica holds an old answer: wait "
                    f"{self.s.ttl} s, or restart the replica that still answers it",
                )


def _stale_hint(layer: str, ttl: int) -> str:
    if layer.startswith("node-local"):
        return (
            "the node's NodeLocal DNSCache still holds the old answer: wait out its cache "
            "TTL cap, or restart the node-local-dns pod on that node"
        )
    return (
        f"that CoreDNS replica lags the API (watch lag or a stuck replica): check its logs, "
        f"restart it, and compare again after {ttl} s"
    )


def _ordinal(pod_name: str, sts_name: str) -> int | None:
    prefix, _, number = pod_name.rpartition("-")
    return int(number) if prefix == sts_name and number.isdigit() else None


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _answer_key(check: compare.Check) -> tuple[str, frozenset[str]]:
    obs = check.observation
    return (obs.rcode.value, frozenset(r.data.lower() for r in obs.answer))


def _disagree(row: Row) -> bool:
    answered = [c for c in row.checks if c.observation.rcode not in (Rcode.TIMEOUT, Rcode.ERROR)]
    return len({_answer_key(c) for c in answered}) > 1


def _observed(rcode: Rcode, answer: Sequence[Record]) -> str:
    if rcode is not Rcode.NOERROR:
        return rcode.value
    if not answer:
        return "NODATA"
    return ", ".join(sorted(r.data for r in answer))


__all__ = ["CHECKS", "MAX_STATEFULSET_NAME", "Check", "diagnose", "has_errors", "sort_findings"]
