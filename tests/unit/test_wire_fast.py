"""The resolver's fast paths against the slow ones they stand for: no sockets.

Reading the answer to a known question in one pass (:func:`dnswire._read_answer`)
is checking it answers (:func:`dnswire._answers`) and then reading it
(:func:`dnswire._read_wire`, itself property-tested against dnspython in
test_resolver_units.py); observations built slot by slot are the dataclass's own.
"""

from __future__ import annotations

import dataclasses
import time

import dns.exception
import dns.message
import dns.rcode
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.adapters import dnswire
from hsvc.core.model import Observation, Question, Rcode, Record, Transport
from tests.unit.test_resolver_units import ODD_LABEL, SOA_RR, by_dnspython, names_, records_


def response_wire(
    asked: str,
    qtype: str,
    qid: int,
    rrsets: list[dns.rrset.RRset],
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
) -> bytes:
    query = dns.message.make_query(asked, qtype, use_edns=0, payload=1232)
    query.id = qid
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    response.answer.extend(rrsets)
    response.authority.append(SOA_RR)
    return response.to_wire()


def slow_read(wire: bytes, qid: int, question: dnswire._Prepared):
    """What the resolver did before the one-pass read: check, then read."""
    if not dnswire._answers(wire, qid, question.section):
        return None
    return dnswire._read_wire(wire)


@settings(deadline=None)
@given(
    st.lists(records_(), max_size=6),
    st.sampled_from(["A", "SRV", "PTR", "TXT"]),
    st.sampled_from(["q.example.", "Q.Example.", "q.example"]),
    st.sampled_from(["q.example.", "Q.EXAMPLE."]),
    st.integers(0, 65535),
    st.sampled_from([dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL, dns.rcode.FORMERR]),
)
def test_reading_a_known_questions_answer_is_checking_then_reading(
    rrsets, qtype, name, echoed, qid, rcode
):
    question = dnswire._prepare(Question(name=name, type=qtype))
    wire = response_wire(echoed, qtype, qid, rrsets, rcode)
    read = dnswire._read_answer(wire, qid, question)
    assert read == slow_read(wire, qid, question)
    assert read is not None
    if dnswire._decode(wire) is not None:
        assert read == by_dnspython(wire)
    # Another ID, or another question, is no answer to this query.
    assert dnswire._read_answer(wire, qid ^ 1, question) is None
    other = dnswire._prepare(Question(name="r.example.", type=qtype))
    assert dnswire._read_answer(wire, qid, other) is None


@settings(deadline=None)
@given(st.lists(records_(ODD_LABEL), max_size=4), names_(ODD_LABEL), st.integers(0, 65535))
def test_reading_the_answer_to_a_question_of_unusual_labels(rrsets, name, qid):
    question = dnswire._prepare(Question(name=name, type="A"))
    wire = response_wire(question.name, "A", qid, rrsets)
    assert dnswire._read_answer(wire, qid, question) == slow_read(wire, qid, question)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda w: w[:2] + (int.from_bytes(w[2:4], "big") & 0x7FFF).to_bytes(2, "big") + w[4:],
        lambda w: w[:2] + (int.from_bytes(w[2:4], "big") | 0x2000).to_bytes(2, "big") + w[4:],
        lambda w: w[:4] + b"\x00\x00" + w[6:],
        lambda w: w[:4] + b"\x00\x02" + w[6:],
        lambda w: w[:2] + (int.from_bytes(w[2:4], "big") | 0x0200).to_bytes(2, "big") + w[4:],
        lambda w: w + b"\x00",
    ],
    ids=["not-a-response", "opcode-status", "no-question", "two-questions", "tc", "trailing"],
)
def test_odd_headers_are_read_as_the_slow_path_reads_them(mangle):
    question = dnswire._prepare(Question(name="q.example.", type="A"))
    a = dns.rrset.from_text("q.example.", 30, "IN", "A", "10.0.0.1")
    wire = mangle(response_wire("q.example.", "A", 7, [a]))
    assert dnswire._read_answer(wire, 7, question) == slow_read(wire, 7, question)


def test_observations_built_slot_by_slot_are_the_dataclasses_own():
    question = dnswire._prepare(Question(name="web.ms.svc.cluster.local", type="A"))
    a = dns.rrset.from_text(question.name, 30, "IN", "A", "10.0.0.1")
    response = dnswire._read_wire(response_wire(question.name, "A", 1, [a]))
    transport = Transport(edns_size=response.size)
    built = dnswire._observation(
        question, "127.0.0.1:53", response, time.monotonic(), too_large=True, error="why",
        transport=transport,
    )  # fmt: skip
    expected = Observation(
        server="127.0.0.1:53",
        name="web.ms.svc.cluster.local.",
        type="A",
        rcode=Rcode.NOERROR,
        answer=(Record(name=question.name, type="A", ttl=30, data="10.0.0.1"),),
        too_large=True,
        size=response.size,
        elapsed_ms=built.elapsed_ms,
        error="why",
        transport=transport,
    )
    # Every field is set (an unset slot would raise here), each to the constructor's value.
    for field in dataclasses.fields(Observation):
        assert getattr(built, field.name) == getattr(expected, field.name), field.name
    assert built == expected and hash(built) == hash(expected)
    assert 0 <= built.elapsed_ms < 1000
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.size = 0  # type: ignore[misc]


def test_an_observation_of_a_failure_and_of_an_unusual_rcode():
    question = dnswire._prepare(Question(name="q.example.", type="A"))
    started = time.monotonic()
    failed = dnswire._observation(question, "s", dnswire._timed_out(2.0, 2), started)
    assert (failed.rcode, failed.error, failed.size) == (
        Rcode.TIMEOUT,
        "no response within 2s (2 attempts)",
        0,
    )
    wire = response_wire("q.example.", "A", 1, [], dns.rcode.BADVERS)
    odd = dnswire._observation(question, "s", dnswire._read_wire(wire), started)
    assert (odd.rcode, odd.error) == (Rcode.ERROR, "server answered BADVERS")


def test_query_ids_are_16_bit_and_spread():
    ids = dnswire._query_ids()
    drawn = [next(ids) for _ in range(5000)]  # several refills of 1,024
    assert all(0 <= i < 65536 for i in drawn)
    assert len(set(drawn)) > 4500


@pytest.mark.parametrize(
    ("name", "type_"),
    [("web.ms.svc.cluster.local", "a"), ("A\\.b.example.", "SRV"), ("x.example.", "TYPE65280")],
)
def test_prepared_questions_built_slot_by_slot_are_the_dataclasses_own(name, type_):
    prepared = dnswire._prepare(Question(name=name, type=type_))
    fields = {f.name: getattr(prepared, f.name) for f in dataclasses.fields(dnswire._Prepared)}
    assert prepared == dnswire._Prepared(**fields)
    assert prepared.section.endswith(
        prepared.rdtype.to_bytes(2, "big") + b"\x00\x01"
    ) and prepared.plain == (name != "A\\.b.example.")


def one_address_wire(asked: str, qid: int, address: str, ttl: int) -> bytes:
    """The usual answer to an A question: one A record owned by a pointer, one OPT."""
    return one_record_wire(asked, "A", qid, address, ttl)


def one_record_wire(asked: str, qtype: str, qid: int, data: str, ttl: int) -> bytes:
    """The usual answer: one record owned by a pointer to the question's name, one OPT."""
    query = dns.message.make_query(asked, qtype, use_edns=0, payload=1232)
    query.id = qid
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(asked, ttl, "IN", qtype, data))
    return response.to_wire()


@settings(deadline=None)
@given(
    st.sampled_from(["web-0.web.ms.svc.cluster.local.", "Q.Example."]),
    st.integers(0, 65535),
    st.ip_addresses(v=4).map(str),
    st.integers(0, 2**31 - 1),
    st.sampled_from(
        [
            lambda w: w,
            lambda w: w[:-6] + b"\x01" + w[-5:],  # an extended rcode in the OPT
            lambda w: w[:-5] + b"\x01" + w[-4:],  # EDNS version 1
            lambda w: w[:-2] + b"\x00\x04\x00\x0a\x00\x00",  # an option in the OPT
            lambda w: w[:-27] + b"\xc0\x0c\x00\x01\x00\x03" + w[-21:],  # class CH
            lambda w: w[:-27] + b"\xc0\x0c\x00\x1c\x00\x01" + w[-21:],  # type AAAA
            lambda w: w[:-17] + b"\x00\x05" + w[-15:-11] + b"\x00" + w[-11:],  # 5 bytes
            lambda w: w[:3] + bytes([w[3] | 3]) + w[4:],  # NXDOMAIN with the address
            lambda w: w[:-11],  # no OPT record (ARCOUNT still 1)
        ]
    ),
)
def test_one_address_is_read_as_the_general_reader_reads_it(asked, qid, address, ttl, mangle):
    question = dnswire._prepare(Question(name=asked, type="A"))
    wire = mangle(one_address_wire(question.name, qid, address, ttl))
    read = dnswire._read_answer(wire, qid, question)
    assert read == slow_read(wire, qid, question)
    if mangle(b"x" * 40) == b"x" * 40:  # unchanged: the usual shape, read by the fast path
        assert read == by_dnspython(wire)
        assert read.answer == (Record(name=question.name, type="A", ttl=ttl, data=address),)


@settings(deadline=None)
@given(
    st.sampled_from(
        [
            ("PTR", "web-0.web.ms.svc.cluster.local."),
            ("PTR", "Web-0.Example."),
            ("CNAME", "target.example."),
            ("SRV", "0 100 8080 web-0.web.ms.svc.cluster.local."),
            ("TXT", '"1.1.0"'),
            ("AAAA", "fd00::1"),
            ("NS", "ns.example."),
            ("MX", "10 mail.example."),
        ]
    ),
    st.sampled_from(["1.0.64.10.in-addr.arpa.", "q.example.", "Q.Example."]),
    st.integers(0, 65535),
    st.integers(0, 2**31 - 1),
    st.sampled_from(
        [
            lambda w: w,
            lambda w: w[:-6] + b"\x01" + w[-5:],  # an extended rcode in the OPT
            lambda w: w[:-2] + b"\x00\x04\x00\x0a\x00\x00",  # an option in the OPT
            lambda w: w[:-11],  # no OPT record (ARCOUNT still 1)
            lambda w: w[:-12] + w[-11:],  # the record's data a byte short
        ]
    ),
)
def test_one_record_is_read_as_the_general_reader_reads_it(record, asked, qid, ttl, mangle):
    qtype, data = record
    question = dnswire._prepare(Question(name=asked, type=qtype))
    wire = mangle(one_record_wire(question.name, qtype, qid, data, ttl))
    read = dnswire._read_answer(wire, qid, question)
    assert read == slow_read(wire, qid, question)
    if mangle(b"x" * 40) == b"x" * 40:
        assert read == by_dnspython(wire)


@pytest.mark.parametrize(
    ("asked", "owner"),
    [
        ("web-0.web.ms.svc.cluster.local.", "cluster.local."),
        ("Web-0.Web.MS.svc.cluster.local.", "ms.svc.cluster.local."),
        ("q.example.", "example."),
    ],
)
def test_owners_pointing_into_the_question_read_as_dnspython_reads_them(asked, owner):
    # An NXDOMAIN's SOA is owned by the zone, written as a pointer into the question's
    # name; pointed anywhere before it (a label's start, the middle of a label, the
    # root, the header) it reads as the general reader reads it.
    question = dnswire._prepare(Question(name=asked, type="A"))
    soa = dns.rrset.from_text(owner, 30, "IN", "SOA", "ns.dns. hostmaster. 1 2 3 4 5")
    address = dns.rrset.from_text(owner, 30, "IN", "A", "10.0.0.1")
    for answer, rcode in (([], dns.rcode.NXDOMAIN), ([address], dns.rcode.NOERROR)):
        query = dns.message.make_query(question.name, "A", use_edns=0, payload=1232)
        query.id = 9
        response = dns.message.make_response(query)
        response.set_rcode(rcode)
        response.answer.extend(answer)
        response.authority.append(soa)
        wire = response.to_wire()
        after = 12 + len(question.section)
        assert wire[after] >= 0xC0  # compressed: a pointer into the question
        assert dnswire._read_answer(wire, 9, question) == by_dnspython(wire)
        for target in range(after):
            mangled = wire[:after] + bytes([0xC0, target]) + wire[after + 2 :]
            read = dnswire._read_answer(mangled, 9, question)
            assert read == slow_read(mangled, 9, question), target
            try:
                assert read == by_dnspython(mangled), target
            except dns.exception.DNSException as exc:
                assert read == dnswire._Failure(Rcode.ERROR, dnswire._describe(exc)), target


def test_the_codes_written_out_are_dnspythons() -> None:
    """The values the fast paths use without importing dnspython are dnspython's own."""
    import dns.flags
    import dns.opcode
    import dns.rdataclass
    import dns.rdatatype

    from hsvc.adapters import dnsquery

    assert dnsquery.RDATATYPES == {t: dns.rdatatype.from_text(t) for t in dnsquery.RDATATYPES}
    assert (dnsquery._RD, dnswire._TC, dnswire._QR, dnswire._QUERY) == (
        dns.flags.RD,
        dns.flags.TC,
        dns.flags.QR,
        dns.opcode.QUERY,
    )
    assert dnsquery._IN == dnswire._IN == dns.rdataclass.IN
    rcodes = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED")
    assert [getattr(dnswire, f"_{name}") for name in rcodes] == [
        dns.rcode.from_text(name) for name in rcodes
    ]


def test_a_rare_rcode_is_named_as_dnspython_names_it() -> None:
    # Read without dnspython's enums (a plain int), worded by dnspython as before.
    assert dnswire._status(dnswire._NOTIMP) == (Rcode.NOTIMP, "")
    assert dnswire._status(9) == (Rcode.ERROR, "server answered NOTAUTH")
    assert dnswire._status(dns.rcode.Rcode(9)) == dnswire._status(9)
    answer = dnswire._Response(rcode=dnswire._SERVFAIL, truncated=False, answer=(), size=12)
    assert dnswire._tcp_failure(answer) == "server answered SERVFAIL"


def dnspython_read(wire: bytes) -> dnswire._Response | dnswire._Failure:
    """What dnspython alone makes of a response (``_read_wire`` without the fast decoder)."""
    try:
        message = dns.message.from_wire(wire, one_rr_per_rrset=True, raise_on_truncation=True)
    except dns.message.Truncated as exc:
        return dnswire._response(exc.message())
    except dns.exception.DNSException as exc:
        return dnswire._Failure(Rcode.ERROR, dnswire._describe(exc))
    return dnswire._response(message)


def read_by_dnspython(wire: bytes, qid: int, question: dnswire._Prepared):
    """The answer to ``question`` as dnspython reads it, None if it is no answer to it."""
    if not dnswire._answers(wire, qid, question.section):
        return None
    return dnspython_read(wire)


@pytest.mark.parametrize("ttl", [2**31 - 1, 2**31, 2**32 - 1])
@pytest.mark.parametrize(
    ("qtype", "data"),
    [("A", ["10.0.0.1"]), ("PTR", ["web-0.example."]), ("A", ["10.0.0.1", "10.0.0.2"])],
    ids=["one-address", "one-record", "two-addresses"],
)
def test_a_ttl_with_its_top_bit_set_reads_as_zero_as_dnspython_reads_it(ttl, qtype, data):
    # RFC 2181 section 8: dnspython reads such a TTL as 0; the one-unpack A answer, the
    # one-record answer and the loop read it so too (not as a TTL over the configured one).
    question = dnswire._prepare(Question(name="web-0.web.ms.svc.cluster.local.", type=qtype))
    query = dns.message.make_query(question.name, qtype, use_edns=0, payload=1232)
    query.id = 3
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(question.name, ttl, "IN", qtype, *data))
    wire = response.to_wire()
    read = dnswire._read_answer(wire, 3, question)
    assert read == read_by_dnspython(wire, 3, question) == dnswire._read_wire(wire)
    assert {r.ttl for r in read.answer} == {ttl if ttl < 2**31 else 0}


def _nxdomain_wire(question: dnswire._Prepared, soa_data: str, *, glue: bool = False) -> bytes:
    query = dns.message.make_query(question.name, "A", use_edns=0, payload=1232)
    query.id = 4
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.NXDOMAIN)
    response.authority.append(dns.rrset.from_text("cluster.local.", 30, "IN", "SOA", soa_data))
    if glue:
        response.additional.append(
            dns.rrset.from_text("ns.cluster.local.", 30, "IN", "A", "10.0.0.1")
        )
    return response.to_wire()


SOA_DATA = "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda w: w,
        lambda w: w.replace(b"\x0ahostmaster", b"\x0bhostmaster"),  # a label past its name
        lambda w: w.replace(b"\x0ahostmaster", b"\x4ahostmaster"),  # an extended label type
        lambda w: w.replace(b"\x02ns\x03dns\xc0", b"\x02ns\x03dns\xff"),  # a pointer forward
        lambda w: w.replace(b"\x00\x00\x1c\x20", b"\x00\x1c\x20"),  # the SOA a byte short
        lambda w: w.replace(b"\x00\x04\x0a\x00\x00\x01", b"\x00\x05\x0a\x00\x00\x01\x01"),  # glue
        lambda w: w[:-2] + b"\x00\x04\x00\x0a\x00\x00",  # an option in the OPT record
        lambda w: w[:-2] + b"\x00\x04\x00\x0a\x00",  # an option cut short
    ],
    ids=["usual", "long-label", "label-type", "forward", "short", "glue", "option", "cut"],
)
def test_authority_and_additional_data_are_read_as_dnspython_reads_them(mangle):
    # Not reported, but dnspython refuses a message whose SOA or glue data is malformed:
    # the fast decoder leaves such a message to it instead of reading an empty NXDOMAIN.
    question = dnswire._prepare(Question(name="web-7.web.bench.svc.cluster.local.", type="A"))
    for glue in (False, True):
        wire = mangle(_nxdomain_wire(question, SOA_DATA, glue=glue))
        read = dnswire._read_answer(wire, 4, question)
        assert read == read_by_dnspython(wire, 4, question), wire
        assert dnswire._read_wire(wire) == dnspython_read(wire)
    usual = _nxdomain_wire(question, SOA_DATA)
    assert dnswire._decode(usual) is not None  # the usual NXDOMAIN is still read without it


@st.composite
def mangled_responses(draw):
    """A response to a question of cluster names, then bytes overwritten, cut or added."""
    asked = draw(
        st.sampled_from(
            ["web-0.web.ms.svc.cluster.local.", "Web-0.Web.MS.svc.cluster.local.", "q.example."]
        )
    )
    qtype = draw(st.sampled_from(["A", "AAAA", "SRV", "PTR"]))
    question = dnswire._prepare(Question(name=asked, type=qtype))
    echoed = draw(st.sampled_from([question.name, asked]))  # the server's spelling, or ours
    query = dns.message.make_query(echoed, qtype, use_edns=0, payload=1232)
    query.id = qid = draw(st.integers(0, 65535))
    response = dns.message.make_response(query)
    response.set_rcode(draw(st.sampled_from([dns.rcode.NOERROR, dns.rcode.NXDOMAIN])))
    labels = question.name.split(".")
    for _ in range(draw(st.integers(0, 3))):
        owner = ".".join(labels[draw(st.integers(0, len(labels) - 1)) :]) or "."
        rtype, data = draw(
            st.sampled_from(
                [
                    ("A", "10.0.0.1"),
                    ("AAAA", "fd00::1"),
                    ("PTR", question.name),
                    ("TXT", '"x"'),
                    ("SRV", f"0 1 2 {question.name}"),
                    ("CNAME", ".".join(labels[1:]) or "."),
                ]
            )
        )
        ttl = draw(st.sampled_from([0, 30, 2**31 - 1, 2**31, 2**32 - 1]))
        response.answer.append(dns.rrset.from_text(owner, ttl, "IN", rtype, data))
    if draw(st.booleans()):
        zone = ".".join(labels[draw(st.integers(0, len(labels) - 1)) :]) or "."
        response.authority.append(dns.rrset.from_text(zone, 30, "IN", "SOA", SOA_DATA))
    wire = bytearray(response.to_wire())
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(12, len(wire) - 1))
        edit = draw(st.integers(0, 3))
        if edit == 0:
            wire[at] = draw(st.integers(0, 255))
        elif edit == 1:
            del wire[at:]
        elif edit == 2:
            wire[at : at + 2] = bytes([0xC0 | draw(st.integers(0, 1)), draw(st.integers(0, 255))])
        else:
            del wire[at]
        if len(wire) < 13:
            break
    return bytes(wire), qid, question


@settings(max_examples=400, deadline=None)
@given(mangled_responses())
def test_mangled_responses_are_read_as_dnspython_reads_them(case):
    # Every fast path (the one-unpack A answer, the one-record answer, owners and SOA
    # names pointing into the question, the loop) gives what dnspython gives, or leaves
    # the message to it: bytes overwritten, pointers anywhere, records cut short.
    wire, qid, question = case
    assert dnswire._read_answer(wire, qid, question) == read_by_dnspython(wire, qid, question)


@pytest.mark.parametrize(
    "first",
    [
        b"\x3f" + b"a" * 63 + b"\xc0\x0c",  # a label, then the question's name: in bounds
        b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\xc0\x0c",  # over 255 bytes
        b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x00",  # over 255, written whole
        b"\x02ns\x00",  # written whole
        b"\x02ns\xc0\x0d",  # a pointer into a label of the question
    ],
    ids=["pointer", "long-pointer", "long-whole", "whole", "mid-label"],
)
def test_an_soa_name_is_checked_as_dnspython_checks_it(first):
    # The SOA's names are checked without their text: labels, then the end of the name
    # or a pointer to a label of the question; a name over 255 bytes is dnspython's error.
    question = dnswire._prepare(Question(name="web-7.web.bench.svc.cluster.local.", type="A"))
    after = 12 + len(question.section)
    head = _nxdomain_wire(question, SOA_DATA)[:after]
    data = first + b"\x00" + bytes(20)  # the mailbox is the root, then the five numbers
    soa = b"\xc0\x0c\x00\x06\x00\x01\x00\x00\x00\x1e" + len(data).to_bytes(2, "big") + data
    wire = head[:8] + b"\x00\x01\x00\x00" + head[12:] + soa  # one authority record, no OPT
    wire = wire[:6] + b"\x00\x00" + wire[8:]
    assert dnswire._read_answer(wire, 4, question) == read_by_dnspython(wire, 4, question)


def by_dnspython_truncating(wire: bytes) -> dnswire._Response | dnswire._Failure:
    """What the resolver read of any response before the fast path took truncated ones."""
    try:
        message = dns.message.from_wire(wire, one_rr_per_rrset=True, raise_on_truncation=True)
    except dns.message.Truncated as exc:
        return dnswire._response(exc.message())  # type: ignore[no-untyped-call]
    except dns.exception.DNSException as exc:
        return dnswire._Failure(Rcode.ERROR, dnswire._describe(exc))
    return dnswire._response(message)


def _with_tc(wire: bytes) -> bytes:
    return wire[:2] + (int.from_bytes(wire[2:4], "big") | dnswire._TC).to_bytes(2, "big") + wire[4:]


@settings(deadline=None)
@given(
    st.lists(records_(), max_size=6),
    st.sampled_from(["A", "SRV", "PTR"]),
    st.sampled_from([dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL]),
    st.integers(0, 400),
)
def test_a_truncated_response_is_read_as_dnspython_reads_it(rrsets, qtype, rcode, cut):
    """TC set: whole (its records all there, read fast) or cut anywhere (left to dnspython)."""
    whole = _with_tc(response_wire("q.example.", qtype, 9, rrsets, rcode))
    read = dnswire._read_wire(whole)
    assert read == by_dnspython_truncating(whole)
    assert isinstance(read, dnswire._Response) and read.truncated
    if dnswire._decode(whole[:2] + bytes((whole[2] & 0xFD,)) + whole[3:]) is not None:
        assert read.size == len(whole)
    cut_short = whole[: max(12, len(whole) - cut)]
    assert dnswire._read_wire(cut_short) == by_dnspython_truncating(cut_short)


@settings(deadline=None)
@given(st.lists(records_(ODD_LABEL), max_size=4), st.integers(0, 65535))
def test_a_truncated_response_of_unusual_names_is_read_as_dnspython_reads_it(rrsets, qid):
    wire = _with_tc(response_wire("q.example.", "A", qid, rrsets))
    assert dnswire._read_wire(wire) == by_dnspython_truncating(wire)
    question = dnswire._prepare(Question(name="q.example.", type="A"))
    assert dnswire._read_answer(wire, qid, question) == slow_read(wire, qid, question)


def test_a_truncated_answer_as_knotd_sends_it_is_read_fast():
    """Header, question and OPT, TC set, no records: read without dnspython's parser."""
    wire = _with_tc(response_wire("big.example.", "A", 5, []))
    cleared = wire[:2] + bytes((wire[2] & 0xFD,)) + wire[3:]
    assert dnswire._decode(wire) is None and dnswire._decode(cleared) is not None
    read = dnswire._read_wire(wire)
    assert read == by_dnspython_truncating(wire)
    assert read == dnswire._Response(rcode=0, truncated=True, answer=(), size=len(wire))
