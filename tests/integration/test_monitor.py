"""``hsvc monitor`` in a simulated pod: service account files and env vars, HTTPS API, knotd.

The monitor runs as a subprocess with no kubeconfig: KUBERNETES_SERVICE_HOST/PORT,
the token, CA and namespace files of its account, and a resolv.conf naming a
knotd on 127.0.53.N:53 (the kube-dns Service IP stand-in; the zone changes by
RFC 2136 UPDATE). The test scrapes /metrics over HTTP, parses it with
prometheus_client's parser, changes zones and objects, and checks the metrics
follow: a mismatch appears, turns stuck, converges (the latency histogram
counts it) and clears.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.api_fixtures import SEED_DIR, TOKEN
from tests.integration.apiserver import parse_path
from tests.integration.knot import KnotServer, find_binary
from tests.integration.monitor_process import MonitorProcess, child_env, total
from tests.integration.seed_zone import seed_zones
from tests.integration.test_in_cluster import _port_53_address

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

OLD, NEW = "10.244.2.45", "10.244.2.77"


def seed_object(kind: str, name: str) -> dict:
    for doc in yaml.safe_load_all((SEED_DIR / "ms.yaml").read_text()):
        if doc and doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise KeyError((kind, name))


def moved_eureka1() -> list[dict]:
    """eureka-1 restarted with a new IP: its pod and its endpoint in the slice."""
    pod = copy.deepcopy(seed_object("Pod", "eureka-1"))
    pod["status"]["podIP"] = NEW
    pod["status"]["podIPs"] = [{"ip": NEW}]
    sl = copy.deepcopy(seed_object("EndpointSlice", "eureka-abcde"))
    for endpoint in sl["endpoints"]:
        endpoint["addresses"] = [NEW if a == OLD else a for a in endpoint["addresses"]]
    return [pod, sl]


def follow_eureka1(knot: KnotServer, old: str, new: str) -> None:
    """Make the zones serve eureka-1 at ``new`` (as CoreDNS would once it caught up)."""
    others = ["10.244.1.210", "10.244.1.211"]
    knot.update(
        "cluster.local",
        delete=[
            ("eureka.ms.svc", "A"),
            ("eureka-1.eureka.ms.svc", "A"),
            (f"{old.replace('.', '-')}.ms.pod", "A"),
        ],
        add=[
            *(("eureka.ms.svc", 30, "A", ip) for ip in [*others, new]),
            ("eureka-1.eureka.ms.svc", 30, "A", new),
            (f"{new.replace('.', '-')}.ms.pod", 30, "A", new),
        ],
    )
    old_ptr = ".".join(reversed(old.split(".")[1:]))
    new_ptr = ".".join(reversed(new.split(".")[1:]))
    knot.update(
        "10.in-addr.arpa",
        delete=[(old_ptr, "PTR")],
        add=[(new_ptr, 30, "PTR", "eureka-1.eureka.ms.svc.cluster.local.")],
    )


@pytest.fixture
def pod_env(api_server_tls, tmp_path: Path) -> Iterator[tuple[dict[str, str], KnotServer]]:
    find_binary("knotd")
    service_ip = _port_53_address()
    knot = KnotServer(seed_zones(), host=service_ip, port=53, updatable=True)
    knot.start()
    try:
        account = tmp_path / "sa"
        account.mkdir()
        (account / "token").write_text(TOKEN)
        assert api_server_tls.ca_pem is not None
        (account / "ca.crt").write_bytes(api_server_tls.ca_pem)
        (account / "namespace").write_text("hsvc-system\n")
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"search hsvc-system.svc.cluster.local\nnameserver {service_ip}\n")
        env = child_env(
            HOME=str(tmp_path),
            KUBERNETES_SERVICE_HOST="127.0.0.1",
            KUBERNETES_SERVICE_PORT=str(api_server_tls.port),
            HSVC_SERVICE_ACCOUNT_DIR=str(account),
            HSVC_RESOLV_CONF=str(resolv),
        )
        yield env, knot
    finally:
        knot.stop()


def wrong(samples, service: str = "eureka") -> float:
    return total(samples, "hsvc_records_mismatched", namespace="ms", service=service)


def test_metrics_follow_zone_and_object_changes(api_server_tls, pod_env) -> None:
    env, knot = pod_env
    args = ["-n", "ms", "--interval", "1", "--stuck-after", "2", "--timeout", "0.5"]
    with MonitorProcess(args, env) as monitor:
        started = monitor.wait_for(lambda e: e["event"] == "started", 20)
        assert started["origin"].startswith("context '(in-cluster)' (https://127.0.0.1:")
        monitor.wait_for(lambda e: e["event"] == "ready", 20)
        assert monitor.get("/readyz")[0] == 200 and monitor.get("/healthz")[0] == 200
        samples = monitor.scrape()
        # Three A, three per-pod A, two SRV, three PTR, and the names that must not resolve.
        assert total(samples, "hsvc_records_checked", namespace="ms", service="eureka") >= 11
        assert total(samples, "hsvc_records_mismatched") == 0
        assert total(samples, "hsvc_last_sweep_timestamp_seconds") > time.time() - 60
        assert total(samples, "hsvc_answers", verdict="ok") > 0

        # 1. The zone goes stale on its own (no object changed): wrong, then stuck.
        knot.update(
            "cluster.local",
            delete=[("eureka-1.eureka.ms.svc", "A")],
            add=[("eureka-1.eureka.ms.svc", 30, "A", "10.244.2.99")],
        )
        samples = monitor.wait_metric(lambda s: wrong(s) == 1, 10, "the stale A row")
        assert (
            total(samples, "hsvc_records_mismatched", service="eureka", type="A", status="wrong")
            == 1
        )
        monitor.wait_metric(
            lambda s: total(s, "hsvc_records_stuck", namespace="ms", service="eureka") == 1,
            10,
            "the row stuck",
        )
        stuck = monitor.wait_for(lambda e: e["event"] == "stuck", 5)
        assert stuck["name"] == "eureka-1.eureka.ms.svc.cluster.local." and stuck["seconds"] >= 2
        # ... and is repaired: converged, cleared.
        knot.update(
            "cluster.local",
            delete=[("eureka-1.eureka.ms.svc", "A")],
            add=[("eureka-1.eureka.ms.svc", 30, "A", OLD)],
        )
        samples = monitor.wait_metric(lambda s: wrong(s) == 0, 10, "the row ok again")
        assert total(samples, "hsvc_records_stuck") == 0
        assert total(samples, "hsvc_convergence_seconds_count") == 1
        assert total(samples, "hsvc_convergence_seconds_sum") >= 2

        # 2. An object changes (eureka-1 moves): the watch triggers a re-check at once,
        # DNS catches up 1 s later, and the latency counts from the change.
        before = total(monitor.scrape(), "hsvc_verifications_total", trigger="change")
        api_server_tls.add(*moved_eureka1())
        changed_at = time.monotonic()
        samples = monitor.wait_metric(lambda s: wrong(s) >= 2, 10, "the moved pod's rows")
        assert total(samples, "hsvc_records_converging", namespace="ms", service="eureka") >= 2
        monitor.wait_metric(
            lambda s: total(s, "hsvc_verifications_total", trigger="change") > before,
            5,
            "a re-check triggered by the watch",
        )
        assert total(monitor.scrape(), "hsvc_watch_events_total", kind="Pod") >= 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - changed_at)))
        follow_eureka1(knot, OLD, NEW)
        samples = monitor.wait_metric(
            lambda s: wrong(s) == 0 and total(s, "hsvc_records_mismatched") == 0, 10, "caught up"
        )
        converged = [e for e in monitor.lines if e["event"] == "converged"]
        latest = [e for e in converged if e["name"] == "eureka-1.eureka.ms.svc.cluster.local."][-1]
        assert latest["seconds"] >= 1.0  # from the object change, not from when hsvc saw it wrong
        assert total(samples, "hsvc_convergence_seconds_count") >= 3
        assert total(samples, "hsvc_records_stuck") == 0

        code, seconds = monitor.terminate()
    assert code == 0, monitor.stderr
    assert seconds < 2.0
    assert monitor.lines[-1]["event"] == "stopped"
    assert monitor.stderr == ""
    assert api_server_tls.mutations == []
    assert {r.method for r in api_server_tls.log} == {"GET"}
    # Every line is one JSON object with a time and an event.
    assert all({"time", "event"} <= set(line) for line in monitor.lines)


def rbac_grants() -> set[tuple[str, str, str, str | None, str | None]]:
    """(group, resource, verb, namespace or None, name or None) that deploy/rbac.yaml grants."""
    docs = [d for d in yaml.safe_load_all((DEPLOY / "rbac.yaml").read_text()) if d]
    grants = set()
    for doc in docs:
        if doc["kind"] not in ("ClusterRole", "Role"):
            continue
        namespace = doc["metadata"].get("namespace") if doc["kind"] == "Role" else None
        for rule in doc["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        for name in rule.get("resourceNames") or [None]:
                            grants.add((group, resource, verb, namespace, name))
    return grants


def requests_made(log) -> set[tuple[str, str, str, str | None, str | None]]:
    """What the logged requests need, in RBAC terms."""
    needed = set()
    for request in log:
        parsed = parse_path(request.path)
        assert parsed is not None, request.path  # no streams, no discovery inside a pod
        verb = "watch" if request.is_watch else ("get" if parsed.name else "list")
        needed.add((parsed.group, parsed.resource, verb, parsed.namespace, parsed.name))
    return needed


def covers(grant, need) -> bool:
    group, resource, verb, namespace, name = grant
    return (
        (group, resource, verb) == need[:3]
        and namespace in (None, need[3])
        and name in (None, need[4])
    )


def test_cluster_role_is_exactly_what_the_monitor_uses(api_server_tls, pod_env) -> None:
    env, _knot = pod_env
    api_server_tls.clear_log()
    args = ["--interval", "1", "--timeout", "0.5"]  # every namespace, as deployed
    with MonitorProcess(args, env) as monitor:
        started = monitor.wait_for(lambda e: e["event"] == "started", 20)
        # No --stuck-after: the lag model's bound for the seed's Corefile (ttl 30,
        # cache 30): CoreDNS's watch allowance 2 s + its cache 30 s, plus one interval.
        assert started["stuckAfter"] == pytest.approx(2 + 30 + 1)
        monitor.wait_for(lambda e: e["event"] == "ready", 20)
        api_server_tls.add(*moved_eureka1())  # a watch event and its re-check
        monitor.wait_metric(
            lambda s: total(s, "hsvc_verifications_total", trigger="change") >= 1, 10, "a re-check"
        )
        # The first sweep and a periodic one: every kind of request a monitor makes.
        monitor.wait_metric(lambda s: total(s, "hsvc_sweeps_total") >= 2, 10, "two sweeps")
        code, _ = monitor.terminate()
    assert code == 0, monitor.stderr
    needed, grants = requests_made(api_server_tls.log), rbac_grants()
    assert {n for n in needed if not any(covers(g, n) for g in grants)} == set()
    assert {g for g in grants if not any(covers(g, n) for n in needed)} == set()
