"""Label selector strings (``app=web,tier in (a,b),!legacy``) parsed as Kubernetes parses them.

``metav1.ParseToLabelSelector``: ``=``/``==`` go to ``match_labels``; ``in``,
``notin``, ``key`` and ``!key`` become expressions; ``!=``, ``<`` and ``>`` are
rejected, as Kubernetes rejects them there. The Corefile's ``labels`` and
``namespace_labels`` options are read with it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from hsvc.core.model import LabelRequirement, LabelSelector, labels_of

__all__ = ["SelectorError", "parse_selector"]

_SELECTOR_TOKEN = re.compile(r"\s*(==|!=|=|!|\(|\)|,|<|>|[^\s=!(),<>]+)")
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_VALUE = re.compile(rf"({_NAME})?")
_LABEL_KEY = rf"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_NAME}"


@functools.cache
def _label_key() -> re.Pattern[str]:
    """The label-key pattern, compiled once at its first use (most runs parse no selector)."""
    return re.compile(_LABEL_KEY)


class SelectorError(ValueError):
    """A selector string Kubernetes would reject; the message says where and why."""


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        match = _SELECTOR_TOKEN.match(stripped, pos)
        assert match is not None  # the pattern accepts every character
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def parse_selector(text: str) -> LabelSelector:
    """Parse a label selector string.

    Raises:
        SelectorError: The string is not a selector Kubernetes accepts.
    """
    tokens = _tokens(text)

    def fail(reason: str) -> SelectorError:
        return SelectorError(f"unable to parse label selector {text!r}: {reason}")

    def key_at(i: int) -> str:
        if i >= len(tokens) or not _label_key().fullmatch(tokens[i]) or len(tokens[i]) > 317:
            raise fail("invalid label key" if i < len(tokens) else "missing label key")
        return tokens[i]

    def value_ok(value: str) -> str:
        if not _LABEL_VALUE.fullmatch(value):
            raise fail(f"invalid label value {value!r}")
        return value

    match_labels: dict[str, str] = {}
    expressions: list[LabelRequirement] = []
    i = 0
    if not tokens:
        raise fail("empty selector")
    while i < len(tokens):
        if tokens[i] == "!":
            expressions.append(LabelRequirement(key=key_at(i + 1), operator="DoesNotExist"))
            i += 2
        else:
            key = key_at(i)
            i += 1
            op = tokens[i] if i < len(tokens) else ","
            if op == ",":
                expressions.append(LabelRequirement(key=key, operator="Exists"))
            elif op in ("=", "=="):
                i += 1
                value = ""
                if i < len(tokens) and tokens[i] != ",":
                    value = value_ok(tokens[i])
                    i += 1
                match_labels[key] = value
            elif op in ("in", "notin"):
                values, i = _set_values(tokens, i + 1, op, fail, value_ok)
                operator = "In" if op == "in" else "NotIn"
                expressions.append(LabelRequirement(key=key, operator=operator, values=values))
            elif op in ("!=", "<", ">"):
                raise fail(f"operator {op!r} is not supported in label selectors")
            else:
                raise fail(f"unexpected {op!r} after key {key!r}")
        if i < len(tokens):
            if tokens[i] != ",":
                raise fail(f"expected ',' before {tokens[i]!r}")
            i += 1
            if i >= len(tokens):
                raise fail("selector ends with ','")
    return LabelSelector(match_labels=labels_of(match_labels), match_expressions=tuple(expressions))


def _set_values(
    tokens: list[str],
    i: int,
    op: str,
    fail: Callable[[str], SelectorError],
    value_ok: Callable[[str], str],
) -> tuple[tuple[str, ...], int]:
    """Read ``(a, b, ...)`` from ``tokens[i]``: the sorted values and the index after ``)``."""
    if i >= len(tokens) or tokens[i] != "(":
        raise fail(f"expected '(' after {op!r}")
    i += 1
    values: set[str] = set()
    expect_value = True
    while i < len(tokens) and tokens[i] != ")":
        if tokens[i] == ",":
            if expect_value:
                values.add("")
            expect_value = True
        elif expect_value:
            values.add(value_ok(tokens[i]))
            expect_value = False
        else:
            raise fail(f"expected ',' or ')' before {tokens[i]!r}")
        i += 1
    if i >= len(tokens):
        raise fail("missing ')'")
    if expect_value:
        values.add("")
    return tuple(sorted(values)), i + 1
