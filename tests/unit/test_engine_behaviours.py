"""One decision engine: the twenty behaviours of the engine issue, as a user sees them (CLI, JSON).

Every case runs hsvc on manifests of its own (a Kafka, ZooKeeper and eureka shaped
cluster, written here) and reads the JSON a script would read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import Verdict, compare, disagreements
from hsvc.core.model import (
    DnsSettings,
    Endpoint,
    EndpointSlice,
    Namespace,
    Observation,
    Pod,
    PodsMode,
    Rcode,
    Record,
    Service,
    ServicePort,
    Snapshot,
)
from hsvc.core.records import expectations
from hsvc.errors import ExitCode

Z = "cluster.local."


def pod(name: str, ip: str, *, ready: bool = True, hostname: str = "", subdomain: str = "",
        app: str = "kafka", ns: str = "data", deleting: bool = False, host_network: bool = False,
        ips: tuple[str, ...] = ()) -> str:  # fmt: skip
    spec = {"containers": [{"name": "c", "image": "i"}]}
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    if host_network:
        spec["hostNetwork"] = True
    meta: dict[str, object] = {"name": name, "namespace": ns, "labels": {"app": app}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status = {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": i} for i in (ips or (ip,))],
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    return json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
    )


def service(name: str, *, ns: str = "data", cluster_ip: str | None = "10.96.0.5",
            app: str = "kafka", pnra: bool = False, port: str = "broker") -> str:  # fmt: skip
    spec: dict[str, object] = {
        "selector": {"app": app},
        "ports": [{"name": port, "port": 9092}],
    }
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    if pnra:
        spec["publishNotReadyAddresses"] = True
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        }
    )


def eps(name: str, svc: str, endpoints: list[dict[str, object]], *, ns: str = "data") -> str:
    return json.dumps(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {"kubernetes.io/service-name": svc},
            },
            "addressType": "IPv4",
            "ports": [{"name": "broker", "port": 9092, "protocol": "TCP"}],
            "endpoints": endpoints,
        }
    )


def ep(ip: str, pod_name: str, *, ready: bool = True, hostname: str = "",
       terminating: bool = False, ns: str = "data") -> dict[str, object]:  # fmt: skip
    out: dict[str, object] = {
        "addresses": [ip],
        "conditions": {"ready": ready, "serving": ready, "terminating": terminating},
        "targetRef": {"kind": "Pod", "name": pod_name, "namespace": ns},
    }
    if hostname:
        out["hostname"] = hostname
    return out


def namespace(name: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def write(tmp_path: Path, *docs: str, name: str = "cluster.yaml") -> str:
    path = tmp_path / name
    path.write_text("\n---\n".join(docs) + "\n")
    return str(path)


def kafka(tmp_path: Path) -> str:
    """kafka (ClusterIP, not publishing not-ready) and kafka-headless govern kafka-0..2."""
    return write(
        tmp_path,
        namespace("data"),
        service("kafka"),
        service("kafka-headless", cluster_ip="None"),
        pod("kafka-0", "10.244.3.10", hostname="kafka-0", subdomain="kafka-headless"),
        pod("kafka-1", "10.244.3.11", hostname="kafka-1", subdomain="kafka-headless"),
        pod("kafka-2", "10.244.3.12", ready=False, hostname="kafka-2", subdomain="kafka-headless"),
        eps(
            "kafka-x",
            "kafka",
            [
                ep("10.244.3.10", "kafka-0"),
                ep("10.244.3.11", "kafka-1"),
                ep("10.244.3.12", "kafka-2", ready=False),
            ],
        ),
        eps(
            "kafka-headless-x",
            "kafka-headless",
            [
                ep("10.244.3.10", "kafka-0", hostname="kafka-0"),
                ep("10.244.3.11", "kafka-1", hostname="kafka-1"),
                ep("10.244.3.12", "kafka-2", hostname="kafka-2", ready=False),
            ],
        ),
    )


def records(run, path: str, *args: str) -> dict:
    result = run("records", *args, "-f", path, "--offline", "-o", "json")
    assert result.code == 0, result.err
    return result.json()


def resolve(run, path: str, *args: str) -> dict:
    result = run("resolve", *args, "-f", path, "--offline", "-o", "json")
    assert result.code == 0, result.err
    (res,) = result.json()["results"]
    return res


def absent(doc: dict) -> dict[tuple[str, str], dict]:
    return {(a["name"], a["type"]): a for a in doc["absent"]}


def present(doc: dict) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for r in doc["records"]:
        out.setdefault((r["name"], r["type"]), set()).add(r["data"])
    return out


# --- 1, 6: a not-ready endpoint without hostname: dashed name and PTR must not resolve ----


def test_behaviour01_dashed_name_and_ptr_of_a_not_ready_endpoint_are_checked(
    run, tmp_path: Path
) -> None:
    doc = records(run, kafka(tmp_path), "kafka", "-n", "data")
    rows = absent(doc)
    dashed = rows[(f"10-244-3-12.kafka.data.svc.{Z}", "A")]
    assert dashed["subject"] == {"kind": "Pod", "namespace": "data", "name": "kafka-2"}
    # Its PTR: no other Service publishes 10.244.3.12 (kafka-headless has it not ready too).
    assert ("12.3.244.10.in-addr.arpa.", "PTR") in rows
    # The ready ones answer under their dashed name and PTR.
    assert present(doc)[(f"10-244-3-11.kafka.data.svc.{Z}", "A")] == {"10.244.3.11"}


def test_behaviour06_dashed_name_of_a_not_ready_endpoint_is_explained_by_readiness(
    run, tmp_path: Path
) -> None:
    reason = absent(records(run, kafka(tmp_path), "kafka", "-n", "data"))[
        (f"10-244-3-12.kafka.data.svc.{Z}", "A")
    ]["reason"]
    assert "kafka-2" in reason and "Ready=False" in reason
    assert "publishNotReadyAddresses" in reason
    assert "no pod has hostname" not in reason and "has hostname" not in reason


# --- 2, 11: desired state -------------------------------------------------------------------


def test_behaviour02_service_without_cluster_ip_is_predicted_not_broken(
    run, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        namespace("data"),
        service("web", cluster_ip=None, app="web"),
        pod("web-1", "10.244.5.1", app="web"),
    )
    doc = records(run, path, "web", "-n", "data")
    predicted = {(p["name"], p["type"]): p for p in doc["predicted"]}
    assert predicted[(f"web.data.svc.{Z}", "A")]["predicted"] == "ClusterIP allocated on create"
    assert not any(a["name"] == f"web.data.svc.{Z}" for a in doc["absent"])
    assert any("allocates one on create" in n for n in doc["source"]["notes"])
    res = resolve(run, path, "web", "-n", "data")
    assert res["expected"]["rcode"] == "NOERROR"
    assert res["expected"]["predicted"] == ["ClusterIP allocated on create"]
    assert res["chain"] == []  # nothing is broken
    lint = run("lint", "-f", path, "-o", "json")
    assert lint.code == 0 and lint.json()["findings"] == []


def test_behaviour11_export_without_endpointslices_predicts_the_slices(run, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        namespace("data"),
        service("zk", cluster_ip="None", app="zk"),
        pod("zk-0", "10.244.6.1", app="zk", hostname="zk-0", subdomain="zk"),
        pod("zk-1", "10.244.6.2", app="zk", hostname="zk-1", subdomain="zk", ready=False),
    )
    doc = records(run, path, "zk", "-n", "data")
    assert any("holds no EndpointSlices" in n for n in doc["source"]["notes"])
    assert present(doc)[(f"zk-0.zk.data.svc.{Z}", "A")] == {"10.244.6.1"}
    reason = absent(doc)[(f"zk-1.zk.data.svc.{Z}", "A")]["reason"]
    assert "may lag" not in reason and "lag" not in reason
    assert "zk-1" in reason and "publishNotReadyAddresses" in reason


# --- 3, 4, 5, 10, 13: the name a user types ---------------------------------------------------


def test_behaviour03_an_ip_address_means_its_reverse_name(run, tmp_path: Path) -> None:
    path = kafka(tmp_path)
    for ip, qtype in (("10.244.3.11", "PTR"), ("10.244.3.11", "A")):
        res = resolve(run, path, "-t", qtype, ip, "-n", "data")
        assert res["answeredBy"] == "11.3.244.10.in-addr.arpa."
        assert {r["data"] for r in res["expected"]["answer"]} == {
            f"10-244-3-11.kafka.data.svc.{Z}",
            f"kafka-1.kafka-headless.data.svc.{Z}",
        }
    v6 = resolve(run, path, "-t", "PTR", "fd00::1", "-n", "data")
    assert v6["answeredBy"].endswith(".ip6.arpa.") and len(v6["answeredBy"].split(".")) == 35


def test_behaviour04_short_name_headlines_the_in_cluster_candidate(run, tmp_path: Path) -> None:
    res = resolve(run, kafka(tmp_path), "kafka-5.kafka-headless", "-n", "data")
    assert res["answeredBy"] == f"kafka-5.kafka-headless.data.svc.{Z}"
    assert res["expected"]["rcode"] == "NXDOMAIN"
    outside = [c for c in res["candidates"] if c["rcode"] == "REFUSED"]
    assert outside and res["answeredBy"] not in {c["name"] for c in outside}
    assert any("forwarded upstream" in link["detail"] for link in res["chain"])


def test_behaviour05_pod_record_short_name_and_invalid_names(run, tmp_path: Path) -> None:
    path = kafka(tmp_path)
    res = resolve(run, path, "10-244-9-9.data.pod", "-n", "data")
    assert res["answeredBy"] == f"10-244-9-9.data.pod.{Z}"
    assert [r["data"] for r in res["expected"]["answer"]] == ["10.244.9.9"]  # pods insecure
    assert "Service 'pod'" not in json.dumps(res)
    bad = run("resolve", "bad_name!", "-f", path, "--offline")
    assert bad.code == ExitCode.USAGE and bad.out == ""
    assert bad.err.startswith("hsvc: error: invalid name") and len(bad.err.splitlines()) == 1


def test_behaviour10_zonal_name_without_zonal_is_one_verdict(run, tmp_path: Path) -> None:
    res = resolve(run, kafka(tmp_path), f"a.pin._zone.kafka-headless.data.svc.{Z}")
    assert res["expected"]["rcode"] == "NXDOMAIN"
    broken = [link for link in res["chain"] if not link["ok"]]
    assert len(broken) == 1 and "zonal" in broken[0]["detail"]
    corefile = tmp_path / "Corefile"
    corefile.write_text(".:53 {\n  kubernetes cluster.local {\n    zonal\n  }\n}\n")
    zonal = resolve(
        run, kafka(tmp_path), f"a.pin._zone.kafka-headless.data.svc.{Z}", "--corefile",
        str(corefile),
    )  # fmt: skip
    assert zonal["expected"]["rcode"] == "NOERROR" and zonal["expected"]["answer"] == []
    assert "NODATA" in json.dumps(zonal["chain"]) and "too many labels" not in json.dumps(zonal)


def test_behaviour13_spelling_echoed_and_any_type_answered(run, tmp_path: Path) -> None:
    path = kafka(tmp_path)
    res = resolve(run, path, "-t", "SRV", "KaFkA.DaTa.SvC.cLuStEr.LoCaL.")
    assert res["answeredBy"] == "KaFkA.DaTa.SvC.cLuStEr.LoCaL."
    (srv,) = res["expected"]["answer"]
    assert srv["name"] == "KaFkA.DaTa.SvC.cLuStEr.LoCaL."
    assert srv["data"] == "0 100 9092 kafka.data.svc.cLuStEr.LoCaL."
    for qtype in ("HINFO", "MX", "CAA", "TYPE65"):
        at = resolve(run, path, "-t", qtype, f"kafka.data.svc.{Z}")
        assert (at["expected"]["rcode"], at["expected"]["answer"]) == ("NOERROR", [])
        nx = resolve(run, path, "-t", qtype, f"nope.data.svc.{Z}")
        assert nx["expected"]["rcode"] == "NXDOMAIN"
    unknown = run("resolve", "-t", "BOGUS", "kafka", "-f", path, "--offline")
    assert unknown.code == ExitCode.USAGE


# --- 7: advice never points at a Service that must not govern ------------------------------


def test_behaviour07_pods_governed_elsewhere_point_to_their_name(run, tmp_path: Path) -> None:
    reason = absent(records(run, kafka(tmp_path), "kafka", "-n", "data"))[
        (f"kafka-1.kafka.data.svc.{Z}", "A")
    ]["reason"]
    assert f"kafka-1.kafka-headless.data.svc.{Z}" in reason
    assert "set spec.subdomain" not in reason


# --- 8: a silent server is silent, not disagreeing ---------------------------------------------


def test_behaviour08_a_silent_replica_is_named_silent_and_the_healthy_one_agrees() -> None:
    snapshot = Snapshot(
        namespaces=(Namespace(name="data"),),
        services=(
            Service(
                namespace="data",
                name="web",
                cluster_ips=("10.96.0.9",),
                ports=(ServicePort(name="http", port=80),),
            ),
        ),
    )
    items = expectations(ClusterDns(snapshot, DnsSettings()), namespace="data")
    observations = []
    for item in items:
        exp = item.expected
        observations.append(
            Observation(
                server="good", name=exp.name, type=exp.type, rcode=exp.rcode, answer=exp.answer
            )
        )
        observations.append(
            Observation(
                server="silent", name=exp.name, type=exp.type, rcode=Rcode.TIMEOUT, error="timeout"
            )
        )
    found = disagreements(compare(items, observations))
    assert [(d.server, d.rows, d.silent > 0) for d in found] == [("silent", (), True)]


# --- 9: readiness wording ----------------------------------------------------------------------


def test_behaviour09_readiness_as_the_slice_says_and_hsvc204_per_service_type(
    run, tmp_path: Path
) -> None:
    path = kafka(tmp_path)
    lint = run("lint", "-f", path, "-o", "json").json()
    (clusterip,) = [
        f for f in lint["findings"] if f["code"] == "HSVC204" and f["object"]["name"] == "kafka"
    ]
    assert "on the headless Service" not in clusterip["hint"]
    assert "still answers its cluster IP" in clusterip["message"]
    assert "terminating pods then stay in DNS" in clusterip["hint"]


# --- 12: API-valid names are never refused ------------------------------------------------------


def test_behaviour12_pod_name_over_63_characters_is_valid(run, tmp_path: Path) -> None:
    long = "web-" + "a" * 70
    path = write(
        tmp_path,
        namespace("data"),
        service("web", app="web"),
        pod(long, "10.244.5.1", app="web"),
        eps("web-x", "web", [ep("10.244.5.1", long)]),
    )
    doc = records(run, path, "web", "-n", "data", "--endpoint-pod-names")
    # With endpoint_pod_names a pod name of 64+ characters falls back to the dashed IP.
    assert present(doc)[(f"10-244-5-1.web.data.svc.{Z}", "A")] == {"10.244.5.1"}
    bad = write(tmp_path, namespace("data"), pod("Bad_Name", "10.1.1.1"), name="bad.yaml")
    refused = run("records", "-f", bad, "--offline")
    assert refused.code == ExitCode.BAD_MANIFEST


# --- 14, 15: pods verified and hostNetwork pods -------------------------------------------------


def test_behaviour14_terminating_pod_under_pods_verified_is_uncertain(run, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        namespace("data"),
        pod("old-1", "10.244.8.1", deleting=True, app="old"),
    )
    res = resolve(run, path, "--pods", "verified", f"10-244-8-1.data.pod.{Z}")
    assert "terminating" in res["expected"]["uncertain"]
    # Not judged: a row on it is uncertain, whatever a replica answers.
    cluster = ClusterDns(
        Snapshot(
            namespaces=(Namespace(name="data"),),
            pods=(Pod(namespace="data", name="old-1", pod_ips=("10.244.8.1",), deleting=True),),
        ),
        DnsSettings(pods=PodsMode.VERIFIED),
    )
    (item,) = [
        e for e in expectations(cluster, namespace="data") if e.expected.name.startswith("10-")
    ]
    rows = compare(
        [item],
        [Observation(server="a", name=item.expected.name, type="A", rcode=Rcode.NXDOMAIN)],
    )
    assert rows[0].status is Verdict.UNCERTAIN


def test_behaviour15_host_network_pods_get_pod_records(run, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        namespace("data"),
        pod("node-agent", "192.168.1.5", app="agent", host_network=True),
    )
    for mode in ("insecure", "verified"):
        doc = records(run, path, "-n", "data", "--pods", mode)
        assert present(doc)[(f"192-168-1-5.data.pod.{Z}", "A")] == {"192.168.1.5"}


# --- 16, 17: PTR across every slice ---------------------------------------------------------------


def test_behaviour16_a_pod_behind_two_services_has_both_ptrs(run, tmp_path: Path) -> None:
    doc = records(run, kafka(tmp_path), "kafka", "-n", "data")
    assert present(doc)[("11.3.244.10.in-addr.arpa.", "PTR")] == {
        f"10-244-3-11.kafka.data.svc.{Z}",
        f"kafka-1.kafka-headless.data.svc.{Z}",
    }


def test_behaviour16_scoped_live_read_judges_ptr_on_the_names_it_knows() -> None:
    slice_ = EndpointSlice(
        namespace="data",
        name="db-x",
        service_name="db",
        endpoints=(Endpoint(addresses=("10.1.0.5",), hostname="db-0"),),
    )
    snapshot = Snapshot(
        namespaces=(Namespace(name="data"),),
        services=(Service(namespace="data", name="db", cluster_ips=("None",)),),
        endpoint_slices=(slice_,),
    )
    cluster = ClusterDns(snapshot, DnsSettings(), partial_slices=True)
    answer = cluster.answer("5.0.1.10.in-addr.arpa.", "PTR")
    assert answer.open_ended
    extra = Record(name=answer.name, type="PTR", ttl=30, data=f"10-1-0-5.db-lb.data.svc.{Z}")
    rows = compare(
        [e for e in expectations(cluster, namespace="data") if e.expected.name == answer.name],
        [
            Observation(
                server="a", name=answer.name, type="PTR", rcode=Rcode.NOERROR,
                answer=(*answer.answer, extra),
            )
        ],
    )  # fmt: skip
    assert rows[0].status is Verdict.OK


def test_behaviour17_ptr_of_a_slice_whose_service_is_gone(run, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        namespace("data"),
        eps("gone-x", "gone", [ep("10.244.4.4", "gone-0", hostname="gone-0")]),
    )
    doc = records(run, path, "-A")
    assert present(doc)[("4.4.244.10.in-addr.arpa.", "PTR")] == {f"gone-0.gone.data.svc.{Z}"}
    assert (f"gone-0.gone.data.svc.{Z}", "A") in absent(doc)


# --- 18, 19: names CoreDNS serves beyond the Services -------------------------------------------


def test_behaviour18_ns_dns_answers_the_dns_service_ips(run, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        namespace("kube-system"),
        service("kube-dns", ns="kube-system", cluster_ip="10.96.0.10", app="kube-dns", port="dns"),
        pod("coredns-a", "10.244.0.3", ns="kube-system", app="kube-dns"),
        eps("kube-dns-x", "kube-dns", [ep("10.244.0.3", "coredns-a", ns="kube-system")],
            ns="kube-system"),
    )  # fmt: skip
    res = resolve(run, path, f"ns.dns.{Z}")
    assert [r["data"] for r in res["expected"]["answer"]] == ["10.96.0.10"]
    for qtype in ("SRV", "MX"):
        other = resolve(run, path, "-t", qtype, f"ns.dns.{Z}")
        assert (other["expected"]["rcode"], other["expected"]["answer"]) == ("NOERROR", [])


def test_behaviour19_every_forward_zone_is_checked(run, tmp_path: Path) -> None:
    corefile = tmp_path / "Corefile"
    corefile.write_text(
        ".:53 {\n  kubernetes cluster.local k8s.corp in-addr.arpa ip6.arpa {\n"
        "    pods insecure\n  }\n}\n"
    )
    doc = records(run, kafka(tmp_path), "kafka", "-n", "data", "--corefile", str(corefile))
    have = present(doc)
    assert have[(f"kafka.data.svc.{Z}", "A")] == {"10.96.0.5"}
    assert have[("kafka.data.svc.k8s.corp.", "A")] == {"10.96.0.5"}
    assert ("10-244-3-12.kafka.data.svc.k8s.corp.", "A") in absent(doc)


# --- 20: not-ready endpoints under endpoint_pod_names ---------------------------------------------


def test_behaviour20_pod_name_labels_of_not_ready_endpoints_must_not_resolve(
    run, tmp_path: Path
) -> None:
    doc = records(run, kafka(tmp_path), "kafka", "-n", "data", "--endpoint-pod-names")
    assert present(doc)[(f"kafka-1.kafka.data.svc.{Z}", "A")] == {"10.244.3.11"}
    reason = absent(doc)[(f"kafka-2.kafka.data.svc.{Z}", "A")]["reason"]
    assert "Ready=False" in reason or "not ready" in reason
    # A hand-written slice's hostname of a not-ready endpoint is checked too.
    rows = absent(records(run, kafka(tmp_path), "kafka-headless", "-n", "data"))
    assert (f"kafka-2.kafka-headless.data.svc.{Z}", "A") in rows


@pytest.mark.parametrize("flag", ["--pods", "--endpoint-pod-names"])
def test_flags_used_here_exist(run, flag: str) -> None:
    assert flag in run("records", "--help").out


# --- desired state: StatefulSet pods missing from the input, pods without status -------------


def statefulset(name: str, *, service_name: str, replicas: int, app: str, ns: str = "data") -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "serviceName": service_name,
                "replicas": replicas,
                "selector": {"matchLabels": {"app": app}},
                "template": {
                    "metadata": {"labels": {"app": app}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        }
    )


def chart(tmp_path: Path, *, replicas: int = 3) -> str:
    """A chart's manifests: headless zk, ClusterIP zk-client, StatefulSet zk, no pods."""
    return write(
        tmp_path,
        namespace("data"),
        service("zk", cluster_ip="None", app="zk", port="client"),
        service("zk-client", cluster_ip=None, app="zk", port="client"),
        statefulset("zk", service_name="zk", replicas=replicas, app="zk"),
    )


ASSIGNED = "address assigned when the pod starts"


def test_desired_state_statefulset_pods_missing_from_the_input_are_predicted(
    run, tmp_path: Path
) -> None:
    path = chart(tmp_path)
    doc = records(run, path, "zk", "-n", "data")
    predicted = {(p["name"], p["type"]): p for p in doc["predicted"]}
    for ordinal in range(3):
        row = predicted[(f"zk-{ordinal}.zk.data.svc.{Z}", "A")]
        assert row["predicted"] == ASSIGNED
    assert predicted[(f"zk.data.svc.{Z}", "A")]["predicted"] == ASSIGNED
    assert predicted[(f"_client._tcp.zk.data.svc.{Z}", "SRV")]["predicted"] == ASSIGNED
    # None of them is reported as a failure, and nothing beyond the replicas is predicted.
    failing = {a["name"] for a in doc["absent"]}
    assert not failing & {name for name, _ in predicted}
    assert (f"zk-3.zk.data.svc.{Z}", "A") not in predicted
    assert any(
        "assigned when the pod starts" in n and "<sts>-0" in n for n in doc["source"]["notes"]
    )
    table = run("records", "zk", "-n", "data", "-f", path, "--offline")
    assert table.code == 0 and ASSIGNED in table.out
    # resolve says the same: the name will answer, its address is predicted.
    res = resolve(run, path, "zk-1.zk", "-n", "data")
    assert res["expected"]["rcode"] == "NOERROR"
    assert res["expected"]["predicted"] == [ASSIGNED]
    assert res["chain"] == []
    beyond = resolve(run, path, "zk-3.zk", "-n", "data")
    assert beyond["expected"]["rcode"] == "NXDOMAIN"
    lint = run("lint", "-f", path, "-o", "json")
    assert lint.code == 0 and lint.json()["findings"] == []


def test_desired_state_pod_without_status_is_predicted_by_its_hostname(run, tmp_path: Path) -> None:
    bare = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "db-main", "namespace": "data", "labels": {"app": "db"}},
            "spec": {"hostname": "main", "subdomain": "db", "containers": [{"name": "c"}]},
        }
    )
    path = write(tmp_path, namespace("data"), service("db", cluster_ip="None", app="db"), bare)
    doc = records(run, path, "db", "-n", "data")
    predicted = {(p["name"], p["type"]): p["predicted"] for p in doc["predicted"]}
    assert predicted[(f"main.db.data.svc.{Z}", "A")] == ASSIGNED
    assert predicted[(f"db.data.svc.{Z}", "A")] == ASSIGNED
    assert doc["absent"] == []  # nothing is reported as failing
    res = resolve(run, path, "main.db", "-n", "data")
    assert res["expected"]["predicted"] == [ASSIGNED] and res["chain"] == []


def test_desired_state_predicts_at_most_the_replicas_cap(run, tmp_path: Path) -> None:
    from hsvc.core.model import MAX_DESIRED_ORDINALS

    doc = records(run, chart(tmp_path, replicas=MAX_DESIRED_ORDINALS * 5), "zk", "-n", "data")
    per_pod = [p for p in doc["predicted"] if p["name"].startswith("zk-")]
    assert len(per_pod) == MAX_DESIRED_ORDINALS
    assert any(f"only the first {MAX_DESIRED_ORDINALS} pods" in n for n in doc["source"]["notes"])
