"""The cluster DNS server's own objects, read through the API: Corefile, Service, replicas.

:class:`DnsReads` is the part of :class:`~hsvc.adapters.kubeapi.KubeSource` that
reads where cluster DNS is configured (:meth:`DnsReads.dns_config`), what the
resolver path is made of (:meth:`DnsReads.path_objects`) and which pods serve it
(:meth:`DnsReads.dns_replicas`). A constant number of requests each; 403 and 404
are noted where the answer can do without them.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hsvc.adapters.convert import (
    SERVICE_NAME_LABEL,
    config_text_from_dict,
    dns_workload_from_dict,
    network_policy_from_dict,
    pod_from_dict,
    service_from_dict,
    slice_from_dict,
)
from hsvc.adapters.kubebatch import BatchClient, noted
from hsvc.adapters.kuberest import ApiStatus, Request, forbidden_note, get_request, list_request
from hsvc.adapters.kubestreams import StreamClient
from hsvc.core.dataclass import dataclass
from hsvc.core.dnspath import ConfigText, PathObjects
from hsvc.core.model import EndpointSlice, NetworkPolicy, Pod, Service

T = TypeVar("T")

# Where distributions keep the CoreDNS Corefile, most common first. kubeadm,
# kind, k3s, EKS, AKS, minikube and MicroK8s all use kube-system/coredns.
COREFILE_CONFIGMAPS: tuple[tuple[str, str], ...] = (
    ("kube-system", "coredns"),
    ("kube-system", "rke2-coredns-rke2-coredns"),  # RKE2's Helm chart
    ("openshift-dns", "dns-default"),  # OpenShift's DNS operator
)
# The cluster DNS Service whose clusterIP pods get as their nameserver.
DNS_SERVICES: tuple[tuple[str, str], ...] = (
    ("kube-system", "kube-dns"),  # kubeadm, kind, k3s, EKS, AKS, GKE
    ("kube-system", "rke2-coredns-rke2-coredns"),
    ("openshift-dns", "dns-default"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsConfig:
    """Where cluster DNS is configured: the Corefile text and the DNS Service's IP."""

    corefile: str | None
    # Where ``corefile`` came from ("ConfigMap kube-system/coredns"), or why there is none.
    source: str
    kube_dns_ip: str | None
    # The DNS Service's namespace and pod selector ("k8s-app=kube-dns"): its replicas.
    dns_namespace: str = "kube-system"
    dns_selector: str = "k8s-app=kube-dns"
    # The DNS Service itself and the Corefile ConfigMap's other keys (k3s NodeHosts).
    service: Service | None = None
    corefile_data: tuple[tuple[str, str], ...] = ()


class DnsReads(StreamClient, BatchClient):
    """Reads of the cluster DNS server's own objects (a part of ``KubeSource``)."""

    def _absent_ok(
        self, request: Request, deadline: float, unreadable: list[str]
    ) -> list[dict[str, object]]:
        """LIST a kind the cluster may not serve (HTTPRoute without Gateway API): 404 is empty."""
        try:
            return self._list_all(request, deadline)
        except ApiStatus as exc:
            if exc.status == 404:
                return []
            if exc.status != 403:
                raise self._translate(exc) from exc
            unreadable.append(forbidden_note(request))
            return []

    def dns_config(self, *, deadline: float | None = None) -> DnsConfig:
        """Read the CoreDNS Corefile and the cluster DNS Service's IP.

        Tries the ConfigMaps in :data:`COREFILE_CONFIGMAPS` and the Services in
        :data:`DNS_SERVICES` in order with one GET each, stopping at the first
        found; 404 and 403 move on to the next. The two searches run side by
        side (``_overlap``; the first GET alone while no answer has shown the
        credentials work). Parsing the Corefile is :mod:`hsvc.core.corefile`'s job.

        Raises:
            AccessDeniedError: Credentials rejected (401).
            ApiUnreachableError: Connection, TLS or timeout failure, or a server error.
        """
        if deadline is None:
            deadline = time.monotonic() + self._timeout
        (corefile, source, corefile_data), (dns_service, dns_namespace) = self.side_by_side(
            functools.partial(self._corefile, deadline),
            functools.partial(self._dns_service, deadline),
            deadline=deadline,
        )
        kube_dns_ip: str | None = None
        dns_selector = "k8s-app=kube-dns"
        if dns_service is not None:
            ips = dns_service.cluster_ips
            kube_dns_ip = ips[0] if ips and ips[0].lower() != "none" else None
            if dns_service.selector:
                dns_selector = ",".join(f"{k}={v}" for k, v in dns_service.selector)
            else:
                dns_namespace = "kube-system"
        return DnsConfig(
            corefile=corefile,
            source=source,
            kube_dns_ip=kube_dns_ip,
            dns_namespace=dns_namespace,
            dns_selector=dns_selector,
            service=dns_service,
            corefile_data=corefile_data,
        )

    def _corefile(self, deadline: float) -> tuple[str | None, str, tuple[tuple[str, str], ...]]:
        """The first Corefile of :data:`COREFILE_CONFIGMAPS`: (text or None, where, data)."""
        notes: list[str] = []
        for namespace, name in COREFILE_CONFIGMAPS:
            obj = self._get_optional(get_request("configmaps", namespace, name), deadline, notes)
            if obj is None:
                continue
            data = obj.get("data")
            text = data.get("Corefile") if isinstance(data, dict) else None
            if isinstance(text, str) and isinstance(data, dict):
                corefile_data = tuple(
                    (str(k), v) for k, v in sorted(data.items()) if isinstance(v, str)
                )
                return text, f"ConfigMap {namespace}/{name}", corefile_data
            notes.append(f"{namespace}/{name} has no Corefile key")
        tried = ", ".join(f"{ns}/{n}" for ns, n in COREFILE_CONFIGMAPS)
        source = f"no Corefile found (tried ConfigMaps {tried})"
        if notes:
            source += f"; {'; '.join(notes)}"
        return None, source, ()

    def _dns_service(self, deadline: float) -> tuple[Service | None, str]:
        """The first Service of :data:`DNS_SERVICES` found, and its namespace."""
        for namespace, name in DNS_SERVICES:
            obj = self._get_optional(get_request("services", namespace, name), deadline, [])
            if obj is not None:
                return self._convert(service_from_dict, obj), namespace
        return None, "kube-system"

    def path_objects(
        self, dns: DnsConfig, *, deadline: float | None = None
    ) -> tuple[PathObjects, tuple[NetworkPolicy, ...]]:
        """Read what the resolver path is made of, and every NetworkPolicy.

        A constant number of requests: LIST the DNS Service's EndpointSlices (by
        its ``kubernetes.io/service-name`` label); GET the DNS Deployments
        (``coredns``, ``kube-dns``) and DaemonSets (``node-local-dns``, and
        OpenShift's ``dns-default``) by name; GET the ``coredns-custom`` and
        ``node-local-dns`` ConfigMaps; LIST networkpolicies in every namespace.
        403 and 404 are noted, never raised: the path is then partly unknown.
        They go out at once, as one by one would (``_overlap``), the first alone
        while no answer has shown the credentials work.

        Raises:
            AccessDeniedError: Credentials rejected (401).
            ApiUnreachableError: Connection, TLS or timeout failure, or a server error.
        """
        if deadline is None:
            deadline = time.monotonic() + self._timeout
        svc = dns.service
        namespace = dns.dns_namespace
        reads: list[Callable[[list[str]], Any]] = []
        if svc is not None:
            request = list_request(
                "endpointslices",
                svc.namespace,
                group="discovery.k8s.io",
                label_selector=f"{SERVICE_NAME_LABEL}={svc.name}",
            )
            reads.append(functools.partial(self._converted_ok, request, deadline, slice_from_dict))
        wanted = [
            ("Deployment", "deployments", namespace, "coredns"),
            ("Deployment", "deployments", namespace, "kube-dns"),
            ("DaemonSet", "daemonsets", "kube-system", "node-local-dns"),
        ]
        if namespace != "kube-system":
            wanted.append(("DaemonSet", "daemonsets", namespace, "dns-default"))
        gets = [get_request(resource, ns, name, group="apps") for _, resource, ns, name in wanted]
        gets += [
            get_request("configmaps", ns, name)
            for ns, name in ((namespace, "coredns-custom"), ("kube-system", "node-local-dns"))
        ]
        reads += [functools.partial(self._get_optional, request, deadline) for request in gets]
        policies = list_request("networkpolicies", None, group="networking.k8s.io")
        reads.append(
            functools.partial(self._converted_ok, policies, deadline, network_policy_from_dict)
        )
        outcomes = self._overlap(
            [functools.partial(noted, read) for read in reads], deadline, lead=not self.accepted
        )
        unreadable = [note for _, notes in outcomes for note in notes]
        found = [value for value, _ in outcomes]
        slices: tuple[EndpointSlice, ...] = found.pop(0) if svc is not None else ()
        workloads = [
            self._convert(functools.partial(dns_workload_from_dict, kind=kind), obj)
            for (kind, *_), obj in zip(wanted, found, strict=False)
            if obj is not None
        ]
        configs = [ConfigText(namespace=namespace, name="coredns", data=dns.corefile_data)]
        configs += [
            self._convert(config_text_from_dict, obj)
            for obj in found[len(wanted) : len(gets)]
            if obj is not None
        ]
        objects = PathObjects(
            service=svc,
            slices=slices,
            workloads=tuple(workloads),
            config_maps=tuple(configs),
            unreadable=tuple(unreadable),
        )
        return objects, found[-1]

    def _converted_ok(
        self,
        request: Request,
        deadline: float,
        converter: Callable[[Mapping[str, object]], T],
        unreadable: list[str],
    ) -> tuple[T, ...]:
        """A LIST the cluster may not serve, converted (``_absent_ok``)."""
        return tuple(
            self._convert(converter, o) for o in self._absent_ok(request, deadline, unreadable)
        )

    def dns_replicas(
        self,
        namespace: str = "kube-system",
        selector: str = "k8s-app=kube-dns",
        *,
        deadline: float | None = None,
    ) -> tuple[Pod, ...]:
        """List the cluster DNS pods (one LIST of pods with the DNS Service's selector).

        Raises:
            AccessDeniedError: pods may not be listed there (401/403).
            ApiUnreachableError: Connection, TLS or timeout failure, or a server error.
        """
        if deadline is None:
            deadline = time.monotonic() + self._timeout
        request = list_request("pods", namespace, label_selector=selector)
        pods = (self._convert(pod_from_dict, o) for o in self._required(request, deadline))
        return tuple(sorted(pods, key=lambda p: p.name))
