"""Answers too large for one DNS message, live: a 600-replica StatefulSet behind knotd.

The zone is written here by a loop over the pods (what CoreDNS serves for them,
kubeadm Corefile), never by hsvc. With two named ports the Service's bare SRV
name holds 1,200 records, about 68 KB without compressing SRV targets, which
knot will not send (SERVFAIL over TCP after a truncated UDP answer); each
per-port SRV name holds 600 (about 44 KB with glue) and fits.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hsvc.core.compare import MAX_MESSAGE
from hsvc.errors import ExitCode
from tests.integration.seed_zone import zone_text

pytestmark = pytest.mark.integration

N = 600
NS = "big"
PORTS = (("broker", 9092), ("controller", 9093))


def pod_ip(i: int) -> str:
    return f"10.77.{i // 250}.{i % 250 + 1}"


def objects(n: int = N) -> list[dict]:
    out: list[dict] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kafka", "namespace": NS},
            "spec": {
                "clusterIP": "None",
                "clusterIPs": ["None"],
                "selector": {"app": "kafka"},
                "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in PORTS],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "kafka", "namespace": NS},
            "spec": {
                "serviceName": "kafka",
                "replicas": n,
                "selector": {"matchLabels": {"app": "kafka"}},
                "template": {"metadata": {"labels": {"app": "kafka"}}},
            },
        },
    ]
    for i in range(n):
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"kafka-{i}", "namespace": NS, "labels": {"app": "kafka"}},
                "spec": {
                    "hostname": f"kafka-{i}",
                    "subdomain": "kafka",
                    "containers": [{"name": "c", "image": "x"}],
                },
                "status": {
                    "phase": "Running",
                    "podIP": pod_ip(i),
                    "podIPs": [{"ip": pod_ip(i)}],
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            }
        )
    for start in range(0, n, 100):
        out.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": f"kafka-{start // 100}",
                    "namespace": NS,
                    "labels": {"kubernetes.io/service-name": "kafka"},
                },
                "addressType": "IPv4",
                "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in PORTS],
                "endpoints": [
                    {
                        "addresses": [pod_ip(i)],
                        "hostname": f"kafka-{i}",
                        "conditions": {"ready": True},
                        "targetRef": {"kind": "Pod", "namespace": NS, "name": f"kafka-{i}"},
                    }
                    for i in range(start, min(start + 100, n))
                ],
            }
        )
    return out


def zones(n: int = N) -> dict[str, str]:
    base = f"kafka.{NS}.svc"
    cluster: list[tuple[str, ...]] = [("dns-version", "TXT", '"1.1.0"', "28800")]
    reverse: list[tuple[str, ...]] = []
    for i in range(n):
        ip, host = pod_ip(i), f"kafka-{i}"
        target = f"{host}.{base}.cluster.local."
        cluster += [
            (base, "A", ip),
            (f"{host}.{base}", "A", ip),
            (f"{ip.replace('.', '-')}.{NS}.pod", "A", ip),
        ]
        for name, port in PORTS:
            # Rule 19: weight 100 / (number of SRV records), at least 1.
            cluster.append((base, "SRV", f"0 {max(1, 100 // (2 * n))} {port} {target}"))
            cluster.append((f"_{name}._tcp.{base}", "SRV", f"0 {max(1, 100 // n)} {port} {target}"))
        reverse.append((".".join(reversed(ip.split(".")[1:])), "PTR", target))
    return {
        "cluster.local.": zone_text("cluster.local.", cluster),
        "10.in-addr.arpa.": zone_text("10.in-addr.arpa.", reverse),
    }


def test_an_srv_set_over_64_kib_is_too_large_not_a_mismatch(
    run, api_server, kubeconfig: Path, make_knot
) -> None:
    api_server.add(*objects())
    knot = make_knot(zones())
    result = run(
        "inspect",
        "kafka",
        "-n",
        NS,
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "-o",
        "json",
    )
    assert result.code == ExitCode.MISMATCH, result.err
    doc = result.json()
    rows = {(r["name"], r["type"]): r for r in doc["rows"]}
    bare = rows[(f"kafka.{NS}.svc.cluster.local.", "SRV")]
    assert bare["status"] == "too-large"
    (check,) = bare["actual"]
    assert check["verdict"] == "too-large" and check["tooLarge"] is True
    size = int(check["note"].split("need at least ")[1].split(" bytes")[0])
    assert size > MAX_MESSAGE
    assert f"0 of {2 * N}" in check["note"] and "SERVFAIL" in check["note"]
    assert "clients get a truncated answer" in check["note"]
    # The per-port sets (600 records each) fit over TCP and are checked record by record.
    for name, _ in PORTS:
        row = rows[(f"_{name}._tcp.kafka.{NS}.svc.cluster.local.", "SRV")]
        assert row["status"] == "ok", row["actual"][0]["note"]
        assert len(row["actual"][0]["answer"]) == N
    # Nothing else is flagged: the one too-large row is the only non-ok row.
    assert doc["summary"]["too-large"] == 1
    # Per pod: its hostname name, its dashed-IP name (must not resolve), PTR, pod record.
    assert doc["summary"]["ok"] == doc["summary"]["total"] - 1 == 4 * N + 4

    # As a table, the summary: one line for the Service, then only the too-large row.
    table = run(
        "inspect",
        "kafka",
        "-n",
        NS,
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "--no-color",
    )
    assert table.code == ExitCode.MISMATCH
    assert "(--all-rows)" in table.out
    assert table.out.count("\n") < 40
    assert "too-large" in table.out
    failed = [line for line in table.out.splitlines() if line.startswith("!")]
    assert len(failed) == 1 and "kafka.big.svc" in failed[0] and "SRV" in failed[0]
