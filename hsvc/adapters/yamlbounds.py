"""Bounds on YAML documents before anything is built from them: aliases and nesting.

An alias (``*a``) stands for a whole node; nested aliases multiply: nine levels of
ten aliases each stand for 10⁹ nodes in under a kilobyte (the "billion laughs").
PyYAML shares aliased nodes while composing, so composing is cheap; whatever
walks the result afterwards (constructing, flattening ``*List`` items, copying a
kubeconfig) pays for every expanded node. So a composed document is measured
first, in time linear in its distinct nodes, and refused past the limits below;
kubectl (go-yaml) refuses "excessive aliasing" the same way.
"""

from __future__ import annotations

from typing import Any

import yaml  # noqa: TID251

from hsvc.core.dataclass import dataclass

__all__ = [
    "MAX_ALIAS_DEPTH",
    "MAX_ALIAS_NODES",
    "MAX_NESTING",
    "YamlLimitError",
    "check_nesting",
    "check_node",
]

MAX_ALIAS_NODES = 100_000
"""Most nodes aliases may add to one document once expanded."""

MAX_ALIAS_DEPTH = 5
"""Most aliases nested in one another (an alias to a node holding an alias, ...)."""

MAX_NESTING = 500
"""Most levels of mappings and sequences in one another (deeper nesting is refused)."""


@dataclass
class YamlLimitError(Exception):
    """A document over the limits; ``mark`` is where the offending part starts."""

    reason: str
    mark: Any  # yaml.Mark, or the C loader's Mark: both have .line and .column


def check_nesting(text: str, loader: type[yaml.SafeLoader]) -> None:
    """Refuse mappings and lists nested deeper than :data:`MAX_NESTING`, before composing.

    libyaml's composer (the C loader) recurses once per level and crashes the
    process on deep enough input; PyYAML's raises RecursionError. The event
    stream is flat, so it is read first and the depth counted.

    Raises:
        YamlLimitError: Too deep.
        yaml.YAMLError: The text is not YAML (as composing would say).
    """
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise YamlLimitError(
                    f"mappings and lists nested more than {MAX_NESTING} deep", event.start_mark
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def check_node(root: yaml.Node) -> None:
    """Measure a composed document: expanded size, alias depth, nesting.

    Raises:
        YamlLimitError: aliases add more than :data:`MAX_ALIAS_NODES` nodes, nest more than
            :data:`MAX_ALIAS_DEPTH` deep, or refer to an ancestor (an endless
            document); or mappings and sequences nest more than :data:`MAX_NESTING`.
    """
    # Depth-first without recursion (a deep document must not exhaust the stack):
    # every distinct node once, children before parents; a node reached from more
    # than one place is an alias's target.
    references: dict[int, int] = {}
    state: dict[int, bool] = {id(root): False}  # False: on the current path; True: done
    order: list[yaml.Node] = []
    stack = [(root, iter(_children(root)))]
    while stack:
        node, pending = stack[-1]
        child = next(pending, None)
        if child is None:
            stack.pop()
            state[id(node)] = True
            order.append(node)
            continue
        key = id(child)
        references[key] = references.get(key, 0) + 1
        seen = state.get(key)
        if seen is False:
            raise YamlLimitError(
                f"aliases nested more than {MAX_ALIAS_DEPTH} deep: an alias refers to a node "
                "that contains it (an endless document)",
                child.start_mark,
            )
        if seen:
            continue
        if len(stack) >= MAX_NESTING:
            raise YamlLimitError(
                f"mappings and lists nested more than {MAX_NESTING} deep", child.start_mark
            )
        state[key] = False
        stack.append((child, iter(_children(child))))
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    for node in order:
        total, deepest = 1, 0
        for child in _children(node):
            key = id(child)
            total += size[key]
            deepest = max(deepest, depth[key] + (references[key] > 1))
        size[id(node)], depth[id(node)] = total, deepest
        if deepest > MAX_ALIAS_DEPTH:
            raise YamlLimitError(
                f"aliases nested more than {MAX_ALIAS_DEPTH} deep", node.start_mark
            )
    added = size[id(root)] - len(order)
    if added > MAX_ALIAS_NODES:
        raise YamlLimitError(
            f"aliases expand {len(order):,} nodes to {size[id(root)]:,} (they may add at "
            f"most {MAX_ALIAS_NODES:,})",
            root.start_mark,
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
