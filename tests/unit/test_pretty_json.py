"""render.data.pretty_json writes exactly what json.dumps(indent=2, sort_keys=True) writes."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.render.data import Lazy, pretty_json, write_json


class Colour(StrEnum):
    RED = "red"


CASES = {
    "empty-containers": {"a": {}, "b": [], "c": [{}, []]},
    "scalars": {"t": True, "f": False, "n": None, "i": -3, "big": 2**70, "x": 1.5, "e": 1e-7},
    "unicode-and-escapes": {"s": 'é "q" \\ \n\t\x00 \u2028 😀', "ключ": "значение"},
    "nested-sorted": {"z": [1, {"b": 2, "a": [3, {"d": None, "c": "x"}]}], "a": 0},
    "enum-values": {"status": Colour.RED},
    "non-finite": {"nan": float("nan"), "inf": float("inf")},
    "tuple": {"t": (1, 2)},
    "int-keys": {1: "a", 2: "b"},
}


@pytest.mark.parametrize("doc", CASES.values(), ids=CASES.keys())
def test_same_text_as_json_dumps(doc):
    assert pretty_json(doc) == json.dumps(doc, indent=2, sort_keys=True)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(deadline=None)
@given(JSON)
def test_same_text_as_json_dumps_for_any_document(doc):
    assert pretty_json(doc) == json.dumps(doc, indent=2, sort_keys=True)


NESTED_ODD = {
    "rows": [{"s": Colour.RED, "k": {2: "b", 1: "a"}, "t": (1, (2, 3)), "n": [float("nan")]}],
    "deep": {"a": [{"b": {"c": [Colour.RED, {"d": []}]}}]},
}


def test_odd_values_deep_inside_are_written_as_json_dumps_writes_them():
    assert pretty_json(NESTED_ODD) == json.dumps(NESTED_ODD, indent=2, sort_keys=True)


def test_lazy_lists_are_made_while_written_and_read_as_lists():
    made = []

    def items():
        for i in range(3):
            made.append(i)
            yield {"i": i, "sub": [i, {"x": Colour.RED}]}

    doc = {"rows": Lazy(items), "empty": Lazy(lambda: iter(())), "after": 1}
    pieces: list[str] = []
    write_json(doc, pieces.append, batch=2)
    expected = {"rows": list(items()), "empty": [], "after": 1}
    assert "".join(pieces) == json.dumps(expected, indent=2, sort_keys=True)
    assert len(pieces) > 1 and made == [0, 1, 2, 0, 1, 2]
    # Nested where json.dumps writes the subtree (a dict with int keys), still a list.
    odd = {"k": {1: Lazy(lambda: iter([1, 2]))}}
    assert pretty_json(odd) == json.dumps({"k": {1: [1, 2]}}, indent=2, sort_keys=True)


@settings(deadline=None)
@given(JSON, st.integers(min_value=1, max_value=5))
def test_written_in_pieces_the_text_is_the_same(doc, batch):
    pieces: list[str] = []
    write_json(doc, pieces.append, batch=batch)
    assert "".join(pieces) == json.dumps(doc, indent=2, sort_keys=True)
