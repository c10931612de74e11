"""resolve, records, inspect and lint never contradict each other, through the CLI.

A few generated clusters are written as manifest files; every command reads them
through ``hsvc.cli.main``. inspect asks the built-in playback server, which serves
a zone written here from the cluster's own table (never from hsvc's records).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from hsvc.adapters.demo_server import PlaybackServer
from tests.integration.seed_zone import zone_text

pytestmark = pytest.mark.integration

Z = "cluster.local."


def cluster(seed: int) -> tuple[list[dict[str, object]], list[tuple[str, ...]]]:
    """Objects of one generated cluster, and the table of what its DNS serves."""
    rnd = random.Random(seed)
    objs: list[dict[str, object]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gen"}}
    ]
    table: list[tuple[str, ...]] = [("dns-version", "TXT", '"1.1.0"', "28800")]
    for s in range(2):
        name, headless = f"s{s}", rnd.random() < 0.6
        spec: dict[str, object] = {
            "selector": {"app": name},
            "ports": [{"name": "p", "port": 80}],
            "clusterIP": "None" if headless else f"10.96.{seed}.{s + 1}",
        }
        objs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": name, "namespace": "gen"}, "spec": spec})  # fmt: skip
        if not headless:
            table.append((f"{name}.gen.svc", "A", f"10.96.{seed}.{s + 1}"))
        endpoints = []
        for i in range(rnd.randint(1, 3)):
            pod, ip, ready = f"{name}-{i}", f"10.244.{seed}.{s * 10 + i + 1}", rnd.random() < 0.7
            pod_spec = {"hostname": pod, "subdomain": name, "containers": [{"name": "c"}]}
            status = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                      "conditions": [{"type": "Ready", "status": str(ready)}]}  # fmt: skip
            objs.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": pod, "namespace": "gen", "labels": {"app": name}},
                         "spec": pod_spec, "status": status})  # fmt: skip
            endpoints.append({"addresses": [ip], "hostname": pod,
                              "conditions": {"ready": ready, "serving": ready},
                              "targetRef": {"kind": "Pod", "name": pod, "namespace": "gen"}})  # fmt: skip
            table.append((f"{'-'.join(ip.split('.'))}.gen.pod", "A", ip))
            if ready:
                table.append((f"{pod}.{name}.gen.svc", "A", ip))
                if headless:
                    table.append((f"{name}.gen.svc", "A", ip))
        objs.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                     "metadata": {"name": f"{name}-x", "namespace": "gen",
                                  "labels": {"kubernetes.io/service-name": name}},
                     "addressType": "IPv4", "ports": [{"name": "p", "port": 80}],
                     "endpoints": endpoints})  # fmt: skip
    return objs, table


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_resolve_records_inspect_and_lint_agree_through_the_cli(
    run, tmp_path: Path, seed: int
) -> None:
    objs, table = cluster(seed)
    path = tmp_path / "cluster.yaml"
    path.write_text("\n---\n".join(json.dumps(o) for o in objs) + "\n")
    f = str(path)

    def rcode(name: str, qtype: str) -> str:
        result = run("resolve", name, "-t", qtype, "-f", f, "--offline", "-o", "json")
        assert result.code == 0, result.err
        (res,) = result.json()["results"]
        return str(res["expected"]["rcode"])

    recs = run("records", "-n", "gen", "-f", f, "--offline", "-o", "json")
    assert recs.code == 0, recs.err
    doc = recs.json()
    expected = {(r["name"], r["type"]) for r in doc["records"]}
    refused = {(a["name"], a["type"]) for a in doc["absent"]}
    assert expected and not expected & refused
    for name, qtype in sorted(expected)[:8]:
        assert rcode(name, qtype) == "NOERROR", name
    for name, qtype in sorted(refused)[:8]:
        assert rcode(name, qtype) in ("NXDOMAIN", "NOERROR"), name
        if qtype in ("A", "AAAA") and name.endswith(f".svc.{Z}"):
            assert rcode(name, qtype) == "NXDOMAIN", name
    zones = [("c.zone", zone_text(Z, table))]
    with PlaybackServer(zones) as dns:
        result = run("inspect", "-n", "gen", "-f", f, "--nameserver", dns.address,
                     "--timeout", "0.5", "-o", "json")  # fmt: skip
    assert result.code in (0, 1), result.err
    rows = result.json()["rows"]
    assert any(r["status"] == "ok" and r["expected"]["answer"] for r in rows)
    for row in rows[:6]:  # inspect expects what resolve answers
        assert row["expected"]["rcode"] == rcode(row["name"], row["type"]), row["name"]
    for row in rows:
        key = (row["name"], row["type"])
        if key in expected:
            assert row["expected"]["rcode"] == "NOERROR", key
        if key in refused and row["expected"]["rcode"] == "NOERROR":
            assert row["type"] not in ("A", "AAAA") or not row["name"].endswith(".svc." + Z)
    lint = run("lint", "-f", f, "-o", "json")
    for finding in lint.json()["findings"]:
        text = finding["message"]
        if "NXDOMAIN" not in text:
            continue
        for name in re.findall(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.svc\.cluster\.local\.", text):
            assert rcode(name, "A") == "NXDOMAIN", (finding["code"], name)
