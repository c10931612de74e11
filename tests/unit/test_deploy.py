"""deploy/: the manifests parse, hold the kinds the how-to lists, and agree with the code.

The RBAC rules are compared with the requests a monitor run makes in
tests/integration/test_monitor.py (test_cluster_role_is_exactly_what_the_monitor_uses).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from hsvc.adapters.metrics import Metrics
from hsvc.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
FILES = (
    "namespace.yaml",
    "rbac.yaml",
    "deployment.yaml",
    "service.yaml",
    "servicemonitor.yaml",
    "prometheusrule.yaml",
)


def documents() -> list[dict]:
    docs = []
    for name in FILES:
        docs.extend(d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d)
    return docs


def one(kind: str) -> dict:
    (found,) = [d for d in documents() if d["kind"] == kind]
    return found


def test_every_file_parses_and_holds_the_kinds_listed() -> None:
    kinds = sorted(d["kind"] for d in documents())
    assert kinds == sorted(
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment",
            "Service",
            "ServiceMonitor",
            "PrometheusRule",
        ]
    )
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    assert kustomization["resources"] == list(FILES)
    for d in documents():
        assert d["apiVersion"] and d["metadata"]["name"]
        if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            assert d["metadata"]["namespace"] in ("hsvc-system", "kube-system"), d["kind"]


def test_the_deployment_runs_the_monitor_unprivileged() -> None:
    deployment = one("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == one("ServiceAccount")["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    resources = container["resources"]
    for side in ("requests", "limits"):
        assert set(resources[side]) == {"cpu", "memory"}
        assert re.fullmatch(r"\d+Mi", resources[side]["memory"]), resources
        assert re.fullmatch(r"\d+m", resources[side]["cpu"]), resources
    # Every flag in the args is one hsvc monitor has.
    monitor = get_command(app).commands["monitor"]  # type: ignore[attr-defined]
    flags = {opt for p in monitor.params for opt in p.opts}
    args = container["args"]
    assert args[0] == "monitor"
    assert {a for a in args if a.startswith("-")} <= flags
    listen = args[args.index("--listen") + 1]
    (port,) = container["ports"]
    assert listen.endswith(f":{port['containerPort']}")
    assert {
        p["httpGet"]["path"] for p in (container["readinessProbe"], container["livenessProbe"])
    } == {
        "/readyz",
        "/healthz",
    }


def test_service_and_servicemonitor_point_at_the_pods_port() -> None:
    pod_labels = one("Deployment")["spec"]["template"]["metadata"]["labels"]
    service = one("Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "metrics"
    monitor = one("ServiceMonitor")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"][0]["port"] == port["name"]


def test_alert_rules_use_metrics_the_monitor_serves() -> None:
    served = {
        line.split()[2]
        for line in Metrics().exposition().decode().splitlines()
        if line.startswith("# TYPE")
    }
    names = served | {f"{n}_bucket" for n in served} | {f"{n}_total" for n in served}
    rules = [r for g in one("PrometheusRule")["spec"]["groups"] for r in g["rules"]]
    alerts = {r["alert"] for r in rules}
    assert alerts == {
        "HsvcDnsRecordsStuck",
        "HsvcDnsReplicaDisagreement",
        "HsvcDnsConvergenceSlow",
        "HsvcMonitorSweepsStale",
    }
    for rule in rules:
        used = set(re.findall(r"\bhsvc_[a-z_]+", rule["expr"]))
        assert used and used <= names, (rule["alert"], used - names)
        assert rule["labels"]["severity"] in ("info", "warning", "critical")
    stuck = next(r for r in rules if r["alert"] == "HsvcDnsRecordsStuck")
    assert stuck["for"] == "5m" and "hsvc_records_stuck" in stuck["expr"]
    slow = next(r for r in rules if r["alert"] == "HsvcDnsConvergenceSlow")
    assert "histogram_quantile(0.95" in slow["expr"] and "hsvc_stuck_after_seconds" in slow["expr"]


def test_containerfile_installs_the_package_and_runs_as_the_deployments_user() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert "pip wheel" in text and re.search(r"pip install .*hsvc-\*\.whl", text)
    user = re.search(r"^USER (\d+)", text, re.M)
    assert user is not None
    pod = one("Deployment")["spec"]["template"]["spec"]
    assert int(user[1]) == pod["securityContext"]["runAsUser"]
    assert 'ENTRYPOINT ["hsvc"]' in text


@pytest.mark.parametrize("name", ["monitor-a-fleet.md"])
def test_the_how_to_names_every_deploy_file(name: str) -> None:
    text = (ROOT / "docs" / "how-to" / name).read_text()
    for file in FILES:
        assert f"`{file}`" in text, file
    for alert in ("HsvcDnsRecordsStuck", "HsvcDnsReplicaDisagreement", "HsvcDnsConvergenceSlow"):
        assert alert in text
