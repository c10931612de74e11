"""The conditions cluster DNS depends on, each decided in one place.

Selected by a Service, in the slices at all, ready / serving / terminating,
hostname written, governing Service, publishNotReadyAddresses: each is one
function over the objects and the indexes :class:`~hsvc.core.cluster.ClusterDns`
builds. The answer engine calls them while it decides (and records the outcome
in its trace), and the diagnostics read the same functions; nothing else words
or re-derives them.

:func:`pod_steps` walks the conditions of one pod's ``<hostname>.<svc>`` name in
the order the EndpointSlice controller and CoreDNS apply them, as trace steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeGuard

from hsvc.core.model import (
    DnsSettings,
    Endpoint,
    Labels,
    Pod,
    Service,
    Snapshot,
    Step,
    selector_matches,
)


class Indexes(Protocol):
    """The indexes of :class:`hsvc.core.cluster.ClusterDns` these conditions read."""

    @property
    def snapshot(self) -> Snapshot:
        """The objects."""

    @property
    def settings(self) -> DnsSettings:
        """The plugin's knobs."""

    def service(self, namespace: str, name: str) -> Service | None:
        """The Service the plugin sees under that name."""

    def has_slices(self, namespace: str, service: str) -> bool:
        """Whether any slice belongs to the Service."""

    def slice_endpoint(self, namespace: str, service: str, pod: Pod) -> Endpoint | None:
        """The pod's endpoint in the Service's slices."""


# --- predicates ---------------------------------------------------------------------


def selects(svc: Service, pod: Pod) -> bool:
    """Whether the Service's selector picks the pod (same namespace; no selector picks none)."""
    return selects_labels(svc, pod.namespace, pod.labels)


def selects_labels(svc: Service, namespace: str, labels: Labels) -> bool:
    """Whether the Service's selector picks pods with ``labels`` in ``namespace`` (templates)."""
    return svc.namespace == namespace and selector_matches(svc.selector, labels)


def in_slices(pod: Pod) -> bool:
    """Whether the EndpointSlice controller lists the pod at all: it has an IP, not finished.

    dns-records.md rule 3: pending pods without an IP and Succeeded/Failed pods
    are never written; terminating pods are (with ``terminating: true``).
    """
    return bool(pod.pod_ips) and not pod.is_terminal


def hostname_written(svc: Service, pod: Pod) -> bool:
    """Whether the controller writes the pod's hostname into the Service's slices (rule 4)."""
    return bool(pod.hostname) and pod.subdomain == svc.name and pod.namespace == svc.namespace


def publishes_not_ready(svc: Service) -> bool:
    """Whether the Service publishes not-ready and terminating endpoints (rule 3)."""
    return svc.publish_not_ready_addresses


def ready_written(svc: Service, pod: Pod) -> bool:
    """The ``ready`` condition the controller writes for the pod (rule 3).

    ``publishNotReadyAddresses || (pod Ready && not terminating)``.
    """
    return publishes_not_ready(svc) or (pod.ready and not pod.deleting)


def serving_written(pod: Pod) -> bool:
    """The ``serving`` condition the controller writes: the pod's Ready condition (rule 3)."""
    return pod.ready


def terminating_written(pod: Pod) -> bool:
    """The ``terminating`` condition the controller writes: ``deletionTimestamp`` set (rule 3)."""
    return pod.deleting


def published(ep: Endpoint) -> bool:
    """Whether CoreDNS publishes a slice endpoint: ``ready`` true or absent (rule 2)."""
    return ep.is_ready


def serving(ep: Endpoint) -> bool:
    """Whether a slice endpoint is serving: ``serving`` as written, absent defers to ``ready``.

    That is the field's API contract (discovery/v1 EndpointConditions). With
    publishNotReadyAddresses a pod that is not Ready is ``ready`` (published) but
    not serving (rule 3).
    """
    return ep.is_ready if ep.serving is None else ep.serving


def terminating(ep: Endpoint) -> bool:
    """Whether a slice endpoint is terminating (absent means not, rule 3)."""
    return bool(ep.terminating)


def verified_pod(pod: Pod) -> bool:
    """Whether ``pods verified`` indexes the pod: not Succeeded/Failed/Unknown (rule 30).

    CoreDNS lists pods with a field selector on the phase; hostNetwork pods are
    indexed too (their podIP is the node's).
    """
    return pod.phase not in ("Succeeded", "Failed", "Unknown") and bool(pod.pod_ips)


def governing_services(cluster: Indexes, pod: Pod) -> list[Service]:
    """Return the Service under which the pod has its ``<hostname>`` name (rules 4, 22).

    That is the Service named by the pod's subdomain, in its namespace, when it
    selects the pod (empty when the pod has no hostname or no such Service).
    """
    if not pod.hostname or not pod.subdomain:
        return []
    svc = cluster.service(pod.namespace, pod.subdomain)
    if svc is None or svc.is_external_name or not selects(svc, pod):
        return []
    return [svc]


_CONDITION_WORDS = {None: "absent", True: "true", False: "false"}


def condition_text(ep: Endpoint) -> str:
    """Say an endpoint's conditions as the EndpointSlice holds them (absent shown as such)."""
    word = _CONDITION_WORDS
    return f"ready={word[ep.ready]}, serving={word[ep.serving]}, terminating={word[ep.terminating]}"


def pod_state_text(pod: Pod) -> str:
    """Say the pod's Ready condition and whether it is terminating."""
    state = f"Ready={'True' if pod.ready else 'False'}"
    if pod.deleting:
        state += ", terminating (deletionTimestamp set)"
    return state


# --- the conditions of one pod's per-pod name, as trace steps --------------------------


def pod_steps(
    cluster: Indexes,
    pod: Pod,
    svc: Service,
    *,
    by_hostname: bool = True,
    slices: bool = True,
    failed_only: bool = False,
) -> list[Step]:
    """Return the conditions of ``<hostname>.<svc>`` for ``pod``, up to the first failed one.

    In order: the pod's subdomain names the Service, the Service selects the pod,
    the pod has an IP and is not terminal, its endpoint is ready (or
    ``publishNotReadyAddresses`` is set), and the slices carry it. Without
    ``by_hostname`` (a dashed-IP or pod-name label) the subdomain does not matter;
    without ``slices`` the walk stops before the slices (a caller whose question
    is the label, not whether the slices list the pod). ``failed_only``: the
    conditions that hold are checked but not worded, so only the failed step is
    returned (an answer built without its trace reads nothing else).
    """
    steps: list[Step] = []
    for check, holds in _WALKS[by_hostname, slices]:
        if failed_only and holds(cluster, pod, svc):
            continue
        step = check(cluster, pod, svc)
        steps.append(step)
        if not step.ok:
            break
    return steps


def _about(
    pod: Pod, check: str, ok: bool, detail: str, rules: tuple[str, ...], fix: str = ""
) -> Step:
    """One condition of ``pod``'s per-pod name as a trace step about the pod."""
    return Step(check=check, ok=ok, detail=detail, rules=rules, fix=fix, subject=pod.ref)


def _subdomain_step(cluster: Indexes, pod: Pod, svc: Service) -> Step:
    if pod.subdomain == svc.name:
        return _about(
            pod,
            "subdomain",
            True,
            f"pod {pod.name} has subdomain {svc.name!r}",
            ("R4",),
        )
    governing = governing_services(cluster, pod)
    fix = f"set spec.subdomain (a StatefulSet's serviceName) to {svc.name!r}"
    if governing:
        # The pod already has its per-pod name elsewhere: point there, never at a
        # change that would make this Service govern it (HSVC104 warns against that).
        other = governing[0]
        fix = (
            f"ask {pod.hostname}.{other.name}.{other.namespace}.svc."
            f"{cluster.settings.primary_zone}, the name Service {other.name} gives it"
        )
    return _about(
        pod,
        "subdomain",
        False,
        f"pod {pod.name} has subdomain {pod.subdomain or '(none)'!r}, not {svc.name!r}: "
        f"the controller writes its hostname only into the slices of Service "
        f"{pod.subdomain or '(none)'}",
        ("R4", "R23"),
        fix,
    )


def _selected_step(cluster: Indexes, pod: Pod, svc: Service) -> Step:
    where = f"{svc.namespace}/{svc.name}"
    if selects(svc, pod):
        return _about(
            pod,
            "selected",
            True,
            f"Service {where} selects pod {pod.name}",
            ("R22",),
        )
    if not svc.selector:
        detail = f"Service {where} has no selector, so no controller lists pod {pod.name}"
        fix = "add a selector, or list the pod in a hand-written EndpointSlice with its hostname"
    else:
        detail = f"Service {where} does not select pod {pod.name} (selector vs pod labels)"
        fix = "make the Service selector match the pod template labels"
    return Step(
        check="selected", ok=False, detail=detail, rules=("R22", "R23"), fix=fix, subject=pod.ref
    )


def _ip_step(cluster: Indexes, pod: Pod, svc: Service) -> Step:
    if not pod.pod_ips:
        return _about(
            pod,
            "pod IP",
            False,
            f"pod {pod.name} has no IP yet (Pending)",
            ("R3",),
            "wait for the pod to be scheduled and started",
        )
    if pod.is_terminal:
        return _about(
            pod,
            "phase",
            False,
            f"pod {pod.name} is {pod.phase}: finished pods are in no EndpointSlice",
            ("R3",),
        )
    return _about(
        pod,
        "pod IP",
        True,
        f"pod {pod.name} has IP {', '.join(pod.pod_ips)}",
        ("R3",),
    )


def _slice_lags(ep: Endpoint | None, pod: Pod) -> TypeGuard[Endpoint]:
    """The pod is ready but its slice endpoint still says not ready (rules 2, 3)."""
    return ep is not None and not published(ep) and pod.ready and not pod.deleting


def _ready_step(cluster: Indexes, pod: Pod, svc: Service) -> Step:
    where = f"{svc.namespace}/{svc.name}"
    ep = cluster.slice_endpoint(svc.namespace, svc.name, pod)
    if _slice_lags(ep, pod):
        return _about(
            pod,
            "ready",
            False,
            f"the endpoint of pod {pod.name} in Service {where}'s EndpointSlice is not "
            f"ready ({condition_text(ep)}) while the pod is {pod_state_text(pod)}: the pod was "
            "not ready when the slice was written, publishNotReadyAddresses is off, and CoreDNS "
            "publishes only ready endpoints",
            ("R2", "R3", "R22"),
            (
                "wait for the slice to catch up with the pod's readiness; if peers must resolve "
                f"each other before they are ready, set publishNotReadyAddresses: true on "
                f"Service {svc.name}"
            ),
        )
    if not ready_written(svc, pod):
        slice_text = f" (its endpoint has {condition_text(ep)})" if ep is not None else ""
        return _about(
            pod,
            "ready",
            False,
            f"pod {pod.name} is {'terminating' if pod.deleting else 'not ready'} "
            f"({pod_state_text(pod)}){slice_text} and Service {where} does not set "
            "publishNotReadyAddresses: its endpoint is not ready, and CoreDNS publishes only "
            "ready endpoints",
            ("R2", "R3", "R22"),
            (
                "wait for the readiness probe; if peers must resolve each other before they are "
                f"ready (Kafka, ZooKeeper, etcd), set publishNotReadyAddresses: true on Service "
                f"{svc.name} (terminating pods then stay in DNS too)"
            ),
        )
    if pod.ready and not pod.deleting:
        detail = f"pod {pod.name} is ready"
        if ep is not None:
            detail += f" ({condition_text(ep)})"
    else:
        detail = (
            f"pod {pod.name} is not ready ({pod_state_text(pod)}), but Service {where} sets "
            "publishNotReadyAddresses, so its endpoint is written ready"
        )
    return Step(check="ready", ok=True, detail=detail, rules=("R2", "R3"), subject=pod.ref)


def _slice_step(cluster: Indexes, pod: Pod, svc: Service) -> Step:
    where = f"{svc.namespace}/{svc.name}"
    if cluster.settings.noendpoints:
        return _about(
            pod,
            "noendpoints",
            False,
            "the Corefile sets noendpoints, so per-pod names never exist",
            ("R41",),
            "remove noendpoints from the kubernetes block",
        )
    if not cluster.has_slices(svc.namespace, svc.name) and not cluster.snapshot.endpoint_slices:
        return _about(
            pod,
            "endpoint slice",
            False,
            "the input holds no EndpointSlices at all, and the pod does not qualify for "
            "the slices the controller will write",
            ("R1", "R3"),
        )
    return _about(
        pod,
        "endpoint slice",
        False,
        f"pod {pod.name} qualifies, but no ready endpoint of Service {where} carries "
        f"hostname {pod.hostname!r}: the EndpointSlices lag behind the pod",
        ("R1", "R4"),
        f"kubectl get endpointslices -n {svc.namespace} "
        f"-l kubernetes.io/service-name={svc.name} -o yaml",
    )


# What each pod condition step checks, for tests and diagnostics that need the
# predicate behind a step (a failed step's condition is false for its subject).
POD_CONDITIONS: dict[str, Callable[[Indexes, Pod, Service], bool]] = {
    "subdomain": lambda c, pod, svc: pod.subdomain == svc.name,
    "selected": lambda c, pod, svc: selects(svc, pod),
    "pod IP": lambda c, pod, svc: bool(pod.pod_ips),
    "phase": lambda c, pod, svc: not pod.is_terminal,
    "ready": lambda c, pod, svc: (
        ready_written(svc, pod)
        and not _slice_lags(c.slice_endpoint(svc.namespace, svc.name, pod), pod)
    ),
}

_Check = Callable[[Indexes, Pod, Service], Step]
# The walk of pod_steps, and for each of its steps when it holds (the slice step never does).
_CHECKS: tuple[_Check, ...] = (_subdomain_step, _selected_step, _ip_step, _ready_step, _slice_step)
_HOLDS: tuple[Callable[[Indexes, Pod, Service], bool], ...] = (
    POD_CONDITIONS["subdomain"],
    POD_CONDITIONS["selected"],
    lambda c, pod, svc: in_slices(pod),
    POD_CONDITIONS["ready"],
    lambda c, pod, svc: False,
)
# Each walk of pod_steps as (check, holds) pairs, by (by_hostname, slices): without
# by_hostname the subdomain step is left out, without slices the slice step.
_WALKS = {
    (by_hostname, slices): tuple(
        zip(
            _CHECKS[0 if by_hostname else 1 : None if slices else -1],
            _HOLDS[0 if by_hostname else 1 : None if slices else -1],
            strict=True,
        )
    )
    for by_hostname in (True, False)
    for slices in (True, False)
}
