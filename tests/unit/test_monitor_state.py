"""The monitor's row states, events and gauges; its metrics as prometheus_client renders them."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from hsvc.adapters.metrics import Metrics, Published
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import compare
from hsvc.core.model import Observation, Record
from hsvc.core.monitor import OTHER, Tracker, default_stuck_after, services_touched
from hsvc.core.records import expectations
from tests.conftest import KUBEADM, make_pod, seed_snapshot

ZONES = KUBEADM.zones
STALE = "eureka-1.eureka.ms.svc.cluster.local."


def rows(stale: bool):
    cluster = ClusterDns(seed_snapshot(), KUBEADM)
    items = expectations(cluster, namespace="ms")
    seen = []
    for e in items:
        answer = e.expected.answer
        if stale and e.expected.name == STALE and e.expected.type == "A":
            answer = (Record(name=STALE, type="A", ttl=30, data="10.244.2.99"),)
        seen.append(
            Observation(
                server="s",
                name=e.expected.name,
                type=e.expected.type,
                rcode=e.expected.rcode,
                answer=answer,
            )
        )
    return compare(items, seen)


def test_a_row_goes_wrong_stuck_and_converges_with_its_latency() -> None:
    tracker = Tracker(stuck_after=10)
    assert tracker.update(rows(False), ZONES, 100.0) == []
    events = tracker.update(rows(True), ZONES, 101.0)
    assert [(e.event, e.name, e.status) for e in events] == [("mismatch", STALE, "wrong")]
    assert "10.244.2.99" in events[0].cause
    assert tracker.gauges().converging == {("ms", "eureka"): 1}
    assert tracker.tick(105.0) == []
    (stuck,) = tracker.tick(111.0)
    assert (stuck.event, stuck.seconds) == ("stuck", 10.0)
    assert tracker.tick(112.0) == []  # once
    gauges = tracker.gauges()
    assert gauges.stuck == {("ms", "eureka"): 1} and gauges.converging == {}
    assert gauges.mismatched == {("ms", "eureka", "A", "wrong"): 1}
    (done,) = tracker.update(rows(False), ZONES, 120.0)
    assert (done.event, done.seconds) == ("converged", 19.0)
    assert tracker.gauges().mismatched == {} and tracker.gauges().stuck == {}


def test_latency_counts_from_the_object_change() -> None:
    tracker = Tracker(stuck_after=60)
    tracker.update(rows(False), ZONES, 100.0)
    tracker.changed({("ms", "eureka")}, 200.0)
    (bad,) = tracker.update(rows(True), ZONES, 203.0, scope={("ms", "eureka")})
    assert bad.seconds == 3.0  # wrong since the change, not since it was seen
    (done,) = tracker.update(rows(False), ZONES, 210.0)
    assert done.seconds == 10.0
    # The change is used once: a later mismatch counts from when it is seen.
    (again,) = tracker.update(rows(True), ZONES, 300.0)
    assert again.seconds == 0.0


def test_rows_of_a_service_that_is_gone_are_dropped_only_by_its_own_check() -> None:
    tracker = Tracker(stuck_after=60)
    tracker.update(rows(True), ZONES, 1.0)
    eureka_only = [r for r in rows(True) if "eureka" in r.name]
    assert tracker.update([], ZONES, 2.0, scope={("ms", "gateway")}) == []  # gateway re-checked
    assert tracker.gauges().mismatched  # eureka's row stays
    events = tracker.update([], ZONES, 3.0, scope={("ms", "eureka")})
    assert [(e.event, e.name) for e in events] == [("dropped", STALE)]
    assert eureka_only


def test_labels_are_capped_per_service_wrong_ones_first() -> None:
    tracker = Tracker(stuck_after=60)
    tracker.update(rows(True), ZONES, 1.0)
    gauges = tracker.gauges(max_services=1)
    services = {(ns, svc) for ns, svc, _t in gauges.checked}
    assert services == {("ms", "eureka"), (OTHER, OTHER)}
    assert gauges.folded == gauges.services - 1


def test_pod_changes_touch_the_services_that_select_it() -> None:
    snap = seed_snapshot()
    pod = make_pod(
        "eureka-1", "10.244.2.45", labels={"app": "eureka", "project": "ms"}, subdomain="eureka"
    )
    assert services_touched("Pod", pod, snap) == {("ms", "eureka"), ("ms", "")}


def test_stuck_bound_follows_the_ttl() -> None:
    assert default_stuck_after(30, 60) == 125.0


def test_metrics_are_prometheus_text_with_bounded_labels() -> None:
    tracker = Tracker(stuck_after=60)
    tracker.update(rows(True), ZONES, 1.0)
    metrics = Metrics()
    metrics.publish(
        Published(gauges=tracker.gauges(max_services=2), answers={("s", "ok"): 3}, stuck_after=60)
    )
    metrics.convergence.observe(4.2)
    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode())}
    mismatched = families["hsvc_records_mismatched"].samples
    assert [(s.labels, s.value) for s in mismatched] == [
        ({"namespace": "ms", "service": "eureka", "type": "A", "status": "wrong"}, 1.0)
    ]
    services = {s.labels["service"] for s in families["hsvc_records_checked"].samples}
    assert len(services) == 3 and OTHER in services  # two kept, the rest folded
    counts = {s.name: s.value for s in families["hsvc_convergence_seconds"].samples}
    assert counts["hsvc_convergence_seconds_count"] == 1.0
    assert families["hsvc_stuck_after_seconds"].samples[0].value == 60.0
