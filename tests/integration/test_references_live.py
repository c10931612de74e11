"""``--references`` against the emulated API server: the live state, constant LISTs, Secrets unseen."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from hsvc.errors import ExitCode

pytestmark = pytest.mark.integration

REFS = Path(__file__).resolve().parents[1] / "data" / "references"
LIVE = REFS / "live-ms.yaml"
SECRET = "LiveS3cretV4lue"  # inside Secret ms/cache of live-ms.yaml
# The kinds --references lists, once each, whatever the number of objects.
APP_LISTS = (
    "/apis/apps/v1/namespaces/ms/deployments",
    "/apis/apps/v1/namespaces/ms/daemonsets",
    "/apis/batch/v1/namespaces/ms/jobs",
    "/apis/batch/v1/namespaces/ms/cronjobs",
    "/api/v1/namespaces/ms/configmaps",
    "/apis/networking.k8s.io/v1/namespaces/ms/ingresses",
    "/apis/gateway.networking.k8s.io/v1/namespaces/ms/httproutes",
)


def lint(run, kubeconfig: Path, *args: str):
    return run("lint", "--kubeconfig", str(kubeconfig), "-n", "ms", "--references", *args)


@pytest.fixture
def live(api_server):
    api_server.add_yaml(LIVE)
    api_server.clear_log()
    return api_server


def test_live_references_judge_the_cluster_as_it_is(run, live, kubeconfig: Path) -> None:
    result = lint(run, kubeconfig, "-o", "json")
    assert result.code == ExitCode.MISMATCH, result.err
    found = {
        (f["code"], f["object"]["kind"], f["object"]["name"]) for f in result.json()["findings"]
    }
    assert ("HSVC705", "StatefulSet", "zk") in found  # zk-1 is not ready: NXDOMAIN until it is
    assert ("HSVC704", "DaemonSet", "agent") in found  # eureka-3 via envFrom: beyond replicas 3
    assert ("HSVC701", "Ingress", "web") in found  # no Service portal-web
    assert ("HSVC709", "DaemonSet", "agent") in found  # CACHE_URL from a Secret not read
    assert not any(name == "report" for _c, _k, name in found)  # the CronJob's name is right
    not_ready = next(f for f in result.json()["findings"] if f["code"] == "HSVC705")
    assert "pod zk-1 is not ready" in not_ready["message"]
    assert "location" not in not_ready  # live objects have no file


def test_live_references_cost_one_list_per_kind(run, live, kubeconfig: Path) -> None:
    result = lint(run, kubeconfig, "-o", "json")
    assert result.code == ExitCode.MISMATCH, result.err
    for path in APP_LISTS:
        assert live.count(method="GET", path=path) == 1, path
    assert live.count(path="*/secrets*") == 0  # Secrets are not even listed without the flag
    assert live.mutations == []
    # Twice the objects, the same requests.
    before = len(live.log)
    live.clear_log()
    for i in range(5):
        live.add(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"extra-{i}", "namespace": "ms"},
                "data": {"URL": f"http://gateway.ms.svc:9999/{i}"},
            }
        )
    assert lint(run, kubeconfig, "-o", "json").code == ExitCode.MISMATCH
    assert len(live.log) == before


def test_live_secret_values_never_shown_with_debug(run, live, kubeconfig: Path) -> None:
    encoded = base64.b64encode(SECRET.encode()).decode()
    for extra in ([], ["--include-secrets"]):
        for output in ("json", "table", "sarif"):
            result = lint(run, kubeconfig, "--debug", "-o", output, *extra)
            assert result.code == ExitCode.MISMATCH, result.err
            for text in (result.out, result.err):
                assert SECRET not in text and encoded[:12] not in text
            # The name inside the Secret is checked only when asked for.
            assert ("cache-master.ms.svc" in result.out) is bool(extra)
    assert live.count(method="GET", path="/api/v1/namespaces/ms/secrets") == 3
    assert live.mutations == []


def test_helm_template_piped_into_lint(tmp_path: Path) -> None:
    """``helm template … | hsvc lint -f - --references``: a real pipe into the installed CLI."""
    stream = (REFS / "helm-rendered.yaml").read_bytes()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hsvc",
            "lint",
            "-f",
            "-",
            "--references",
            "--cluster-domain",
            "k8s.corp",
            "-o",
            "json",
        ],
        input=stream,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == ExitCode.MISMATCH, proc.stderr
    import json

    doc = json.loads(proc.stdout)
    assert [f["code"] for f in doc["findings"]].count("HSVC706") == 3
    assert b"Sup3rS3cret" not in proc.stdout + proc.stderr


def test_inspect_lists_who_uses_the_service(run, make_knot) -> None:
    from tests.integration.seed_zone import seed_zones

    server = make_knot(seed_zones())
    seed = str(REFS.parent / "seed" / "ms.yaml")
    args = ["inspect", "eureka", "-n", "ms", "-f", seed, "-f", str(REFS / "eureka-clients.yaml")]
    args += ["--nameserver", f"127.0.0.1:{server.port}", "--timeout", "0.5", "--references"]
    result = run(*args, "-o", "json")
    assert result.code == ExitCode.OK, result.out + result.err
    (svc,) = result.json()["services"]
    uses = {(u["by"], u["name"], u["ok"], u["rcode"]) for u in svc["usedBy"]}
    assert uses == {
        ("deploy/client env EUREKA_URL", "eureka-0.eureka.ms.svc", True, "NOERROR"),
        ("deploy/client env EUREKA_PEERS", "eureka-1.eureka", True, "NOERROR"),
        ("deploy/client env EUREKA_PEERS", "eureka-5.eureka", False, "NXDOMAIN"),
    }
    table = run(*args, "--no-color")
    assert "used by" in table.out and "✗ deploy/client env EUREKA_PEERS" in table.out
    # Without the flag there is no usedBy.
    plain = run(*args[:-1], "-o", "json")
    assert "usedBy" not in plain.json()["services"][0]
