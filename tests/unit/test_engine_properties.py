"""One engine, many readers: properties over generated clusters (hypothesis).

- explain's verdict agrees with the answer: never "broken" with NOERROR data, never
  "ok" with NXDOMAIN;
- every must-not-resolve row's reason is a failed step of the engine's trace, and when
  that step is a pod condition, the condition is false for that pod;
- resolve, records, inspect and lint never contradict each other on the same cluster.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from hsvc.core import conditions, names
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import PASSING, compare
from hsvc.core.diagnose import diagnose
from hsvc.core.explain import explain, first_broken, reason, verdict
from hsvc.core.model import DnsSettings, Observation, Rcode, Snapshot, labels_of
from hsvc.core.names import NameKind
from hsvc.core.records import expectations, expected_records, negative_expectations
from tests.unit.test_properties import FAST, NS, World, interesting_names, worlds

QTYPES = ("A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "HINFO")


@st.composite
def selected_worlds(draw: st.DrawFn) -> World:
    """The generated worlds, with selectors: pods labelled for a Service, some selected."""
    world = draw(worlds())
    services = tuple(
        replace(s, selector=labels_of({"app": s.name})) if draw(st.booleans()) else s
        for s in world.snapshot.services
    )
    names_ = [s.name for s in services]
    pods = tuple(
        replace(
            p,
            labels=labels_of({"app": draw(st.sampled_from(names_))}),
            deleting=draw(st.sampled_from((False, False, True))),
        )
        for p in world.snapshot.pods
    )
    snapshot = replace(world.snapshot, services=services, pods=pods)
    return World(snapshot=snapshot, settings=world.settings)


def every_name(world: World) -> list[str]:
    out = interesting_names(world)
    for pod in world.snapshot.pods:
        for ip in pod.pod_ips:
            out.append(names.reverse_name(ip))
            out.append(f"{names.dashed_ip(ip)}.{NS}.pod.cluster.local.")
    return out


@FAST
@given(selected_worlds())
def test_explain_verdict_agrees_with_the_answer(world: World) -> None:
    cluster = world.cluster
    for name in every_name(world):
        for qtype in QTYPES:
            answer = cluster.answer(name, qtype)
            said = verdict(answer)
            if answer.rcode is Rcode.NOERROR and answer.answer:
                assert said == "ok", (name, qtype, explain(answer))
            if answer.rcode is Rcode.NXDOMAIN:
                assert said == "broken", (name, qtype, answer.trace)


@FAST
@given(selected_worlds())
def test_every_must_not_resolve_reason_names_a_false_condition(world: World) -> None:
    cluster = world.cluster
    items = expectations(cluster, namespace=NS)
    for item in items:
        if not item.reason:
            continue
        answer = item.expected
        assert not answer.answer
        step = first_broken(explain(answer))
        assert step is not None, (answer.name, answer.trace)
        assert item.reason == reason(answer)
        assert step.detail in item.reason
        parsed = cluster.parse(answer.name)
        svc = cluster.service(parsed.namespace, parsed.service) if parsed.service else None
        predicate = conditions.POD_CONDITIONS.get(step.check)
        subject = step.subject
        if predicate is None or svc is None or subject is None or subject.kind != "Pod":
            continue
        pod = cluster.pod_of(subject)
        assert pod is not None
        assert not predicate(cluster, pod, svc), (answer.name, step)


@FAST
@given(selected_worlds())
def test_resolve_records_inspect_and_lint_never_contradict(world: World) -> None:
    cluster = world.cluster
    items = expectations(cluster, namespace=NS)
    records = expected_records(items)
    absent = negative_expectations(items)
    by_question: dict[tuple[str, str], list] = {}
    for rec in records:
        by_question.setdefault((rec.record.name, rec.record.type), []).append(rec.record)
    # records vs resolve: every record is in the answer resolve gives for its name.
    for rec in records:
        got = cluster.answer(rec.record.name, rec.record.type)
        assert rec.record.key in {r.key for r in got.answer}, rec
    # absent vs resolve: a name that must not resolve gets no data from resolve.
    for row in absent:
        assert not cluster.answer(row.name, row.type).answer, row
        assert (row.name, row.type) not in by_question
    # inspect vs records/resolve: a server serving exactly what records lists (with the
    # rcode resolve gives) is judged ok on every row.
    observations = [
        Observation(
            server="dns",
            name=item.expected.name,
            type=item.expected.type,
            rcode=cluster.answer(item.expected.name, item.expected.type).rcode,
            answer=tuple(by_question.get((item.expected.name, item.expected.type), ()))
            or tuple(r for r in item.expected.answer if r.name != item.expected.name),
        )
        for item in items
    ]
    rows = compare(items, observations)
    assert all(r.status in PASSING for r in rows), [
        (r.name, r.type, r.status, [c.note for c in r.checks])
        for r in rows
        if r.status not in PASSING
    ]
    # lint vs records: a headless Service lint calls NXDOMAIN (no endpoint, selector
    # matching nothing, noendpoints) has no address record in records, and the reverse.
    findings = diagnose(cluster, namespace=NS, observed=True)
    for finding in findings:
        if finding.code not in ("HSVC201", "HSVC505") or finding.object.kind != "Service":
            continue
        if "NXDOMAIN" not in finding.message:
            continue
        svc = cluster.service(finding.object.namespace, finding.object.name)
        assert svc is not None
        if svc.is_headless:
            name = f"{svc.name}.{svc.namespace}.svc.cluster.local."
            assert (name, "A") not in by_question and (name, "AAAA") not in by_question


def test_properties_cover_every_kind_the_parser_knows() -> None:
    # The generated names above reach services, endpoints, ports, pods and reverse names.
    cluster = ClusterDns(Snapshot(), DnsSettings())
    kinds = {
        cluster.parse(n).kind
        for n in (
            "web.ms.svc.cluster.local.",
            "a.web.ms.svc.cluster.local.",
            "_http._tcp.web.ms.svc.cluster.local.",
            "1-2-3-4.ms.pod.cluster.local.",
            "4.3.2.1.in-addr.arpa.",
        )
    }
    assert kinds == {
        NameKind.SERVICE,
        NameKind.ENDPOINT,
        NameKind.PORT,
        NameKind.POD,
        NameKind.REVERSE,
    }
