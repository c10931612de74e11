"""Rows counted per Service, and the main cause of each Service's mismatches (no sockets)."""

from __future__ import annotations

from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import compare
from hsvc.core.model import Finding, ObjectRef, Observation, Record, Severity
from hsvc.core.records import expectations
from hsvc.core.tally import lint_tally, service_of_name, tally
from tests.conftest import KUBEADM, seed_snapshot

ZONES = KUBEADM.zones


def test_names_belong_to_the_service_they_are_under() -> None:
    assert service_of_name("eureka-0.eureka.ms.svc.cluster.local.", ZONES) == ("ms", "eureka")
    assert service_of_name("_eureka._tcp.eureka.ms.svc.cluster.local.", ZONES) == ("ms", "eureka")
    assert service_of_name("10-244-1-210.ms.pod.cluster.local.", ZONES) == ("ms", "")
    assert service_of_name("example.com.", ZONES) is None


def _rows(stale_ip: str | None = None):
    cluster = ClusterDns(seed_snapshot(), KUBEADM)
    items = expectations(cluster, namespace="ms")
    observations = []
    for e in items:
        answer = e.expected.answer
        if (
            stale_ip is not None
            and e.expected.name.startswith("eureka-1.eureka.")
            and e.expected.type == "A"
        ):
            answer = (Record(name=e.expected.name, type="A", ttl=30, data=stale_ip),)
        observations.append(
            Observation(
                server="s",
                name=e.expected.name,
                type=e.expected.type,
                rcode=e.expected.rcode,
                answer=answer,
            )
        )
    return compare(items, observations)


def test_every_row_is_counted_once_per_service() -> None:
    rows = _rows()
    tallies = tally(rows, [], ZONES)
    assert sum(sum(t.counts.values()) for t in tallies) == len(rows)
    eureka = next(t for t in tallies if (t.namespace, t.service) == ("ms", "eureka"))
    # The per-pod PTR rows point at eureka's names: they count for eureka.
    assert eureka.counts == {
        "ok": sum(
            1
            for r in rows
            if "eureka" in r.name or (r.type == "PTR" and "eureka" in r.expected.answer[0].data)
        )
    }
    assert eureka.bad == 0 and eureka.cause == ""


def test_cause_is_the_live_finding_about_the_service_else_the_compare_note() -> None:
    rows = _rows(stale_ip="10.244.2.99")
    plain = next(t for t in tally(rows, [], ZONES) if t.service == "eureka")
    assert plain.bad == 1
    assert plain.cause.startswith("wrong: ") and "10.244.2.99" in plain.cause
    findings = [
        Finding(
            code="HSVC201",
            severity=Severity.WARNING,
            object=ObjectRef(kind="Service", namespace="ms", name="eureka"),
            message="unrelated",
            hint="",
        ),
        Finding(
            code="HSVC603",
            severity=Severity.WARNING,
            object=ObjectRef(kind="Pod", namespace="ms", name="eureka-1"),
            message="a stale record",
            hint="",
        ),
    ]
    cause = next(t for t in tally(rows, findings, ZONES) if t.service == "eureka").cause
    assert cause == "HSVC603: a stale record"


def test_lint_counts_by_severity_per_object_with_the_worst_first() -> None:
    ref = ObjectRef(kind="Service", namespace="ms", name="portal")
    findings = [
        Finding(code="HSVC201", severity=Severity.WARNING, object=ref, message="w", hint=""),
        Finding(code="HSVC101", severity=Severity.ERROR, object=ref, message="e", hint=""),
    ]
    (only,) = lint_tally(findings)
    assert (only.namespace, only.service) == ("ms", "Service/portal")
    assert only.counts == {"error": 1, "warning": 1}
    assert only.cause == "HSVC101: e"
