"""Why a name does not answer: walk the chain of conditions and name the first broken link.

The chain follows how cluster DNS builds a name (dns-records.md rules 8-30): the
zone and pods mode allow it, the namespace exists, the Service exists, it is
headless, an endpoint has this name, its pod is selected, ready (or
``publishNotReadyAddresses`` is set) and its ``subdomain`` matches. Pod records
(rules 28-30) and PTR names (rules 35-37) have chains of their own.
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
    address = names.address_from_reverse(name)
    if address is not None:
        return [*chain, _address_link(cluster, name, address)]
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
    if len(rest) < 3:
        return chain
    if kind == "pod":
        # Rule 31: labels left of the address are ignored.
        return [*chain, _pod_record_link(cluster, namespace, rest[-3])]
    svc_name = rest[-3]
    svc = cluster.service(namespace, svc_name)
    if svc is None:
        chain.append(_missing_service_link(cluster, namespace, svc_name))
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
    chain.append(_headless_link(svc, bool(extra)))
    if len(extra) == 2:
        return chain + _port_links(cluster, svc, extra)
    ready = cluster.ready_endpoints(namespace, svc_name)
    if svc.is_headless and cluster.settings.noendpoints:
        chain.append(
            Link(
                check="noendpoints",
                ok=False,
                detail="the Corefile sets noendpoints: slices are not read, so headless "
                "Service names and every name below them are NXDOMAIN",
                rules=("R41",),
                fix="remove noendpoints from the kubernetes block",
                subject=svc.ref,
            )
        )
        return chain
    if not extra:
        if svc.is_headless and not ready:
            chain.append(_no_ready_link(cluster, svc))
        elif not svc.is_headless and not ready and cluster.settings.ignore_empty_service:
            chain.append(
                Link(
                    check="ready endpoints",
                    ok=False,
                    detail=f"Service {namespace}/{svc_name} has no ready endpoint and the "
                    "Corefile sets ignore empty_service, so its name is NXDOMAIN",
                    rules=("R40", "R2"),
                    fix="make a selected pod ready, or remove 'ignore empty_service'",
                    subject=svc.ref,
                )
            )
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


def _missing_service_link(cluster: ClusterDns, namespace: str, svc_name: str) -> Link:
    elsewhere = sorted(ns for (ns, n) in cluster.services if n == svc_name and ns != namespace)
    governed = sorted(
        s.name
        for s in cluster.snapshot.stateful_sets
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
            f"ask {svc_name}.{elsewhere[0]}.svc.{cluster.settings.primary_zone}, or create the "
            f"Service in {namespace}"
        )
    else:
        fix = f"create Service {svc_name!r} (a StatefulSet's serviceName must name one)"
    return Link(check="service", ok=False, detail=detail, rules=("R23",), fix=fix)


def _headless_link(svc: Service, below: bool) -> Link:
    if svc.is_headless:
        detail = (
            "headless: names below it are the ready endpoints' names"
            if below
            else "headless: the name answers the ready endpoint addresses"
        )
        return Link(check="headless", ok=True, detail=detail, rules=("R7", "R16"), subject=svc.ref)
    detail = (
        "not headless: CoreDNS still serves endpoint names under a ClusterIP Service, but the "
        "DNS spec and kube-dns do not"
        if below
        else "not headless: the name answers the cluster IP"
    )
    return Link(
        check="headless",
        ok=True,
        detail=detail,
        rules=("R7", "R15") if below else ("R7", "R12"),
        subject=svc.ref,
    )


def _pod_record_link(cluster: ClusterDns, namespace: str, label: str) -> Link:
    ip = names.ip_from_pod_label(label)
    if ip is None:
        return Link(
            check="pod address",
            ok=False,
            detail=f"{label!r} does not decode to an IP address",
            rules=("R29",),
            fix="write the pod IP with dashes: 10-244-1-7 (IPv6: fd00--1 for fd00::1)",
        )
    if cluster.settings.pods is PodsMode.INSECURE:
        return Link(
            check="pod address",
            ok=True,
            detail=f"pods insecure answers {ip} without looking for a pod",
            rules=("R29",),
        )
    pods = [
        p
        for p in cluster.pods_by_ip.get(ip, [])
        if p.namespace == namespace and p.phase not in ("Succeeded", "Failed", "Unknown")
    ]
    if pods:
        return Link(
            check="pod address",
            ok=True,
            detail=f"pods verified: pod {pods[0].name} has primary IP {ip}",
            rules=("R30",),
            subject=pods[0].ref,
        )
    other = [p for p in cluster.pods_by_any_ip.get(ip, []) if p.namespace == namespace]
    detail = f"pods verified: no running pod in {namespace} has primary IP {ip}"
    if other:
        detail += f" (pod {other[0].name} has it as a secondary IP, which is not indexed)"
    return Link(
        check="pod address",
        ok=False,
        detail=detail,
        rules=("R30",),
        fix="check the namespace and the pod IP (kubectl get pods -o wide)",
    )


def _address_link(cluster: ClusterDns, name: str, address: str) -> Link:
    svc = cluster.services_by_ip.get(address)
    if svc is not None:
        return Link(
            check="address",
            ok=True,
            detail=f"{address} is the cluster IP of Service {svc.namespace}/{svc.name}",
            rules=("R35",),
            subject=svc.ref,
        )
    published = cluster.endpoints_by_ip.get(address, [])
    if published:
        ns, svc_name, _ = published[0]
        return Link(
            check="address",
            ok=True,
            detail=f"{address} is a ready endpoint of Service {ns}/{svc_name}",
            rules=("R36",),
        )
    pods = cluster.pods_by_any_ip.get(address, [])
    upstream = any(names.is_subdomain(name, z) for z in cluster.settings.fallthrough)
    tail = "; with fallthrough, the upstream resolver answers instead" if upstream else ""
    if pods:
        pod = pods[0]
        state = "" if pod.ready else " (it is not ready)"
        return Link(
            check="address",
            ok=False,
            detail=f"{address} is the IP of pod {pod.namespace}/{pod.name}{state}, which is no "
            f"ready endpoint of any Service: PTR exists only for cluster IPs and ready "
            f"endpoints{tail}",
            rules=("R36", "R37"),
            fix="select the pod with a Service (PTR then names it under that Service)",
            subject=pod.ref,
        )
    return Link(
        check="address",
        ok=False,
        detail=f"{address} is neither a cluster IP nor a ready endpoint address{tail}",
        rules=("R37",),
        fix="check the address (kubectl get pods,svc -A -o wide)",
    )


def _no_ready_link(cluster: ClusterDns, svc: Service) -> Link:
    pods = selected_pods(cluster, svc)
    not_ready = [p.name for p in pods if not p.ready]
    if not pods and not any(p.namespace == svc.namespace for p in cluster.snapshot.pods):
        detail = (
            f"headless Service has no ready endpoint, and no pod of namespace {svc.namespace} "
            "is among the objects read (not created yet, or not in the manifests)"
        )
        fix = "create the workload (or pass its pods with -f) and let the pods become ready"
    elif not pods:
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
    if svc.is_headless and not cluster.ready_endpoints(svc.namespace, svc.name):
        # No ready endpoint at all: the port names cannot be the reason (rule 16).
        return [_no_ready_link(cluster, svc)]
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
    pods = sorted(
        cluster.pods_by_hostname.get((ns, label), []),
        key=lambda p: p.subdomain != svc.name,
    )
    if not pods:
        missing = _stateful_set_link(cluster, svc, label)
        if missing is not None:
            return [missing]
        by_name = cluster.pods_by_name.get((ns, label), [])
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
    # A pod has this hostname: its endpoint is missing because of a condition on the pod.
    hostname = Link(
        check="hostname",
        ok=True,
        detail=f"no ready endpoint is named {label!r} yet, but pod {pods[0].name} has "
        f"hostname {label!r}",
        rules=("R6", "R21"),
        subject=pods[0].ref,
    )
    return [hostname, *pod_links(cluster, pods[0], svc)]


def _stateful_set_link(cluster: ClusterDns, svc: Service, label: str) -> Link | None:
    """Explain ``<sts>-<n>`` when StatefulSet pod ``n`` does not exist."""
    for sts in cluster.snapshot.stateful_sets:
        if sts.namespace != svc.namespace or sts.service_name != svc.name:
            continue
        prefix, _, number = label.rpartition("-")
        if prefix != sts.name.lower() or not number.isdigit():
            continue
        if int(number) >= sts.replicas:
            return Link(
                check="endpoint",
                ok=False,
                detail=f"StatefulSet {sts.name} has {sts.replicas} replica(s), so pod {label} "
                f"does not exist (ordinals 0 to {sts.replicas - 1})",
                rules=("R21",),
                fix=f"kubectl scale statefulset {sts.name} -n {sts.namespace} "
                f"--replicas={int(number) + 1}",
                subject=sts.ref,
            )
        return Link(
            check="endpoint",
            ok=False,
            detail=f"pod {label} of StatefulSet {sts.name} does not exist (yet); with "
            "OrderedReady it is created only once the pods before it are ready",
            rules=("R21", "R22"),
            fix=f"kubectl describe statefulset {sts.name} -n {sts.namespace}",
            subject=sts.ref,
        )
    return None


def pod_name_link(cluster: ClusterDns, pod: Pod, svc: Service) -> Link:
    """Return the first broken condition of ``<hostname>.<svc>`` for ``pod`` (rules 22, 23)."""
    return pod_links(cluster, pod, svc)[-1]


def pod_links(cluster: ClusterDns, pod: Pod, svc: Service) -> list[Link]:
    """Return the conditions of ``<hostname>.<svc>`` for ``pod``, up to the first broken one.

    In order: the pod's subdomain names the Service, the Service selects the pod,
    the pod has an IP and is not terminal, its endpoint is ready (or
    ``publishNotReadyAddresses`` is set), and the slices carry it.
    """
    links: list[Link] = []
    for step in (_subdomain_link, _selected_link, _pod_ip_link, _pod_ready_link, _slice_link):
        link = step(cluster, pod, svc)
        links.append(link)
        if not link.ok:
            break
    return links


def _subdomain_link(cluster: ClusterDns, pod: Pod, svc: Service) -> Link:
    if pod.subdomain == svc.name:
        return Link(
            check="subdomain",
            ok=True,
            detail=f"pod {pod.name} has subdomain {svc.name!r}",
            rules=("R4",),
            subject=pod.ref,
        )
    return Link(
        check="subdomain",
        ok=False,
        detail=f"pod {pod.name} has subdomain {pod.subdomain or '(none)'!r}, not {svc.name!r}",
        rules=("R4", "R23"),
        fix=f"set spec.subdomain (a StatefulSet's serviceName) to {svc.name!r}",
        subject=pod.ref,
    )


def _selected_link(cluster: ClusterDns, pod: Pod, svc: Service) -> Link:
    where = f"{svc.namespace}/{svc.name}"
    if selector_matches(svc.selector, pod.labels):
        return Link(
            check="selected",
            ok=True,
            detail=f"Service {where} selects pod {pod.name}",
            rules=("R22",),
            subject=pod.ref,
        )
    return Link(
        check="selected",
        ok=False,
        detail=f"Service {where} does not select pod {pod.name} (selector vs pod labels)",
        rules=("R22", "R23"),
        fix="make the Service selector match the pod template labels",
        subject=pod.ref,
    )


def _slice_link(cluster: ClusterDns, pod: Pod, svc: Service) -> Link:
    if cluster.settings.noendpoints:
        return Link(
            check="noendpoints",
            ok=False,
            detail="the Corefile sets noendpoints, so per-pod names never exist",
            rules=("R41",),
            fix="remove noendpoints from the kubernetes block",
        )
    where = f"{svc.namespace}/{svc.name}"
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


def _pod_ip_link(cluster: ClusterDns, pod: Pod, svc: Service) -> Link:
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
    return Link(
        check="pod IP",
        ok=True,
        detail=f"pod {pod.name} has IP {', '.join(pod.pod_ips)}",
        rules=("R3",),
        subject=pod.ref,
    )


def _pod_ready_link(cluster: ClusterDns, pod: Pod, svc: Service) -> Link:
    where = f"{svc.namespace}/{svc.name}"
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
    detail = (
        f"pod {pod.name} is ready"
        if pod.ready and not pod.deleting
        else f"pod {pod.name} is not ready, but Service {where} sets publishNotReadyAddresses"
    )
    return Link(check="ready", ok=True, detail=detail, rules=("R2", "R3"), subject=pod.ref)


def _slice_endpoint_ready(cluster: ClusterDns, pod: Pod, svc: Service) -> bool | None:
    """Return the slice's ready condition for ``pod`` under ``svc``, None when it is in no slice."""
    ep = cluster.slice_endpoint(svc.namespace, svc.name, pod)
    return ep.is_ready if ep is not None else None


def selected_pods(cluster: ClusterDns, svc: Service) -> list[Pod]:
    """Return the pods a Service's selector matches, in its namespace."""
    return cluster.selected_pods(svc)


def first_broken(chain: list[Link]) -> Link | None:
    """Return the first link that failed, if any."""
    return next((link for link in chain if not link.ok), None)
