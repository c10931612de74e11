"""Why a name does not answer: walk the chain of conditions and name the first broken link.

The chain follows how cluster DNS builds a name (dns-records.md rules 8-30): the
zone and pods mode allow it, the namespace exists, the Service exists, it is
headless, an endpoint has this name, its pod is selected, ready (or
``publishNotReadyAddresses`` is set) and its ``subdomain`` matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.model import ObjectRef, Pod, PodsMode, Service, selector_matches


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One checked condition of the chain."""

    check: str
    ok: bool
    detail: str
    rules: tuple[str, ...] = ()
    fix: str = ""
    subject: ObjectRef | None = None


def explain_name(cluster: ClusterDns, qname: str) -> list[Link]:
    """Return the chain of conditions for ``qname``, up to and including the first broken one.

    Raises:
        InvalidName: ``qname`` is not a valid DNS name.
    """
    name = names.absolute(qname)
    zone = cluster.zone_of(name)
    chain: list[Link] = []
    if zone is None:
        return [
            Link(
                check="zone",
                ok=False,
                detail=f"{name} is outside the cluster zones ({', '.join(cluster.settings.zones)})",
                rules=("R9",),
                fix="use <service>.<namespace>.svc.<cluster domain>, or check --cluster-domain",
            )
        ]
    chain.append(Link(check="zone", ok=True, detail=f"in zone {zone}", rules=("R9",)))
    if names.address_from_reverse(name) is not None:
        return chain  # PTR questions have no chain beyond the zone
    rest = names.trim_zone(name, zone)
    if not rest or rest[-1] not in ("svc", "pod"):
        if rest:
            chain.append(
                Link(
                    check="name form",
                    ok=False,
                    detail=f"the label before {zone} must be svc or pod, not {rest[-1]!r}",
                    rules=("R9",),
                    fix="cluster names look like <svc>.<ns>.svc.<zone> or <ip>.<ns>.pod.<zone>",
                )
            )
        return chain
    kind = rest[-1]
    if kind == "pod" and cluster.settings.pods is PodsMode.DISABLED:
        chain.append(
            Link(
                check="pods mode",
                ok=False,
                detail="pod records are disabled in the Corefile (pods disabled)",
                rules=("R28",),
                fix="set 'pods insecure' or 'pods verified' in the Corefile's kubernetes block",
            )
        )
        return chain
    if len(rest) < 2:
        return chain
    namespace = rest[-2]
    if not cluster.namespace_exposed(namespace):
        exists = namespace in cluster.namespaces
        chain.append(
            Link(
                check="namespace",
                ok=False,
                detail=(
                    f"namespace {namespace!r} is not exposed by the Corefile"
                    if exists
                    else f"namespace {namespace!r} does not exist"
                ),
                rules=("R8",),
                fix="check the namespace part of the name (-n)"
                if not exists
                else "add it to the kubernetes plugin's namespaces list",
            )
        )
        return chain
    chain.append(
        Link(check="namespace", ok=True, detail=f"namespace {namespace} exists", rules=("R8",))
    )
    if kind == "pod" or len(rest) < 3:
        return chain
    svc_name = rest[-3]
    svc = cluster.service(namespace, svc_name)
    if svc is None:
        chain.append(
            Link(
                check="service",
                ok=False,
                detail=f"no Service {svc_name!r} in namespace {namespace}",
                rules=("R23",),
                fix=f"create Service {svc_name!r} (a StatefulSet's serviceName must name one)",
            )
        )
        return chain
    kind_text = (
        "headless" if svc.is_headless else ("ExternalName" if svc.is_external_name else "ClusterIP")
    )
    chain.append(
        Link(
            check="service",
            ok=True,
            detail=f"Service {namespace}/{svc_name} exists ({kind_text})",
            subject=svc.ref,
        )
    )
    extra = rest[:-3]
    if svc.is_external_name:
        if extra:
            chain.append(
                Link(
                    check="name form",
                    ok=False,
                    detail="an ExternalName Service has no names below it",
                    rules=("R25",),
                    fix="query the Service name itself",
                    subject=svc.ref,
                )
            )
        elif names.canonical_ip(svc.external_name) is not None:
            chain.append(
                Link(
                    check="externalName",
                    ok=False,
                    detail=f"externalName {svc.external_name!r} is an IP address: no record",
                    rules=("R26",),
                    fix="use a ClusterIP Service without selector plus an EndpointSlice for an IP",
                    subject=svc.ref,
                )
            )
        return chain
    if len(extra) == 2:
        return chain + _port_links(cluster, svc, extra)
    ready = cluster.ready_endpoints(namespace, svc_name)
    if not extra:
        if svc.is_headless and not ready:
            chain.append(_no_ready_link(cluster, svc))
        return chain
    if len(extra) > 2:
        chain.append(
            Link(
                check="name form",
                ok=False,
                detail="too many labels before the Service name",
                rules=("R9",),
            )
        )
        return chain
    return chain + _endpoint_links(cluster, svc, extra[0])


def _no_ready_link(cluster: ClusterDns, svc: Service) -> Link:
    pods = selected_pods(cluster, svc)
    not_ready = [p.name for p in pods if not p.ready]
    if not pods:
        detail = "headless Service has no ready endpoint: its selector matches no pod"
        fix = "fix the Service selector or the pod labels"
    elif not_ready and not svc.publish_not_ready_addresses:
        detail = (
            f"headless Service has no ready endpoint: {len(not_ready)} selected pod(s) not ready "
            f"({', '.join(not_ready[:5])}) and publishNotReadyAddresses is off"
        )
        fix = (
            "wait for readiness, or set publishNotReadyAddresses: true when peers must find "
            "each other before they are ready"
        )
    else:
        detail = "headless Service has no ready endpoint in its EndpointSlices"
        fix = "check the EndpointSlices labelled kubernetes.io/service-name=" + svc.name
    return Link(
        check="ready endpoints",
        ok=False,
        detail=detail,
        rules=("R16", "R2", "R3"),
        fix=fix,
        subject=svc.ref,
    )


def _port_links(cluster: ClusterDns, svc: Service, extra: list[str]) -> list[Link]:
    port, proto = extra[0].removeprefix("_"), extra[1].removeprefix("_")
    if svc.is_headless:
        ports = {
            (p.name.lower(), p.protocol.lower())
            for ep in cluster.ready_endpoints(svc.namespace, svc.name)
            for p in ep.ports
        }
        where, rule = "the ready endpoints' slices", "R18"
    else:
        ports = {(p.name.lower(), p.protocol.lower()) for p in svc.ports}
        where, rule = "the Service", "R13"
    if (port, proto) in ports:
        return []
    named = sorted(f"_{n}._{p}" for n, p in ports if n)
    return [
        Link(
            check="port",
            ok=False,
            detail=f"no port named {port!r} with protocol {proto!r} in {where}"
            + (f" (named ports: {', '.join(named)})" if named else " (no named ports)"),
            rules=(rule, "R5"),
            fix="name the port in the Service spec.ports (SRV names need a port name)",
            subject=svc.ref,
        )
    ]


def _endpoint_links(cluster: ClusterDns, svc: Service, label: str) -> list[Link]:
    ns = svc.namespace
    if any(ep.name == label for ep in cluster.ready_endpoints(ns, svc.name)):
        return [
            Link(
                check="endpoint",
                ok=True,
                detail=f"a ready endpoint is named {label!r}",
                rules=("R6",),
            )
        ]
    pods = [p for p in cluster.snapshot.pods if p.namespace == ns and p.hostname.lower() == label]
    if not pods:
        by_name = [
            p for p in cluster.snapshot.pods if p.namespace == ns and p.name.lower() == label
        ]
        fix = "per-pod names need spec.hostname + spec.subdomain (StatefulSet pods get both)"
        if by_name and not cluster.settings.endpoint_pod_names:
            fix = (
                f"pod {label} has no hostname, so its endpoint is named by its dashed IP; "
                "give it hostname+subdomain, or enable endpoint_pod_names in the Corefile"
            )
        return [
            Link(
                check="endpoint",
                ok=False,
                detail=f"no ready endpoint of Service {ns}/{svc.name} is named {label!r}, "
                f"and no pod in {ns} has hostname {label!r}",
                rules=("R6", "R17", "R21"),
                fix=fix,
                subject=svc.ref,
            )
        ]
    return [pod_name_link(cluster, pods[0], svc)]


def pod_name_link(cluster: ClusterDns, pod: Pod, svc: Service) -> Link:
    """Return the first broken condition of ``<hostname>.<svc>`` for ``pod`` (rules 22, 23)."""
    where = f"{svc.namespace}/{svc.name}"
    if pod.subdomain != svc.name:
        return Link(
            check="subdomain",
            ok=False,
            detail=f"pod {pod.name} has subdomain {pod.subdomain or '(none)'!r}, not {svc.name!r}",
            rules=("R4", "R23"),
            fix=f"set spec.subdomain (a StatefulSet's serviceName) to {svc.name!r}",
            subject=pod.ref,
        )
    if not selector_matches(svc.selector, pod.labels):
        return Link(
            check="selected",
            ok=False,
            detail=f"Service {where} does not select pod {pod.name} (selector vs pod labels)",
            rules=("R22", "R23"),
            fix="make the Service selector match the pod template labels",
            subject=pod.ref,
        )
    if not pod.pod_ips:
        return Link(
            check="pod IP",
            ok=False,
            detail=f"pod {pod.name} has no IP yet (Pending)",
            rules=("R3",),
            fix="wait for the pod to be scheduled and started",
            subject=pod.ref,
        )
    if pod.is_terminal:
        return Link(
            check="phase",
            ok=False,
            detail=f"pod {pod.name} is {pod.phase}",
            rules=("R3",),
            subject=pod.ref,
        )
    in_slice = _slice_endpoint_ready(cluster, pod, svc)
    if in_slice is False and pod.ready and not pod.deleting:
        return Link(
            check="ready",
            ok=False,
            detail=f"the endpoint of pod {pod.name} in Service {where}'s EndpointSlice is not "
            "ready (the pod was not ready when the slice was written, and "
            "publishNotReadyAddresses is off)",
            rules=("R2", "R3", "R22"),
            fix=(
                "wait for the slice to catch up with the pod's readiness; if peers must resolve "
                "each other before they are ready, set publishNotReadyAddresses: true"
            ),
            subject=pod.ref,
        )
    if (not pod.ready or pod.deleting) and not svc.publish_not_ready_addresses:
        state = "terminating" if pod.deleting else "not ready"
        return Link(
            check="ready",
            ok=False,
            detail=f"pod {pod.name} is {state} and Service {where} does not set "
            "publishNotReadyAddresses",
            rules=("R2", "R3", "R22"),
            fix=(
                "wait for the readiness probe; if peers must resolve each other before they are "
                "ready (Kafka, ZooKeeper, etcd), set publishNotReadyAddresses: true"
            ),
            subject=pod.ref,
        )
    if cluster.settings.noendpoints:
        return Link(
            check="noendpoints",
            ok=False,
            detail="the Corefile sets noendpoints, so per-pod names never exist",
            rules=("R41",),
            fix="remove noendpoints from the kubernetes block",
        )
    return Link(
        check="endpoint slice",
        ok=False,
        detail=f"pod {pod.name} looks eligible, but no ready endpoint of Service {where} carries "
        f"hostname {pod.hostname!r}: the EndpointSlices may lag behind the pod",
        rules=("R1", "R4"),
        fix=f"kubectl get endpointslices -n {svc.namespace} "
        f"-l kubernetes.io/service-name={svc.name} -o yaml",
        subject=pod.ref,
    )


def _slice_endpoint_ready(cluster: ClusterDns, pod: Pod, svc: Service) -> bool | None:
    """Return the slice's ready condition for ``pod`` under ``svc``, None when it is in no slice."""
    ips = set(pod.pod_ips)
    for sl in cluster.slices.get((svc.namespace, svc.name), []):
        for ep in sl.endpoints:
            by_ref = ep.target_ref is not None and ep.target_ref.name == pod.name
            if by_ref or ips.intersection(ep.addresses):
                return ep.is_ready
    return None


def selected_pods(cluster: ClusterDns, svc: Service) -> list[Pod]:
    """Return the pods a Service's selector matches, in its namespace."""
    return [
        p
        for p in cluster.snapshot.pods
        if p.namespace == svc.namespace and selector_matches(svc.selector, p.labels)
    ]


def first_broken(chain: list[Link]) -> Link | None:
    """Return the first link that failed, if any."""
    return next((link for link in chain if not link.ok), None)
