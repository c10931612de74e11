"""One test (or a small group) per dns-records.md rule, R1 to R47.

Every expected value here comes from the rulebook text (docs/dns-records.md),
not from running the implementation. Where CoreDNS's source (plugin/kubernetes,
v1.14.7 up to commit 4b26cced) goes beyond or against the rulebook, the test
follows CoreDNS and says so in a comment.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import replace

import pytest

from hsvc.core.cluster import ClusterDns
from hsvc.core.explain import explain_name, first_broken, pod_name_link
from hsvc.core.model import (
    DnsAnswer,
    DnsSettings,
    Endpoint,
    EndpointSlice,
    LabelSelector,
    Namespace,
    Pod,
    PodsMode,
    Rcode,
    Service,
    ServicePort,
    Snapshot,
    labels_of,
)
from hsvc.core.records import expectations, expected_records, negative_expectations
from tests.conftest import (
    EUREKA_IPS,
    EUREKA_LABELS,
    KUBEADM,
    make_endpoint,
    make_pod,
    make_service,
    make_slice,
    pod_ref,
    seed_snapshot,
)

Z = "cluster.local."
NAMESPACES = ("ms", "default", "kube-system")

# --- helpers -------------------------------------------------------------------------


def build(
    *,
    services: Iterable[Service] = (),
    slices: Iterable[EndpointSlice] = (),
    pods: Iterable[Pod] = (),
    namespaces: Iterable[str | Namespace] = NAMESPACES,
) -> Snapshot:
    return Snapshot(
        namespaces=tuple(n if isinstance(n, Namespace) else Namespace(name=n) for n in namespaces),
        services=tuple(services),
        endpoint_slices=tuple(slices),
        pods=tuple(pods),
    )


def dns(snapshot: Snapshot, **settings: object) -> ClusterDns:
    return ClusterDns(snapshot, replace(KUBEADM, **settings))  # type: ignore[arg-type]


def seed_dns(**settings: object) -> ClusterDns:
    return dns(seed_snapshot(), **settings)


def svc(name: str, ns: str = "ms") -> str:
    return f"{name}.{ns}.svc.{Z}"


def rev(ip: str) -> str:
    """The reverse name of an address, computed with the stdlib (R34: full form)."""
    return ipaddress.ip_address(ip).reverse_pointer + "."


def data(ans: DnsAnswer, rtype: str | None = None) -> set[str]:
    """The data of the answer records of the asked type (or ``rtype``), as a set."""
    want = rtype or ans.type
    return {r.data.lower() for r in ans.answer if r.type == want}


def srv(ans: DnsAnswer) -> set[tuple[int, int, int, str]]:
    out = set()
    for r in ans.answer:
        if r.type == "SRV":
            prio, weight, port, target = r.data.split()
            out.add((int(prio), int(weight), int(port), target.lower()))
    return out


def glue(ans: DnsAnswer) -> set[tuple[str, str, str]]:
    return {(r.name.lower(), r.type, r.data.lower()) for r in ans.additional}


def is_nodata(ans: DnsAnswer) -> bool:
    return ans.rcode is Rcode.NOERROR and not ans.answer


def is_nxdomain(ans: DnsAnswer) -> bool:
    return ans.rcode is Rcode.NXDOMAIN and not ans.answer


def headless_web(*endpoints: Endpoint, ports=(("http", 8080),), **slice_kw) -> ClusterDns:
    """A headless Service ``web`` in ``ms`` with one slice holding ``endpoints``."""
    service = make_service("web", ports=[("http", 80)], selector={"app": "web"})
    return dns(
        build(services=[service], slices=[make_slice("web", endpoints, ports=ports, **slice_kw)])
    )


# --- 2. Which objects feed DNS ---------------------------------------------------------


def test_rule01_slice_membership_is_the_service_name_label_only():
    web = make_service("web")
    handmade = EndpointSlice(
        namespace="ms",
        name="written-by-hand",
        service_name="web",
        # R1: addressType is not checked either.
        endpoints=(make_endpoint("10.1.0.1"),),
        labels=labels_of(
            {
                "kubernetes.io/service-name": "web",
                "endpointslice.kubernetes.io/managed-by": "someone-else",
            }
        ),
    )
    controller = make_slice("web", [make_endpoint("10.1.0.2")], name="web-xyz12")
    other_ns = make_slice("web", [make_endpoint("10.1.0.3")], namespace="default")
    misnamed = make_slice("other", [make_endpoint("10.1.0.4")], name="web-abcde")
    c = dns(build(services=[web], slices=[handmade, controller, other_ns, misnamed]))
    # Both slices of ms/web are merged; the slice in default and the one labelled for
    # another Service do not count, whatever their names.
    assert data(c.answer(svc("web"), "A")) == {"10.1.0.1", "10.1.0.2"}


def test_rule02_ready_true_or_absent_is_published_serving_terminating_ignored():
    eps = [
        make_endpoint("10.1.0.1", ready=True),
        make_endpoint("10.1.0.2", ready=None),
        Endpoint(addresses=("10.1.0.3",), ready=False, serving=True, terminating=False),
        Endpoint(addresses=("10.1.0.4",), ready=True, serving=False, terminating=True),
    ]
    # publishNotReadyAddresses on the Service is not read by CoreDNS (R2).
    web = make_service("web", ports=[("http", 80)], publish_not_ready=True)
    c = dns(build(services=[web], slices=[make_slice("web", eps, ports=[("http", 8080)])]))
    assert data(c.answer(svc("web"), "A")) == {"10.1.0.1", "10.1.0.2", "10.1.0.4"}
    # The unpublished endpoint is invisible everywhere: its name, SRV, PTR.
    assert is_nxdomain(c.answer(f"10-1-0-3.{svc('web')}", "A"))
    assert all(t != f"10-1-0-3.{svc('web')}" for *_, t in srv(c.answer(svc("web"), "SRV")))
    assert c.answer(rev("10.1.0.3"), "PTR").rcode is Rcode.NXDOMAIN


def test_rule02_not_ready_endpoints_do_not_count_for_empty_service():
    api = make_service("api", cluster_ip="10.96.0.30", ports=[("http", 80)])
    sl = make_slice("api", [make_endpoint("10.1.0.3", ready=False)], ports=[("http", 8080)])
    c = dns(build(services=[api], slices=[sl]), ignore_empty_service=True)
    assert is_nxdomain(c.answer(svc("api"), "A"))


def _eureka_explain(snapshot: Snapshot, pod_name: str) -> str:
    c = dns(snapshot)
    service = c.service("ms", "eureka")
    assert service is not None
    pod = next(p for p in snapshot.pods if p.name == pod_name)
    link = pod_name_link(c, pod, service)
    assert not link.ok
    return f"{link.detail} {link.fix}"


def test_rule03_not_ready_pod_without_publish_not_ready_has_no_name():
    snapshot = seed_snapshot(eureka_ready={"eureka-1": False})
    c = dns(snapshot)
    assert is_nxdomain(c.answer(f"eureka-1.{svc('eureka')}", "A"))
    assert "publishNotReadyAddresses" in _eureka_explain(snapshot, "eureka-1")


def test_rule03_terminating_pod_disappears_without_publish_not_ready():
    snapshot = seed_snapshot(eureka_ready={"eureka-2": False})
    pods = tuple(replace(p, deleting=True) if p.name == "eureka-2" else p for p in snapshot.pods)
    snapshot = replace(snapshot, pods=pods)
    assert "terminating" in _eureka_explain(snapshot, "eureka-2")


def test_rule03_publish_not_ready_addresses_publishes_not_ready_pods():
    # With publishNotReadyAddresses the controller writes ready=true for every pod (R3).
    snapshot = seed_snapshot()
    eureka = replace(snapshot.services[0], publish_not_ready_addresses=True)
    pods = tuple(replace(p, ready=False) if p.name == "eureka-0" else p for p in snapshot.pods)
    c = dns(replace(snapshot, services=(eureka, *snapshot.services[1:]), pods=pods))
    assert data(c.answer(f"eureka-0.{svc('eureka')}", "A")) == {"10.244.1.210"}


def test_rule03_pending_pod_without_ip_never_appears():
    snapshot = seed_snapshot()
    pending = make_pod(
        "eureka-3", None, labels=EUREKA_LABELS, hostname="eureka-3", subdomain="eureka"
    )
    snapshot = replace(snapshot, pods=(*snapshot.pods, pending))
    assert is_nxdomain(dns(snapshot).answer(f"eureka-3.{svc('eureka')}", "A"))
    assert "no IP" in _eureka_explain(snapshot, "eureka-3")


def test_rule04_clusterip_services_get_hostnames_too():
    db = make_service("db", cluster_ip="10.96.0.9", ports=[("sql", 5432)])
    sl = make_slice("db", [make_endpoint("10.1.0.9", hostname="db-0", pod="db-0")])
    c = dns(build(services=[db], slices=[sl]))
    assert data(c.answer(f"db-0.{svc('db')}", "A")) == {"10.1.0.9"}


def test_rule04_hostname_needs_matching_subdomain():
    snapshot = seed_snapshot()
    pods = tuple(
        replace(p, subdomain="other") if p.name == "eureka-0" else p for p in snapshot.pods
    )
    assert "subdomain" in _eureka_explain(replace(snapshot, pods=pods), "eureka-0")


def test_rule05_ports_clusterip_from_service_headless_from_slice():
    sp = ServicePort(name="http", port=80, target_port=8080)
    slice_ = make_slice("web", [make_endpoint("10.1.0.1", hostname="a")], ports=[("http", 8080)])
    clusterip = dns(
        build(
            services=[Service(namespace="ms", name="web", cluster_ips=("10.96.0.7",), ports=(sp,))],
            slices=[slice_],
        )
    )
    headless = dns(
        build(
            services=[Service(namespace="ms", name="web", cluster_ips=("None",), ports=(sp,))],
            slices=[slice_],
        )
    )
    name = f"_http._tcp.{svc('web')}"
    assert srv(clusterip.answer(name, "SRV")) == {(0, 100, 80, svc("web"))}
    assert srv(headless.answer(name, "SRV")) == {(0, 100, 8080, f"a.{svc('web')}")}


def test_rule05_slice_without_ports_gives_addresses_but_no_srv():
    c = headless_web(make_endpoint("10.1.0.1", hostname="a"), ports=())
    assert data(c.answer(svc("web"), "A")) == {"10.1.0.1"}
    assert data(c.answer(f"a.{svc('web')}", "A")) == {"10.1.0.1"}
    assert is_nodata(c.answer(svc("web"), "SRV"))
    assert is_nxdomain(c.answer(f"_http._tcp.{svc('web')}", "SRV"))


RULE06_CASES = [
    pytest.param(make_endpoint("10.1.0.1", hostname="db-0"), {}, "db-0", id="hostname"),
    pytest.param(
        make_endpoint("10.1.0.1", hostname="db-0", pod="mypod"),
        {"endpoint_pod_names": True},
        "db-0",
        id="hostname-beats-pod-name",
    ),
    pytest.param(
        make_endpoint("10.1.0.1", pod="mypod"),
        {"endpoint_pod_names": True},
        "mypod",
        id="endpoint_pod_names",
    ),
    pytest.param(make_endpoint("10.1.0.1", pod="mypod"), {}, "10-1-0-1", id="pod-name-off"),
    pytest.param(
        make_endpoint("10.1.0.1", pod="p" * 63),
        {"endpoint_pod_names": True},
        "p" * 63,
        id="pod-name-63",
    ),
    pytest.param(
        make_endpoint("10.1.0.1", pod="p" * 64),
        {"endpoint_pod_names": True},
        "10-1-0-1",
        id="pod-name-64-too-long",
    ),
    pytest.param(make_endpoint("10.244.1.7"), {}, "10-244-1-7", id="ipv4-dashed"),
    pytest.param(make_endpoint("fd00:1::5"), {}, "fd00-1--5", id="ipv6-dashed"),
    pytest.param(make_endpoint("fd00:1::"), {}, "fd00-1--0", id="ipv6-trailing-dash"),
]


@pytest.mark.parametrize(("endpoint", "settings", "label"), RULE06_CASES)
def test_rule06_endpoint_name(endpoint: Endpoint, settings: dict[str, object], label: str):
    web = make_service("web")
    address = endpoint.addresses[0]
    family = ipaddress.ip_address(address).version
    sl = make_slice("web", [endpoint])
    c = dns(build(services=[web], slices=[sl]), **settings)
    qtype = "A" if family == 4 else "AAAA"
    assert data(c.answer(f"{label}.{svc('web')}", qtype)) == {address}
    assert data(c.answer(rev(address), "PTR")) == {f"{label}.{svc('web')}"}


def test_rule07_service_shape():
    services = [
        make_service("hl", cluster_ip="None"),
        make_service("np", cluster_ip="10.96.0.2", ports=[("http", 80)], type="NodePort"),
        make_service("lb", cluster_ip="10.96.0.3", ports=[("http", 80)], type="LoadBalancer"),
        make_service("ds", cluster_ip=["10.96.0.4", "fd00:96::4"], ports=[("http", 80)]),
    ]
    sl = make_slice("hl", [make_endpoint("10.1.0.1")])
    c = dns(build(services=services, slices=[sl]))
    assert data(c.answer(svc("hl"), "A")) == {"10.1.0.1"}
    assert data(c.answer(svc("np"), "A")) == {"10.96.0.2"}
    assert data(c.answer(svc("lb"), "A")) == {"10.96.0.3"}
    assert data(c.answer(svc("ds"), "A")) == {"10.96.0.4"}
    assert data(c.answer(svc("ds"), "AAAA")) == {"fd00:96::4"}


def test_rule08_absent_namespace_is_nxdomain():
    ghost = make_service("web", "ghost", cluster_ip="10.96.0.5", ports=[("http", 80)])
    c = dns(build(services=[ghost]))
    assert is_nxdomain(c.answer(svc("web", "ghost"), "A"))
    assert is_nxdomain(c.answer(f"ghost.svc.{Z}", "A"))


def test_rule08_namespaces_knob_hides_other_namespaces():
    c = seed_dns(namespaces=("default",))
    assert is_nxdomain(c.answer(svc("gateway"), "A"))
    assert is_nxdomain(c.answer(f"eureka-0.{svc('eureka')}", "A"))


def test_rule08_namespace_labels_hide_unmatched_namespaces():
    snapshot = replace(
        seed_snapshot(),
        namespaces=(Namespace(name="ms", labels=labels_of({"team": "b"})),),
    )
    selector = LabelSelector(match_labels=labels_of({"team": "a"}))
    assert is_nxdomain(dns(snapshot, namespace_labels=selector).answer(svc("gateway"), "A"))
    selector = LabelSelector(match_labels=labels_of({"team": "b"}))
    assert data(dns(snapshot, namespace_labels=selector).answer(svc("gateway"), "A")) == {
        "10.0.0.14"
    }


@pytest.mark.parametrize(
    ("name", "qtype", "expect"),
    [
        pytest.param(Z, "A", "nodata", id="apex"),
        pytest.param(f"svc.{Z}", "A", "nodata", id="svc"),
        pytest.param(f"pod.{Z}", "A", "nodata", id="pod"),
        pytest.param(f"ms.svc.{Z}", "A", "nodata", id="namespace"),
        pytest.param(svc("gateway"), "A", {"10.0.0.14"}, id="service"),
        pytest.param(f"eureka-0.{svc('eureka')}", "A", {"10.244.1.210"}, id="endpoint"),
        pytest.param(f"10-1-2-3.ms.pod.{Z}", "A", {"10.1.2.3"}, id="pod-address"),
        pytest.param(f"a.b.c.{svc('gateway')}", "A", "nxdomain", id="three-labels"),
        pytest.param(f"a.b.c.d.{svc('eureka')}", "A", "nxdomain", id="four-labels"),
        pytest.param(f"foo.{Z}", "A", "nxdomain", id="foo"),
        pytest.param(f"dns.{Z}", "A", "nxdomain", id="dns"),
        pytest.param(f"dns-version.{Z}", "A", "nxdomain", id="dns-version-A"),
        pytest.param(f"gateway.ms.foo.{Z}", "A", "nxdomain", id="not-svc-or-pod"),
    ],
)
def test_rule09_name_grammar(name: str, qtype: str, expect: object):
    ans = seed_dns().answer(name, qtype)
    if expect == "nodata":
        assert is_nodata(ans)
    elif expect == "nxdomain":
        assert is_nxdomain(ans)
    else:
        assert data(ans) == expect


def test_rule09_port_labels_without_underscore():
    c = seed_dns()
    with_ = srv(c.answer(f"_gateway._tcp.{svc('gateway')}", "SRV"))
    assert with_ == {(0, 100, 9999, svc("gateway"))}
    assert srv(c.answer(f"gateway.tcp.{svc('gateway')}", "SRV")) == with_
    assert srv(c.answer(f"_gateway.tcp.{svc('gateway')}", "SRV")) == with_


def test_rule10_case_insensitive():
    c = seed_dns()
    pairs = [
        ("EUREKA.Ms.SVC.Cluster.Local.", svc("eureka"), "A"),
        ("Eureka-0.EUREKA.ms.svc.cluster.LOCAL", f"eureka-0.{svc('eureka')}", "A"),
        ("_EUREKA._TCP.Eureka.ms.svc.cluster.local.", f"_eureka._tcp.{svc('eureka')}", "SRV"),
        ("GATEWAY.ms.svc.cluster.local.", svc("gateway"), "SRV"),
        ("10-1-2-3.MS.Pod.cluster.local.", f"10-1-2-3.ms.pod.{Z}", "A"),
    ]
    for upper, lower, qtype in pairs:
        a, b = c.answer(upper, qtype), c.answer(lower, qtype)
        assert a.answer, upper
        assert {r.key for r in a.answer} == {r.key for r in b.answer}
    # SRV targets are the object names, lower case.
    for *_, target in srv(c.answer("_EUREKA._TCP.Eureka.ms.svc.cluster.local.", "SRV")):
        assert target == target.lower()


@pytest.mark.parametrize(
    "name",
    [f"*.ms.svc.{Z}", f"any.ms.svc.{Z}", f"*.{svc('eureka')}", f"any.{svc('eureka')}"],
)
def test_rule11_wildcards_are_ordinary_labels(name: str):
    assert is_nxdomain(seed_dns().answer(name, "A"))


def test_rule11_a_service_named_any_is_just_a_service():
    snapshot = seed_snapshot()
    anysvc = make_service("any", cluster_ip="10.96.0.99", ports=[("http", 80)])
    c = dns(replace(snapshot, services=(*snapshot.services, anysvc)))
    assert data(c.answer(f"any.ms.svc.{Z}", "A")) == {"10.96.0.99"}


def test_rule12_clusterip_address_records():
    c = seed_dns()
    assert data(c.answer(svc("gateway"), "A")) == {"10.0.0.14"}
    assert is_nodata(c.answer(svc("gateway"), "AAAA"))
    # No slice at all: still answers (R12).
    assert data(c.answer(svc("mysql-production"), "A")) == {"10.0.0.251"}


def test_rule12_dual_stack_answers_both_families():
    ds = make_service("ds", cluster_ip=["fd00:96::4", "10.96.0.4"], ports=[("http", 80)])
    c = dns(build(services=[ds]))
    assert data(c.answer(svc("ds"), "A")) == {"10.96.0.4"}
    assert data(c.answer(svc("ds"), "AAAA")) == {"fd00:96::4"}


def test_rule12_seed_gateway_answers_only_its_cluster_ip():
    ans = seed_dns().answer("gateway.ms.svc.cluster.local", "A")
    assert data(ans) == {"10.0.0.14"}
    assert [r.data for r in ans.answer] == ["10.0.0.14"]


def test_rule13_named_port_srv_with_glue():
    c = seed_dns()
    ans = c.answer(f"_gateway._tcp.{svc('gateway')}", "SRV")
    assert srv(ans) == {(0, 100, 9999, svc("gateway"))}
    assert glue(ans) == {(svc("gateway"), "A", "10.0.0.14")}


@pytest.mark.parametrize("prefix", ["_gateway._udp", "_http._tcp", "_web._sctp"])
def test_rule13_no_such_port_is_nxdomain(prefix: str):
    assert is_nxdomain(seed_dns().answer(f"{prefix}.{svc('gateway')}", "SRV"))


def test_rule14_bare_name_srv_lists_every_port_including_unnamed():
    web = make_service("web", cluster_ip="10.96.0.7", ports=[("http", 80), ("", 9000)])
    ans = dns(build(services=[web])).answer(svc("web"), "SRV")
    assert srv(ans) == {(0, 50, 80, svc("web")), (0, 50, 9000, svc("web"))}
    single = make_service("one", cluster_ip="10.96.0.8", ports=[("", 80)])
    assert srv(dns(build(services=[single])).answer(svc("one"), "SRV")) == {
        (0, 100, 80, svc("one"))
    }


def test_rule15_endpoint_names_under_clusterip_services():
    c = seed_dns()
    assert data(c.answer(f"10-244-1-212.{svc('gateway')}", "A")) == {"10.244.1.212"}
    assert data(c.answer(svc("gateway"), "A")) == {"10.0.0.14"}
    assert is_nxdomain(c.answer(f"10-244-9-9.{svc('gateway')}", "A"))


def test_rule16_headless_answers_every_ready_address_deduplicated():
    web = make_service("web")
    s1 = make_slice("web", [make_endpoint("10.1.0.1"), make_endpoint("10.1.0.2")], name="w-1")
    s2 = make_slice("web", [make_endpoint("10.1.0.1"), make_endpoint("10.1.0.3")], name="w-2")
    ans = dns(build(services=[web], slices=[s1, s2])).answer(svc("web"), "A")
    assert sorted(r.data for r in ans.answer) == ["10.1.0.1", "10.1.0.2", "10.1.0.3"]


def test_rule16_seed_eureka_answers_the_three_pod_ips():
    ans = seed_dns().answer("eureka.ms.svc.cluster.local", "A")
    assert data(ans) == {"10.244.1.210", "10.244.2.45", "10.244.1.211"}
    assert len(ans.answer) == 3


# R16 says "every query type". CoreDNS's handler.go answers SOA below the apex
# with NODATA without looking the name up, so SOA is left out here (see rule 32).
@pytest.mark.parametrize("qtype", ["A", "AAAA", "SRV", "TXT", "MX", "CNAME", "NS", "PTR"])
def test_rule16_no_ready_address_is_nxdomain_for_every_type(qtype: str):
    web = make_service("web", ports=[("http", 80)])
    sl = make_slice("web", [make_endpoint("10.1.0.1", ready=False)], ports=[("http", 80)])
    ans = dns(build(services=[web], slices=[sl])).answer(svc("web"), qtype)
    assert is_nxdomain(ans)
    assert len(ans.authority) == 1
    assert ans.authority[0].type == "SOA"


def test_rule16_other_family_only_is_nodata():
    web = make_service("web")
    sl = make_slice("web", [make_endpoint("fd00:1::5")])
    c = dns(build(services=[web], slices=[sl]))
    assert is_nodata(c.answer(svc("web"), "A"))
    assert data(c.answer(svc("web"), "AAAA")) == {"fd00:1::5"}


def test_rule17_endpoint_names_shared_hostname_and_unknown():
    c = headless_web(
        make_endpoint("10.1.0.1", hostname="db"),
        make_endpoint("10.1.0.2", hostname="db"),
        make_endpoint("10.1.0.3", hostname="other"),
    )
    assert data(c.answer(f"db.{svc('web')}", "A")) == {"10.1.0.1", "10.1.0.2"}
    assert data(c.answer(f"other.{svc('web')}", "A")) == {"10.1.0.3"}
    assert is_nxdomain(c.answer(f"nobody.{svc('web')}", "A"))


def test_rule18_headless_srv_targets_endpoint_names_with_glue():
    c = headless_web(make_endpoint("10.1.0.1", hostname="a"), make_endpoint("10.1.0.2"))
    ans = c.answer(f"_http._tcp.{svc('web')}", "SRV")
    assert srv(ans) == {
        (0, 50, 8080, f"a.{svc('web')}"),
        (0, 50, 8080, f"10-1-0-2.{svc('web')}"),
    }
    assert glue(ans) == {
        (f"a.{svc('web')}", "A", "10.1.0.1"),
        (f"10-1-0-2.{svc('web')}", "A", "10.1.0.2"),
    }


def test_rule18_dual_stack_pod_collapses_into_one_record_with_two_glues():
    web = make_service("web")
    v4 = make_slice("web", [make_endpoint("10.1.0.1", hostname="a")], ports=[("http", 8080)])
    v6 = make_slice(
        "web",
        [make_endpoint("fd00:1::1", hostname="a")],
        ports=[("http", 8080)],
        name="web-v6",
    )
    ans = dns(build(services=[web], slices=[v4, v6])).answer(f"_http._tcp.{svc('web')}", "SRV")
    assert srv(ans) == {(0, 50, 8080, f"a.{svc('web')}")}
    assert glue(ans) == {
        (f"a.{svc('web')}", "A", "10.1.0.1"),
        (f"a.{svc('web')}", "AAAA", "fd00:1::1"),
    }


def test_rule18_bare_name_covers_all_slice_ports_and_no_candidate_is_nxdomain():
    c = headless_web(
        make_endpoint("10.1.0.1", hostname="a"), ports=[("http", 8080), ("metrics", 9090)]
    )
    assert srv(c.answer(svc("web"), "SRV")) == {
        (0, 50, 8080, f"a.{svc('web')}"),
        (0, 50, 9090, f"a.{svc('web')}"),
    }
    assert is_nxdomain(c.answer(f"_grpc._tcp.{svc('web')}", "SRV"))
    assert is_nxdomain(c.answer(f"_http._udp.{svc('web')}", "SRV"))


def test_rule19_one_clusterip_one_port_weight_100():
    assert srv(seed_dns().answer(svc("gateway"), "SRV")) == {(0, 100, 9999, svc("gateway"))}


def test_rule19_dual_stack_one_port_single_record_weight_50():
    ds = make_service("ds", cluster_ip=["10.96.0.4", "fd00:96::4"], ports=[("http", 80)])
    ans = dns(build(services=[ds])).answer(svc("ds"), "SRV")
    assert srv(ans) == {(0, 50, 80, svc("ds"))}
    assert len(ans.answer) == 1
    assert glue(ans) == {(svc("ds"), "A", "10.96.0.4"), (svc("ds"), "AAAA", "fd00:96::4")}


def test_rule19_six_addresses_two_share_a_hostname_five_records_weight_16():
    hosts = ["h0", "h1", "h2", "h3", "h4", "h4"]
    c = headless_web(*(make_endpoint(f"10.1.0.{i + 1}", hostname=h) for i, h in enumerate(hosts)))
    ans = c.answer(f"_http._tcp.{svc('web')}", "SRV")
    assert len(ans.answer) == 5
    assert {(p, w, port) for p, w, port, _ in srv(ans)} == {(0, 16, 8080)}
    assert len(ans.additional) == 6


def test_rule19_weight_is_at_least_one():
    c = headless_web(*(make_endpoint(f"10.1.{i // 250}.{i % 250 + 1}") for i in range(150)))
    weights = {w for _, w, _, _ in srv(c.answer(svc("web"), "SRV"))}
    assert weights == {1}


def test_rule20_port_names_answer_addresses():
    c = seed_dns()
    name = f"_gateway._tcp.{svc('gateway')}"
    ans = c.answer(name, "A")
    assert data(ans) == {"10.0.0.14"}
    assert {r.name for r in ans.answer} == {name}
    name = f"_eureka._tcp.{svc('eureka')}"
    ans = c.answer(name, "A")
    assert data(ans) == set(EUREKA_IPS.values())
    assert {r.name for r in ans.answer} == {name}


def test_rule21_statefulset_pods_and_hand_made_hostnames_are_the_same():
    snapshot = seed_snapshot()
    manual = make_pod(
        "manual-xyz", "10.244.3.3", labels=EUREKA_LABELS, hostname="manual", subdomain="eureka"
    )
    eureka_slice = snapshot.endpoint_slices[0]
    eureka_slice = replace(
        eureka_slice,
        endpoints=(
            *eureka_slice.endpoints,
            make_endpoint("10.244.3.3", hostname="manual", pod="manual-xyz"),
        ),
    )
    snapshot = replace(
        snapshot,
        pods=(*snapshot.pods, manual),
        endpoint_slices=(eureka_slice, *snapshot.endpoint_slices[1:]),
    )
    c = dns(snapshot)
    assert data(c.answer(f"manual.{svc('eureka')}", "A")) == {"10.244.3.3"}
    names = {e.record.name for e in expected_records(expectations(c, namespace="ms"))}
    assert f"manual.{svc('eureka')}" in names
    assert all(f"{pod}.{svc('eureka')}" in names for pod in EUREKA_IPS)


@pytest.mark.parametrize(("pod", "ip"), sorted(EUREKA_IPS.items()))
def test_rule22_seed_per_pod_names(pod: str, ip: str):
    ans = seed_dns().answer(f"{pod}.eureka.ms.svc.cluster.local", "A")
    assert data(ans) == {ip}


def test_rule22_seed_not_ready_pod_is_nxdomain_with_a_negative_expectation():
    c = dns(seed_snapshot(eureka_ready={"eureka-1": False}))
    name = f"eureka-1.{svc('eureka')}"
    assert is_nxdomain(c.answer(name, "A"))
    assert data(c.answer(svc("eureka"), "A")) == {"10.244.1.210", "10.244.1.211"}
    items = expectations(c, namespace="ms")
    negatives = {n.name: n for n in negative_expectations(items)}
    assert name in negatives
    assert "publishNotReadyAddresses" in negatives[name].reason
    assert name not in {e.record.name for e in expected_records(items)}


def test_rule22_srv_targets_use_the_per_pod_names():
    ans = seed_dns().answer(f"_eureka._tcp.{svc('eureka')}", "SRV")
    assert srv(ans) == {(0, 33, 8888, f"{pod}.{svc('eureka')}") for pod in EUREKA_IPS}
    assert glue(ans) == {(f"{pod}.{svc('eureka')}", "A", ip) for pod, ip in EUREKA_IPS.items()}


def test_rule22_dual_stack_pod_answers_each_family():
    web = make_service("db")
    v4 = make_slice("db", [make_endpoint("10.1.0.1", hostname="db-0")])
    v6 = make_slice("db", [make_endpoint("fd00::1", hostname="db-0")], name="db-v6")
    c = dns(build(services=[web], slices=[v4, v6]))
    assert data(c.answer(f"db-0.{svc('db')}", "A")) == {"10.1.0.1"}
    assert data(c.answer(f"db-0.{svc('db')}", "AAAA")) == {"fd00::1"}


def test_rule23_no_service_named_subdomain():
    pod = make_pod("x-0", "10.1.0.1", hostname="x-0", subdomain="nosvc")
    c = dns(build(pods=[pod]))
    assert is_nxdomain(c.answer(f"x-0.{svc('nosvc')}", "A"))
    assert is_nxdomain(c.answer(svc("nosvc"), "A"))
    link = first_broken(explain_name(c, f"x-0.{svc('nosvc')}"))
    assert link is not None
    assert link.check == "service"


def test_rule23_service_does_not_select_the_pod():
    snapshot = seed_snapshot()
    stray = make_pod(
        "stray", "10.244.3.9", labels={"app": "other"}, hostname="stray", subdomain="eureka"
    )
    c = dns(replace(snapshot, pods=(*snapshot.pods, stray)))
    name = f"stray.{svc('eureka')}"
    assert is_nxdomain(c.answer(name, "A"))
    negatives = {n.name: n for n in negative_expectations(expectations(c, namespace="ms"))}
    assert "does not select" in negatives[name].reason


def test_rule23_other_services_list_pods_under_dashed_ip_or_pod_name():
    # The slice of a Service that is not the pods' subdomain carries no hostname (R4).
    snapshot = seed_snapshot()
    other = make_service("eureka-lb", cluster_ip="10.96.0.50", selector=EUREKA_LABELS)
    sl = make_slice("eureka-lb", [make_endpoint(ip, pod=name) for name, ip in EUREKA_IPS.items()])
    snapshot = replace(
        snapshot,
        services=(*snapshot.services, other),
        endpoint_slices=(*snapshot.endpoint_slices, sl),
    )
    c = dns(snapshot)
    assert is_nxdomain(c.answer(f"eureka-0.{svc('eureka-lb')}", "A"))
    assert data(c.answer(f"10-244-1-210.{svc('eureka-lb')}", "A")) == {"10.244.1.210"}
    with_names = dns(snapshot, endpoint_pod_names=True)
    assert data(with_names.answer(f"eureka-0.{svc('eureka-lb')}", "A")) == {"10.244.1.210"}
    # The governing Service keeps the hostname.
    assert data(c.answer(f"eureka-0.{svc('eureka')}", "A")) == {"10.244.1.210"}


def test_rule23_empty_service_name_means_no_per_pod_names():
    db = make_service("db")
    sl = make_slice("db", [make_endpoint("10.1.0.1", pod="db-0")])
    pod = make_pod("db-0", "10.1.0.1", hostname="db-0")  # subdomain empty
    c = dns(build(services=[db], slices=[sl], pods=[pod]))
    assert is_nxdomain(c.answer(f"db-0.{svc('db')}", "A"))
    assert data(c.answer(f"10-1-0-1.{svc('db')}", "A")) == {"10.1.0.1"}


def test_rule23_clusterip_governing_service_serves_per_pod_names():
    db = make_service("db", cluster_ip="10.96.0.9", ports=[("sql", 5432)])
    sl = make_slice("db", [make_endpoint("10.1.0.1", hostname="db-0", pod="db-0")])
    c = dns(build(services=[db], slices=[sl]))
    assert data(c.answer(f"db-0.{svc('db')}", "A")) == {"10.1.0.1"}
    assert data(c.answer(svc("db"), "A")) == {"10.96.0.9"}


def test_rule23_shared_hostname_answers_all():
    c = headless_web(
        make_endpoint("10.1.0.1", hostname="same"), make_endpoint("10.1.0.2", hostname="same")
    )
    assert data(c.answer(f"same.{svc('web')}", "A")) == {"10.1.0.1", "10.1.0.2"}


def _external(target: str, name: str = "ext") -> ClusterDns:
    snapshot = seed_snapshot()
    ext = make_service(name, type="ExternalName", external_name=target)
    return dns(replace(snapshot, services=(*snapshot.services, ext)))


@pytest.mark.parametrize("target", ["my.database.example.com", "my.database.example.com."])
def test_rule24_externalname_cname(target: str):
    ans = _external(target).answer(svc("ext"), "CNAME")
    assert [(r.type, r.data.lower(), r.ttl) for r in ans.answer] == [
        ("CNAME", "my.database.example.com.", 30)
    ]


def test_rule25_in_zone_target_resolved_by_the_plugin():
    c = _external("gateway.ms.svc.cluster.local")
    ans = c.answer(svc("ext"), "A")
    assert {(r.name, r.type, r.data) for r in ans.answer} == {
        (svc("ext"), "CNAME", svc("gateway")),
        (svc("gateway"), "A", "10.0.0.14"),
    }
    assert ans.answer[0].type == "CNAME"  # the CNAME first
    # No record of the asked type: NODATA, without the CNAME.
    assert is_nodata(c.answer(svc("ext"), "AAAA"))


def test_rule25_in_zone_target_that_does_not_exist_is_nodata():
    assert is_nodata(_external("nothing.ms.svc.cluster.local").answer(svc("ext"), "A"))


def test_rule25_outside_target_cname_present_and_open_ended():
    ans = _external("my.database.example.com").answer(svc("ext"), "A")
    assert ("CNAME", "my.database.example.com.") in {(r.type, r.data) for r in ans.answer}
    assert ans.open_ended


@pytest.mark.parametrize("qtype", ["SRV", "TXT", "MX"])
def test_rule25_other_types_are_nodata(qtype: str):
    assert is_nodata(_external("my.database.example.com").answer(svc("ext"), qtype))


@pytest.mark.parametrize("prefix", ["x", "_p._tcp", "_http._tcp"])
def test_rule25_names_below_externalname_are_nxdomain(prefix: str):
    ans = _external("my.database.example.com").answer(f"{prefix}.{svc('ext')}", "A")
    assert is_nxdomain(ans)


@pytest.mark.parametrize("target", ["1.2.3.4", "2001:db8::1"])
@pytest.mark.parametrize("qtype", ["A", "AAAA", "CNAME", "SRV", "TXT"])
def test_rule26_externalname_ip_is_nxdomain(target: str, qtype: str):
    assert is_nxdomain(_external(target).answer(svc("ext"), qtype))


@pytest.mark.parametrize("ttl", [5, 30, 3600])
def test_rule27_dns_version(ttl: int):
    c = seed_dns(ttl=ttl)
    ans = c.answer(f"dns-version.{Z}", "TXT")
    assert [(r.type, r.data.strip('"'), r.ttl) for r in ans.answer] == [("TXT", "1.1.0", 28800)]


@pytest.mark.parametrize(
    ("name", "qtype"),
    [
        (f"dns-version.{Z}", "A"),
        (f"dns-version.{Z}", "AAAA"),
        (f"dns-version.{Z}", "SRV"),
        (f"dns-schema-version.{Z}", "TXT"),
    ],
)
def test_rule27_nothing_else_at_dns_version(name: str, qtype: str):
    assert is_nxdomain(seed_dns().answer(name, qtype))


def test_rule28_pods_disabled():
    c = seed_dns(pods=PodsMode.DISABLED)
    assert is_nxdomain(c.answer(f"10-244-1-210.ms.pod.{Z}", "A"))
    assert is_nxdomain(c.answer(f"ms.pod.{Z}", "A"))
    assert is_nodata(c.answer(f"pod.{Z}", "A"))


@pytest.mark.parametrize(
    ("label", "a", "aaaa"),
    [
        pytest.param("10-1-2-3", {"10.1.2.3"}, "nodata", id="ipv4"),
        pytest.param("fd00-1--5", "nodata", {"fd00:1::5"}, id="ipv6-three-dashes-with-double"),
        pytest.param("2001-db8-0-0-0-0-0-1", "nodata", {"2001:db8::1"}, id="ipv6-long"),
        pytest.param("fd00-1-2-3", "nxdomain", "nxdomain", id="three-dashes-is-ipv4"),
        pytest.param("1-2-3-4-5", "nxdomain", "nxdomain", id="five-groups"),
        pytest.param("not-an-ip", "nxdomain", "nxdomain", id="not-an-ip"),
    ],
)
def test_rule29_pods_insecure_decoding(label: str, a: object, aaaa: object):
    c = dns(build())  # no pods at all: insecure does no pod lookup
    for qtype, expect in (("A", a), ("AAAA", aaaa)):
        ans = c.answer(f"{label}.ms.pod.{Z}", qtype)
        if expect == "nodata":
            assert is_nodata(ans), qtype
        elif expect == "nxdomain":
            assert is_nxdomain(ans), qtype
        else:
            assert data(ans) == expect


def test_rule29_needs_an_existing_namespace():
    assert is_nxdomain(dns(build()).answer(f"10-1-2-3.ghost.pod.{Z}", "A"))


def test_rule30_pods_verified():
    pods = [
        make_pod("web", "10.1.0.1"),
        make_pod("done", "10.1.0.2", phase="Succeeded"),
        make_pod("lost", "10.1.0.3", phase="Unknown"),
        make_pod("elsewhere", "10.1.0.4", namespace="default"),
        Pod(namespace="ms", name="ds", pod_ips=("10.1.0.5", "fd00::5")),
    ]
    c = dns(build(pods=pods), pods=PodsMode.VERIFIED)
    assert data(c.answer(f"10-1-0-1.ms.pod.{Z}", "A")) == {"10.1.0.1"}
    assert is_nxdomain(c.answer(f"10-1-0-2.ms.pod.{Z}", "A"))
    assert is_nxdomain(c.answer(f"10-1-0-3.ms.pod.{Z}", "A"))
    assert is_nxdomain(c.answer(f"10-1-0-4.ms.pod.{Z}", "A"))
    assert is_nxdomain(c.answer(f"10-1-0-9.ms.pod.{Z}", "A"))
    assert data(c.answer(f"10-1-0-5.ms.pod.{Z}", "A")) == {"10.1.0.5"}
    # Only the primary status.podIP is indexed.
    assert is_nxdomain(c.answer(f"fd00--5.ms.pod.{Z}", "AAAA"))


def test_rule30_verified_compares_the_decoded_label_as_written():
    # CoreDNS compares the decoded label with status.podIP as strings: the same
    # address spelled without compression finds no pod.
    c = dns(build(pods=[make_pod("v6", "fd00:1::5")]), pods=PodsMode.VERIFIED)
    assert data(c.answer(f"fd00-1--5.ms.pod.{Z}", "AAAA")) == {"fd00:1::5"}
    assert is_nxdomain(c.answer(f"fd00-1-0-0-0-0-0-5.ms.pod.{Z}", "AAAA"))


@pytest.mark.parametrize("prefix", ["a.", "a.b.", "_x._tcp."])
def test_rule31_extra_labels_left_of_pod_address_are_ignored(prefix: str):
    ans = seed_dns().answer(f"{prefix}10-1-2-3.ms.pod.{Z}", "A")
    assert data(ans) == {"10.1.2.3"}


def test_rule31_three_extra_labels_are_too_long():
    # R9 ("three or more labels ... NXDOMAIN"); CoreDNS parse.go rejects them for pods too.
    assert is_nxdomain(seed_dns().answer(f"a.b.c.10-1-2-3.ms.pod.{Z}", "A"))


def test_rule32_apex_soa_and_ns():
    c = seed_dns()
    soa = c.answer(Z, "SOA")
    assert [r.type for r in soa.answer] == ["SOA"]
    assert soa.answer[0].data.split()[:2] == [f"ns.dns.{Z}", f"hostmaster.{Z}"]
    assert data(c.answer(Z, "NS")) == {f"ns.dns.{Z}"}


def test_rule32_apex_ns_is_kube_dns_with_glue_when_found():
    snapshot = seed_snapshot()
    kube_dns = make_service(
        "kube-dns", "kube-system", cluster_ip="10.96.0.10", ports=[("dns", 53, "UDP")]
    )
    c = dns(replace(snapshot, services=(*snapshot.services, kube_dns)))
    ans = c.answer(Z, "NS")
    target = f"kube-dns.kube-system.svc.{Z}"
    assert data(ans) == {target}
    assert glue(ans) == {(target, "A", "10.96.0.10")}


@pytest.mark.parametrize("name", [Z, f"svc.{Z}", f"pod.{Z}"])
@pytest.mark.parametrize("qtype", ["A", "AAAA", "SRV", "MX", "CNAME", "PTR", "TXT"])
def test_rule32_no_data_at_apex_svc_pod_except_txt(name: str, qtype: str):
    ans = seed_dns().answer(name, qtype)
    if qtype == "TXT":
        assert is_nxdomain(ans)
    else:
        assert is_nodata(ans)


@pytest.mark.parametrize("name", [svc("gateway"), f"ms.svc.{Z}", f"svc.{Z}"])
@pytest.mark.parametrize("qtype", ["SOA", "NS"])
def test_rule32_soa_ns_below_apex_is_nodata(name: str, qtype: str):
    assert is_nodata(seed_dns().answer(name, qtype))


def test_rule32_soa_below_apex_is_nodata_even_for_absent_names():
    # The rulebook says "NODATA (if the name exists)"; CoreDNS's handler.go answers
    # SOA only at the apex and never looks the name up otherwise, so every SOA
    # question below the apex is NODATA. We follow CoreDNS.
    c = seed_dns()
    assert is_nodata(c.answer(svc("nothing"), "SOA"))
    assert is_nodata(c.answer(f"foo.{Z}", "SOA"))
    # NS below the apex does the fake A lookup: NXDOMAIN for an absent name.
    assert is_nxdomain(c.answer(svc("nothing"), "NS"))


def test_rule33_namespace_names():
    c = seed_dns()
    assert is_nodata(c.answer(f"ms.svc.{Z}", "A"))
    assert is_nodata(c.answer(f"ms.pod.{Z}", "A"))
    assert is_nxdomain(c.answer(f"ghost.svc.{Z}", "A"))
    assert is_nxdomain(c.answer(f"ghost.pod.{Z}", "A"))
    assert is_nxdomain(c.answer(f"ms.svc.{Z}", "TXT"))
    assert is_nxdomain(c.answer(f"ms.pod.{Z}", "TXT"))
    assert is_nxdomain(seed_dns(pods=PodsMode.DISABLED).answer(f"ms.pod.{Z}", "A"))
    assert is_nxdomain(seed_dns(namespaces=("default",)).answer(f"ms.svc.{Z}", "A"))


def test_rule34_ptr_ipv4_and_full_ipv6():
    ds = make_service("ds", cluster_ip=["10.96.0.4", "fd00:96::4"], ports=[("http", 80)])
    c = dns(build(services=[ds]))
    assert data(c.answer(rev("10.96.0.4"), "PTR")) == {svc("ds")}
    name6 = rev("fd00:96::4")
    assert len(name6.split(".")) == 32 + 3  # 32 nibbles, ip6, arpa, root
    assert data(c.answer(name6, "PTR")) == {svc("ds")}
    # A partial reverse name holds no PTR.
    assert not c.answer("96.10.in-addr.arpa.", "PTR").answer


def test_rule34_only_reverse_zones_the_plugin_serves():
    zones = ("cluster.local.", "0.96.10.in-addr.arpa.")
    services = [
        make_service("in", cluster_ip="10.96.0.10", ports=[("dns", 53)]),
        make_service("out", cluster_ip="10.0.0.14", ports=[("http", 80)]),
    ]
    c = dns(build(services=services), zones=zones, fallthrough=())
    assert data(c.answer(rev("10.96.0.10"), "PTR")) == {svc("in")}
    outside = c.answer(rev("10.0.0.14"), "PTR")
    assert not outside.answer
    assert outside.open_ended  # another plugin answers it


def test_rule35_clusterip_ptr_wins_over_endpoints():
    web = make_service("web", cluster_ip="10.96.0.20", ports=[("http", 80)])
    raw = make_slice("raw", [make_endpoint("10.96.0.20", hostname="h")])
    c = dns(build(services=[web], slices=[raw]))
    ans = c.answer(rev("10.96.0.20"), "PTR")
    assert [r.data for r in ans.answer] == [svc("web")]


def test_rule35_ptr_targets_use_the_primary_zone():
    zones = ("in-addr.arpa.", "corp.example.", "cluster.local.")
    c = dns(seed_snapshot(), zones=zones)
    assert data(c.answer(rev("10.0.0.14"), "PTR")) == {"gateway.ms.svc.corp.example."}
    assert data(c.answer(rev("10.244.1.210"), "PTR")) == {"eureka-0.eureka.ms.svc.corp.example."}


def test_rule36_pod_behind_three_services_has_three_ptrs():
    ip = "10.244.1.212"
    services = [make_service(n, cluster_ip=f"10.96.0.{i}") for i, n in enumerate("abc", 1)]
    slices = [make_slice(n, [make_endpoint(ip, pod="p")]) for n in "abc"]
    c = dns(build(services=services, slices=slices))
    assert data(c.answer(rev(ip), "PTR")) == {f"10-244-1-212.{svc(n)}" for n in "abc"}


def test_rule36_endpoint_ptr_variants():
    services = [make_service("hl"), make_service("web", cluster_ip="10.96.0.1")]
    slices = [
        make_slice("hl", [make_endpoint("10.1.0.1", hostname="db-0")], name="hl-1"),
        # The same endpoint in a second slice of the same Service: merged.
        make_slice("hl", [make_endpoint("10.1.0.1", hostname="db-0")], name="hl-2"),
        make_slice("web", [make_endpoint("10.1.0.2")]),
        make_slice("orphan", [make_endpoint("10.1.0.3")]),
        make_slice("hl", [make_endpoint("10.1.0.4", ready=False)], name="hl-3"),
    ]
    c = dns(build(services=services, slices=slices))
    ans = c.answer(rev("10.1.0.1"), "PTR")
    assert [r.data for r in ans.answer] == [f"db-0.{svc('hl')}"]
    assert data(c.answer(rev("10.1.0.2"), "PTR")) == {f"10-1-0-2.{svc('web')}"}
    assert data(c.answer(rev("10.1.0.3"), "PTR")) == {f"10-1-0-3.{svc('orphan')}"}
    assert c.answer(rev("10.1.0.4"), "PTR").rcode is Rcode.NXDOMAIN


def test_rule36_seed_endpoint_ptr():
    assert data(seed_dns().answer(rev("10.244.1.210"), "PTR")) == {f"eureka-0.{svc('eureka')}"}


def test_rule37_ptr_absence():
    c = seed_dns()
    ans = c.answer(rev("192.0.2.1"), "PTR")
    assert ans.rcode is Rcode.NXDOMAIN
    assert [r.name for r in ans.authority] == ["in-addr.arpa."]
    assert [r.type for r in ans.authority] == ["SOA"]
    assert is_nodata(c.answer(svc("gateway"), "PTR"))
    assert is_nxdomain(c.answer(svc("nothing"), "PTR"))


def test_rule38_fallthrough_nxdomain_is_open_ended():
    ans = seed_dns().answer(rev("192.0.2.1"), "PTR")
    assert ans.rcode is Rcode.NXDOMAIN
    assert ans.open_ended
    assert not seed_dns(fallthrough=()).answer(rev("192.0.2.1"), "PTR").open_ended
    assert not seed_dns().answer(svc("nothing"), "A").open_ended
    assert seed_dns(fallthrough=(Z,)).answer(svc("nothing"), "A").open_ended


def _two_namespaces() -> Snapshot:
    services = [
        make_service("web", "ms", cluster_ip="10.96.0.1", ports=[("http", 80)]),
        make_service("web", "default", cluster_ip="10.96.0.2", ports=[("http", 80)]),
    ]
    slices = [
        make_slice("web", [make_endpoint("10.1.0.1")], namespace="ms"),
        make_slice("web", [make_endpoint("10.1.0.2")], namespace="default"),
    ]
    return build(
        services=services,
        slices=slices,
        namespaces=[
            Namespace(name="ms", labels=labels_of({"team": "a"})),
            Namespace(name="default"),
        ],
    )


def test_rule39_namespaces_filters_ptr():
    c = dns(_two_namespaces(), namespaces=("ms",), fallthrough=())
    assert data(c.answer(rev("10.96.0.1"), "PTR")) == {svc("web")}
    assert data(c.answer(rev("10.1.0.1"), "PTR")) == {f"10-1-0-1.{svc('web')}"}
    assert c.answer(rev("10.96.0.2"), "PTR").rcode is Rcode.NXDOMAIN
    assert c.answer(rev("10.1.0.2"), "PTR").rcode is Rcode.NXDOMAIN


def test_rule39_namespace_labels_alone_do_not_filter_ptr():
    selector = LabelSelector(match_labels=labels_of({"team": "a"}))
    c = dns(_two_namespaces(), namespace_labels=selector)
    assert is_nxdomain(c.answer(svc("web", "default"), "A"))
    assert data(c.answer(rev("10.96.0.2"), "PTR")) == {svc("web", "default")}
    assert data(c.answer(rev("10.1.0.2"), "PTR")) == {f"10-1-0-2.{svc('web', 'default')}"}


def test_rule40_ignore_empty_service():
    snapshot = seed_snapshot()
    ext = make_service("ext", type="ExternalName", external_name="example.com")
    snapshot = replace(snapshot, services=(*snapshot.services, ext))
    on = dns(snapshot, ignore_empty_service=True)
    # mysql-production has no slice at all.
    assert is_nxdomain(on.answer(svc("mysql-production"), "A"))
    assert is_nxdomain(on.answer(svc("mysql-production"), "SRV"))
    assert is_nxdomain(on.answer(f"_mysql._tcp.{svc('mysql-production')}", "SRV"))
    assert is_nxdomain(on.answer(f"10-1-0-1.{svc('mysql-production')}", "A"))
    assert data(on.answer(rev("10.0.0.251"), "PTR")) == {svc("mysql-production")}
    # Services with ready endpoints, headless and ExternalName Services are unaffected.
    assert data(on.answer(svc("gateway"), "A")) == {"10.0.0.14"}
    assert data(on.answer(svc("eureka"), "A")) == set(EUREKA_IPS.values())
    assert data(on.answer(svc("ext"), "CNAME")) == {"example.com."}
    # Off (the default): the empty Service answers.
    assert data(seed_dns().answer(svc("mysql-production"), "A")) == {"10.0.0.251"}


def test_rule41_noendpoints():
    c = seed_dns(noendpoints=True)
    assert is_nxdomain(c.answer(svc("eureka"), "A"))
    assert is_nxdomain(c.answer(f"eureka-0.{svc('eureka')}", "A"))
    assert is_nxdomain(c.answer(f"10-244-1-212.{svc('gateway')}", "A"))
    assert c.answer(rev("10.244.1.210"), "PTR").rcode is Rcode.NXDOMAIN
    assert data(c.answer(svc("gateway"), "A")) == {"10.0.0.14"}
    assert srv(c.answer(f"_gateway._tcp.{svc('gateway')}", "SRV")) == {
        (0, 100, 9999, svc("gateway"))
    }
    assert data(c.answer(rev("10.0.0.14"), "PTR")) == {svc("gateway")}


def _zonal_dns(**settings: object) -> ClusterDns:
    web = make_service("web")
    api = make_service("api", cluster_ip="10.96.0.5", ports=[("http", 80)])
    eps = [
        make_endpoint("10.1.0.1", zone="zone-a"),
        make_endpoint("10.1.0.2", zone="Zone-B"),
        make_endpoint("10.1.0.3", zone="zone-b"),
        make_endpoint("10.1.0.4", zone="eu.west.1"),
    ]
    slices = [
        make_slice("web", eps, ports=[("http", 8080)]),
        make_slice("api", [make_endpoint("10.1.0.9", zone="zone-a")]),
    ]
    return dns(build(services=[web, api], slices=slices), **settings)


def test_rule42_zonal_pin_and_prefer():
    c = _zonal_dns(zonal=True)
    web = svc("web")
    assert data(c.answer(f"zone-a.pin._zone.{web}", "A")) == {"10.1.0.1"}
    # Zone matching is case-insensitive (R10).
    assert data(c.answer(f"zone-b.pin._zone.{web}", "A")) == {"10.1.0.2", "10.1.0.3"}
    assert data(c.answer(f"zone-a.prefer._zone.{web}", "A")) == {"10.1.0.1"}
    everything = {"10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"}
    assert data(c.answer(f"zone-c.prefer._zone.{web}", "A")) == everything
    # Zone label values may contain dots (CoreDNS parse.go joins the labels).
    assert data(c.answer(f"eu.west.1.pin._zone.{web}", "A")) == {"10.1.0.4"}


@pytest.mark.parametrize("qtype", ["A", "AAAA", "SRV", "TXT"])
def test_rule42_zonal_pin_without_endpoints_is_nodata(qtype: str):
    # "NODATA if none" (R42); CoreDNS keeps that for TXT too (kubernetes.go Services).
    assert is_nodata(_zonal_dns(zonal=True).answer(f"zone-c.pin._zone.{svc('web')}", qtype))


def test_rule42_zonal_srv_uses_slice_ports():
    ans = _zonal_dns(zonal=True).answer(f"zone-b.pin._zone.{svc('web')}", "SRV")
    assert srv(ans) == {
        (0, 50, 8080, f"10-1-0-2.{svc('web')}"),
        (0, 50, 8080, f"10-1-0-3.{svc('web')}"),
    }
    assert glue(ans) == {
        (f"10-1-0-2.{svc('web')}", "A", "10.1.0.2"),
        (f"10-1-0-3.{svc('web')}", "A", "10.1.0.3"),
    }


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(f"zone-a.pin._zone.{svc('api')}", id="clusterip"),
        pytest.param(f"zone-a.pin._zone.{svc('ghost')}", id="no-service"),
        pytest.param(f"zone-a.florp._zone.{svc('web')}", id="unknown-directive"),
        pytest.param(f"zone-a.pin._zone.10-1-2-3.ms.pod.{Z}", id="pod"),
    ],
)
def test_rule42_zonal_nxdomain(name: str):
    assert is_nxdomain(_zonal_dns(zonal=True).answer(name, "A"))


def test_rule42_zonal_off_by_default():
    c = _zonal_dns()
    assert is_nxdomain(c.answer(f"zone-a.pin._zone.{svc('web')}", "A"))
    assert is_nxdomain(c.answer(f"zone-a.prefer._zone.{svc('web')}", "A"))


@pytest.mark.parametrize("ttl", [5, 30, 3600])
def test_rule43_ttl(ttl: int):
    snapshot = seed_snapshot()
    ext = make_service("ext", type="ExternalName", external_name="example.com")
    c = dns(replace(snapshot, services=(*snapshot.services, ext)), ttl=ttl)
    answers = [
        c.answer(svc("gateway"), "A"),
        c.answer(svc("eureka"), "A"),
        c.answer(f"eureka-0.{svc('eureka')}", "A"),
        c.answer(f"_eureka._tcp.{svc('eureka')}", "SRV"),
        c.answer(rev("10.0.0.14"), "PTR"),
        c.answer(svc("ext"), "CNAME"),
        c.answer(f"10-1-2-3.ms.pod.{Z}", "A"),
        c.answer(Z, "NS"),
    ]
    for ans in answers:
        assert ans.answer, ans.name
        assert {r.ttl for r in (*ans.answer, *ans.additional)} == {ttl}, ans.name
    assert {r.ttl for r in c.answer(f"dns-version.{Z}", "TXT").answer} == {28800}


@pytest.mark.parametrize(("ttl", "soa_ttl"), [(5, 5), (30, 30), (300, 300), (3600, 300)])
def test_rule44_negative_answers_carry_one_soa(ttl: int, soa_ttl: int):
    c = seed_dns(ttl=ttl)
    for ans in (c.answer(svc("nothing"), "A"), c.answer(svc("gateway"), "AAAA")):
        assert len(ans.authority) == 1
        soa = ans.authority[0]
        assert (soa.name, soa.type, soa.ttl) == (Z, "SOA", soa_ttl)
        mname, rname, _serial, *timers = soa.data.split()
        assert (mname, rname) == (f"ns.dns.{Z}", f"hostmaster.{Z}")
        assert [int(t) for t in timers] == [7200, 1800, 86400, ttl]
    assert c.answer(svc("gateway"), "A").authority == ()


@pytest.mark.parametrize("name", [Z, f"svc.{Z}", f"pod.{Z}", f"ms.svc.{Z}", f"ms.pod.{Z}"])
def test_rule45_txt_on_empty_existing_names_is_nxdomain(name: str):
    c = seed_dns()
    assert is_nxdomain(c.answer(name, "TXT"))
    assert is_nodata(c.answer(name, "A"))


@pytest.mark.parametrize(
    "name",
    [
        svc("gateway"),
        svc("eureka"),
        f"eureka-0.{svc('eureka')}",
        f"_eureka._tcp.{svc('eureka')}",
        f"10-1-2-3.ms.pod.{Z}",
    ],
)
def test_rule45_txt_on_service_or_endpoint_name_is_nodata(name: str):
    assert is_nodata(seed_dns().answer(name, "TXT"))


@pytest.mark.parametrize("qtype", ["CNAME", "MX", "HINFO", "NS", "PTR", "CAA"])
def test_rule46_other_types(qtype: str):
    c = seed_dns()
    assert is_nodata(c.answer(svc("gateway"), qtype))
    assert is_nodata(c.answer(f"eureka-0.{svc('eureka')}", qtype))
    assert is_nxdomain(c.answer(svc("nothing"), qtype))


@pytest.mark.parametrize("qtype", ["AXFR", "IXFR"])
def test_rule46_zone_transfers_are_refused(qtype: str):
    ans = seed_dns().answer(Z, qtype)
    assert ans.rcode is Rcode.REFUSED
    assert not ans.answer


def test_rule47_extras_only_srv_glue_and_apex_ns_glue():
    c = seed_dns()
    ans = c.answer(svc("eureka"), "SRV")
    # One glue record per (target, address) pair.
    assert glue(ans) == {(f"{pod}.{svc('eureka')}", "A", ip) for pod, ip in EUREKA_IPS.items()}
    assert len(ans.additional) == 3
    for name, qtype in [
        (svc("eureka"), "A"),
        (svc("gateway"), "A"),
        (f"eureka-0.{svc('eureka')}", "A"),
        (rev("10.0.0.14"), "PTR"),
        (f"dns-version.{Z}", "TXT"),
        (Z, "SOA"),
    ]:
        assert c.answer(name, qtype).additional == (), name


def test_rule47_provenance_matches_answer():
    c = seed_dns()
    for name, qtype in [(svc("eureka"), "A"), (svc("eureka"), "SRV"), (rev("10.0.0.14"), "PTR")]:
        ans = c.answer(name, qtype)
        assert len(ans.provenance) == len(ans.answer)
    refs = {p.source for p in c.answer(svc("eureka"), "A").provenance}
    assert refs == {pod_ref("ms", pod) for pod in EUREKA_IPS}


def test_settings_defaults_are_kubeadm():
    # dns-records.md section 1: DnsSettings() is kubeadm's Corefile.
    assert DnsSettings().ttl == 30
    assert DnsSettings().pods is PodsMode.INSECURE
    assert DnsSettings().fallthrough == ("in-addr.arpa.", "ip6.arpa.")
