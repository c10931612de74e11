"""The one-pass readers make the converters' Pods and Endpoints, or leave them to the converters."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.adapters import convert
from hsvc.adapters.fields import ConversionError
from hsvc.adapters.listread import Seen, read_endpoint, read_pod
from tests.examples import scaled


def _values(*values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


# Valid values of the fields the converter reads, and odd ones: a wrong type, an
# invalid name or address, an empty string where a default is meant.
CONTAINERS = [
    [{"name": "app", "image": "example/web:1"}],
    [
        {
            "image": "registry.k8s.io/coredns/coredns:v1.11.1",
            "args": ["-conf", "/etc/coredns/Corefile"],
            "ports": [
                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                {"containerPort": 9153},
            ],
        },
        {"command": ["sh", "-c", "dig a.POD.x"], "env": [{"name": "A", "value": "b.ns.svc.c"}]},
    ],
    [{"env": [{"name": "DB", "value": "db.ns.svc.cluster.local"}, {"name": "N"}]}],
    [],
]
FIELDS: dict[tuple[str, ...], tuple[list[Any], list[Any]]] = {
    ("metadata", "name"): (["web-0", "a.b", "x" * 253], ["", "Bad_Name", "x" * 254, 5, None]),
    ("metadata", "namespace"): (["ns", None], ["", "Bad", "a.b", 3]),
    ("metadata", "labels"): (
        [{}, {"app": "web", "pod-index": "0"}, {"z": "", "a": "b"}, None],
        [{"a": 1}, {1: "x"}, []],
    ),
    ("metadata", "ownerReferences"): (
        [
            [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}],
            [{"kind": "ReplicaSet", "name": "r"}, {"kind": "Job", "name": "j", "controller": True}],
            [{"kind": "A", "name": "a", "controller": False}, {"kind": "B", "name": "b"}],
            [{"kind": "A", "namespace": "", "name": "a"}],
            [{"kind": "A", "namespace": "other", "name": "a", "controller": True}],
            [],
            None,
        ],
        [[{"controller": "yes"}], [{"kind": 5}], [None], "owner"],
    ),
    ("metadata", "deletionTimestamp"): (["2024-05-01T10:00:00Z", None], [5]),
    ("spec", "hostname"): (["web-0", "", None], ["Bad_", "a.b", 7]),
    ("spec", "subdomain"): (["web", "", None], ["Bad", 7]),
    ("spec", "hostNetwork"): ([True, False, None], ["true", 1]),
    ("spec", "dnsPolicy"): (["Default", "", None], [1]),
    ("spec", "nodeName"): (["node-1", "", None], [2]),
    ("spec", "containers"): ([*CONTAINERS, None], ["c", [None], [[]]]),
    ("spec", "initContainers"): (CONTAINERS[1:], ["c", [None]]),
    ("spec", "containers", 0, "image"): (["img:1", "", None], [3]),
    ("spec", "containers", 0, "command"): ([["sh"], [], None], [[1], "sh"]),
    ("spec", "containers", 0, "args"): ([["x.svc.y"], None], [[None], {}]),
    ("spec", "containers", 0, "env"): ([[{"value": None}], []], [[{"value": 3}], [None], "e"]),
    ("spec", "containers", 0, "ports"): (
        [[{"name": "", "containerPort": 0}, {"protocol": ""}], [{"name": "dns"}]],
        [[{"containerPort": True}], [{"containerPort": "80"}], [{"name": 3}], [None], "p"],
    ),
    ("status", "phase"): (["Running", "Pending", "Succeeded", "", None], [3]),
    ("status", "podIP"): (["10.0.0.1", "::1", "", None], ["bad", "10.0.0.01", 5]),
    ("status", "podIPs"): (
        [[{"ip": "10.0.0.1"}], [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}], [], None],
        [[{"ip": ""}], [{}], [{"ip": "fe80::1%eth0"}], [{"ip": "10.0.0.300"}], [None], "ips"],
    ),
    ("status", "conditions"): (
        [
            [{"type": "Ready", "status": "True", "lastTransitionTime": "t1"}],
            [{"type": "Ready", "status": "False"}, {"type": "Ready", "status": "True"}],
            [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "t0"},
                {"type": "Ready", "status": "False", "lastTransitionTime": "t1"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "t2"},
            ],
            [{"type": "Other", "status": "True"}],
            [],
            None,
        ],
        [
            [{"type": "Ready", "status": "True", "lastTransitionTime": 5}],
            [{"type": "Ready", "status": "True"}, {"type": 3}],
            [{"type": "Ready", "status": 1}],
            [None],
            "conditions",
        ],
    ),
}
SECTIONS = {("metadata",): [None, []], ("spec",): [None, []], ("status",): [None, {}, "s"]}


def _put(obj: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set ``path`` in ``obj`` where its parents exist as objects (else leave it)."""
    parent: Any = obj
    for key in path[:-1]:
        if isinstance(parent, dict):
            parent = parent.get(key)
        elif isinstance(parent, list) and isinstance(key, int) and len(parent) > key:
            parent = parent[key]
        else:
            return
    if isinstance(parent, dict):
        parent[path[-1]] = value


@st.composite
def pods(draw: st.DrawFn) -> dict[str, Any]:
    """A pod of valid fields (some absent), then a few made odd."""
    obj: dict[str, Any] = {"metadata": {"name": "web-0"}, "spec": {}, "status": {}}
    for path, (good, _odd) in FIELDS.items():
        if draw(st.booleans()):
            _put(obj, path, copy.deepcopy(draw(st.sampled_from(good))))
    odd = {**{p: values for p, (_, values) in FIELDS.items()}, **SECTIONS}
    for path in draw(st.lists(st.sampled_from(sorted(odd, key=str)), max_size=2)):
        _put(obj, path, copy.deepcopy(draw(st.sampled_from(odd[path]))))
    return obj


PODS = pods()


def _converted(obj: Any, namespace: str) -> Any:
    """What the converter's own field-by-field reading makes of ``obj``: a Pod or its error."""
    try:
        return convert._pod_from_fields(obj, namespace)
    except ConversionError as exc:
        return exc


@settings(max_examples=scaled(1500), deadline=None)
@given(PODS, _values("default", "Bad_NS"))
def test_the_reader_makes_the_converters_pod_or_none(obj: Any, namespace: str) -> None:
    before = copy.deepcopy(obj)
    pod = read_pod(obj, namespace)
    expected = _converted(obj, namespace)
    assert obj == before  # read, never changed
    if pod is not None:
        assert pod == expected
    if isinstance(expected, ConversionError):
        with pytest.raises(ConversionError) as info:
            convert.pod_from_dict(obj, default_namespace=namespace)
        assert (info.value.path, info.value.reason) == (expected.path, expected.reason)
    else:
        assert convert.pod_from_dict(obj, default_namespace=namespace) == expected


@settings(max_examples=scaled(100), deadline=None)
@given(st.lists(PODS, min_size=2, max_size=6), _values("default", "Bad_NS"))
def test_pods_read_with_what_their_list_shares_are_each_the_converters(
    objs: list[Any], namespace: str
) -> None:
    seen = Seen()
    for obj in objs:
        pod = read_pod(obj, namespace, seen)
        assert pod is None or pod == _converted(obj, namespace)
        expected = _converted(obj, namespace)
        if not isinstance(expected, ConversionError):
            assert convert.pod_from_dict(obj, default_namespace=namespace, seen=seen) == expected


USUAL: list[dict[str, Any]] = [
    {  # a StatefulSet's pod as the API lists it
        "metadata": {
            "name": "web-0",
            "namespace": "bench",
            "labels": {"app": "web", "apps.kubernetes.io/pod-index": "0"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}
            ],
            "resourceVersion": "1008",
            "uid": "91f4646a-e481-4f7e-8399-787783da4448",
        },
        "spec": {
            "hostname": "web-0",
            "subdomain": "web",
            "containers": [{"name": "app", "image": "example/web:1"}],
        },
        "status": {
            "phase": "Running",
            "podIP": "10.64.0.1",
            "podIPs": [{"ip": "10.64.0.1"}],
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "t"}],
        },
    },
    {  # a CoreDNS replica: its dns port, no conditions yet, two families
        "metadata": {"name": "coredns-1", "namespace": "kube-system"},
        "spec": {
            "dnsPolicy": "Default",
            "nodeName": "node-1",
            "containers": [
                {
                    "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                    "args": ["-conf", "/etc/coredns/Corefile"],
                    "ports": [
                        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                        {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                    ],
                }
            ],
        },
        "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}]},
    },
    {  # a manifest's pod: no status, names in its settings, host network
        "metadata": {"name": "client"},
        "spec": {
            "hostNetwork": True,
            "initContainers": [{"command": ["sh", "-c", "until nc db.ms.svc.cluster.local"]}],
            "containers": [{"env": [{"name": "DB", "value": "db.ms.svc.cluster.local"}]}],
        },
    },
]


@pytest.mark.parametrize("obj", USUAL, ids=["statefulset-pod", "coredns", "manifest"])
def test_usual_pods_are_read_in_one_pass(obj: dict[str, Any]) -> None:
    pod = read_pod(obj, "default")
    assert pod is not None and pod == _converted(obj, "default")
    assert convert.pod_from_dict(obj) == pod


def test_what_the_reader_leaves_is_converted_or_refused_with_its_path() -> None:
    bad = copy.deepcopy(USUAL[0])
    bad["status"]["podIPs"] = [{"ip": "10.64.0.300"}]
    assert read_pod(bad, "default") is None
    with pytest.raises(ConversionError) as info:
        convert.pod_from_dict(bad)
    assert info.value.path == ("status", "podIPs", 0, "ip")
    odd = copy.deepcopy(USUAL[0])
    odd["spec"]["containers"] = [None]  # null reads as an empty container
    assert read_pod(odd, "default") is None
    assert convert.pod_from_dict(odd).images == ()


def test_the_pods_of_one_list_share_their_controllers_reference_and_namespace() -> None:
    seen = Seen()
    read = []
    for i, (owner, namespace) in enumerate([("web", "a"), ("web", "a"), ("db", "b"), ("web", "c")]):
        obj = copy.deepcopy(USUAL[0])
        obj["metadata"]["name"] = obj["spec"]["hostname"] = f"{owner}-{i}"
        obj["metadata"]["namespace"] = "".join([namespace])  # a copy, as each page decodes it
        obj["metadata"]["ownerReferences"][0]["name"] = owner
        pod = read_pod(obj, "default", seen)
        assert pod is not None and pod == _converted(obj, "default")
        assert convert.pod_from_dict(obj, seen=seen) == pod
        read.append(pod)
    assert read[0].owner is read[1].owner  # one reference for the pods of one StatefulSet
    assert read[3].owner is not read[0].owner  # the same name in another namespace
    assert [p.owner.name for p in read if p.owner] == ["web", "web", "db", "web"]
    assert read[0].namespace is read[1].namespace
    assert sorted(seen.labels) == ["a", "b", "c", "web"]  # namespaces and the subdomain
    bad = copy.deepcopy(USUAL[0])
    bad["metadata"]["namespace"] = "Bad_NS"
    assert read_pod(bad, "default", seen) is None and "Bad_NS" not in seen.labels


def test_a_hostname_equal_to_a_dotted_name_is_left_to_the_converter() -> None:
    obj = copy.deepcopy(USUAL[0])
    obj["metadata"]["name"] = obj["spec"]["hostname"] = "web.0"  # a subdomain, not a label
    assert read_pod(obj, "default") is None
    with pytest.raises(ConversionError) as info:
        convert.pod_from_dict(obj)
    assert info.value.path == ("spec", "hostname")


# --- endpoints ---------------------------------------------------------------------------------

ENDPOINT_FIELDS: dict[tuple[str, ...], tuple[list[Any], list[Any]]] = {
    ("addresses",): (
        [["10.64.0.1"], ["10.64.0.1", "10.64.0.2"], ["fd00::1"], ["web-0.example.com"]],
        [[], ["10.64.0.300"], ["fe80::1%eth0"], [1], "10.0.0.1", None],
    ),
    ("hostname",): (["web-0", "", None], ["Bad_", "a.b", 3]),
    ("conditions",): (
        [
            {"ready": True, "serving": True, "terminating": False},
            {"ready": False},
            {},
            None,
        ],
        [{"ready": "true"}, {"serving": 1}, {"terminating": []}, [], "c"],
    ),
    ("targetRef",): (
        [
            {"kind": "Pod", "namespace": "bench", "name": "web-0"},
            {"kind": "Pod", "name": "web-0"},
            {"kind": "Pod", "namespace": "", "name": "p"},
            None,
        ],
        [{"kind": 1}, {"name": None, "namespace": 2}, [], "ref"],
    ),
    ("nodeName",): (["node-1", "", None], [3]),
    ("zone",): (["zone-a", None], [["a"]]),
}


@st.composite
def endpoints(draw: st.DrawFn) -> Any:
    """An endpoint of valid fields (some absent), then a few made odd; now and then no object."""
    if draw(st.integers(0, 20)) == 0:
        return draw(_values(None, [], "endpoint"))
    obj: dict[str, Any] = {"addresses": ["10.64.0.9"]}
    for path, (good, _odd) in ENDPOINT_FIELDS.items():
        if draw(st.booleans()):
            _put(obj, path, copy.deepcopy(draw(st.sampled_from(good))))
    for path in draw(st.lists(st.sampled_from(sorted(ENDPOINT_FIELDS)), max_size=2)):
        _put(obj, path, copy.deepcopy(draw(st.sampled_from(ENDPOINT_FIELDS[path][1]))))
    return obj


@settings(max_examples=scaled(1500), deadline=None)
@given(endpoints(), _values("IPv4", "IPv6", "FQDN"), _values("bench", "other"))
def test_the_endpoint_reader_makes_the_converters_endpoint_or_none(
    obj: Any, address_type: str, namespace: str
) -> None:
    family = {"IPv4": 4, "IPv6": 6}.get(address_type, 0)
    before = copy.deepcopy(obj)
    endpoint = read_endpoint(obj, family, namespace)
    path = ("endpoints", 0)
    try:
        expected: Any = convert._endpoint(
            convert._mapping(obj, path), path, address_type, namespace
        )
    except ConversionError as exc:
        expected = exc
    assert obj == before
    if endpoint is not None:
        assert endpoint == expected
    meta = {"name": "s", "namespace": namespace}
    slice_ = {"metadata": meta, "addressType": address_type, "endpoints": [obj]}
    if isinstance(expected, ConversionError):
        with pytest.raises(ConversionError) as info:
            convert.slice_from_dict(slice_)
        assert (info.value.path, info.value.reason) == (expected.path, expected.reason)
    else:
        assert convert.slice_from_dict(slice_).endpoints == (expected,)


def test_a_listed_endpoint_is_read_in_one_pass() -> None:
    obj = {
        "addresses": ["10.64.0.1"],
        "hostname": "web-0",
        "conditions": {"ready": True, "serving": True, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": "bench", "name": "web-0"},
    }
    endpoint = read_endpoint(obj, 4, "bench")
    assert endpoint is not None and endpoint.target_ref is not None
    assert endpoint == convert._endpoint(obj, ("endpoints", 0), "IPv4", "bench")
    assert (endpoint.ready, endpoint.terminating, endpoint.target_ref.name) == (
        True,
        False,
        "web-0",
    )
    assert read_endpoint(obj, 6, "bench") is None  # an IPv4 address in an IPv6 slice: refused there
    assert read_endpoint({"addresses": ["a.example"]}, 0, "bench") is None  # FQDN: the converter's


# --- any JSON value anywhere -------------------------------------------------------------------

ODD_TEXT = _values(
    *("", " ", "web-0", "Web-0", "web-0.", "a..b", "x" * 63, "x" * 64, "x" * 253, "x" * 254),
    *("10.0.0.1", " 10.0.0.1", "10.0.0.1 ", "010.0.0.1", "::ffff:1.2.3.4", "fe80::1%eth0"),
    *("FD00::1", "fd00:0::1", "::", "1.2.3", "True", "true", "Ready", "Running", "UDP", "dns"),
    *("a.svc.b", "A.SVC.B", "\u00e9"),
)
KEYS = _values(
    *("ip", "type", "status", "name", "kind", "namespace", "controller", "containerPort"),
    *("protocol", "value", "image", "lastTransitionTime", "ready", "serving", "terminating"),
)
# Any JSON value (and a float, which YAML gives): the converter's types, and every other.
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-1, 70000) | st.floats(allow_nan=False) | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS | ODD_TEXT, inner, max_size=3),
    max_leaves=6,
)
POD_PATHS = [
    *(("metadata",), ("spec",), ("status",), ("metadata", "labels", "app")),
    *[("metadata", *p) for p in (("ownerReferences", 0), ("ownerReferences", 0, "controller"))],
    *[("spec", "containers", 0, *p) for p in ((), ("ports", 0), ("ports", 0, "containerPort"))],
    *[("status", *p) for p in (("podIPs", 0), ("podIPs", 0, "ip"), ("conditions", 0, "status"))],
    *(("status", "conditions", 1), ("status", "conditions", 0, "type")),
    *FIELDS,
]


@settings(max_examples=scaled(400), deadline=None)
@given(
    st.sampled_from(USUAL),
    st.lists(st.tuples(st.sampled_from(POD_PATHS), JSON), max_size=3),
    _values("default", "bench"),
)
def test_any_value_anywhere_in_a_pod_is_read_as_the_converter_reads_it(
    usual: dict[str, Any], edits: list[tuple[tuple[Any, ...], Any]], namespace: str
) -> None:
    obj = copy.deepcopy(usual)
    for path, value in edits:
        _put(obj, path, copy.deepcopy(value))
    pod, expected = read_pod(obj, namespace), _converted(obj, namespace)
    if pod is not None:
        assert pod == expected
    try:
        assert convert.pod_from_dict(obj, default_namespace=namespace) == expected
    except ConversionError as exc:
        assert isinstance(expected, ConversionError)
        assert (exc.path, exc.reason) == (expected.path, expected.reason)


@settings(max_examples=scaled(400), deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([*ENDPOINT_FIELDS, ("addresses", 1)]), JSON), max_size=3),
    _values("IPv4", "IPv6"),
    _values("10.0.0.1", "fd00::1"),
)
def test_any_value_anywhere_in_an_endpoint_is_read_as_the_converter_reads_it(
    edits: list[tuple[tuple[Any, ...], Any]], address_type: str, address: str
) -> None:
    obj: dict[str, Any] = {
        "addresses": [address, address],
        "hostname": "web-0",
        "conditions": {"ready": True},
        "targetRef": {"kind": "Pod", "name": "web-0"},
    }
    for path, value in edits:
        _put(obj, path, copy.deepcopy(value))
    endpoint = read_endpoint(obj, {"IPv4": 4, "IPv6": 6}[address_type], "bench")
    path = ("endpoints", 0)
    try:
        expected: Any = convert._endpoint(obj, path, address_type, "bench")
    except ConversionError as exc:
        expected = exc
    if endpoint is not None:
        assert endpoint == expected
