"""Running inside a pod: the service account (token file, CA, env vars) as kubectl's last step.

The emulated API server speaks HTTPS with a trustme CA and requires the token;
hsvc finds it only through KUBERNETES_SERVICE_HOST/PORT and the account's files.
DNS is asked as the pod asks it: the nameserver of its resolv.conf (a knotd on
127.0.53.N:53, standing in for the kube-dns Service IP) and, directly, every
CoreDNS replica at its pod IP and ``dns`` container port (a second knotd).
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import TOKEN
from tests.integration.knot import KnotServer, find_binary
from tests.integration.seed_zone import STALE_EUREKA1_ROWS, seed_zones, stale_eureka1_zones

pytestmark = pytest.mark.integration

REPLICA = "coredns-5d78c9869d-abcde"


def replica_pod(ip: str, dns_port: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": REPLICA,
            "namespace": "kube-system",
            "labels": {"k8s-app": "kube-dns"},
        },
        "spec": {
            "containers": [
                {
                    "name": "coredns",
                    "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                    "ports": [
                        {"name": "dns", "containerPort": dns_port, "protocol": "UDP"},
                        {"name": "dns-tcp", "containerPort": dns_port, "protocol": "TCP"},
                        {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
                    ],
                }
            ]
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _port_53_address() -> str:
    """A loopback address whose port 53 is free (the resolv.conf syntax has no port)."""
    for _ in range(20):
        host = f"127.0.53.{random.randint(2, 250)}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind((host, 53))
            except PermissionError:
                pytest.skip("binding port 53 needs root (the test stands a knotd in for kube-dns)")
            except OSError:
                continue
        return host
    raise RuntimeError("no loopback address with port 53 free")


@pytest.fixture
def pod(api_server_tls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """This process as a pod: env vars, service account files, resolv.conf; no kubeconfig."""
    find_binary("knotd")
    service_ip = _port_53_address()
    kube_dns = KnotServer(seed_zones(), host=service_ip, port=53)
    replica = KnotServer(stale_eureka1_zones())
    kube_dns.start()
    try:
        replica.start()
        api_server_tls.add(replica_pod("127.0.0.1", replica.port))
        account = tmp_path / "serviceaccount"
        account.mkdir()
        (account / "token").write_text(TOKEN)
        assert api_server_tls.ca_pem is not None
        (account / "ca.crt").write_bytes(api_server_tls.ca_pem)
        (account / "namespace").write_text("ms\n")
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(
            f"search ms.svc.cluster.local svc.cluster.local cluster.local\n"
            f"nameserver {service_ip}\noptions ndots:5\n"
        )
        for name in ("KUBECONFIG", "HSVC_NAMESERVER", "HSVC_VIA"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(api_server_tls.port))
        monkeypatch.setenv("HSVC_SERVICE_ACCOUNT_DIR", str(account))
        monkeypatch.setenv("HSVC_RESOLV_CONF", str(resolv))
        yield service_ip, replica
    finally:
        replica.stop()
        kube_dns.stop()


def test_in_cluster_account_is_the_last_step(run, api_server_tls, pod) -> None:
    result = run("records", "eureka", "-o", "json")
    assert result.code == ExitCode.OK, result.err
    doc = result.json()
    assert (
        doc["source"]["origin"]
        == f"context '(in-cluster)' (https://127.0.0.1:{api_server_tls.port})"
    )
    assert doc["source"]["namespace"] == "ms"  # from the account's namespace file
    assert api_server_tls.log
    assert {(r.authorization or "").lower() for r in api_server_tls.log} == {f"bearer {TOKEN}"}
    assert TOKEN not in result.out + result.err


def test_in_cluster_dns_is_the_pods_resolver_and_each_replica(run, api_server_tls, pod) -> None:
    service_ip, _replica = pod
    result = run("inspect", "eureka", "-o", "json", "--timeout", "1")
    doc = result.json()
    assert doc["servers"] == [f"{service_ip}:53", f"{REPLICA} (pod IP)"]
    # The Service IP answers as the objects say; the replica, asked at its pod IP, is stale.
    assert result.code == ExitCode.MISMATCH, result.err
    flagged = {(r["name"], r["type"]): r["status"] for r in doc["rows"] if r["status"] != "ok"}
    assert flagged == STALE_EUREKA1_ROWS
    for row in doc["rows"]:
        verdicts = {a["server"]: a["verdict"] for a in row["actual"]}
        assert verdicts[f"{service_ip}:53"] == "ok", row["name"]
    # Two servers that differ both stand apart; only the replica is also wrong.
    wrong = {d["server"]: d["wrong"] for d in doc["disagreements"]}
    assert wrong[f"{REPLICA} (pod IP)"] > 0 and wrong.get(f"{service_ip}:53", 0) == 0
    # No port-forward inside the cluster.
    assert not any(r.path.endswith("/portforward") for r in api_server_tls.log)
    assert api_server_tls.mutations == []


def test_in_cluster_without_the_token_file_is_exit_5(run, pod, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HSVC_SERVICE_ACCOUNT_DIR", str(tmp_path / "nowhere"))
    result = run("records", "eureka")
    assert result.code == ExitCode.API_UNREACHABLE
    assert result.err.startswith("hsvc: error: cannot use the in-cluster service account")
