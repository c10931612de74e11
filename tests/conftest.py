"""Shared factories: the seed cluster and small builders for core tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import settings

from hsvc.cli import main
from hsvc.core.model import (
    DnsSettings,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    LabelSelector,
    Namespace,
    ObjectRef,
    Pod,
    Service,
    ServicePort,
    Snapshot,
    StatefulSet,
    labels_of,
)
from hsvc.terminal import Environment
from tests.examples import CI_EXAMPLES, DEV_EXAMPLES

# Property tests: few examples by default (the unit tests stay under 10 s), many in CI
# (`python -m pytest --hypothesis-profile=ci`, as .ci/run does).
settings.register_profile("dev", max_examples=DEV_EXAMPLES)
settings.register_profile("ci", max_examples=CI_EXAMPLES)
settings.load_profile("dev")

EUREKA_LABELS = {"app": "eureka", "project": "ms"}
EUREKA_IPS = {"eureka-0": "10.244.1.210", "eureka-1": "10.244.2.45", "eureka-2": "10.244.1.211"}
GATEWAY_POD_IP = "10.244.1.212"


def pod_ref(namespace: str, name: str) -> ObjectRef:
    return ObjectRef(kind="Pod", namespace=namespace, name=name)


def make_service(
    name: str,
    namespace: str = "ms",
    *,
    cluster_ip: str | Iterable[str] = "None",
    ports: Iterable[tuple[str, int] | tuple[str, int, str]] = (),
    selector: dict[str, str] | None = None,
    type: str = "ClusterIP",
    external_name: str = "",
    publish_not_ready: bool = False,
) -> Service:
    ips = (cluster_ip,) if isinstance(cluster_ip, str) else tuple(cluster_ip)
    sports = tuple(
        ServicePort(name=p[0], port=p[1], protocol=p[2] if len(p) > 2 else "TCP")  # type: ignore[misc]
        for p in ports
    )
    return Service(
        namespace=namespace,
        name=name,
        type=type,
        cluster_ips=() if type == "ExternalName" else ips,
        external_name=external_name,
        ports=sports,
        selector=labels_of(selector),
        publish_not_ready_addresses=publish_not_ready,
    )


def make_endpoint(
    ip: str | Iterable[str],
    *,
    hostname: str = "",
    pod: str = "",
    namespace: str = "ms",
    ready: bool | None = True,
    zone: str = "",
) -> Endpoint:
    addresses = (ip,) if isinstance(ip, str) else tuple(ip)
    return Endpoint(
        addresses=addresses,
        ready=ready,
        serving=ready,
        terminating=False,
        hostname=hostname,
        target_ref=pod_ref(namespace, pod) if pod else None,
        zone=zone,
    )


def make_slice(
    service: str,
    endpoints: Iterable[Endpoint],
    *,
    namespace: str = "ms",
    ports: Iterable[tuple[str, int] | tuple[str, int, str]] = (),
    name: str = "",
) -> EndpointSlice:
    return EndpointSlice(
        namespace=namespace,
        name=name or f"{service}-abcde",
        service_name=service,
        endpoints=tuple(endpoints),
        ports=tuple(
            EndpointPort(name=p[0], port=p[1], protocol=p[2] if len(p) > 2 else "TCP")  # type: ignore[misc]
            for p in ports
        ),
        labels=labels_of({"kubernetes.io/service-name": service}),
    )


def make_pod(
    name: str,
    ip: str | None,
    *,
    namespace: str = "ms",
    labels: dict[str, str] | None = None,
    hostname: str = "",
    subdomain: str = "",
    ready: bool = True,
    phase: str = "Running",
) -> Pod:
    return Pod(
        namespace=namespace,
        name=name,
        labels=labels_of(labels),
        hostname=hostname,
        subdomain=subdomain,
        pod_ips=(ip,) if ip else (),
        phase=phase,
        ready=ready,
    )


def seed_snapshot(*, eureka_ready: dict[str, bool] | None = None) -> Snapshot:
    """The seed's cluster: namespace ms with eureka (headless + StatefulSet x3), gateway, mysql, portal."""
    ready = dict.fromkeys(EUREKA_IPS, True) | (eureka_ready or {})
    eureka = make_service(
        "eureka", cluster_ip="None", ports=[("eureka", 8888)], selector=EUREKA_LABELS
    )
    gateway = make_service(
        "gateway", cluster_ip="10.0.0.14", ports=[("gateway", 9999)], selector={"app": "gateway"}
    )
    mysql = make_service(
        "mysql-production",
        cluster_ip="10.0.0.251",
        ports=[("mysql", 3306)],
        selector={"app": "mysql"},
    )
    portal = make_service(
        "portal", cluster_ip="10.0.0.124", ports=[("http", 8080)], selector={"app": "portal"}
    )
    eureka_pods = tuple(
        make_pod(
            name,
            ip,
            labels=EUREKA_LABELS,
            hostname=name,
            subdomain="eureka",
            ready=ready[name],
        )
        for name, ip in EUREKA_IPS.items()
    )
    eureka_slice = make_slice(
        "eureka",
        [
            make_endpoint(ip, hostname=name, pod=name, ready=ready[name])
            for name, ip in EUREKA_IPS.items()
        ],
        ports=[("eureka", 8888)],
    )
    gateway_pod = make_pod("gateway-7d9f8-abcde", GATEWAY_POD_IP, labels={"app": "gateway"})
    gateway_slice = make_slice(
        "gateway",
        [make_endpoint(GATEWAY_POD_IP, pod="gateway-7d9f8-abcde")],
        ports=[("gateway", 9999)],
    )
    sts = StatefulSet(
        namespace="ms",
        name="eureka",
        service_name="eureka",
        replicas=3,
        selector=LabelSelector(match_labels=labels_of(EUREKA_LABELS)),
        template_labels=labels_of(EUREKA_LABELS),
    )
    return Snapshot(
        namespaces=(Namespace(name="ms"), Namespace(name="default"), Namespace(name="kube-system")),
        services=(eureka, gateway, mysql, portal),
        endpoint_slices=(eureka_slice, gateway_slice),
        pods=(*eureka_pods, gateway_pod),
        stateful_sets=(sts,),
    )


KUBEADM = DnsSettings()


@pytest.fixture
def seed() -> Snapshot:
    return seed_snapshot()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):
    def invoke(*args: str, width: int | None = None) -> Result:
        # A width is the terminal's, injected (hsvc.terminal.Environment), not COLUMNS.
        env = None if width is None else replace(Environment.from_process(), width=width)
        with pytest.raises(SystemExit) as info:
            main(list(args), env=env)
        captured = capsys.readouterr()
        code = info.value.code
        return Result(code=int(code) if code is not None else 0, out=captured.out, err=captured.err)

    return invoke
