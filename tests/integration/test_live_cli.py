"""The CLI against the emulated API server (objects) and knotd (DNS), through a real kubeconfig."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import TOKEN, write_kubeconfig
from tests.integration.seed_zone import (
    STALE_EUREKA1_ROWS,
    seed_zones,
    stale_eureka1_zones,
)

DATA = Path(__file__).resolve().parent.parent / "data"
SEED_FILES = [str(DATA / "seed" / "ms.yaml"), str(DATA / "seed" / "kube-system.yaml")]


def without_origin(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    doc.pop("source")
    doc["settings"].pop("source")
    return doc


@pytest.mark.parametrize("service", ["eureka", "gateway"])
def test_live_records_equal_offline_records(run, kubeconfig: Path, service: str) -> None:
    live = run("records", service, "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert live.code == 0, live.err
    offline_args = ["records", service, "-n", "ms", "--offline", "-o", "json"]
    for f in SEED_FILES:
        offline_args += ["-f", f]
    offline = run(*offline_args)
    assert offline.code == 0, offline.err
    assert without_origin(live.json()) == without_origin(offline.json())
    assert "coredns" in live.json()["settings"]["source"]
    assert live.json()["source"]["origin"].startswith("context 'kind-hsvc'")


def test_live_namespace_defaults_to_the_contexts(run, kubeconfig: Path) -> None:
    result = run("records", "gateway", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert result.code == 0, result.err
    assert result.json()["source"]["namespace"] == "ms"


def test_live_inspect_all_ok_and_stale(run, kubeconfig: Path, make_knot) -> None:
    good = make_knot(seed_zones())
    result = run(
        "inspect",
        "eureka",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        f"127.0.0.1:{good.port}",
        "-o",
        "json",
    )
    assert result.code == ExitCode.OK, result.out + result.err
    assert {r["status"] for r in result.json()["rows"]} == {"ok"}
    stale = make_knot(stale_eureka1_zones())
    result = run(
        "inspect",
        "eureka",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        f"127.0.0.1:{stale.port}",
        "-o",
        "json",
    )
    assert result.code == ExitCode.MISMATCH
    flagged = {(r["name"], r["type"]): r["status"] for r in result.json()["rows"]}
    assert {k: v for k, v in flagged.items() if v != "ok"} == STALE_EUREKA1_ROWS


def test_flags_after_and_before_the_subcommand(run, kubeconfig: Path) -> None:
    before = run("--kubeconfig", str(kubeconfig), "-n", "ms", "records", "gateway", "-o", "json")
    after = run("records", "gateway", "-o", "json", "--kubeconfig", str(kubeconfig), "-n", "ms")
    assert before.code == after.code == 0
    assert before.json()["records"] == after.json()["records"]


def test_api_requests_are_constant_in_pod_count(run, api_server, kubeconfig: Path) -> None:
    api_server.clear_log()
    assert (
        run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json").code
        == 0
    )
    small = len(api_server.log)
    pods = []
    for i in range(3, 300):
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"filler-{i}", "namespace": "ms", "labels": {"app": "filler"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
                "status": {"phase": "Running", "podIP": f"10.245.{i // 250}.{i % 250}"},
            }
        )
    api_server.add(*pods)
    api_server.clear_log()
    assert (
        run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json").code
        == 0
    )
    assert len(api_server.log) == small
    assert api_server.mutations == []


def scaled_eureka(replicas: int) -> list[dict]:
    """The seed's eureka StatefulSet at ``replicas``: its pods and slices, ready (as the API shows them)."""
    objects: list[dict] = [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "eureka", "namespace": "ms"},
            "spec": {
                "serviceName": "eureka",
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "eureka", "project": "ms"}},
                "template": {"metadata": {"labels": {"app": "eureka", "project": "ms"}}},
            },
        }
    ]
    ips = {i: f"10.246.{i // 250}.{i % 250 + 1}" for i in range(3, replicas)}
    for i, ip in ips.items():
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"eureka-{i}",
                    "namespace": "ms",
                    "labels": {"app": "eureka", "project": "ms"},
                },
                "spec": {
                    "hostname": f"eureka-{i}",
                    "subdomain": "eureka",
                    "containers": [{"name": "c", "image": "x"}],
                },
                "status": {
                    "phase": "Running",
                    "podIP": ip,
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            }
        )
    objects.append(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": "eureka-more",
                "namespace": "ms",
                "labels": {"kubernetes.io/service-name": "eureka"},
            },
            "addressType": "IPv4",
            "ports": [{"name": "eureka", "port": 8888, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": [ip], "hostname": f"eureka-{i}", "conditions": {"ready": True}}
                for i, ip in ips.items()
            ],
        }
    )
    return objects


def test_inspect_api_requests_are_constant_in_replica_count(
    run, api_server, kubeconfig: Path, make_knot
) -> None:
    knot = make_knot(seed_zones())
    args = [
        "inspect",
        "eureka",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "-o",
        "json",
    ]

    def requests() -> tuple[list[tuple[str, str]], int]:
        api_server.clear_log()
        result = run(*args)
        assert result.code in (ExitCode.OK, ExitCode.MISMATCH), result.err
        return [(r.method, r.path) for r in api_server.log], len(result.json()["rows"])

    small, small_rows = requests()
    api_server.add(*scaled_eureka(300))
    large, large_rows = requests()
    # 100 times the pods, the same requests (300 pods fit one LIST page of 1,000);
    # the resolver path's GETs go out at once, in any order among themselves.
    assert large_rows > 50 * small_rows
    assert sorted(large) == sorted(small)
    assert api_server.mutations == []


@pytest.mark.parametrize(
    ("service", "namespace", "fragment"),
    [
        ("nope", "ms", 'service "nope" not found'),
        ("eureka", "nowhere", "nowhere"),
    ],
)
def test_live_not_found(run, kubeconfig: Path, service: str, namespace: str, fragment: str) -> None:
    result = run("records", service, "-n", namespace, "--kubeconfig", str(kubeconfig))
    assert result.code == ExitCode.NOT_FOUND, result.err
    assert fragment in result.err and "kind-hsvc" in result.err
    assert result.err.count("\n") == 1


def test_live_forbidden_names_the_permission(run, api_server, kubeconfig: Path) -> None:
    api_server.inject("*/services*", status=403)
    result = run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig))
    assert result.code == ExitCode.ACCESS_DENIED
    assert "services" in result.err and ("get" in result.err or "list" in result.err)
    assert TOKEN not in result.err + result.out


def test_live_forbidden_pods_degrades_with_a_note(run, api_server, kubeconfig: Path) -> None:
    api_server.inject("*/pods*", status=403)
    result = run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert result.code == ExitCode.OK, result.err
    notes = result.json()["source"]["notes"]
    assert any("pods" in n and "forbidden" in n for n in notes)


def test_live_unauthorized(run, api_server_tls, tmp_path: Path) -> None:
    assert api_server_tls.ca_pem is not None
    ca = tmp_path / "ca.pem"
    ca.write_bytes(api_server_tls.ca_pem)
    cfg = write_kubeconfig(tmp_path / "kc", api_server_tls.url, ca_file=ca, token="wrong-" + TOKEN)
    result = run("records", "eureka", "-n", "ms", "--kubeconfig", str(cfg))
    assert result.code == ExitCode.ACCESS_DENIED
    assert "wrong-" not in result.err and TOKEN not in result.err


def test_live_https_with_token(run, kubeconfig_tls: Path) -> None:
    result = run(
        "records",
        "gateway",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig_tls),
        "-o",
        "json",
        "--debug",
    )
    assert result.code == 0, result.err
    assert TOKEN not in result.out + result.err


def test_live_unreachable_within_the_timeout(run, tmp_path: Path) -> None:
    cfg = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:9")  # discard port: closed
    started = time.monotonic()
    result = run("records", "--kubeconfig", str(cfg), "--request-timeout", "1")
    assert result.code == ExitCode.API_UNREACHABLE
    assert time.monotonic() - started < 2.0
    assert "127.0.0.1:9" in result.err


def test_live_slow_api_times_out(run, api_server, kubeconfig: Path) -> None:
    api_server.inject("*", delay=3.0)
    started = time.monotonic()
    result = run(
        "records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig), "--request-timeout", "0.5"
    )
    assert result.code == ExitCode.API_UNREACHABLE
    assert time.monotonic() - started < 1.5 + 1.0
