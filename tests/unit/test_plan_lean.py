"""A plan without traces holds the same questions, answers and reasons as one with them."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given

from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.explain import reason
from hsvc.core.inquiry import rule_set
from hsvc.core.model import Service
from hsvc.core.records import expectations
from tests.conftest import KUBEADM, seed_snapshot
from tests.unit.test_engine_properties import every_name, selected_worlds
from tests.unit.test_properties import FAST, NS, World


def test_without_traces_only_the_trace_is_left_out() -> None:
    cluster = ClusterDns(seed_snapshot(), KUBEADM)
    full = expectations(cluster)
    lean = expectations(cluster, traces=False)
    assert any(e.expected.trace for e in full) and any(e.reason for e in full)
    assert all(not e.expected.trace for e in lean)
    assert lean == [replace(e, expected=replace(e.expected, trace=())) for e in full]


def test_equal_rules_are_one_tuple() -> None:
    assert rule_set(["R1", "R2"]) is rule_set(("R1", "R2")) and rule_set([]) == ()
    cluster = ClusterDns(seed_snapshot(), KUBEADM)
    answer = cluster.answer("eureka.ms.svc.cluster.local.", "a")
    again = cluster.answer("eureka.ms.svc.cluster.local.", "A")
    assert answer.type == "A" and answer.rules is again.rules


def test_an_answer_built_without_its_trace_hands_the_same_steps_back() -> None:
    cluster = ClusterDns(seed_snapshot(), KUBEADM)
    asked = [(e.expected.name, e.expected.type) for e in expectations(cluster)]
    assert len(asked) > 20
    for name, qtype in asked:
        full = cluster.answer(name, qtype)
        lean, trace = cluster.answer_parsed(cluster.parse_absolute(name), qtype, keep_trace=False)
        failed = [s for s in full.trace if not s.ok]
        assert lean == replace(full, trace=()) and [s for s in trace if not s.ok] == failed
        assert set(trace) <= set(full.trace)
        kept, _ = cluster.answer_parsed(cluster.parse(name), qtype)
        assert kept == full


def _same_without_trace(cluster: ClusterDns, name: str, qtype: str) -> None:
    """The lean answer is the full one less its trace; its steps are the full trace's."""
    full = cluster.answer(name, qtype)
    lean, trace = cluster.answer_parsed(cluster.parse(name), qtype, keep_trace=False)
    assert lean == replace(full, trace=()), (name, qtype)
    assert [s for s in trace if not s.ok] == [s for s in full.trace if not s.ok], (name, qtype)
    assert set(trace) <= set(full.trace) and reason(lean, trace) == reason(full)


@FAST
@given(selected_worlds())
def test_every_cause_walked_without_its_trace_fails_at_the_same_step(world: World) -> None:
    # The causes of a missing endpoint name (an unpublished endpoint, a pod's hostname,
    # dashed IP or name) word only their failed step without the trace (rules 2-6, 21-23).
    cluster = world.cluster
    asked = {(e.expected.name, e.expected.type) for e in expectations(cluster)}
    asked |= {(name, qtype) for name in every_name(world) for qtype in ("A", "AAAA", "PTR")}
    for pod in world.snapshot.pods:
        for svc in world.snapshot.services:
            for label in (pod.name, pod.hostname, *map(names.dashed_ip, pod.pod_ips)):
                if label:
                    asked.add((f"{label.lower()}.{svc.name}.{NS}.svc.cluster.local.", "A"))
    for name, qtype in sorted(asked):
        _same_without_trace(cluster, name, qtype)


def test_rule07_headless_is_decided_once_per_service_and_anew_for_a_changed_copy() -> None:
    svc = Service(namespace=NS, name="db", cluster_ips=("None",))
    assert svc.is_headless and svc.is_headless
    plain = replace(svc, cluster_ips=("10.96.0.9",))
    assert not plain.is_headless and svc.is_headless
    assert not replace(svc, type="ExternalName").is_headless and plain == replace(plain)
