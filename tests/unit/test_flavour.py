"""Rules per DNS server version and flavour (hsvc.core.flavour, dns-records.md rules 6, 15, 36, 42).

Every range below was read from the CoreDNS history (``git tag --contains`` of
#6898, #7194, #7431, #7266, #8388), not from the implementation.
"""

from __future__ import annotations

import ipaddress

import pytest

from hsvc.core.cluster import ClusterDns
from hsvc.core.flavour import (
    RULE_RANGES,
    Flavour,
    holds,
    parse_version,
    settings_for,
    version_from_image,
)
from hsvc.core.model import Namespace, Rcode, Snapshot
from tests.conftest import KUBEADM, make_endpoint, make_service, make_slice

Z = "cluster.local."


def rev(ip: str) -> str:
    return ipaddress.ip_address(ip).reverse_pointer + "."


def engine(version: str | None, flavour: Flavour = Flavour.COREDNS) -> ClusterDns:
    """ms/db headless (one endpoint with a hostname, one without), ms/web ClusterIP, v6 endpoint."""
    snap = Snapshot(
        namespaces=(Namespace(name="ms"),),
        services=(
            make_service("db", ports=[("sql", 3306)], selector={"app": "db"}),
            make_service("web", cluster_ip="10.96.0.20", ports=[("http", 80)], selector={"a": "w"}),
            make_service("v6", ports=[("http", 80)], selector={"app": "v6"}),
        ),
        endpoint_slices=(
            make_slice(
                "db",
                [
                    make_endpoint("10.244.0.5", hostname="db-0", pod="db-0"),
                    make_endpoint("10.244.0.6", pod="db-x"),
                ],
                ports=[("sql", 3306)],
            ),
            make_slice(
                "web",
                [make_endpoint("10.244.0.7", hostname="w-0", pod="w-0")],
                ports=[("http", 80)],
            ),
            make_slice("v6", [make_endpoint("fd00:1::", pod="v6-0")], name="v6-x"),
        ),
    )
    parsed = parse_version(version) if version else None
    return ClusterDns(snap, settings_for(KUBEADM, flavour, parsed))


def ptr(c: ClusterDns, ip: str) -> set[str]:
    return {r.data for r in c.answer(rev(ip), "PTR").answer}


@pytest.mark.parametrize(
    ("version", "hostname_less_ptr"),
    [
        pytest.param("1.11.3", True, id="before-6898"),
        pytest.param("1.11.4", False, id="6898-first"),
        pytest.param("1.12.0", False, id="6898-last"),
        pytest.param("1.12.1", True, id="7194-revert"),
        pytest.param("1.14.7", True, id="reference"),
    ],
)
def test_rule36_hostname_less_endpoint_ptr_by_version(version, hostname_less_ptr):
    c = engine(version)
    got = c.answer(rev("10.244.0.6"), "PTR")
    if hostname_less_ptr:
        assert {r.data for r in got.answer} == {f"10-244-0-6.db.ms.svc.{Z}"}
    else:
        assert got.rcode is Rcode.NXDOMAIN
        assert "only for endpoints with a hostname" in got.explanation
    # An endpoint with a hostname has its PTR in every version.
    assert ptr(c, "10.244.0.5") == {f"db-0.db.ms.svc.{Z}"}


def test_rule36_kube_dns_ptr_only_for_headless_hostnames():
    c = engine(None, Flavour.KUBE_DNS)
    assert ptr(c, "10.244.0.5") == {f"db-0.db.ms.svc.{Z}"}
    assert ptr(c, "10.244.0.6") == set()  # no hostname
    assert ptr(c, "10.244.0.7") == set()  # a ClusterIP Service's endpoint, hostname or not
    assert ptr(c, "10.96.0.20") == {f"web.ms.svc.{Z}"}  # rule 35 holds everywhere


@pytest.mark.parametrize(
    ("version", "label"),
    [
        pytest.param("1.12.2", "fd00-1--", id="before-7431"),
        pytest.param("1.12.3", "fd00-1--0", id="7431"),
        pytest.param(None, "fd00-1--0", id="reference"),
    ],
)
def test_rule06_ipv6_trailing_dash_by_version(version, label):
    c = engine(version)
    name = f"{label}.v6.ms.svc.{Z}"
    assert {r.data for r in c.answer(name, "AAAA").answer} == {"fd00:1::"}
    assert ptr(c, "fd00:1::") == {name}
    other = "fd00-1--0" if label == "fd00-1--" else "fd00-1--"
    assert c.answer(f"{other}.v6.ms.svc.{Z}", "AAAA").rcode is Rcode.NXDOMAIN


@pytest.mark.parametrize("flavour", [Flavour.KUBE_DNS, Flavour.CLOUD_DNS])
def test_rule15_endpoint_names_under_clusterip_only_on_coredns(flavour):
    name = f"w-0.web.ms.svc.{Z}"
    assert {r.data for r in engine(None).answer(name, "A").answer} == {"10.244.0.7"}
    got = engine(None, flavour).answer(name, "A")
    assert got.rcode is Rcode.NXDOMAIN
    assert "only under headless Services" in got.explanation
    # Under a headless Service the endpoint name answers on every flavour (rule 17).
    assert {r.data for r in engine(None, flavour).answer(f"db-0.db.ms.svc.{Z}", "A").answer} == {
        "10.244.0.5"
    }


@pytest.mark.parametrize(
    ("version", "zonal"),
    [pytest.param("1.14.6", False, id="before-8388"), pytest.param("1.14.7", True, id="8388")],
)
def test_rule42_zonal_needs_1_14_7(version, zonal):
    from dataclasses import replace

    settings = settings_for(replace(KUBEADM, zonal=True), Flavour.COREDNS, parse_version(version))
    assert settings.zonal is zonal


def test_ranges_hold_as_stated():
    assert holds("R36", Flavour.COREDNS, (1, 11, 3))
    assert not holds("R36", Flavour.COREDNS, (1, 11, 4))
    assert not holds("R36", Flavour.COREDNS, (1, 12, 0))
    assert holds("R36", Flavour.COREDNS, (1, 12, 1))
    assert not holds("multicluster", Flavour.COREDNS, (1, 12, 1))
    assert holds("multicluster", Flavour.COREDNS, (1, 12, 2))
    assert not holds("R11", Flavour.COREDNS, (1, 8, 7))
    assert holds("R12", Flavour.KUBE_DNS, (1, 0, 0))  # no range: holds everywhere
    assert RULE_RANGES["R36"].coredns_range == "except >= 1.11.4 and < 1.12.1"
    assert RULE_RANGES["R6"].coredns_range == ">= 1.12.3"


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("registry.k8s.io/coredns/coredns:v1.12.0", (1, 12, 0)),
        ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.11.4-eksbuild.2", (1, 11, 4)),
        ("rancher/mirrored-coredns-coredns:1.12.1", (1, 12, 1)),
        ("localhost:5000/coredns@sha256:abc", None),
        ("coredns/coredns", None),
    ],
)
def test_version_from_image_tag(image, version):
    assert version_from_image(image) == version


def test_version_from_chaos_txt():
    assert parse_version('"CoreDNS-1.12.0"') == (1, 12, 0)


def test_rulebook_reference_lists_every_range_with_its_versions() -> None:
    """docs/explanation/cluster-dns.md's table says what RULE_RANGES applies."""
    from pathlib import Path

    from hsvc.core.flavour import show

    doc = (
        Path(__file__).resolve().parents[2] / "docs" / "explanation" / "cluster-dns.md"
    ).read_text()
    table = doc.split("## Rules by DNS server and version", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    for rng in RULE_RANGES.values():
        key = f"| {rng.rule} |" if rng.rule.startswith("R") else f"`{rng.rule}`"
        (row,) = [r for r in rows if r.startswith(key) or key in r.split("|")[2]]
        versions = [rng.since, rng.until, *(v for gap in rng.gaps for v in gap)]
        for v in (v for v in versions if v is not None):
            assert show(v) in row, (rng.rule, show(v))
        if not versions or versions == [None, None]:
            assert "every release" in row, rng.rule
