"""The engine's must-not-resolve rows and silent servers, live against real knotd.

The zones are typed in here as a CoreDNS that answers the Kafka cluster of
tests/unit/test_engine_behaviours.py would (kafka-2 not ready), with one drift:
a server that still hands out kafka-2's dashed name under the ClusterIP Service.
"""

from __future__ import annotations

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
