"""A command's independent reads side by side: the requests, deadline and failures of one by one."""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path
from typing import Any

import pytest

from hsvc.adapters.kubeapi import KubeSource
from hsvc.adapters.kuberest import list_request
from hsvc.errors import AccessDeniedError, ApiUnreachableError, NotFoundError
from tests.integration.api_fixtures import open_source
from tests.integration.apiserver import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_ambient_kubeconfig")]

MS = "/api/v1/namespaces/ms"
PODS = f"{MS}/pods"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/ms/endpointslices"
STATEFULSETS = "/apis/apps/v1/namespaces/ms/statefulsets"
COREDNS = "/api/v1/namespaces/kube-system/configmaps/coredns"
KUBE_DNS = "/api/v1/namespaces/kube-system/services/kube-dns"


def both(source: KubeSource, namespace: str, deadline: float) -> tuple[Any, Any]:
    """The snapshot and the DNS configuration, side by side (as ``hsvc inspect`` reads them)."""
    return source.side_by_side(
        functools.partial(source.snapshot, namespace, None, deadline=deadline),
        functools.partial(source.dns_config, deadline=deadline),
        deadline=deadline,
    )


def test_side_by_side_reads_what_one_after_another_reads(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    with open_source(kubeconfig) as source:
        snapshot, dns = both(source, "ms", time.monotonic() + 5)
    one_by_one = api_server.log
    api_server.clear_log()
    with open_source(kubeconfig) as source:
        assert snapshot == source.snapshot("ms", None)
        assert dns == source.dns_config()
    assert sorted(r.path for r in one_by_one) == sorted(r.path for r in api_server.log)
    assert one_by_one[0].path == MS  # the first request alone


def test_lists_side_by_side_are_charged_in_order(api_server: ApiServer, kubeconfig: Path) -> None:
    # 0.5 s each: one after another the statefulsets' LIST would end past the
    # 1.2 s timeout (slices, pods, then it), and so it does side by side.
    for path in (SLICES, PODS, STATEFULSETS):
        api_server.inject(path, delay=0.5)
    with open_source(kubeconfig, request_timeout=1.2) as source:
        start = time.monotonic()
        with pytest.raises(ApiUnreachableError) as info:
            source.snapshot("ms", None)
        elapsed = time.monotonic() - start
    assert str(info.value).startswith('cannot list statefulsets.apps in namespace "ms"')
    assert "within 1.2 s" in str(info.value)
    assert elapsed < 1.2 + 1


def test_the_dns_reads_are_charged_after_the_snapshot(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    # The pods' LIST and the Corefile's GET use up the timeout together: the DNS
    # Service's GET after them fails as one after another would fail it.
    for path in (PODS, COREDNS, KUBE_DNS):
        api_server.inject(path, delay=0.5)
    with open_source(kubeconfig, request_timeout=1.2) as source:
        with pytest.raises(ApiUnreachableError) as info:
            both(source, "ms", time.monotonic() + 1.2)
    assert str(info.value).startswith('cannot get services "kube-dns"')


def test_the_earliest_failure_is_the_snapshots(api_server: ApiServer, kubeconfig: Path) -> None:
    api_server.inject(KUBE_DNS, status=500, message="late")
    api_server.inject(STATEFULSETS, status=500, message="early")
    with open_source(kubeconfig) as source, pytest.raises(ApiUnreachableError) as info:
        both(source, "ms", time.monotonic() + 5)
    assert str(info.value).startswith("cannot list statefulsets.apps")
    assert "early" in str(info.value)


def test_a_missing_namespace_costs_one_request(api_server: ApiServer, kubeconfig: Path) -> None:
    with open_source(kubeconfig) as source, pytest.raises(NotFoundError):
        both(source, "nowhere", time.monotonic() + 5)
    assert [r.path for r in api_server.log] == ["/api/v1/namespaces/nowhere"]


def test_a_rejected_token_costs_one_request(api_server: ApiServer, kubeconfig: Path) -> None:
    api_server.inject("*", status=401)
    with open_source(kubeconfig) as source, pytest.raises(AccessDeniedError):
        both(source, "ms", time.monotonic() + 5)
    assert [r.path for r in api_server.log] == [MS]


def test_a_forbidden_namespace_goes_on_side_by_side(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    api_server.inject(MS, status=403)
    with open_source(kubeconfig) as source:
        snapshot, dns = both(source, "ms", time.monotonic() + 5)
    assert snapshot.unreadable == ('namespaces (get forbidden for "ms")',)
    assert dns.kube_dns_ip is not None


def test_long_lists_side_by_side_end_by_progress(api_server: ApiServer, kubeconfig: Path) -> None:
    # Every request waits 50 ms; the pods need 16 pages, more than the timeout
    # together: each page that arrives gives the command the timeout afresh.
    api_server.latency = 0.05
    for index in range(60):
        api_server.add(
            {
                "kind": "Pod",
                "metadata": {"name": f"bulk-{index}", "namespace": "ms"},
                "status": {"phase": "Running", "podIP": f"10.244.9.{index}"},
            }
        )
    page, timeout = 4, 0.6
    with open_source(kubeconfig, request_timeout=timeout, page_size=page) as source:
        snapshot, dns = both(source, "ms", time.monotonic() + timeout)
    pods = len(api_server.objects("Pod"))
    assert len(snapshot.pods) == pods == 64
    assert len(api_server.requests(path=PODS)) == math.ceil(pods / page)
    assert dns.kube_dns_ip is not None


# --- the next page asked for while a page converts -------------------------------------------


def add_bulk_pods(api_server: ApiServer, count: int) -> None:
    for index in range(count):
        api_server.add(
            {
                "kind": "Pod",
                "metadata": {"name": f"bulk-{index:03d}", "namespace": "ms"},
                "status": {"phase": "Running", "podIP": f"10.244.9.{index}"},
            }
        )


def test_the_next_page_is_asked_for_while_a_page_converts(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    add_bulk_pods(api_server, 10)
    seen_while_converting: list[int] = []

    def convert(item: dict[str, Any]) -> str:
        if not seen_while_converting:  # the first item: wait for the second page's request
            deadline = time.monotonic() + 5
            while len(api_server.requests(path=PODS)) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            seen_while_converting.append(len(api_server.requests(path=PODS)))
        return str(item["metadata"]["name"])

    with open_source(kubeconfig, page_size=4) as source:
        names = source._list_all(list_request("pods", "ms"), time.monotonic() + 5, each=convert)
    assert seen_while_converting == [2]
    assert len(names) == len(api_server.objects("Pod"))
    assert len(api_server.requests(path=PODS)) == math.ceil(len(names) / 4)


def test_a_page_that_cannot_be_read_fails_before_the_next_page(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    add_bulk_pods(api_server, 6)
    # First in the list's order: on the first page.
    api_server.add(
        {
            "kind": "Pod",
            "metadata": {"name": "aaa", "namespace": "ms"},
            "spec": {"hostname": "Not_A_Label"},
        }
    )
    api_server.inject(PODS, times=1)  # the first page as it is
    api_server.inject(PODS, status=500, message="second page")
    with open_source(kubeconfig, page_size=2) as source, pytest.raises(ApiUnreachableError) as info:
        source.snapshot("ms", None)
    assert "cannot read (aaa)" in str(info.value)
    assert "second page" not in str(info.value)


def test_a_next_page_that_fails_is_met_after_the_page_before(
    api_server: ApiServer, kubeconfig: Path
) -> None:
    add_bulk_pods(api_server, 6)
    api_server.inject(PODS, times=1)
    api_server.inject(PODS, status=500, message="second page")
    with open_source(kubeconfig, page_size=2) as source, pytest.raises(ApiUnreachableError) as info:
        source.snapshot("ms", None)
    assert str(info.value).startswith('cannot list pods in namespace "ms"')
    assert "second page" in str(info.value)
