"""The engine's must-not-resolve rows and silent servers, live against real knotd.

The zones are typed in here as a CoreDNS that answers the Kafka cluster of
tests/unit/test_engine_behaviours.py would (kafka-2 not ready), with one drift:
a server that still hands out kafka-2's dashed name under the ClusterIP Service.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.seed_zone import zone_text
from tests.unit.test_engine_behaviours import kafka

pytestmark = pytest.mark.integration

# What CoreDNS serves for the kafka Services of namespace data (ttl 30).
ROWS = [
    ("kafka.data.svc", "A", "10.96.0.5"),
    ("kafka.data.svc", "SRV", "0 100 9092 kafka.data.svc.cluster.local."),
    ("_broker._tcp.kafka.data.svc", "SRV", "0 100 9092 kafka.data.svc.cluster.local."),
    ("10-244-3-10.kafka.data.svc", "A", "10.244.3.10"),
    ("10-244-3-11.kafka.data.svc", "A", "10.244.3.11"),
    ("kafka-headless.data.svc", "A", "10.244.3.10"),
    ("kafka-headless.data.svc", "A", "10.244.3.11"),
    ("kafka-0.kafka-headless.data.svc", "A", "10.244.3.10"),
    ("kafka-1.kafka-headless.data.svc", "A", "10.244.3.11"),
    ("10-244-3-10.data.pod", "A", "10.244.3.10"),
    ("10-244-3-11.data.pod", "A", "10.244.3.11"),
    ("10-244-3-12.data.pod", "A", "10.244.3.12"),
    ("dns-version", "TXT", '"1.1.0"', "28800"),
]
REVERSE = [
    ("5.0.96", "PTR", "kafka.data.svc.cluster.local."),
    ("10.3.244", "PTR", "10-244-3-10.kafka.data.svc.cluster.local."),
    ("10.3.244", "PTR", "kafka-0.kafka-headless.data.svc.cluster.local."),
    ("11.3.244", "PTR", "10-244-3-11.kafka.data.svc.cluster.local."),
    ("11.3.244", "PTR", "kafka-1.kafka-headless.data.svc.cluster.local."),
]
LEAK = ("10-244-3-12.kafka.data.svc", "A", "10.244.3.12")


def zones(rows: list[tuple[str, ...]]) -> dict[str, str]:
    return {
        "cluster.local.": zone_text("cluster.local.", rows),
        "10.in-addr.arpa.": zone_text("10.in-addr.arpa.", REVERSE),
    }


def inspect(run, path: str, *servers) -> tuple[int, dict]:
    args = ["inspect", "kafka", "-n", "data", "-f", path, "--timeout", "0.3", "-o", "json"]
    for server in servers:
        args += ["--nameserver", f"127.0.0.1:{server.port}"]
    result = run(*args)
    return result.code, result.json()


def test_behaviour01_a_leaked_dashed_name_of_a_not_ready_endpoint_fails_inspect(
    run, make_knot, tmp_path: Path
) -> None:
    path = kafka(tmp_path)
    code, doc = inspect(run, path, make_knot(zones(ROWS)))
    rows = {(r["name"], r["type"]): r for r in doc["rows"]}
    dashed = rows[("10-244-3-12.kafka.data.svc.cluster.local.", "A")]
    assert dashed["status"] == "ok" and dashed["expected"]["rcode"] == "NXDOMAIN"
    assert "Ready=False" in dashed["expected"]["reason"]
    ptr = rows[("12.3.244.10.in-addr.arpa.", "PTR")]
    assert ptr["status"] == "ok"
    assert code == ExitCode.OK, [(k, r["status"]) for k, r in rows.items() if r["status"] != "ok"]
    # The same server still handing out the dashed name: that row fails, exit 1.
    code, doc = inspect(run, path, make_knot(zones([*ROWS, LEAK])))
    assert code == ExitCode.MISMATCH
    bad = {(r["name"], r["type"]): r["status"] for r in doc["rows"] if r["status"] != "ok"}
    assert bad == {("10-244-3-12.kafka.data.svc.cluster.local.", "A"): "unexpected"}


def test_behaviour08_a_silent_server_is_named_silent_not_disagreeing(
    run, make_knot, make_bad_dns, tmp_path: Path
) -> None:
    good = make_knot(zones(ROWS))
    silent = make_bad_dns("silent")
    code, doc = inspect(run, kafka(tmp_path), good, silent)
    assert code == ExitCode.MISMATCH  # the silent server's rows are errors
    by_server = {d["server"]: d for d in doc["disagreements"]}
    assert f"127.0.0.1:{good.port}" not in by_server
    entry = by_server[f"127.0.0.1:{silent.port}"]
    assert entry["rows"] == [] and entry["silent"] > 0
    assert not any(f["code"] == "HSVC602" for f in doc["findings"])


# --- 9: the header of a Service publishing not-ready addresses -------------------------------

# ZooKeeper behind a headless Service with publishNotReadyAddresses: zk-0 is not Ready,
# zk-1 is terminating (still Ready). The controller writes both ready=true; serving
# follows the pods' Ready condition and terminating the deletionTimestamp (rule 3).
ZK_ROWS = [
    ("zk.data.svc", "A", "10.244.6.1"),
    ("zk.data.svc", "A", "10.244.6.2"),
    ("zk-0.zk.data.svc", "A", "10.244.6.1"),
    ("zk-1.zk.data.svc", "A", "10.244.6.2"),
    ("zk.data.svc", "SRV", "0 50 2181 zk-0.zk.data.svc.cluster.local."),
    ("zk.data.svc", "SRV", "0 50 2181 zk-1.zk.data.svc.cluster.local."),
    ("_client._tcp.zk.data.svc", "SRV", "0 50 2181 zk-0.zk.data.svc.cluster.local."),
    ("_client._tcp.zk.data.svc", "SRV", "0 50 2181 zk-1.zk.data.svc.cluster.local."),
    ("10-244-6-1.data.pod", "A", "10.244.6.1"),
    ("10-244-6-2.data.pod", "A", "10.244.6.2"),
    ("dns-version", "TXT", '"1.1.0"', "28800"),
]
ZK_REVERSE = [
    ("1.6.244", "PTR", "zk-0.zk.data.svc.cluster.local."),
    ("2.6.244", "PTR", "zk-1.zk.data.svc.cluster.local."),
]


def zookeeper(tmp_path: Path) -> str:
    def zk_pod(name: str, ip: str, *, ready: bool, deleting: bool) -> str:
        meta: dict[str, object] = {"name": name, "namespace": "data", "labels": {"app": "zk"}}
        if deleting:
            meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta,
                "spec": {"hostname": name, "subdomain": "zk", "containers": [{"name": "c"}]},
                "status": {
                    "phase": "Running",
                    "podIP": ip,
                    "podIPs": [{"ip": ip}],
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                },
            }
        )

    def zk_ep(ip: str, name: str, *, serving: bool, terminating: bool) -> dict[str, object]:
        return {
            "addresses": [ip],
            "hostname": name,
            "conditions": {"ready": True, "serving": serving, "terminating": terminating},
            "targetRef": {"kind": "Pod", "name": name, "namespace": "data"},
        }

    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "zk", "namespace": "data"},
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": {"app": "zk"},
            "ports": [{"name": "client", "port": 2181}],
        },
    }
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "zk-x",
            "namespace": "data",
            "labels": {"kubernetes.io/service-name": "zk"},
        },
        "addressType": "IPv4",
        "ports": [{"name": "client", "port": 2181, "protocol": "TCP"}],
        "endpoints": [
            zk_ep("10.244.6.1", "zk-0", serving=False, terminating=False),
            zk_ep("10.244.6.2", "zk-1", serving=True, terminating=True),
        ],
    }
    docs = [
        json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "data"}}),
        json.dumps(svc),
        zk_pod("zk-0", "10.244.6.1", ready=False, deleting=False),
        zk_pod("zk-1", "10.244.6.2", ready=True, deleting=True),
        json.dumps(slice_),
    ]
    path = tmp_path / "zk.yaml"
    path.write_text("\n---\n".join(docs) + "\n")
    return str(path)


def test_behaviour09_publish_not_ready_header_counts_as_the_slice_says(
    run, make_knot, tmp_path: Path
) -> None:
    path = zookeeper(tmp_path)
    knot = make_knot(
        {
            "cluster.local.": zone_text("cluster.local.", ZK_ROWS),
            "10.in-addr.arpa.": zone_text("10.in-addr.arpa.", ZK_REVERSE),
        }
    )
    base = ["inspect", "zk", "-n", "data", "-f", path, "--timeout", "0.3"]
    base += ["--nameserver", f"127.0.0.1:{knot.port}"]
    result = run(*base, "-o", "json")
    doc = result.json()
    (svc,) = doc["services"]
    counts = svc["endpoints"]
    # Both are published (ready=true), only zk-1 is serving, zk-1 is terminating.
    assert counts == {
        "ready": 2,
        "notReady": 0,
        "serving": 1,
        "terminating": 1,
        "predicted": False,
    }
    items = {i["pod"]: i for i in svc["endpointConditions"]}
    assert items["zk-0"] == {
        "name": "zk-0",
        "addresses": ["10.244.6.1"],
        "pod": "zk-0",
        "ready": True,
        "serving": False,
        "terminating": False,
        "published": True,
    }
    assert items["zk-1"]["serving"] is True and items["zk-1"]["terminating"] is True
    # Both stay in DNS: their names are expected, not must-not-resolve.
    rows = {(r["name"], r["type"]): r for r in doc["rows"]}
    for name in ("zk-0", "zk-1"):
        row = rows[(f"{name}.zk.data.svc.cluster.local.", "A")]
        assert row["expected"]["rcode"] == "NOERROR" and row["status"] == "ok"
    assert result.code == ExitCode.OK, [k for k, r in rows.items() if r["status"] != "ok"]
    table = run(*base).out
    assert "2 ready, 0 not ready; 1 serving, 1 terminating" in table
    assert "not-ready and terminating pods stay in DNS" in table
    lines = {line.split()[0]: line for line in table.splitlines() if line.startswith("    zk-")}
    assert "ready=true serving=false terminating=false" in lines["zk-0"]
    assert "ready=true serving=true terminating=true" in lines["zk-1"]


# --- desired state: a chart's manifests (no pods) inspected against a running cluster ------

CHART_ROWS = [
    ("zk.data.svc", "A", "10.244.7.1"),
    ("zk.data.svc", "A", "10.244.7.2"),
    ("zk.data.svc", "A", "10.244.7.3"),
    ("zk-0.zk.data.svc", "A", "10.244.7.1"),
    ("zk-1.zk.data.svc", "A", "10.244.7.2"),
    ("zk-2.zk.data.svc", "A", "10.244.7.3"),
    ("zk.data.svc", "SRV", "0 33 2181 zk-0.zk.data.svc.cluster.local."),
    ("zk.data.svc", "SRV", "0 33 2181 zk-1.zk.data.svc.cluster.local."),
    ("zk.data.svc", "SRV", "0 33 2181 zk-2.zk.data.svc.cluster.local."),
    ("_client._tcp.zk.data.svc", "SRV", "0 33 2181 zk-0.zk.data.svc.cluster.local."),
    ("_client._tcp.zk.data.svc", "SRV", "0 33 2181 zk-1.zk.data.svc.cluster.local."),
    ("_client._tcp.zk.data.svc", "SRV", "0 33 2181 zk-2.zk.data.svc.cluster.local."),
    ("dns-version", "TXT", '"1.1.0"', "28800"),
]


def test_desired_state_chart_pods_are_predicted_not_failures_live(
    run, make_knot, tmp_path: Path
) -> None:
    from tests.unit.test_engine_behaviours import chart

    path = chart(tmp_path)
    knot = make_knot({"cluster.local.": zone_text("cluster.local.", CHART_ROWS)})
    base = ["inspect", "zk", "-n", "data", "-f", path, "--timeout", "0.3"]
    base += ["--nameserver", f"127.0.0.1:{knot.port}"]
    result = run(*base, "-o", "json")
    doc = result.json()
    rows = {(r["name"], r["type"]): r for r in doc["rows"]}
    for ordinal in range(3):
        row = rows[(f"zk-{ordinal}.zk.data.svc.cluster.local.", "A")]
        assert row["expected"]["predicted"] == ["address assigned when the pod starts"]
        assert row["status"] == "ok"
    assert result.code == ExitCode.OK, [k for k, r in rows.items() if r["status"] != "ok"]
    (svc,) = doc["services"]
    assert svc["predictedPods"] == ["zk-0", "zk-1", "zk-2"]
    table = run(*base).out
    assert "predicted pods zk-0, zk-1, zk-2" in table
    assert "addresses assigned when the pods start" in table
