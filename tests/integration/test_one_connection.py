"""One API connection per command: the kubeconfig is loaded, and its exec credential plugin run, once.

A kubeconfig whose user is an exec plugin (as EKS and GKE helpers are) counts
how often the client runs it; ``--debug`` logs the context it connects to each
time a kubeconfig is loaded.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
import yaml

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import TOKEN, write_kubeconfig
from tests.integration.seed_zone import seed_zones
from tests.integration.test_portforward import coredns_pod

PLUGIN = """\
import json, sys
with open(sys.argv[1], "a", encoding="utf-8") as runs:
    runs.write("run\\n")
print(json.dumps({
    "apiVersion": "client.authentication.k8s.io/v1beta1",
    "kind": "ExecCredential",
    "status": {"token": sys.argv[2]},
}))
"""


@pytest.fixture
def plugin_kubeconfig(api_server, tmp_path: Path) -> tuple[Path, Path]:
    """A kubeconfig whose user runs an exec plugin; the plugin appends a line per run."""
    script = tmp_path / "credential-plugin.py"
    script.write_text(PLUGIN, encoding="utf-8")
    runs = tmp_path / "plugin-runs"
    path = write_kubeconfig(tmp_path / "kubeconfig", api_server.url, token=None)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(script), str(runs), TOKEN],
        }
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path, runs


def plugin_runs(runs: Path) -> int:
    return len(runs.read_text(encoding="utf-8").splitlines()) if runs.exists() else 0


def test_inspect_via_port_forward_loads_the_kubeconfig_once(
    run, api_server, make_knot, plugin_kubeconfig, caplog: pytest.LogCaptureFixture
) -> None:
    # Objects and the port-forward both go through the API: one connection for both.
    knot = make_knot(seed_zones())
    name = "coredns-5d78c9869d-abcde"
    api_server.add(coredns_pod(name, "10.244.0.10"))
    api_server.forward("kube-system", name, 53, ("127.0.0.1", knot.port))
    kubeconfig, runs = plugin_kubeconfig
    caplog.set_level(logging.DEBUG, logger="hsvc")
    result = run(
        "inspect", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig), "--timeout", "1",
        "-o", "json", "--debug",
    )  # fmt: skip
    assert result.code == ExitCode.OK, result.err
    assert result.json()["servers"] == [f"{name} (port-forward)"]
    assert plugin_runs(runs) == 1
    assert sum("using context" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ("records", "eureka"),
        ("lint",),
        ("resolve", "eureka", "--nameserver", "127.0.0.1:9", "--timeout", "0.2"),
    ],
    ids=["records", "lint", "resolve"],
)
def test_other_commands_load_the_kubeconfig_once(
    run, api_server, plugin_kubeconfig, argv: tuple[str, ...]
) -> None:
    kubeconfig, runs = plugin_kubeconfig
    result = run(*argv, "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert result.code in (ExitCode.OK, ExitCode.MISMATCH, ExitCode.NO_DNS), result.err
    assert plugin_runs(runs) == 1
