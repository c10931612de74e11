"""Choosing where live DNS is asked from (hsvc/vantage.py), without any network."""

from __future__ import annotations

import pytest

from hsvc.commands import Options, Source, pick_nameservers
from hsvc.core.model import DnsSettings, Snapshot
from hsvc.errors import NoDnsError, UsageError
from hsvc.vantage import via_of

SOURCE = Source(
    snapshot=Snapshot(),
    settings=DnsSettings(),
    origin="test",
    namespace="ms",
    kube_dns_ip="10.96.0.10",
)


@pytest.mark.parametrize(
    ("opts", "mode"),
    [
        (Options(), "port-forward"),
        (Options(nameservers=("127.0.0.1:5353",)), "direct"),
        (Options(in_pod=True), "direct"),
        (Options(files=("a.yaml",)), "direct"),
        (Options(pod="client"), "exec"),
        (Options(via="port-forward", nameservers=("127.0.0.1",)), "port-forward"),
        (Options(via="exec", pod="client"), "exec"),
    ],
    ids=["outside-a-pod", "nameserver", "inside-a-pod", "manifests", "pod", "forced", "exec"],
)
def test_auto_picks_the_vantage_point(opts: Options, mode: str) -> None:
    assert via_of(opts) == mode


def test_pod_needs_exec() -> None:
    with pytest.raises(UsageError, match="--pod is for --via exec"):
        via_of(Options(via="direct", pod="client"))


def test_direct_falls_back_to_the_service_ip_and_labels_it() -> None:
    (server,) = pick_nameservers(Options(via="direct"), SOURCE)
    assert (server.host, server.port, str(server)) == ("10.96.0.10", 53, "kube-dns 10.96.0.10")


def test_no_server_suggests_port_forward() -> None:
    source = Source(snapshot=Snapshot(), settings=DnsSettings(), origin="test", namespace="ms")
    with pytest.raises(NoDnsError, match="--via port-forward"):
        pick_nameservers(Options(files=("a.yaml",)), source)
