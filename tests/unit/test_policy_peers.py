"""NetworkPolicy peers and named ports decide whether DNS passes (HSVC802/HSVC807, R47)."""

from __future__ import annotations

from dataclasses import replace

from hsvc.adapters.appobjects import network_policy_from_dict
from hsvc.core import transport
from hsvc.core.model import (
    LabelRequirement,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    Severity,
    Snapshot,
    labels_of,
)
from tests.unit.test_diagnose import DB, KUBE_DNS, db_pods, dns_world, findings

DNS_IPS = ("10.244.0.5", "10.244.1.7")
DNS = transport.DnsPods(
    namespace="kube-system",
    labels=labels_of(KUBE_DNS),
    ips=DNS_IPS,
    named_ports=(("dns", "UDP", 53), ("dns-tcp", "TCP", 53), ("metrics", "TCP", 9153)),
    cluster_ips=("10.96.0.10",),
    what="the DNS pods",
)
BOTH_53 = (PolicyPort(protocol="UDP", port=53), PolicyPort(protocol="TCP", port=53))
NS_KUBE_SYSTEM = LabelSelector(match_labels=(("kubernetes.io/metadata.name", "kube-system"),))
NAMESPACES = {"ms": (), "kube-system": ()}


def egress(*rules: PolicyRule, name: str = "dns-out") -> NetworkPolicy:
    return NetworkPolicy(
        namespace="ms",
        name=name,
        pod_selector=LabelSelector(match_labels=labels_of(DB)),
        policy_types=("Egress",),
        egress=rules,
    )


def ingress(*rules: PolicyRule) -> NetworkPolicy:
    return NetworkPolicy(
        namespace="kube-system",
        name="dns-in",
        pod_selector=LabelSelector(match_labels=labels_of(KUBE_DNS)),
        policy_types=("Ingress",),
        ingress=rules,
    )


def found(*policies: NetworkPolicy, dns=DNS, namespaces=NAMESPACES) -> dict[str, tuple]:
    out = transport.network_policies(policies, db_pods(), dns, 53, namespaces)
    return {code: (ref.name, message, hint) for code, ref, message, hint in out}


def test_rule47_an_ipblock_on_the_cluster_ip_alone_does_not_reach_the_dns_pods() -> None:
    """Policies apply after the Service's DNAT: the DNS pods' IPs must be in the block."""
    to_vip = PolicyRule(ports=BOTH_53, peers=(PolicyPeer(cidr="10.96.0.10/32"),))
    name, message, hint = found(egress(to_vip))["HSVC807"]
    assert name == "dns-out"
    assert "ipBlock 10.96.0.10/32" in message and "after the Service's DNAT" in message
    assert "10.244.0.5" in message
    assert "namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}" in hint
    assert "podSelector: {matchLabels: {k8s-app: kube-dns}}" in hint and "ms/dns-out" in hint
    # A block that holds every DNS pod lets DNS through; one that excepts a replica does not.
    to_pods = PolicyRule(ports=BOTH_53, peers=(PolicyPeer(cidr="10.244.0.0/16"),))
    assert found(egress(to_pods)) == {}
    cut = PolicyRule(
        ports=BOTH_53, peers=(PolicyPeer(cidr="10.244.0.0/16", except_cidrs=("10.244.1.0/24",)),)
    )
    assert set(found(egress(cut))) == {"HSVC807"}


def test_rule47_namespace_and_pod_selectors_must_hold_the_dns_pods() -> None:
    right = PolicyPeer(
        namespace_selector=NS_KUBE_SYSTEM,
        pod_selector=LabelSelector(match_labels=labels_of(KUBE_DNS)),
    )
    assert found(egress(PolicyRule(ports=BOTH_53, peers=(right,)))) == {}
    # A pod selector alone selects pods of the policy's own namespace (ms), not kube-system.
    alone = PolicyPeer(pod_selector=LabelSelector(match_labels=labels_of(KUBE_DNS)))
    name, message, _ = found(egress(PolicyRule(ports=BOTH_53, peers=(alone,))))["HSVC807"]
    assert name == "dns-out" and "podSelector {k8s-app=kube-dns}" in message
    # A namespace selector for another namespace.
    other = PolicyPeer(
        namespace_selector=LabelSelector(match_labels=(("kubernetes.io/metadata.name", "web"),))
    )
    assert set(found(egress(PolicyRule(ports=BOTH_53, peers=(other,))))) == {"HSVC807"}
    # matchExpressions count: In [kube-system, web] holds kube-system; NotIn does not.
    within = LabelRequirement(
        key="kubernetes.io/metadata.name", operator="In", values=("kube-system", "web")
    )
    expr = PolicyPeer(namespace_selector=LabelSelector(match_expressions=(within,)))
    assert found(egress(PolicyRule(ports=BOTH_53, peers=(expr,)))) == {}
    outside = replace(within, operator="NotIn")
    not_in = PolicyPeer(namespace_selector=LabelSelector(match_expressions=(outside,)))
    assert set(found(egress(PolicyRule(ports=BOTH_53, peers=(not_in,))))) == {"HSVC807"}
    # An empty 'to' is every peer.
    assert found(egress(PolicyRule(ports=BOTH_53))) == {}


def test_rule47_udp_to_the_dns_pods_and_tcp_elsewhere_is_udp_only() -> None:
    to_dns = PolicyPeer(namespace_selector=NS_KUBE_SYSTEM)
    udp = PolicyRule(ports=(PolicyPort(protocol="UDP", port=53),), peers=(to_dns,))
    tcp_elsewhere = PolicyRule(
        ports=(PolicyPort(protocol="TCP", port=53),), peers=(PolicyPeer(cidr="192.0.2.0/24"),)
    )
    name, message, hint = found(egress(udp, tcp_elsewhere))["HSVC802"]
    assert name == "dns-out" and "but not TCP 53" in message and "ipBlock 192.0.2.0/24" in message
    assert "namespaceSelector" in hint


def test_rule47_namespace_labels_not_in_the_input_are_uncertain() -> None:
    team = PolicyPeer(namespace_selector=LabelSelector(match_labels=(("team", "platform"),)))
    rule = PolicyRule(ports=BOTH_53, peers=(team,))
    name, message, _ = found(egress(rule), namespaces={})["HSVC807"]
    assert name == "dns-out" and message.startswith("uncertain:")
    assert "namespace kube-system's labels are not in the input" in message
    # Read, without that label: known not to match.
    assert not found(egress(rule))["HSVC807"][1].startswith("uncertain")
    labelled = {"kube-system": (("team", "platform"),)}
    assert found(egress(rule), namespaces=labelled) == {}
    # Through diagnose: the uncertain finding is a warning, the policy named.
    world = dns_world(policies=[egress(rule)], pods=db_pods())
    snap = Snapshot(
        namespaces=(Namespace(name="ms"),),
        services=world.services,
        pods=world.pods,
        network_policies=world.network_policies,
    )
    (f,) = [f for f in findings(snap) if f.code == "HSVC807"]
    assert f.severity is Severity.WARNING and str(f.object) == "NetworkPolicy ms/dns-out"
    (g,) = [f for f in findings(world) if f.code == "HSVC807"]
    assert g.severity is Severity.ERROR


def test_rule47_ipblock_without_the_dns_pods_ips_is_uncertain() -> None:
    rule = PolicyRule(ports=BOTH_53, peers=(PolicyPeer(cidr="10.244.0.0/16"),))
    _, message, _ = found(egress(rule), dns=replace(DNS, ips=None))["HSVC807"]
    assert message.startswith("uncertain:") and "IPs are not in the input" in message


def test_rule47_named_ports_resolve_against_the_dns_pods_container_ports() -> None:
    named = (PolicyPort(protocol="UDP", port="dns"), PolicyPort(protocol="TCP", port="dns-tcp"))
    assert found(egress(PolicyRule(ports=named))) == {}
    # 'dns' is the UDP port: TCP dns matches nothing, so TCP 53 is closed.
    wrong = (PolicyPort(protocol="UDP", port="dns"), PolicyPort(protocol="TCP", port="dns"))
    name, message, hint = found(egress(PolicyRule(ports=wrong)))["HSVC802"]
    assert name == "dns-out" and "but not TCP 53" in message and "protocol: TCP, port: 53" in hint
    # Named port 'metrics' is 9153: not DNS.
    metrics = (
        PolicyPort(protocol="UDP", port="metrics"),
        PolicyPort(protocol="TCP", port="metrics"),
    )
    assert set(found(egress(PolicyRule(ports=metrics)))) == {"HSVC807"}
    # The DNS pods' ports unknown: uncertain, not a guess.
    _, message, _ = found(egress(PolicyRule(ports=named)), dns=replace(DNS, named_ports=None))[
        "HSVC807"
    ]
    assert message.startswith("uncertain:") and "named port 'dns'" in message


def test_rule47_end_port_ranges() -> None:
    span = (
        PolicyPort(protocol="UDP", port=50, end_port=60),
        PolicyPort(protocol="TCP", port=50, end_port=60),
    )
    assert found(egress(PolicyRule(ports=span))) == {}
    above = tuple(replace(p, port=54) for p in span)
    assert set(found(egress(PolicyRule(ports=above)))) == {"HSVC807"}


def test_rule47_ingress_to_the_dns_pods_must_come_from_the_client_pods() -> None:
    monitoring = PolicyPeer(pod_selector=LabelSelector(match_labels=(("app", "prometheus"),)))
    name, message, hint = found(ingress(PolicyRule(ports=BOTH_53, peers=(monitoring,))))["HSVC807"]
    assert name == "dns-in" and "ingress to the DNS pods from pod ms/db-0" in message
    assert "podSelector {app=prometheus}" in message
    assert "kubernetes.io/metadata.name: ms" in hint and "'from'" in hint
    from_ms = PolicyPeer(
        namespace_selector=LabelSelector(match_labels=(("kubernetes.io/metadata.name", "ms"),))
    )
    assert found(ingress(PolicyRule(ports=BOTH_53, peers=(from_ms,)))) == {}
    # An ipBlock is matched against the client pods' IPs.
    pods_block = PolicyPeer(cidr="10.1.0.0/24")
    assert found(ingress(PolicyRule(ports=BOTH_53, peers=(pods_block,)))) == {}
    elsewhere = PolicyPeer(cidr="10.2.0.0/24")
    assert set(found(ingress(PolicyRule(ports=BOTH_53, peers=(elsewhere,))))) == {"HSVC807"}
    # No client pod in the input: whether the peers hold them is not known.
    pol = ingress(PolicyRule(ports=BOTH_53, peers=(monitoring,)))
    ((code, _, message, _),) = transport.network_policies([pol], [], DNS, 53, NAMESPACES)
    assert code == "HSVC807" and message.startswith("uncertain:")
    assert "the client pods are not in the input" in message


def test_rule47_manifest_peers_and_named_ports_are_read() -> None:
    pol = network_policy_from_dict(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": "ms"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}},
                            {
                                "namespaceSelector": {
                                    "matchExpressions": [{"key": "team", "operator": "Exists"}]
                                },
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            },
                        ],
                        "ports": [{"protocol": "UDP", "port": "dns"}],
                    }
                ],
            },
        }
    )
    (rule,) = pol.egress
    assert rule.ports == (PolicyPort(protocol="UDP", port="dns"),)
    block, pods = rule.peers
    assert block.cidr == "10.0.0.0/8" and block.except_cidrs == ("10.9.0.0/16",)
    assert pods.namespace_selector is not None and pods.pod_selector is not None
    assert pods.namespace_selector.match_expressions[0].operator == "Exists"
    assert pods.pod_selector.match_labels == (("k8s-app", "kube-dns"),)


def test_rule47_tcp_unknown_beside_open_udp_is_an_uncertain_udp_only() -> None:
    ports = (PolicyPort(protocol="UDP", port=53), PolicyPort(protocol="TCP", port="dns-tcp"))
    unknown = replace(DNS, named_ports=None)
    name, message, hint = found(egress(PolicyRule(ports=ports)), dns=unknown)["HSVC802"]
    assert name == "dns-out" and message.startswith("uncertain:")
    assert "whether any policy allows TCP 53 cannot be known" in message
    assert "named port 'dns-tcp'" in message and "protocol: TCP, port: 53" in hint
    assert found(egress(PolicyRule(ports=ports))) == {}  # known: dns-tcp is TCP 53


def test_rule47_malformed_blocks_hold_nothing() -> None:
    bad = PolicyRule(ports=BOTH_53, peers=(PolicyPeer(cidr="not-a-cidr"),))
    assert set(found(egress(bad))) == {"HSVC807"}
    odd_except = PolicyPeer(cidr="10.244.0.0/16", except_cidrs=("nonsense",))
    assert found(egress(PolicyRule(ports=BOTH_53, peers=(odd_except,)))) == {}
    v6 = PolicyRule(ports=BOTH_53, peers=(PolicyPeer(cidr="fd00::/8"),))
    assert set(found(egress(v6))) == {"HSVC807"}  # another family holds no IPv4 pod
