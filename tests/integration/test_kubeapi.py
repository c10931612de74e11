"""hsvc.adapters.kubeapi against the emulated apiserver, reached only through kubeconfig files."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from hsvc.adapters.kubeapi import DnsConfig, KubeTarget
from hsvc.core.model import (
    Endpoint,
    EndpointPort,
    LabelSelector,
    Namespace,
    ObjectRef,
    ServicePort,
    labels_of,
)
from hsvc.errors import (
    AccessDeniedError,
    ApiUnreachableError,
    ExitCode,
    NotFoundError,
    UsageError,
)
from tests.integration.api_fixtures import (
    CONTEXT,
    SEED_FILES,
    TOKEN,
    open_source,
    write_kubeconfig,
)
from tests.integration.apiserver import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_ambient_kubeconfig")]

EUREKA_IPS = {"eureka-0": "10.244.1.210", "eureka-1": "10.244.2.45", "eureka-2": "10.244.1.211"}
NS_PATHS = {
    "namespace": "/api/v1/namespaces/ms",
    "services": "/api/v1/namespaces/ms/services",
    "slices": "/apis/discovery.k8s.io/v1/namespaces/ms/endpointslices",
    "pods": "/api/v1/namespaces/ms/pods",
    "statefulsets": "/apis/apps/v1/namespaces/ms/statefulsets",
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_pods(api: ApiServer, count: int) -> None:
    """Add ``count`` ready eureka-like pods and one slice listing them."""
    pods, endpoints = [], []
    for i in range(count):
        name, ip = f"bulk-{i:04d}", f"10.245.{i // 250}.{i % 250 + 1}"
        pods.append(
            {
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "ms", "labels": {"app": "bulk"}},
                "spec": {"hostname": name, "subdomain": "bulk"},
                "status": {
                    "phase": "Running",
                    "podIPs": [{"ip": ip}],
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            }
        )
        endpoints.append(
            {
                "addresses": [ip],
                "conditions": {"ready": True},
                "hostname": name,
                "targetRef": {"kind": "Pod", "namespace": "ms", "name": name},
            }
        )
    api.add(
        {
            "kind": "Service",
            "metadata": {"name": "bulk", "namespace": "ms"},
            "spec": {"clusterIP": "None", "selector": {"app": "bulk"}, "ports": [{"port": 80}]},
        },
        {
            "kind": "EndpointSlice",
            "metadata": {
                "name": "bulk-xyz",
                "namespace": "ms",
                "labels": {"kubernetes.io/service-name": "bulk"},
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
        },
        *pods,
    )


# --- snapshot contents -------------------------------------------------------------------------


def test_target_names_context_server_and_namespace(api_server: ApiServer, kubeconfig: Path):
    with open_source(kubeconfig) as source:
        assert source.target == KubeTarget(context=CONTEXT, server=api_server.url, namespace="ms")
    assert api_server.log == []  # connecting sends nothing


def test_snapshot_of_namespace_converts_the_seed(api_server: ApiServer, kubeconfig: Path):
    with open_source(kubeconfig) as source:
        snap = source.snapshot("ms", None)

    assert snap.unreadable == ()
    assert snap.namespaces == (
        Namespace(
            name="ms", labels=labels_of({"kubernetes.io/metadata.name": "ms", "project": "ms"})
        ),
    )
    services = {s.name: s for s in snap.services}
    assert sorted(services) == ["eureka", "gateway", "mysql-production", "portal"]
    eureka = services["eureka"]
    assert eureka.is_headless
    assert eureka.ports == (
        ServicePort(name="eureka", protocol="TCP", port=8888, target_port=8888),
    )
    assert eureka.selector == labels_of({"app": "eureka", "project": "ms"})
    assert services["gateway"].cluster_ips == ("10.0.0.14",)
    assert services["gateway"].ports[0].port == 9999
    assert services["mysql-production"].cluster_ips == ("10.0.0.251",)
    assert services["portal"].ports[0].port == 8080

    slices = {s.name: s for s in snap.endpoint_slices}
    assert sorted(slices) == ["eureka-abcde", "gateway-abcde"]
    eureka_slice = slices["eureka-abcde"]
    assert eureka_slice.service_name == "eureka"
    assert eureka_slice.ports == (EndpointPort(name="eureka", protocol="TCP", port=8888),)
    assert {e.hostname: e.addresses for e in eureka_slice.endpoints} == {
        name: (ip,) for name, ip in EUREKA_IPS.items()
    }
    first = eureka_slice.endpoints[0]
    assert first == Endpoint(
        addresses=("10.244.1.210",),
        ready=True,
        serving=True,
        terminating=False,
        hostname="eureka-0",
        target_ref=ObjectRef(kind="Pod", namespace="ms", name="eureka-0"),
        node_name="worker-1",
    )

    pods = {p.name: p for p in snap.pods}
    assert sorted(pods) == ["eureka-0", "eureka-1", "eureka-2", "gateway-7d9f8-abcde"]
    for name, ip in EUREKA_IPS.items():
        pod = pods[name]
        assert (pod.pod_ips, pod.hostname, pod.subdomain) == ((ip,), name, "eureka")
        assert pod.ready and not pod.deleting and pod.phase == "Running"
        assert pod.owner == ObjectRef(kind="StatefulSet", namespace="ms", name="eureka")
    assert pods["gateway-7d9f8-abcde"].pod_ips == ("10.244.1.212",)
    assert pods["gateway-7d9f8-abcde"].owner == ObjectRef(
        kind="ReplicaSet", namespace="ms", name="gateway-7d9f8"
    )

    (sts,) = snap.stateful_sets
    assert (sts.name, sts.service_name, sts.replicas) == ("eureka", "eureka", 3)
    assert sts.selector == LabelSelector(match_labels=labels_of({"app": "eureka", "project": "ms"}))
    assert api_server.mutations == []


def test_snapshot_of_namespace_sends_five_requests(api_server: ApiServer, kubeconfig: Path):
    with open_source(kubeconfig) as source:
        source.snapshot("ms", None)
    # The namespace first, alone; then the four LISTs side by side, in any order.
    sent = [(r.path, r.query) for r in api_server.log]
    assert sent[0] == (NS_PATHS["namespace"], {})
    assert sorted(sent[1:], key=repr) == sorted(
        [
            (NS_PATHS["services"], {"limit": "1000"}),
            (NS_PATHS["slices"], {"labelSelector": "kubernetes.io/service-name", "limit": "1000"}),
            (NS_PATHS["pods"], {"limit": "1000"}),
            (NS_PATHS["statefulsets"], {"limit": "1000"}),
        ],
        key=repr,
    )


def test_snapshot_of_one_service_keeps_only_its_objects(api_server: ApiServer, kubeconfig: Path):
    with open_source(kubeconfig) as source:
        snap = source.snapshot("ms", "eureka")
    assert [s.name for s in snap.services] == ["eureka"]
    assert [s.name for s in snap.endpoint_slices] == ["eureka-abcde"]
    assert [p.name for p in snap.pods] == ["eureka-0", "eureka-1", "eureka-2"]
    assert [s.name for s in snap.stateful_sets] == ["eureka"]
    # The namespace, then the Service, each alone; then three LISTs side by side.
    sent = [(r.path, r.query) for r in api_server.log]
    assert sent[:2] == [(NS_PATHS["namespace"], {}), ("/api/v1/namespaces/ms/services/eureka", {})]
    assert sorted(sent[2:], key=repr) == sorted(
        [
            (
                NS_PATHS["slices"],
                {"labelSelector": "kubernetes.io/service-name=eureka", "limit": "1000"},
            ),
            (NS_PATHS["pods"], {"limit": "1000"}),
            (NS_PATHS["statefulsets"], {"limit": "1000"}),
        ],
        key=repr,
    )


def test_snapshot_of_one_service_keeps_pods_found_by_subdomain(
    api_server: ApiServer, kubeconfig: Path
):
    # A pod the selector misses but whose subdomain names the Service still gets
    # hostname records if it is in a slice; hsvc must see it to explain that.
    api_server.add(
        {
            "kind": "Pod",
            "metadata": {"name": "stray", "namespace": "ms", "labels": {"app": "other"}},
            "spec": {"hostname": "stray", "subdomain": "gateway"},
            "status": {"phase": "Running", "podIP": "10.244.3.3"},
        }
    )
    with open_source(kubeconfig) as source:
        snap = source.snapshot("ms", "gateway")
    assert [p.name for p in snap.pods] == ["gateway-7d9f8-abcde", "stray"]
    assert snap.stateful_sets == ()


def test_service_defaults_to_the_context_namespace(api_server: ApiServer, kubeconfig: Path):
    with open_source(kubeconfig) as source:
        snap = source.snapshot(None, "gateway")
    assert [s.namespace for s in snap.services] == ["ms"]


def test_snapshot_of_all_namespaces_uses_cluster_wide_lists(
    api_server: ApiServer, kubeconfig: Path
):
    with open_source(kubeconfig) as source:
        snap = source.snapshot(None, None)
    assert {n.name for n in snap.namespaces} == {"default", "kube-system", "ms"}
    assert {(s.namespace, s.name) for s in snap.services} >= {
        ("default", "kubernetes"),
        ("kube-system", "kube-dns"),
        ("ms", "eureka"),
    }
    sent = [r.path for r in api_server.log]
    assert sent[0] == "/api/v1/namespaces"
    assert sorted(sent[1:]) == sorted(
        [
            "/api/v1/services",
            "/apis/discovery.k8s.io/v1/endpointslices",
            "/api/v1/pods",
            "/apis/apps/v1/statefulsets",
        ]
    )


# --- constant request count and pagination -------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "service"),
    [("ms", "bulk"), ("ms", None), (None, None)],
    ids=["service", "namespace", "all-namespaces"],
)
def test_request_count_does_not_grow_with_pods(
    api_server: ApiServer, kubeconfig: Path, namespace: str | None, service: str | None
):
    page = 100
    add_pods(api_server, 3)
    with open_source(kubeconfig, page_size=page) as source:
        small = source.snapshot(namespace, service)
        first_pages_small = sum(r.is_list for r in api_server.log)
        total_small = len(api_server.log)
        api_server.reset()
        api_server.add_yaml(*SEED_FILES)
        add_pods(api_server, 300)
        big = source.snapshot(namespace, service)
    bulk = [p for p in big.pods if p.name.startswith("bulk-")]
    assert len([p for p in small.pods if p.name.startswith("bulk-")]) == 3
    assert len(bulk) == 300
    assert sum(r.is_list for r in api_server.log) == first_pages_small
    # Only pods span pages: 300 bulk pods plus at most 4 seed pods need 4 pages of 100.
    pod_pages = math.ceil(len(api_server.objects("Pod")) / page)
    continued = [r for r in api_server.log if "continue" in r.query]
    assert len(continued) == pod_pages - 1
    assert all(r.path.endswith("/pods") for r in continued)
    assert len(api_server.log) == total_small + pod_pages - 1


def test_pagination_returns_every_item_once(api_server: ApiServer, kubeconfig: Path):
    add_pods(api_server, 7)
    with open_source(kubeconfig, page_size=2) as source:
        paged = source.snapshot("ms", None)
    with open_source(kubeconfig) as source:
        whole = source.snapshot("ms", None)
    assert paged == whole
    assert len(paged.pods) == 11
    pod_requests = api_server.requests(path=NS_PATHS["pods"])
    assert len(pod_requests) == math.ceil(11 / 2) + 1  # paged pages + the unpaged list
    assert all(r.query["limit"] == "2" for r in pod_requests[:6])
    assert len({r.query.get("continue") for r in pod_requests[:6]}) == 6


# --- not found ---------------------------------------------------------------------------------


def test_missing_service_is_not_found(api_server: ApiServer, kubeconfig: Path):
    with open_source(kubeconfig) as source, pytest.raises(NotFoundError) as info:
        source.snapshot("ms", "nope")
    assert info.value.exit_code == ExitCode.NOT_FOUND
    assert str(info.value) == (
        f'service "nope" not found in namespace "ms" (context "{CONTEXT}", server {api_server.url})'
    )


def test_missing_service_suggests_a_close_name_from_one_list(
    api_server: ApiServer, kubeconfig: Path
):
    with open_source(kubeconfig) as source, pytest.raises(NotFoundError) as info:
        source.snapshot("ms", "eurka")
    assert str(info.value).endswith('; did you mean "eureka"?')
    # The GET that found nothing, then one LIST of the namespace's Services for the hint.
    assert api_server.count() <= 3


def test_missing_namespace_is_not_found(api_server: ApiServer, kubeconfig: Path):
    with open_source(kubeconfig) as source, pytest.raises(NotFoundError) as info:
        source.snapshot("nope", None)
    assert str(info.value) == (
        f'namespace "nope" not found (context "{CONTEXT}", server {api_server.url})'
    )
    assert api_server.count() == 1


# --- access denied and degraded reads -----------------------------------------------------------


def test_rejected_credentials_are_access_denied(api_server: ApiServer, kubeconfig: Path):
    api_server.inject("*", status=401)
    with open_source(kubeconfig) as source, pytest.raises(AccessDeniedError) as info:
        source.snapshot("ms", None)
    assert info.value.exit_code == ExitCode.ACCESS_DENIED
    assert str(info.value) == (
        f'unauthorized: the credentials of context "{CONTEXT}" were rejected by '
        f"{api_server.url}; renew them (log in again)"
    )
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    ("path", "note"),
    [
        (NS_PATHS["pods"], "pods (list forbidden in namespace ms)"),
        (NS_PATHS["statefulsets"], "statefulsets.apps (list forbidden in namespace ms)"),
        (NS_PATHS["slices"], "endpointslices.discovery.k8s.io (list forbidden in namespace ms)"),
    ],
    ids=["pods", "statefulsets", "endpointslices"],
)
def test_forbidden_optional_kind_degrades(
    api_server: ApiServer, kubeconfig: Path, path: str, note: str
):
    api_server.inject(path, status=403)
    with open_source(kubeconfig) as source:
        snap = source.snapshot("ms", "eureka")
    assert snap.unreadable == (note,)
    assert [s.name for s in snap.services] == ["eureka"]
    assert api_server.count(path=path) == 1


def test_forbidden_pods_leave_the_rest_intact(api_server: ApiServer, kubeconfig: Path):
    api_server.inject(NS_PATHS["pods"], status=403)
    with open_source(kubeconfig) as source:
        snap = source.snapshot("ms", None)
    assert snap.pods == ()
    assert len(snap.services) == 4 and len(snap.endpoint_slices) == 2
    assert len(snap.stateful_sets) == 1


def test_forbidden_services_is_an_error(api_server: ApiServer, kubeconfig: Path):
    api_server.inject(NS_PATHS["services"], status=403)
    with open_source(kubeconfig) as source, pytest.raises(AccessDeniedError) as info:
        source.snapshot("ms", None)
    assert str(info.value) == (
        'cannot list services in namespace "ms": forbidden; grant "list" on "services" '
        f'(context "{CONTEXT}", server {api_server.url})'
    )


def test_forbidden_namespace_get_goes_on_without_labels(api_server: ApiServer, kubeconfig: Path):
    api_server.inject(NS_PATHS["namespace"], status=403)
    with open_source(kubeconfig) as source:
        snap = source.snapshot("ms", None)
    assert snap.namespaces == (Namespace(name="ms", labels_known=False),)
    assert snap.unreadable == ('namespaces (get forbidden for "ms")',)
    assert len(snap.services) == 4


def test_forbidden_namespace_list_derives_namespaces_from_services(
    api_server: ApiServer, kubeconfig: Path
):
    api_server.inject("/api/v1/namespaces", status=403)
    with open_source(kubeconfig) as source:
        snap = source.snapshot(None, None)
    assert [n.name for n in snap.namespaces] == ["default", "kube-system", "ms"]
    assert snap.unreadable == ("namespaces (list forbidden at the cluster scope)",)


# --- server and transport failures ---------------------------------------------------------------


def test_server_error_is_unreachable_and_not_retried(api_server: ApiServer, kubeconfig: Path):
    api_server.inject(NS_PATHS["services"], status=500)
    with open_source(kubeconfig) as source, pytest.raises(ApiUnreachableError) as info:
        source.snapshot("ms", None)
    assert info.value.exit_code == ExitCode.API_UNREACHABLE
    assert str(info.value) == (
        'cannot list services in namespace "ms": the API server answered 500 InternalError: '
        "Internal error occurred: injected failure "
        f'(context "{CONTEXT}", server {api_server.url})'
    )
    assert api_server.count(path=NS_PATHS["services"]) == 1


def test_slow_server_times_out_within_the_request_timeout(api_server: ApiServer, kubeconfig: Path):
    api_server.inject(NS_PATHS["services"], delay=2.0)
    with open_source(kubeconfig, request_timeout=0.5) as source:
        start = time.monotonic()
        with pytest.raises(ApiUnreachableError) as info:
            source.snapshot("ms", None)
        elapsed = time.monotonic() - start
    assert elapsed < 0.5 + 1
    assert "no answer from" in str(info.value) and "within 0.5 s" in str(info.value)
    assert api_server.count(path=NS_PATHS["services"]) == 1  # no urllib3 retries


def test_timeout_bounds_the_whole_snapshot(api_server: ApiServer, kubeconfig: Path):
    # Each request alone is within the timeout; together they are not.
    api_server.inject("*", delay=0.3)
    with open_source(kubeconfig, request_timeout=0.8) as source:
        start = time.monotonic()
        with pytest.raises(ApiUnreachableError):
            source.snapshot("ms", None)
        assert time.monotonic() - start < 0.8 + 1


def test_a_long_list_from_a_far_away_server_ends_by_progress(
    api_server: ApiServer, kubeconfig: Path
):
    # Every request waits 50 ms; the pods alone need 16 pages, more than the
    # timeout together. Each page that arrives gives the command the timeout
    # afresh, so the snapshot ends (the old single deadline answered exit 5).
    api_server.latency = 0.05
    add_pods(api_server, 60)
    page, timeout = 4, 0.6
    with open_source(kubeconfig, request_timeout=timeout, page_size=page) as source:
        start = time.monotonic()
        snapshot = source.snapshot("ms", None)
        elapsed = time.monotonic() - start
    pods = len(api_server.objects("Pod"))
    assert len(snapshot.pods) == pods == 64
    pod_pages = api_server.requests(path=NS_PATHS["pods"])
    assert len(pod_pages) == math.ceil(pods / page) == 16
    assert len(api_server.log) * 0.05 > timeout  # the requests' latency alone exceeds it
    assert timeout < elapsed < 60


def test_own_work_between_requests_does_not_count(api_server: ApiServer, kubeconfig: Path):
    # The deadline bounds waiting on the API: a second spent reading what came
    # (150,000 pods take seconds) does not eat the time left for the next request.
    with open_source(kubeconfig, request_timeout=0.8) as source:
        deadline = time.monotonic() + 0.8
        source.snapshot("ms", None, deadline=deadline)
        time.sleep(1.0)  # past the deadline as a point in time
        dns = source.dns_config(deadline=deadline)
    assert dns.kube_dns_ip is not None


def test_progress_does_not_outlast_a_silent_server(api_server: ApiServer, kubeconfig: Path):
    # Many pages of pods move the deadline on; a request after them that gets no
    # answer still fails within the timeout of the last page's arrival.
    add_pods(api_server, 40)
    api_server.inject(NS_PATHS["statefulsets"], delay=5.0)
    with open_source(kubeconfig, request_timeout=0.8, page_size=4) as source:
        start = time.monotonic()
        with pytest.raises(ApiUnreachableError) as info:
            source.snapshot("ms", None)
        elapsed = time.monotonic() - start
    assert "within 0.8 s" in str(info.value)
    assert len(api_server.requests(path=NS_PATHS["pods"])) == math.ceil(44 / 4)
    assert elapsed < 0.8 + 2


def test_closed_port_is_unreachable(tmp_path: Path):
    url = f"http://127.0.0.1:{closed_port()}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", url)
    with open_source(kubeconfig) as source, pytest.raises(ApiUnreachableError) as info:
        source.snapshot("ms", None)
    assert str(info.value) == (
        f'cannot get namespaces "ms": connection refused at {url} (context "{CONTEXT}")'
    )


def test_not_an_apiserver_answer_is_unreachable(api_server: ApiServer, kubeconfig: Path):
    api_server.inject(NS_PATHS["namespace"], status=502, message="<html>bad gateway</html>")
    with open_source(kubeconfig) as source, pytest.raises(ApiUnreachableError) as info:
        source.snapshot("ms", None)
    assert "answered 502" in str(info.value)


def test_plain_404_is_not_a_missing_namespace(tmp_path: Path):
    # Any web server (or a proxy) answers 404; only a Status NotFound means "no such object".
    with ApiServer() as other:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", other.url + "/not-k8s")
        with open_source(kubeconfig) as source, pytest.raises(ApiUnreachableError) as info:
            source.snapshot("ms", None)
    assert str(info.value) == (
        'cannot get namespaces "ms": the server answered 404 Not Found '
        f'(context "{CONTEXT}", server {other.url}/not-k8s); is this a Kubernetes API server?'
    )


# --- kubeconfig ---------------------------------------------------------------------------------


def test_missing_kubeconfig_file(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ApiUnreachableError) as info:
        open_source(missing)
    assert str(info.value) == f"kubeconfig {missing} does not exist or is not a file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [\n  - name: x\n", r"kubeconfig .*/kubeconfig:2:3: expected the node content"),
        # libyaml (read first) words these otherwise: the message is PyYAML's all the same.
        ("a: b: c\n", r"kubeconfig .*/kubeconfig:1:5: mapping values are not allowed here$"),
        ("a: b\n\t\n", r"kubeconfig .*/kubeconfig:2:1: found character '\\t' that cannot start"),
        ("", r"kubeconfig .* is empty"),
        ("- 1\n- 2\n", r"expected a mapping at the top level"),
        ("contexts: nope\n", r'"contexts" must be a list of named entries'),
        ("contexts:\n- context: {}\n", r'"contexts" must be a list of named entries'),
        ("contexts:\n- name: a\n  context: [1]\n", r'context "a" must be a mapping'),
        ("contexts:\n- name: a\n  context: {cluster: c}\n", r"sets no current-context"),
        (
            "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n",
            r'context "a" names cluster "c", which is missing or has no server',
        ),
    ],
    ids=[
        "bad-yaml",
        "pyyaml-wording",
        "pyyaml-tab",
        "empty",
        "list",
        "contexts-not-list",
        "unnamed",
        "context-not-mapping",
        "no-current",
        "no-cluster",
    ],
)
def test_malformed_kubeconfig(tmp_path: Path, text: str, message: str):
    path = tmp_path / "kubeconfig"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ApiUnreachableError, match=message) as info:
        open_source(path)
    assert info.value.exit_code == ExitCode.API_UNREACHABLE


def test_bad_certificate_data_is_unusable(tmp_path: Path):
    path = write_kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:1")
    data = yaml.safe_load(path.read_text())
    data["clusters"][0]["cluster"]["certificate-authority-data"] = "!!not base64"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ApiUnreachableError, match=rf'kubeconfig .*: context "{CONTEXT}": '):
        open_source(path)


def test_unknown_context_is_not_found(kubeconfig: Path):
    with pytest.raises(NotFoundError) as info:
        open_source(kubeconfig, context="nope")
    assert str(info.value) == f'context "nope" does not exist in kubeconfig {kubeconfig}'


def test_no_kubeconfig_anywhere(tmp_path: Path):
    with pytest.raises(ApiUnreachableError) as info:
        open_source(None)
    assert str(info.value) == (
        f"no kubeconfig found ({tmp_path / 'home' / '.kube' / 'config'}) "
        "and not running in a cluster; pass --kubeconfig"
    )


def test_home_kubeconfig_is_the_default(api_server: ApiServer, tmp_path: Path):
    home_config = tmp_path / "home" / ".kube" / "config"
    home_config.parent.mkdir(parents=True)
    write_kubeconfig(home_config, api_server.url, context="home")
    with open_source(None) as source:
        assert source.target.context == "home"
        assert len(source.snapshot("ms", None).services) == 4


def test_kubeconfig_env_merges_files_as_kubectl(
    api_server: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    first = write_kubeconfig(tmp_path / "a.yaml", api_server.url, context="a")
    second = write_kubeconfig(
        tmp_path / "b.yaml",
        api_server.url,
        context="b",
        namespace="kube-system",
        # A duplicate of context "a" in a later file loses, as in kubectl.
        extra={"contexts": [{"name": "a", "context": {"cluster": "b", "namespace": "x"}}]},
    )
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'missing.yaml'}:{second}")
    # The first file's current-context wins (the client alone would pick "b").
    with open_source(None) as source:
        assert source.target == KubeTarget(context="a", server=api_server.url, namespace="ms")
    with open_source(None, context="b") as source:
        assert source.target.namespace == "kube-system"
        snap = source.snapshot(source.target.namespace, None)
    assert [s.name for s in snap.services] == ["kube-dns"]


def test_explicit_kubeconfig_wins_over_env(
    api_server: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kubeconfig: Path
):
    other = write_kubeconfig(tmp_path / "other.yaml", "http://127.0.0.1:1", context="other")
    monkeypatch.setenv("KUBECONFIG", str(other))
    with open_source(kubeconfig) as source:
        assert source.target.context == CONTEXT


def test_context_without_namespace_defaults_to_default(api_server: ApiServer, tmp_path: Path):
    path = write_kubeconfig(tmp_path / "kubeconfig", api_server.url, namespace=None)
    with open_source(path) as source:
        assert source.target.namespace == "default"
        snap = source.snapshot(None, "kubernetes")
    assert [(s.namespace, s.name) for s in snap.services] == [("default", "kubernetes")]


def test_request_timeout_must_be_positive(kubeconfig: Path):
    with pytest.raises(UsageError):
        open_source(kubeconfig, request_timeout=0)


def test_client_loggers_stay_at_warning(kubeconfig: Path):
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    with open_source(kubeconfig):
        pass
    assert logging.getLogger("urllib3").level == logging.WARNING
    assert logging.getLogger("kubernetes").level == logging.WARNING


# --- HTTPS and credentials ----------------------------------------------------------------------


def test_https_with_bearer_token(api_server_tls: ApiServer, kubeconfig_tls: Path):
    with open_source(kubeconfig_tls) as source:
        snap = source.snapshot("ms", "eureka")
    assert len(snap.pods) == 3
    assert {r.authorization for r in api_server_tls.log} == {f"Bearer {TOKEN}"}


def test_https_wrong_token_never_shows_a_token(api_server_tls: ApiServer, tmp_path: Path):
    assert api_server_tls.ca_pem is not None
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(api_server_tls.ca_pem)
    wrong = "wrong-" + TOKEN
    path = write_kubeconfig(
        tmp_path / "kubeconfig", api_server_tls.url, token=wrong, ca_file=ca_file
    )
    with open_source(path) as source, pytest.raises(AccessDeniedError) as info:
        source.snapshot("ms", None)
    assert "unauthorized" in str(info.value)
    assert wrong not in str(info.value) and TOKEN not in str(info.value)


def test_https_untrusted_certificate(api_server_tls: ApiServer, tmp_path: Path):
    path = write_kubeconfig(tmp_path / "kubeconfig", api_server_tls.url)  # no CA
    with open_source(path) as source, pytest.raises(ApiUnreachableError) as info:
        source.snapshot("ms", None)
    message = str(info.value)
    assert message.startswith('cannot get namespaces "ms": TLS failure')
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert TOKEN not in message
    assert api_server_tls.log == []


def test_exec_credential_plugin(api_server_tls: ApiServer, tmp_path: Path):
    assert api_server_tls.ca_pem is not None
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(api_server_tls.ca_pem)
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": TOKEN},
    }
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": ["-c", f"print({json.dumps(json.dumps(credential))})"],
            "interactiveMode": "Never",
        }
    }
    path = write_kubeconfig(tmp_path / "kubeconfig", api_server_tls.url, ca_file=ca_file)
    data = yaml.safe_load(path.read_text())
    data["users"][0]["user"] = user
    path.write_text(yaml.safe_dump(data))
    with open_source(path) as source:
        assert len(source.snapshot("ms", None).services) == 4
    assert {r.authorization for r in api_server_tls.log} == {f"Bearer {TOKEN}"}


# --- core/v1 Endpoints fallback -----------------------------------------------------------------


def test_endpoints_fallback_when_endpointslices_are_not_served(
    api_server: ApiServer, kubeconfig: Path
):
    api_server.serve_endpointslices = False
    api_server.add(
        {
            "kind": "Endpoints",
            "metadata": {"name": "eureka", "namespace": "ms"},
            "subsets": [
                {
                    "addresses": [
                        {
                            "ip": "10.244.1.210",
                            "hostname": "eureka-0",
                            "targetRef": {"kind": "Pod", "namespace": "ms", "name": "eureka-0"},
                        }
                    ],
                    "notReadyAddresses": [{"ip": "10.244.2.45", "hostname": "eureka-1"}],
                    "ports": [{"name": "eureka", "port": 8888, "protocol": "TCP"}],
                }
            ],
        }
    )
    with open_source(kubeconfig) as source:
        one = source.snapshot("ms", "eureka")
        whole = source.snapshot("ms", None)
    (eureka,) = one.endpoint_slices
    assert eureka.service_name == "eureka"
    assert [(e.addresses, e.hostname, e.ready) for e in eureka.endpoints] == [
        (("10.244.1.210",), "eureka-0", True),
        (("10.244.2.45",), "eureka-1", False),
    ]
    assert eureka.endpoints[0].target_ref == ObjectRef(kind="Pod", namespace="ms", name="eureka-0")
    assert whole.endpoint_slices == one.endpoint_slices
    assert api_server.count(path="/api/v1/namespaces/ms/endpoints/eureka") == 1
    assert api_server.count(path="/api/v1/namespaces/ms/endpoints") == 1


# --- cluster DNS configuration -------------------------------------------------------------------


def test_dns_config_reads_corefile_and_kube_dns_ip(api_server: ApiServer, kubeconfig: Path):
    with open_source(kubeconfig) as source:
        dns = source.dns_config()
    assert dns.source == "ConfigMap kube-system/coredns"
    assert dns.kube_dns_ip == "10.0.0.10"
    assert dns.corefile is not None and "kubernetes cluster.local in-addr.arpa" in dns.corefile
    assert [r.path for r in api_server.log] == [
        "/api/v1/namespaces/kube-system/configmaps/coredns",
        "/api/v1/namespaces/kube-system/services/kube-dns",
    ]


def test_dns_config_finds_rke2_names(api_server: ApiServer, kubeconfig: Path):
    name = "rke2-coredns-rke2-coredns"
    api_server.remove("ConfigMap", "kube-system", "coredns")
    api_server.remove("Service", "kube-system", "kube-dns")
    api_server.add(
        {
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "kube-system"},
            "data": {"Corefile": ".:53 {\n}\n"},
        },
        {
            "kind": "Service",
            "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"clusterIP": "10.43.0.10", "ports": [{"port": 53, "protocol": "UDP"}]},
        },
    )
    with open_source(kubeconfig) as source:
        found = source.dns_config()
        assert replace(found, service=None, corefile_data=()) == DnsConfig(
            corefile=".:53 {\n}\n", source=f"ConfigMap kube-system/{name}", kube_dns_ip="10.43.0.10"
        )
        assert found.service is not None and found.service.cluster_ips == ("10.43.0.10",)
        assert found.corefile_data == (("Corefile", ".:53 {\n}\n"),)


def test_dns_config_without_access_or_objects(api_server: ApiServer, kubeconfig: Path):
    api_server.inject("/api/v1/namespaces/kube-system/configmaps/coredns", status=403)
    api_server.remove("Service", "kube-system", "kube-dns")
    with open_source(kubeconfig) as source:
        dns = source.dns_config()
    assert dns.corefile is None and dns.kube_dns_ip is None
    assert dns.source == (
        "no Corefile found (tried ConfigMaps kube-system/coredns, "
        "kube-system/rke2-coredns-rke2-coredns, openshift-dns/dns-default); "
        "configmaps (get forbidden in namespace kube-system)"
    )


def test_dns_config_unauthorized_is_an_error(api_server: ApiServer, kubeconfig: Path):
    api_server.inject("*", status=401)
    with open_source(kubeconfig) as source, pytest.raises(AccessDeniedError):
        source.dns_config()
    assert api_server.count() == 1


def test_https_certificate_authority_relative_to_the_kubeconfig(
    api_server_tls: ApiServer, tmp_path: Path
):
    assert api_server_tls.ca_pem is not None
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(api_server_tls.ca_pem)
    path = write_kubeconfig(tmp_path / "kubeconfig", api_server_tls.url)
    data = yaml.safe_load(path.read_text())
    data["clusters"][0]["cluster"]["certificate-authority"] = "certs/ca.pem"
    path.write_text(yaml.safe_dump(data))
    with open_source(path) as source:
        assert len(source.snapshot("ms", None).services) == 4


# --- the emulator itself ----------------------------------------------------------------------------


def fetch(api: ApiServer, path: str, method: str = "GET") -> tuple[int, Any]:
    request = urllib.request.Request(api.url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read()
        try:
            return exc.code, json.loads(body)
        except ValueError:
            return exc.code, body.decode()


def names(body: dict[str, Any]) -> list[str]:
    return [item["metadata"]["name"] for item in body["items"]]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=eureka", ["eureka-0", "eureka-1", "eureka-2"]),
        ("app==gateway", ["gateway-7d9f8-abcde"]),
        ("app!=eureka", ["gateway-7d9f8-abcde"]),
        ("app in (gateway, other)", ["gateway-7d9f8-abcde"]),
        ("app notin (eureka),project", []),
        ("project", ["eureka-0", "eureka-1", "eureka-2"]),
        ("!project", ["gateway-7d9f8-abcde"]),
        ("app=eureka,project=ms", ["eureka-0", "eureka-1", "eureka-2"]),
    ],
)
def test_emulator_label_selectors(api_server: ApiServer, selector: str, expected: list[str]):
    query = urllib.parse.urlencode({"labelSelector": selector})
    status, body = fetch(api_server, f"/api/v1/namespaces/ms/pods?{query}")
    assert (status, names(body)) == (200, expected)
    assert (body["kind"], body["apiVersion"]) == ("PodList", "v1")
    assert all("kind" not in item for item in body["items"])


def test_emulator_field_selectors_and_errors(api_server: ApiServer):
    status, body = fetch(api_server, "/api/v1/services?fieldSelector=metadata.name%3Dkube-dns")
    assert (status, names(body)) == (200, ["kube-dns"])
    status, body = fetch(api_server, "/api/v1/pods?fieldSelector=spec.subdomain%3Deureka")
    assert (status, body["reason"], body["message"]) == (
        400,
        "BadRequest",
        "field label not supported: spec.subdomain",
    )
    status, body = fetch(api_server, "/api/v1/namespaces/ms/services/nope")
    assert status == 404
    assert (body["kind"], body["reason"], body["details"]) == (
        "Status",
        "NotFound",
        {"name": "nope", "kind": "services"},
    )
    status, body = fetch(api_server, "/apis/example.com/v1/things")
    assert (status, body) == (404, "404 page not found\n")


def test_emulator_forbidden_message_matches_the_apiserver(api_server: ApiServer):
    api_server.inject("*/pods", status=403)
    status, body = fetch(api_server, "/api/v1/namespaces/ms/pods")
    assert (status, body["reason"]) == (403, "Forbidden")
    assert body["message"] == (
        'pods is forbidden: User "system:serviceaccount:ms:hsvc" cannot list resource "pods" '
        'in API group "" in the namespace "ms"'
    )


def test_emulator_refuses_and_records_writes(api_server: ApiServer):
    status, body = fetch(api_server, "/api/v1/namespaces/ms/pods/eureka-0", method="DELETE")
    assert (status, body["reason"]) == (405, "MethodNotAllowed")
    assert [(r.method, r.path) for r in api_server.mutations] == [
        ("DELETE", "/api/v1/namespaces/ms/pods/eureka-0")
    ]
    assert len(api_server.objects("Pod")) == 4


def test_emulator_serves_kubectl(api_server: ApiServer, kubeconfig: Path, tmp_path: Path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is missing under CI")
        pytest.skip("kubectl is not installed")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), "get", "pods", "-l", "app=eureka", "-o", "name"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout.split()) == (
        0,
        ["pod/eureka-0", "pod/eureka-1", "pod/eureka-2"],
    )
    assert api_server.mutations == []
