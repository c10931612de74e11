"""Which objects bear on one Service's DNS names (pure: the kube adapter uses it to trim reads)."""

from __future__ import annotations

from collections.abc import Iterable

from hsvc.core.model import EndpointSlice, Pod, Service, StatefulSet, selector_matches


def pods_for_service(
    service: Service,
    slices: Iterable[EndpointSlice],
    stateful_sets: Iterable[StatefulSet],
    pods: Iterable[Pod],
) -> tuple[Pod, ...]:
    """Keep the pods that bear on one Service's DNS names (see ``KubeSource.snapshot``)."""
    referenced = {
        e.target_ref.name
        for s in slices
        for e in s.endpoints
        if e.target_ref is not None and e.target_ref.kind == "Pod"
    }
    sts_names = {s.name for s in stateful_sets}
    sts_selectors = [s.selector for s in stateful_sets]
    return tuple(
        p
        for p in pods
        if selector_matches(service.selector, p.labels)
        or p.subdomain == service.name
        or p.name in referenced
        or (p.owner is not None and p.owner.kind == "StatefulSet" and p.owner.name in sts_names)
        or any(sel.matches(p.labels) for sel in sts_selectors if sel.match_labels)
    )
