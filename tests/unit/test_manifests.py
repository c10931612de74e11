"""Manifest files -> Snapshot, and file:line:col errors (hsvc/adapters/manifests.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from textwrap import dedent

import pytest

from hsvc.adapters.manifests import (
    MAX_MANIFEST_BYTES,
    ManifestSet,
    read_manifests,
)
from hsvc.core.model import Namespace, Snapshot, labels_of
from hsvc.errors import ExitCode, ManifestError

DATA = Path(__file__).parent.parent / "data"
BROKEN = DATA / "broken"
SEED = DATA / "seed" / "ms.yaml"

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
spec:
  clusterIP: {ip}
  selector:
    app: {name}
  ports:
    - name: http
      port: 80
"""


def service(name: str, namespace: str = "ms", ip: str = "None") -> str:
    return SERVICE.format(name=name, namespace=namespace, ip=ip)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text))
    return path


def read(tmp_path: Path, text: str, name: str = "m.yaml") -> ManifestSet:
    return read_manifests([write(tmp_path / name, text)])


def error_of(*paths: str | Path) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        read_manifests(paths)
    return info.value


# --- documents ------------------------------------------------------------------------------


def test_multi_document_yaml_skips_empty_documents(tmp_path: Path) -> None:
    text = (
        "---\n---\n# only a comment\n---\n"
        + service("web")
        + "---\n"
        + service("db", ip="10.0.0.7")
        + "...\n---\n"
    )
    result = read(tmp_path, text)
    assert [s.name for s in result.snapshot.services] == ["web", "db"]
    db = result.snapshot.services[1]
    assert db.cluster_ips == ("10.0.0.7",)
    assert db.namespace == "ms"
    assert result.skipped == ()


def test_list_kind_is_flattened(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        """\
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: ms}
            spec: {clusterIP: None}
          - apiVersion: v1
            kind: Pod
            metadata: {name: web-0, namespace: ms}
            spec: {hostname: web-0, subdomain: web}
            status: {podIP: 10.244.0.5}
          - apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: api, namespace: ms}
        """,
    )
    snapshot = result.snapshot
    assert [s.name for s in snapshot.services] == ["web"]
    assert [(p.name, p.pod_ips, p.hostname) for p in snapshot.pods] == [
        ("web-0", ("10.244.0.5",), "web-0")
    ]
    assert result.skipped == (("DaemonSet", 1),)


def test_typed_list_items_may_omit_kind_and_api_version(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        """\
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSliceList
        metadata: {resourceVersion: "1"}
        items:
          - metadata:
              name: web-abc
              namespace: ms
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            endpoints:
              - addresses: [10.244.0.5]
                hostname: web-0
        """,
    )
    (only,) = result.snapshot.endpoint_slices
    assert (only.name, only.service_name, only.endpoints[0].hostname) == ("web-abc", "web", "web-0")


def test_nested_lists_are_flattened(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        """\
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: ServiceList
            items:
              - metadata: {name: inner, namespace: ms}
          - apiVersion: v1
            kind: List
            items: null
        """,
    )
    assert [s.name for s in result.snapshot.services] == ["inner"]


def test_json_file(tmp_path: Path) -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ms"}},
            _service_json("web") | {"spec": {"clusterIP": "10.0.0.9"}},
        ],
    }
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(doc, indent="\t"))  # kubectl never uses tabs; JSON allows them
    snapshot = read_manifests([path]).snapshot
    assert [(s.name, s.cluster_ips) for s in snapshot.services] == [("web", ("10.0.0.9",))]
    assert snapshot.namespaces == (Namespace(name="ms"),)


def test_stdin_is_read_for_dash() -> None:
    stream = io.StringIO(service("web"))
    result = read_manifests(["-"], stdin=stream)
    assert result.files == ("<stdin>",)
    assert [s.name for s in result.snapshot.services] == ["web"]


def test_binary_stdin_is_decoded_and_checked() -> None:
    stream = io.TextIOWrapper(io.BytesIO(service("web").encode("utf-8-sig")))
    assert [s.name for s in read_manifests(["-"], stdin=stream).snapshot.services] == ["web"]
    bad = io.TextIOWrapper(io.BytesIO(b"kind: \xff\n"))
    with pytest.raises(ManifestError, match=r"^<stdin>:1:7: not UTF-8 text$"):
        read_manifests(["-"], stdin=bad)


def test_skipped_kinds_are_counted(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: b}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: api, namespace: ms}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {generateName: web-}
        """,
    )
    assert result.skipped == (("ConfigMap", 2), ("DaemonSet", 1), ("Ingress", 1))
    assert result.snapshot.services == ()
    # Skipped objects do not make their namespace exist.
    assert result.snapshot.namespaces == ()


def test_kept_kinds(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        """\
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: eureka, namespace: ms}
        spec:
          serviceName: eureka
          replicas: 3
          selector: {matchLabels: {app: eureka}}
          template: {metadata: {labels: {app: eureka}}}
        ---
        apiVersion: discovery.k8s.io/v1beta1
        kind: EndpointSlice
        metadata:
          name: old-abc
          namespace: ms
          labels: {kubernetes.io/service-name: old}
        addressType: IPv4
        endpoints: []
        """,
    )
    (sts,) = result.snapshot.stateful_sets
    assert (sts.name, sts.service_name, sts.replicas) == ("eureka", "eureka", 3)
    assert [s.name for s in result.snapshot.endpoint_slices] == ["old-abc"]


# --- namespaces -----------------------------------------------------------------------------------


def test_missing_namespace_means_default(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: lonely}
        """,
    )
    assert result.snapshot.pods[0].namespace == "default"
    assert result.snapshot.namespaces == (Namespace(name="default", labels_known=False),)


def test_namespaces_are_synthesised_and_given_ones_kept(tmp_path: Path) -> None:
    namespaces = """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: ms
          labels: {team: dns}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: empty}
        ---
        """
    text = dedent(namespaces) + service("web", namespace="ms") + "---\n"
    result = read(tmp_path, text + service("db", namespace="data"))
    assert result.snapshot.namespaces == (
        Namespace(name="data", labels_known=False),  # implied by its Service
        Namespace(name="empty"),
        Namespace(name="ms", labels=labels_of({"team": "dns"})),
    )


# --- folders and several files ---------------------------------------------------------------


def test_folders_are_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path / "b" / "z.yml", service("from-z"))
    write(tmp_path / "b" / "a.yaml", service("from-a"))
    write(tmp_path / "a" / "deep" / "x.json", json.dumps(_service_json("json")))
    write(tmp_path / "b" / "notes.txt", "not: [yaml")
    write(tmp_path / "b" / "README.md", "# ignored")
    result = read_manifests([tmp_path])
    assert result.files == (
        str(tmp_path / "a" / "deep" / "x.json"),
        str(tmp_path / "b" / "a.yaml"),
        str(tmp_path / "b" / "z.yml"),
    )
    assert [s.name for s in result.snapshot.services] == ["json", "from-a", "from-z"]


def _service_json(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "ms"}}


def test_files_and_folders_mixed_and_a_file_named_twice_read_once(tmp_path: Path) -> None:
    one = write(tmp_path / "one.yaml", service("one"))
    write(tmp_path / "dir" / "two.yaml", service("two"))
    result = read_manifests([one, tmp_path / "dir", str(one)])
    assert [s.name for s in result.snapshot.services] == ["one", "two"]
    assert len(result.files) == 2


def test_an_explicit_file_is_read_whatever_its_name(tmp_path: Path) -> None:
    path = write(tmp_path / "cluster.txt", service("web"))
    assert [s.name for s in read_manifests([path]).snapshot.services] == ["web"]


def test_later_object_replaces_earlier(tmp_path: Path) -> None:
    first = write(tmp_path / "1.yaml", service("web", ip="10.0.0.1"))
    second = write(tmp_path / "2.yaml", service("web", ip="10.0.0.2"))
    snapshot = read_manifests([first, second]).snapshot
    assert [s.cluster_ips for s in snapshot.services] == [("10.0.0.2",)]


def test_no_paths_gives_an_empty_snapshot() -> None:
    result = read_manifests([])
    assert result.snapshot.services == () and result.files == ()


# --- Endpoints fallback ---------------------------------------------------------------------------

ENDPOINTS = """\
apiVersion: v1
kind: Endpoints
metadata:
  name: {name}
  namespace: ms
subsets:
  - addresses:
      - ip: 10.244.0.{n}
        hostname: {name}-0
    notReadyAddresses:
      - ip: 10.244.0.{m}
    ports:
      - name: http
        port: 8080
"""

SLICE = """\
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}-xyz
  namespace: ms
  labels:
    kubernetes.io/service-name: {name}
addressType: IPv4
endpoints:
  - addresses: [10.244.9.9]
"""


def test_endpoints_become_slices_when_the_service_has_none(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        service("legacy") + "---\n" + ENDPOINTS.format(name="legacy", n=5, m=6),
    )
    (only,) = result.snapshot.endpoint_slices
    assert only.service_name == "legacy"
    assert [(e.addresses, e.ready, e.hostname) for e in only.endpoints] == [
        (("10.244.0.5",), True, "legacy-0"),
        (("10.244.0.6",), False, ""),
    ]
    assert [(p.name, p.port) for p in only.ports] == [("http", 8080)]


def test_endpoints_ignored_when_a_slice_exists_in_any_order(tmp_path: Path) -> None:
    text = (
        ENDPOINTS.format(name="web", n=5, m=6)
        + "---\n"
        + SLICE.format(name="web")
        + "---\n"
        + ENDPOINTS.format(name="other", n=7, m=8)
    )
    snapshot = read(tmp_path, text).snapshot
    by_service = {(s.service_name, s.name) for s in snapshot.endpoint_slices}
    assert ("web", "web-xyz") in by_service
    assert not any(svc == "web" and name != "web-xyz" for svc, name in by_service)
    assert any(svc == "other" for svc, _ in by_service)
    web_addresses = {
        a
        for s in snapshot.endpoint_slices
        if s.service_name == "web"
        for e in s.endpoints
        for a in e.addresses
    }
    assert web_addresses == {"10.244.9.9"}


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "column", "reason"),
    [
        pytest.param(
            "bad-yaml.yaml", 10, 3, "invalid YAML: did not find expected ',' or ']'", id="syntax"
        ),
        pytest.param(
            "not-a-mapping.yaml", 8, 1, "a document is a list, not a Kubernetes object", id="list"
        ),
        pytest.param("missing-kind.yaml", 11, 1, "missing 'kind'", id="missing-kind"),
        pytest.param(
            "missing-name.yaml",
            5,
            1,
            "Service: metadata.name: required field is missing or empty",
            id="missing-name",
        ),
        pytest.param(
            "wrong-type.yaml",
            15,
            13,
            "Service ms/web: spec.ports[1].port: expected an integer, got str",
            id="wrong-type",
        ),
        pytest.param(
            "wrong-type-list.json",
            8,
            92,
            "Pod ms/web-0: metadata.labels.version: expected a string, got int",
            id="wrong-type-json-list",
        ),
    ],
)
def test_broken_manifests_name_file_line_and_column(
    name: str, line: int, column: int, reason: str
) -> None:
    path = BROKEN / name
    err = error_of(path)
    assert (err.path, err.line, err.column) == (str(path), line, column)
    assert reason in err.reason
    assert str(err).startswith(f"{path}:{line}:{column}: ")
    assert err.exit_code == ExitCode.BAD_MANIFEST


def test_error_names_the_file_inside_a_folder(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", service("fine"))
    bad = write(tmp_path / "b.yaml", service("web") + "---\nkind: Service\n")
    err = error_of(tmp_path)
    assert (err.path, err.line, err.reason) == (str(bad), 14, "missing 'apiVersion'")


@pytest.mark.parametrize(
    ("text", "line", "column", "reason"),
    [
        pytest.param(
            "apiVersion: v1\nkind: [Service]\nmetadata: {name: x}\n",
            2,
            7,
            "kind must be a string, not a list",
            id="kind-type",
        ),
        pytest.param("apiVersion: v1\nkind: ''\n", 1, 1, "missing 'kind'", id="kind-empty"),
        pytest.param(
            "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
            3,
            8,
            "items must be a list, not a dict",
            id="items-type",
        ),
        pytest.param(
            "apiVersion: v1\nkind: List\nitems:\n  - 42\n",
            4,
            5,
            "a list item is a number, not a Kubernetes object",
            id="item-type",
        ),
        pytest.param("just a string\n", 1, 1, "a document is a string", id="scalar-document"),
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n",
            5,
            3,
            "duplicate key 'name' (first at line 4)",
            id="duplicate-key",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports:\n"
            "    - port: !!int eighty\n",
            6,
            13,
            "invalid YAML value",
            id="bad-explicit-tag",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  ports:\n"
            '    - port: !!int ""\n',
            6,
            13,
            "invalid YAML value",
            id="empty-explicit-int",
        ),
        pytest.param("a: 1\nb: \x07\n", 2, 4, "control characters are not allowed", id="control"),
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec: [1]\n",
            5,
            7,
            "Service default/web: spec: expected a mapping, got list",
            id="spec-type",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n"
            "    - name: http\n",
            7,
            7,
            "spec.ports[0].port: required field is missing",
            id="missing-port-points-at-item",
        ),
        pytest.param(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name:\n",
            4,
            3,
            "metadata.name: required field is missing or empty",
            id="empty-name-points-at-key",
        ),
    ],
)
def test_errors_carry_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, reason: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    err = error_of(path)
    assert (err.line, err.column) == (line, column), str(err)
    assert reason in err.reason


def test_list_containing_itself_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "loop.yaml", "&a\nkind: List\napiVersion: v1\nitems: [*a]\n")
    err = error_of(path)
    assert "nested more than" in err.reason


def test_missing_file(tmp_path: Path) -> None:
    err = error_of(tmp_path / "nope.yaml")
    assert str(err) == f"{tmp_path / 'nope.yaml'}: no such file or directory"
    assert err.line is None


def test_folder_without_manifests(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", "hello")
    err = error_of(tmp_path)
    assert err.path == str(tmp_path)
    assert "no *.yaml, *.yml, *.json files" in err.reason


def test_file_over_the_size_limit_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: costs no disk
    err = error_of(path)
    assert "larger than 20 MB" in err.reason


def test_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    body = service("web").encode()
    path.write_bytes(body + b"#" * (MAX_MANIFEST_BYTES - len(body)))
    assert [s.name for s in read_manifests([path]).snapshot.services] == ["web"]


def test_stdin_over_the_size_limit_is_refused() -> None:
    stream = io.StringIO("#" * (MAX_MANIFEST_BYTES + 1))
    with pytest.raises(ManifestError, match=r"^<stdin>: larger than 20 MB"):
        read_manifests(["-"], stdin=stream)


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: Service\nmetadata:\n  name: caf\xe9\n")
    err = error_of(path)
    assert (err.line, err.column) == (4, 12)
    assert "not UTF-8 text" in err.reason


def test_utf16_file_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "windows.yaml"
    path.write_bytes(service("web").encode("utf-16"))
    assert [s.name for s in read_manifests([path]).snapshot.services] == ["web"]


# --- the seed cluster ---------------------------------------------------------------------------


def _dns_view(snapshot: Snapshot, namespace: str) -> dict[str, object]:
    """What DNS rules read, without fields a manifest adds (labels, owners, node names)."""
    return {
        "services": sorted(
            (s.name, s.type, s.cluster_ips, tuple((p.name, p.port) for p in s.ports), s.selector)
            for s in snapshot.services
            if s.namespace == namespace
        ),
        "slices": sorted(
            (
                s.service_name,
                tuple((e.addresses, e.is_ready, e.hostname) for e in s.endpoints),
                tuple((p.name, p.port) for p in s.ports),
            )
            for s in snapshot.endpoint_slices
            if s.namespace == namespace
        ),
        "pods": sorted(
            (p.name, p.pod_ips, p.ready, p.hostname, p.subdomain, p.labels)
            for p in snapshot.pods
            if p.namespace == namespace
        ),
        "stateful_sets": sorted(
            (t.name, t.service_name, t.replicas, t.selector.match_labels)
            for t in snapshot.stateful_sets
            if t.namespace == namespace
        ),
    }


def test_seed_manifests_match_the_seed_snapshot(seed: Snapshot) -> None:
    result = read_manifests([SEED])
    assert result.files == (str(SEED),)
    assert _dns_view(result.snapshot, "ms") == _dns_view(seed, "ms")
    assert [n.name for n in result.snapshot.namespaces] == ["ms"]


def test_seed_folder_adds_cluster_plumbing_and_skips_the_configmap() -> None:
    result = read_manifests([SEED.parent])
    assert result.skipped == (("ConfigMap", 1),)
    assert [n.name for n in result.snapshot.namespaces] == ["default", "kube-system", "ms"]
    kube_dns = next(s for s in result.snapshot.services if s.name == "kube-dns")
    assert (kube_dns.namespace, kube_dns.cluster_ips) == ("kube-system", ("10.0.0.10",))
