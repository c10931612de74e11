"""Invariants of the answer engine over random small clusters (dns-records.md rules).

Each example builds a namespace with a few headless or ClusterIP Services, their
EndpointSlices (random ready flags, hostnames, ports, families) and pods, then
checks properties that every rule set must keep: SRV glue resolves, PTR and A
round-trip, unpublished endpoints stay invisible, nothing raises, and expected
records use the model's name form.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.explain import explain_name
from hsvc.core.model import (
    DnsSettings,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Namespace,
    ObjectRef,
    Pod,
    PodsMode,
    Rcode,
    Service,
    ServicePort,
    Snapshot,
    labels_of,
)
from hsvc.core.records import expectations, expected_records, negative_expectations

NS = "ms"
ZONE = "cluster.local."
SVC_NAMES = ("web", "db", "api")
PORT_NAMES = ("http", "grpc", "")
HOSTNAMES = ("", "", "a-0", "a-1", "b")
POD_NAMES = ("p-0", "p-1", "pod-x", "")
# 10.96.0.1 is also a ClusterIP below, so an endpoint may share it (rule 35).
V4_POOL = ("10.96.0.1", *(f"10.244.0.{i}" for i in range(1, 7)))
V6_POOL = (*(f"fd00:244::{i:x}" for i in range(1, 7)), "fd00:244::")

# How many examples: the Hypothesis profile (tests/conftest.py; more with --hypothesis-profile=ci).
FAST = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class World:
    snapshot: Snapshot
    settings: DnsSettings

    @property
    def cluster(self) -> ClusterDns:
        return ClusterDns(self.snapshot, self.settings)


@st.composite
def endpoints(draw: st.DrawFn, family: int) -> Endpoint:
    pool = V4_POOL if family == 4 else V6_POOL
    pod = draw(st.sampled_from(POD_NAMES))
    return Endpoint(
        addresses=(draw(st.sampled_from(pool)),),
        ready=draw(st.sampled_from((True, False, None))),
        hostname=draw(st.sampled_from(HOSTNAMES)),
        target_ref=ObjectRef(kind="Pod", namespace=NS, name=pod) if pod else None,
        zone=draw(st.sampled_from(("", "zone-a", "zone-b"))),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    services: list[Service] = []
    slices: list[EndpointSlice] = []
    svc_names = draw(st.lists(st.sampled_from(SVC_NAMES), min_size=1, max_size=3, unique=True))
    for index, name in enumerate(svc_names, start=1):
        headless = draw(st.booleans())
        ports = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(PORT_NAMES),
                    st.sampled_from(("TCP", "UDP")),
                    st.integers(1, 65535),
                    st.integers(1, 65535),
                ),
                # Kubernetes requires ports on ClusterIP Services.
                min_size=0 if headless else 1,
                max_size=3,
                unique_by=lambda p: (p[0], p[1]),
            )
        )
        if headless:
            cluster_ips: tuple[str, ...] = ("None",)
        else:
            families = draw(st.sampled_from(((4,), (6,), (4, 6), (6, 4))))
            cluster_ips = tuple(
                f"10.96.0.{index}" if f == 4 else f"fd00:96::{index:x}" for f in families
            )
        services.append(
            Service(
                namespace=NS,
                name=name,
                cluster_ips=cluster_ips,
                ports=tuple(
                    ServicePort(name=n, protocol=proto, port=port, target_port=target)
                    for n, proto, port, target in ports
                ),
            )
        )
        for number in range(draw(st.integers(0, 2))):
            family = draw(st.sampled_from((4, 6)))
            # The controller writes the resolved target port under the Service port's
            # name and protocol (rule 5); sometimes a slice has no ports at all.
            with_ports = draw(st.booleans())
            slices.append(
                EndpointSlice(
                    namespace=NS,
                    name=f"{name}-{number}",
                    service_name=name,
                    endpoints=tuple(draw(st.lists(endpoints(family), max_size=4))),
                    ports=tuple(
                        EndpointPort(name=n, protocol=proto, port=target)
                        for n, proto, _, target in ports
                    )
                    if with_ports
                    else (),
                    labels=labels_of({"kubernetes.io/service-name": name}),
                )
            )
    addresses = sorted({a for sl in slices for ep in sl.endpoints for a in ep.addresses})
    pods = [
        Pod(
            namespace=NS,
            name=f"pod-{i}",
            pod_ips=(address,),
            hostname=draw(st.sampled_from(HOSTNAMES)),
            subdomain=draw(st.sampled_from(("", *svc_names))),
            ready=draw(st.booleans()),
            phase=draw(st.sampled_from(("Running", "Running", "Succeeded"))),
        )
        for i, address in enumerate(addresses)
        if draw(st.booleans())
    ]
    dns_settings = DnsSettings(
        endpoint_pod_names=draw(st.booleans()),
        pods=draw(st.sampled_from(tuple(PodsMode))),
        zonal=draw(st.booleans()),
        ttl=draw(st.sampled_from((5, 30))),
    )
    snapshot = Snapshot(
        namespaces=(Namespace(name=NS), Namespace(name="default")),
        services=tuple(services),
        endpoint_slices=tuple(slices),
        pods=tuple(pods),
    )
    return World(snapshot=snapshot, settings=dns_settings)


# --- helpers written from the rulebook, not from the implementation ---------------------


def endpoint_label(ep: Endpoint, address: str, s: DnsSettings) -> str:
    """dns-records.md rule 6, first match wins."""
    if ep.hostname:
        return ep.hostname
    if s.endpoint_pod_names and ep.target_ref is not None and len(ep.target_ref.name) < 64:
        return ep.target_ref.name
    if "." in address:
        return address.replace(".", "-")
    label = address.replace(":", "-")
    return label + "0" if label.endswith("-") else label


def base(service: str) -> str:
    return f"{service}.{NS}.svc.{ZONE}"


def family_type(address: str) -> str:
    return "A" if ipaddress.ip_address(address).version == 4 else "AAAA"


def interesting_names(world: World) -> list[str]:
    out: list[str] = []
    for svc in world.snapshot.services:
        b = base(svc.name)
        out.append(b)
        ports = {(p.name, p.protocol) for p in svc.ports}
        for sl in world.snapshot.endpoint_slices:
            if sl.service_name != svc.name:
                continue
            ports |= {(p.name, p.protocol) for p in sl.ports}
            for ep in sl.endpoints:
                for a in ep.addresses:
                    out.append(f"{endpoint_label(ep, a, world.settings)}.{b}")
        out.extend(f"_{n}._{p.lower()}.{b}" for n, p in ports if n)
        out.extend(f"{z}.{d}._zone.{b}" for z in ("zone-a", "zone-c") for d in ("pin", "prefer"))
    return out


def addresses(cluster: ClusterDns, name: str) -> set[str]:
    return {
        r.data
        for qtype in ("A", "AAAA")
        for r in cluster.answer(name, qtype).answer
        if r.type == qtype and r.name == name
    }


# --- properties -------------------------------------------------------------------------


@FAST
@given(worlds())
def test_srv_targets_resolve_to_their_glue(world: World):
    c = world.cluster
    for name in interesting_names(world):
        ans = c.answer(name, "SRV")
        targets = {r.data.split()[3] for r in ans.answer if r.type == "SRV"}
        for target in targets:
            resolved = addresses(c, target)
            assert resolved, f"SRV target {target} of {name} does not resolve"
            glue = {g.data for g in ans.additional if g.name == target}
            assert glue, f"SRV target {target} of {name} has no glue"
            assert glue <= resolved, (name, target, glue, resolved)
        # Glue belongs to a target of this answer (rule 47).
        assert {g.name for g in ans.additional} <= targets


@FAST
@given(worlds())
def test_ptr_and_address_round_trip_for_ready_endpoints(world: World):
    c = world.cluster
    service_names = {s.name for s in world.snapshot.services}
    for sl in world.snapshot.endpoint_slices:
        if sl.service_name not in service_names:
            continue
        for ep in sl.endpoints:
            if ep.ready is False:
                continue
            for address in ep.addresses:
                ptr = c.answer(names.reverse_name(address), "PTR")
                targets = [r.data for r in ptr.answer if r.type == "PTR"]
                assert targets, f"no PTR for ready endpoint {address}"
                for target in targets:
                    got = c.answer(target, family_type(address))
                    assert address in {r.data for r in got.answer}, (address, target)


@FAST
@given(worlds())
def test_unpublished_endpoints_have_no_name_and_no_ptr(world: World):
    c = world.cluster
    s = world.settings
    cluster_ips = {
        ip for svc in world.snapshot.services if not svc.is_headless for ip in svc.cluster_ips
    }
    ready_addresses = {
        a
        for sl in world.snapshot.endpoint_slices
        for ep in sl.endpoints
        if ep.is_ready
        for a in ep.addresses
    }
    for svc in world.snapshot.services:
        eps = [
            (ep, a)
            for sl in world.snapshot.endpoint_slices
            if sl.service_name == svc.name
            for ep in sl.endpoints
            for a in ep.addresses
        ]
        ready_labels = {endpoint_label(ep, a, s) for ep, a in eps if ep.ready is not False}
        for ep, a in eps:
            if ep.ready is not False:
                continue
            label = endpoint_label(ep, a, s)
            if label not in ready_labels:
                for qtype in ("A", "AAAA"):
                    ans = c.answer(f"{label}.{base(svc.name)}", qtype)
                    assert ans.rcode is Rcode.NXDOMAIN, (label, svc.name, qtype)
            if a not in ready_addresses and a not in cluster_ips:
                ans = c.answer(names.reverse_name(a), "PTR")
                assert ans.rcode is Rcode.NXDOMAIN and not ans.answer, a


LABELS = st.one_of(
    st.sampled_from(
        (
            *("svc", "pod", "ms", "default", "web", "db", "api", "_http", "_tcp", "a-0", "b"),
            *("*", "any", "_zone", "pin", "prefer", "dns-version", "10-244-0-1", "fd00-244--1"),
        )
    ),
    st.text(alphabet="abz09-_*", min_size=1, max_size=12),
)
SUFFIXES = st.sampled_from(
    (ZONE, "Cluster.Local.", "in-addr.arpa.", "ip6.arpa.", "example.com.", ".")
)
QTYPES = st.sampled_from(
    ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "SOA", "NS", "MX", "HINFO", "ANY", "AXFR", "caa")
)


@FAST
@given(worlds(), st.lists(LABELS, max_size=7), SUFFIXES, QTYPES)
def test_answer_never_raises_for_valid_names(world, labels, suffix, qtype):
    name = ".".join([*labels, suffix.rstrip(".")]) + "." if suffix != "." else ".".join(labels)
    try:
        name = names.absolute(name or ".")
    except names.InvalidName:
        return
    c = world.cluster
    ans = c.answer(name, qtype)
    assert isinstance(ans.rcode, Rcode)
    assert len(ans.provenance) == len(ans.answer)
    if ans.rcode is Rcode.NXDOMAIN or (ans.rcode is Rcode.NOERROR and not ans.answer):
        assert len(ans.authority) == 1  # rule 44
    explain_name(c, name)


@FAST
@given(worlds(), st.sampled_from(V4_POOL + V6_POOL + ("10.96.0.2", "fd00:96::3")), QTYPES)
def test_answer_never_raises_for_reverse_names(world, address, qtype):
    world.cluster.answer(names.reverse_name(address), qtype)


@FAST
@given(worlds())
def test_expected_records_are_absolute_and_lower_case(world: World):
    items = expectations(world.cluster)
    for rec in expected_records(items):
        name = rec.record.name
        assert name == name.lower() and name.endswith("."), name
        assert names.absolute(name) == name
        if rec.record.type in ("SRV", "PTR", "CNAME"):
            target = rec.record.data.split()[-1]
            assert target == target.lower() and target.endswith("."), target
    for neg in negative_expectations(items):
        assert neg.name == neg.name.lower() and neg.name.endswith("."), neg.name


@FAST
@given(worlds())
def test_rule12_rule16_service_name_records_follow_the_objects(world: World):
    # The oracle is the objects read by the rulebook, not the engine's own answers:
    # ClusterIP -> every cluster IP of the family (rule 12); headless -> every address
    # of a ready (true or absent, rule 2) endpoint in any of its slices (rules 1, 16).
    got: dict[tuple[str, str], set[str]] = {}
    for rec in expected_records(expectations(world.cluster)):
        got.setdefault((rec.record.name, rec.record.type), set()).add(rec.record.data)
    for svc in world.snapshot.services:
        if svc.cluster_ips[0] == "None":
            published = {
                address
                for sl in world.snapshot.endpoint_slices
                if sl.service_name == svc.name
                for ep in sl.endpoints
                if ep.ready is not False
                for address in ep.addresses
            }
        else:
            published = set(svc.cluster_ips)
        for qtype in ("A", "AAAA"):
            want = {a for a in published if family_type(a) == qtype}
            assert got.get((base(svc.name), qtype), set()) == want, (svc.name, qtype)
