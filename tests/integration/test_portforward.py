"""``--via port-forward``: every CoreDNS replica asked through the API server, one of them stale."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import forward_to_knot, inspect_live
from tests.integration.seed_zone import (
    seed_zones,
    stale_eureka1_zones,
)

REPLICAS = ("coredns-5d78c9869d-abcde", "coredns-5d78c9869d-fghij", "coredns-5d78c9869d-stale")
STALE = REPLICAS[2]


def coredns_pod(name: str, ip: str, *, phase: str = "Running") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "kube-system",
            "labels": {"k8s-app": "kube-dns", "pod-template-hash": "5d78c9869d"},
        },
        "spec": {
            "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1"}]
        },
        "status": {
            "phase": phase,
            **({"podIP": ip, "podIPs": [{"ip": ip}]} if ip else {}),
            "conditions": [{"type": "Ready", "status": "True" if phase == "Running" else "False"}],
        },
    }


@pytest.fixture
def replicas(api_server, make_knot):
    """Three CoreDNS pods in the emulated cluster, each port-forwarded to its own knotd."""
    servers = {}
    for i, name in enumerate(REPLICAS):
        api_server.add(coredns_pod(name, f"10.244.0.{10 + i}"))
        zones = stale_eureka1_zones() if name == STALE else seed_zones()
        servers[name] = forward_to_knot(api_server, make_knot, "kube-system", name, zones=zones)
    return servers


def test_every_replica_is_asked_and_the_stale_one_is_named(
    run, api_server, kubeconfig: Path, replicas
) -> None:
    api_server.clear_log()
    result = inspect_live(run, kubeconfig)
    assert result.code == ExitCode.MISMATCH, result.err
    doc = result.json()
    labels = [f"{name} (port-forward)" for name in REPLICAS]
    assert doc["servers"] == labels
    for row in doc["rows"]:
        assert sorted(a["server"] for a in row["actual"]) == sorted(labels)
    flagged = {(r["name"], r["type"]) for r in doc["rows"] if r["status"] != "ok"}
    assert flagged == {
        ("eureka.ms.svc.cluster.local.", "A"),
        ("eureka-1.eureka.ms.svc.cluster.local.", "A"),
        ("45.2.244.10.in-addr.arpa.", "PTR"),
        ("10-244-2-45.ms.pod.cluster.local.", "A"),
    }
    for row in doc["rows"]:
        bad = {a["server"] for a in row["actual"] if a["verdict"] != "ok"}
        assert bad <= {f"{STALE} (port-forward)"}
    (odd,) = doc["disagreements"]
    assert odd["server"] == f"{STALE} (port-forward)" and odd["wrong"] == len(odd["rows"]) == 4
    # One LIST for the replicas, no writes, every stream closed.
    assert api_server.count(path="/api/v1/namespaces/kube-system/pods") == 1
    assert api_server.mutations == []
    assert api_server.streams_closed()
    # Few streams: pipelined queries, not one websocket per query (plus the one
    # version.bind question to the first replica, hsvc.commands.source.with_chaos_version).
    assert api_server.streams_total <= 2 * len(REPLICAS) + 1


def test_table_names_the_stale_replica(run, kubeconfig: Path, replicas, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = run("inspect", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig), "--no-color")
    assert result.code == ExitCode.MISMATCH
    assert f"replica {STALE} (port-forward) disagrees" in result.out


def test_all_replicas_agree(run, api_server, kubeconfig: Path, make_knot) -> None:
    for i, name in enumerate(REPLICAS[:2]):
        api_server.add(coredns_pod(name, f"10.244.0.{10 + i}"))
        forward_to_knot(api_server, make_knot, "kube-system", name)
    api_server.add(coredns_pod("coredns-5d78c9869d-pendng", "", phase="Pending"))
    result = inspect_live(run, kubeconfig)
    assert result.code == ExitCode.OK, result.out + result.err
    doc = result.json()
    assert len(doc["servers"]) == 2 and doc["disagreements"] == []
    assert any("coredns-5d78c9869d-pendng" in n and "not running" in n for n in doc["notes"])


def test_portforward_forbidden_names_the_permission(
    run, api_server, kubeconfig: Path, replicas
) -> None:
    api_server.inject("*/portforward", status=403)
    result = inspect_live(run, kubeconfig)
    assert result.code == ExitCode.ACCESS_DENIED, result.err
    assert 'grant "create" on "pods/portforward"' in result.err
    assert "kube-system" in result.err and api_server.streams_closed()


def test_no_replica_at_all(run, kubeconfig: Path) -> None:
    result = inspect_live(run, kubeconfig)
    assert result.code == ExitCode.NO_DNS
    assert "k8s-app=kube-dns" in result.err


def test_replica_whose_port_refuses(run, api_server, kubeconfig: Path, make_knot) -> None:
    api_server.add(coredns_pod(REPLICAS[0], "10.244.0.10"), coredns_pod(REPLICAS[1], "10.244.0.11"))
    forward_to_knot(api_server, make_knot, "kube-system", REPLICAS[0])
    started = time.monotonic()
    result = inspect_live(run, kubeconfig)
    assert time.monotonic() - started < 5
    doc = result.json()
    dead = f"{REPLICAS[1]} (port-forward)"
    answers = [a for r in doc["rows"] for a in r["actual"] if a["server"] == dead]
    assert answers and all(a["rcode"] == "ERROR" for a in answers)
    assert any(REPLICAS[1] in n and "failed to connect" in n for n in doc["notes"])
