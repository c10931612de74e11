"""render.data.pretty_json writes exactly what json.dumps(indent=2, sort_keys=True) writes."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.render.data import pretty_json


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
