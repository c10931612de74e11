"""Rows counted per Service, and the main cause of each Service's mismatches (no sockets)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import Row, Verdict, compare
from hsvc.core.model import (
    DnsAnswer,
    Finding,
    ObjectRef,
    Observation,
    Pod,
    Rcode,
    Record,
    Service,
    Severity,
    Snapshot,
    selector_matches,
)
from hsvc.core.records import Group, expectations
from hsvc.core.report import InspectReport, ServiceSummary, Source
from hsvc.core.summary import row_services
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


# --- the owner of each row, found by index: what a scan of every Service per pod finds ------

_LABELS = [("app", "x"), ("app", "y"), ("tier", "t")]
_PODS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from(["", "s0", "s1", "s2"]),
        st.lists(st.sampled_from(_LABELS), unique_by=lambda kv: kv[0], max_size=2),
    ),
    max_size=8,
)
_SERVICES = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from(["s0", "s1", "s2", "s3"]),
        st.lists(st.sampled_from(_LABELS), unique_by=lambda kv: kv[0], max_size=2),
    ),
    max_size=6,
    unique_by=lambda s: (s[0], s[1]),
)


def _scanned_owners(report: InspectReport) -> dict[tuple[str, str], tuple[str, str]]:
    """The first Service in the report's order that names the pod or selects it."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for pod in report.source.snapshot.pods:
        for s in report.services:
            svc = s.service
            if svc.namespace == pod.namespace and (
                pod.subdomain == svc.name or selector_matches(svc.selector, pod.labels)
            ):
                out.setdefault((pod.namespace, pod.name), (svc.namespace, svc.name))
                break
    return out


@settings(deadline=None, max_examples=300)
@given(_PODS, _SERVICES)
def test_pod_rows_belong_to_the_first_service_that_names_or_selects_the_pod(pods, services):
    snapshot = Snapshot(
        pods=tuple(
            Pod(
                namespace=ns,
                name=f"p{i}",
                subdomain=sub,
                labels=tuple(labels),
                pod_ips=(f"10.0.0.{i + 1}",),
            )
            for i, (ns, sub, labels) in enumerate(pods)
        )
    )
    summaries = [
        ServiceSummary(
            service=Service(namespace=ns, name=name, cluster_ips=("None",), selector=tuple(sel)),
            stateful_sets=(),
            ready=0,
            not_ready=0,
        )
        for ns, name, sel in services
    ]
    rows = [
        Row(
            group=Group.POD,
            subject=p.ref,
            expected=DnsAnswer(
                name=f"10-0-0-{i + 1}.{p.namespace}.pod.cluster.local.",
                type="A",
                rcode=Rcode.NOERROR,
            ),
            reason="",
            checks=(),
            status=Verdict.OK,
        )
        for i, p in enumerate(snapshot.pods)
    ]
    source = Source(snapshot=snapshot, settings=KUBEADM, origin="test", namespace=None)
    report = InspectReport(source=source, services=summaries, rows=rows, servers=())
    expected = _scanned_owners(report)
    assert row_services(report) == [
        expected.get((r.subject.namespace, r.subject.name)) for r in rows
    ]


def _split_owner(name: str, zones: tuple[str, ...]) -> tuple[str, str] | None:
    """The Service of a name, from its labels split at the dots (what row_services means)."""
    for zone in zones:
        if name.endswith("." + zone):
            labels = name[: -len(zone) - 1].split(".")
            if len(labels) >= 3 and labels[-1] == "svc":
                return (labels[-2], labels[-3])
    return None


_NAME_LABELS = st.sampled_from(
    ["svc", "web", "web-0", "bench", "pod", "", "cluster", "local", "_tcp"]
)


@settings(max_examples=300)
@given(
    st.lists(_NAME_LABELS, max_size=7),
    st.lists(st.sampled_from(["cluster.local.", "local.", "svc.cluster.local.", "."]), max_size=3),
)
def test_a_rows_service_is_read_from_the_labels_before_the_zone(
    labels: list[str], zones: list[str]
) -> None:
    from hsvc.core.summary import service_of_name as summary_service_of_name

    for name in (".".join(labels) + ".", ".".join([*labels, "cluster", "local", ""])):
        assert summary_service_of_name(name, tuple(zones)) == _split_owner(name, tuple(zones))
        if ".svc." not in name:  # what row_services skips the look-up for
            assert summary_service_of_name(name, tuple(zones)) is None


def test_a_rows_service_under_the_first_zone_that_holds_it() -> None:
    from hsvc.core.summary import service_of_name as summary_service_of_name

    name = "web-0.web.bench.svc.cluster.local."
    assert summary_service_of_name(name, ("cluster.local.",)) == ("bench", "web")
    assert summary_service_of_name("bench.svc.cluster.local.", ("cluster.local.",)) is None
    # Under "svc.cluster.local." the labels end in "bench", not "svc": the next zone decides.
    assert summary_service_of_name(name, ("svc.cluster.local.", "cluster.local.")) == (
        "bench",
        "web",
    )
    assert summary_service_of_name("web.bench.svc.example.", ("cluster.local.",)) is None
