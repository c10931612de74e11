"""Values the API server refuses never become records: manifests are bad (exit 7), lint says so.

Each case is one object with one field the API server's validation rejects
(k8s.io/kubernetes pkg/apis/core/validation and discovery/validation); the
message names the file, line and field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsvc.errors import ExitCode


def service(spec: dict[str, object], name: str = "web") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "ms"},
        "spec": spec,
    }


def endpoints(endpoint: dict[str, object], address_type: str = "IPv4") -> dict[str, object]:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "web-1",
            "namespace": "ms",
            "labels": {"kubernetes.io/service-name": "web"},
        },
        "addressType": address_type,
        "endpoints": [endpoint],
    }


HEADLESS = service({"clusterIP": "None", "ports": [{"name": "http", "port": 80}]})

# (id, objects, field named in the message)
CASES = [
    ("port-negative", [service({"clusterIP": "10.0.0.9", "ports": [{"port": -5}]})], "port"),
    ("port-zero", [service({"clusterIP": "10.0.0.9", "ports": [{"port": 0}]})], "port"),
    ("port-70000", [service({"clusterIP": "10.0.0.9", "ports": [{"port": 70000}]})], "port"),
    (
        "target-port-70000",
        [service({"clusterIP": "10.0.0.9", "ports": [{"port": 80, "targetPort": 70000}]})],
        "targetPort",
    ),
    (
        "external-name-space",
        [service({"type": "ExternalName", "externalName": "a b.com"})],
        "spec.externalName",
    ),
    ("cluster-ip-garbage", [service({"clusterIP": "not-an-ip"})], "spec.clusterIP"),
    ("cluster-ip-zone", [service({"clusterIP": "fe80::1%eth0"})], "spec.clusterIP"),
    (
        "cluster-ips-zone",
        [service({"clusterIPs": ["10.0.0.9", "fd00::1%eth0"]})],
        "spec.clusterIPs[1]",
    ),
    ("service-type", [service({"type": "Weird"})], "spec.type"),
    ("service-name-digit", [service({"clusterIP": "None"}, name="1web")], "metadata.name"),
    (
        "hostname-64",
        [HEADLESS, endpoints({"addresses": ["10.1.0.1"], "hostname": "h" * 64})],
        "hostname",
    ),
    (
        "hostname-dot",
        [HEADLESS, endpoints({"addresses": ["10.1.0.1"], "hostname": "a.b"})],
        "hostname",
    ),
    (
        "hostname-star",
        [HEADLESS, endpoints({"addresses": ["10.1.0.1"], "hostname": "*"})],
        "hostname",
    ),
    (
        "address-garbage",
        [HEADLESS, endpoints({"addresses": ["10.1.0.999"]})],
        "endpoints[0].addresses[0]",
    ),
    (
        "address-zone",
        [HEADLESS, endpoints({"addresses": ["fe80::1%eth0"]}, "IPv6")],
        "endpoints[0].addresses[0]",
    ),
    (
        "address-wrong-family",
        [HEADLESS, endpoints({"addresses": ["fd00::1"]}, "IPv4")],
        "endpoints[0].addresses[0]",
    ),
    ("address-type", [HEADLESS, endpoints({"addresses": ["10.1.0.1"]}, "IPv5")], "addressType"),
    (
        "endpoints-v1-zone",
        [
            HEADLESS,
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "web", "namespace": "ms"},
                "subsets": [{"addresses": [{"ip": "fe80::1%eth0"}]}],
            },
        ],
        "ip",
    ),
    (
        "endpoints-v1-port-zero",
        [
            HEADLESS,
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "web", "namespace": "ms"},
                "subsets": [{"addresses": [{"ip": "10.1.0.1"}], "ports": [{"port": 0}]}],
            },
        ],
        "port",
    ),
    (
        "pod-hostname",
        [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p", "namespace": "ms"},
                "spec": {"hostname": "Bad_Host", "subdomain": "web"},
            }
        ],
        "spec.hostname",
    ),
    (
        "pod-ip-zone",
        [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p", "namespace": "ms"},
                "status": {"podIP": "fe80::1%eth0"},
            }
        ],
        "status.podIP",
    ),
    (
        "replicas-negative",
        [
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "db", "namespace": "ms"},
                "spec": {"serviceName": "web", "replicas": -1},
            }
        ],
        "spec.replicas",
    ),
]


@pytest.mark.parametrize("command", ["records", "lint"])
@pytest.mark.parametrize(("objects", "field"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_refused_value_is_a_bad_manifest(
    run, tmp_path: Path, command: str, objects: list[object], field: str
) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    args = [command, "-f", str(path)] + (["-n", "ms", "--offline"] if command == "records" else [])
    result = run(*args)
    assert result.code == ExitCode.BAD_MANIFEST, result.out + result.err
    assert result.err.startswith(f"hsvc: error: {path}:1:") and result.err.count("\n") == 1
    assert field in result.err
    assert "invalid value" in result.err or "unsupported value" in result.err
    assert "Traceback" not in result.err and result.out == ""
