"""Why a name the objects suggest does not exist: the causes the engine walks to.

When a Service, an endpoint name or a reverse address does not answer, the
engine (:mod:`hsvc.core.forward`, :mod:`hsvc.core.reverse`) goes on to the
cause and records it as trace steps: which pod, which condition of
:mod:`hsvc.core.conditions`, which rule. Each function here is one such walk.
"""

from __future__ import annotations

from hsvc.core import conditions, names
from hsvc.core.clusterindex import ClusterIndex
from hsvc.core.lookup import SliceEndpoint
from hsvc.core.model import Pod, Service, Step


def missing_service_step(c: ClusterIndex, namespace: str, svc_name: str) -> Step:
    """Why there is no Service ``svc_name`` in ``namespace`` (rule 23), with the likely fix."""
    elsewhere = sorted(ns for (ns, n) in c.services if n == svc_name and ns != namespace)
    governed = sorted(s.name for s in c.stateful_sets_by_service.get((namespace, svc_name), []))
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
            f"ask {svc_name}.{elsewhere[0]}.svc.{c.settings.primary_zone}, or create the "
            f"Service in {namespace}"
        )
    else:
        fix = f"check the Service name, or create Service {svc_name!r} in {namespace}"
    return Step(check="service", ok=False, detail=detail, rules=("R23",), fix=fix)


def no_ready_steps(c: ClusterIndex, svc: Service) -> list[Step]:
    """Why a headless Service has no ready endpoint (rules 2, 3, 16)."""
    pods = c.selected_pods(svc)
    all_eps = c.slice_endpoints.get((svc.namespace, svc.name), [])
    predicted = (svc.namespace, svc.name) in c.predicted_slices
    not_ready = [e for e in all_eps if not conditions.published(e.endpoint)]
    rules = ("R16", "R2", "R3")
    if not_ready:
        first = not_ready[0]
        pod = c.pod_of(first.endpoint.target_ref)
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
    elif not pods and not c.pods_by_namespace.get(svc.namespace):
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
            p.name for p in pods if conditions.in_slices(p) and not conditions.ready_written(svc, p)
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


def endpoint_cause(
    c: ClusterIndex, svc: Service, label: str, *, failed_only: bool = False
) -> list[Step]:
    """Why no ready endpoint of ``svc`` is named ``label`` (rules 2-6, 17, 21-23).

    ``failed_only``: the steps that hold are left out, unworded (the walk and its
    failed step are the same; an answer built without its trace reads nothing else).
    """
    ns = svc.namespace
    # 1. An endpoint has this name but is not published: readiness (rule 2).
    named = c.slice_endpoints_by_name.get((ns, svc.name, label))
    unpublished = [e for e in named if not conditions.published(e.endpoint)] if named else []
    if unpublished:
        return _unpublished_cause(c, svc, label, unpublished, failed_only=failed_only)
    # 2. A pod has this hostname: a condition on the pod.
    hostnamed = c.pods_by_hostname.get((ns, label))
    pods = sorted(hostnamed, key=lambda p: p.subdomain != svc.name) if hostnamed else []
    if pods:
        failed = conditions.pod_steps(c, pods[0], svc, failed_only=failed_only)
        if failed_only:
            return failed
        return [
            Step(
                check="hostname",
                ok=True,
                detail=f"no ready endpoint is named {label!r} yet, but pod {pods[0].name} has "
                f"hostname {label!r}",
                rules=("R6", "R21"),
                subject=pods[0].ref,
            ),
            *failed,
        ]
    # 3. A StatefulSet ordinal that does not exist (yet).
    missing = stateful_set_step(c, svc, label)
    if missing is not None:
        return [missing]
    # 4. The dashed IP of a pod, or a pod name under endpoint_pod_names.
    address = names.ip_from_pod_label(label)
    by_ip = c.pods_by_any_ip.get(address, ()) if address else ()
    by_name = c.pods_by_name.get((ns, label), ())
    candidate = next((p for p in [*by_ip, *by_name] if p.namespace == ns), None)
    if candidate is not None:
        return _labelled_pod_cause(
            c, svc, label, candidate, named=bool(by_name), failed_only=failed_only
        )
    return [
        Step(
            check="endpoint",
            ok=False,
            detail=f"no ready endpoint of Service {ns}/{svc.name} is named {label!r}, "
            f"and no pod in {ns} has hostname {label!r}",
            rules=("R6", "R17", "R21"),
            fix="per-pod names need spec.hostname + spec.subdomain (StatefulSet pods get both)",
            subject=svc.ref,
        )
    ]


def _unpublished_cause(
    c: ClusterIndex,
    svc: Service,
    label: str,
    unpublished: list[SliceEndpoint],
    *,
    failed_only: bool = False,
) -> list[Step]:
    """``label`` names endpoints that are not published: the pod's conditions, or readiness."""
    where = f"{svc.namespace}/{svc.name}"
    found_pod = next(
        ((p, e) for e in unpublished if (p := c.pod_of(e.endpoint.target_ref)) is not None),
        None,
    )
    if found_pod is not None:
        # The pod is known: walk its conditions (Ready, publishNotReadyAddresses). The
        # subdomain matters only when the slice names the endpoint by its hostname.
        known_pod, known_entry = found_pod
        by_hostname = known_entry.endpoint.hostname.lower() == label
        failed = conditions.pod_steps(
            c, known_pod, svc, by_hostname=by_hostname, failed_only=failed_only
        )
        if failed_only:
            return failed
        return [
            Step(
                check="hostname" if by_hostname else "endpoint",
                ok=True,
                detail=f"{label!r} is the name of pod {known_pod.name}'s endpoint in "
                f"Service {where}'s EndpointSlice, which is not published",
                rules=("R6",),
                subject=known_pod.ref,
            ),
            *failed,
        ]
    entry = unpublished[0]
    pod = c.pod_of(entry.endpoint.target_ref)
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


def _labelled_pod_cause(
    c: ClusterIndex, svc: Service, label: str, candidate: Pod, *, named: bool, failed_only: bool
) -> list[Step]:
    """``label`` is a pod's dashed IP (or its name, ``named``): why its endpoint is not so named."""
    ns = svc.namespace
    where = f"{ns}/{svc.name}"
    steps = (
        []
        if failed_only
        else [
            Step(
                check="endpoint",
                ok=True,
                detail=f"{label!r} would name pod {candidate.name}",
                rules=("R6",),
                subject=candidate.ref,
            )
        ]
    )
    # Listed in the slices or not, the label is the question here.
    walked = conditions.pod_steps(
        c, candidate, svc, by_hostname=False, slices=False, failed_only=failed_only
    )
    steps.extend(walked)
    if walked and not walked[-1].ok:
        return steps
    # The pod is listed, ready, but known by another label (rule 6).
    owned = c.slice_endpoint_of_pod.get((ns, svc.name, candidate.name))
    known = owned.name if owned is not None else ""
    if named and not c.settings.endpoint_pod_names:
        fix = (
            f"pod {label} has no hostname, so its endpoint is named by its dashed IP"
            + (f" ({known})" if known else "")
            + "; give it hostname+subdomain, or enable endpoint_pod_names in the Corefile"
        )
    elif known:
        fix = f"ask {known}.{svc.name}.{ns}.svc.{c.settings.primary_zone}"
    else:
        fix = "per-pod names need spec.hostname + spec.subdomain (StatefulSet pods get both)"
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


def stateful_set_step(c: ClusterIndex, svc: Service, label: str) -> Step | None:
    """Explain ``<sts>-<n>`` when StatefulSet pod ``n`` does not exist."""
    for sts in c.stateful_sets_by_service.get((svc.namespace, svc.name), []):
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


def ptr_cause(c: ClusterIndex, qname: str, address: str) -> list[Step]:
    """Why an address has no PTR (rules 35-37)."""
    upstream = any(names.is_subdomain(qname, z) for z in c.settings.fallthrough)
    tail = "; with fallthrough, the upstream resolver answers instead" if upstream else ""
    unpublished = [
        e for e in c.slice_endpoints_by_ip.get(address, []) if not conditions.published(e.endpoint)
    ]
    if unpublished:
        entry = unpublished[0]
        pod = c.pod_of(entry.endpoint.target_ref)
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
    pods = c.pods_by_any_ip.get(address, ())
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
