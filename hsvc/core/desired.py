"""The cluster manifests describe, once its controllers have done their work.

Manifests hold Services and pod templates but no pods, no EndpointSlices and
often no cluster IPs: asked as they are, every per-pod name would be NXDOMAIN.
:func:`desired_snapshot` adds what the controllers would write for them -- the
pods of each StatefulSet (``<sts>-<ordinal>``, hostname and subdomain as
dns-records.md rule 21 says) and Deployment, every pod ready and with an
address, one EndpointSlice per selecting Service with hostnames only where the
pod's subdomain names that Service (rule 4) and the target ports (rule 5), and a
cluster IP for each ClusterIP Service without one -- so that the answer engine
can say which names will exist. Addresses come from 198.18.0.0/15 (RFC 2544,
never routed) and are never shown: only whether a name answers is read.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from hsvc.core.model import (
    MAX_DESIRED_ORDINALS,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    ObjectRef,
    Pod,
    Service,
    Snapshot,
    StatefulSet,
    labels_of,
    selector_matches,
)

__all__ = ["desired_snapshot", "stateful_set_pod"]

_POD_NET = ipaddress.IPv4Network("198.18.0.0/16")
_SERVICE_NET = ipaddress.IPv4Network("198.19.0.0/16")
_SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def stateful_set_pod(sts: StatefulSet, name: str, *, has_status: bool = True) -> Pod:
    """Pod ``name`` as the StatefulSet controller creates it (dns-records.md rule 21).

    ``spec.hostname`` is its name, ``spec.subdomain`` the StatefulSet's serviceName,
    its labels the template's.
    """
    return Pod(
        namespace=sts.namespace,
        name=name,
        labels=sts.template_labels,
        hostname=name,
        subdomain=sts.service_name,
        owner=sts.ref,
        has_status=has_status,
    )


def desired_snapshot(snapshot: Snapshot) -> Snapshot:
    """Return ``snapshot`` with the pods, slices and cluster IPs its controllers would add.

    Services that already have EndpointSlices keep them; pods already present are
    kept (given an address if they have none) and not duplicated.
    """
    pods = list(snapshot.pods)
    have = {(p.namespace, p.name) for p in pods}
    for sts in snapshot.stateful_sets:
        for ordinal in range(min(max(0, sts.replicas), MAX_DESIRED_ORDINALS)):
            name = f"{sts.name}-{ordinal}"
            if (sts.namespace, name) in have:
                continue
            have.add((sts.namespace, name))
            pods.append(stateful_set_pod(sts, name))
    for deploy in snapshot.deployments:
        for index in range(min(max(0, deploy.replicas), MAX_DESIRED_ORDINALS)):
            name = f"{deploy.name}-desired-{index}"
            pods.append(
                Pod(
                    namespace=deploy.namespace,
                    name=name,
                    labels=deploy.template_labels,
                    hostname=deploy.template_hostname,
                    subdomain=deploy.template_subdomain,
                    owner=ObjectRef(kind="ReplicaSet", namespace=deploy.namespace, name=name),
                )
            )
    addressed = [
        p if p.pod_ips else replace(p, pod_ips=(str(_POD_NET[i + 1]),), ready=True)
        for i, p in enumerate(pods)
    ]
    with_slices = {(s.namespace, s.service_name) for s in snapshot.endpoint_slices}
    slices = list(snapshot.endpoint_slices)
    services: list[Service] = []
    for i, svc in enumerate(snapshot.services):
        if not svc.is_external_name and not svc.is_headless and not svc.cluster_ips:
            svc = replace(svc, cluster_ips=(str(_SERVICE_NET[i + 1]),))
        services.append(svc)
        if svc.is_external_name or not svc.selector or (svc.namespace, svc.name) in with_slices:
            continue
        slices.append(_slice(svc, addressed))
    return replace(
        snapshot,
        services=tuple(services),
        pods=tuple(addressed),
        endpoint_slices=tuple(slices),
    )


def _slice(svc: Service, pods: list[Pod]) -> EndpointSlice:
    endpoints = tuple(
        Endpoint(
            addresses=p.pod_ips[:1],
            ready=True,
            serving=True,
            terminating=False,
            # Rule 4: the controller writes the hostname only under the pod's subdomain.
            hostname=p.hostname if p.subdomain == svc.name else "",
            target_ref=p.ref,
        )
        for p in pods
        if p.namespace == svc.namespace and selector_matches(svc.selector, p.labels)
    )
    ports = tuple(
        EndpointPort(
            name=sp.name,
            protocol=sp.protocol,
            # Rule 5: slices carry the target port; a named one resolves per pod, the
            # Service port is the best stand-in without the container spec.
            port=sp.target_port if isinstance(sp.target_port, int) else sp.port,
        )
        for sp in svc.ports
    )
    return EndpointSlice(
        namespace=svc.namespace,
        name=f"{svc.name}-desired",
        service_name=svc.name,
        endpoints=endpoints,
        ports=ports,
        labels=labels_of({_SERVICE_NAME_LABEL: svc.name}),
    )
