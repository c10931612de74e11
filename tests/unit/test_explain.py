"""The chain that explains a failing name (hsvc/core/explain.py): every link, broken and whole."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hsvc.core.cluster import ClusterDns
from hsvc.core.explain import Link, explain_name, first_broken, pod_links
from hsvc.core.model import DnsSettings, Namespace, PodsMode, Snapshot, StatefulSet
from tests.conftest import (
    EUREKA_LABELS,
    KUBEADM,
    make_endpoint,
    make_pod,
    make_service,
    make_slice,
    seed_snapshot,
)

Z = "cluster.local."


def chain(snapshot: Snapshot, name: str, settings: DnsSettings = KUBEADM) -> list[Link]:
    return explain_name(ClusterDns(snapshot, settings), name)


def broken(snapshot: Snapshot, name: str, settings: DnsSettings = KUBEADM) -> Link:
    link = first_broken(chain(snapshot, name, settings))
    assert link is not None, chain(snapshot, name, settings)
    # The chain stops at the first broken link, and it names a fix.
    assert chain(snapshot, name, settings)[-1] == link
    return link


def checks(links: list[Link]) -> list[tuple[str, bool]]:
    return [(link.check, link.ok) for link in links]


def with_pods(snapshot: Snapshot, **changes) -> Snapshot:
    """The seed with eureka-1 changed."""
    pods = tuple(replace(p, **changes) if p.name == "eureka-1" else p for p in snapshot.pods)
    return replace(snapshot, pods=pods)


def eureka_ready(snapshot: Snapshot, ready: bool) -> Snapshot:
    slices = tuple(
        replace(
            sl,
            endpoints=tuple(
                replace(ep, ready=ready) if ep.hostname == "eureka-1" else ep for ep in sl.endpoints
            ),
        )
        for sl in snapshot.endpoint_slices
    )
    return replace(snapshot, endpoint_slices=slices)


# --- zone, name form, pods mode, namespace --------------------------------------------------


def test_zone_link_outside_the_cluster_zones() -> None:
    link = broken(seed_snapshot(), "eureka.ms.svc.example.com.")
    assert (link.check, link.rules) == ("zone", ("R9",))
    assert "--cluster-domain" in link.fix


def test_name_form_link() -> None:
    link = broken(seed_snapshot(), f"eureka.ms.cluster.{Z}")
    assert link.check == "name form" and "svc or pod" in link.detail


def test_pods_mode_link() -> None:
    link = broken(
        seed_snapshot(), f"10-244-1-210.ms.pod.{Z}", replace(KUBEADM, pods=PodsMode.DISABLED)
    )
    assert (link.check, link.rules) == ("pods mode", ("R28",))
    assert "pods insecure" in link.fix


def test_namespace_link_missing_and_not_exposed() -> None:
    link = broken(seed_snapshot(), f"eureka.nowhere.svc.{Z}")
    assert link.check == "namespace" and "does not exist" in link.detail
    hidden = broken(
        seed_snapshot(), f"eureka.ms.svc.{Z}", replace(KUBEADM, namespaces=("default",))
    )
    assert hidden.check == "namespace" and "not exposed" in hidden.detail


# --- Service ----------------------------------------------------------------------------------


def test_service_link_plain() -> None:
    link = broken(seed_snapshot(), f"nope.ms.svc.{Z}")
    assert (link.check, link.rules) == ("service", ("R23",))


def test_service_link_names_a_same_named_service_elsewhere() -> None:
    snapshot = seed_snapshot()
    other = replace(make_service("db", ports=[("sql", 5432)]), namespace="default")
    snapshot = replace(snapshot, services=(*snapshot.services, other))
    link = broken(snapshot, f"db-0.db.ms.svc.{Z}")
    assert "exists in default" in link.detail
    assert f"db.default.svc.{Z}" in link.fix


def test_service_link_names_the_statefulset_that_needs_it() -> None:
    snapshot = seed_snapshot()
    sts = replace(snapshot.stateful_sets[0], name="kafka", service_name="kafka-headless")
    snapshot = replace(snapshot, stateful_sets=(*snapshot.stateful_sets, sts))
    link = broken(snapshot, f"kafka-0.kafka-headless.ms.svc.{Z}")
    assert "StatefulSet kafka" in link.fix and "headless" in link.fix


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        (f"eureka.ms.svc.{Z}", "answers the ready endpoint addresses"),
        (f"eureka-1.eureka.ms.svc.{Z}", "ready endpoints' names"),
        (f"gateway.ms.svc.{Z}", "answers the cluster IP"),
        (f"x.gateway.ms.svc.{Z}", "CoreDNS still serves endpoint names"),
    ],
    ids=["headless", "headless-below", "clusterip", "clusterip-below"],
)
def test_headless_link_is_informative(name: str, detail: str) -> None:
    links = chain(seed_snapshot(), name)
    (headless,) = [link for link in links if link.check == "headless"]
    assert headless.ok and detail in headless.detail


def test_whole_chain_of_a_resolving_name() -> None:
    links = chain(seed_snapshot(), f"eureka-1.eureka.ms.svc.{Z}")
    assert checks(links) == [
        ("zone", True),
        ("namespace", True),
        ("service", True),
        ("headless", True),
        ("endpoint", True),
    ]
    assert first_broken(links) is None


# --- the Service's own name ---------------------------------------------------------------------


def test_headless_without_ready_endpoints_names_the_not_ready_pods() -> None:
    snapshot = seed_snapshot(
        eureka_ready=dict.fromkeys(("eureka-0", "eureka-1", "eureka-2"), False)
    )
    link = broken(snapshot, f"eureka.ms.svc.{Z}")
    assert link.check == "ready endpoints" and "R16" in link.rules
    assert "publishNotReadyAddresses" in link.detail and "eureka-0" in link.detail


def test_headless_selecting_nothing() -> None:
    snapshot = seed_snapshot()
    lonely = make_service("lonely", selector={"app": "none"})
    link = broken(replace(snapshot, services=(*snapshot.services, lonely)), f"lonely.ms.svc.{Z}")
    assert "matches no pod" in link.detail


def test_ignore_empty_service_link() -> None:
    link = broken(
        seed_snapshot(), f"portal.ms.svc.{Z}", replace(KUBEADM, ignore_empty_service=True)
    )
    assert link.rules[0] == "R40" and "ignore empty_service" in link.detail


def test_noendpoints_link() -> None:
    link = broken(
        seed_snapshot(), f"eureka-1.eureka.ms.svc.{Z}", replace(KUBEADM, noendpoints=True)
    )
    assert (link.check, link.rules) == ("noendpoints", ("R41",))


def test_port_link_lists_the_named_ports() -> None:
    link = broken(seed_snapshot(), f"_http._tcp.eureka.ms.svc.{Z}")
    assert link.check == "port" and "_eureka._tcp" in link.detail


def test_externalname_links() -> None:
    snapshot = seed_snapshot()
    ip = make_service("legacy", type="ExternalName", external_name="192.0.2.1")
    snapshot = replace(snapshot, services=(*snapshot.services, ip))
    assert broken(snapshot, f"legacy.ms.svc.{Z}").check == "externalName"
    assert broken(snapshot, f"x.legacy.ms.svc.{Z}").rules == ("R25",)


# --- endpoint, pod, selection, readiness, subdomain ---------------------------------------------


def test_endpoint_link_no_pod_with_that_hostname() -> None:
    link = broken(seed_snapshot(), f"nobody.eureka.ms.svc.{Z}")
    assert link.check == "endpoint" and "no pod in ms has hostname" in link.detail


def test_endpoint_link_pod_without_hostname() -> None:
    link = broken(seed_snapshot(), f"gateway-7d9f8-abcde.gateway.ms.svc.{Z}")
    assert "dashed IP" in link.fix and "endpoint_pod_names" in link.fix


def test_endpoint_link_statefulset_ordinal_beyond_replicas() -> None:
    link = broken(seed_snapshot(), f"eureka-5.eureka.ms.svc.{Z}")
    assert "3 replica(s)" in link.detail
    assert "--replicas=6" in link.fix


def test_endpoint_link_statefulset_pod_not_created_yet() -> None:
    snapshot = seed_snapshot()
    snapshot = replace(snapshot, pods=tuple(p for p in snapshot.pods if p.name != "eureka-2"))
    snapshot = replace(
        snapshot,
        endpoint_slices=tuple(
            replace(sl, endpoints=tuple(ep for ep in sl.endpoints if ep.hostname != "eureka-2"))
            for sl in snapshot.endpoint_slices
        ),
    )
    link = broken(snapshot, f"eureka-2.eureka.ms.svc.{Z}")
    assert "does not exist (yet)" in link.detail and "OrderedReady" in link.detail


def test_subdomain_link() -> None:
    snapshot = eureka_ready(with_pods(seed_snapshot(), subdomain="other"), False)
    snapshot = replace(
        snapshot,
        endpoint_slices=tuple(
            replace(sl, endpoints=tuple(ep for ep in sl.endpoints if ep.hostname != "eureka-1"))
            for sl in snapshot.endpoint_slices
        ),
    )
    links = chain(snapshot, f"eureka-1.eureka.ms.svc.{Z}")
    assert checks(links)[-2:] == [("hostname", True), ("subdomain", False)]
    assert "'eureka'" in links[-1].fix


def test_selected_link() -> None:
    snapshot = with_pods(seed_snapshot(), labels=(("app", "other"),))
    snapshot = replace(
        snapshot,
        endpoint_slices=tuple(
            replace(sl, endpoints=tuple(ep for ep in sl.endpoints if ep.hostname != "eureka-1"))
            for sl in snapshot.endpoint_slices
        ),
    )
    links = chain(snapshot, f"eureka-1.eureka.ms.svc.{Z}")
    assert checks(links)[-3:] == [("hostname", True), ("subdomain", True), ("selected", False)]


def test_pod_ip_and_phase_links() -> None:
    snapshot = eureka_ready(with_pods(seed_snapshot(), pod_ips=()), False)
    assert broken(snapshot, f"eureka-1.eureka.ms.svc.{Z}").check == "pod IP"
    snapshot = eureka_ready(with_pods(seed_snapshot(), phase="Failed"), False)
    assert broken(snapshot, f"eureka-1.eureka.ms.svc.{Z}").check == "phase"


def test_ready_link_not_ready_without_publish_not_ready() -> None:
    snapshot = seed_snapshot(eureka_ready={"eureka-1": False})
    links = chain(snapshot, f"eureka-1.eureka.ms.svc.{Z}")
    assert checks(links)[-5:] == [
        ("hostname", True),
        ("subdomain", True),
        ("selected", True),
        ("pod IP", True),
        ("ready", False),
    ]
    assert "publishNotReadyAddresses" in links[-1].detail
    assert links[-1].rules == ("R2", "R3", "R22")


def test_ready_link_slice_behind_the_pod() -> None:
    # The pod is ready, the slice still says not ready: the controller has not caught up.
    snapshot = eureka_ready(seed_snapshot(), False)
    link = broken(snapshot, f"eureka-1.eureka.ms.svc.{Z}")
    assert link.check == "ready" and "EndpointSlice is not ready" in link.detail


def test_publish_not_ready_makes_the_ready_link_whole() -> None:
    snapshot = seed_snapshot(eureka_ready={"eureka-1": False})
    eureka = replace(snapshot.services[0], publish_not_ready_addresses=True)
    snapshot = replace(snapshot, services=(eureka, *snapshot.services[1:]))
    cluster = ClusterDns(snapshot, KUBEADM)
    pod = next(p for p in snapshot.pods if p.name == "eureka-1")
    links = pod_links(cluster, pod, eureka)
    assert ("ready", True) in checks(links)
    assert (
        "sets publishNotReadyAddresses"
        in next(link for link in links if link.check == "ready").detail
    )
    # Everything about the pod holds; the slice (written before the change) is the broken link.
    assert links[-1].check == "endpoint slice" and not links[-1].ok


# --- pod records and PTR -------------------------------------------------------------------------


def test_pod_record_links() -> None:
    snapshot = seed_snapshot()
    insecure = chain(snapshot, f"10-9-9-9.ms.pod.{Z}")
    assert checks(insecure)[-1] == ("pod address", True)
    assert broken(snapshot, f"not-an-ip.ms.pod.{Z}").rules == ("R29",)
    verified = replace(KUBEADM, pods=PodsMode.VERIFIED)
    assert checks(chain(snapshot, f"10-244-1-210.ms.pod.{Z}", verified))[-1] == (
        "pod address",
        True,
    )
    link = broken(snapshot, f"10-9-9-9.ms.pod.{Z}", verified)
    assert link.rules == ("R30",) and "no running pod" in link.detail


def test_ptr_links() -> None:
    snapshot = seed_snapshot()
    assert chain(snapshot, "14.0.0.10.in-addr.arpa.")[-1].ok  # gateway's cluster IP
    assert chain(snapshot, "45.2.244.10.in-addr.arpa.")[-1].ok  # eureka-1, a ready endpoint
    lone = make_pod("lone", "10.244.3.3")
    link = broken(replace(snapshot, pods=(*snapshot.pods, lone)), "3.3.244.10.in-addr.arpa.")
    assert "pod ms/lone" in link.detail and "fallthrough" in link.detail
    nobody = broken(snapshot, "9.9.9.10.in-addr.arpa.", replace(KUBEADM, fallthrough=()))
    assert nobody.rules == ("R37",) and "fallthrough" not in nobody.detail


def test_explain_survives_a_cluster_without_pods_or_slices() -> None:
    snapshot = Snapshot(
        namespaces=(Namespace(name="ms"),),
        services=(make_service("db", selector=EUREKA_LABELS),),
        stateful_sets=(StatefulSet(namespace="ms", name="db", service_name="db", replicas=1),),
        endpoint_slices=(make_slice("db", [make_endpoint("10.1.0.1", ready=False)]),),
        pods=(make_pod("x", None),),
    )
    for name in (
        f"db.ms.svc.{Z}",
        f"db-0.db.ms.svc.{Z}",
        f"db-1.db.ms.svc.{Z}",
        f"x.db.ms.svc.{Z}",
    ):
        assert first_broken(chain(snapshot, name)) is not None


# --- hsvc resolve explains the candidate the user meant ------------------------------------------

SEED = str(Path(__file__).resolve().parent.parent / "data" / "seed" / "ms.yaml")


def test_resolve_short_name_explains_the_furthest_candidate(run) -> None:
    result = run("resolve", "eureka-5.eureka", "-n", "ms", "-f", SEED, "--offline", "-o", "json")
    assert result.code == 0, result.err
    (res,) = result.json()["results"]
    # The headline is the in-cluster candidate that explains the outcome, not the last,
    # out-of-zone candidate CoreDNS forwards upstream (issue behaviour 4).
    assert res["answeredBy"] == "eureka-5.eureka.ms.svc.cluster.local."
    assert res["expected"]["rcode"] == "NXDOMAIN"
    chain = res["chain"]
    assert (
        chain[0]["check"] == "candidate"
        and "eureka-5.eureka.ms.svc.cluster.local." in chain[0]["detail"]
    )
    (bad,) = [link for link in chain if not link["ok"]]
    assert bad["check"] == "endpoint" and "--replicas=6" in bad["fix"]


def test_resolve_absolute_name_explains_itself(run) -> None:
    name = "eureka-1.eureka.ms.svc.cluster.local."
    result = run("resolve", name, "-f", SEED, "--offline", "-o", "json")
    (res,) = result.json()["results"]
    assert res["chain"] == []  # it answers: nothing to explain
    result = run("resolve", "nope.ms.svc.cluster.local.", "-f", SEED, "--offline", "-o", "json")
    (res,) = result.json()["results"]
    assert [link["check"] for link in res["chain"]] == ["zone", "namespace", "service"]
