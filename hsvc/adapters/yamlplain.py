"""The plain block YAML that kubectl writes, read without PyYAML; anything else is left to it.

A kubeconfig written by kubectl (go-yaml) is block mappings and sequences of
one-line scalars: ``server: https://...``, ``- name: kind``, ``preferences: {}``.
Importing PyYAML and building its loader was about a tenth of a small ``hsvc
inspect`` (docs/reference/benchmarks.md), so :func:`load` reads that subset
itself and returns :data:`NOT_PLAIN` for any text it is not sure of, which then
goes to PyYAML as before (so whatever is refused, and the message saying
where, stay PyYAML's).

What is read here is read as PyYAML's ``SafeLoader`` reads it (property-tested
against it in ``tests/unit/test_yamlplain.py``): printable ASCII only, no tab,
comment, document marker, anchor, alias, tag, block scalar or multi-line
scalar, no duplicate key; a plain scalar is a string unless it is one of YAML
1.1's words for true, false or null, and one that could be a number, a date
or any other tag (a first character that is a digit, a sign, a dot or an
indicator) is not read here at all; quoted scalars only without escapes;
flow collections only as ``{}`` and ``[]``. No alias and a small depth: nothing
read here is over :mod:`hsvc.adapters.yamlbounds`' limits.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any, Final

__all__ = ["NOT_PLAIN", "load"]


class _NotPlain:
    """The marker :func:`load` returns for text it leaves to PyYAML."""

    def __repr__(self) -> str:
        return "NOT_PLAIN"


NOT_PLAIN: Final = _NotPlain()

MAX_DEPTH = 32
"""Deeper nesting goes to PyYAML (kubeconfigs nest five levels)."""

MAX_KEY = 128
"""Longer keys go to PyYAML (YAML bounds an implicit key at 1,024 characters)."""

# Printable ASCII and newlines, without '#' (a comment may start almost anywhere) and
# '\\' (escapes).
_TEXT = re.compile(r"[ -\"$-\[\]-~\n]*")
# A plain scalar: a letter, '/', '_', '~', or '-' and a letter or '-' first (no resolver
# but bool and null starts there; a number's sign is followed by a digit or '.'), never
# "---" (a document marker), then no ": " inside and no ':' or ' ' last.
_PLAIN = re.compile(r"(?!---)(?:[A-Za-z/_~]|-[A-Za-z-])(?:[ -9;-~]|:(?! ))*")
_WORDS: Final = MappingProxyType(
    {
        **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
        **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
        **dict.fromkeys(("null", "Null", "NULL", "~"), None),
    }
)


class _RefusedError(Exception):
    """Raised inside the reader when the text is not the plain subset."""


def load(text: str) -> Any:
    """The document of ``text`` as PyYAML's ``SafeLoader`` builds it, or :data:`NOT_PLAIN`."""
    if not _TEXT.fullmatch(text):
        return NOT_PLAIN
    lines: list[tuple[int, str]] = []
    for raw in text.split("\n"):
        line = raw.rstrip(" ")
        if line:
            content = line.lstrip(" ")
            lines.append((len(line) - len(content), content))
    if not lines or lines[0][0] != 0:
        return NOT_PLAIN
    try:
        value, end = _Reader(lines).node(0, 0)
    except _RefusedError:
        return NOT_PLAIN
    return value if end == len(lines) else NOT_PLAIN


def _scalar(text: str) -> Any:
    """A one-line scalar as PyYAML resolves it (:class:`_RefusedError` if not sure)."""
    if text == "{}":
        return {}
    if text == "[]":
        return []
    first = text[0]
    if first in "\"'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != first or first in inner or "\\" in inner:
            raise _RefusedError
        return inner
    if _PLAIN.fullmatch(text) is None or text[-1] in ": ":
        raise _RefusedError
    return _WORDS.get(text, text)


def _key(text: str) -> tuple[str, str] | None:
    """``(key, rest)`` of a ``key: rest`` or ``key:`` line, else None (not a mapping entry)."""
    if text.endswith(":"):
        key, rest = text[:-1], ""
    else:
        key, sep, rest = text.partition(": ")
        if not sep:
            return None
    if len(key) > MAX_KEY or key.endswith(" ") or _scalar_key(key) is None:
        raise _RefusedError
    return key, rest.lstrip(" ")


def _scalar_key(key: str) -> str | None:
    value = _scalar(key) if key and key[0] not in "\"'{[" else None
    return value if isinstance(value, str) and value == key else None


class _Reader:
    """Block nodes from ``(indent, content)`` lines (blank lines already dropped)."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        self.depth = 0

    def node(self, at: int, indent: int) -> tuple[Any, int]:
        """The mapping or sequence whose first line is ``at``, at column ``indent``."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _RefusedError
        text = self.lines[at][1]
        value: Any
        if text.startswith("- "):
            value, end = self.sequence(at, indent)
        elif _key(text) is not None:
            value, end = self.mapping(at, indent)
        else:
            raise _RefusedError  # a lone scalar, "-" without an item, "---", ...
        self.depth -= 1
        return value, end

    def sequence(self, at: int, indent: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        lines = self.lines
        while at < len(lines) and lines[at][0] == indent and lines[at][1].startswith("- "):
            rest = lines[at][1][2:]
            content = rest.lstrip(" ")
            column = indent + 2 + len(rest) - len(content)
            if _key(content) is None:
                items.append(_scalar(content))
                at += 1
            else:
                lines[at] = (column, content)
                item, at = self.node(at, column)
                items.append(item)
            if at < len(lines) and lines[at][0] > indent:
                raise _RefusedError  # a continued scalar, or a misaligned line
        return items, at

    def mapping(self, at: int, indent: int) -> tuple[dict[str, Any], int]:
        entries: dict[str, Any] = {}
        lines = self.lines
        while at < len(lines) and lines[at][0] == indent:
            entry = _key(lines[at][1])
            if entry is None:
                raise _RefusedError  # "- item" where a key belongs, or a lone scalar
            key, rest = entry
            if key in entries:
                raise _RefusedError  # PyYAML keeps the last; go to it
            at += 1
            if rest:
                value: Any = _scalar(rest)
            elif at < len(lines) and lines[at][0] > indent:
                value, at = self.node(at, lines[at][0])
            elif at < len(lines) and lines[at][0] == indent and lines[at][1].startswith("- "):
                value, at = self.sequence(at, indent)
            else:
                value = None
            if at < len(lines) and lines[at][0] > indent:
                raise _RefusedError
            entries[key] = value
        return entries, at
