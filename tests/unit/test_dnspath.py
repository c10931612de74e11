"""Resolver path discovery from the objects around the DNS Service, per flavour (hsvc.core.dnspath)."""

from __future__ import annotations

from hsvc.core.corefile import parse_corefile
from hsvc.core.dnspath import ConfigText, DnsWorkload, PathObjects, discover
from hsvc.core.model import EndpointPort, labels_of
from hsvc.core.vocabulary import Flavour
from tests.conftest import make_endpoint, make_service, make_slice

KUBE_DNS_SELECTOR = {"k8s-app": "kube-dns"}

NODE_LOCAL_COREFILE = """\
cluster.local:53 {
    errors
    cache {
        success 9984 30
        denial 9984 5
    }
    reload
    loop
    bind 169.254.20.10 10.96.0.10
    forward . __PILLAR__CLUSTER__DNS__ {
        force_tcp
    }
    prometheus :9253
}
.:53 {
    bind 169.254.20.10 10.96.0.10
    forward . __PILLAR__UPSTREAM__SERVERS__
}
"""


def dns_service(namespace: str = "kube-system", name: str = "kube-dns", *, tcp: bool = True):
    ports = [("dns", 53, "UDP")] + ([("dns-tcp", 53, "TCP")] if tcp else [])
    return make_service(
        name, namespace, cluster_ip="10.96.0.10", ports=ports, selector=KUBE_DNS_SELECTOR
    )


def dns_slice(port: int, *ips: str, namespace: str = "kube-system", name: str = "kube-dns"):
    sl = make_slice(
        name,
        [make_endpoint(ip, namespace=namespace) for ip in ips],
        namespace=namespace,
        ports=[("dns", port, "UDP"), ("dns-tcp", port, "TCP")],
    )
    return sl


def deployment(image: str, *, name: str = "coredns", replicas: int = 2, namespace="kube-system"):
    return DnsWorkload(
        kind="Deployment",
        namespace=namespace,
        name=name,
        labels=labels_of(KUBE_DNS_SELECTOR),
        images=(image,),
        replicas=replicas,
        ready=replicas,
        selector=labels_of(KUBE_DNS_SELECTOR),
    )


NODE_LOCAL = DnsWorkload(
    kind="DaemonSet",
    namespace="kube-system",
    name="node-local-dns",
    images=("registry.k8s.io/dns/k8s-dns-node-cache:1.23.1",),
    args=("-localip", "169.254.20.10,10.96.0.10", "-conf", "/etc/Corefile"),
    replicas=3,
    ready=3,
    selector=labels_of({"k8s-app": "node-local-dns"}),
)


def test_coredns_with_node_local_cache():
    path = discover(
        PathObjects(
            service=dns_service(),
            slices=(dns_slice(53, "10.244.0.2", "10.244.0.3"),),
            workloads=(deployment("registry.k8s.io/coredns/coredns:v1.12.0"), NODE_LOCAL),
            config_maps=(
                ConfigText(
                    namespace="kube-system",
                    name="node-local-dns",
                    data=(("Corefile", NODE_LOCAL_COREFILE),),
                ),
            ),
        )
    )
    assert path.text == "pod → node-local 169.254.20.10 (cache 30/5) → CoreDNS ×2 1.12.0 :53"
    assert path.flavour is Flavour.COREDNS and path.version == "1.12.0"
    assert path.version_source == "image tag"
    assert path.node_local is not None
    assert path.node_local.addresses == ("169.254.20.10", "10.96.0.10")
    assert path.node_local.pods == ("kube-system", "k8s-app=node-local-dns")
    assert path.servers is not None and path.servers.addresses == ("10.244.0.2", "10.244.0.3")


def test_version_bind_wins_over_the_image_tag():
    path = discover(
        PathObjects(
            service=dns_service(),
            slices=(dns_slice(53, "10.244.0.2"),),
            workloads=(deployment("mirror.example/coredns:latest", replicas=1),),
            version_bind='"CoreDNS-1.11.4"',
        )
    )
    assert (path.version, path.version_source) == ("1.11.4", "version.bind")
    assert path.text.endswith("CoreDNS ×1 1.11.4 :53")


def test_version_bind_of_another_server_is_not_a_coredns_version():
    path = discover(
        PathObjects(
            service=dns_service(),
            slices=(dns_slice(53, "10.244.0.2"),),
            workloads=(deployment("registry.k8s.io/coredns/coredns:v1.12.0", replicas=1),),
            version_bind='"Knot DNS 3.2.6"',
        )
    )
    assert (path.version, path.version_source) == ("1.12.0", "image tag")


def test_kube_dns_flavour():
    path = discover(
        PathObjects(
            service=dns_service(),
            slices=(dns_slice(53, "10.8.0.5"),),
            workloads=(
                DnsWorkload(
                    kind="Deployment",
                    namespace="kube-system",
                    name="kube-dns",
                    images=(
                        "gke.gcr.io/k8s-dns-kube-dns:1.22.28",
                        "gke.gcr.io/k8s-dns-dnsmasq-nanny:1.22.28",
                    ),
                    replicas=1,
                    ready=1,
                ),
            ),
        )
    )
    assert path.flavour is Flavour.KUBE_DNS and path.distribution == "gke"
    assert path.text == "pod → Service kube-system/kube-dns 10.96.0.10 → kube-dns ×1 :53"


def test_cloud_dns_has_no_dns_pods():
    path = discover(
        PathObjects(
            service=dns_service(),
            slices=(),
            workloads=(deployment("gke.gcr.io/k8s-dns-kube-dns:1.22.28", replicas=0),),
        )
    )
    assert path.flavour is Flavour.CLOUD_DNS
    assert "no DNS pods" in path.text and path.servers is None


def test_unreadable_deployments_are_not_cloud_dns():
    path = discover(
        PathObjects(service=dns_service(), unreadable=("deployments.apps in kube-system",))
    )
    assert path.flavour is Flavour.COREDNS


def test_openshift_dns_pods_listen_on_5353():
    svc = dns_service("openshift-dns", "dns-default")
    path = discover(
        PathObjects(
            service=svc,
            slices=(dns_slice(5353, "10.128.0.4", namespace="openshift-dns", name="dns-default"),),
            workloads=(
                DnsWorkload(
                    kind="DaemonSet",
                    namespace="openshift-dns",
                    name="dns-default",
                    images=("quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:abc",),
                    replicas=3,
                    ready=3,
                ),
            ),
        )
    )
    assert path.distribution == "openshift" and path.dns_port == 5353
    assert path.text.endswith(":5353")


def test_k3s_node_hosts_and_dns_port_from_the_slice_not_53():
    path = discover(
        PathObjects(
            service=dns_service(),
            slices=(dns_slice(8053, "10.42.0.3"),),
            workloads=(deployment("rancher/mirrored-coredns-coredns:1.12.1", replicas=1),),
            config_maps=(
                ConfigText(
                    namespace="kube-system",
                    name="coredns",
                    data=(("Corefile", ".:53 {}"), ("NodeHosts", "10.0.0.1 node-1")),
                ),
            ),
        )
    )
    assert path.distribution == "k3s" and path.version == "1.12.1"
    assert path.dns_port == 8053 and path.dns_tcp_port == 8053
    assert any("NodeHosts" in n for n in path.notes)


def test_service_without_tcp_53():
    assert not discover(PathObjects(service=dns_service(tcp=False))).service_tcp_53
    assert discover(PathObjects(service=dns_service())).service_tcp_53


def test_slice_ports_without_numbers_fall_back_to_the_target_port():
    sl = dns_slice(53, "10.244.0.2")
    sl = type(sl)(
        namespace=sl.namespace,
        name=sl.name,
        service_name=sl.service_name,
        endpoints=sl.endpoints,
        ports=(EndpointPort(name="dns", protocol="UDP", port=None),),
    )
    assert discover(PathObjects(service=dns_service(), slices=(sl,))).dns_port == 53


AKS_COREFILE = """\
.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    import custom/*.override
}
import custom/*.server
"""


def test_coredns_custom_imports_are_merged_into_the_settings():
    imports = {
        "zonal.override": "log\n",
        "corp.server": "corp.internal:53 {\n    kubernetes corp.internal {\n    ttl 7\n  }\n}\n",
        "ignored.txt": "nonsense {",
    }
    settings = parse_corefile(AKS_COREFILE, source="ConfigMap kube-system/coredns", imports=imports)
    assert settings.primary_zone == "cluster.local."
    assert "imports zonal.override, corp.server" in settings.source


def test_an_imported_server_block_can_carry_the_kubernetes_plugin():
    corefile = "import custom/*.server\n"
    imports = {"k8s.server": ".:53 {\n  kubernetes example.test {\n    ttl 9\n  }\n}\n"}
    settings = parse_corefile(corefile, source="Corefile", imports=imports)
    assert settings.primary_zone == "example.test." and settings.ttl == 9
