"""``--via exec --pod``: lookups from inside a pod, answered by outputs of real tools.

The emulated API server answers each exec with stdout captured from real getent,
dig and busybox nslookup runs (tests/data/exec/README.md). The script hsvc sends
must equal the one those captures were made with, or they are stale.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hsvc.errors import ExitCode

EXEC = Path(__file__).resolve().parents[1] / "data" / "exec"
NAMES = ("eureka", "eureka-0.eureka", "eureka.ms", "nope")
STALE_HINT = (
    "captures are stale: re-run python tests/data/exec/capture.py (as root, see its README)"
)


def client_pod(name: str, *, dns_policy: str = "ClusterFirst", host_network: bool = False) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ms", "labels": {"app": "client"}},
        "spec": {
            "containers": [{"name": "main", "image": "debian:12"}],
            "dnsPolicy": dns_policy,
            "hostNetwork": host_network,
        },
        "status": {"phase": "Running", "podIP": "10.244.3.7", "podIPs": [{"ip": "10.244.3.7"}]},
    }


@pytest.fixture
def pod(api_server):
    def make(capture: str, name: str = "client", **spec) -> str:
        api_server.add(client_pod(name, **spec))
        api_server.on_exec("ms", name, (EXEC / capture).read_text())
        return name

    return make


def resolve(run, kubeconfig: Path, pod: str, *extra: str):
    return run(
        "resolve",
        *NAMES,
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--via",
        "exec",
        "--pod",
        pod,
        "--timeout",
        "1",
        "-o",
        "json",
        *extra,
    )


def sent_script(api_server) -> str:
    (call,) = api_server.exec_log
    assert call.command[:2] == ("sh", "-c")
    return call.command[2]


def by_query(doc: dict) -> dict[str, dict]:
    return {r["query"]["name"]: r for r in doc["results"]}


def walks(result: dict, seen: str) -> list[dict]:
    return [w for w in result["search"]["walks"] if w["from"] == seen]


def test_debian_pod_getent_and_dig(run, api_server, kubeconfig: Path, pod) -> None:
    name = pod("debian-seed.out")
    result = resolve(run, kubeconfig, name)
    assert sent_script(api_server) == (EXEC / "lookup-script.sh").read_text(), STALE_HINT
    doc = result.json()
    # knotd REFUSES names outside its zones, where CoreDNS would forward "nope." upstream:
    # that candidate is open-ended, and "nope" is judged on its in-cluster candidate, whose
    # NXDOMAIN every server gave (issue behaviour 4: no error row, exit 0).
    assert {r["query"]["name"]: r["status"] for r in doc["results"]} == {
        "eureka": "ok",
        "eureka-0.eureka": "ok",
        "eureka.ms": "ok",
        "nope": "ok",
    }
    assert by_query(doc)["nope"]["answeredBy"] == "nope.ms.svc.cluster.local."
    assert result.code == ExitCode.OK
    assert doc["servers"] == ["pod ms/client (dig)"]
    assert api_server.mutations == [] and api_server.streams_closed()
    results = by_query(doc)
    eureka = results["eureka"]
    assert eureka["search"]["libc"] == "glibc 2.36"
    assert eureka["search"]["resolvConf"]["assumed"] is False
    assert eureka["search"]["resolvConf"]["search"][0] == "ms.svc.cluster.local."
    (actual,) = walks(eureka, "actual")
    assert actual["libc"] == "glibc" and actual["answeredBy"] == "eureka.ms.svc.cluster.local."
    assert actual["queries"] == 2
    assert eureka["search"]["getaddrinfo"]["canonical"] == "eureka.ms.svc.cluster.local."
    assert sorted(eureka["search"]["getaddrinfo"]["addresses"]) == [
        "10.244.1.210",
        "10.244.1.211",
        "10.244.2.45",
    ]
    # eureka.ms: one dot < ndots 5: eureka.ms.ms.svc... (NXDOMAIN) first, then the Service.
    (dotted,) = walks(results["eureka.ms"], "actual")
    assert [s["name"] for s in dotted["steps"]] == [
        "eureka.ms.ms.svc.cluster.local.",
        "eureka.ms.svc.cluster.local.",
    ]
    assert dotted["queries"] == 4
    (nope,) = walks(results["nope"], "actual")
    assert nope["answeredBy"] is None and nope["queries"] == 8
    assert results["nope"]["search"]["getaddrinfo"]["ok"] is False
    # Every observation carries the pod as its vantage point.
    assert {a["server"] for r in doc["results"] for a in r.get("actual", [])} == {
        "pod ms/client (dig)"
    }
    # The expected walk (from the objects) matches what the pod's answers gave.
    for res in doc["results"]:
        (exp,) = walks(res, "expected")
        (act,) = walks(res, "actual")
        assert [s["name"] for s in exp["steps"]] == [s["name"] for s in act["steps"]]


def test_stale_answers_in_the_pod_are_a_mismatch(run, api_server, kubeconfig: Path, pod) -> None:
    result = resolve(run, kubeconfig, pod("debian-stale.out"))
    assert result.code == ExitCode.MISMATCH, result.out + result.err
    results = by_query(result.json())
    assert results["eureka-0.eureka"]["status"] == "wrong"
    (check,) = results["eureka-0.eureka"]["actual"]
    assert check["server"] == "pod ms/client (dig)" and "10.244.1.99" in check["note"]
    assert "10.244.1.99" in results["eureka"]["search"]["getaddrinfo"]["addresses"]


def test_busybox_pod_is_low_confidence(run, api_server, kubeconfig: Path, pod) -> None:
    result = resolve(run, kubeconfig, pod("busybox-seed.out", name="bb"))
    doc = result.json()
    assert by_query(doc)["eureka"]["status"] == "ok"
    assert doc["servers"] == ["pod ms/bb (busybox nslookup)"]
    eureka = by_query(doc)["eureka"]
    assert all(a["lowConfidence"] for a in eureka["actual"])
    assert eureka["search"]["getaddrinfo"] is None
    assert any("getent" in n for n in doc["notes"])
    # The capture's pod has /lib/ld-musl-*: the walk follows musl's rules.
    (actual,) = walks(eureka, "actual")
    assert actual["libc"] == "musl" and actual["answeredBy"] == "eureka.ms.svc.cluster.local."


def test_table_shows_the_search_walk(run, kubeconfig: Path, pod, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    name = pod("debian-seed.out")
    result = run(
        "resolve",
        *NAMES,
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--pod",
        name,
        "--timeout",
        "1",
        "--no-color",
    )
    # Every name answers as the objects say ("nope" is judged in-cluster): exit 0.
    assert result.code == ExitCode.OK, result.err
    assert "glibc actual" in result.out
    assert (
        "eureka.ms.ms.svc.cluster.local. NXDOMAIN → eureka.ms.svc.cluster.local. ANSWER (answers; 4 queries)"
        in result.out
    )
    assert "getaddrinfo" in result.out and "getent ahosts, glibc 2.36" in result.out


def test_host_network_pod_warns(run, api_server, kubeconfig: Path, pod) -> None:
    name = pod("debian-seed.out", name="hostnet", host_network=True)
    doc = resolve(run, kubeconfig, name).json()
    assert any("ClusterFirstWithHostNet" in n for n in doc["notes"])


@pytest.mark.parametrize(
    ("capture", "label"),
    [("inspect-debian-stale.out", "dig"), ("inspect-busybox-stale.out", "busybox nslookup")],
)
def test_inspect_from_a_pod(
    run, api_server, kubeconfig: Path, pod, capture: str, label: str
) -> None:
    name = pod(capture)
    result = run(
        "inspect",
        "eureka",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--pod",
        name,
        "--timeout",
        "1",
        "-o",
        "json",
    )
    assert sent_script(api_server) == (EXEC / "inspect-script.sh").read_text(), STALE_HINT
    assert result.code == ExitCode.MISMATCH, result.out + result.err
    doc = result.json()
    assert doc["servers"] == [f"pod ms/client ({label})"]
    flagged = {(r["name"], r["type"]) for r in doc["rows"] if r["status"] != "ok"}
    assert ("eureka-0.eureka.ms.svc.cluster.local.", "A") in flagged
    assert ("eureka-1.eureka.ms.svc.cluster.local.", "A") not in flagged


def test_exec_forbidden_names_the_permission(run, api_server, kubeconfig: Path, pod) -> None:
    name = pod("debian-seed.out")
    api_server.inject("*/exec", status=403)
    result = resolve(run, kubeconfig, name)
    assert result.code == ExitCode.ACCESS_DENIED
    assert 'grant "create" on "pods/exec"' in result.err and '"client"' in result.err


def test_missing_pod(run, kubeconfig: Path) -> None:
    result = resolve(run, kubeconfig, "ghost")
    assert result.code == ExitCode.NOT_FOUND and 'pod "ghost" not found' in result.err


def test_image_without_a_shell(run, api_server, kubeconfig: Path) -> None:
    api_server.add(client_pod("distroless"))  # no exec reply registered: "sh" not found, 127
    result = resolve(run, kubeconfig, "distroless")
    assert result.code == ExitCode.NO_DNS and "no sh in the image" in result.err
