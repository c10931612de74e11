"""A name the planner builds from known parts reads as the parser reads it (rule 9).

The plan asks names it glued together itself (a label before a Service's name or
``<ns>.pod``, the reverse name of an address) and takes their parse from those
parts instead of reading the name again; these hold that parse to
:func:`hsvc.core.names.parse_query` on any parts, and every planned answer to the
one :meth:`~hsvc.core.cluster.ClusterDns.answer` gives for its name alone.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.explain import reason
from hsvc.core.records import expectations
from tests.unit.test_engine_properties import selected_worlds
from tests.unit.test_properties import FAST, World

# Labels of the characters that matter: plain ones, dots, escapes, upper case, long.
LABEL = st.text(alphabet="ab09-_.\\X*", max_size=8) | st.sampled_from(
    ("", "a" * 63, "a" * 64, "svc", "pod", "_zone", "10-1-0-7", "fd00--1")
)
ZONES = st.lists(
    st.sampled_from(
        (
            "cluster.local.",
            "local.",
            ".",
            "svc.cluster.local.",
            "ns.svc.cluster.local.",
            "web.ns.svc.cluster.local.",
            "x.web.ns.svc.cluster.local.",
            "ns.pod.cluster.local.",
            "in-addr.arpa.",
            "10.in-addr.arpa.",
            "ip6.arpa.",
            "arpa.",
        )
    ),
    min_size=1,
    max_size=4,
).map(tuple)
# The names the plan builds below (a Service's, <ns>.pod) and any other.
PARENT = st.builds(
    lambda labels, kind, zone: names.under(zone, ".".join([*labels, *kind])),
    st.lists(LABEL, min_size=0, max_size=3),
    st.sampled_from(((), ("svc",), ("pod",))),
    st.sampled_from(("cluster.local.", ".", "in-addr.arpa.", "local.", "arpa.")),
)


def _absolute(name: str) -> str | None:
    try:
        return names.absolute(name)
    except names.InvalidName:
        return None


@FAST
@given(PARENT, LABEL, ZONES, st.booleans())
def test_rule09_a_label_below_a_built_name_parses_as_the_whole_name(
    base: str, label: str, zones: tuple[str, ...], zonal: bool
) -> None:
    name = f"{label}.{base}"
    if _absolute(base) != base or _absolute(name) != name:
        return  # the plan reads such names in full (records._Plan.parent, ask)
    above = names.parent(base, zones, zonal=zonal)
    whole = names.parse_query(name, zones, zonal=zonal, absolute_name=True)
    assert names.parse_child(above, label, name, zones, zonal=zonal) == whole


def test_rule09_the_parents_the_plan_builds_read_their_children_from_parts() -> None:
    zones = ("cluster.local.", "in-addr.arpa.")
    service = names.parent("web.ns.svc.cluster.local.", zones)
    pods = names.parent("ns.pod.cluster.local.", zones)
    assert service.child is names.NameKind.ENDPOINT and pods.child is names.NameKind.POD
    endpoint = names.parse_child(service, "web-0", "web-0.web.ns.svc.cluster.local.", zones)
    assert (endpoint.kind, endpoint.endpoint, endpoint.service) == ("endpoint", "web-0", "web")
    pod = names.parse_child(pods, "10-1-0-7", "10-1-0-7.ns.pod.cluster.local.", zones)
    assert (pod.kind, pod.pod_label, pod.namespace) == ("pod", "10-1-0-7", "ns")
    # A zone of its own, a dotted label, a name in a reverse zone: read in full.
    assert names.parent("ns.svc.cluster.local.", zones).child is None
    assert names.parent("web.ns.svc.in-addr.arpa.", ("in-addr.arpa.",)).child is None
    inner = ("cluster.local.", "x.web.ns.svc.cluster.local.")
    assert names.parse_child(service, "x", "x.web.ns.svc.cluster.local.", inner).kind == "apex"


ADDRESS = st.ip_addresses().map(str) | st.sampled_from(
    ("010.1.0.7", "10.1.0.256", "fd00::1", "FD00::1", "1.2.3.4 ", "x")
)


@FAST
@given(ADDRESS, ZONES)
def test_rule34_the_reverse_name_of_an_address_parses_as_the_whole_name(
    address: str, zones: tuple[str, ...]
) -> None:
    try:
        name = names.reverse_name(address)
    except ValueError:
        return  # not an address: the plan asks no reverse name for it
    whole = names.parse_query(name, zones, absolute_name=True)
    assert names.parse_reverse(address, name, zones) == whole
    if isinstance(ipaddress.ip_address(address.strip()), ipaddress.IPv4Address):
        assert whole.kind in ("reverse", "outside")


@FAST
@given(selected_worlds())
def test_every_planned_answer_is_the_answer_to_its_name_alone(world: World) -> None:
    # Whatever the plan carried along or shared, each question's answer and reason
    # are the engine's for that name asked on its own (rules 2-6, 9, 21-23, 28-36).
    assert_planned_as_asked_alone(world.cluster)


def assert_planned_as_asked_alone(cluster: ClusterDns) -> None:
    """Each planned answer (without its trace) and reason equal the name asked alone."""
    for planned in expectations(cluster, traces=False):
        alone = cluster.answer(planned.expected.name, planned.expected.type)
        assert planned.expected == replace(alone, trace=()), planned.expected.name
        assert planned.reason in ("", reason(alone)), planned.expected.name


def test_rule18_a_pods_srv_records_and_glue_share_one_provenance_per_rule() -> None:
    # The headless Service's bare SRV and each named port's SRV all come from the
    # pod by rule 18: one Provenance value, equal to the one built alone.
    from hsvc.core.cluster import ClusterDns
    from hsvc.core.model import Provenance
    from tests.conftest import KUBEADM, seed_snapshot

    cluster = ClusterDns(seed_snapshot(), KUBEADM)
    plan = expectations(cluster, traces=False)
    by_value: dict[Provenance, set[int]] = {}
    for e in plan:
        for prov in e.expected.provenance:
            by_value.setdefault(prov, set()).add(id(prov))
    assert len(by_value) < sum(len(e.expected.provenance) for e in plan)
    assert all(len(ids) == 1 for ids in by_value.values())
    other = ClusterDns(seed_snapshot(), KUBEADM)
    assert other.provenances == {} and expectations(other, traces=False) == plan


def test_rule29_pod_records_of_one_namespace_point_at_one_namespace_value() -> None:
    from hsvc.core.lookup import namespace_ref

    assert namespace_ref("bench") is namespace_ref("bench")
    assert (namespace_ref("bench").kind, namespace_ref("bench").name) == ("Namespace", "bench")


def test_an_absolute_lower_case_name_is_the_same_string() -> None:
    name = "web-0.web.ns.svc.cluster.local."
    assert names.absolute(name) is name
    assert names.absolute("Web-0.web.ns.svc.cluster.local.") == name
    assert names.absolute("10.1.0.7.in-addr.arpa.") == "10.1.0.7.in-addr.arpa."


def test_rule19_srv_answers_naming_one_target_share_its_glue_record() -> None:
    # The bare SRV and each named port's SRV of a Service carry the same targets'
    # addresses as glue: one Record value per target and address, equal to the glue
    # a fresh engine gives each SRV name asked alone.
    from hsvc.core.model import Record
    from tests.conftest import KUBEADM, seed_snapshot

    cluster = ClusterDns(seed_snapshot(), KUBEADM)
    srv = [e.expected for e in expectations(cluster, traces=False) if e.expected.type == "SRV"]
    by_value: dict[Record, set[int]] = {}
    for answer in srv:
        for rec in answer.additional:
            by_value.setdefault(rec, set()).add(id(rec))
    assert len(by_value) < sum(len(a.additional) for a in srv)
    assert all(len(ids) == 1 for ids in by_value.values())
    assert cluster.glue_records == {}  # the table is for planning, as the provenances'
    for answer in srv:
        alone = ClusterDns(seed_snapshot(), KUBEADM).answer(answer.name, "SRV")
        assert alone.additional == answer.additional, answer.name


def test_rule16_an_address_lookup_keeps_one_item_per_endpoint_and_srv_every_port() -> None:
    # The A answer holds one record per address whatever the slice ports (rule 16),
    # so its lookup builds one item per endpoint; SRV needs each port (rule 18).
    from hsvc.core.answers import Answerer
    from hsvc.core.model import EndpointPort
    from tests.conftest import KUBEADM, seed_snapshot

    snapshot = seed_snapshot()
    two = (EndpointPort(name="eureka", port=8888), EndpointPort(name="admin", port=9999))
    slices = [
        replace(s, ports=two) if s.service_name == "eureka" else s for s in snapshot.endpoint_slices
    ]
    cluster = ClusterDns(replace(snapshot, endpoint_slices=slices), KUBEADM)
    name = "eureka.ms.svc.cluster.local."
    found = {q: Answerer(cluster, cluster.parse(name), q).lookup() for q in ("A", "SRV")}
    assert len(found["SRV"].items) == 2 * len(found["A"].items) == 6
    assert {i.host for i in found["A"].items} == {i.host for i in found["SRV"].items}
    assert len(cluster.answer(name, "A").answer) == 3
    assert len(cluster.answer(name, "SRV").answer) == 6


@FAST
@given(selected_worlds())
def test_rule18_answers_from_the_engines_shared_tables_equal_a_fresh_engines(world: World) -> None:
    # The plan's engine shares SRV glue and each slice's port numbers across its
    # questions; an engine made for one question alone shares nothing (rules 16, 18, 19).
    cluster = world.cluster
    for planned in expectations(cluster, traces=False):
        if planned.expected.type in ("A", "AAAA", "SRV"):
            alone = world.cluster.answer(planned.expected.name, planned.expected.type)
            assert planned.expected == replace(alone, trace=()), planned.expected.name
