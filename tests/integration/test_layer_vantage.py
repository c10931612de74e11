"""A vantage per resolver layer, from inside a pod: knotd instances play each layer, one stale.

The exec is run for real (tests/integration/podsandbox.py): hsvc's lookup script
under ``sh``, its dig rewritten to the knotd playing the address it asks. On
this cluster NodeLocal DNSCache binds 169.254.20.10 and the kube-dns ClusterIP
on worker-1 and still serves eureka-1's old address; both CoreDNS replicas
serve the current one. Asked only through its own resolver, the pod could not
tell the cache from CoreDNS; asked layer by layer, the stale layer is named.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import inspect_live
from tests.integration.podsandbox import PodSandbox
from tests.integration.seed_zone import STALE_EUREKA1_ROWS, seed_zones, stale_eureka1_zones
from tests.integration.test_resolver_path import coredns_with_node_local

pytestmark = pytest.mark.integration

CLUSTER_IP = "10.0.0.10"  # kube-system/kube-dns in the seed
RESOLV_CONF = f"""\
search ms.svc.cluster.local svc.cluster.local cluster.local
nameserver {CLUSTER_IP}
options ndots:5
"""


def client(node: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "client", "namespace": "ms", "labels": {"app": "client"}},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "debian:12"}]},
        "status": {"phase": "Running", "podIP": "10.244.3.7", "podIPs": [{"ip": "10.244.3.7"}]},
    }


def cluster(api_server, *, port: int = 53) -> None:
    coredns_with_node_local(api_server, port=port)
    api_server.add(client("worker-1"))


def inspect_from_the_pod(run, kubeconfig: Path):
    return inspect_live(run, kubeconfig, "--via", "exec", "--pod", "client")


@pytest.mark.parametrize("port", [53, 5353])
def test_the_pod_asks_each_layer_and_the_stale_node_cache_is_named(
    run, api_server, kubeconfig: Path, make_knot, tmp_path: Path, port: int
) -> None:
    cluster(api_server, port=port)
    stale = make_knot(stale_eureka1_zones())
    good = make_knot(seed_zones())
    sandbox = PodSandbox(
        tmp_path / "pod",
        RESOLV_CONF,
        {
            ("169.254.20.10", 53): stale.port,  # the node's cache, by its own address
            (CLUSTER_IP, 53): stale.port,  # the ClusterIP, bound by the same cache
            ("10.244.0.10", port): good.port,
            ("10.244.0.11", port): good.port,
        },
    )
    api_server.on_exec_run("ms", "client", sandbox)
    result = inspect_from_the_pod(run, kubeconfig)
    assert result.code == ExitCode.MISMATCH, result.err
    doc = result.json()
    assert len(sandbox.scripts) == 1  # one exec for every layer
    where = "10.244.0.10" if port == 53 else "10.244.0.10:5353"
    assert doc["layers"] == {
        "pod ms/client (dig)": f"node-local on node worker-1 (the pod's resolver, {CLUSTER_IP})",
        "pod ms/client (dig @169.254.20.10)": (
            "node-local on node worker-1 (169.254.20.10 from pod ms/client)"
        ),
        f"pod ms/client (dig @{CLUSTER_IP})": (
            f"node-local on node worker-1 (the ClusterIP {CLUSTER_IP} it binds, from pod ms/client)"
        ),
        f"pod ms/client (dig @{where})": f"CoreDNS replica coredns-a ({where} from pod ms/client)",
        f"pod ms/client (dig @{where.replace('.10', '.11', 1)})": (
            f"CoreDNS replica coredns-b ({where.replace('.10', '.11', 1)} from pod ms/client)"
        ),
    }
    # Every row says which layer gave each answer.
    for row in doc["rows"]:
        assert all(a["layer"] == doc["layers"][a["server"]] for a in row["actual"]), row["name"]
    by_row = {(r["name"], r["type"]): r for r in doc["rows"]}
    for key in (k for k, status in STALE_EUREKA1_ROWS.items() if status == "wrong"):
        verdicts = {a["layer"].split(" (")[0]: a["verdict"] for a in by_row[key]["actual"]}
        assert verdicts["node-local on node worker-1"] == "wrong", key
        assert verdicts["CoreDNS replica coredns-a"] == "ok", key
    stale_found = [f for f in doc["findings"] if f["code"] == "HSVC806"]
    assert stale_found
    assert all(f["message"].startswith("node-local on node worker-1 ") for f in stale_found)
    assert not any(f["message"].startswith("CoreDNS") for f in stale_found)
    assert all("NodeLocal DNSCache" in f["hint"] for f in stale_found)


@pytest.mark.parametrize("silent", ["10.244.0.11", "169.254.20.10"])
def test_a_layer_that_never_answers_is_timed_out_not_stale(
    run, api_server, kubeconfig: Path, make_knot, tmp_path: Path, silent: str
) -> None:
    """No answer is no evidence (rule 43): the silent layer times out, the stale one is named.

    The sandbox's dig answers an address it has no route for as an unreachable
    server does ("no servers could be reached"), at once: no timing involved.
    """
    cluster(api_server, port=5353)
    stale = make_knot(stale_eureka1_zones())
    good = make_knot(seed_zones())
    routes = {
        ("169.254.20.10", 53): stale.port,
        (CLUSTER_IP, 53): stale.port,
        ("10.244.0.10", 5353): good.port,
        ("10.244.0.11", 5353): good.port,
    }
    routes = {where: port for where, port in routes.items() if where[0] != silent}
    sandbox = PodSandbox(tmp_path / "pod", RESOLV_CONF, routes)
    api_server.on_exec_run("ms", "client", sandbox)
    result = inspect_from_the_pod(run, kubeconfig)
    assert result.code == ExitCode.MISMATCH, result.err
    doc = result.json()
    quiet = f"pod ms/client (dig @{silent}{':5353' if silent.startswith('10.244.') else ''})"
    assert quiet in doc["layers"], doc["layers"]
    answers = [a for r in doc["rows"] for a in r["actual"] if a["server"] == quiet]
    assert answers and all(a["verdict"] == "error" for a in answers), answers
    stale_found = [f for f in doc["findings"] if f["code"] == "HSVC806"]
    assert stale_found
    assert not any(f["message"].startswith("CoreDNS") for f in stale_found)
    assert all(f["message"].startswith("node-local on node worker-1 ") for f in stale_found)
    named = {f["message"].split(" holds ")[0] for f in stale_found}
    assert doc["layers"][quiet] not in named, named


def test_without_a_node_cache_the_pod_asks_only_its_resolver(
    run, api_server, kubeconfig: Path, make_knot, tmp_path: Path
) -> None:
    """No NodeLocal DNSCache: the pod's resolver is the ClusterIP's answer; nothing more to ask."""
    api_server.add(client("worker-1"))
    good = make_knot(seed_zones())
    sandbox = PodSandbox(tmp_path / "pod", RESOLV_CONF, {(CLUSTER_IP, 53): good.port})
    api_server.on_exec_run("ms", "client", sandbox)
    doc = inspect_from_the_pod(run, kubeconfig).json()
    assert doc["layers"] == {"pod ms/client (dig)": f"ClusterIP {CLUSTER_IP} (the pod's resolver)"}
    assert "dig @" not in sandbox.scripts[0].replace('"@$1"', "")
    assert all(r["status"] == "ok" for r in doc["rows"]), [
        r["name"] for r in doc["rows"] if r["status"] != "ok"
    ]
