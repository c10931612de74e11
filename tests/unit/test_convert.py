"""hsvc.adapters.convert: Kubernetes object dicts -> model, and its errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hsvc.adapters.convert import (
    ConversionError,
    namespace_from_dict,
    object_from_dict,
    pod_from_dict,
    service_from_dict,
    slice_from_dict,
    slices_from_endpoints_dict,
    statefulset_from_dict,
)
from hsvc.adapters.manifests import read_manifests
from hsvc.core.model import (
    Deployment,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    LabelRequirement,
    LabelSelector,
    Namespace,
    ObjectRef,
    Pod,
    Service,
    ServicePort,
    StatefulSet,
    labels_of,
)
from tests.conftest import seed_snapshot

SEED = Path(__file__).resolve().parents[1] / "data" / "seed" / "ms.yaml"


def svc(spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "ms", **meta}, "spec": spec}


def error_of(fn: Any, obj: Any, **kwargs: Any) -> ConversionError:
    with pytest.raises(ConversionError) as info:
        fn(obj, **kwargs)
    return info.value


# --- ConversionError ----------------------------------------------------------------------------


def test_error_location_and_message():
    err = ConversionError(("spec", "ports", 0, "port"), "expected an integer, got str")
    assert err.location == "spec.ports[0].port"
    assert str(err) == "spec.ports[0].port: expected an integer, got str"
    assert err.index is None
    assert str(ConversionError((), "expected a mapping, got list")) == (
        "expected a mapping, got list"
    )


def test_error_is_not_a_value_or_key_error():
    assert not issubclass(ConversionError, ValueError | KeyError | TypeError)


# --- Service ----------------------------------------------------------------------------------


def test_service_full():
    obj = svc(
        {
            "type": "ClusterIP",
            "clusterIP": "10.0.0.14",
            "clusterIPs": ["10.0.0.14", "fd00::14"],
            "ports": [
                {"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"},
                {"port": 53, "protocol": "UDP", "targetPort": 5353},
                {"port": 9000},
            ],
            "selector": {"app": "web"},
            "publishNotReadyAddresses": True,
        },
        labels={"tier": "front"},
    )
    assert service_from_dict(obj) == Service(
        namespace="ms",
        name="web",
        type="ClusterIP",
        cluster_ips=("10.0.0.14", "fd00::14"),
        ports=(
            ServicePort(name="http", protocol="TCP", port=80, target_port="web"),
            ServicePort(name="", protocol="UDP", port=53, target_port=5353),
            ServicePort(name="", protocol="TCP", port=9000, target_port=None),
        ),
        selector=labels_of({"app": "web"}),
        publish_not_ready_addresses=True,
        labels=labels_of({"tier": "front"}),
    )


@pytest.mark.parametrize(
    ("spec", "ips"),
    [
        ({"clusterIP": "None"}, ("None",)),
        ({"clusterIP": "10.0.0.1"}, ("10.0.0.1",)),
        ({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.2"]}, ("10.0.0.2",)),
        ({"clusterIPs": None, "clusterIP": "10.0.0.3"}, ("10.0.0.3",)),
        ({}, ()),
        ({"clusterIP": ""}, ()),
    ],
    ids=["headless", "singular", "plural-wins", "null-plural", "unassigned", "empty"],
)
def test_service_cluster_ips(spec: dict[str, Any], ips: tuple[str, ...]):
    assert service_from_dict(svc(spec)).cluster_ips == ips


def test_service_headless_and_external_name():
    assert service_from_dict(svc({"clusterIP": "None"})).is_headless
    ext = service_from_dict(svc({"type": "ExternalName", "externalName": "db.example.com"}))
    assert ext.is_external_name and ext.external_name == "db.example.com"


def test_service_defaults_and_nulls():
    obj = {"metadata": {"name": "web", "labels": None}, "spec": {"ports": None, "selector": None}}
    service = service_from_dict(obj, default_namespace="dev")
    assert (service.namespace, service.type, service.ports, service.selector) == (
        "dev",
        "ClusterIP",
        (),
        (),
    )
    assert service_from_dict({"metadata": {"name": "x"}}).namespace == "default"


@pytest.mark.parametrize(
    ("obj", "location", "reason"),
    [
        ({"spec": {}}, "metadata.name", "required field is missing or empty"),
        ([], "", "expected a mapping, got list"),
        (svc({"ports": [{"name": "x"}]}), "spec.ports[0].port", "required field is missing"),
        (svc({"ports": [{"port": "80"}]}), "spec.ports[0].port", "expected an integer, got str"),
        (svc({"ports": [{"port": True}]}), "spec.ports[0].port", "expected an integer, got bool"),
        (
            svc({"ports": [{"port": 80, "targetPort": 1.5}]}),
            "spec.ports[0].targetPort",
            "expected an integer or a string, got float",
        ),
        (svc({"ports": "80"}), "spec.ports", "expected a list, got str"),
        (svc({"ports": ["80"]}), "spec.ports[0]", "expected a mapping, got str"),
        (svc({"selector": {"version": 1}}), "spec.selector.version", "expected a string, got int"),
        (svc({"selector": ["app"]}), "spec.selector", "expected a mapping, got list"),
        (svc({}, labels={"on": True}), "metadata.labels.on", "expected a string, got bool"),
        (svc({"clusterIPs": [None]}), "spec.clusterIPs[0]", "expected a string, got null"),
        (svc({"type": 3}), "spec.type", "expected a string, got int"),
        (
            svc({"publishNotReadyAddresses": "yes"}),
            "spec.publishNotReadyAddresses",
            "expected true or false, got str",
        ),
        ({"metadata": {"name": "web"}, "spec": "x"}, "spec", "expected a mapping, got str"),
    ],
    ids=[
        "no-name",
        "not-mapping",
        "port-missing",
        "port-string",
        "port-bool",
        "target-port-float",
        "ports-not-list",
        "port-not-mapping",
        "selector-int",
        "selector-list",
        "label-bool",
        "cluster-ip-null",
        "type-int",
        "publish-string",
        "spec-string",
    ],
)
def test_service_errors(obj: Any, location: str, reason: str):
    err = error_of(service_from_dict, obj)
    assert (err.location, err.reason) == (location, reason)


# --- EndpointSlice ------------------------------------------------------------------------------


def eps(endpoints: Any, **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web-abc",
            "namespace": "ms",
            "labels": {"kubernetes.io/service-name": "web"},
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        **extra,
    }


def test_slice_full():
    obj = eps(
        [
            {
                "addresses": ["10.1.0.1"],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "hostname": "web-0",
                "nodeName": "n1",
                "zone": "z1",
                "targetRef": {"kind": "Pod", "name": "web-0", "uid": "x"},
            }
        ],
        ports=[{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "", "port": None}],
    )
    assert slice_from_dict(obj) == EndpointSlice(
        namespace="ms",
        name="web-abc",
        service_name="web",
        endpoints=(
            Endpoint(
                addresses=("10.1.0.1",),
                ready=True,
                serving=True,
                terminating=False,
                hostname="web-0",
                # targetRef without namespace: the slice's namespace.
                target_ref=ObjectRef(kind="Pod", namespace="ms", name="web-0"),
                node_name="n1",
                zone="z1",
            ),
        ),
        ports=(EndpointPort(name="http", protocol="TCP", port=80), EndpointPort(port=None)),
        labels=labels_of({"kubernetes.io/service-name": "web"}),
    )


@pytest.mark.parametrize(
    ("conditions", "ready", "is_ready"),
    [
        (None, None, True),
        ({}, None, True),
        ({"ready": None}, None, True),
        ({"ready": True}, True, True),
        ({"ready": False}, False, False),
    ],
    ids=["no-conditions", "empty", "null", "true", "false"],
)
def test_rule02_slice_ready_absent_counts_as_ready(
    conditions: Any, ready: bool | None, is_ready: bool
):
    endpoint: dict[str, Any] = {"addresses": ["10.1.0.1"]}
    if conditions is not None:
        endpoint["conditions"] = conditions
    (result,) = slice_from_dict(eps([endpoint])).endpoints
    assert (result.ready, result.is_ready) == (ready, is_ready)


def test_slice_without_service_label_or_endpoints():
    obj = {"metadata": {"name": "manual"}, "addressType": "IPv6", "endpoints": None}
    result = slice_from_dict(obj)
    assert (result.service_name, result.endpoints) == ("", ())


@pytest.mark.parametrize(
    ("obj", "location", "reason"),
    [
        (
            {"metadata": {"name": "x"}, "endpoints": []},
            "addressType",
            "required field is missing or empty",
        ),
        (eps([{"addresses": []}]), "endpoints[0].addresses", "required field is missing or empty"),
        (eps([{"hostname": "a"}]), "endpoints[0].addresses", "required field is missing or empty"),
        (eps([{"addresses": "10.0.0.1"}]), "endpoints[0].addresses", "expected a list, got str"),
        (
            eps([{"addresses": ["10.0.0.1"], "conditions": {"ready": "true"}}]),
            "endpoints[0].conditions.ready",
            "expected true or false, got str",
        ),
        (
            eps([{"addresses": ["10.0.0.1"], "targetRef": "pod/x"}]),
            "endpoints[0].targetRef",
            "expected a mapping, got str",
        ),
        (eps([], ports=[{"port": "80"}]), "ports[0].port", "expected an integer, got str"),
    ],
    ids=[
        "no-address-type",
        "empty-addresses",
        "no-addresses",
        "addresses-string",
        "ready-string",
        "target-ref-string",
        "port-string",
    ],
)
def test_slice_errors(obj: Any, location: str, reason: str):
    err = error_of(slice_from_dict, obj)
    assert (err.location, err.reason) == (location, reason)


# --- core/v1 Endpoints ----------------------------------------------------------------------------


def test_endpoints_become_slices():
    obj = {
        "metadata": {"name": "web", "namespace": "ms", "labels": {"app": "web"}},
        "subsets": [
            {
                "addresses": [
                    {
                        "ip": "10.1.0.1",
                        "hostname": "web-0",
                        "nodeName": "n1",
                        "targetRef": {"kind": "Pod", "namespace": "ms", "name": "web-0"},
                    }
                ],
                "notReadyAddresses": [{"ip": "10.1.0.2"}],
                "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
            },
            {"addresses": [{"ip": "fd00::1"}]},
        ],
    }
    first, second = slices_from_endpoints_dict(obj)
    assert (first.name, first.service_name) == ("web", "web")
    assert dict(first.labels) == {"app": "web", "kubernetes.io/service-name": "web"}
    assert first.endpoints == (
        Endpoint(
            addresses=("10.1.0.1",),
            ready=True,
            serving=True,
            hostname="web-0",
            target_ref=ObjectRef(kind="Pod", namespace="ms", name="web-0"),
            node_name="n1",
        ),
        Endpoint(addresses=("10.1.0.2",), ready=False, serving=False),
    )
    assert first.ports == (EndpointPort(name="http", protocol="TCP", port=80),)
    assert (second.name, second.ports) == ("web-1", ())
    assert [e.addresses for e in second.endpoints] == [("fd00::1",)]


def test_endpoints_without_subsets_give_one_empty_slice():
    (only,) = slices_from_endpoints_dict({"metadata": {"name": "web"}, "subsets": None})
    assert (only.name, only.namespace, only.endpoints, only.service_name) == (
        "web",
        "default",
        (),
        "web",
    )


def test_endpoints_address_without_ip():
    err = error_of(
        slices_from_endpoints_dict,
        {"metadata": {"name": "web"}, "subsets": [{"addresses": [{"hostname": "a"}]}]},
    )
    assert (err.location, err.reason) == (
        "subsets[0].addresses[0].ip",
        "required field is missing or empty",
    )


# --- Pod ------------------------------------------------------------------------------------------


def pod(status: Any = None, spec: Any = None, **meta: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": "web-0", "namespace": "ms", **meta}}
    if spec is not None:
        obj["spec"] = spec
    if status is not None:
        obj["status"] = status
    return obj


def test_pod_full():
    obj = pod(
        status={
            "phase": "Running",
            "podIP": "10.1.0.1",
            "podIPs": [{"ip": "10.1.0.1"}, {"ip": "fd00::1"}],
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "True"},
            ],
        },
        spec={
            "hostname": "web-0",
            "subdomain": "web",
            "hostNetwork": False,
            "dnsPolicy": "ClusterFirstWithHostNet",
        },
        labels={"app": "web"},
        ownerReferences=[
            {"apiVersion": "v1", "kind": "Node", "name": "n1"},
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True},
        ],
    )
    assert pod_from_dict(obj) == Pod(
        namespace="ms",
        name="web-0",
        labels=labels_of({"app": "web"}),
        hostname="web-0",
        subdomain="web",
        pod_ips=("10.1.0.1", "fd00::1"),
        phase="Running",
        ready=True,
        deleting=False,
        host_network=False,
        dns_policy="ClusterFirstWithHostNet",
        owner=ObjectRef(kind="StatefulSet", namespace="ms", name="web"),
    )


@pytest.mark.parametrize(
    ("status", "ready"),
    [
        (None, True),
        ({}, True),
        ({"phase": "Running"}, True),
        ({"phase": "Pending"}, False),
        ({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}, True),
        ({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}, False),
        ({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}, False),
        ({"conditions": [{"type": "Ready", "status": "Unknown"}]}, False),
    ],
    ids=[
        "manifest",
        "empty-status",
        "running-no-conditions",
        "pending-no-conditions",
        "ready-true",
        "ready-false",
        "no-ready-condition",
        "ready-unknown",
    ],
)
def test_pod_ready(status: Any, ready: bool):
    assert pod_from_dict(pod(status=status)).ready is ready


def test_pod_ips_fall_back_to_pod_ip_and_owner_to_first():
    result = pod_from_dict(
        pod(
            status={"podIP": "10.1.0.9", "podIPs": None},
            ownerReferences=[{"kind": "ReplicaSet", "name": "web-7d"}],
        )
    )
    assert result.pod_ips == ("10.1.0.9",)
    assert result.owner == ObjectRef(kind="ReplicaSet", namespace="ms", name="web-7d")


def test_pod_deleting_and_defaults():
    result = pod_from_dict(pod(deletionTimestamp="2024-05-01T10:00:00Z"))
    assert result.deleting
    assert (result.pod_ips, result.phase, result.dns_policy, result.owner) == (
        (),
        "Running",
        "ClusterFirst",
        None,
    )
    assert pod_from_dict(pod(status={"phase": "Succeeded"})).is_terminal


@pytest.mark.parametrize(
    ("obj", "location", "reason"),
    [
        (pod(status={"podIPs": [{}]}), "status.podIPs[0].ip", "required field is missing or empty"),
        (pod(status={"podIPs": ["10.1.0.1"]}), "status.podIPs[0]", "expected a mapping, got str"),
        (pod(spec={"hostNetwork": "true"}), "spec.hostNetwork", "expected true or false, got str"),
        (
            pod(status={"conditions": [{"type": "Ready", "status": True}]}),
            "status.conditions[0].status",
            "expected a string, got bool",
        ),
        (
            pod(ownerReferences={"kind": "x"}),
            "metadata.ownerReferences",
            "expected a list, got dict",
        ),
        (
            pod(ownerReferences=[{"kind": "StatefulSet", "name": 1}]),
            "metadata.ownerReferences[0].name",
            "expected a string, got int",
        ),
    ],
    ids=[
        "pod-ip-missing",
        "pod-ips-strings",
        "host-network-string",
        "status-bool",
        "owners",
        "owner-name",
    ],
)
def test_pod_errors(obj: Any, location: str, reason: str):
    err = error_of(pod_from_dict, obj)
    assert (err.location, err.reason) == (location, reason)


# --- StatefulSet ------------------------------------------------------------------------------------


def test_statefulset_full():
    obj = {
        "metadata": {"name": "db", "namespace": "ms"},
        "spec": {
            "serviceName": "db",
            "replicas": 2,
            "selector": {
                "matchLabels": {"app": "db"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["a", "b"]},
                    {"key": "canary", "operator": "DoesNotExist"},
                ],
            },
            "template": {"metadata": {"labels": {"app": "db", "tier": "a"}}},
        },
    }
    assert statefulset_from_dict(obj) == StatefulSet(
        namespace="ms",
        name="db",
        service_name="db",
        replicas=2,
        selector=LabelSelector(
            match_labels=labels_of({"app": "db"}),
            match_expressions=(
                LabelRequirement(key="tier", operator="In", values=("a", "b")),
                LabelRequirement(key="canary", operator="DoesNotExist"),
            ),
        ),
        template_labels=labels_of({"app": "db", "tier": "a"}),
    )


def test_statefulset_defaults():
    result = statefulset_from_dict({"metadata": {"name": "db"}, "spec": {"replicas": None}})
    assert (result.replicas, result.service_name, result.selector) == (1, "", LabelSelector())
    assert (
        statefulset_from_dict({"metadata": {"name": "db"}, "spec": {"replicas": 0}}).replicas == 0
    )


@pytest.mark.parametrize(
    ("spec", "location", "reason"),
    [
        (
            {"selector": {"matchExpressions": [{"key": "a", "operator": "Equals"}]}},
            "spec.selector.matchExpressions[0].operator",
            "unknown operator 'Equals'; expected one of In, NotIn, Exists, DoesNotExist",
        ),
        (
            {"selector": {"matchExpressions": [{"operator": "Exists"}]}},
            "spec.selector.matchExpressions[0].key",
            "required field is missing or empty",
        ),
        (
            {"selector": {"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]}},
            "spec.selector.matchExpressions[0].values[0]",
            "expected a string, got int",
        ),
        ({"replicas": "3"}, "spec.replicas", "expected an integer, got str"),
        ({"template": {"metadata": []}}, "spec.template.metadata", "expected a mapping, got list"),
    ],
    ids=["operator", "key", "values", "replicas", "template-metadata"],
)
def test_statefulset_errors(spec: Any, location: str, reason: str):
    err = error_of(statefulset_from_dict, {"metadata": {"name": "db"}, "spec": spec})
    assert (err.location, err.reason) == (location, reason)


# --- Namespace and dispatch -------------------------------------------------------------------------


def test_namespace():
    obj = {"metadata": {"name": "ms", "namespace": "ignored", "labels": {"team": "a"}}}
    assert namespace_from_dict(obj) == Namespace(name="ms", labels=labels_of({"team": "a"}))


@pytest.mark.parametrize(
    ("api_version", "kind", "converted"),
    [
        ("v1", "Service", Service),
        ("v1", "Pod", Pod),
        ("v1", "Namespace", Namespace),
        ("v1", "Endpoints", EndpointSlice),
        ("discovery.k8s.io/v1", "EndpointSlice", EndpointSlice),
        ("apps/v1", "StatefulSet", StatefulSet),
        ("apps/v1", "Deployment", Deployment),
        ("apps/v1", "DaemonSet", None),
        ("v1", "ConfigMap", None),
        ("example.com/v1", "Service", None),
    ],
)
def test_object_from_dict_dispatch(api_version: str, kind: str, converted: type | None):
    obj = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {},
        "addressType": "IPv4",
    }
    result = object_from_dict(obj, default_namespace="dev")
    if converted is None:
        assert result == ()
    else:
        (one,) = result
        assert isinstance(one, converted)


def test_object_from_dict_needs_kind():
    err = error_of(object_from_dict, {"apiVersion": "v1", "metadata": {"name": "x"}})
    assert (err.location, err.reason) == ("kind", "required field is missing or empty")


def test_seed_manifest_matches_the_seed_factory():
    snap = read_manifests([SEED]).snapshot
    expected = seed_snapshot()
    assert [n.name for n in snap.namespaces] == ["ms"]

    def service_key(s: Service) -> tuple[object, ...]:
        return (s.namespace, s.name, s.cluster_ips, s.selector, [(p.name, p.port) for p in s.ports])

    assert sorted(map(service_key, snap.services)) == sorted(map(service_key, expected.services))
    for got, want in zip(
        sorted(snap.endpoint_slices, key=lambda s: s.name),
        sorted(expected.endpoint_slices, key=lambda s: s.name),
        strict=True,
    ):
        assert (got.name, got.service_name, got.ports) == (want.name, want.service_name, want.ports)
        assert [(e.addresses, e.hostname, e.ready, e.target_ref) for e in got.endpoints] == [
            (e.addresses, e.hostname, e.ready, e.target_ref) for e in want.endpoints
        ]
    assert sorted(
        (p.name, p.pod_ips, p.hostname, p.subdomain, p.labels) for p in snap.pods
    ) == sorted((p.name, p.pod_ips, p.hostname, p.subdomain, p.labels) for p in expected.pods)
    assert [
        (s.name, s.service_name, s.replicas, s.selector, s.template_labels)
        for s in snap.stateful_sets
    ] == [
        (s.name, s.service_name, s.replicas, s.selector, s.template_labels)
        for s in expected.stateful_sets
    ]


def test_dns_port_is_the_udp_container_port_named_dns() -> None:
    from hsvc.adapters.convert import pod_from_dict

    def pod(ports: list) -> dict:
        return {
            "metadata": {"name": "coredns-x", "namespace": "kube-system"},
            "spec": {"containers": [{"name": "coredns", "ports": ports}]},
        }

    openshift = [
        {"name": "dns", "containerPort": 5353, "protocol": "UDP"},
        {"name": "dns-tcp", "containerPort": 5353, "protocol": "TCP"},
    ]
    assert pod_from_dict(pod(openshift)).dns_port == 5353
    assert pod_from_dict(pod([{"name": "metrics", "containerPort": 9153}])).dns_port is None
    assert pod_from_dict(pod([{"name": "dns", "containerPort": 53}])).dns_port is None  # TCP


def test_pods_of_one_workload_share_their_repeated_strings() -> None:
    # Built apart, as two JSON documents decode: equal strings, distinct objects.
    def doc(i: int) -> dict[str, Any]:
        return {
            "metadata": {
                "name": f"web-{i}",
                "namespace": "".join(["te", "am"]),
                "labels": {"app": "".join(["w", "eb"])},
            },
            "spec": {"containers": [{"name": "c", "image": "".join(["nginx:", "1"])}]},
            "status": {"phase": "".join(["Run", "ning"]), "podIP": f"10.0.0.{i}"},
        }

    one, two = pod_from_dict(doc(1)), pod_from_dict(doc(2))
    assert one.namespace == "team" and one.labels == (("app", "web"),)
    assert one.namespace is two.namespace
    assert one.labels[0][1] is two.labels[0][1]
    assert one.images[0] is two.images[0] and one.phase is two.phase
