"""The resolver path per DNS flavour: emulated objects, knotd playing each layer, real port-forwards.

Each flavour's objects are written here as the API shows them (CoreDNS with
NodeLocal DNSCache, kube-dns, Cloud DNS, OpenShift on 5353, k3s); every DNS layer
is a knotd reached through the emulated API server's port-forward, registered on
the port that layer listens on, so asking the wrong port finds no relay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import forward_to_knot, inspect_live
from tests.integration.seed_zone import seed_zones, stale_eureka1_zones

pytestmark = pytest.mark.integration

NODE_LOCAL_COREFILE = """\
cluster.local:53 {
    errors
    cache {
        success 9984 30
        denial 9984 5
    }
    reload
    loop
    bind __PILLAR__LOCAL__DNS__ __PILLAR__DNS__SERVER__
    forward . __PILLAR__CLUSTER__DNS__ {
        force_tcp
    }
}
"""


def workload(
    kind: str,
    namespace: str,
    name: str,
    images: list[str],
    labels: dict[str, str],
    *,
    replicas: int = 1,
    args: list[str] | None = None,
) -> dict[str, Any]:
    containers = [
        {"name": f"c{i}", "image": image, **({"args": args} if args and i == 0 else {})}
        for i, image in enumerate(images)
    ]
    status = (
        {"desiredNumberScheduled": replicas, "numberReady": replicas}
        if kind == "DaemonSet"
        else {"replicas": replicas, "readyReplicas": replicas}
    )
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
    }
    if kind == "Deployment":
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
        "status": status,
    }


def pod(
    namespace: str, name: str, ip: str, labels: dict[str, str], *, port: int = 53, node: str = ""
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": "dns",
                    "image": "registry.k8s.io/coredns/coredns:v1.12.0",
                    "ports": [{"name": "dns", "containerPort": port, "protocol": "UDP"}],
                }
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def dns_slice(namespace: str, service: str, port: int, ips: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{service}-x1",
            "namespace": namespace,
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
        "ports": [
            {"name": "dns", "port": port, "protocol": "UDP"},
            {"name": "dns-tcp", "port": port, "protocol": "TCP"},
        ],
    }


def configmap(namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


KUBE_DNS = {"k8s-app": "kube-dns"}
NODE_LOCAL = {"k8s-app": "node-local-dns"}


def forwarded(api_server) -> set[tuple[str, int]]:
    """(pod, port) of every port-forward hsvc opened (the port is in the query)."""
    out = set()
    for request in api_server.log:
        if request.path.endswith("/portforward"):
            out.add((request.path.split("/")[-2], int(request.query.get("ports", "0"))))
    return out


def coredns(*, replicas: int = 1) -> dict[str, Any]:
    """kube-system/coredns, CoreDNS 1.12.0 from its image tag."""
    image = "registry.k8s.io/coredns/coredns:v1.12.0"
    return workload("Deployment", "kube-system", "coredns", [image], KUBE_DNS, replicas=replicas)


def coredns_with_node_local(api_server, *, port: int = 53) -> None:
    """CoreDNS ×2 1.12.0 on ``port``, NodeLocal DNSCache on worker-1 binding the ClusterIP."""
    api_server.add(
        coredns(replicas=2),
        dns_slice("kube-system", "kube-dns", port, ["10.244.0.10", "10.244.0.11"]),
        workload(
            "DaemonSet",
            "kube-system",
            "node-local-dns",
            ["registry.k8s.io/dns/k8s-dns-node-cache:1.23.1"],
            NODE_LOCAL,
            args=["-localip", "169.254.20.10,10.96.0.10", "-conf", "/etc/Corefile"],
        ),
        configmap("kube-system", "node-local-dns", {"Corefile": NODE_LOCAL_COREFILE}),
        pod("kube-system", "coredns-a", "10.244.0.10", KUBE_DNS, port=port),
        pod("kube-system", "coredns-b", "10.244.0.11", KUBE_DNS, port=port),
        pod("kube-system", "node-local-dns-w1", "172.18.0.2", NODE_LOCAL, node="worker-1"),
    )


def test_coredns_with_node_local_prints_the_path_and_blames_the_stale_cache(
    run, api_server, kubeconfig: Path, make_knot
) -> None:
    """CoreDNS ×2 1.12.0 behind NodeLocal DNSCache; the node cache holds eureka-1's old IP."""
    coredns_with_node_local(api_server)
    for name in ("coredns-a", "coredns-b"):
        forward_to_knot(api_server, make_knot, "kube-system", name)
    forward_to_knot(
        api_server, make_knot, "kube-system", "node-local-dns-w1", zones=stale_eureka1_zones()
    )
    api_server.clear_log()
    result = inspect_live(run, kubeconfig)
    assert result.code == ExitCode.MISMATCH, result.err
    doc = result.json()
    assert doc["path"]["text"] == (
        "pod → node-local 169.254.20.10 (cache 30/5) → CoreDNS ×2 1.12.0 :53"
    )
    assert doc["path"]["layers"][0]["addresses"] == [
        "169.254.20.10",
        "10.0.0.10",
    ]  # the kube-dns ClusterIP
    assert doc["settings"]["dnsServer"] == {
        "flavour": "coredns",
        "version": "1.12.0",
        "versionSource": "image tag",
    }
    assert doc["layers"] == {
        "coredns-a (port-forward)": "CoreDNS replica coredns-a",
        "coredns-b (port-forward)": "CoreDNS replica coredns-b",
        "node-local-dns-w1 (port-forward)": "node-local on node worker-1",
    }
    assert forwarded(api_server) == {
        ("coredns-a", 53),
        ("coredns-b", 53),
        ("node-local-dns-w1", 53),
    }
    stale_findings = [f for f in doc["findings"] if f["code"] == "HSVC806"]
    assert stale_findings
    assert all(f["message"].startswith("node-local on node worker-1 ") for f in stale_findings)
    assert not any("CoreDNS replica" in f["message"].split(" holds")[0] for f in stale_findings)
    # The table says it once, at the top.
    table = run("inspect", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig), "--no-color")
    first = table.out.splitlines()[0]
    assert first.startswith("path: pod → node-local 169.254.20.10 (cache 30/5) → CoreDNS ×2")
    assert table.out.count("path: ") == 1
    # ... and which layer each answer column is.
    assert "node-local-dns-w1 = node-local on node worker-1" in table.out


def test_openshift_dns_pods_are_asked_on_5353(run, api_server, kubeconfig: Path, make_knot) -> None:
    api_server.remove("Service", "kube-system", "kube-dns")
    labels = {"dns.operator.openshift.io/daemonset-dns": "default"}
    api_server.add(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "openshift-dns"}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "dns-default", "namespace": "openshift-dns"},
            "spec": {
                "clusterIP": "172.30.0.10",
                "clusterIPs": ["172.30.0.10"],
                "selector": labels,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": "dns-tcp"},
                ],
            },
        },
        dns_slice("openshift-dns", "dns-default", 5353, ["10.128.0.4"]),
        workload(
            "DaemonSet",
            "openshift-dns",
            "dns-default",
            ["quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:0123"],
            labels,
        ),
        pod("openshift-dns", "dns-default-x1", "10.128.0.4", labels, port=5353),
    )
    forward_to_knot(api_server, make_knot, "openshift-dns", "dns-default-x1", 5353)
    api_server.clear_log()
    result = inspect_live(run, kubeconfig)
    assert result.code == ExitCode.OK, result.err
    doc = result.json()
    assert doc["path"]["text"].endswith("CoreDNS ×1 :5353")
    assert doc["path"]["distribution"] == "openshift" and doc["path"]["dnsPort"] == 5353
    assert forwarded(api_server) == {("dns-default-x1", 5353)}


def test_kube_dns_flavour_applies_kube_dns_rules(
    run, api_server, kubeconfig: Path, make_knot
) -> None:
    api_server.add(
        workload(
            "Deployment",
            "kube-system",
            "kube-dns",
            ["gke.gcr.io/k8s-dns-kube-dns:1.22.28", "gke.gcr.io/k8s-dns-dnsmasq-nanny:1.22.28"],
            KUBE_DNS,
        ),
        dns_slice("kube-system", "kube-dns", 53, ["10.8.0.5"]),
        pod("kube-system", "kube-dns-a", "10.8.0.5", KUBE_DNS),
    )
    forward_to_knot(api_server, make_knot, "kube-system", "kube-dns-a")
    api_server.clear_log()
    result = inspect_live(run, kubeconfig)
    doc = result.json()
    assert doc["path"]["text"] == "pod → Service kube-system/kube-dns 10.0.0.10 → kube-dns ×1 :53"
    assert doc["path"]["distribution"] == "gke"
    assert doc["settings"]["dnsServer"]["flavour"] == "kube-dns"
    assert doc["layers"] == {"kube-dns-a (port-forward)": "kube-dns replica kube-dns-a"}
    assert forwarded(api_server) == {("kube-dns-a", 53)}


def test_cloud_dns_has_no_dns_pods(run, api_server, kubeconfig: Path, make_knot) -> None:
    api_server.add(
        workload(
            "Deployment",
            "kube-system",
            "kube-dns",
            ["gke.gcr.io/k8s-dns-kube-dns:1.22.28"],
            KUBE_DNS,
            replicas=0,
        )
    )
    knot = make_knot(seed_zones())
    result = inspect_live(run, kubeconfig, "--nameserver", f"127.0.0.1:{knot.port}")
    doc = result.json()
    assert doc["path"]["flavour"] == "cloud-dns"
    assert doc["path"]["text"].endswith("Cloud DNS (no DNS pods; answered on the node)")
    assert doc["settings"]["dnsServer"]["flavour"] == "cloud-dns"


def test_k3s_node_hosts_and_version(run, api_server, kubeconfig: Path, make_knot) -> None:
    corefile = api_server.objects("ConfigMap")
    seed_corefile = next(c for c in corefile if c["metadata"]["name"] == "coredns")
    api_server.add(
        configmap(
            "kube-system",
            "coredns",
            {"Corefile": seed_corefile["data"]["Corefile"], "NodeHosts": "172.18.0.2 server-0\n"},
        ),
        workload(
            "Deployment",
            "kube-system",
            "coredns",
            ["rancher/mirrored-coredns-coredns:1.12.1"],
            KUBE_DNS,
        ),
        dns_slice("kube-system", "kube-dns", 53, ["10.42.0.3"]),
        pod("kube-system", "coredns-k3s", "10.42.0.3", KUBE_DNS),
    )
    forward_to_knot(api_server, make_knot, "kube-system", "coredns-k3s")
    api_server.clear_log()
    result = inspect_live(run, kubeconfig)
    assert result.code == ExitCode.OK, result.err
    doc = result.json()
    assert doc["path"]["distribution"] == "k3s" and doc["path"]["version"] == "1.12.1"
    assert doc["path"]["text"] == (
        "pod → Service kube-system/kube-dns 10.0.0.10 → CoreDNS ×1 1.12.1 :53"
    )
    assert forwarded(api_server) == {("coredns-k3s", 53)}
    assert any("NodeHosts" in n for n in doc["source"]["notes"])


def test_lint_names_a_udp_only_policy_and_a_dns_service_without_tcp(
    run, api_server, kubeconfig: Path
) -> None:
    api_server.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "dns-udp-only", "namespace": "ms"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"ports": [{"protocol": "UDP", "port": 53}]}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system"},
            "spec": {
                "clusterIP": "10.96.0.10",
                "clusterIPs": ["10.96.0.10"],
                "selector": KUBE_DNS,
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
            },
        },
    )
    api_server.clear_log()
    result = run("lint", "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json")
    found = {f["code"]: f for f in result.json()["findings"]}
    assert found["HSVC802"]["object"] == {
        "kind": "NetworkPolicy",
        "namespace": "ms",
        "name": "dns-udp-only",
    }
    assert "TCP, port: 53" in found["HSVC802"]["hint"]
    assert found["HSVC801"]["object"]["name"] == "kube-dns"
    assert result.code == ExitCode.MISMATCH
    # One LIST of NetworkPolicies, cluster-wide.
    assert api_server.count(path="/apis/networking.k8s.io/v1/networkpolicies") == 1


def policy(
    namespace: str, name: str, direction: str, selector: dict, *ports: tuple[str, int | str]
):
    kind = direction.capitalize()
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": selector} if selector else {},
            "policyTypes": [kind],
            direction: [{"ports": [{"protocol": proto, "port": port} for proto, port in ports]}],
        },
    }


def test_lint_checks_policies_against_the_dns_pods_real_port(
    run, api_server, kubeconfig: Path
) -> None:
    """DNS pods on 5353 (their EndpointSlice says so): policies opening 53 alone block DNS."""
    api_server.add(
        coredns(),
        dns_slice("kube-system", "kube-dns", 5353, ["10.244.0.10"]),
        pod("kube-system", "coredns-a", "10.244.0.10", KUBE_DNS, port=5353),
        # Egress from ms: UDP and TCP 53 in one policy, UDP 5353 in another; no TCP 5353.
        policy("ms", "dns-53", "egress", {}, ("UDP", 53), ("TCP", 53)),
        policy("ms", "dns-5353-udp", "egress", {}, ("UDP", 5353)),
        # Ingress to the DNS pods: 53 only, while they listen on 5353.
        policy("kube-system", "dns-in", "ingress", KUBE_DNS, ("UDP", 53), ("TCP", 53)),
    )
    api_server.clear_log()
    result = run("lint", "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert result.code == ExitCode.MISMATCH, result.err
    found = {(f["code"], f["object"]["name"]): f for f in result.json()["findings"]}
    udp_only = found[("HSVC802", "dns-5353-udp")]
    assert "UDP 5353 (the DNS pods' port) but not TCP 5353" in udp_only["message"]
    assert "'- protocol: TCP, port: 5353'" in udp_only["hint"]
    blocked = found[("HSVC807", "dns-in")]
    assert blocked["object"]["namespace"] == "kube-system"
    assert "ingress to the DNS pods" in blocked["message"] and "port 5353" in blocked["message"]
    assert "'- protocol: UDP, port: 5353' and '- protocol: TCP, port: 5353'" in blocked["hint"]
    assert ("HSVC802", "dns-53") not in found and ("HSVC807", "dns-53") not in found
    assert api_server.count(path="/apis/networking.k8s.io/v1/networkpolicies") == 1


def test_lint_evaluates_policy_peers_and_named_ports_live(
    run, api_server, kubeconfig: Path
) -> None:
    """Egress to the ClusterIP's ipBlock misses the DNS pods (after DNAT); ingress from web only."""
    dns = coredns()
    dns["spec"]["template"]["spec"]["containers"][0]["ports"] = [
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
    ]
    to_vip = policy("ms", "to-vip", "egress", {}, ("UDP", "dns"), ("TCP", "dns-tcp"))
    to_vip["spec"]["egress"][0]["to"] = [{"ipBlock": {"cidr": "10.0.0.10/32"}}]
    from_web = policy("kube-system", "dns-in", "ingress", KUBE_DNS, ("UDP", 53), ("TCP", 53))
    from_web["spec"]["ingress"][0]["from"] = [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}}
    ]
    api_server.add(
        dns,
        dns_slice("kube-system", "kube-dns", 53, ["10.244.0.10"]),
        pod("kube-system", "coredns-a", "10.244.0.10", KUBE_DNS),
        to_vip,
        from_web,
    )
    api_server.clear_log()
    result = run("lint", "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json")
    assert result.code == ExitCode.MISMATCH, result.err
    found = {(f["code"], f["object"]["name"]): f for f in result.json()["findings"]}
    egress = found[("HSVC807", "to-vip")]
    assert egress["severity"] == "error"
    assert "ipBlock 10.0.0.10/32" in egress["message"]
    assert "after the Service's DNAT, to the DNS pods' IPs (10.244.0.10)" in egress["message"]
    assert "kubernetes.io/metadata.name: kube-system" in egress["hint"]
    ingress = found[("HSVC807", "dns-in")]
    assert "ingress to the DNS pods from pod ms/" in ingress["message"]
    assert "kubernetes.io/metadata.name: ms" in ingress["hint"]
    # The named ports resolved (from the DNS Deployment's pod template): no uncertainty.
    assert not any(f["message"].startswith("uncertain") for f in found.values())
    assert api_server.count(path="/apis/networking.k8s.io/v1/networkpolicies") == 1


def test_lint_decides_namespace_selectors_from_the_namespaces_read(
    run, api_server, kubeconfig: Path
) -> None:
    """-A lists namespaces (labels known); -n ms reads only ms, so kube-system's are not."""
    to_platform = policy("ms", "to-platform", "egress", {}, ("UDP", 53), ("TCP", 53))
    to_platform["spec"]["egress"][0]["to"] = [
        {"namespaceSelector": {"matchLabels": {"team": "platform"}}}
    ]
    api_server.add(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "kube-system", "labels": {"team": "platform"}},
        },
        to_platform,
    )
    api_server.clear_log()
    every = run("lint", "-A", "--kubeconfig", str(kubeconfig), "-o", "json")
    names = {(f["code"], f["object"]["name"]) for f in every.json()["findings"]}
    assert ("HSVC807", "to-platform") not in names and ("HSVC802", "to-platform") not in names
    assert api_server.count(path="/api/v1/namespaces") == 1
    assert api_server.count(path="/apis/networking.k8s.io/v1/networkpolicies") == 1
    one = run("lint", "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json")
    (f,) = [f for f in one.json()["findings"] if f["object"]["name"] == "to-platform"]
    assert f["code"] == "HSVC807" and f["severity"] == "warning"
    assert f["message"].startswith("uncertain:") and "kube-system's labels" in f["message"]


# --- transport: real answers over UDP and TCP ----------------------------------------------------


def test_a_big_headless_answer_is_flagged_tcp_only_with_the_fix(
    run, api_server, kubeconfig: Path, make_knot
) -> None:
    """600 endpoints: the per-port SRV set fits TCP only, the A set is over 512 bytes."""
    from tests.integration import test_large_answers as big

    api_server.add(*big.objects())
    knot = make_knot(big.zones())
    result = run(
        "inspect",
        "kafka",
        "-n",
        big.NS,
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "-o",
        "json",
    )
    found = {f["code"]: f for f in result.json()["findings"]}
    tcp_only = found["HSVC804"]
    assert tcp_only["object"] == {"kind": "Service", "namespace": big.NS, "name": "kafka"}
    assert "complete only over TCP" in tcp_only["message"]
    assert "retries over TCP" in tcp_only["hint"]
    assert "HSVC805" not in found  # knotd answers over TCP


def kafka_inspect(run, kubeconfig: Path, server: str, *, whole: bool = False):
    """``inspect kafka``, or with ``whole`` the namespace (every pod in it in scope)."""
    from tests.integration import test_large_answers as big

    return run(
        "inspect",
        *(() if whole else ("kafka",)),
        "-n",
        big.NS,
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        server,
        "--timeout",
        "1",
        "-o",
        "json",
    )


def test_an_answer_over_512_bytes_is_measured_without_edns(
    run, api_server, kubeconfig: Path, make_knot
) -> None:
    """40 endpoints: the A set (~700 bytes) fits EDNS; knotd truncates it without EDNS."""
    from tests.integration import test_large_answers as big

    api_server.add(
        *big.objects(40),
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "client", "namespace": big.NS, "labels": {"app": "client"}},
            "spec": {"containers": [{"name": "c", "image": "alpine:3.19"}]},
            "status": {"phase": "Running", "podIP": "10.77.9.9", "podIPs": [{"ip": "10.77.9.9"}]},
        },
    )
    knot = make_knot(big.zones(40))
    # The whole namespace: the alpine client is in scope (one Service's inspect reads its pods).
    doc = kafka_inspect(run, kubeconfig, f"127.0.0.1:{knot.port}", whole=True).json()
    a_row = next(
        r for r in doc["rows"] if r["name"] == "kafka.big.svc.cluster.local." and r["type"] == "A"
    )
    (seen,) = a_row["actual"]
    carried = seen["transport"]
    assert carried["ednsTruncated"] is False and 512 < carried["ednsSize"] <= 1232
    assert carried["plainTruncated"] is True and carried["plainSize"] <= 512
    assert carried["tcpSize"] >= carried["ednsSize"] - 11 and carried["tcpError"] == ""
    small = next(r for r in doc["rows"] if r["name"] == "kafka-0.kafka.big.svc.cluster.local.")
    assert small["actual"][0]["transport"]["plainSize"] is None  # asked once: it fits
    found = [f for f in doc["findings"] if f["code"] == "HSVC803"]
    assert found and found[0]["object"] == {"kind": "Service", "namespace": big.NS, "name": "kafka"}
    assert "without EDNS truncated (TC)" in found[0]["message"]
    assert "only works over TCP" in found[0]["message"] and "edns0" in found[0]["hint"]
    assert "musl-looking pods here: client (alpine:3.19)" in found[0]["message"]
    assert not [f for f in doc["findings"] if f["code"] == "HSVC805"]


def test_a_dns_path_that_closes_tcp_is_named_with_the_fix(
    run, api_server, kubeconfig: Path, make_knot, make_bad_dns
) -> None:
    """UDP reaches knotd, TCP is closed: the answers over 512 bytes fail for clients without EDNS."""
    from tests.integration import test_large_answers as big

    api_server.add(*big.objects(40))
    knot = make_knot(big.zones(40))
    relay = make_bad_dns("udp-relay", upstream=knot.nameserver)
    doc = kafka_inspect(run, kubeconfig, f"127.0.0.1:{relay.port}").json()
    (refused,) = [f for f in doc["findings"] if f["code"] == "HSVC805"]
    assert refused["object"]["name"] == f"127.0.0.1:{relay.port}"
    assert "connection closed by server" in refused["message"]
    assert "open TCP 53" in refused["hint"]
    assert relay.tcp_connections >= 1


def test_a_server_that_truncates_and_refuses_tcp(run, make_bad_dns) -> None:
    """UDP answers come back truncated, the TCP retry is closed: HSVC805 names the server."""
    bad = make_bad_dns("truncate")
    seed = str(Path(__file__).resolve().parents[1] / "data" / "seed" / "ms.yaml")
    result = run(
        "inspect",
        "eureka",
        "-n",
        "ms",
        "-f",
        seed,
        "--nameserver",
        f"127.0.0.1:{bad.port}",
        "--timeout",
        "1",
        "-o",
        "json",
    )
    found = [f for f in result.json()["findings"] if f["code"] == "HSVC805"]
    assert len(found) == 1, result.err
    assert found[0]["object"]["name"] == f"127.0.0.1:{bad.port}"
    assert "not over TCP" in found[0]["message"] and "open TCP 53" in found[0]["hint"]
    assert bad.tcp_connections >= 1


def test_lint_offline_reads_network_policies_and_the_dns_service(run, tmp_path: Path) -> None:
    manifest = tmp_path / "dns.yaml"
    manifest.write_text(
        """\
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  clusterIP: 10.96.0.10
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns-in, namespace: kube-system}
spec:
  podSelector: {matchLabels: {k8s-app: kube-dns}}
  policyTypes: [Ingress]
  ingress:
  - ports:
    - {protocol: UDP, port: 53}
""",
        encoding="utf-8",
    )
    result = run("lint", "-f", str(manifest), "-o", "json")
    found = {f["code"]: f for f in result.json()["findings"]}
    assert found["HSVC801"]["object"]["name"] == "kube-dns"
    assert "HSVC807" not in found  # UDP 53 is open: only TCP is missing
    assert found["HSVC802"]["object"] == {
        "kind": "NetworkPolicy",
        "namespace": "kube-system",
        "name": "dns-in",
    }
    assert result.code == ExitCode.MISMATCH


def test_lint_offline_evaluates_policy_peers(run, tmp_path: Path) -> None:
    """An ipBlock on the ClusterIP misses the DNS pods; unknown namespace labels are uncertain."""
    manifest = tmp_path / "dns.yaml"
    manifest.write_text(
        """\
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  clusterIP: 10.96.0.10
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns-a, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  containers:
  - name: coredns
    image: registry.k8s.io/coredns/coredns:v1.12.0
    ports:
    - {name: dns, containerPort: 53, protocol: UDP}
    - {name: dns-tcp, containerPort: 53, protocol: TCP}
status: {phase: Running, podIP: 10.244.0.10, podIPs: [{ip: 10.244.0.10}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: to-vip, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.96.0.0/24}}]
    ports: [{protocol: UDP, port: dns}, {protocol: TCP, port: dns-tcp}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: to-platform, namespace: web}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {team: platform}}}]
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
---
apiVersion: v1
kind: Pod
metadata: {name: cart, namespace: shop, labels: {app: cart}}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: front, namespace: web, labels: {app: front}}
spec: {containers: [{name: c, image: nginx}]}
""",
        encoding="utf-8",
    )
    result = run("lint", "-f", str(manifest), "-o", "json")
    found = {f["object"]["name"]: f for f in result.json()["findings"] if f["code"] == "HSVC807"}
    vip = found["to-vip"]
    assert vip["severity"] == "error" and "egress from cart" in vip["message"]
    assert "covers the ClusterIP 10.96.0.10" in vip["message"] and "10.244.0.10" in vip["message"]
    platform = found["to-platform"]
    assert platform["severity"] == "warning" and platform["message"].startswith("uncertain:")
    assert "namespace kube-system's labels are not in the input" in platform["message"]
    assert result.code == ExitCode.MISMATCH


def test_lint_offline_takes_the_dns_pods_port_from_the_services_target_port(
    run, tmp_path: Path
) -> None:
    manifest = tmp_path / "dns.yaml"
    manifest.write_text(
        """\
apiVersion: v1
kind: Service
metadata: {name: dns-default, namespace: openshift-dns}
spec:
  clusterIP: 172.30.0.10
  selector: {dns.operator.openshift.io/daemonset-dns: default}
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 5353}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 5353}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: nginx}]}
""",
        encoding="utf-8",
    )
    result = run("lint", "-f", str(manifest), "-o", "json")
    found = [f for f in result.json()["findings"] if f["code"] == "HSVC807"]
    assert [f["object"]["name"] for f in found] == ["default-deny-egress"]
    assert "neither UDP nor TCP on ports 53 and 5353 (the DNS pods' port)" in found[0]["message"]
    assert "egress from web" in found[0]["message"]
    assert "'- protocol: TCP, port: 5353' to an egress rule" in found[0]["hint"]
    assert result.code == ExitCode.MISMATCH


@pytest.mark.parametrize(
    ("version", "ptr_of_hostname_less", "dashed"),
    [
        pytest.param("1.11.3", True, "fd00-1--", id="before-6898"),
        pytest.param("1.12.0", False, "fd00-1--", id="6898"),
        pytest.param("1.12.1", True, "fd00-1--", id="7194-revert"),
        pytest.param("1.12.3", True, "fd00-1--0", id="7431"),
    ],
)
def test_rule36_rule06_dns_version_changes_ptr_and_ipv6_names(
    run, version: str, ptr_of_hostname_less: bool, dashed: str
) -> None:
    """``records -f --dns-version``: the PTR of an endpoint without hostname, the dashed IPv6."""
    manifest = Path(__file__).resolve().parents[1] / "data" / "flavour" / "dns-version.yaml"
    result = run("records", "-f", str(manifest), "-n", "ms", "--dns-version", version, "-o", "json")
    assert result.code == ExitCode.OK, result.err
    doc = result.json()
    assert doc["settings"]["dnsServer"]["version"] == version
    records = {(r["name"], r["type"]): r["data"] for r in doc["records"]}
    ptr = records.get(("6.0.244.10.in-addr.arpa.", "PTR"))
    assert ptr == ("10-244-0-6.db.ms.svc.cluster.local." if ptr_of_hostname_less else None)
    assert records[(f"{dashed}.db.ms.svc.cluster.local.", "AAAA")] == "fd00:1::"
    other = "fd00-1--0" if dashed == "fd00-1--" else "fd00-1--"
    assert (f"{other}.db.ms.svc.cluster.local.", "AAAA") not in records


def test_version_bind_beats_the_image_tag(run, api_server, kubeconfig: Path, make_knot) -> None:
    """The chaos plugin's CH TXT answer names the version; a mirror's tag says "latest"."""
    api_server.add(
        workload(
            "Deployment", "kube-system", "coredns", ["mirror.example/coredns:latest"], KUBE_DNS
        ),
        dns_slice("kube-system", "kube-dns", 53, ["10.244.0.10"]),
        pod("kube-system", "coredns-a", "10.244.0.10", KUBE_DNS),
    )
    forward_to_knot(api_server, make_knot, "kube-system", "coredns-a", version="CoreDNS-1.11.4")
    doc = inspect_live(run, kubeconfig).json()
    assert doc["settings"]["dnsServer"] == {
        "flavour": "coredns",
        "version": "1.11.4",
        "versionSource": "version.bind",
    }
    assert doc["path"]["text"].endswith("CoreDNS ×1 1.11.4 :53")
    # --dns-version wins, and then version.bind is not even asked for.
    pinned = inspect_live(run, kubeconfig, "--dns-version", "1.12.1").json()
    assert pinned["settings"]["dnsServer"]["version"] == "1.12.1"
