"""The resolver path's GETs, sent at once: the requests, deadline and failures of one by one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from aiohttp import web

from hsvc.adapters.kubeapi import DnsConfig
from hsvc.errors import AccessDeniedError, ApiUnreachableError
from tests.integration.api_fixtures import open_source
from tests.integration.apiserver import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_ambient_kubeconfig")]

APPS = "/apis/apps/v1/namespaces/kube-system"
CONFIGMAPS = "/api/v1/namespaces/kube-system/configmaps"
# What path_objects GETs by name for a DNS Service in kube-system, one after another.
GETS = [
    f"{APPS}/deployments/coredns",
    f"{APPS}/deployments/kube-dns",
    f"{APPS}/daemonsets/node-local-dns",
    f"{CONFIGMAPS}/coredns-custom",
    f"{CONFIGMAPS}/node-local-dns",
]
SLICES = "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices"
POLICIES = "/apis/networking.k8s.io/v1/networkpolicies"
NO_SERVICE = DnsConfig(corefile=None, source="none", kube_dns_ip=None)


def test_the_same_requests_at_once_after_an_answer(api_server: ApiServer, kubeconfig: Path) -> None:
    with open_source(kubeconfig) as source:
        dns = source.dns_config()
        api_server.clear_log()
        objects, _ = source.path_objects(dns)
    # The credentials have worked: the slices' LIST, the five GETs and the
    # policies' LIST go out at once, in any order.
    assert sorted(r.path for r in api_server.log) == sorted([SLICES, *GETS, POLICIES])
    assert objects.service == dns.service and objects.unreadable == ()


def test_on_a_new_connection_the_first_list_goes_alone(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    with open_source(kubeconfig) as source:
        dns = source.dns_config()
    api_server.clear_log()
    with open_source(kubeconfig) as source:
        objects, _ = source.path_objects(dns)
    paths = [r.path for r in api_server.log]
    assert paths[0] == SLICES
    assert sorted(paths[1:]) == sorted([*GETS, POLICIES])
    assert objects.service == dns.service and objects.unreadable == ()


def test_a_rejected_token_costs_the_first_list_only(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    with open_source(kubeconfig) as source:
        dns = source.dns_config()
    api_server.clear_log()
    api_server.inject("*", status=401)
    with open_source(kubeconfig) as source, pytest.raises(AccessDeniedError):
        source.path_objects(dns)
    assert [r.path for r in api_server.log] == [SLICES]


def test_each_get_is_charged_its_own_wait_in_order(api_server: ApiServer, kubeconfig: Path) -> None:
    # 0.6 s each: one after another the third would end past the 1.5 s timeout, and
    # so it does when they wait side by side.
    api_server.inject(f"{APPS}/*", delay=0.6)
    with open_source(kubeconfig, request_timeout=1.5) as source:
        dns = source.dns_config()
        start = time.monotonic()
        with pytest.raises(ApiUnreachableError) as info:
            source.path_objects(dns)
        elapsed = time.monotonic() - start
    assert str(info.value).startswith('cannot get daemonsets.apps "node-local-dns"')
    assert "within 1.5 s" in str(info.value)
    assert elapsed < 1.5 + 1
    assert sorted(r.path for r in api_server.log if r.path in GETS) == sorted(GETS)


def test_the_earliest_failure_is_the_one_reported(api_server: ApiServer, kubeconfig: Path) -> None:
    api_server.inject(f"{CONFIGMAPS}/node-local-dns", status=500, message="late")
    api_server.inject(f"{APPS}/deployments/kube-dns", status=500, message="early")
    with open_source(kubeconfig) as source:
        dns = source.dns_config()
        with pytest.raises(ApiUnreachableError) as info:
            source.path_objects(dns)
    assert str(info.value).startswith('cannot get deployments.apps "kube-dns"')
    assert "early" in str(info.value) and "late" not in str(info.value)


def test_forbidden_gets_are_noted_in_order(api_server: ApiServer, kubeconfig: Path) -> None:
    api_server.inject(f"{CONFIGMAPS}/coredns-custom", status=403)
    api_server.inject(f"{APPS}/deployments/coredns", status=403)
    with open_source(kubeconfig) as source:
        objects, _ = source.path_objects(source.dns_config())
    assert objects.unreadable == (
        "deployments.apps (get forbidden in namespace kube-system)",
        "configmaps (get forbidden in namespace kube-system)",
    )


def test_a_transport_failure_in_the_batch_is_raised(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(1 << 40)})
        await response.prepare(request)
        return response

    api_server.inject(f"{CONFIGMAPS}/coredns-custom", stream=huge)
    with open_source(kubeconfig) as source:
        dns = source.dns_config()
        with pytest.raises(ApiUnreachableError) as info:
            source.path_objects(dns)
    assert str(info.value).startswith('cannot get configmaps "coredns-custom"')
    assert "larger than 64 MB" in str(info.value)


def test_without_a_dns_service_a_rejected_token_costs_one_request(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    api_server.inject("*", status=401)
    with open_source(kubeconfig) as source, pytest.raises(AccessDeniedError):
        source.path_objects(NO_SERVICE)
    assert [r.path for r in api_server.log] == GETS[:1]


def test_a_spent_deadline_sends_nothing(api_server: ApiServer, kubeconfig: Path) -> None:
    with open_source(kubeconfig) as source, pytest.raises(ApiUnreachableError) as info:
        source.path_objects(NO_SERVICE, deadline=time.monotonic() - 1)
    assert str(info.value).startswith('cannot get deployments.apps "coredns"')
    assert api_server.log == []
