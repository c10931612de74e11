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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache, partial
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from hsvc.core.compare import Row, ServerCheck, Verdict
from hsvc.core.model import Provenance, Rcode, Record, Transport
from hsvc.core.records import Group
from hsvc.core.report import EndpointState

T = TypeVar("T")

_escape = json.encoder.encode_basestring_ascii


# The text of the values most fields of a row hold: the empty text and the enums' values.
named = {v: _escape(v) for v in ("", *Rcode, *Verdict, *Group)}.get

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
    # The same text, LONG_ROW items a piece; raises TypeError at once (before any piece)
    # unless the items are of exactly the types known.
    pieces: Callable[[Sequence[Any]], Iterator[str]]
    one: Callable[[Any], str]  # the text of a list of this one item, brackets included


# From this many items on, a list whose items differ in one field only is written in
# one join of that field's text (a large Service's addresses, an SRV set's targets).
MANY = 16


def _same_text(values: list[Any]) -> str | None:
    """The text of every one of ``values`` when they are one str or int value, else None."""
    first = values[0]
    kind = type(first)
    only = _ONLY.get(kind)
    if only is None or values.count(first) != len(values) or not only(map(type, values)):
        return None
    return _escape(first) if kind is str else int.__repr__(first)


# Type -> whether an iterable of types holds that type alone.
_ONLY: dict[type, Callable[[Iterable[type]], bool]] = {
    kind: frozenset({kind}).issuperset for kind in (str, int)
}


def _typed(
    fields: Sequence[Callable[[Any], Any]], kinds: Sequence[type]
) -> Callable[[Sequence[Any]], bool]:
    """Whether every item's ``fields`` are of exactly their ``kinds``."""
    checks = list(zip(fields, (_ONLY[kind] for kind in kinds), strict=True))

    def typed(items: Sequence[Any]) -> bool:
        return all(only(map(type, map(field, items))) for field, only in checks)

    return typed


def _uniform(
    around: Sequence[str], fields: Sequence[Callable[[Any], Any]], varying: int
) -> Callable[[Sequence[Any]], tuple[str, str] | None]:
    """The text before and after field ``varying`` of items that differ in it only.

    Each item's text is its ``fields``' values (str or int) between the ``around``
    pieces. None when any other field differs between items (or is of another type).
    """

    def uniform(items: Sequence[Any]) -> tuple[str, str] | None:
        texts = []
        for i, field in enumerate(fields):
            text = "" if i == varying else _same_text(list(map(field, items)))
            if text is None:
                return None
            texts.append(text)
        head = "".join(around[i] + texts[i] for i in range(varying)) + around[varying]
        after = range(varying + 1, len(fields))
        return head, around[varying + 1] + "".join(texts[i] + around[i + 1] for i in after)

    return uniform


def _listed(
    item: Callable[[T], str],
    indent: str,
    fields: Sequence[Callable[[Any], Any]],
    kinds: Sequence[type],
    one: Callable[[T], str],
    around: Sequence[str],
    varying: int,
) -> ListWriter:
    """The writer of a list whose ``[`` sits at ``indent``, each item's text by ``item``.

    ``one`` writes a list of one item whole (its brackets included). Each item's text
    is its ``fields`` (of exactly ``kinds``, when not of a type the writer does not
    know) between the ``around`` pieces; from :data:`MANY` items on, items that
    differ in field ``varying`` only (a str) are written in one join of its text.
    """
    inner = indent + "  "
    at, sep, close = "[\n" + inner, ",\n" + inner, "\n" + indent + "]"
    plain, uniform = _typed(fields, kinds), _uniform(around, fields, varying)
    get, text_only = fields[varying], _ONLY[str]

    def bulk(items: Sequence[T], shared: tuple[str, str] | None) -> str:
        if shared is None:
            return sep.join(map(item, items))
        head, tail = shared
        return head + (tail + sep + head).join(map(_escape, map(get, items))) + tail

    def whole(items: Sequence[T]) -> str:
        if len(items) == 1:  # the usual answer and provenance: no list to make and join
            return one(items[0])
        if not items:
            return "[]"
        if len(items) > LONG_ROW:
            raise LongRowError
        return at + bulk(items, uniform(items) if len(items) >= MANY else None) + close

    def pieces(items: Sequence[T]) -> Iterator[str]:  # a long list's
        # The fields that do not vary found once for the whole list, and its types checked.
        shared = uniform(items)
        if shared is None or not text_only(map(type, map(get, items))):
            if not plain(items):
                raise TypeError("a value of a type the row's templates do not know")
        return _chunks(at, sep, close, (bulk(part, shared) for part in _parts(items)))

    return ListWriter(whole, pieces, one)


def _chunks(at: str, sep: str, close: str, texts: Iterable[str]) -> Iterator[str]:
    """A list's text from its parts' ``texts``: ``at`` before the first, ``sep`` between."""
    head = at
    for text in texts:
        yield head + text
        head = sep
    yield close


def _parts(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items``, :data:`LONG_ROW` a part."""
    for start in range(0, len(items), LONG_ROW):
        yield items[start : start + LONG_ROW]


def _records(indent: str) -> ListWriter:
    """The writer of a list of records whose ``[`` sits at ``indent``."""
    p0, p1, p2, p3, p4 = _pieces(indent + "  ", _RECORD)
    # A list of one record: its brackets joined to the text around the first and last value.
    only, last = "[\n" + indent + "  " + p0, p4 + "\n" + indent + "]"
    esc = _escape
    number = int.__repr__

    def record(r: Record) -> str:
        ttl = r.ttl
        text = number(ttl) if type(ttl) is int else scalar(ttl)
        return f"{p0}{esc(r.data)}{p1}{esc(r.name)}{p2}{text}{p3}{esc(r.type)}{p4}"

    def one(r: Record) -> str:
        ttl = r.ttl
        text = number(ttl) if type(ttl) is int else scalar(ttl)
        return f"{only}{esc(r.data)}{p1}{esc(r.name)}{p2}{text}{p3}{esc(r.type)}{last}"

    fields = [attrgetter(f) for f in _RECORD]  # data varies
    return _listed(record, indent, fields, (str, str, int, str), one, (p0, p1, p2, p3, p4), 0)


def _sources(indent: str) -> ListWriter:
    """The writer of an answer's sources whose ``[`` sits at ``indent``."""
    p0, p1, p2, p3, p4 = _pieces(indent + "  ", ("kind", "name", "namespace", "rule"))
    only, last = "[\n" + indent + "  " + p0, p4 + "\n" + indent + "]"
    esc = _escape

    def source(p: Provenance) -> str:
        o = p.source
        return f"{p0}{esc(o.kind)}{p1}{esc(o.name)}{p2}{esc(o.namespace)}{p3}{esc(p.rule)}{p4}"

    def one(p: Provenance) -> str:
        o = p.source
        return f"{only}{esc(o.kind)}{p1}{esc(o.name)}{p2}{esc(o.namespace)}{p3}{esc(p.rule)}{last}"

    fields = [attrgetter("source.kind"), attrgetter("source.name")]
    fields += [attrgetter("source.namespace"), attrgetter("rule")]
    kinds, around = (str, str, str, str), (p0, p1, p2, p3, p4)
    return _listed(source, indent, fields, kinds, one, around, 1)  # name varies


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
        return (
            f"{p0}{scalar(t.edns_size)}{p1}{scalar(t.edns_truncated)}{p2}{esc(t.plain_error)}"
            f"{p3}{scalar(t.plain_size)}{p4}{scalar(t.plain_truncated)}{p5}{esc(t.tcp_error)}"
            f"{p6}{scalar(t.tcp_size)}{p7}"
        )

    return carried


Carried = Callable[[Transport | None], str]  # a transport's text
Listed = Callable[[Sequence[Any]], str]  # a list's text
Layers = Mapping[str, str]  # server -> the layer of the resolver path it stands for
Times = dict[float, str]  # an elapsed time -> its text, kept while a document is written
# (row, layers, transport text, observed records' text, times) -> the text of its answers
Actual = Callable[[Row, Layers, Carried, Listed, Times], str]


def elapsed_text(elapsed_ms: object) -> str:
    """The text of ``round(elapsed_ms, 2)``, as ``json.dumps`` writes it."""
    elapsed = round(elapsed_ms, 2)  # type: ignore[call-overload]
    if type(elapsed) is float and math.isfinite(elapsed):
        return float.__repr__(elapsed)
    return scalar(elapsed)


def _actual(indent: str) -> Actual:
    """The writer of a row's observations, each with its verdict, at ``indent``."""
    inner = indent + "  "
    p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12 = _pieces(inner, _OBSERVATION)
    at, sep, close = "[\n" + inner, ",\n" + inner, "\n" + indent + "]"
    esc = _escape

    only, last = at + p0, p12 + close  # a list of one: its brackets joined to the text
    number = int.__repr__
    one = _records(inner + "  ").one  # an answer of one record

    def observed(
        check: ServerCheck,
        layers: Layers,
        carried: Carried,
        records: Listed,
        times: Times,
        head: str = p0,
        tail: str = p12,
    ) -> str:
        o = check.observation
        # Rounding and writing a float is ~0.5 us; thousands of answers share each time.
        # Positive floats only: 0.0 and -0.0 (and 1 and 1.0) are the same key.
        raw = o.elapsed_ms
        if type(raw) is float and raw > 0.0:
            ms = times.get(raw)
            if ms is None:
                ms = times[raw] = elapsed_text(raw)
        else:
            ms = elapsed_text(raw)
        # The usual types written here without a call (scalar() for any other).
        size = o.size
        size_text = number(size) if type(size) is int else scalar(size)
        low, large, got = o.low_confidence, o.too_large, o.answer
        return (
            f"{head}{'[]' if not got else one(got[0]) if len(got) == 1 else records(got)}"
            f"{p1}{ms}{p2}{named(o.error) or esc(o.error)}"
            f"{p3}{esc(layers.get(o.server, ''))}"
            f"{p4}{'true' if low is True else 'false' if low is False else scalar(low)}"
            f"{p5}{named(check.note) or esc(check.note)}{p6}{named(o.rcode) or esc(o.rcode)}"
            f"{p7}{esc(o.server)}{p8}{size_text}"
            f"{p9}{'true' if large is True else 'false' if large is False else scalar(large)}"
            f"{p10}{carried(o.transport)}{p11}{named(check.verdict) or esc(check.verdict)}{tail}"
        )

    def actual(r: Row, layers: Layers, carried: Carried, records: Listed, times: Times) -> str:
        checks = r.checks
        if len(checks) == 1:  # the usual row: one server
            return observed(checks[0], layers, carried, records, times, only, last)
        if not checks:
            return "[]"
        texts = [observed(check, layers, carried, records, times) for check in checks]
        return at + sep.join(texts) + close

    return actual


@lru_cache(maxsize=8)
def condition_writer(indent: str) -> Callable[[EndpointState], str]:
    """The text of an inspected Service's endpoint whose ``{`` sits at ``indent``.

    What ``json.dumps`` writes for its ``endpointConditions`` item (:mod:`hsvc.render.data`);
    raises TypeError for a value of a type it does not know.
    """
    p0, p1, p2, p3, p4, p5, p6, p7 = _pieces(indent, _CONDITION)
    at = indent + "  "
    esc = _escape
    # The usual endpoint: one address, with its list's brackets joined to the text around.
    only, last = p0 + "[\n" + at + "  ", "\n" + at + "]" + p1

    def flag(value: object) -> str:
        return "true" if value is True else "false" if value is False else scalar(value)

    def condition(e: EndpointState) -> str:
        addresses = e.addresses
        one = len(addresses) == 1
        return (
            f"{f'{only}{esc(addresses[0])}{last}' if one else p0 + _strings(addresses, at) + p1}"
            f"{esc(e.name)}{p2}{esc(e.pod)}"
            f"{p3}{flag(e.published)}{p4}{flag(e.ready)}{p5}{flag(e.serving)}"
            f"{p6}{flag(e.terminating)}{p7}"
        )

    return condition


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

    one, source = records.one, sources.one

    def make() -> RowWriters:
        carried = _shared(transport)
        times: Times = {}
        strings = _shared(partial(_strings, indent=b))

        def text(
            observed: Listed, records: Listed, sources: Listed, r: Row, layers: Mapping[str, str]
        ) -> str:
            x, s = r.expected, r.subject
            ended, answer, prov = x.open_ended, x.answer, x.provenance
            return (
                f"{r0}{actual(r, layers, carried, observed, times)}{r1x0}"
                f"{'[]' if not answer else one(answer[0]) if len(answer) == 1 else records(answer)}"
                f"{x1}{esc(x.explanation)}{x2}"
                f"{'true' if ended is True else 'false' if ended is False else scalar(ended)}"
                f"{x3}{strings(x.predicted) if x.predicted else '[]'}"
                f"{x4}{named(x.rcode) or esc(x.rcode)}"
                f"{reason_head + esc(r.reason) if r.reason else ''}"
                f"{x5}{strings(x.rules)}{x6}"
                f"{'[]' if not prov else source(prov[0]) if len(prov) == 1 else sources(prov)}"
                f"{x7}{named(x.uncertain) or esc(x.uncertain)}"
                f"{x8r2}{named(r.group) or esc(r.group)}{r3}{esc(x.name)}"
                f"{r4}{named(r.status) or esc(r.status)}"
                f"{r5j0}{esc(s.kind)}{j1}{esc(s.name)}{j2}{esc(s.namespace)}"
                f"{j3r6}{esc(x.type)}{r7}"  # Row.name and Row.type are the answer's
            )

        def pieces(r: Row, layers: Mapping[str, str]) -> Iterator[str]:
            later: list[Iterator[str]] = []

            def put(lists: ListWriter) -> Listed:
                def listed(items: Sequence[Any]) -> str:
                    if len(items) <= LONG_ROW:
                        return lists.whole(items)
                    later.append(lists.pieces(items))  # TypeError here, before any piece
                    return _MARK

                return listed

            head, *tails = text(put(observed), put(records), put(sources), r, layers).split(_MARK)
            return _spliced(head, tails, later)

        return RowWriters(partial(text, observed.whole, records.whole, sources.whole), pieces)

    return make


def _spliced(head: str, tails: Sequence[str], lists: Sequence[Iterator[str]]) -> Iterator[str]:
    """``head``, then each long list's pieces followed by the text after it."""
    yield head
    for pieces, tail in zip(lists, tails, strict=True):
        yield from pieces
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
_CONDITION = ("addresses", "name", "pod", "published", "ready", "serving", "terminating")
_ROW = ("actual", "expected", "group", "name", "status", "subject", "type")
