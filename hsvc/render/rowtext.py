"""The JSON text of inspected rows, written straight from the rows: the bulk of ``-o json``.

An inspect of 20,000 pods has 80,000 rows and 170 MB of JSON. Walking a
dictionary per row costs a Python call per container; this writes each row
from fixed templates of its known shape instead: the text
``json.dumps(row(r, layers), indent=2, sort_keys=True)`` gives (``row`` in
:mod:`hsvc.render.data`), indented to its place in the document. A value of
a type the templates do not expect gives up the row to the general writer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any, NamedTuple, TypeVar

from hsvc.core.compare import Row
from hsvc.core.model import Provenance, Record, Transport

T = TypeVar("T")

_escape = json.encoder.encode_basestring_ascii


# A list of more records than this is written by the general writer, in pieces (the
# row's text alone would be megabytes).
LONG_ROW = 2000


class LongRowError(Exception):
    """The row has a list of more than :data:`LONG_ROW` records or sources."""


def scalar(value: object) -> str:
    """The JSON text of a scalar as ``json.dumps(..., indent=2)`` writes it.

    Raises:
        TypeError: ``value`` is a container (its text depends on its depth).
    """
    kind = type(value)
    if kind is str:
        return _escape(value)  # type: ignore[arg-type]
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):  # type: ignore[arg-type]
        return float.__repr__(value)
    if isinstance(value, dict | list | tuple):
        raise TypeError("a container is no scalar")
    return json.dumps(value)  # NaN, str and int subclasses, ... as the encoder has them


def _pieces(indent: str, keys: Sequence[str]) -> list[str]:
    """The text around each value of a dict of ``keys`` whose ``{`` sits at ``indent``.

    ``{`` and the first ``"key": ``, then ``,``, a new line and the next ``"key": `` for
    each key after it, then the closing ``}`` at ``indent``: joined with the values'
    text in between, what ``json.dumps(..., indent=2, sort_keys=True)`` writes.
    """
    assert list(keys) == sorted(keys), keys  # the order json.dumps(sort_keys=True) writes
    inner = indent + "  "
    heads = [",\n" + inner + _escape(k) + ": " for k in keys]
    heads[0] = "{" + heads[0][1:]
    return [*heads, "\n" + indent + "}"]


def _strings(items: Sequence[str], indent: str) -> str:
    """A list of strings whose items sit at ``indent + 2``."""
    if not items:
        return "[]"
    inner = indent + "  "
    return "[\n" + inner + (",\n" + inner).join(map(_escape, items)) + "\n" + indent + "]"


class ListWriter(NamedTuple):
    """The text of a list in a row, whole or in pieces."""

    whole: Callable[[Sequence[Any]], str]  # raises LongRowError over LONG_ROW items
    pieces: Callable[[Sequence[Any]], Iterator[str]]  # the same text, LONG_ROW items a piece
    plain: Callable[[Any], bool]  # whether an item is of exactly the types ``whole`` knows


def _listed(item: Callable[[T], str], indent: str, plain: Callable[[T], bool]) -> ListWriter:
    """The writer of a list whose ``[`` sits at ``indent``, each item's text by ``item``."""
    inner = indent + "  "
    at, sep, close = "[\n" + inner, ",\n" + inner, "\n" + indent + "]"

    def whole(items: Sequence[T]) -> str:
        if len(items) == 1:  # the usual answer and provenance: no list to make and join
            return at + item(items[0]) + close
        if not items:
            return "[]"
        if len(items) > LONG_ROW:
            raise LongRowError
        return at + sep.join(map(item, items)) + close

    def pieces(items: Sequence[T]) -> Iterator[str]:  # a long list's
        head = at
        for start in range(0, len(items), LONG_ROW):
            yield head + sep.join(map(item, items[start : start + LONG_ROW]))
            head = sep
        yield close

    return ListWriter(whole, pieces, plain)


def _records(indent: str) -> ListWriter:
    """The writer of a list of records whose ``[`` sits at ``indent``."""
    p0, p1, p2, p3, p4 = _pieces(indent + "  ", _RECORD)
    esc = _escape

    def record(r: Record) -> str:
        return "".join((p0, esc(r.data), p1, esc(r.name), p2, scalar(r.ttl), p3, esc(r.type), p4))

    def plain(r: Record) -> bool:
        return type(r.data) is type(r.name) is type(r.type) is str and type(r.ttl) is int

    return _listed(record, indent, plain)


def _sources(indent: str) -> ListWriter:
    """The writer of an answer's sources whose ``[`` sits at ``indent``."""
    p0, p1, p2, p3, p4 = _pieces(indent + "  ", ("kind", "name", "namespace", "rule"))
    esc = _escape

    def source(p: Provenance) -> str:
        o = p.source
        return "".join(
            (p0, esc(o.kind), p1, esc(o.name), p2, esc(o.namespace), p3, esc(p.rule), p4)
        )

    def plain(p: Provenance) -> bool:
        o = p.source
        return type(o.kind) is type(o.name) is type(o.namespace) is type(p.rule) is str

    return _listed(source, indent, plain)


def _shared(text: Callable[[T], str]) -> Callable[[T], str]:
    """``text`` kept for each value by identity, for values many rows share.

    Each value is held with its text, so its id is not reused while the cache lives.
    """
    held: dict[int, tuple[object, str]] = {}

    def cached(value: T) -> str:
        hit = held.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        out = text(value)
        held[id(value)] = (value, out)
        return out

    return cached


def _transport(indent: str) -> Carried:
    """The writer of an observation's transport whose ``{`` sits at ``indent``."""
    p0, p1, p2, p3, p4, p5, p6, p7 = _pieces(indent, _TRANSPORT)
    esc = _escape

    def carried(t: Transport | None) -> str:
        if t is None:
            return "null"
        return "".join(
            (
                *(p0, scalar(t.edns_size), p1, scalar(t.edns_truncated), p2, esc(t.plain_error)),
                *(p3, scalar(t.plain_size), p4, scalar(t.plain_truncated), p5, esc(t.tcp_error)),
                *(p6, scalar(t.tcp_size), p7),
            )
        )

    return carried


Carried = Callable[[Transport | None], str]  # a transport's text
Listed = Callable[[Sequence[Any]], str]  # a list's text
# (row, layers, transport text, observed records' text) -> the text of the row's answers
Actual = Callable[[Row, Mapping[str, str], Carried, Listed], str]


def _actual(indent: str) -> Actual:
    """The writer of a row's observations, each with its verdict, at ``indent``."""
    inner = indent + "  "
    p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12 = _pieces(inner, _OBSERVATION)
    at, sep, close = "[\n" + inner, ",\n" + inner, "\n" + indent + "]"
    esc = _escape

    def actual(r: Row, layers: Mapping[str, str], carried: Carried, records: Listed) -> str:
        if not r.checks:
            return "[]"
        texts = []
        for check in r.checks:
            o = check.observation
            texts.append(
                "".join(
                    (
                        *(p0, records(o.answer), p1, scalar(round(o.elapsed_ms, 2))),
                        *(p2, esc(o.error), p3, esc(layers.get(o.server, ""))),
                        *(p4, scalar(o.low_confidence), p5, esc(check.note), p6, esc(o.rcode)),
                        *(p7, esc(o.server), p8, scalar(o.size), p9, scalar(o.too_large)),
                        *(p10, carried(o.transport), p11, esc(check.verdict), p12),
                    )
                )
            )
        return at + sep.join(texts) + close

    return actual


# What a long list's text is while the rest of its row is written: no text has it.
_MARK = "\x00"  # (the escaped strings and the text around them are printable ASCII)


class RowWriters(NamedTuple):
    """The two writers of one document's rows."""

    # (row, layers) -> the row's text; raises LongRowError for a row of a long list,
    # TypeError for a value of a type it does not know.
    whole: Callable[[Row, Mapping[str, str]], str]
    # (row, layers) -> the same text in pieces, each long list LONG_ROW items a piece;
    # raises TypeError (before any piece) for a value of a type it does not know.
    pieces: Callable[[Row, Mapping[str, str]], Iterator[str]]


@lru_cache(maxsize=8)
def row_writer(indent: str) -> Callable[[], RowWriters]:
    """Writers of one row's text whose ``{`` sits at ``indent`` (keys at ``indent + 2``).

    Each call of what it returns gives the writers for one document, which keep the
    text of the values rows share (transports, rule lists) while they live.
    """
    a = indent + "  "  # the row's keys
    b = a + "  "  # the expected answer's and the subject's keys
    # Each value's text goes between two of these: joined, not %-formatted (3x faster).
    r0, r1, r2, r3, r4, r5, r6, r7 = _pieces(indent, _ROW)
    x0, x1, x2, x3, x4, x5, x6, x7, x8 = _pieces(a, _EXPECTED)
    j0, j1, j2, j3 = _pieces(a, ("kind", "name", "namespace"))  # the subject
    r1x0, x8r2, r5j0, j3r6 = r1 + x0, x8 + r2, r5 + j0, j3 + r6
    reason_head = ",\n" + b + _escape("reason") + ": "  # between rcode and rules
    actual, observed = _actual(a), _records(b + "  ")
    records, sources = _records(b), _sources(b)
    transport = _transport(b + "  ")
    esc = _escape

    def make() -> RowWriters:
        carried = _shared(transport)
        strings = _shared(partial(_strings, indent=b))

        def text(
            observed: Listed, records: Listed, sources: Listed, r: Row, layers: Mapping[str, str]
        ) -> str:
            x, s = r.expected, r.subject
            return "".join(
                (
                    *(r0, actual(r, layers, carried, observed), r1x0, records(x.answer)),
                    *(x1, esc(x.explanation), x2, scalar(x.open_ended), x3),
                    *(strings(x.predicted), x4, esc(x.rcode)),
                    reason_head + esc(r.reason) if r.reason else "",
                    *(x5, strings(x.rules), x6, sources(x.provenance), x7, esc(x.uncertain)),
                    *(x8r2, esc(r.group), r3, esc(x.name), r4, esc(r.status)),
                    *(r5j0, esc(s.kind), j1, esc(s.name), j2, esc(s.namespace)),
                    *(j3r6, esc(x.type), r7),  # Row.name and Row.type are the answer's
                )
            )

        def pieces(r: Row, layers: Mapping[str, str]) -> Iterator[str]:
            later: list[tuple[ListWriter, Sequence[Any]]] = []

            def put(lists: ListWriter) -> Listed:
                def listed(items: Sequence[Any]) -> str:
                    if len(items) <= LONG_ROW:
                        return lists.whole(items)
                    if not all(map(lists.plain, items)):
                        raise TypeError("a value of a type the row's templates do not know")
                    later.append((lists, items))
                    return _MARK

                return listed

            head, *tails = text(put(observed), put(records), put(sources), r, layers).split(_MARK)
            return _spliced(head, tails, later)

        return RowWriters(partial(text, observed.whole, records.whole, sources.whole), pieces)

    return make


def _spliced(
    head: str, tails: Sequence[str], lists: Sequence[tuple[ListWriter, Sequence[Any]]]
) -> Iterator[str]:
    """``head``, then each long list's pieces followed by the text after it."""
    yield head
    for (writer, items), tail in zip(lists, tails, strict=True):
        yield from writer.pieces(items)
        yield tail


_TRANSPORT = (
    "ednsSize",
    "ednsTruncated",
    "plainError",
    "plainSize",
    "plainTruncated",
    "tcpError",
    "tcpSize",
)
_OBSERVATION = (
    "answer",
    "elapsedMs",
    "error",
    "layer",
    "lowConfidence",
    "note",
    "rcode",
    "server",
    "size",
    "tooLarge",
    "transport",
    "verdict",
)
_EXPECTED = (
    "answer",
    "explanation",
    "openEnded",
    "predicted",
    "rcode",
    "rules",
    "sources",
    "uncertain",
)
_RECORD = ("data", "name", "ttl", "type")
_ROW = ("actual", "expected", "group", "name", "status", "subject", "type")
