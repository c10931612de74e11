"""An SRV set's targets and their addresses, read fast as dnspython reads them: no sockets.

The SRV answer of a headless Service names one target per pod, a label under the
question's name (``web-7.web.bench.svc.cluster.local.`` for ``web.bench.svc...``,
or under its parent for ``_http._tcp.web.bench.svc...``), written uncompressed;
the address records after them are owned by the targets, a label then a pointer
into the question. :func:`dnsname._label_then_question` and
:func:`dnsname._under_question` read those two shapes; every other name is left to
:func:`dnsname._name`, so the message reads as dnspython reads it.
"""

from __future__ import annotations

import dns.exception
import dns.message
import dns.name
import dns.rrset
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.adapters import dnsname, dnswire
from hsvc.core.model import Question, Rcode
from tests.unit.test_resolver_units import ODD_LABEL, by_dnspython, names_
from tests.unit.test_wire_fast import slow_read

PLAIN_LABEL = st.text(alphabet="abcXYZ019-_", min_size=1, max_size=12)


def srv_set_wire(asked: str, targets: list[str], qid: int) -> bytes:
    """The SRV answer as dnspython writes it: targets whole, their addresses compressed."""
    query = dns.message.make_query(asked, "SRV", use_edns=0, payload=1232)
    query.id = qid
    response = dns.message.make_response(query)
    srv = dns.rrset.from_text(asked, 30, "IN", "SRV", *(f"0 50 80 {t}" for t in targets))
    response.answer.append(srv)
    for n, target in enumerate(targets):
        response.additional.append(
            dns.rrset.from_text(target, 30, "IN", "A", f"10.0.{n // 256}.{n % 256}")
        )
    return response.to_wire(max_size=65535)


def read_as_dnspython(wire: bytes, qid: int, question: dnswire._Prepared) -> None:
    read = dnswire._read_answer(wire, qid, question)
    assert read == slow_read(wire, qid, question)
    try:
        expected = by_dnspython(wire)
    except dns.exception.DNSException as exc:
        expected = dnswire._Failure(Rcode.ERROR, dnswire._describe(exc))
    if read is not None:
        assert read == expected
    assert dnswire._read_wire(wire) == expected


@settings(deadline=None)
@given(
    st.one_of(names_(PLAIN_LABEL), names_(ODD_LABEL)),
    st.lists(st.one_of(PLAIN_LABEL, ODD_LABEL), min_size=1, max_size=5),
    st.integers(0, 3),
    st.integers(0, 65535),
)
def test_an_srv_set_under_the_question_reads_as_dnspython_reads_it(asked, labels, up, qid):
    name = dns.name.from_text(asked)
    parent = dns.name.Name(name.labels[min(up, len(name.labels) - 1) :])  # not the root
    targets = [dns.name.Name((label.encode(), *parent.labels)).to_text() for label in labels]
    wire = srv_set_wire(asked, targets, qid)
    read_as_dnspython(wire, qid, dnswire._prepare(Question(name=asked, type="SRV")))


def test_a_headless_services_srv_set_is_read_by_the_shapes_of_its_names():
    asked = "_http._tcp.web.bench.svc.cluster.local."
    targets = [f"web-{n}.web.bench.svc.cluster.local." for n in range(40)]
    question = dnswire._prepare(Question(name=asked, type="SRV"))
    wire = srv_set_wire(asked, targets, 7)
    qend = 12 + len(question.section) - 4
    start = wire.index(b"\x05web-0")
    assert dnsname._label_then_question(wire, start, start + 6 + 29, asked, qend) == (
        "web-0.web.bench.svc.cluster.local."
    )
    owner = wire.index(b"\x05web-0\xc0")  # an address record's owner: label, then a pointer
    assert dnsname._under_question(wire, owner, len(wire), asked) == (
        "web-0.web.bench.svc.cluster.local.",
        owner + 8,
    )
    read = dnswire._read_answer(wire, 7, question)
    assert read == by_dnspython(wire)
    assert isinstance(read, dnswire._Response)
    assert sorted(r.data for r in read.answer) == sorted(f"0 50 80 {t}" for t in targets)


def test_every_byte_of_an_srv_set_changed_reads_as_dnspython_reads_it():
    asked = "web.bench.svc.cluster.local."
    question = dnswire._prepare(Question(name=asked, type="SRV"))
    wire = srv_set_wire(asked, ["web-0." + asked, "Web-1." + asked], 3)
    after = 12 + len(question.section)
    for at in range(after, len(wire)):
        for value in (0, 1, 44, 45, 64, 0xC0, wire[at] ^ 0x20):
            mangled = wire[:at] + bytes([value]) + wire[at + 1 :]
            read_as_dnspython(mangled, 3, question)


def test_names_of_other_shapes_are_left_to_the_general_reader():
    qname = "web.bench.svc.cluster.local."
    qwire = b"\x03web\x05bench\x03svc\x07cluster\x05local\x00"
    wire = bytes(12) + qwire + b"\0\x21\0\x01"
    # Not a label then the question: the root, a pointer, a tail off a label's start.
    for name in (b"\x00", b"\xc0\x0c", b"\x01a" + qwire[1:], b"\x01a\x00"):
        at = len(wire)
        assert dnsname._label_then_question(wire + name, at, at + len(name), qname, 12 + 29) == ""
    # A root question, a pointer into the middle of a label, labels then no pointer.
    for name, asked in (
        (b"\x01a\xc0\x0c", "."),
        (b"\x01a\xc0\x0e", qname),
        (b"\x01a\x01b\x00", qname),
        (b"\xc0\x0c", qname),
    ):
        assert dnsname._under_question(wire + name, len(wire), len(wire) + len(name), asked) is None


def test_names_over_255_bytes_are_refused_as_dnspython_refuses_them():
    asked = ".".join("abcdefghij"[n % 10] * 60 for n in range(4)) + "."  # 245 bytes on the wire
    question = dnswire._prepare(Question(name=asked, type="SRV"))
    wire = srv_set_wire(asked, ["ab." + asked], 5)
    read_as_dnspython(wire, 5, question)
    owner = wire.rindex(b"\x02ab\xc0\x0c")  # the address record's owner, 248 bytes
    for size in (8, 9, 10):  # 254, 255 and 256 bytes
        longer = wire[:owner] + bytes([size]) + b"x" * size + wire[owner + 3 :]
        read_as_dnspython(longer, 5, question)
    target = wire.index(b"\x02ab" + question.section[:2])  # the SRV target, written whole
    for size in (8, 9, 10):
        grown = size - 2
        rdlen = int.from_bytes(wire[target - 8 : target - 6], "big") + grown
        longer = (
            wire[: target - 8]
            + rdlen.to_bytes(2, "big")
            + wire[target - 6 : target]
            + bytes([size])
            + b"y" * size
            + wire[target + 3 :]
        )
        read_as_dnspython(longer, 5, question)
