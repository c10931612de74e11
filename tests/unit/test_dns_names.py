"""Names read from DNS messages (hsvc.adapters.dnsname): the one-pass reader is the walk.

:func:`dnsname._name` reads a name written out whole in one pass over its length
bytes and leaves every other to :func:`dnsname._walk`, label by label; both must
read every input alike, and what they read is what dnspython reads.
"""

from __future__ import annotations

import dns.exception
import dns.name
import dns.wire
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.adapters import dnsname

PLAIN = b"abcXYZ019-_"
ODD = PLAIN + b'.*\\" /:\x00\x01\x7f\xc3'


@st.composite
def wires(draw: st.DrawFn) -> tuple[bytes, int, int]:
    """A message tail holding a name at an offset: labels of any length and bytes, maybe
    a pointer, maybe cut short; with the offset and the bound to read it within."""
    prefix = draw(st.binary(max_size=40))
    labels = draw(
        st.lists(
            st.one_of(
                st.binary(min_size=1, max_size=63),
                st.text(alphabet=PLAIN.decode(), min_size=1, max_size=63).map(str.encode),
                st.sampled_from([b"x" * 44, b"y" * 45, b"9" * 57, b"z" * 63]),
            ),
            max_size=8,
        )
    )
    name = b"".join(bytes([len(label)]) + label for label in labels)
    end = draw(
        st.sampled_from([b"\x00", b"", bytes([0xC0, len(prefix) // 2]), b"\x40", b"\x00\x00"])
    )
    wire = prefix + name + end + draw(st.binary(max_size=8))
    bound = draw(st.integers(len(prefix), len(wire)))
    return wire, len(prefix), bound


@settings(max_examples=600, deadline=None)
@given(wires())
def test_the_one_pass_reader_reads_as_the_walk(case: tuple[bytes, int, int]) -> None:
    wire, offset, bound = case
    assert dnsname._name(wire, offset, bound) == dnsname._walk(wire, offset, bound)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 63))
def test_any_bytes_read_as_the_walk(wire: bytes, offset: int) -> None:
    offset = min(offset, len(wire))
    assert dnsname._name(wire, offset, len(wire)) == dnsname._walk(wire, offset, len(wire))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(ODD), min_size=1, max_size=63).map(bytes), max_size=5))
def test_a_name_reads_as_dnspython_writes_it(labels: list[bytes]) -> None:
    wire = b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"
    read = dnsname._name(wire, 0, len(wire))
    try:
        theirs = dns.name.from_wire_parser(dns.wire.Parser(wire))
    except dns.exception.DNSException:
        assert read is None  # too long for a name
        return
    if read is not None:  # None: dnspython would escape a byte, left to it
        assert read == (theirs.to_text().lower(), len(wire))
    else:
        assert any(set(label) - set(PLAIN) for label in labels) or len(wire) > 255


def test_usual_names() -> None:
    wire = b"\x05web-0\x03web\x05bench\x03svc\x07cluster\x05local\x00"
    assert dnsname._name(wire, 0, len(wire)) == ("web-0.web.bench.svc.cluster.local.", len(wire))
    assert dnsname._name(b"\x00", 0, 1) == (".", 1)
    assert dnsname._name(b"\x03WEB\x00", 0, 5) == ("web.", 5)
    assert dnsname._name(b"\x03web", 0, 4) is None  # no root label within the bound
    long = b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x00"  # 257 bytes
    assert dnsname._name(long, 0, len(long)) is None
