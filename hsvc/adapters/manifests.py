"""Manifest files (YAML or JSON) -> one :class:`Snapshot`.

Reads what ``kubectl apply -f`` reads: files, folders (recursively), ``-`` for
stdin, multi-document YAML, JSON, and ``*List`` objects as ``kubectl get -o yaml``
writes them. The YAML is composed to nodes first, so every error names
``file:line:col`` -- of the YAML syntax error, of the document that is not an
object, or of the very field that does not convert. Modelled on lightkube's
``codecs.load_all_yaml``; the dict -> model step is :mod:`hsvc.adapters.convert`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

import yaml  # noqa: TID251

from hsvc.adapters.convert import (
    ConversionError,
    KubeObject,
    PathPart,
    object_from_dict,
    slices_from_endpoints_dict,
)
from hsvc.adapters.yamldocs import _at, _child, _Document, _documents
from hsvc.core.dataclass import dataclass
from hsvc.core.model import (
    BackendRef,
    ConfigData,
    Deployment,
    EndpointSlice,
    FieldPath,
    Namespace,
    NetworkPolicy,
    ObjectRef,
    Pod,
    Service,
    Snapshot,
    StatefulSet,
    Workload,
)
from hsvc.errors import ManifestError

__all__ = [
    "MANIFEST_SUFFIXES",
    "MAX_MANIFEST_BYTES",
    "MAX_OBJECTS",
    "ManifestSet",
    "read_manifests",
]

log = logging.getLogger(__name__)

MAX_MANIFEST_BYTES = 20 * 1024 * 1024
"""Larger inputs are refused: PyYAML would take minutes and gigabytes on them."""

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
"""File name endings read from folders (explicitly named files are read whatever their name)."""

STDIN = "-"
_STDIN_NAME = "<stdin>"
_DEFAULT_NAMESPACE = "default"

MAX_OBJECTS = 200_000
"""Most objects read from all inputs together (``*List`` items counted one by one)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestSet:
    """What :func:`read_manifests` found.

    Attributes:
        snapshot: The objects DNS answers from.
        files: Every input read, in reading order (``<stdin>`` for ``-``).
        skipped: ``(kind, count)`` of objects DNS does not read, sorted by kind.
        locations: ``(object, file, line)`` of every object kept, for messages
            and SARIF locations (slices mirrored from an Endpoints point there).
        value_lines: ``(object, field path, file, line, block)`` of every value the
            reference scanner reads (read with ``references``): ``line`` is where
            the value starts, ``block`` whether it is a ``|``/``>`` block whose
            text starts on the next line (so a name on the text's line N is on
            ``line + 1 + N``).
        key_lines: ``(object, field path, line, column)`` of the keys findings point
            at (``metadata.name``, every key of ``spec`` and of the pod template's
            spec), 1-based, in the object's file.
    """

    snapshot: Snapshot
    files: tuple[str, ...]
    skipped: tuple[tuple[str, int], ...]
    locations: tuple[tuple[ObjectRef, str, int], ...] = ()
    value_lines: tuple[tuple[ObjectRef, FieldPath, str, int, bool], ...] = ()
    key_lines: tuple[tuple[ObjectRef, FieldPath, int, int], ...] = ()


def read_manifests(
    paths: Sequence[str | Path],
    *,
    stdin: TextIO | None = None,
    references: bool = False,
    include_secrets: bool = False,
) -> ManifestSet:
    """Read manifest files and folders, keeping what DNS reads and counting the rest.

    Rules: empty documents are skipped; ``*List`` objects are flattened (their
    items may omit ``kind``/``apiVersion``, as API lists do); objects without a
    namespace go to ``default``; kinds other than Namespace, Service,
    EndpointSlice, Endpoints, Pod, StatefulSet and Deployment are counted and dropped. A
    core/v1 Endpoints becomes slices only when the input has no EndpointSlice for
    that Service (the mirroring the cluster would do). A namespace exists when a
    Namespace object is given or any object lives in it. When the same object
    appears twice, the later one wins, as with ``kubectl apply``.

    With ``references`` the objects apps read are kept too (pod templates of every
    workload kind, ConfigMaps, Secrets by key name, Ingresses, HTTPRoutes), with the
    line of every value the reference scanner reads; such objects without a
    ``metadata.name`` (``generateName``) are skipped.

    Args:
        paths: Files, folders (searched recursively for ``*.yaml``, ``*.yml`` and
            ``*.json``, in sorted order) and ``-`` for standard input.
        stdin: The stream ``-`` reads; ``sys.stdin`` when not given.
        references: Also keep what apps read (:mod:`hsvc.core.references`).
        include_secrets: Keep Secret values too (only with ``references``).

    Returns:
        The snapshot, the inputs read and the skipped kinds.

    Raises:
        ManifestError: A path does not exist or cannot be read, an input is over
            20 MB or not UTF-8, YAML is malformed, or an object is not a valid
            Kubernetes object; the message carries ``file:line:col``.
    """
    builder = _SnapshotBuilder(references=references, include_secrets=include_secrets)
    files: list[str] = []
    count = 0
    for name, path in _inputs(paths):
        text = _read(name, path, stdin)
        files.append(name)
        for document in _documents(name, text):
            count += 1
            if count > MAX_OBJECTS:
                raise _at(
                    name,
                    document.node,
                    f"more than {MAX_OBJECTS:,} objects in the input; split it, or point -f "
                    "at the namespaces you need",
                )
            builder.add(document)
    manifest_set = builder.build(tuple(files))
    if manifest_set.skipped:
        log.info(
            "skipped objects DNS does not read: %s",
            ", ".join(f"{count} {kind}" for kind, count in manifest_set.skipped),
        )
    return manifest_set


# --- inputs ---------------------------------------------------------------------------------


def _inputs(paths: Sequence[str | Path]) -> Iterator[tuple[str, Path | None]]:
    """Yield ``(display name, path)``; the path is ``None`` for stdin."""
    seen: set[str] = set()
    for raw in paths:
        if str(raw) == STDIN:
            if _STDIN_NAME not in seen:
                seen.add(_STDIN_NAME)
                yield _STDIN_NAME, None
            continue
        path = Path(raw)
        if path.is_dir():
            found = _folder_files(path)
            if not found:
                raise ManifestError(
                    str(path), f"no {', '.join('*' + s for s in MANIFEST_SUFFIXES)} files here"
                )
        elif path.exists():
            found = [path]
        else:
            raise ManifestError(str(path), "no such file or directory")
        for file in found:
            if str(file) not in seen:
                seen.add(str(file))
                yield str(file), file


def _folder_files(folder: Path) -> list[Path]:
    # os.walk does not follow symlinked folders, so a link loop cannot hang us.
    found: list[Path] = []
    for root, _dirs, names in os.walk(folder, onerror=_raise_walk_error):
        # Regular files only: a FIFO or a device named *.yaml would block the read forever.
        found.extend(
            path
            for path in (Path(root, n) for n in names if n.lower().endswith(MANIFEST_SUFFIXES))
            if path.is_file()
        )
    return sorted(found, key=lambda p: p.parts)


def _raise_walk_error(exc: OSError) -> None:
    raise ManifestError(str(exc.filename), f"cannot read folder: {exc.strerror}") from exc


def _read(name: str, path: Path | None, stdin: TextIO | None) -> str:
    """Return the text of one input, refusing anything over the size limit."""
    too_large = f"larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MB; split it into several files"
    try:
        if path is None:
            stream = sys.stdin if stdin is None else stdin
            if stream is None:  # the process was started with standard input closed
                raise ManifestError(name, "cannot read: standard input is closed")
            binary = getattr(stream, "buffer", None)
            if binary is None:  # an in-memory text stream
                text = stream.read(MAX_MANIFEST_BYTES + 1)
                if len(text) > MAX_MANIFEST_BYTES:
                    raise ManifestError(name, too_large)
                return text
            data: bytes = binary.read(MAX_MANIFEST_BYTES + 1)
        else:
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise ManifestError(name, too_large)
            with path.open("rb") as f:
                # Read at most one byte more than allowed: a FIFO or /dev/stdin has no size.
                data = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ManifestError(name, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(name, too_large)
    return _decode(name, data)


def _decode(name: str, data: bytes) -> str:
    # kubectl reads UTF-8 (with or without BOM) and UTF-16 with a BOM (Windows editors).
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    try:
        return data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ManifestError(
            name, f"not {'UTF-16' if utf16 else 'UTF-8'} text", line, column
        ) from exc


# --- conversion -------------------------------------------------------------------------------


def _locate(node: yaml.Node, path: Sequence[PathPart]) -> yaml.Node:
    """Return the node of the field at ``path``.

    For a field that is absent, return the key of the deepest part that exists
    (``metadata:`` for a missing ``metadata.name``), or the object itself. An
    empty value points at its key, since an empty scalar has no text to point at.
    """
    best = node
    for depth, part in enumerate(path, start=1):
        if isinstance(part, int):
            if not isinstance(node, yaml.SequenceNode) or not 0 <= part < len(node.value):
                break
            node = best = node.value[part]
            continue
        found = _child(node, part)
        if found is None:
            break
        key, node = found
        empty = isinstance(node, yaml.ScalarNode) and node.value == ""
        best = key if empty or depth < len(path) else node
    return best


def _object_label(obj: Mapping[str, object]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    namespace = meta.get("namespace") if isinstance(meta, Mapping) else None
    label = str(obj.get("kind"))
    if isinstance(name, str) and name:
        ns = namespace if isinstance(namespace, str) and namespace else _DEFAULT_NAMESPACE
        label += f" {ns}/{name}" if obj.get("kind") != "Namespace" else f" {name}"
    return label


def _conversion_error(document: _Document, exc: ConversionError) -> ManifestError:
    node = _locate(document.node, exc.path)
    where = f"{exc.location}: " if exc.path else ""
    return _at(document.source, node, f"{_object_label(document.obj)}: {where}{exc.reason}")


# The keys findings point at (hsvc.core.diagnose.catalogue FIELDS) and the mappings
# that hold them, where a finding about a key the manifest lacks points instead.
_KEYS: tuple[tuple[str, ...], ...] = (
    ("metadata",),
    ("metadata", "name"),
    ("spec",),
    ("spec", "serviceName"),
    ("spec", "selector"),
    ("spec", "ports"),
    ("spec", "publishNotReadyAddresses"),
    ("spec", "podManagementPolicy"),
    ("spec", "externalName"),
    ("spec", "clusterIP"),
    ("spec", "hostname"),
    ("spec", "subdomain"),
    ("spec", "hostNetwork"),
    ("spec", "dnsPolicy"),
    ("spec", "template", "spec", "hostname"),
    ("spec", "template", "spec", "subdomain"),
    ("ports",),
    ("endpoints",),
)


class _SnapshotBuilder:
    """Collects converted objects; the later of two equal objects wins."""

    def __init__(self, *, references: bool = False, include_secrets: bool = False) -> None:
        self.objects: dict[tuple[str, str, str], KubeObject] = {}
        self.endpoints: dict[tuple[str, str], tuple[EndpointSlice, ...]] = {}
        self.skipped: Counter[str] = Counter()
        self.locations: dict[ObjectRef, tuple[str, int]] = {}
        self.references = references
        self.include_secrets = include_secrets
        self.value_lines: dict[tuple[ObjectRef, FieldPath], tuple[str, int, bool]] = {}
        self.key_lines: dict[tuple[ObjectRef, FieldPath], tuple[int, int]] = {}

    def add(self, document: _Document) -> None:
        obj = document.obj
        kind = str(obj["kind"])
        group = str(obj["apiVersion"]).rpartition("/")[0]
        try:
            if kind == "Endpoints" and group == "":
                slices = slices_from_endpoints_dict(obj, default_namespace=_DEFAULT_NAMESPACE)
                if slices:
                    first = slices[0]
                    self.endpoints[(first.namespace, first.service_name)] = slices
                    for sl in slices:
                        self.locations[sl.ref] = _where(document)
                return
            if self.references and kind in _APP_ONLY and not _has_name(obj):
                self.skipped[kind] += 1  # generateName: nothing can refer to it by name
                return
            converted = object_from_dict(
                obj,
                default_namespace=_DEFAULT_NAMESPACE,
                references=self.references,
                secret_values=self.include_secrets,
            )
        except ConversionError as exc:
            raise _conversion_error(document, exc) from exc
        kept = [o for o in converted if isinstance(o, _KEPT_TYPES)]
        if not kept:
            self.skipped[kind] += 1
        for index, item in enumerate(kept):
            if isinstance(item, BackendRef):
                key = ("BackendRef", f"{item.route}", str(index))
                self.objects[key] = item
                self._value_line(document, item.site.object, item.site.path)
                continue
            if isinstance(item, Workload | ConfigData):
                key = (f"{type(item).__name__}/{item.kind}", item.namespace, item.name)
                self.objects[key] = item
                self._app_lines(document, item)
                continue
            namespace = "" if isinstance(item, Namespace) else item.namespace
            previous = self.objects.get((type(item).__name__, namespace, item.name))
            if previous is not None and previous != item:
                log.warning(
                    "%s: a later %s %s replaces an earlier one", document.source, kind, item.name
                )
            self.objects[(type(item).__name__, namespace, item.name)] = item
            self.locations[_ref_of(item)] = _where(document)
            if not isinstance(item, Namespace | NetworkPolicy):
                self._key_lines(document, _ref_of(item))
            if self.references and isinstance(item, Service) and item.is_external_name:
                self._value_line(document, item.ref, ("spec", "externalName"))

    def _app_lines(self, document: _Document, item: Workload | ConfigData) -> None:
        self.locations[item.ref] = _where(document)
        for value in item.values:
            self._value_line(document, item.ref, value.site.path)
        if isinstance(item, Workload):
            for source in item.sources:
                self._value_line(document, item.ref, source.path)

    def _key_lines(self, document: _Document, ref: ObjectRef) -> None:
        """Line and column of each key in ``_KEYS`` the document has."""
        for path in _KEYS:
            node: yaml.Node = document.node
            key: yaml.Node | None = None
            for part in path:
                found = _child(node, part)
                if found is None:
                    key = None
                    break
                key, node = found
            if key is not None:
                mark = key.start_mark
                self.key_lines[(ref, path)] = (mark.line + 1, mark.column + 1)

    def _value_line(self, document: _Document, ref: ObjectRef, path: FieldPath) -> None:
        node = _locate(document.node, path)
        block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
        self.value_lines[(ref, path)] = (document.source, node.start_mark.line + 1, block)

    def build(self, files: tuple[str, ...]) -> ManifestSet:
        values = list(self.objects.values())
        services = tuple(o for o in values if isinstance(o, Service))
        slices = [o for o in values if isinstance(o, EndpointSlice)]
        with_slices = {(s.namespace, s.service_name) for s in slices}
        for key, mirrored in self.endpoints.items():
            if key not in with_slices:
                slices.extend(mirrored)
        pods = tuple(o for o in values if isinstance(o, Pod))
        stateful_sets = tuple(o for o in values if isinstance(o, StatefulSet))
        deployments = tuple(o for o in values if isinstance(o, Deployment))
        namespaces = {o.name: o for o in values if isinstance(o, Namespace)}
        used: list[Service | EndpointSlice | Pod | StatefulSet | Deployment] = [
            *services,
            *slices,
            *pods,
            *stateful_sets,
            *deployments,
        ]
        for namespace in (o.namespace for o in used):
            namespaces.setdefault(namespace, Namespace(name=namespace, labels_known=False))
        for namespace in (o.namespace for o in values if isinstance(o, Workload | ConfigData)):
            namespaces.setdefault(namespace, Namespace(name=namespace, labels_known=False))
        snapshot = Snapshot(
            namespaces=tuple(namespaces[n] for n in sorted(namespaces)),
            services=services,
            endpoint_slices=tuple(slices),
            pods=pods,
            stateful_sets=stateful_sets,
            deployments=deployments,
            workloads=tuple(o for o in values if isinstance(o, Workload)),
            config_data=tuple(o for o in values if isinstance(o, ConfigData)),
            backends=tuple(o for o in values if isinstance(o, BackendRef)),
            network_policies=tuple(o for o in values if isinstance(o, NetworkPolicy)),
        )
        return ManifestSet(
            snapshot=snapshot,
            files=files,
            skipped=tuple(sorted(self.skipped.items())),
            locations=tuple((ref, f, line) for ref, (f, line) in self.locations.items()),
            value_lines=tuple(
                (ref, path, f, line, block)
                for (ref, path), (f, line, block) in self.value_lines.items()
            ),
            key_lines=tuple(
                (ref, path, line, column) for (ref, path), (line, column) in self.key_lines.items()
            ),
        )


_KEPT_TYPES = (
    NetworkPolicy,
    Namespace,
    Service,
    EndpointSlice,
    Pod,
    StatefulSet,
    Deployment,
    Workload,
    ConfigData,
    BackendRef,
)
# Kinds read only for references: an object of these without a name is skipped.
_APP_ONLY = frozenset(
    {"ConfigMap", "Secret", "Ingress", "HTTPRoute", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
)


def _has_name(obj: Mapping[str, object]) -> bool:
    meta = obj.get("metadata")
    return isinstance(meta, Mapping) and isinstance(meta.get("name"), str) and bool(meta["name"])


def _ref_of(item: KubeObject) -> ObjectRef:
    if isinstance(item, Namespace):
        return ObjectRef(kind="Namespace", namespace="", name=item.name)
    if isinstance(item, BackendRef):
        return item.route
    return item.ref


def _where(document: _Document) -> tuple[str, int]:
    return document.source, document.node.start_mark.line + 1
