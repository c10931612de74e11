"""Several contexts in one run: one kubeconfig, three clusters (one down, one with a stale zone).

Each emulated cluster forwards its CoreDNS replica to its own knotd, so every
context is asked through its own API server (its own DNS vantage point).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import SEED_FILES, TOKEN, write_kubeconfig
from tests.integration.apiserver import ApiServer
from tests.integration.seed_zone import STALE_EUREKA1_ROWS, seed_zones, stale_eureka1_zones
from tests.integration.test_portforward import coredns_pod

pytestmark = pytest.mark.integration


def _entries(name: str, server: str) -> dict[str, list[dict]]:
    return {
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": name, "user": {"token": TOKEN}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "ms"}}],
    }


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def second_api() -> Iterator[ApiServer]:
    with ApiServer() as server:
        server.add_yaml(*SEED_FILES)
        yield server


@pytest.fixture
def fleet(api_server, second_api, make_knot, tmp_path: Path) -> Path:
    """Contexts ``good`` (DNS as the objects say), ``stale`` (eureka-1's old IP), ``down``."""
    for api, zones in ((api_server, seed_zones()), (second_api, stale_eureka1_zones())):
        knot = make_knot(zones)
        api.add(coredns_pod("coredns-5d78c9869d-abcde", "10.244.0.10"))
        api.forward("kube-system", "coredns-5d78c9869d-abcde", 53, ("127.0.0.1", knot.port))
    stale, down = (
        _entries("stale", second_api.url),
        _entries("down", f"http://127.0.0.1:{_closed_port()}"),
    )
    extra = {key: stale[key] + down[key] for key in stale}
    return write_kubeconfig(tmp_path / "fleet", api_server.url, context="good", extra=extra)


def test_three_contexts_one_down_one_stale(run, fleet: Path, api_server, second_api) -> None:
    result = run("inspect", "-n", "ms", "--all-contexts", "--kubeconfig", str(fleet), "-o", "json")
    doc = result.json()
    # The worst of 0 (good), 1 (stale) and 5 (down).
    assert result.code == ExitCode.API_UNREACHABLE
    assert doc["kind"] == "FleetResult" and doc["command"] == "inspect"
    assert doc["exitCode"] == ExitCode.API_UNREACHABLE
    by_context = {c["context"]: c for c in doc["contexts"]}
    assert list(by_context) == ["good", "stale", "down"]  # kubeconfig order
    assert by_context["good"]["exitCode"] == 0 and by_context["good"]["error"] is None
    assert {r["status"] for r in by_context["good"]["result"]["rows"]} == {"ok"}
    assert by_context["stale"]["exitCode"] == ExitCode.MISMATCH
    flagged = {
        (r["name"], r["type"]): r["status"]
        for r in by_context["stale"]["result"]["rows"]
        if r["status"] != "ok"
    }
    assert flagged == STALE_EUREKA1_ROWS
    assert by_context["down"]["exitCode"] == ExitCode.API_UNREACHABLE
    assert by_context["down"]["result"] is None
    assert "connection refused" in by_context["down"]["error"]
    assert 'context "down"' in by_context["down"]["error"]
    # Each context through its own API server: its own connection and vantage point.
    assert any(r.path.endswith("/portforward") for r in api_server.log)
    assert any(r.path.endswith("/portforward") for r in second_api.log)
    summary = {(s["context"], s["namespace"], s["name"]): s for s in doc["summary"]}
    eureka = summary[("stale", "ms", "eureka")]
    # ok rows include the dashed-IP names of the hostnamed endpoints (must not resolve).
    assert eureka["counts"] == {"missing": 1, "ok": 9, "wrong": 2}
    assert eureka["cause"].startswith("HSVC603: ") and "10.244.2.99" in eureka["cause"]
    assert summary[("good", "ms", "eureka")] == {
        "context": "good",
        "namespace": "ms",
        "name": "eureka",
        "counts": {"ok": 12},
        "cause": "",
    }
    assert not any(s["context"] == "down" for s in doc["summary"])
    # Progress on stderr, one start and one end per context.
    for context in ("good", "stale", "down"):
        assert f"hsvc: context {context}: started" in result.err
    assert "hsvc: context good: done (exit 0)" in result.err
    assert "hsvc: context stale: done (exit 1)" in result.err
    assert "hsvc: context down: error: cannot get" in result.err
    assert api_server.mutations == [] and second_api.mutations == []


def test_summary_table_names_the_stale_service(run, fleet: Path) -> None:
    result = run(
        "inspect", "-n", "ms", "--context", "stale", "--context", "good",
        "--kubeconfig", str(fleet), "--no-color",
    )  # fmt: skip
    assert result.code == ExitCode.MISMATCH, result.err
    lines = [line.split() for line in result.out.splitlines() if line.strip()]
    stale = next(line for line in lines if line[:3] == ["stale", "ms", "eureka"])
    assert "HSVC603:" in stale
    assert not any(line[0] == "down" for line in lines)
    assert "context down" not in result.err


def test_records_and_lint_over_contexts(run, fleet: Path) -> None:
    records = run(
        "records", "-n", "ms", "--context", "good", "--context", "stale",
        "--kubeconfig", str(fleet), "-o", "json",
    )  # fmt: skip
    assert records.code == ExitCode.OK, records.err
    summary = {(s["context"], s["name"]): s["counts"] for s in records.json()["summary"]}
    # The same objects in both clusters: the same records (the stale zone is not asked).
    assert summary[("good", "eureka")] == summary[("stale", "eureka")]
    assert summary[("good", "eureka")]["records"] > 0
    lint = run("lint", "-n", "ms", "--all-contexts", "--kubeconfig", str(fleet), "-o", "json")
    assert lint.code == ExitCode.API_UNREACHABLE
    rows = {(s["context"], s["name"]) for s in lint.json()["summary"]}
    assert ("good", "Service/portal") in rows and ("stale", "Service/portal") in rows


@pytest.mark.parametrize(
    "args",
    [
        ["resolve", "eureka", "--context", "good", "--context", "stale"],
        ["inspect", "--all-contexts", "--context", "good"],
        ["lint", "--all-contexts", "-o", "sarif"],
        ["records", "--all-contexts", "-f", "tests/data/seed/ms.yaml"],
    ],
    ids=["resolve-one-context", "all-and-context", "sarif", "with-files"],
)
def test_bad_context_combinations_are_usage_errors(run, fleet: Path, args: list[str]) -> None:
    result = run(*args, "--kubeconfig", str(fleet))
    assert result.code == ExitCode.USAGE, result.err
    assert result.err.startswith("hsvc: error: ") and result.err.count("\n") == 1
