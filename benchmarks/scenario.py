"""A synthetic cluster for the benchmark: manifests and knotd zone files from one description.

The zone files are what CoreDNS would serve for the scenario, written by this
module's own few lines of logic (kubeadm Corefile: zone cluster.local, ttl 30,
pods insecure), never by hsvc's record model: the benchmark also checks that
hsvc's expected answers agree with them (every row "ok", or "too-large" where a
DNS message cannot hold the answer).

Scenario: namespace ``bench`` with an N-replica StatefulSet ``web`` behind a
headless Service ``web`` that has two named ports (http 8080, metrics 9090),
EndpointSlices of at most 100 endpoints (the controller's default), and M
ClusterIP Services ``api-0`` .. ``api-{M-1}`` with one named port each and no pods.

ManyServices: the scalability envelope, S Services of 15 pods each over S/100
namespaces (every fifth the headless Service of a StatefulSet, the others
ClusterIP Services over Deployment-like pods), as Kubernetes' thresholds put
it at 10,000 Services and 150,000 pods; built as dicts and zone lines directly,
a few seconds for the largest.

knotd 3.2.6 crashes on an SRV RRset of about 32,768 records, so an RRset of
more than :data:`MAX_RRSET` records is left out of the zone files (such an
answer is far over any DNS message's 64 KB anyway: those rows cannot be "ok").
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

NAMESPACE = "bench"
STS = "web"
ZONE = "cluster.local."
TTL = 30
PORTS = (("http", 8080), ("metrics", 9090))
API_PORT = ("grpc", 7000)
SLICE_SIZE = 100
MAX_RRSET = 16_000
PODS_PER_SERVICE = 15
SERVICES_PER_NAMESPACE = 100
KUBE_DNS_IP = "10.96.0.10"
SOA = "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30"
COREFILE = """\
.:53 {
    errors
    health
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
"""


@dataclass(frozen=True)
class Scenario:
    """N StatefulSet replicas behind one headless Service, M more Services in the namespace."""

    replicas: int
    services: int = 20

    def pod_ip(self, i: int) -> str:
        return str(ipaddress.IPv4Address("10.64.0.0") + 1 + i)

    def api_ip(self, j: int) -> str:
        return str(ipaddress.IPv4Address("10.96.1.0") + 1 + j)

    # --- manifests ---------------------------------------------------------------

    def objects(self) -> list[dict[str, Any]]:
        """Every object, as ``kubectl get -o json`` shows them."""
        ns = NAMESPACE
        out: list[dict[str, Any]] = [
            _namespace("default"),
            *_cluster_dns(),
            _namespace(ns),
            _service(ns, STS, "None", list(PORTS), {"app": STS}),
        ]
        out.append(
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": STS, "namespace": ns},
                "spec": {
                    "serviceName": STS,
                    "replicas": self.replicas,
                    "selector": {"matchLabels": {"app": STS}},
                    "template": {
                        "metadata": {"labels": {"app": STS}},
                        "spec": {"containers": [{"name": "app", "image": "example/web:1"}]},
                    },
                },
            }
        )
        for i in range(self.replicas):
            out.append(self._pod(i))
        for start in range(0, self.replicas, SLICE_SIZE):
            out.append(self._slice(start, min(start + SLICE_SIZE, self.replicas)))
        for j in range(self.services):
            out.append(_service(ns, f"api-{j}", self.api_ip(j), [API_PORT], {"app": f"api-{j}"}))
        return out

    def _pod(self, i: int) -> dict[str, Any]:
        name = f"{STS}-{i}"
        ip = self.pod_ip(i)
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": NAMESPACE,
                "labels": {"app": STS, "apps.kubernetes.io/pod-index": str(i)},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "StatefulSet",
                        "name": STS,
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "hostname": name,
                "subdomain": STS,
                "containers": [{"name": "app", "image": "example/web:1"}],
            },
            "status": {
                "phase": "Running",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }

    def _slice(self, start: int, end: int) -> dict[str, Any]:
        return {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{STS}-{start // SLICE_SIZE:05d}",
                "namespace": NAMESPACE,
                "labels": {"kubernetes.io/service-name": STS},
            },
            "addressType": "IPv4",
            "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in PORTS],
            "endpoints": [
                {
                    "addresses": [self.pod_ip(i)],
                    "hostname": f"{STS}-{i}",
                    "conditions": {"ready": True, "serving": True, "terminating": False},
                    "targetRef": {"kind": "Pod", "namespace": NAMESPACE, "name": f"{STS}-{i}"},
                }
                for i in range(start, end)
            ],
        }

    # --- zone files ----------------------------------------------------------------

    def cluster_rows(self) -> list[tuple[str, str, str]]:
        """``(owner relative to cluster.local, type, data)`` rows CoreDNS serves for the scope."""
        ns, n = NAMESPACE, self.replicas
        base = f"{STS}.{ns}.svc"
        rows: list[tuple[str, str, str]] = []
        # Headless: the Service name holds every ready address; SRV one per (pod, port)
        # with weight 100 / (number of records), at least 1.
        srv_all = max(1, 100 // (n * len(PORTS)))
        srv_one = max(1, 100 // n)
        # RRsets knotd cannot hold are left out (see the module docstring).
        with_all = n * len(PORTS) <= MAX_RRSET
        with_one = n <= MAX_RRSET
        for i in range(n):
            ip, host = self.pod_ip(i), f"{STS}-{i}"
            target = f"{host}.{base}.{ZONE}"
            rows.append((base, "A", ip))
            rows.append((f"{host}.{base}", "A", ip))
            rows.append((f"{ip.replace('.', '-')}.{ns}.pod", "A", ip))
            for port_name, port in PORTS:
                if with_all:
                    rows.append((base, "SRV", f"0 {srv_all} {port} {target}"))
                if with_one:
                    rows.append(
                        (f"_{port_name}._tcp.{base}", "SRV", f"0 {srv_one} {port} {target}")
                    )
        for j in range(self.services):
            svc = f"api-{j}.{ns}.svc"
            port_name, port = API_PORT
            rows.append((svc, "A", self.api_ip(j)))
            rows.append((svc, "SRV", f"0 100 {port} {svc}.{ZONE}"))
            rows.append((f"_{port_name}._tcp.{svc}", "SRV", f"0 100 {port} {svc}.{ZONE}"))
        return rows

    def reverse_rows(self) -> list[tuple[str, str, str]]:
        """PTR rows for the ``10.in-addr.arpa`` zone."""
        rows = []
        for i in range(self.replicas):
            target = f"{STS}-{i}.{STS}.{NAMESPACE}.svc.{ZONE}"
            rows.append((_reverse_in_10(self.pod_ip(i)), "PTR", target))
        for j in range(self.services):
            rows.append((_reverse_in_10(self.api_ip(j)), "PTR", f"api-{j}.{NAMESPACE}.svc.{ZONE}"))
        return rows

    def zones(self) -> dict[str, str]:
        """``{origin: zone file text}`` for KnotServer."""
        version = 'dns-version 28800 IN TXT "1.1.0"\n'  # a fixed TTL (rule 27)
        return {
            ZONE: _zone_text(ZONE, self.cluster_rows()) + version,
            "10.in-addr.arpa.": _zone_text("10.in-addr.arpa.", self.reverse_rows()),
        }

    def names(self) -> list[tuple[str, str]]:
        """Every ``(absolute name, type)`` a person checking the Service by hand would ask."""
        seen: dict[tuple[str, str], None] = {}
        for owner, rtype, _ in self.cluster_rows():
            if owner.startswith(f"{STS}.") or f".{STS}." in owner or ".pod" in owner:
                seen.setdefault((f"{owner}.{ZONE}", rtype), None)
        for owner, rtype, _ in self.reverse_rows()[: self.replicas]:
            seen.setdefault((f"{owner}.10.in-addr.arpa.", rtype), None)
        seen.setdefault((f"dns-version.{ZONE}", "TXT"), None)
        return list(seen)


@dataclass(frozen=True)
class ManyServices:
    """``services`` Services of 15 pods each, 100 to a namespace; every fifth headless."""

    services: int
    pods_per_service: int = PODS_PER_SERVICE

    @property
    def pods(self) -> int:
        return self.services * self.pods_per_service

    def namespace(self, j: int) -> str:
        return f"team-{j // SERVICES_PER_NAMESPACE}"

    @staticmethod
    def stateful(j: int) -> bool:
        return j % 5 == 0

    @staticmethod
    def pod_ip(k: int) -> str:
        return f"10.{64 + k // 62500}.{(k // 250) % 250}.{k % 250 + 1}"

    @staticmethod
    def cluster_ip(j: int) -> str:
        return f"10.96.{16 + j // 250}.{j % 250 + 1}"

    def _pods(self, j: int) -> list[tuple[str, str]]:
        first = j * self.pods_per_service
        return [(f"app-{j}-{i}", self.pod_ip(first + i)) for i in range(self.pods_per_service)]

    def objects(self) -> list[dict[str, Any]]:
        """Every object, with the cluster DNS ConfigMap and Service."""
        out: list[dict[str, Any]] = [
            *_cluster_dns(),
        ]
        out.extend(
            _namespace(self.namespace(j)) for j in range(0, self.services, SERVICES_PER_NAMESPACE)
        )
        for j in range(self.services):
            out.extend(self._service_objects(j))
        return out

    def _service_objects(self, j: int) -> list[dict[str, Any]]:
        ns, name, stateful = self.namespace(j), f"app-{j}", self.stateful(j)
        labels = {"app": name}
        svc = _service(
            ns, name, "None" if stateful else self.cluster_ip(j), [("http", 8080)], labels
        )
        out = [svc]
        owner: list[dict[str, Any]] = []
        if stateful:
            owner = [
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "controller": True}
            ]
            out.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {
                        "serviceName": name,
                        "replicas": self.pods_per_service,
                        "podManagementPolicy": "Parallel",
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {"containers": [{"name": "app", "image": "example/app:1"}]},
                        },
                    },
                }
            )
        pods = self._pods(j)
        for pod, ip in pods:
            spec: dict[str, Any] = {"containers": [{"name": "app", "image": "example/app:1"}]}
            meta: dict[str, Any] = {"name": pod, "namespace": ns, "labels": labels}
            if stateful:
                spec |= {"hostname": pod, "subdomain": name}
                meta["ownerReferences"] = owner
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": meta,
                    "spec": spec,
                    "status": {
                        "phase": "Running",
                        "podIP": ip,
                        "podIPs": [{"ip": ip}],
                        "conditions": [{"type": "Ready", "status": "True"}],
                    },
                }
            )
        for start in range(0, len(pods), SLICE_SIZE):
            out.append(
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": {
                        "name": f"{name}-{start // SLICE_SIZE:05d}",
                        "namespace": ns,
                        "labels": {"kubernetes.io/service-name": name},
                    },
                    "addressType": "IPv4",
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                    "endpoints": [
                        {
                            "addresses": [ip],
                            "conditions": {"ready": True, "serving": True, "terminating": False},
                            **({"hostname": pod} if stateful else {}),
                            "targetRef": {"kind": "Pod", "namespace": ns, "name": pod},
                        }
                        for pod, ip in pods[start : start + SLICE_SIZE]
                    ],
                }
            )
        return out

    def zones(self) -> dict[str, str]:
        """What CoreDNS serves (kubeadm Corefile), as zone files for knotd."""
        forward: list[tuple[str, str, str]] = []
        reverse: list[tuple[str, str, str]] = []
        for j in range(self.services):
            ns, name = self.namespace(j), f"app-{j}"
            base = f"{name}.{ns}.svc"
            pods = self._pods(j)
            if self.stateful(j):
                weight = max(1, 100 // len(pods))
                for pod, ip in pods:
                    forward.append((base, "A", ip))
                    forward.append((f"{pod}.{base}", "A", ip))
                    reverse.append((_reverse_in_10(ip), "PTR", f"{pod}.{base}.{ZONE}"))
                for owner in (base, f"_http._tcp.{base}"):
                    forward.extend(
                        (owner, "SRV", f"0 {weight} 8080 {pod}.{base}.{ZONE}") for pod, _ in pods
                    )
            else:
                ip = self.cluster_ip(j)
                forward.append((base, "A", ip))
                reverse.append((_reverse_in_10(ip), "PTR", f"{base}.{ZONE}"))
                for owner in (base, f"_http._tcp.{base}"):
                    forward.append((owner, "SRV", f"0 100 8080 {base}.{ZONE}"))
                for _, pod_ip in pods:
                    dashed = pod_ip.replace(".", "-")
                    forward.append((f"{dashed}.{base}", "A", pod_ip))
                    reverse.append((_reverse_in_10(pod_ip), "PTR", f"{dashed}.{base}.{ZONE}"))
            for _, pod_ip in pods:
                forward.append((f"{pod_ip.replace('.', '-')}.{ns}.pod", "A", pod_ip))
        dns = "kube-dns.kube-system.svc"
        forward.append((dns, "A", KUBE_DNS_IP))
        for owner in (dns, f"_dns._tcp.{dns}"):
            forward.append((owner, "SRV", f"0 100 53 {dns}.{ZONE}"))
        reverse.append((_reverse_in_10(KUBE_DNS_IP), "PTR", f"{dns}.{ZONE}"))
        version = 'dns-version 28800 IN TXT "1.1.0"\n'  # a fixed TTL (rule 27)
        return {
            ZONE: _zone_text(ZONE, forward) + version,
            "10.in-addr.arpa.": _zone_text("10.in-addr.arpa.", reverse),
        }


def _cluster_dns() -> list[dict[str, Any]]:
    """kube-system, the CoreDNS ConfigMap (kubeadm's Corefile) and the kube-dns Service."""
    return [
        _namespace("kube-system"),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": COREFILE},
        },
        _service("kube-system", "kube-dns", KUBE_DNS_IP, [("dns", 53)], {"k8s-app": "kube-dns"}),
    ]


def _namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
    }


def _service(
    namespace: str, name: str, cluster_ip: str, ports: list[tuple[str, int]], selector: dict
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "selector": selector,
            "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports],
        },
    }


def _reverse_in_10(ip: str) -> str:
    """``10.64.1.7`` -> ``7.1.64`` (the owner inside ``10.in-addr.arpa``)."""
    return ".".join(reversed(ip.split(".")[1:]))


def _zone_text(origin: str, rows: list[tuple[str, str, str]]) -> str:
    lines = [
        f"$ORIGIN {origin}",
        f"$TTL {TTL}",
        f"@ IN SOA {SOA if origin == ZONE else SOA.replace('cluster.local.', origin, 2)}",
        "@ IN NS ns.dns.cluster.local.",
    ]
    lines.extend(f"{owner} {TTL} IN {rtype} {data}" for owner, rtype, data in rows)
    return "\n".join(lines) + "\n"
