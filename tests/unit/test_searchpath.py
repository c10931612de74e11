"""Search-list walks (core/searchpath.py), checked against real glibc and musl runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsvc.core.model import Rcode
from hsvc.core.resolvconf import read_resolv_conf
from hsvc.core.searchpath import (
    Action,
    Libc,
    Outcome,
    candidates,
    cluster_first,
    outcome,
    resolv_conf_warnings,
    walk,
)

WALKS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "exec" / "libc-walks.json").read_text()
)
CF = cluster_first("ms", "cluster.local.")


def test_cluster_first_search_list() -> None:
    assert CF.search == ("ms.svc.cluster.local.", "svc.cluster.local.", "cluster.local.")
    assert CF.ndots == 5


@pytest.mark.parametrize(
    ("name", "libc", "ndots", "expected"),
    [
        (
            "eureka",
            Libc.GLIBC,
            5,
            [
                "eureka.ms.svc.cluster.local.",
                "eureka.svc.cluster.local.",
                "eureka.cluster.local.",
                "eureka.",
            ],
        ),
        (
            "eureka",
            Libc.MUSL,
            5,
            [
                "eureka.ms.svc.cluster.local.",
                "eureka.svc.cluster.local.",
                "eureka.cluster.local.",
                "eureka.",
            ],
        ),
        (
            "eureka.ms",
            Libc.GLIBC,
            1,
            [
                "eureka.ms.",
                "eureka.ms.ms.svc.cluster.local.",
                "eureka.ms.svc.cluster.local.",
                "eureka.ms.cluster.local.",
            ],
        ),
        ("eureka.ms", Libc.MUSL, 1, ["eureka.ms."]),
        ("eureka.ms.svc.cluster.local.", Libc.GLIBC, 5, ["eureka.ms.svc.cluster.local."]),
        (
            "Eureka",
            Libc.GLIBC,
            5,
            [
                "eureka.ms.svc.cluster.local.",
                "eureka.svc.cluster.local.",
                "eureka.cluster.local.",
                "eureka.",
            ],
        ),
    ],
    ids=[
        "glibc-short",
        "musl-short",
        "glibc-ndots1-as-is-first",
        "musl-ndots1-as-is-only",
        "absolute",
        "case",
    ],
)
def test_candidates(name: str, libc: Libc, ndots: int, expected: list[str]) -> None:
    assert candidates(name, cluster_first("ms", "cluster.local.", ndots=ndots), libc) == expected


def test_no_tld_query_skips_the_bare_name_for_dotless_names() -> None:
    conf = read_resolv_conf("search ms.svc.cluster.local\noptions ndots:5 no-tld-query\n")
    assert candidates("eureka", conf, Libc.GLIBC) == ["eureka.ms.svc.cluster.local."]
    assert candidates("eureka.ms", conf, Libc.GLIBC)[-1] == "eureka.ms."


@pytest.mark.parametrize(
    ("a", "aaaa", "libc", "expected"),
    [
        ((Rcode.NOERROR, True), (Rcode.NOERROR, False), Libc.GLIBC, Outcome.ANSWER),
        ((Rcode.NOERROR, False), (Rcode.NOERROR, False), Libc.GLIBC, Outcome.NODATA),
        ((Rcode.NOERROR, False), (Rcode.NOERROR, False), Libc.MUSL, Outcome.NODATA),
        ((Rcode.NXDOMAIN, False), (Rcode.NXDOMAIN, False), Libc.MUSL, Outcome.NXDOMAIN),
        ((Rcode.SERVFAIL, False), (Rcode.NOERROR, False), Libc.GLIBC, Outcome.SERVFAIL),
        ((Rcode.TIMEOUT, False), (Rcode.NOERROR, True), Libc.MUSL, Outcome.TIMEOUT),
        ((Rcode.REFUSED, False), (Rcode.REFUSED, False), Libc.MUSL, Outcome.REFUSED),
    ],
)
def test_outcome(a, aaaa, libc, expected) -> None:
    assert outcome(a, aaaa, libc) is expected


def _walk_id(w: dict) -> str:
    ndots = "ndots1" if "ndots:1" in w["resolvConf"] else "ndots5"
    return f"{w['libc']}-{ndots}-{w['name']}"


@pytest.mark.parametrize("real", WALKS, ids=[_walk_id(w) for w in WALKS])
def test_walk_matches_the_real_libc(real: dict) -> None:
    """The candidates hsvc says a libc asks are exactly those the real libc asked, in order."""
    by_name: dict[str, dict[str, tuple[Rcode, bool]]] = {}
    for name, rtype, rcode, count in real["queries"]:
        status = Rcode.TIMEOUT if rcode == "DROPPED" else Rcode(rcode)
        by_name.setdefault(name, {})[rtype] = (status, count > 0)
    libc = Libc(real["libc"])

    def ask(candidate: str) -> Outcome:
        assert candidate in by_name, f"{libc} never asked {candidate}"
        got = by_name[candidate]
        return outcome(got["A"], got["AAAA"], libc)

    result = walk(real["name"], read_resolv_conf(real["resolvConf"]), libc, ask)
    asked = list(dict.fromkeys(q[0] for q in real["queries"]))
    assert [s.name for s in result.steps] == asked
    assert result.queries == len(real["queries"])
    assert (result.answered is not None) == (real["exit"] == 0)
    if result.answered is not None:
        canonical = real["stdout"].split()[2].rstrip(".") + "."
        assert result.answered == canonical


def test_glibc_and_musl_differ_on_nodata() -> None:
    answers = {
        "web.ms.svc.cluster.local.": Outcome.NODATA,
        "web.svc.cluster.local.": Outcome.ANSWER,
    }

    def ask(name: str) -> Outcome:
        return answers.get(name, Outcome.NXDOMAIN)

    glibc = walk("web", CF, Libc.GLIBC, ask)
    musl = walk("web", CF, Libc.MUSL, ask)
    assert glibc.answered == "web.svc.cluster.local." and glibc.queries == 4
    assert musl.answered is None and musl.result is Outcome.NODATA
    assert musl.steps[-1].action is Action.STOPS


def test_glibc_timeout_skips_the_search_list_but_tries_the_name() -> None:
    got = walk(
        "slow",
        CF,
        Libc.GLIBC,
        lambda n: Outcome.TIMEOUT if n.startswith("slow.ms") else Outcome.REFUSED,
    )
    assert [s.action for s in got.steps] == [Action.SKIPS_SEARCH, Action.STOPS]
    assert [s.name for s in got.steps] == ["slow.ms.svc.cluster.local.", "slow."]


def test_warnings_node_domains_and_policies() -> None:
    conf = read_resolv_conf(
        "search ms.svc.cluster.local svc.cluster.local cluster.local ec2.internal corp.example\n"
        "nameserver 10.96.0.10\noptions ndots:5\n"
    )
    warnings = resolv_conf_warnings(
        conf, namespace="ms", zone="cluster.local.", kube_dns_ip="10.96.0.10"
    )
    assert (
        len(warnings) == 1
        and "ec2.internal corp.example" in warnings[0]
        and "4 more queries" in warnings[0]
    )
    node = read_resolv_conf("search ec2.internal\nnameserver 10.0.0.2\n")
    hostnet = resolv_conf_warnings(
        node, namespace="ms", zone="cluster.local.", host_network=True, dns_policy="ClusterFirst"
    )
    assert any("ClusterFirstWithHostNet" in w for w in hostnet)
    assert any("cannot resolve" in w for w in hostnet)
    default = resolv_conf_warnings(
        node, namespace="ms", zone="cluster.local.", dns_policy="Default"
    )
    assert any('"Default"' in w for w in default)
    assert resolv_conf_warnings(CF, namespace="ms", zone="cluster.local.") == []
