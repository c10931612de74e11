"""Choosing where live DNS is asked from (hsvc/commands/vantage.py), without any network."""

from __future__ import annotations

import pytest

from hsvc.commands.options import Options, Via
from hsvc.commands.vantage import direct_nameservers, via_of
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
