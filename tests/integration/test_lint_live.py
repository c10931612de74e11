"""``hsvc lint`` against the emulated API server: live objects, observed-state checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from hsvc.errors import ExitCode

pytestmark = pytest.mark.integration


def lint(run, kubeconfig: Path, *args: str):
    return run("lint", "--kubeconfig", str(kubeconfig), *args)


def test_live_lint_reports_observed_state(run, kubeconfig: Path) -> None:
    result = lint(run, kubeconfig, "-n", "ms", "-o", "json")
    assert result.code == ExitCode.OK, result.err
    doc = result.json()
    assert doc["kind"] == "LintResult" and doc["source"]["namespace"] == "ms"
    found = {(f["code"], f["object"]["name"]) for f in doc["findings"]}
    # The seed's mysql and portal Services select no pod, and (live) have no slice.
    assert found == {
        ("HSVC201", "mysql-production"),
        ("HSVC201", "portal"),
        ("HSVC202", "mysql-production"),
        ("HSVC202", "portal"),
    }
    assert all("location" not in f for f in doc["findings"])  # live objects have no file


def test_live_lint_sarif_uses_logical_locations(run, kubeconfig: Path) -> None:
    import json

    result = lint(run, kubeconfig, "-n", "ms", "-o", "sarif")
    assert result.code == ExitCode.OK, result.err
    for res in json.loads(result.out)["runs"][0]["results"]:
        (loc,) = res["locations"]
        assert "physicalLocation" not in loc and loc["logicalLocations"]


def test_live_lint_unknown_namespace(run, kubeconfig: Path) -> None:
    result = lint(run, kubeconfig, "-n", "nowhere")
    assert result.code == ExitCode.NOT_FOUND
    assert "nowhere" in result.err


def test_live_lint_without_pods_skips_pod_based_checks(run, api_server, kubeconfig: Path) -> None:
    api_server.inject("*/pods*", status=403)
    result = lint(run, kubeconfig, "-n", "ms", "-o", "json")
    assert result.code == ExitCode.OK, result.err
    codes = {f["code"] for f in result.json()["findings"]}
    assert "HSVC201" not in codes and "HSVC202" in codes
    assert any("pods" in n for n in result.json()["source"]["notes"])


def test_live_lint_reads_deployment_templates(run, api_server, kubeconfig: Path) -> None:
    api_server.add(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ms"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"hostname": "web", "containers": [{"name": "c", "image": "x"}]},
                },
            },
        }
    )
    api_server.clear_log()
    result = lint(run, kubeconfig, "-n", "ms", "-o", "json")
    codes = {(f["code"], f["object"]["name"]) for f in result.json()["findings"]}
    assert ("HSVC405", "web") in codes
    assert api_server.count(method="GET", path="*/deployments") == 1
    assert api_server.mutations == []
