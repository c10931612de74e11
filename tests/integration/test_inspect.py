"""``hsvc inspect`` against real knotd serving hand-written zones of the seed cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.seed_zone import (
    CLUSTER_ROWS,
    STALE_EUREKA1_ROWS,
    replace,
    seed_zones,
    stale_eureka1_zones,
)

DATA = Path(__file__).resolve().parent.parent / "data"
SEED = str(DATA / "seed" / "ms.yaml")


def inspect(run, server, *extra: str, service: str = "eureka"):
    return run(
        "inspect",
        service,
        "-n",
        "ms",
        "-f",
        SEED,
        "--nameserver",
        f"127.0.0.1:{server.port}",
        "--timeout",
        "0.5",
        "-o",
        "json",
        *extra,
    )


def not_ok(doc) -> dict[tuple[str, str], str]:
    return {(r["name"], r["type"]): r["status"] for r in doc["rows"] if r["status"] != "ok"}


def test_inspect_seed_all_ok(run, make_knot) -> None:
    server = make_knot(seed_zones())
    result = inspect(run, server)
    assert result.code == ExitCode.OK, result.out + result.err
    doc = result.json()
    assert doc["kind"] == "Inspection"
    assert not_ok(doc) == {}
    names = {(r["name"], r["type"]) for r in doc["rows"]}
    assert ("eureka-1.eureka.ms.svc.cluster.local.", "A") in names
    assert ("_eureka._tcp.eureka.ms.svc.cluster.local.", "SRV") in names
    assert ("45.2.244.10.in-addr.arpa.", "PTR") in names
    assert doc["summary"]["ok"] == doc["summary"]["total"] == len(doc["rows"])
    (svc,) = doc["services"]
    assert svc["headless"] is True and svc["statefulSets"] == ["eureka"]
    assert svc["endpoints"] == {
        "ready": 3,
        "notReady": 0,
        "serving": 3,
        "terminating": 0,
        "predicted": False,
    }
    row = next(
        r for r in doc["rows"] if r["name"] == "eureka.ms.svc.cluster.local." and r["type"] == "A"
    )
    (actual,) = row["actual"]
    assert actual["server"] == f"127.0.0.1:{server.port}"
    assert sorted(r["data"] for r in actual["answer"]) == [
        "10.244.1.210",
        "10.244.1.211",
        "10.244.2.45",
    ]


def test_inspect_gateway_clusterip_all_ok(run, make_knot) -> None:
    server = make_knot(seed_zones())
    result = inspect(run, server, service="gateway")
    assert result.code == ExitCode.OK, result.out
    doc = result.json()
    row = next(
        r for r in doc["rows"] if r["name"] == "gateway.ms.svc.cluster.local." and r["type"] == "A"
    )
    assert [r["data"] for r in row["actual"][0]["answer"]] == ["10.0.0.14"]
    # The pod's name under a ClusterIP Service must not answer, and does not.
    neg = next(r for r in doc["rows"] if r["name"].startswith("gateway-7d9f8-abcde."))
    assert neg["status"] == "ok" and neg["actual"][0]["rcode"] == "NXDOMAIN"


def test_stale_pod_ip_flags_exactly_the_rows_it_touches(run, make_knot) -> None:
    server = make_knot(stale_eureka1_zones())
    result = inspect(run, server)
    assert result.code == ExitCode.MISMATCH
    assert not_ok(result.json()) == STALE_EUREKA1_ROWS


def test_missing_extra_and_unexpected_records(run, make_knot, tmp_path: Path) -> None:
    rows = [r for r in CLUSTER_ROWS if r[0] != "eureka-0.eureka.ms.svc"]  # a missing per-pod record
    rows.append(("eureka.ms.svc", "A", "10.244.9.9"))  # an extra address
    server = make_knot(seed_zones(rows))
    doc = inspect(run, server).json()
    assert not_ok(doc) == {
        ("eureka-0.eureka.ms.svc.cluster.local.", "A"): "missing",
        ("eureka.ms.svc.cluster.local.", "A"): "wrong",
    }
    wrong = next(r for r in doc["rows"] if r["status"] == "wrong")
    assert "10.244.9.9" in wrong["actual"][0]["note"]


def test_name_that_must_not_exist_but_does(run, make_knot, tmp_path: Path) -> None:
    # eureka-2 is not ready in the objects, but DNS still answers for it.
    text = Path(SEED).read_text()
    endpoint = "- addresses:\n  - 10.244.1.211\n  conditions:\n    ready: true"
    manifest = tmp_path / "ms.yaml"
    manifest.write_text(text.replace(endpoint, endpoint.replace("ready: true", "ready: false")))
    server = make_knot(seed_zones())
    result = run(
        "inspect",
        "eureka",
        "-n",
        "ms",
        "-f",
        str(manifest),
        "--nameserver",
        f"127.0.0.1:{server.port}",
        "-o",
        "json",
    )
    assert result.code == ExitCode.MISMATCH
    statuses = not_ok(result.json())
    assert statuses[("eureka-2.eureka.ms.svc.cluster.local.", "A")] == "unexpected"
    row = next(
        r for r in result.json()["rows"] if r["name"] == "eureka-2.eureka.ms.svc.cluster.local."
    )
    assert row["expected"]["rcode"] == "NXDOMAIN" and "ready" in row["expected"]["reason"]


def test_headless_name_nxdomain_is_missing(run, make_knot) -> None:
    rows = [r for r in CLUSTER_ROWS if not (r[0] == "eureka.ms.svc" and r[1] == "A")]
    server = make_knot(seed_zones(rows))
    doc = inspect(run, server).json()
    row = next(
        r for r in doc["rows"] if r["name"] == "eureka.ms.svc.cluster.local." and r["type"] == "A"
    )
    # The SRV records still live at that name, so DNS says NODATA rather than NXDOMAIN.
    assert row["status"] == "missing" and row["actual"][0]["rcode"] == "NOERROR"


def test_servfail_is_an_error_row(run, make_knot) -> None:
    zones = seed_zones()
    zones["cluster.local."] = "this is not a zone file\n"
    server = make_knot(zones)
    result = inspect(run, server)
    assert result.code == ExitCode.MISMATCH
    doc = result.json()
    forward = [r for r in doc["rows"] if not r["name"].endswith(".arpa.")]
    assert forward and all(r["status"] == "error" for r in forward)
    assert all(r["actual"][0]["rcode"] == "SERVFAIL" for r in forward)


def test_refused_outside_zones_is_an_error_row(run, make_knot) -> None:
    server = make_knot(
        {"example.org.": "$ORIGIN example.org.\n@ 30 IN SOA a. b. 1 2 3 4 5\n@ 30 IN NS a.\n"}
    )
    doc = inspect(run, server).json()
    assert {r["status"] for r in doc["rows"]} == {"error"}
    assert {r["actual"][0]["rcode"] for r in doc["rows"]} == {"REFUSED"}


@pytest.mark.parametrize(
    "args", [["inspect", "gateway"], ["resolve", "gateway.ms.svc.cluster.local."]]
)
def test_no_server_answering_exits_6(run, make_bad_dns, args: list[str]) -> None:
    silent = make_bad_dns("silent")
    result = run(
        *args,
        "-n",
        "ms",
        "-f",
        SEED,
        "--nameserver",
        f"127.0.0.1:{silent.port}",
        "--timeout",
        "0.2",
    )
    assert result.code == ExitCode.NO_DNS
    assert "no DNS server answered" in result.err and result.err.count("\n") == 1


def test_each_nameserver_is_reported_separately(run, make_knot) -> None:
    good = make_knot(seed_zones())
    stale = make_knot(seed_zones(replace(CLUSTER_ROWS, "10.0.0.14", "10.0.0.15")))
    result = run(
        "inspect",
        "gateway",
        "-n",
        "ms",
        "-f",
        SEED,
        "--nameserver",
        f"127.0.0.1:{good.port}",
        "--nameserver",
        f"127.0.0.1:{stale.port}",
        "-o",
        "json",
    )
    assert result.code == ExitCode.MISMATCH
    row = next(
        r
        for r in result.json()["rows"]
        if r["name"] == "gateway.ms.svc.cluster.local." and r["type"] == "A"
    )
    verdicts = {a["server"]: a["verdict"] for a in row["actual"]}
    assert verdicts == {f"127.0.0.1:{good.port}": "ok", f"127.0.0.1:{stale.port}": "wrong"}


def test_table_output_shows_marks_and_explanations(
    run, make_knot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    rows = [r for r in CLUSTER_ROWS if r[0] != "eureka-0.eureka.ms.svc"]
    server = make_knot(seed_zones(rows))
    result = run(
        "inspect",
        "eureka",
        "-n",
        "ms",
        "-f",
        SEED,
        "--nameserver",
        f"127.0.0.1:{server.port}",
        "--no-color",
    )
    assert result.code == ExitCode.MISMATCH
    out = result.out
    assert "✓" in out and "✗1" in out
    assert "1. eureka-0.eureka.ms.svc A: missing" in out
    assert "Service ms/eureka  headless" in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_resolve_live_shows_actual_next_to_expected(run, make_knot) -> None:
    rows = [r for r in CLUSTER_ROWS if r[0] != "eureka-0.eureka.ms.svc"]
    server = make_knot(seed_zones(rows))
    result = run(
        "resolve",
        "eureka-1.eureka",
        "eureka-0.eureka",
        "-n",
        "ms",
        "-f",
        SEED,
        "--nameserver",
        f"127.0.0.1:{server.port}",
        "-o",
        "json",
    )
    assert result.code == ExitCode.MISMATCH
    ok, missing = result.json()["results"]
    assert ok["status"] == "ok" and ok["answeredBy"] == "eureka-1.eureka.ms.svc.cluster.local."
    assert [r["data"] for r in ok["actual"][0]["answer"]] == ["10.244.2.45"]
    # The short name's other candidates were asked too, as a pod's resolver would.
    assert len(ok["candidates"]) == 4
    assert ok["candidates"][1]["actual"][0]["rcode"] == "NXDOMAIN"
    assert missing["status"] == "missing"
    assert missing["expected"]["answer"][0]["data"] == "10.244.1.210"


def test_resolve_live_table(run, make_knot) -> None:
    server = make_knot(seed_zones())
    result = run(
        "resolve",
        "gateway",
        "-n",
        "ms",
        "-f",
        SEED,
        "--nameserver",
        f"127.0.0.1:{server.port}",
        "--no-color",
    )
    assert result.code == ExitCode.OK, result.err
    assert "gateway.ms.svc.cluster.local." in result.out
    assert "✓ ok" in result.out and "10.0.0.14" in result.out
    assert f"127.0.0.1:{server.port}" in result.out


@pytest.mark.parametrize("scope", [["-n", "ms"], ["-A"]])
def test_inspect_every_service_in_scope(run, make_knot, scope: list[str]) -> None:
    server = make_knot(seed_zones())
    result = run(
        "inspect", *scope, "-f", SEED, "--nameserver", f"127.0.0.1:{server.port}", "-o", "json"
    )
    doc = result.json()
    assert {s["name"] for s in doc["services"]} == {
        "eureka",
        "gateway",
        "mysql-production",
        "portal",
    }
    assert result.code == ExitCode.OK, [r for r in doc["rows"] if r["status"] != "ok"]
    names = {r["name"] for r in doc["rows"]}
    assert (
        "portal.ms.svc.cluster.local." in names
        and "_mysql._tcp.mysql-production.ms.svc.cluster.local." in names
    )
