"""Rows written from templates are the text json.dumps(indent=2, sort_keys=True) writes."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import IntEnum, StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.core.compare import Row, ServerCheck, Verdict
from hsvc.core.model import DnsAnswer, ObjectRef, Observation, Provenance, Rcode, Record, Transport
from hsvc.core.records import Group
from hsvc.core.report import EndpointState
from hsvc.render import data, rowtext
from hsvc.render.data import Lazy, row, row_pieces, row_texts, write_json
from hsvc.render.jsonwrite import Pieces, pretty_json
from hsvc.render.rowtext import LONG_ROW, scalar

SERVERS = ("127.0.0.1:53", "10.96.0.10:53")
TEXT = st.text(max_size=12)  # any code point: escapes, quotes, surrogates, emoji
SIZE = st.none() | st.integers(min_value=-1, max_value=2**70)

refs = st.builds(ObjectRef, kind=TEXT, namespace=TEXT, name=TEXT)
records = st.builds(Record, name=TEXT, type=TEXT, ttl=st.integers(), data=TEXT)
transports = st.none() | st.builds(
    Transport,
    edns_size=SIZE,
    edns_truncated=st.booleans(),
    plain_size=SIZE,
    plain_truncated=st.booleans(),
    plain_error=TEXT,
    tcp_size=SIZE,
    tcp_error=TEXT,
)
observations = st.builds(
    Observation,
    server=st.sampled_from(SERVERS) | TEXT,
    name=TEXT,
    type=TEXT,
    rcode=st.sampled_from(Rcode),
    answer=st.tuples() | st.lists(records, max_size=3).map(tuple),
    too_large=st.booleans(),
    size=st.integers(min_value=0, max_value=70000),
    elapsed_ms=st.floats(allow_nan=True, allow_infinity=True) | st.integers(0, 10**6),
    error=TEXT,
    low_confidence=st.booleans(),
    transport=transports,
)
answers = st.builds(
    DnsAnswer,
    name=TEXT,
    type=TEXT,
    rcode=st.sampled_from(Rcode),
    answer=st.lists(records, max_size=3).map(tuple),
    rules=st.lists(TEXT, max_size=3).map(tuple),
    explanation=TEXT,
    provenance=st.lists(st.builds(Provenance, source=refs, rule=TEXT), max_size=3).map(tuple),
    open_ended=st.booleans(),
    predicted=st.lists(TEXT, max_size=2).map(tuple),
    uncertain=TEXT,
)
checks = st.builds(
    ServerCheck, observation=observations, verdict=st.sampled_from(Verdict), note=TEXT
)
rows = st.builds(
    Row,
    group=st.sampled_from(Group),
    subject=refs,
    expected=answers,
    reason=st.just("") | TEXT,
    checks=st.lists(checks, max_size=3).map(tuple),
    status=st.sampled_from(Verdict),
)
layers = st.dictionaries(st.sampled_from(SERVERS), TEXT, max_size=2)
indents = st.sampled_from(["", "  ", "    ", "      "])


def _dumped(r: Row, layer_of: dict[str, str], indent: str) -> str:
    return json.dumps(row(r, layer_of), indent=2, sort_keys=True).replace("\n", "\n" + indent)


@settings(deadline=None, max_examples=300)
@given(st.lists(rows, max_size=3), layers, indents)
def test_row_text_is_json_dumps_of_the_row_at_its_depth(items, layer_of, indent):
    texts = list(row_texts(items, layer_of, indent))
    assert texts == [_dumped(r, layer_of, indent) for r in items]


@settings(deadline=None, max_examples=100)
@given(st.lists(rows, max_size=4), layers, st.integers(min_value=1, max_value=5))
def test_rows_written_in_a_document_are_the_whole_document_text(items, layer_of, batch):
    def doc(lazy: object) -> dict[str, object]:
        return {"apiVersion": "v", "rows": lazy, "z": {"deep": [lazy]}}

    lazy = Lazy(lambda: (row(r, layer_of) for r in items), lambda i: row_texts(items, layer_of, i))
    pieces: list[str] = []
    write_json(doc(lazy), pieces.append, batch=batch)
    expected = json.dumps(doc([row(r, layer_of) for r in items]), indent=2, sort_keys=True)
    assert "".join(pieces) == expected


def _a_row(answered: int = 1, **fields: object) -> Row:
    pod = ObjectRef(kind="Pod", namespace="ns", name="p")
    recs = tuple(Record(name="a.", type="A", ttl=30, data=f"10.0.0.{i}") for i in range(answered))
    answer = DnsAnswer(
        name="a.",
        type="A",
        rcode=Rcode.NOERROR,
        answer=recs,
        provenance=tuple(Provenance(source=pod, rule="R2") for _ in recs),
    )
    obs = Observation(server=SERVERS[0], name="a.", type="A", rcode=Rcode.NOERROR, **fields)
    check = ServerCheck(observation=obs, verdict=Verdict.OK)
    subject = ObjectRef(kind="Pod", namespace="ns", name="p")
    return Row(
        group=Group.POD,
        subject=subject,
        expected=answer,
        reason="",
        checks=(check,),
        status=Verdict.OK,
    )


@pytest.mark.parametrize(
    "fields",
    [{"error": None}, {"size": [1, 2]}, {"size": {"k": 1}}],
    ids=["null-where-text-is-expected", "a-list", "a-dict"],
)
def test_a_value_the_templates_do_not_know_is_written_as_json_dumps_writes_it(fields):
    r = _a_row(**fields)
    (text,) = row_texts([r], {}, "    ")
    assert text == _dumped(r, {}, "    ")


class Port(IntEnum):
    DNS = 53


@pytest.mark.parametrize(
    "value",
    ['é\n"', None, True, False, 0, -(2**70), 1.5, 1e-7, float("nan"), float("-inf"), Port.DNS],
)
def test_scalar_text_is_json_dumps_text(value):
    assert scalar(value) == json.dumps(value, indent=2, sort_keys=True)


def test_a_row_of_thousands_of_records_is_written_in_pieces():
    short, long = _a_row(LONG_ROW), _a_row(LONG_ROW + 1)
    doc = {"rows": Lazy(lambda: [], lambda i: row_texts([short, long, short], {}, i))}
    pieces: list[str] = []
    write_json(doc, pieces.append, batch=64)
    rows = [row(r, {}) for r in (short, long, short)]
    assert "".join(pieces) == json.dumps({"rows": rows}, indent=2, sort_keys=True)
    whole = _dumped(long, {}, "    ")
    assert not any(whole in piece for piece in pieces)  # never the long row at once
    assert isinstance(next(iter(row_texts([long], {}, ""))), dict)


@pytest.mark.parametrize("part", ["expected", "sources", "observed"])
def test_a_long_list_anywhere_in_a_row_gives_it_to_the_general_writer(part):
    short = _a_row(1)
    many = _a_row(LONG_ROW + 1)
    if part == "sources":
        expected = replace(short.expected, provenance=many.expected.provenance)
        long = replace(short, expected=expected)
    elif part == "observed":
        obs = replace(short.checks[0].observation, answer=many.expected.answer)
        long = replace(short, checks=(replace(short.checks[0], observation=obs),))
    else:
        long = replace(short, expected=replace(short.expected, answer=many.expected.answer))
    assert [type(t) for t in row_texts([short, long], {}, "")] == [str, dict]
    assert next(iter(row_texts([long], {}, ""))) == row(long, {})


def test_a_container_is_no_scalar():
    with pytest.raises(TypeError):
        scalar((1,))


@settings(deadline=None, max_examples=200)
@given(st.lists(rows, max_size=3), layers, indents)
def test_rows_of_long_lists_in_pieces_are_json_dumps_of_the_row(items, layer_of, indent):
    # Lists of more than 1 item count as long here, so generated rows take that path too.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rowtext, "LONG_ROW", 1)
        texts = list(row_pieces(items, layer_of, indent))
        joined = ["".join(t.parts) if isinstance(t, Pieces) else t for t in texts]
    assert joined == [_dumped(r, layer_of, indent) for r in items]


def test_a_long_row_is_written_in_pieces_of_its_text_never_whole():
    short, long = _a_row(LONG_ROW), _a_row(2 * LONG_ROW + 1)
    texts = list(row_pieces([short, long, short], {}, "    "))
    assert [type(t) for t in texts] == [str, Pieces, str]
    whole = _dumped(long, {}, "    ")
    parts = list(texts[1].parts)
    assert "".join(parts) == whole
    assert max(map(len, parts)) < len(whole) / 2  # no piece holds most of the row
    doc = {"rows": Lazy(lambda: [], lambda i: row_pieces([short, long, short], {}, i))}
    pieces: list[str] = []
    write_json(doc, pieces.append, batch=64)
    rows = [row(r, {}) for r in (short, long, short)]
    assert "".join(pieces) == json.dumps({"rows": rows}, indent=2, sort_keys=True)
    assert not any(whole in piece for piece in pieces)


@pytest.mark.parametrize("part", ["expected", "sources", "observed"])
def test_a_long_list_of_a_value_the_templates_do_not_know_goes_to_the_general_writer(part):
    long = _a_row(LONG_ROW + 1)
    recs = list(long.expected.answer)
    if part == "sources":
        odd = replace(long.expected.provenance[0], rule=Port.DNS)
        sources = (odd, *long.expected.provenance[1:])
        long = replace(long, expected=replace(long.expected, provenance=sources))
    elif part == "observed":
        obs = replace(long.checks[0].observation, answer=(replace(recs[0], ttl=True), *recs[1:]))
        long = replace(long, checks=(replace(long.checks[0], observation=obs),))
    else:
        answer = (replace(recs[0], data=Port.DNS), *recs[1:])
        long = replace(long, expected=replace(long.expected, answer=answer))
    (text,) = row_pieces([long], {}, "")
    assert text == row(long, {})
    doc = {"rows": Lazy(lambda: [], lambda i: row_pieces([long], {}, i))}
    pieces: list[str] = []
    write_json(doc, pieces.append)
    assert "".join(pieces) == json.dumps({"rows": [row(long, {})]}, indent=2, sort_keys=True)


class Tag(str):
    """A str subclass: written as its text, but no plain type for a long list."""


def _many(draw_field: st.SearchStrategy[object], size: int) -> st.SearchStrategy[list[Record]]:
    return st.lists(
        st.builds(
            Record, name=draw_field, type=draw_field, ttl=st.sampled_from([30, 5]), data=TEXT
        ),
        min_size=size,
        max_size=size + 3,
    )


FEW_NAMES = st.sampled_from(["a.", "a.", "a.", "b."]) | st.builds(Tag, st.just("a."))


@settings(deadline=None, max_examples=150)
@given(_many(FEW_NAMES, rowtext.MANY), st.booleans(), indents)
def test_many_records_alike_but_one_field_are_the_text_json_dumps_writes(recs, sources, indent):
    # Lists of MANY items or more are joined at once when only one field differs
    # (here names, types and TTLs are mostly the same); any other list item by item.
    base = _a_row(1)
    pod = base.expected.provenance[0].source
    provenance = tuple(
        Provenance(source=replace(pod, name=r.data), rule=r.type if sources else "R2") for r in recs
    )
    expected = replace(base.expected, answer=tuple(recs), provenance=provenance)
    obs = replace(base.checks[0].observation, answer=tuple(reversed(recs)))
    r = replace(base, expected=expected, checks=(replace(base.checks[0], observation=obs),))
    assert list(row_texts([r], {}, indent)) == [_dumped(r, {}, indent)]


@pytest.mark.parametrize("ttl", [True, 30.0, Port.DNS])
def test_many_records_with_one_ttl_of_another_type_are_written_one_by_one(ttl):
    # 30, True, 30.0 and Port.DNS compare equal (or not) across types: each keeps its own text.
    recs = [Record(name="a.", type="A", ttl=30, data=f"10.0.0.{i}") for i in range(40)]
    recs[7] = replace(recs[7], ttl=ttl)
    r = replace(_a_row(1), expected=replace(_a_row(1).expected, answer=tuple(recs), provenance=()))
    assert list(row_texts([r], {}, "  ")) == [_dumped(r, {}, "  ")]


def test_a_long_list_of_records_alike_but_their_data_is_written_in_pieces():
    long = _a_row(3 * LONG_ROW + 5)
    (text,) = row_pieces([long], {}, "    ")
    assert isinstance(text, Pieces)
    assert "".join(text.parts) == _dumped(long, {}, "    ")


def test_an_empty_list_of_records_or_sources_is_brackets():
    assert rowtext._records("  ").whole(()) == rowtext._sources("").whole(()) == "[]"


conditions = st.builds(
    EndpointState,
    name=TEXT,
    addresses=st.lists(TEXT, max_size=3).map(tuple),
    pod=TEXT,
    ready=st.none() | st.booleans() | st.integers(0, 1),  # 1 is no true
    serving=st.none() | st.booleans(),
    terminating=st.none() | st.booleans(),
    published=st.booleans(),
    is_serving=st.booleans(),
    is_terminating=st.booleans(),
)


@settings(deadline=None, max_examples=200)
@given(st.lists(conditions, max_size=4))
def test_endpoint_conditions_are_the_text_json_dumps_writes(items):
    doc = {"services": [{"endpointConditions": data._conditions(items)}]}
    whole = {"services": [{"endpointConditions": [data.endpoint_condition(e) for e in items]}]}
    assert pretty_json({"x": {"y": doc}}) == json.dumps(
        {"x": {"y": whole}}, indent=2, sort_keys=True
    )
    assert (
        list(doc["services"][0]["endpointConditions"]) == whole["services"][0]["endpointConditions"]
    )


def test_an_endpoint_condition_of_a_type_the_template_does_not_know_is_written_as_json_dumps_does():
    odd = EndpointState(
        name="web-0",
        addresses=("10.0.0.1",),
        pod=None,
        ready=[1],
        serving=None,
        terminating=None,
        published=True,
        is_serving=True,
        is_terminating=False,
    )
    doc = {"endpointConditions": data._conditions([odd])}
    assert pretty_json(doc) == json.dumps(
        {"endpointConditions": [data.endpoint_condition(odd)]}, indent=2, sort_keys=True
    )


# Elapsed times that are equal keys of a dict but not the same text, and ones repeated.
TIMES = [0.0, -0.0, 1, 1.0, True, 2.5, 2.5, 1.005, 1e-7, 1e300, float("nan"), float("inf")]


def test_elapsed_times_shared_by_rows_are_each_their_own_text():
    items = [_a_row(elapsed_ms=ms) for ms in [*TIMES, *reversed(TIMES)]]
    texts = list(row_texts(items, {}, "  "))
    assert texts == [_dumped(r, {}, "  ") for r in items]
    written = {
        line.split(": ")[1].rstrip(",")
        for text in texts
        for line in text.splitlines()
        if '"elapsedMs"' in line
    }
    assert {"0.0", "-0.0", "1", "1.0", "2.5", "NaN", "Infinity"} <= written


@settings(deadline=None, max_examples=150)
@given(
    st.lists(st.sampled_from(TIMES) | st.floats(allow_nan=True) | st.integers(), max_size=12),
    indents,
)
def test_rows_of_one_document_write_each_elapsed_time_as_json_dumps_does(times, indent):
    items = [_a_row(answered=len(times) % 3, elapsed_ms=ms) for ms in times]
    assert list(row_texts(items, {}, indent)) == [_dumped(r, {}, indent) for r in items]


@pytest.mark.parametrize("ms", TIMES)
def test_elapsed_text_is_the_rounded_time_json_dumps_writes(ms):
    assert rowtext.elapsed_text(ms) == json.dumps(round(ms, 2))


@pytest.mark.parametrize("served", [0, 1, 2, 3])
def test_a_long_row_with_short_lists_beside_its_long_one_is_json_dumps_of_the_row(served):
    long = _a_row(LONG_ROW + 1)
    obs = replace(long.checks[0].observation, answer=_a_row(served).expected.answer)
    long = replace(long, checks=(replace(long.checks[0], observation=obs),))
    (text,) = row_pieces([long], {}, "  ")
    assert isinstance(text, Pieces)
    assert "".join(text.parts) == _dumped(long, {}, "  ")


def test_a_list_of_one_record_or_source_is_its_one_item_text():
    r = _a_row(1)
    records, sources = rowtext._records("  "), rowtext._sources("  ")
    assert records.whole(r.expected.answer) == records.one(r.expected.answer[0])
    assert sources.whole(r.expected.provenance) == sources.one(r.expected.provenance[0])


class Other(StrEnum):
    OK = "ok"
    EMPTY = ""
    NOERROR = "NOERROR"


@pytest.mark.parametrize("text", ["ok", "NOERROR", "", "Ok", Other.OK, Verdict.OK, Rcode.NOERROR])
@pytest.mark.parametrize("kind", list(Other))
def test_a_value_equal_to_an_enums_value_is_written_as_its_text(text, kind):
    # The enums' fields hold another enum of the same values, the text fields those values.
    r = _a_row(error=text)
    obs = replace(r.checks[0].observation, rcode=kind)
    check = replace(r.checks[0], observation=obs, verdict=kind, note=text)
    r = replace(r, checks=(check,), status=kind, group=kind)
    r = replace(r, expected=replace(r.expected, rcode=kind, uncertain=text))
    (text_of_row,) = row_texts([r], {}, "  ")
    assert text_of_row == _dumped(r, {}, "  ")
