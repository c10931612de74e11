"""The seed cluster's DNS as CoreDNS served it, written by hand as zone-file rows.

This is the "actual" side of the inspect tests: a table typed in from what the
seed's cluster answered (kubeadm Corefile: zone cluster.local, ttl 30, pods
insecure), never produced by hsvc's own model. Tests edit rows to make drift.
"""

from __future__ import annotations

from collections.abc import Iterable

SOA = "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30"

# (owner relative to the zone, type, data); TTL 30 unless given as a fourth item.
CLUSTER_ROWS: list[tuple[str, ...]] = [
    ("eureka.ms.svc", "A", "10.244.1.210"),
    ("eureka.ms.svc", "A", "10.244.2.45"),
    ("eureka.ms.svc", "A", "10.244.1.211"),
    ("eureka-0.eureka.ms.svc", "A", "10.244.1.210"),
    ("eureka-1.eureka.ms.svc", "A", "10.244.2.45"),
    ("eureka-2.eureka.ms.svc", "A", "10.244.1.211"),
    ("eureka.ms.svc", "SRV", "0 33 8888 eureka-0.eureka.ms.svc.cluster.local."),
    ("eureka.ms.svc", "SRV", "0 33 8888 eureka-1.eureka.ms.svc.cluster.local."),
    ("eureka.ms.svc", "SRV", "0 33 8888 eureka-2.eureka.ms.svc.cluster.local."),
    ("_eureka._tcp.eureka.ms.svc", "SRV", "0 33 8888 eureka-0.eureka.ms.svc.cluster.local."),
    ("_eureka._tcp.eureka.ms.svc", "SRV", "0 33 8888 eureka-1.eureka.ms.svc.cluster.local."),
    ("_eureka._tcp.eureka.ms.svc", "SRV", "0 33 8888 eureka-2.eureka.ms.svc.cluster.local."),
    ("10-244-1-210.ms.pod", "A", "10.244.1.210"),
    ("10-244-2-45.ms.pod", "A", "10.244.2.45"),
    ("10-244-1-211.ms.pod", "A", "10.244.1.211"),
    ("10-244-1-212.ms.pod", "A", "10.244.1.212"),
    ("gateway.ms.svc", "A", "10.0.0.14"),
    ("gateway.ms.svc", "SRV", "0 100 9999 gateway.ms.svc.cluster.local."),
    ("_gateway._tcp.gateway.ms.svc", "SRV", "0 100 9999 gateway.ms.svc.cluster.local."),
    ("10-244-1-212.gateway.ms.svc", "A", "10.244.1.212"),
    ("mysql-production.ms.svc", "A", "10.0.0.251"),
    ("mysql-production.ms.svc", "SRV", "0 100 3306 mysql-production.ms.svc.cluster.local."),
    (
        "_mysql._tcp.mysql-production.ms.svc",
        "SRV",
        "0 100 3306 mysql-production.ms.svc.cluster.local.",
    ),
    ("portal.ms.svc", "A", "10.0.0.124"),
    ("portal.ms.svc", "SRV", "0 100 8080 portal.ms.svc.cluster.local."),
    ("_http._tcp.portal.ms.svc", "SRV", "0 100 8080 portal.ms.svc.cluster.local."),
    ("dns-version", "TXT", '"1.1.0"', "28800"),
]

# Reverse zone 10.in-addr.arpa: owner relative to it.
REVERSE_ROWS: list[tuple[str, ...]] = [
    ("210.1.244", "PTR", "eureka-0.eureka.ms.svc.cluster.local."),
    ("45.2.244", "PTR", "eureka-1.eureka.ms.svc.cluster.local."),
    ("211.1.244", "PTR", "eureka-2.eureka.ms.svc.cluster.local."),
    ("212.1.244", "PTR", "10-244-1-212.gateway.ms.svc.cluster.local."),
    ("14.0.0", "PTR", "gateway.ms.svc.cluster.local."),
    ("251.0.0", "PTR", "mysql-production.ms.svc.cluster.local."),
    ("124.0.0", "PTR", "portal.ms.svc.cluster.local."),
]


def zone_text(origin: str, rows: Iterable[tuple[str, ...]]) -> str:
    """Return a zone file for ``origin`` holding ``rows`` plus SOA and NS."""
    soa = SOA if origin == "cluster.local." else SOA.replace("cluster.local.", origin, 2)
    lines = [
        f"$ORIGIN {origin}",
        "$TTL 30",
        f"@ 30 IN SOA {soa}",
        "@ 30 IN NS ns.dns.cluster.local.",
    ]
    for row in rows:
        owner, rtype, data = row[:3]
        ttl = row[3] if len(row) > 3 else "30"
        lines.append(f"{owner} {ttl} IN {rtype} {data}")
    return "\n".join(lines) + "\n"


def seed_zones(
    cluster: Iterable[tuple[str, ...]] = CLUSTER_ROWS,
    reverse: Iterable[tuple[str, ...]] = REVERSE_ROWS,
) -> dict[str, str]:
    """The seed cluster's zones, ``{origin: text}``, for KnotServer."""
    return {
        "cluster.local.": zone_text("cluster.local.", cluster),
        "10.in-addr.arpa.": zone_text("10.in-addr.arpa.", reverse),
    }


def replace(rows: Iterable[tuple[str, ...]], old: str, new: str) -> list[tuple[str, ...]]:
    """Rows with ``old`` replaced by ``new`` in owners and data (e.g. a stale pod IP)."""
    return [tuple(field.replace(old, new) for field in row) for row in rows]


def stale_eureka1_zones() -> dict[str, str]:
    """The seed's zones still serving eureka-1's old IP (10.244.2.99) after it moved to .45."""
    cluster = replace(
        replace(CLUSTER_ROWS, "10.244.2.45", "10.244.2.99"), "10-244-2-45", "10-244-2-99"
    )
    return seed_zones(cluster, replace(REVERSE_ROWS, "45.2.244", "99.2.244"))


# The rows a stale eureka-1 IP touches, and what each must say.
STALE_EUREKA1_ROWS = {
    ("eureka.ms.svc.cluster.local.", "A"): "wrong",
    ("eureka-1.eureka.ms.svc.cluster.local.", "A"): "wrong",
    ("45.2.244.10.in-addr.arpa.", "PTR"): "missing",
    ("10-244-2-45.ms.pod.cluster.local.", "A"): "missing",
}
