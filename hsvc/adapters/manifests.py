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
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml  # noqa: TID251

from hsvc.adapters import yamlbounds
from hsvc.adapters.convert import (
    ConversionError,
    KubeObject,
    PathPart,
    object_from_dict,
    slices_from_endpoints_dict,
)
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
_MAX_LIST_DEPTH = 8

MAX_OBJECTS = 200_000
"""Most objects read from all inputs together (``*List`` items counted one by one)."""
# The C loader is ten times faster; both produce the same nodes and marks.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    """

    snapshot: Snapshot
    files: tuple[str, ...]
    skipped: tuple[tuple[str, int], ...]
    locations: tuple[tuple[ObjectRef, str, int], ...] = ()
    value_lines: tuple[tuple[ObjectRef, FieldPath, str, int, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class _Document:
    """One object with the node it came from, for error positions."""

    source: str
    obj: Mapping[str, object]
    node: yaml.Node


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


# --- documents --------------------------------------------------------------------------------


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _yaml_error(name: str, text: str, exc: yaml.YAMLError) -> ManifestError:
    if isinstance(exc, yaml.MarkedYAMLError):
        reason = f"invalid YAML: {exc.problem or exc.context or 'syntax error'}"
        if exc.problem and exc.context:
            where = ""
            if exc.context_mark is not None:
                where = f" at line {exc.context_mark.line + 1}"
            reason += f" ({exc.context}{where})"
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return ManifestError(name, reason, mark.line + 1, mark.column + 1)
        return ManifestError(name, reason)
    if isinstance(exc, yaml.reader.ReaderError):
        line, column = _position(text, exc.position)
        return ManifestError(name, f"invalid YAML: {exc.reason}", line, column)
    return ManifestError(name, f"invalid YAML: {exc}")  # pragma: no cover - no other kinds


def _documents(name: str, text: str) -> Iterator[_Document]:
    """Yield every object of one input: documents, ``*List`` items flattened."""
    try:
        yamlbounds.check_nesting(text, _Loader)
    except yaml.YAMLError as exc:
        raise _yaml_error(name, text, exc) from exc
    except yamlbounds.YamlLimitError as exc:
        raise _limit_error(name, exc) from exc
    loader = _Loader(text)
    try:
        while True:
            node: yaml.Node | None = None
            try:
                if loader.check_node():
                    node = loader.get_node()
                if node is None:
                    break
                yamlbounds.check_node(node)
                _check_duplicate_keys(name, node)
                data = loader.construct_document(node)
            except yaml.YAMLError as exc:
                raise _yaml_error(name, text, exc) from exc
            except yamlbounds.YamlLimitError as exc:
                raise _limit_error(name, exc) from exc
            except (ValueError, TypeError, AttributeError, OverflowError, IndexError) as exc:
                # PyYAML's constructors let these escape for explicit tags it cannot
                # build (`!!int abc`, `!!timestamp nope`, `!!int ""` an IndexError);
                # the node still has a position.
                if node is None:  # pragma: no cover - only constructors raise these
                    raise ManifestError(name, f"invalid YAML: {exc}") from exc
                culprit = _unconstructable(loader, node)
                raise _at(name, culprit, f"invalid YAML value: {exc}") from exc
            if data is None:
                continue  # an empty document (`---` twice, or only comments)
            yield from _flatten(name, node, data)
    finally:
        loader.dispose()


def _limit_error(name: str, exc: yamlbounds.YamlLimitError) -> ManifestError:
    if exc.mark is None:  # pragma: no cover - every limit has a position
        return ManifestError(name, f"refused: {exc.reason}")
    return ManifestError(name, f"refused: {exc.reason}", exc.mark.line + 1, exc.mark.column + 1)


def _unconstructable(loader: yaml.SafeLoader, root: yaml.Node) -> yaml.Node:
    """Return the scalar PyYAML cannot construct (for its position), else ``root``."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue  # an alias, possibly of an ancestor
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                loader.construct_object(node, deep=True)
            except (ValueError, TypeError, AttributeError, OverflowError, yaml.YAMLError):
                return node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return root  # pragma: no cover - the failure was not in a scalar


def _check_duplicate_keys(name: str, root: yaml.Node) -> None:
    # PyYAML keeps the last of two equal keys silently; kubectl rejects the manifest.
    # A duplicated `selector:` would otherwise vanish without a word.
    stack = [root]
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue  # an alias: already checked
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[str, yaml.Node] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if key.value in keys:
                        first = keys[key.value].start_mark.line + 1
                        raise _at(name, key, f"duplicate key {key.value!r} (first at line {first})")
                    keys[key.value] = key
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _describe(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


def _at(name: str, node: yaml.Node, reason: str) -> ManifestError:
    return ManifestError(name, reason, node.start_mark.line + 1, node.start_mark.column + 1)


def _child(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """Return ``(key node, value node)`` of ``key`` in a mapping node."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in reversed(node.value):  # the last duplicate wins
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return key_node, value_node
    return None


def _flatten(
    name: str,
    node: yaml.Node,
    data: object,
    list_kind: str = "",
    list_api: str = "",
    depth: int = 0,
) -> Iterator[_Document]:
    if depth > _MAX_LIST_DEPTH:
        # Also stops a List that contains itself through a YAML alias.
        raise _at(name, node, f"Lists nested more than {_MAX_LIST_DEPTH} deep")
    if not isinstance(data, Mapping):
        what = "a list item" if list_kind else "a document"
        raise _at(name, node, f"{what} is {_describe(data)}, not a Kubernetes object (a mapping)")
    obj: dict[str, object] = {str(k): v for k, v in data.items()}
    # Items of an API list (`kubectl get --raw`, client dumps) carry no kind/apiVersion.
    if list_kind and list_kind != "List":
        obj.setdefault("kind", list_kind.removesuffix("List"))
        obj.setdefault("apiVersion", list_api)
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if value is None or value == "":
            raise _at(name, node, f"missing {field!r}")
        if not isinstance(value, str):
            found = _child(node, field)
            raise _at(
                name,
                node if found is None else found[1],
                f"{field} must be a string, not {_describe(value)}",
            )
    kind = str(obj["kind"])
    if kind.endswith("List") and "items" in obj:
        items = obj["items"]
        found = _child(node, "items")
        items_node = node if found is None else found[1]
        if items is None:
            return
        if not isinstance(items, list) or not isinstance(items_node, yaml.SequenceNode):
            raise _at(name, items_node, f"items must be a list, not {_describe(items)}")
        for item, item_node in zip(items, items_node.value, strict=True):
            yield from _flatten(name, item_node, item, kind, str(obj["apiVersion"]), depth + 1)
        return
    yield _Document(name, obj, node)


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
            if self.references and isinstance(item, Service) and item.is_external_name:
                self._value_line(document, item.ref, ("spec", "externalName"))

    def _app_lines(self, document: _Document, item: Workload | ConfigData) -> None:
        self.locations[item.ref] = _where(document)
        for value in item.values:
            self._value_line(document, item.ref, value.site.path)
        if isinstance(item, Workload):
            for source in item.sources:
                self._value_line(document, item.ref, source.path)

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
            namespaces.setdefault(namespace, Namespace(name=namespace))
        for namespace in (o.namespace for o in values if isinstance(o, Workload | ConfigData)):
            namespaces.setdefault(namespace, Namespace(name=namespace))
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
