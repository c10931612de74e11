"""Clusters an operator meets: many Services over a few namespaces, a 400-pod StatefulSet.

Each cluster is a small table (Services, their pods, which pod is broken) from
which this module writes the manifests (as ``kubectl get -o yaml`` would) and the
zone-file rows cluster DNS served. The rows are typed out here from the DNS
schema (A per ready endpoint, hostname names, SRV per named port, PTR, pod
records), never produced by hsvc, so a test of hsvc against them proves
something. A "lagging" pod is one that stopped being ready while DNS still hands
it out (a cache), as in the demo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.seed_zone import zone_text


@dataclass(frozen=True)
class PodRow:
    name: str
    ip: str
    ready: bool = True
    lagging: bool = False  # not ready, but DNS still serves it


@dataclass(frozen=True)
class ServiceRow:
    namespace: str
    name: str
    port_name: str
    port: int
    cluster_ip: str = "None"  # "None": headless
    stateful: bool = False  # pods are a StatefulSet's (hostname + subdomain)
    pods: tuple[PodRow, ...] = ()
    stale_ip: str = ""  # DNS still serves this old ClusterIP instead of cluster_ip

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"


@dataclass
class Cluster:
    services: list[ServiceRow] = field(default_factory=list)

    @property
    def namespaces(self) -> list[str]:
        return sorted({s.namespace for s in self.services})

    # --- manifests ------------------------------------------------------------------

    def manifests(self) -> str:
        docs: list[dict] = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            for ns in self.namespaces
        ]
        for s in self.services:
            docs.extend(_service_docs(s))
        # JSON is YAML: one document per line keeps the file small and fast to read.
        return "".join("---\n" + json.dumps(d) + "\n" for d in docs)

    def write(self, folder: Path) -> Path:
        path = folder / "cluster.yaml"
        path.write_text(self.manifests(), encoding="utf-8")
        return path

    # --- what cluster DNS served -------------------------------------------------------

    def zones(self) -> dict[str, str]:
        forward: list[tuple[str, ...]] = [("dns-version", "TXT", '"1.1.0"', "28800")]
        reverse: list[tuple[str, ...]] = []
        for s in self.services:
            base = f"{s.name}.{s.namespace}.svc"
            served = [p for p in s.pods if p.ready or p.lagging]
            if s.headless:
                for p in served:
                    forward.append((base, "A", p.ip))
                    host = _endpoint_label(s, p)
                    forward.append((f"{host}.{base}", "A", p.ip))
                    reverse.append((_reverse(p.ip), "PTR", f"{host}.{base}.cluster.local."))
                weight = 100 // len(served) if served else 0
                for owner in (base, f"_{s.port_name}._tcp.{base}"):
                    for p in served:
                        target = f"{_endpoint_label(s, p)}.{base}.cluster.local."
                        forward.append((owner, "SRV", f"0 {weight} {s.port} {target}"))
            else:
                ip = s.stale_ip or s.cluster_ip
                forward.append((base, "A", ip))
                reverse.append((_reverse(ip), "PTR", f"{base}.cluster.local."))
                for owner in (base, f"_{s.port_name}._tcp.{base}"):
                    forward.append((owner, "SRV", f"0 100 {s.port} {base}.cluster.local."))
                for p in served:
                    dashed = p.ip.replace(".", "-")
                    forward.append((f"{dashed}.{base}", "A", p.ip))
                    reverse.append((_reverse(p.ip), "PTR", f"{dashed}.{base}.cluster.local."))
            for p in s.pods:
                forward.append((f"{p.ip.replace('.', '-')}.{s.namespace}.pod", "A", p.ip))
        return {
            "cluster.local.": zone_text("cluster.local.", forward),
            "10.in-addr.arpa.": zone_text("10.in-addr.arpa.", reverse),
        }


def _endpoint_label(s: ServiceRow, p: PodRow) -> str:
    return p.name if s.stateful else p.ip.replace(".", "-")


def _reverse(ip: str) -> str:
    a, b, c, d = ip.split(".")
    assert a == "10"
    return f"{d}.{c}.{b}"


def _service_docs(s: ServiceRow) -> list[dict]:
    labels = {"app": s.name}
    docs: list[dict] = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": s.name, "namespace": s.namespace, "labels": labels},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": s.cluster_ip,
                "clusterIPs": [s.cluster_ip],
                "ports": [
                    {"name": s.port_name, "port": s.port, "protocol": "TCP", "targetPort": s.port}
                ],
                "selector": labels,
            },
        }
    ]
    if s.stateful:
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": s.name, "namespace": s.namespace},
                "spec": {
                    "serviceName": s.name,
                    "replicas": len(s.pods),
                    "podManagementPolicy": "Parallel",
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": s.name, "image": "example/app:1"}]},
                    },
                },
            }
        )
    for p in s.pods:
        spec: dict = {"containers": [{"name": s.name, "image": "example/app:1"}]}
        meta: dict = {"name": p.name, "namespace": s.namespace, "labels": labels}
        if s.stateful:
            spec |= {"hostname": p.name, "subdomain": s.name}
            meta["ownerReferences"] = [
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": s.name, "controller": True}
            ]
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta,
                "spec": spec,
                "status": {
                    "phase": "Running",
                    "podIP": p.ip,
                    "podIPs": [{"ip": p.ip}],
                    "conditions": [{"type": "Ready", "status": "True" if p.ready else "False"}],
                },
            }
        )
    # As the EndpointSlice controller writes them: at most 100 endpoints per slice.
    for start in range(0, max(len(s.pods), 1), 100):
        chunk = s.pods[start : start + 100]
        docs.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"{s.name}-{start // 100:05d}",
                    "namespace": s.namespace,
                    "labels": {"kubernetes.io/service-name": s.name},
                },
                "addressType": "IPv4",
                "ports": [{"name": s.port_name, "port": s.port, "protocol": "TCP"}],
                "endpoints": [
                    {
                        "addresses": [p.ip],
                        "conditions": {
                            "ready": p.ready,
                            "serving": p.ready,
                            "terminating": False,
                        },
                        **({"hostname": p.name} if s.stateful else {}),
                        "targetRef": {"kind": "Pod", "namespace": s.namespace, "name": p.name},
                    }
                    for p in chunk
                ],
            }
        )
    return docs


def _pods(prefix: str, count: int, net: int, *, lagging: int = -1) -> tuple[PodRow, ...]:
    return tuple(
        PodRow(
            name=f"{prefix}-{i}",
            ip=f"10.{net}.{i // 250}.{i % 250 + 1}",
            ready=i != lagging,
            lagging=i == lagging,
        )
        for i in range(count)
    )


def big_statefulset(replicas: int = 400, broken: int = 123) -> Cluster:
    """One headless Service over a StatefulSet of ``replicas`` pods; pod ``broken`` lags."""
    return Cluster(
        [
            ServiceRow(
                namespace="data",
                name="kafka",
                port_name="broker",
                port=9092,
                stateful=True,
                pods=_pods("kafka", replicas, 245, lagging=broken),
            )
        ]
    )


def three_namespaces() -> Cluster:
    """13 Services in 3 namespaces (Kafka, ZooKeeper, web apps); two things are broken.

    zookeeper-2 stopped being ready while DNS still serves it, and DNS still
    answers web/checkout with the ClusterIP it had before it was recreated.
    """

    def svc(ns: str, name: str, port_name: str, port: int, ip: str, n: int, net: int, **kw):
        return ServiceRow(
            namespace=ns,
            name=name,
            port_name=port_name,
            port=port,
            cluster_ip=ip,
            pods=_pods(name, n, net, lagging=kw.pop("lagging", -1)),
            **kw,
        )

    return Cluster(
        [
            svc("kafka", "kafka", "broker", 9092, "None", 3, 240, stateful=True),
            svc("kafka", "zookeeper", "client", 2181, "None", 3, 241, stateful=True, lagging=2),
            svc("kafka", "kafka-ui", "http", 8080, "10.96.1.10", 1, 242),
            svc("kafka", "schema-registry", "http", 8081, "10.96.1.11", 2, 243),
            svc("web", "frontend", "http", 80, "10.96.2.10", 2, 230),
            svc("web", "api", "http", 8080, "10.96.2.11", 2, 231),
            svc("web", "checkout", "http", 8080, "10.96.2.12", 1, 232, stale_ip="10.96.2.99"),
            svc("web", "redis", "redis", 6379, "None", 1, 233, stateful=True),
            svc("web", "postgres", "postgres", 5432, "None", 1, 234, stateful=True),
            svc("ops", "prometheus", "web", 9090, "10.96.3.10", 1, 220),
            svc("ops", "grafana", "http", 3000, "10.96.3.11", 1, 221),
            svc("ops", "alertmanager", "web", 9093, "None", 2, 222, stateful=True),
            svc("ops", "loki", "http", 3100, "10.96.3.12", 1, 223),
        ]
    )
