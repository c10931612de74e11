"""Choosing where live DNS is asked from (hsvc/commands/vantage.py), without any network."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hsvc.commands.options import Options, Via
from hsvc.commands.vantage import (
    direct_nameservers,
    in_pod_layers,
    layer_targets,
    resolver_layer,
    via_of,
)
from hsvc.core.dnspath import Layer, ResolverPath
from hsvc.core.model import Nameserver, Pod, Service
from hsvc.errors import NoDnsError, UsageError


@pytest.mark.parametrize(
    ("opts", "mode"),
    [
        (Options(), "port-forward"),
        (Options(nameservers=("127.0.0.1:5353",)), "direct"),
        (Options(in_pod=True), "direct"),
        (Options(files=("a.yaml",)), "direct"),
        (Options(pod="client"), "exec"),
        (Options(via=Via.PORT_FORWARD, nameservers=("127.0.0.1",)), "port-forward"),
        (Options(via=Via.EXEC, pod="client"), "exec"),
    ],
    ids=["outside-a-pod", "nameserver", "inside-a-pod", "manifests", "pod", "forced", "exec"],
)
def test_auto_picks_the_vantage_point(opts: Options, mode: str) -> None:
    assert via_of(opts) == mode


def test_pod_needs_exec() -> None:
    with pytest.raises(UsageError, match="--pod is for --via exec"):
        via_of(Options(via=Via.DIRECT, pod="client"))


def test_direct_falls_back_to_the_service_ip_and_labels_it() -> None:
    (server,) = direct_nameservers((), resolv_conf=None, kube_dns_ip="10.96.0.10")
    assert (server.host, server.port, str(server)) == ("10.96.0.10", 53, "kube-dns 10.96.0.10")


def test_no_server_suggests_port_forward() -> None:
    with pytest.raises(NoDnsError, match="--via port-forward"):
        direct_nameservers((), resolv_conf=None, kube_dns_ip=None)


def test_inside_a_pod_asks_the_pods_own_servers() -> None:
    conf = "search ms.svc.cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\n"
    servers = direct_nameservers((), resolv_conf=conf, kube_dns_ip="10.0.0.1")
    assert [s.host for s in servers] == ["10.96.0.10", "10.96.0.11"]


def test_nameserver_flag_wins_over_the_pod() -> None:
    (server,) = direct_nameservers(
        ("127.0.0.1:5353",), resolv_conf="nameserver 10.96.0.10\n", kube_dns_ip="10.0.0.1"
    )
    assert (server.host, server.port) == ("127.0.0.1", 5353)


# --- a vantage per layer ----------------------------------------------------------------------


def _path(*, node_local: bool = True, port: int = 53, kind: str = "coredns") -> ResolverPath:
    layers = [Layer(kind=kind, addresses=("10.244.0.10",), port=port, replicas=1)]
    if node_local:
        layers.insert(
            0, Layer(kind="node-local", addresses=("169.254.20.10", "10.96.0.10"), port=53)
        )
    svc = Service(namespace="kube-system", name="kube-dns", cluster_ips=("10.96.0.10",))
    return ResolverPath(service=svc, layers=tuple(layers), dns_port=port)


CLIENT = Pod(namespace="ms", name="client", node_name="n1")


def test_layer_targets_name_the_cache_the_cluster_ip_and_each_replica() -> None:
    replicas = [
        Pod(namespace="kube-system", name="coredns-a", pod_ips=("fd00::a",), dns_port=5353),
        Pod(namespace="kube-system", name="coredns-b", pod_ips=("10.244.0.11",), phase="Pending"),
    ]
    targets = layer_targets(_path(port=5353), replicas, pod=CLIENT, label="pod ms/client")
    assert [(t.where, t.layer) for t in targets] == [
        ("169.254.20.10", "node-local on node n1 (169.254.20.10 from pod ms/client)"),
        (
            "10.96.0.10",
            "node-local on node n1 (the ClusterIP 10.96.0.10 it binds, from pod ms/client)",
        ),
        ("[fd00::a]:5353", "CoreDNS replica coredns-a ([fd00::a]:5353 from pod ms/client)"),
    ]
    # No node cache: the pod's own resolver is the ClusterIP's answer already.
    assert layer_targets(_path(node_local=False), replicas, pod=CLIENT, label="p") == []
    assert layer_targets(None, replicas, pod=CLIENT, label="p") == []


def test_kube_dns_replicas_and_an_unbound_cluster_ip_are_said_so() -> None:
    path = _path(kind="kube-dns")
    local_only = replace(path.layers[0], addresses=("169.254.20.10",))
    path = replace(path, layers=(local_only, *path.layers[1:]))
    replica = Pod(namespace="kube-system", name="kube-dns-x", pod_ips=("10.244.0.10",))
    targets = layer_targets(path, [replica], pod=Pod(namespace="ms", name="c"), label="pod ms/c")
    assert [t.layer for t in targets] == [
        "node-local on the pod's node (169.254.20.10 from pod ms/c)",
        "ClusterIP 10.96.0.10 (from pod ms/c)",
        "kube-dns replica kube-dns-x (10.244.0.10 from pod ms/c)",
    ]


def test_the_pods_own_resolver_is_named_by_its_nameserver() -> None:
    assert resolver_layer(_path(), CLIENT, "10.96.0.10").startswith("node-local on node n1")
    assert resolver_layer(_path(node_local=False), CLIENT, "10.96.0.10") == (
        "ClusterIP 10.96.0.10 (the pod's resolver)"
    )
    assert resolver_layer(None, CLIENT, "8.8.8.8") == "the pod's resolver (8.8.8.8)"
    assert resolver_layer(None, CLIENT, "") == ""


def test_inside_a_pod_the_node_cache_is_asked_by_its_own_address() -> None:
    servers = [
        Nameserver(host="10.96.0.10"),
        Nameserver(host="10.244.0.10", label="coredns-a (pod IP)"),
        Nameserver(host="10.9.9.9"),
    ]
    out, layer_of = in_pod_layers(_path(), servers)
    assert str(out[0]) == "169.254.20.10:53"
    assert layer_of == {
        "169.254.20.10:53": "node-local on this pod's node (169.254.20.10)",
        "10.96.0.10:53": "node-local on this pod's node (10.96.0.10)",
        "coredns-a (pod IP)": "CoreDNS replica coredns-a",
    }
    out, layer_of = in_pod_layers(_path(node_local=False), servers)
    assert out == servers
    assert layer_of["10.96.0.10:53"] == "ClusterIP 10.96.0.10 (Service to a DNS pod)"
