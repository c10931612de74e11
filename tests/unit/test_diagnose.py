"""Findings (hsvc/core/diagnose.py): each code fires on its misconfiguration and stays silent on a near miss."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hsvc.adapters.convert import deployment_from_dict, pod_from_dict, statefulset_from_dict
from hsvc.adapters.manifests import read_manifests
from hsvc.core import transport
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import compare
from hsvc.core.diagnose import CHECKS, MAX_STATEFULSET_NAME, diagnose, has_errors
from hsvc.core.model import (
    Deployment,
    DnsSettings,
    Finding,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    ObjectRef,
    Observation,
    Pod,
    PodsMode,
    PolicyPort,
    PolicyRule,
    Rcode,
    Record,
    Service,
    ServicePort,
    Severity,
    Snapshot,
    StatefulSet,
    Transport,
    labels_of,
)
from hsvc.core.records import Expectation, Group
from tests.conftest import KUBEADM, make_endpoint, make_pod, make_service, make_slice

ROOT = Path(__file__).resolve().parent.parent.parent
DB = {"app": "db"}
NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


# --- a small world: StatefulSet db (3 pods) behind headless Service db in namespace ms ----------


def sts(
    name: str = "db",
    service: str = "db",
    *,
    replicas: int = 3,
    labels: dict[str, str] | None = None,
    policy: str = "OrderedReady",
    hardcoded: tuple[str, ...] = (),
) -> StatefulSet:
    labels = DB if labels is None else labels
    return StatefulSet(
        namespace="ms",
        name=name,
        service_name=service,
        replicas=replicas,
        selector=LabelSelector(match_labels=labels_of(labels)),
        template_labels=labels_of(labels),
        pod_management_policy=policy,
        hardcoded_names=hardcoded,
    )


def deploy(
    name: str = "api", *, hostname: str = "", subdomain: str = "", hardcoded: tuple[str, ...] = ()
) -> Deployment:
    return Deployment(
        namespace="ms",
        name=name,
        replicas=2,
        template_labels=labels_of({"app": name}),
        template_hostname=hostname,
        template_subdomain=subdomain,
        hardcoded_names=hardcoded,
    )


def db_service(**kwargs) -> Service:
    kwargs.setdefault("ports", [("sql", 5432)])
    kwargs.setdefault("selector", DB)
    return make_service("db", **kwargs)


IPS = ["10.1.0.10", "10.1.0.11", "10.1.0.12"]


def db_pods(*, ready: Iterable[bool] = (True, True, True), count: int = 3) -> list[Pod]:
    owner = ObjectRef(kind="StatefulSet", namespace="ms", name="db")
    return [
        replace(
            make_pod(f"db-{i}", IPS[i], labels=DB, hostname=f"db-{i}", subdomain="db", ready=r),
            owner=owner,
        )
        for i, r in zip(range(count), ready, strict=False)
    ]


def db_slice(pods: Iterable[Pod]) -> object:
    return make_slice(
        "db",
        [make_endpoint(p.pod_ips[0], hostname=p.hostname, pod=p.name, ready=p.ready) for p in pods],
        ports=[("sql", 5432)],
    )


@dataclass
class World:
    services: list[Service] = field(default_factory=lambda: [db_service()])
    stateful_sets: list[StatefulSet] = field(default_factory=lambda: [sts()])
    deployments: list[Deployment] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    slices: list = field(default_factory=list)
    namespaces: tuple[str, ...] = ("ms", "other")

    def snapshot(self) -> Snapshot:
        return Snapshot(
            namespaces=tuple(Namespace(name=n) for n in self.namespaces),
            services=tuple(self.services),
            endpoint_slices=tuple(self.slices),
            pods=tuple(self.pods),
            stateful_sets=tuple(self.stateful_sets),
            deployments=tuple(self.deployments),
        )


def observed_world(**kwargs) -> World:
    """The world as the API shows it: pods and their slice too."""
    pods = db_pods()
    world = World(pods=pods, slices=[db_slice(pods)])
    for key, value in kwargs.items():
        setattr(world, key, value)
    return world


def findings(
    world: World | Snapshot,
    settings: DnsSettings = KUBEADM,
    *,
    observed: bool = False,
    rows=(),
    now: datetime | None = None,
    namespace: str | None = None,
    layers=None,
) -> list[Finding]:
    snapshot = world.snapshot() if isinstance(world, World) else world
    return diagnose(
        ClusterDns(snapshot, settings),
        namespace=namespace,
        rows=rows,
        observed=observed,
        now=now,
        layers=layers,
    )


def codes(*args, **kwargs) -> set[str]:
    return {f.code for f in findings(*args, **kwargs)}


# --- rows for the 6xx checks ---------------------------------------------------------------------


def obs(server: str, name: str, rcode: Rcode, *ips: str, rtype: str = "A") -> Observation:
    answer = tuple(Record(name=name, type=rtype, ttl=30, data=ip) for ip in ips)
    return Observation(server=server, name=name, type=rtype, rcode=rcode, answer=answer)


def rows_for(world: World, name: str, observations: list[Observation], rtype: str = "A"):
    cluster = ClusterDns(world.snapshot(), KUBEADM)
    expected = cluster.answer(name, rtype)
    subject = (
        expected.provenance[0].source
        if expected.provenance
        else ObjectRef(kind="Name", namespace="", name=name)
    )
    return compare(
        [Expectation(group=Group.ENDPOINT, subject=subject, expected=expected)], observations
    )


DB1 = "db-1.db.ms.svc.cluster.local."


def recently_ready(seconds: int) -> World:
    world = observed_world()
    since = (NOW - timedelta(seconds=seconds)).isoformat()
    world.pods = [replace(p, ready_since=since) if p.name == "db-1" else p for p in world.pods]
    return world


# --- one case per code: a world that triggers it, and a near miss that must not -------------------


@dataclass(frozen=True)
class Case:
    code: str
    bad: Callable[[], list[Finding]]
    good: Callable[[], list[Finding]]


def _ns_db(namespace: str) -> Service:
    return replace(db_service(), namespace=namespace)


CASES = [
    # 1xx
    Case(
        "HSVC101",
        lambda: findings(World(stateful_sets=[sts(service="")])),
        lambda: findings(World()),
    ),
    Case(
        "HSVC102",
        lambda: findings(World(stateful_sets=[sts(service="db-headless")])),
        lambda: findings(World(stateful_sets=[sts(service="db")])),
    ),
    Case(
        "HSVC103",
        lambda: findings(World(services=[_ns_db("other")])),
        lambda: findings(World(services=[_ns_db("other"), db_service()])),
    ),
    Case(
        "HSVC104",
        lambda: findings(World(services=[db_service(cluster_ip="10.96.0.5")])),
        lambda: findings(World(services=[db_service(cluster_ip="None")])),
    ),
    Case(
        "HSVC105",
        lambda: findings(
            World(
                services=[make_service("db", type="ExternalName", external_name="db.example.com")]
            )
        ),
        lambda: findings(World()),
    ),
    Case(
        "HSVC106",
        lambda: findings(World(services=[db_service(selector={"app": "postgres"})])),
        # A selector that is a subset of the template labels matches.
        lambda: findings(World(stateful_sets=[sts(labels={"app": "db", "tier": "data"})])),
    ),
    Case(
        "HSVC107",
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("db-peers", selector=DB, ports=[("sql", 5432)]),
                ]
            )
        ),
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service(
                        "db-read", cluster_ip="10.96.0.8", selector=DB, ports=[("sql", 5432)]
                    ),
                ]
            )
        ),
    ),
    # 2xx
    Case(
        "HSVC201",
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("cache", selector={"app": "cache"}, ports=[("redis", 6379)]),
                ]
            )
        ),
        # Manifests: a Deployment template counts as the pods to come.
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("cache", selector={"app": "cache"}, ports=[("redis", 6379)]),
                ],
                deployments=[deploy("cache")],
            )
        ),
    ),
    Case(
        "HSVC202",
        lambda: findings(observed_world(slices=[]), observed=True),
        # Manifests carry no controller-made slices: no finding from them.
        lambda: findings(observed_world(slices=[]), observed=False),
    ),
    Case(
        "HSVC203",
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("ext", cluster_ip="10.96.0.9", ports=[("https", 443)]),
                ]
            )
        ),
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("ext", cluster_ip="10.96.0.9", ports=[("https", 443)]),
                ],
                slices=[make_slice("ext", [make_endpoint("192.0.2.1")], ports=[("https", 443)])],
            )
        ),
    ),
    Case(
        "HSVC204",
        lambda: findings(observed_world(pods=db_pods(ready=(True, False, True))), observed=True),
        lambda: findings(
            observed_world(
                pods=db_pods(ready=(True, False, True)),
                services=[db_service(publish_not_ready=True)],
            ),
            observed=True,
        ),
    ),
    Case(
        "HSVC205",
        lambda: findings(observed_world(pods=db_pods(ready=(False,), count=1)), observed=True),
        lambda: findings(
            observed_world(
                pods=db_pods(ready=(False,), count=1), stateful_sets=[sts(policy="Parallel")]
            ),
            observed=True,
        ),
    ),
    # 3xx
    Case(
        "HSVC301",
        lambda: findings(World(services=[db_service(ports=[("", 5432)])])),
        lambda: findings(World(services=[db_service(ports=[("sql", 5432)])])),
    ),
    Case(
        "HSVC302",
        lambda: findings(World(services=[db_service(ports=[("Sql_Port", 5432)])])),
        lambda: findings(World(services=[db_service(ports=[("sql-port", 5432)])])),
    ),
    Case(
        "HSVC303",
        lambda: findings(
            World(
                services=[db_service(), make_service("ext", ports=[("https", 443)])],
                slices=[make_slice("ext", [make_endpoint("192.0.2.1", hostname="a")])],
            )
        ),
        lambda: findings(
            World(
                services=[db_service(), make_service("ext", ports=[("https", 443)])],
                slices=[
                    make_slice(
                        "ext", [make_endpoint("192.0.2.1", hostname="a")], ports=[("https", 443)]
                    )
                ],
            )
        ),
    ),
    Case(
        "HSVC304",
        lambda: findings(
            World(
                services=[
                    replace(
                        db_service(), ports=(ServicePort(name="sql", port=5432, target_port=15432),)
                    )
                ]
            )
        ),
        lambda: findings(
            World(
                services=[
                    replace(
                        db_service(), ports=(ServicePort(name="sql", port=5432, target_port=5432),)
                    )
                ]
            )
        ),
    ),
    # 4xx
    Case(
        "HSVC401",
        lambda: findings(
            World(pods=[make_pod("w", "10.1.0.5", hostname="Web_0", subdomain="db", labels=DB)])
        ),
        lambda: findings(
            World(pods=[make_pod("w", "10.1.0.5", hostname="web-0", subdomain="db", labels=DB)])
        ),
    ),
    Case(
        "HSVC402",
        lambda: findings(World(stateful_sets=[sts(name="d" * (MAX_STATEFULSET_NAME + 1))])),
        lambda: findings(World(stateful_sets=[sts(name="d" * MAX_STATEFULSET_NAME)])),
    ),
    Case(
        "HSVC403",
        lambda: findings(World(pods=[make_pod("w", "10.1.0.5", hostname="w", subdomain="nosvc")])),
        lambda: findings(
            World(pods=[make_pod("w", "10.1.0.5", hostname="w", subdomain="db", labels=DB)])
        ),
    ),
    Case(
        "HSVC404",
        lambda: findings(
            World(
                pods=[
                    make_pod("a", "10.1.0.5", hostname="node", subdomain="db", labels=DB),
                    make_pod("b", "10.1.0.6", hostname="node", subdomain="db", labels=DB),
                ]
            )
        ),
        lambda: findings(
            World(
                pods=[
                    make_pod("a", "10.1.0.5", hostname="node-a", subdomain="db", labels=DB),
                    make_pod("b", "10.1.0.6", hostname="node-b", subdomain="db", labels=DB),
                ]
            )
        ),
    ),
    Case(
        "HSVC405",
        lambda: findings(World(deployments=[deploy(hostname="api")])),
        lambda: findings(World(deployments=[deploy()])),
    ),
    Case(
        "HSVC406",
        lambda: findings(World(deployments=[deploy(subdomain="db")])),
        lambda: findings(World(deployments=[deploy()])),
    ),
    Case(
        "HSVC407",
        lambda: findings(
            World(
                services=[db_service(), make_service("ext", ports=[("https", 443)])],
                slices=[make_slice("ext", [make_endpoint("192.0.2.1")], ports=[("https", 443)])],
            )
        ),
        lambda: findings(
            World(
                services=[db_service(), make_service("ext", ports=[("https", 443)])],
                slices=[
                    make_slice(
                        "ext",
                        [make_endpoint("192.0.2.1", hostname="ext-0")],
                        ports=[("https", 443)],
                    )
                ],
            )
        ),
    ),
    Case(
        "HSVC408",
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("old", type="ExternalName", external_name="192.0.2.7"),
                ]
            )
        ),
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("old", type="ExternalName", external_name="db.example.com"),
                ]
            )
        ),
    ),
    # 5xx
    Case(
        "HSVC501",
        lambda: findings(
            World(
                stateful_sets=[
                    sts(hardcoded=("jdbc:postgresql://db-0.db.ms.svc.cluster.local:5432/app",))
                ]
            ),
            replace(KUBEADM, zones=("corp.internal.", "in-addr.arpa.", "ip6.arpa.")),
        ),
        lambda: findings(
            World(
                stateful_sets=[
                    sts(hardcoded=("jdbc:postgresql://db-0.db.ms.svc.cluster.local:5432/app",))
                ]
            )
        ),
    ),
    Case(
        "HSVC502",
        lambda: findings(
            World(deployments=[deploy(hardcoded=("10-1-0-10.ms.pod.cluster.local",))]),
            replace(KUBEADM, pods=PodsMode.DISABLED),
        ),
        lambda: findings(
            World(deployments=[deploy(hardcoded=("10-1-0-10.ms.pod.cluster.local",))])
        ),
    ),
    Case(
        "HSVC503",
        lambda: findings(World(pods=[replace(make_pod("agent", "10.0.0.4"), host_network=True)])),
        lambda: findings(
            World(
                pods=[
                    replace(
                        make_pod("agent", "10.0.0.4"),
                        host_network=True,
                        dns_policy="ClusterFirstWithHostNet",
                    )
                ]
            )
        ),
    ),
    Case(
        "HSVC504",
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("web", cluster_ip="10.96.0.3", selector=DB, ports=[("http", 80)]),
                ]
            ),
            replace(KUBEADM, ignore_empty_service=True),
            observed=True,
        ),
        lambda: findings(
            World(
                services=[
                    db_service(),
                    make_service("web", cluster_ip="10.96.0.3", selector=DB, ports=[("http", 80)]),
                ]
            ),
            observed=True,
        ),
    ),
    Case(
        "HSVC505",
        lambda: findings(World(), replace(KUBEADM, noendpoints=True)),
        lambda: findings(World()),
    ),
    Case(
        "HSVC506",
        lambda: findings(World(), replace(KUBEADM, namespaces=("other",))),
        lambda: findings(World(), replace(KUBEADM, namespaces=("ms",))),
    ),
    # Portability: fires on a ClusterIP governing Service, silent on a headless one.
    Case(
        "HSVC507",
        lambda: findings(World(services=[db_service(cluster_ip="10.96.0.5")])),
        lambda: findings(World(services=[db_service(cluster_ip="None")])),
    ),
    Case(
        "HSVC508",
        lambda: findings(
            World(deployments=[deploy(hardcoded=("http://db.ms.svc.cluster.local",))])
        ),
        lambda: findings(World(deployments=[deploy(hardcoded=("http://db.ms.svc:8080",))])),
    ),
    # 6xx
    Case(
        "HSVC601",
        lambda: findings(
            recently_ready(10),
            rows=rows_for(recently_ready(10), DB1, [obs("a", DB1, Rcode.NXDOMAIN)]),
            now=NOW,
        ),
        # Ready for ten minutes: the negative cache cannot explain it.
        lambda: findings(
            recently_ready(600),
            rows=rows_for(recently_ready(600), DB1, [obs("a", DB1, Rcode.NXDOMAIN)]),
            now=NOW,
        ),
    ),
    Case(
        "HSVC602",
        lambda: findings(
            observed_world(),
            rows=rows_for(
                observed_world(),
                DB1,
                [obs("a", DB1, Rcode.NOERROR, IPS[1]), obs("b", DB1, Rcode.NXDOMAIN)],
            ),
        ),
        lambda: findings(
            observed_world(),
            rows=rows_for(
                observed_world(),
                DB1,
                [obs("a", DB1, Rcode.NOERROR, IPS[1]), obs("b", DB1, Rcode.NOERROR, IPS[1])],
            ),
        ),
    ),
    Case(
        "HSVC603",
        lambda: findings(
            observed_world(),
            rows=rows_for(observed_world(), DB1, [obs("a", DB1, Rcode.NOERROR, "10.1.9.99")]),
        ),
        # An address some current pod has is wrong, not stale.
        lambda: findings(
            observed_world(),
            rows=rows_for(observed_world(), DB1, [obs("a", DB1, Rcode.NOERROR, IPS[2])]),
        ),
    ),
]


def test_portability_finding_names_the_service_and_the_fix() -> None:
    (f,) = [
        f
        for f in findings(World(services=[db_service(cluster_ip="10.96.0.5")]))
        if f.code == "HSVC507"
    ]
    assert "ClusterIP Service ms/db" in f.message and "kube-dns" in f.message
    assert "clusterIP: None" in f.hint


# --- 8xx: the resolver path and transport --------------------------------------------------------

KUBE_DNS = {"k8s-app": "kube-dns"}


def dns_world(*, tcp: bool = True, policies=(), pods=()) -> Snapshot:
    """The cluster DNS Service in kube-system (UDP 53, TCP 53 unless ``tcp`` is off)."""
    ports = [("dns", 53, "UDP")] + ([("dns-tcp", 53, "TCP")] if tcp else [])
    kube_dns = make_service(
        "kube-dns", "kube-system", cluster_ip="10.96.0.10", ports=ports, selector=KUBE_DNS
    )
    return Snapshot(
        namespaces=(Namespace(name="ms"), Namespace(name="kube-system")),
        services=(db_service(), kube_dns),
        pods=tuple(pods),
        network_policies=tuple(policies),
    )


def dns_policy(*ports: tuple[str, int], direction: str = "egress") -> NetworkPolicy:
    rule = PolicyRule(ports=tuple(PolicyPort(protocol=proto, port=port) for proto, port in ports))
    if direction == "egress":
        return NetworkPolicy(
            namespace="ms",
            name="allow-dns",
            pod_selector=LabelSelector(match_labels=labels_of(DB)),
            policy_types=("Egress",),
            egress=(rule,),
        )
    return NetworkPolicy(
        namespace="kube-system",
        name="dns-ingress",
        pod_selector=LabelSelector(match_labels=labels_of(KUBE_DNS)),
        policy_types=("Ingress",),
        ingress=(rule,),
    )


def sized(name: str, size: int, *, truncated: bool = False, tcp_failed: bool = False):
    base = obs("coredns-a", name, Rcode.NOERROR, *IPS)
    return replace(
        base,
        size=size,
        truncated=truncated,
        too_large=tcp_failed,
        error="answer truncated over UDP and TCP failed: connection refused" if tcp_failed else "",
    )


DB_ALL = "db.ms.svc.cluster.local."


def size_rows(*observations: Observation):
    return rows_for(observed_world(), DB_ALL, list(observations))


def layered_rows(node_local_ips: tuple[str, ...]):
    world = observed_world()
    return rows_for(
        world,
        DB1,
        [
            obs("coredns-a", DB1, Rcode.NOERROR, IPS[1]),
            obs("nl-n1", DB1, Rcode.NOERROR, *node_local_ips),
        ],
    )


LAYERS = {"coredns-a": "CoreDNS replica coredns-a", "nl-n1": "node-local on node n1"}

CASES.extend(
    [
        Case(
            "HSVC801",
            lambda: findings(dns_world(tcp=False)),
            lambda: findings(dns_world()),
        ),
        Case(
            "HSVC802",
            lambda: findings(dns_world(policies=[dns_policy(("UDP", 53))], pods=db_pods())),
            lambda: findings(
                dns_world(policies=[dns_policy(("UDP", 53), ("TCP", 53))], pods=db_pods())
            ),
        ),
        Case(
            "HSVC803",
            lambda: findings(observed_world(), rows=size_rows(sized(DB_ALL, 700))),
            lambda: findings(observed_world(), rows=size_rows(sized(DB_ALL, 400))),
        ),
        Case(
            "HSVC804",
            lambda: findings(observed_world(), rows=size_rows(sized(DB_ALL, 1500, truncated=True))),
            lambda: findings(observed_world(), rows=size_rows(sized(DB_ALL, 1000))),
        ),
        Case(
            "HSVC805",
            lambda: findings(
                observed_world(),
                rows=size_rows(sized(DB_ALL, 1500, truncated=True, tcp_failed=True)),
            ),
            lambda: findings(observed_world(), rows=size_rows(sized(DB_ALL, 1500, truncated=True))),
        ),
        Case(
            "HSVC806",
            lambda: findings(observed_world(), rows=layered_rows(("10.1.9.99",)), layers=LAYERS),
            lambda: findings(observed_world(), rows=layered_rows((IPS[1],)), layers=LAYERS),
        ),
        Case(
            "HSVC807",
            lambda: findings(dns_world(policies=[dns_policy(("TCP", 443))], pods=db_pods())),
            lambda: findings(
                dns_world(
                    policies=[dns_policy(("TCP", 443), ("UDP", 53), ("TCP", 53))], pods=db_pods()
                )
            ),
        ),
    ]
)


def test_udp_only_policy_names_the_object_and_the_fix() -> None:
    (f,) = [
        f
        for f in findings(dns_world(policies=[dns_policy(("UDP", 53))], pods=db_pods()))
        if f.code == "HSVC802"
    ]
    assert str(f.object) == "NetworkPolicy ms/allow-dns" and "UDP 53 but not TCP 53" in f.message
    assert "protocol: TCP, port: 53" in f.hint
    # The same for ingress to the DNS pods.
    (g,) = [
        f
        for f in findings(dns_world(policies=[dns_policy(("UDP", 53), direction="ingress")]))
        if f.code == "HSVC802"
    ]
    assert str(g.object) == "NetworkPolicy kube-system/dns-ingress"
    # A rule without ports allows everything.
    open_policy = replace(dns_policy(), egress=(PolicyRule(),))
    assert "HSVC802" not in codes(dns_world(policies=[open_policy], pods=db_pods()))


def _policy_codes(policies, *, dns_port: int = 53) -> dict[str, list[tuple[str, str, str]]]:
    dns = transport.DnsPods(namespace="kube-system", labels=labels_of(KUBE_DNS))
    found = transport.network_policies(policies, db_pods(), dns, dns_port)
    out: dict[str, list[tuple[str, str, str]]] = {}
    for code, obj, message, hint in found:
        out.setdefault(code, []).append((obj.name, message, hint))
    return out


def test_policies_add_up_udp_in_one_and_tcp_in_another_is_fine() -> None:
    udp = dns_policy(("UDP", 53))
    tcp = replace(dns_policy(("TCP", 53)), name="allow-dns-tcp")
    assert _policy_codes([udp, tcp]) == {}
    # Alone, each falls short: UDP only is HSVC802, TCP only blocks UDP DNS (HSVC807).
    assert set(_policy_codes([udp])) == {"HSVC802"}
    assert set(_policy_codes([tcp])) == {"HSVC807"}


def test_the_dns_pods_real_port_must_be_allowed_too() -> None:
    """OpenShift's DNS pods listen on 5353: egress is checked there after the Service's DNAT."""
    only_53 = dns_policy(("UDP", 53), ("TCP", 53))
    found = _policy_codes([only_53], dns_port=5353)
    ((name, message, hint),) = found["HSVC807"]
    assert name == "allow-dns" and "port 5353 (the DNS pods' port)" in message
    assert "'- protocol: UDP, port: 5353' and '- protocol: TCP, port: 5353'" in hint
    udp_5353 = dns_policy(("UDP", 53), ("TCP", 53), ("UDP", 5353))
    ((_, message, hint),) = _policy_codes([udp_5353], dns_port=5353)["HSVC802"]
    assert "UDP 5353 (the DNS pods' port) but not TCP 5353" in message
    assert "'- protocol: TCP, port: 5353'" in hint
    every = dns_policy(("UDP", 53), ("TCP", 53), ("UDP", 5353), ("TCP", 5353))
    assert _policy_codes([every], dns_port=5353) == {}


def test_an_egress_policy_without_rules_blocks_dns_and_ingress_needs_the_pod_port() -> None:
    deny_all = replace(dns_policy(), egress=())
    ((name, message, _),) = _policy_codes([deny_all])["HSVC807"]
    assert name == "allow-dns" and "neither UDP nor TCP on port 53" in message
    # Ingress to the DNS pods is checked on the port they listen on.
    ingress_53 = dns_policy(("UDP", 53), ("TCP", 53), direction="ingress")
    ((name, message, hint),) = _policy_codes([ingress_53], dns_port=5353)["HSVC807"]
    assert name == "dns-ingress" and "ingress to the DNS pods" in message
    assert "to an ingress rule of kube-system/dns-ingress" in hint
    assert _policy_codes([ingress_53]) == {}


def test_offline_the_dns_port_is_the_services_target_port() -> None:
    svc = make_service(
        "kube-dns", "kube-system", cluster_ip="10.96.0.10", ports=[("dns", 53, "UDP")]
    )
    assert transport.target_port(svc) == 53
    ported = replace(svc, ports=(replace(svc.ports[0], target_port=5353),))
    assert transport.target_port(ported) == 5353
    assert transport.target_port(None) == 53


def test_missing_tcp_53_names_the_service_and_the_fix() -> None:
    (f,) = [f for f in findings(dns_world(tcp=False)) if f.code == "HSVC801"]
    assert str(f.object) == "Service kube-system/kube-dns" and "TCP" in f.hint


def test_tcp_only_answer_names_musl_looking_pods() -> None:
    world = observed_world()
    world.pods = [replace(p, images=("alpine:3.19",)) for p in world.pods]
    (f,) = [
        f
        for f in findings(world, rows=size_rows(sized(DB_ALL, 1500, truncated=True)))
        if f.code == "HSVC804"
    ]
    assert "db-0 (alpine:3.19)" in f.message and "1500 bytes" in f.message


def _size_findings(transport: Transport, size: int = 700) -> list:
    carried = replace(sized(DB_ALL, size), transport=transport)
    return [
        f
        for f in findings(observed_world(), rows=size_rows(carried))
        if f.code in ("HSVC803", "HSVC804", "HSVC805")
    ]


def test_truncation_without_edns_is_measured_not_inferred() -> None:
    """The TC bit of the UDP answer without EDNS decides HSVC803, not the size."""
    whole = Transport(edns_size=700, plain_size=480, plain_truncated=False)
    assert _size_findings(whole) == []  # a server that fit it in 512 bytes: nothing to flag
    cut = Transport(edns_size=700, plain_size=45, plain_truncated=True, tcp_size=700)
    (f,) = _size_findings(cut)
    assert f.code == "HSVC803" and "only works over TCP" in f.message
    assert "without EDNS truncated (TC) at 45 bytes" in f.message
    assert "over TCP 700 bytes" in f.message
    # Nothing came back without EDNS: nothing measured, no guess either.
    assert _size_findings(Transport(edns_size=700, plain_error="no response within 1s")) == []


def test_a_tcp_only_server_infers_from_the_size_and_says_so() -> None:
    (f,) = _size_findings(Transport(tcp_size=700))
    assert f.code == "HSVC803" and "port-forward carries no UDP" in f.message


def test_tcp_refused_after_truncation_without_edns_is_hsvc805() -> None:
    cut = Transport(
        edns_size=700, plain_size=45, plain_truncated=True, tcp_error="connection refused"
    )
    by_code = {f.code: f for f in _size_findings(cut)}
    assert set(by_code) == {"HSVC803", "HSVC805"}
    assert "(connection refused)" in by_code["HSVC805"].message
    assert "over TCP no answer (connection refused)" in by_code["HSVC803"].message
    # A server that answered SERVFAIL over TCP did answer: not HSVC805.
    servfail = replace(cut, tcp_error="server answered SERVFAIL")
    assert {f.code for f in _size_findings(servfail)} == {"HSVC803"}


def test_stale_node_local_answer_is_attributed_to_node_local() -> None:
    (f,) = [
        f
        for f in findings(observed_world(), rows=layered_rows(("10.1.9.99",)), layers=LAYERS)
        if f.code == "HSVC806"
    ]
    assert f.message.startswith("node-local on node n1 holds a stale answer")
    assert "CoreDNS replica coredns-a says" in f.message and "NodeLocal" in f.hint


def test_every_code_has_a_case() -> None:
    # 7xx (reference) codes have theirs in test_references.py.
    assert [c.code for c in CASES] == sorted(c for c in CHECKS if not c.startswith("HSVC7"))


@pytest.mark.parametrize("case", CASES, ids=[c.code for c in CASES])
def test_finding_fires_on_its_misconfiguration(case: Case) -> None:
    found = [f for f in case.bad() if f.code == case.code]
    assert found, case.code
    for f in found:
        assert f.severity is CHECKS[case.code].severity
        assert f.rules == CHECKS[case.code].rules
        assert f.message and "\n" not in f.message and f.hint


@pytest.mark.parametrize("case", CASES, ids=[c.code for c in CASES])
def test_finding_stays_silent_on_the_near_miss(case: Case) -> None:
    assert case.code not in {f.code for f in case.good()}


@pytest.mark.parametrize("observed", [False, True], ids=["manifests", "observed"])
def test_healthy_world_has_no_findings(observed: bool) -> None:
    assert findings(observed_world(), observed=observed) == []


# --- details ---------------------------------------------------------------------------------------


def test_missing_governing_service_suggests_the_headless_one_that_selects_the_pods() -> None:
    (f,) = [
        f
        for f in findings(World(stateful_sets=[sts(service="db-headless")]))
        if f.code == "HSVC102"
    ]
    assert f.object == ObjectRef(kind="StatefulSet", namespace="ms", name="db")
    assert "'db'" in f.hint and "immutable" in f.hint


def test_service_in_another_namespace_is_named() -> None:
    (f,) = [f for f in findings(World(services=[_ns_db("other")])) if f.code == "HSVC103"]
    assert "other" in f.message and "namespace" in f.hint


def test_governing_service_without_selector() -> None:
    world = World(services=[db_service(selector=None)])
    (f,) = [f for f in findings(world) if f.code == "HSVC106"]
    assert "no selector" in f.message
    # With hand-written slices carrying hostnames, a selectorless governing Service is deliberate.
    world.slices = [
        make_slice("db", [make_endpoint("10.1.0.10", hostname="db-0")], ports=[("sql", 5432)])
    ]
    assert "HSVC106" not in codes(world)


def test_too_long_per_pod_name() -> None:
    long_ns = "n" * 63
    svc = replace(db_service(), namespace=long_ns, name="s" * 63)
    st = replace(sts(name="d" * 50, service="s" * 63), namespace=long_ns)
    snapshot = Snapshot(namespaces=(Namespace(name=long_ns),), services=(svc,), stateful_sets=(st,))
    zone = "x" * 63 + ".example."
    (f,) = [f for f in findings(snapshot, replace(KUBEADM, zones=(zone,))) if f.code == "HSVC402"]
    assert "253" in f.message


@pytest.mark.parametrize(
    ("ports", "fragment"),
    [([("", 80), ("https", 443)], "has no name"), ([("web", 80), ("web", 443)], "twice")],
    ids=["unnamed-of-two", "duplicate"],
)
def test_port_names_the_api_rejects(ports, fragment) -> None:
    (f,) = [f for f in findings(World(services=[db_service(ports=ports)])) if f.code == "HSVC302"]
    assert fragment in f.message


def test_hand_written_ports_named_differently_from_the_service() -> None:
    world = World(
        services=[db_service(), make_service("ext", ports=[("https", 443)])],
        slices=[
            make_slice("ext", [make_endpoint("192.0.2.1", hostname="a")], ports=[("tls", 443)])
        ],
    )
    (f,) = [f for f in findings(world) if f.code == "HSVC303"]
    assert "tls" in f.message and "https" in f.hint


def test_shared_hostname_from_slices() -> None:
    world = observed_world(
        slices=[
            make_slice(
                "db", [make_endpoint(ip, hostname="db-0") for ip in IPS[:2]], ports=[("sql", 5432)]
            )
        ]
    )
    (f,) = [f for f in findings(world, observed=True) if f.code == "HSVC404"]
    assert "db-0.db.ms.svc" in f.message


def test_deployment_hostname_with_matching_service_says_the_name_is_shared() -> None:
    world = World(
        services=[db_service(), make_service("api", selector={"app": "api"})],
        deployments=[deploy(hostname="api", subdomain="api")],
    )
    (f,) = [f for f in findings(world) if f.code == "HSVC405"]
    assert "api.api.ms.svc answers all" in f.message


def test_pod_with_subdomain_and_no_hostname() -> None:
    world = World(pods=[make_pod("w", "10.1.0.5", subdomain="db", labels=DB)])
    assert "HSVC406" in codes(world)


def test_pods_of_known_workloads_are_checked_once_on_the_workload() -> None:
    d = deploy(subdomain="nosvc")
    pod = replace(
        make_pod("api-7d9f8-abcde", "10.1.0.7", labels={"app": "api"}, subdomain="nosvc"),
        owner=ObjectRef(kind="ReplicaSet", namespace="ms", name="api-7d9f8"),
    )
    found = [
        f for f in findings(World(deployments=[d], pods=[pod])) if f.code in ("HSVC403", "HSVC406")
    ]
    assert {f.object.kind for f in found} == {"Deployment"}


def test_host_network_in_kube_system_is_deliberate() -> None:
    pod = replace(make_pod("kube-proxy-x", "10.0.0.4", namespace="kube-system"), host_network=True)
    assert "HSVC503" not in codes(World(pods=[pod], namespaces=("ms", "kube-system")))


def test_hardcoded_name_in_the_cluster_zone_and_short_names_are_fine() -> None:
    texts = ("db.ms.svc.cluster.local", "http://db.ms.svc:5432", "db.ms.svc")
    assert "HSVC501" not in codes(World(deployments=[deploy(hardcoded=texts)]))
    (f,) = [
        f
        for f in findings(
            World(
                deployments=[deploy(hardcoded=("--peer=http://db-0.db.ms.svc.cluster.local:2380",))]
            ),
            replace(KUBEADM, zones=("k8s.example.", "in-addr.arpa.")),
        )
        if f.code == "HSVC501"
    ]
    assert "db-0.db.ms.svc.cluster.local" in f.message and "db-0.db.ms.svc" in f.hint


def test_negative_cache_finding_says_when_to_retry() -> None:
    world = recently_ready(10)
    (f,) = [
        f
        for f in findings(
            world, rows=rows_for(world, DB1, [obs("a", DB1, Rcode.NXDOMAIN)]), now=NOW
        )
        if f.code == "HSVC601"
    ]
    # ttl 30 (kubeadm): negative TTL 30 s, plus 5 s for the slice to follow.
    assert f.object.name == "db-1"
    assert "retry in 25 s (after 12:00:25 UTC)" in f.hint
    assert "30 s" in f.message


def test_negative_cache_needs_the_ready_time() -> None:
    world = observed_world()  # ready_since unknown
    rows = rows_for(world, DB1, [obs("a", DB1, Rcode.NXDOMAIN)])
    assert "HSVC601" not in codes(world, rows=rows, now=NOW)


def test_servers_disagreeing_are_reported_once_per_subject() -> None:
    world = observed_world()
    f_rows = rows_for(
        world, DB1, [obs("a:53", DB1, Rcode.NOERROR, IPS[1]), obs("b:53", DB1, Rcode.NXDOMAIN)]
    )
    (f,) = [f for f in findings(world, rows=f_rows) if f.code == "HSVC602"]
    assert "a:53: 10.1.0.11" in f.message and "b:53: NXDOMAIN" in f.message


def test_timeouts_are_not_disagreement() -> None:
    world = observed_world()
    rows = rows_for(
        world, DB1, [obs("a", DB1, Rcode.NOERROR, IPS[1]), obs("b", DB1, Rcode.TIMEOUT)]
    )
    assert "HSVC602" not in codes(world, rows=rows)


def test_stale_needs_readable_pods() -> None:
    world = observed_world()
    rows = rows_for(world, DB1, [obs("a", DB1, Rcode.NOERROR, "10.1.9.99")])
    snapshot = replace(world.snapshot(), unreadable=("pods (list forbidden in namespace ms)",))
    assert "HSVC603" not in codes(snapshot, rows=rows)


def test_namespace_scope_and_order() -> None:
    other = replace(
        make_service("x", ports=[("Bad_Name", 1)], selector={"a": "b"}), namespace="other"
    )
    world = World(services=[db_service(ports=[("", 5432)]), other], stateful_sets=[sts(service="")])
    everything = findings(world)
    assert [f.severity for f in everything] == sorted(
        (f.severity for f in everything),
        key=[Severity.ERROR, Severity.WARNING, Severity.INFO].index,
    )
    assert {f.object.namespace for f in everything} == {"ms", "other"}
    assert {f.object.namespace for f in findings(world, namespace="ms")} == {"ms"}
    assert has_errors(everything) and not has_errors(findings(world, namespace="ms"))


# --- findings.md documents exactly the codes ------------------------------------------------------


def test_findings_reference_documents_every_code_and_no_other() -> None:
    # Codes are defined across the core modules (diagnose, refcheck for 7xx).
    source = "\n".join(p.read_text() for p in sorted((ROOT / "hsvc" / "core").rglob("*.py")))
    doc = (ROOT / "docs" / "reference" / "findings.md").read_text()
    in_code = set(re.findall(r"HSVC\d{3}", source))
    in_doc = set(re.findall(r"HSVC\d{3}", doc))
    assert in_code == set(CHECKS)
    assert in_doc == in_code
    for code, check in CHECKS.items():
        section = doc.split(f"### {code}", 1)[1].split("\n### ", 1)[0]
        assert f"**{check.severity.value}**" in section, code
        assert "Fix:" in section and "```" in section, code


# --- adapters: what the findings read ---------------------------------------------------------------


def test_convert_reads_workload_templates_and_ready_time() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "hostname": "web",
            "subdomain": "web",
            "initContainers": [
                {
                    "name": "wait",
                    "command": [
                        "sh",
                        "-c",
                        "until nslookup db-0.db.ms.svc.cluster.local; do sleep 1; done",
                    ],
                }
            ],
            "containers": [
                {
                    "name": "web",
                    "args": ["--port", "8080"],
                    "env": [
                        {"name": "DB", "value": "db.ms.svc.cluster.local"},
                        {"name": "FROM", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                        {"name": "POD", "value": "10-1-0-5.ms.pod.cluster.local"},
                    ],
                }
            ],
        },
    }
    d = deployment_from_dict(
        {
            "metadata": {"name": "web", "namespace": "ms"},
            "spec": {"replicas": 3, "template": template},
        }
    )
    assert d == Deployment(
        namespace="ms",
        name="web",
        replicas=3,
        template_labels=labels_of({"app": "web"}),
        template_hostname="web",
        template_subdomain="web",
        hardcoded_names=(
            "until nslookup db-0.db.ms.svc.cluster.local; do sleep 1; done",
            "db.ms.svc.cluster.local",
            "10-1-0-5.ms.pod.cluster.local",
        ),
    )
    assert deployment_from_dict({"metadata": {"name": "x"}}).replicas == 1
    s = statefulset_from_dict(
        {
            "metadata": {"name": "db"},
            "spec": {"podManagementPolicy": "Parallel", "template": template},
        }
    )
    assert s.pod_management_policy == "Parallel" and len(s.hardcoded_names) == 3
    assert (
        statefulset_from_dict({"metadata": {"name": "db"}}).pod_management_policy == "OrderedReady"
    )
    pod = pod_from_dict(
        {
            "metadata": {"name": "p"},
            "spec": template["spec"],
            "status": {
                "phase": "Running",
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "lastTransitionTime": "2026-05-01T11:59:50Z",
                    }
                ],
            },
        }
    )
    assert pod.ready_since == "2026-05-01T11:59:50Z" and len(pod.hardcoded_names) == 3
    not_ready = pod_from_dict(
        {
            "metadata": {"name": "p"},
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "False",
                        "lastTransitionTime": "2026-05-01T11:59:50Z",
                    }
                ]
            },
        }
    )
    assert not_ready.ready_since == ""


def test_manifests_keep_deployments_and_object_locations() -> None:
    result = read_manifests([str(ROOT / "tests" / "data" / "lint" / "warnings.yaml")])
    (d,) = result.snapshot.deployments
    assert (d.name, d.template_hostname, d.replicas) == ("web", "web", 3)
    where = {ref: (Path(path).name, line) for ref, path, line in result.locations}
    assert where[ObjectRef(kind="Service", namespace="shop", name="web")] == ("warnings.yaml", 2)
    assert where[ObjectRef(kind="Deployment", namespace="shop", name="web")] == (
        "warnings.yaml",
        14,
    )
