"""YAML text -> documents that keep their nodes, so every error can name ``file:line:col``.

Composes each document to nodes before constructing it, rejects duplicate keys
and unconstructable tags at their position, flattens ``*List`` objects, and
bounds what PyYAML is asked to do (:mod:`hsvc.adapters.yamlbounds`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import yaml  # noqa: TID251

from hsvc.adapters import yamlbounds
from hsvc.core.dataclass import dataclass
from hsvc.errors import ManifestError

_MAX_LIST_DEPTH = 8
# The C loader is ten times faster; both produce the same nodes and marks.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class _Document:
    """One object with the node it came from, for error positions."""

    source: str
    obj: Mapping[str, object]
    node: yaml.Node


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
