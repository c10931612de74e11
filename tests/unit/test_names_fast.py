"""The short cuts in hsvc.core.names give what the general code gives, for any input."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.core import names
from tests.examples import scaled

# Names made of the characters that matter: plain ones, dots, escapes, the escaped set.
NAME_TEXT = st.text(alphabet='aZ09-_.\\"();@$ 1x\t', max_size=12) | st.builds(
    lambda parts, dot: ".".join(parts) + dot,
    st.lists(st.text(alphabet="abcXYZ09-", min_size=0, max_size=70), min_size=1, max_size=6),
    st.sampled_from(["", ".", ".."]),
)


def _outcome(fn, *args):
    try:
        return fn(*args)
    except names.InvalidName as exc:
        return ("invalid", exc.reason)


@settings(deadline=None, max_examples=scaled(500))
@given(NAME_TEXT)
def test_absolute_agrees_with_decoding_every_label(text):
    stripped = text.strip()
    expected = ("invalid", "empty name") if not stripped else None
    if expected is None:
        expected = "." if stripped == "." else _outcome(names._decoded, text, stripped)
    assert _outcome(names.absolute, text) == expected


@pytest.mark.parametrize(
    ("text", "absolute"),
    [("Web-0.Web.bench.svc.cluster.local", "web-0.web.bench.svc.cluster.local."), ("a.", "a.")],
)
def test_plain_names_lower_cased_with_one_dot(text, absolute):
    assert names.absolute(text) == absolute


def _ipaddress_canonical(text):
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


OCTETS = st.sampled_from(["0", "00", "01", "1", "9", "10", "99", "100", "199", "249", "250"])
IPV4ISH = st.builds(
    lambda parts, pad: pad + ".".join(parts) + pad,
    st.lists(
        OCTETS | st.sampled_from(["255", "256", "300", "-1", "a", ""]), min_size=3, max_size=5
    ),
    st.sampled_from(["", " ", "\n"]),
) | st.text(alphabet="0123456789.:abf ", max_size=16)


@settings(deadline=None, max_examples=scaled(500))
@given(IPV4ISH)
def test_ip_short_cuts_agree_with_ipaddress(text):
    names.canonical_ip.cache_clear()
    names.ip_family.cache_clear()
    assert names.canonical_ip(text) == _ipaddress_canonical(text)
    try:
        family = ipaddress.ip_address(text).version
    except ValueError:
        family = 0
    assert names.ip_family(text) == family
    assert names._strict_ip(text) == (family != 0)
    if family:
        assert names.reverse_name(text) == ipaddress.ip_address(text).reverse_pointer + "."


ZONES = st.sampled_from(
    [
        *(".", "a.", "b.", "local.", "cluster.local.", "x.cluster.local.", "arpa."),
        *("in-addr.arpa.", "10.in-addr.arpa.", "ip6.arpa.", "xin-addr.arpa."),
    ]
)


@settings(deadline=None, max_examples=scaled(500))
@given(st.lists(ZONES, max_size=5), ZONES, st.sampled_from(["", "q.", "x.", "10-0-0-1.n.pod."]))
def test_zone_short_cuts_agree_with_the_scan(zones, zone, prefix):
    name = zone if prefix == "" or zone == "." else prefix + zone
    best = None
    for z in zones:
        if names.is_subdomain(name, z) and (best is None or len(z) > len(best)):
            best = z
    assert names.zone_of(name, tuple(zones)) == best == names.zone_of(name, zones)
    reverse = names.is_subdomain(name, "in-addr.arpa.") or names.is_subdomain(name, "ip6.arpa.")
    assert names.is_reverse_zone(name) == reverse


@settings(deadline=None, max_examples=scaled(500))
@given(IPV4ISH | st.text(alphabet="0123456789.:abf pgAE%-\u0661", max_size=16))
def test_strict_ip_agrees_with_ipaddress(text):
    # Pod names, scope IDs and non-ASCII digits included: the short cut rejects only
    # what ipaddress rejects.
    try:
        ipaddress.ip_address(text)
        expected = True
    except ValueError:
        expected = False
    assert names._strict_ip(text) == expected


# Kubernetes object names: lower case, digits, '-', '.', and what must be refused.
OBJECT_NAME = st.text(alphabet="az09-.A_\n", max_size=70) | st.builds(
    lambda n, c: c * n, st.integers(60, 260), st.sampled_from(["a", "a.", "-"])
)


@settings(deadline=None, max_examples=scaled(500))
@given(OBJECT_NAME)
def test_name_checks_agree_with_the_messages_they_give(text):
    assert names.is_dns1123_label(text) == (not names.dns1123_label_errors(text))
    assert names.is_dns1123_subdomain(text) == (not names.dns1123_subdomain_errors(text))


@settings(deadline=None, max_examples=scaled(300))
@given(OBJECT_NAME)
def test_a_label_is_always_a_subdomain(text):
    # What lets the converters check a name that must be a label once, not twice.
    assert not names.is_dns1123_label(text) or names.is_dns1123_subdomain(text)
