"""The converters' fast paths read what the general paths read, and fail where they fail."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsvc.adapters import fields
from hsvc.adapters.convert import slice_from_dict
from hsvc.adapters.fields import ConversionError
from hsvc.core.model import labels_of


def general_ip_version(text: str) -> int:
    """What ``_ip_version`` answered before its IPv4 fast path: ipaddress decides."""
    if "%" in text or text != text.strip():
        return 0
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0


octets = st.one_of(
    st.integers(0, 300).map(str),
    st.sampled_from(["00", "01", "010", "0255", "1e1", "+1", "-1", " 1", "1 ", "", "٣", "0x1"]),
)
dotted = st.lists(octets, min_size=1, max_size=6).map(".".join)


@given(dotted)
def test_ip_version_fast_path_agrees_with_ipaddress(text: str) -> None:
    assert fields._ip_version(text) == general_ip_version(text)


@pytest.mark.parametrize(
    "text",
    ["10.64.0.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4\n"],
)
def test_ip_version_of_usual_and_unusual_forms(text: str) -> None:
    assert fields._ip_version(text) == general_ip_version(text)


@given(st.text(alphabet="0123456789.:abcdef%x ", max_size=20))
def test_ip_version_of_any_short_text(text: str) -> None:
    assert fields._ip_version(text) == general_ip_version(text)


def test_each_reads_a_list_of_mappings_with_their_paths() -> None:
    items = list(fields._each({"ports": [{"a": 1}, {"b": 2}]}, "ports", ("spec",)))
    assert items == [({"a": 1}, ("spec", "ports", 0)), ({"b": 2}, ("spec", "ports", 1))]
    assert list(fields._each({}, "ports", ("spec",))) == []
    assert list(fields._each({"ports": None}, "ports", ("spec",))) == []


def test_each_meets_a_bad_item_after_the_items_before_it() -> None:
    walk = iter(fields._each({"ports": [{"a": 1}, "http"]}, "ports", ("spec",)))
    assert next(walk) == ({"a": 1}, ("spec", "ports", 0))
    with pytest.raises(ConversionError) as info:
        next(walk)
    assert info.value.path == ("spec", "ports", 1)
    assert info.value.reason == "expected a mapping, got str"


def test_each_of_a_mapping_that_is_no_list_fails_when_walked() -> None:
    walk = fields._each({"ports": {"a": 1}}, "ports", ("spec",))
    with pytest.raises(ConversionError) as info:
        list(walk)
    assert info.value.path == ("spec", "ports")
    assert info.value.reason == "expected a list, got dict"


def test_str_list_fast_path_and_its_errors() -> None:
    assert fields._str_list({"args": ["a", "b"]}, "args", ()) == ("a", "b")
    assert fields._str_list({"args": None}, "args", ()) == ()
    assert fields._str_list({"args": ("a",)}, "args", ()) == ("a",)
    with pytest.raises(ConversionError) as info:
        fields._str_list({"args": ["a", 1]}, "args", ("c",))
    assert info.value.path == ("c", "args", 1)
    assert info.value.reason == "expected a string, got int"


def test_slice_addresses_read_fast_are_still_checked() -> None:
    base = {
        "metadata": {"name": "s", "namespace": "ns"},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.01"]}],
    }
    with pytest.raises(ConversionError) as info:
        slice_from_dict(base)
    assert info.value.path == ("endpoints", 1, "addresses", 0)
    good = {**base, "endpoints": [{"addresses": ["10.0.0.1", "10.0.0.2"]}]}
    assert slice_from_dict(good).endpoints[0].addresses == ("10.0.0.1", "10.0.0.2")


@given(
    st.dictionaries(
        st.one_of(st.text(max_size=5), st.integers(-3, 3), st.booleans()), st.text(max_size=5)
    )
)
def test_labels_are_read_as_labels_of_reads_them(mapping: dict[object, str]) -> None:
    # A YAML map may have int or bool keys; they become strings (the last one wins).
    expected = labels_of({str(k): v for k, v in mapping.items()})
    labels = fields._labels({"labels": mapping}, "labels", ("metadata",))
    assert labels == expected
    assert all(type(k) is str and type(v) is str for k, v in labels)
