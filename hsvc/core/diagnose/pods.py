"""4xx pod names and hostnames (rules 4, 6, 17, 21-23)."""

from __future__ import annotations

from collections import defaultdict

from hsvc.core import conditions, names
from hsvc.core.diagnose.catalogue import (
    few,
)
from hsvc.core.diagnose.context import _Context
from hsvc.core.model import ObjectRef, Pod


class _PodChecks(_Context):
    """4xx pod names and hostnames (rules 4, 6, 17, 21-23)."""

    def pods(self) -> None:
        for pod in self.snap.pods:
            if not self.in_scope(pod.namespace):
                continue
            self.host_network(pod)
            if self.owned_by_workload(pod):
                continue
            self.hardcoded(pod.ref, pod.namespace, pod.hardcoded_names)
            self.pod_names(pod)

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
        for ns, pods in self.c.pods_by_namespace.items():
            if not self.in_scope(ns):
                continue
            groups: dict[tuple[str, str], list[Pod]] = defaultdict(list)
            for pod in pods:
                svc = self.c.service(ns, pod.subdomain) if pod.subdomain else None
                # Published under the governing Service's name: hostname written and ready.
                if (
                    svc is not None
                    and svc in conditions.governing_services(self.c, pod)
                    and pod.ready
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
            f"{label!r} ({few(holders, 3)}): {label}.{svc_name}.{ns}.svc answers all of them",
            "give each pod its own spec.hostname (a StatefulSet does)",
        )
