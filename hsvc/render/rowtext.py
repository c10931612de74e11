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
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from hsvc.core.compare import Row
from hsvc.core.model import Record, Transport

RowText = Callable[[Row, Mapping[str, str]], str]

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


def _template(indent: str, keys: Sequence[str]) -> str:
    """``{`` + one ``"key": %s`` line per key at ``indent + 2`` + ``}`` at ``indent``."""
    assert list(keys) == sorted(keys), keys  # the order json.dumps(sort_keys=True) writes
    inner = indent + "  "
    body = ",\n".join(f"{inner}{_escape(k)}: %s" for k in keys)
    return "{\n" + body + "\n" + indent + "}"


def _strings(items: Sequence[str], indent: str) -> str:
    """A list of strings whose items sit at ``indent + 2``."""
    if not items:
        return "[]"
    inner = indent + "  "
    return "[\n" + inner + (",\n" + inner).join(map(_escape, items)) + "\n" + indent + "]"


# long: one row's whole shape, its templates made once per depth
@lru_cache(maxsize=8)
def row_writer(indent: str) -> RowText:
    """The writer of one row's text whose ``{`` sits at ``indent`` (keys at ``indent + 2``).

    It raises :class:`LongRowError` for a row of a long list, ``TypeError`` for a value of
    a type it does not know.
    """
    a = indent + "  "  # the row's keys
    b = a + "  "  # an observation; the expected answer's keys; the subject's keys
    c = b + "  "  # an observation's keys; expected records and sources
    d = c + "  "  # observed records (their keys 2 deeper); transport keys; expected records' keys
    rec_keys = ("data", "name", "ttl", "type")
    observed_rec = _template(d, rec_keys)
    expected_rec = _template(c, rec_keys)
    source = _template(c, ("kind", "name", "namespace", "rule"))
    transport = _template(c, _TRANSPORT)
    observation = _template(b, _OBSERVATION)
    # The row with its expected answer and subject in place: one formatting, not three.
    subject = _template(a, ("kind", "name", "namespace"))
    row = _template(indent, _ROW)
    whole = row % ("%s", _template(a, _EXPECTED), "%s", "%s", "%s", subject, "%s")
    whole_reason = row % ("%s", _template(a, _EXPECTED_REASON), "%s", "%s", "%s", subject, "%s")
    c_sep = ",\n" + c
    esc = _escape

    def records(recs: Sequence[Record], tmpl: str, at: str, close: str) -> str:
        if not recs:
            return "[]"
        if len(recs) > LONG_ROW:
            raise LongRowError
        items = [
            tmpl
            % (
                esc(r.data),
                esc(r.name),
                scalar(r.ttl),
                esc(r.type),
            )
            for r in recs
        ]
        return "[\n" + at + (",\n" + at).join(items) + close

    def carried(t: Transport | None) -> str:
        if t is None:
            return "null"
        return transport % (
            scalar(t.edns_size),
            scalar(t.edns_truncated),
            esc(t.plain_error),
            scalar(t.plain_size),
            scalar(t.plain_truncated),
            esc(t.tcp_error),
            scalar(t.tcp_size),
        )

    obs_close = "\n" + c + "]"
    exp_close = "\n" + b + "]"

    def write(r: Row, layers: Mapping[str, str]) -> str:
        if r.checks:
            actual = []
            for check in r.checks:
                o = check.observation
                actual.append(
                    observation
                    % (
                        records(o.answer, observed_rec, d, obs_close),
                        scalar(round(o.elapsed_ms, 2)),
                        esc(o.error),
                        esc(layers.get(o.server, "")),
                        scalar(o.low_confidence),
                        esc(check.note),
                        esc(o.rcode),
                        esc(o.server),
                        scalar(o.size),
                        scalar(o.too_large),
                        carried(o.transport),
                        esc(check.verdict),
                    )
                )
            actual_text = "[\n" + b + (",\n" + b).join(actual) + "\n" + a + "]"
        else:
            actual_text = "[]"
        x = r.expected
        sources = x.provenance
        if len(sources) > LONG_ROW:
            raise LongRowError
        sources_text = (
            "[\n"
            + c
            + c_sep.join(
                [
                    source % (esc(o.kind), esc(o.name), esc(o.namespace), esc(p.rule))
                    for p in sources
                    for o in (p.source,)
                ]
            )
            + exp_close
            if sources
            else "[]"
        )
        s = r.subject
        return (whole_reason if r.reason else whole) % (
            actual_text,
            records(x.answer, expected_rec, c, exp_close),
            esc(x.explanation),
            scalar(x.open_ended),
            _strings(x.predicted, b),
            esc(x.rcode),
            *((esc(r.reason),) if r.reason else ()),
            _strings(x.rules, b),
            sources_text,
            esc(x.uncertain),
            esc(r.group),
            esc(x.name),  # Row.name and Row.type are the expected answer's
            esc(r.status),
            esc(s.kind),
            esc(s.name),
            esc(s.namespace),
            esc(x.type),
        )

    return write


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
_EXPECTED_REASON = (*_EXPECTED[:5], "reason", *_EXPECTED[5:])
_ROW = ("actual", "expected", "group", "name", "status", "subject", "type")
