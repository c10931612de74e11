"""version.bind CH TXT, built and read without dnspython's parser, agrees with dnspython."""

from __future__ import annotations

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from hypothesis import given
from hypothesis import strategies as st

from hsvc.adapters.dnschaos import version_query, version_text

TEXT = st.binary(max_size=300).map(lambda b: b[:255])


def dnspythons_answer(wire: bytes) -> str:
    """What chaos_version read with dnspython's parser (the first CH TXT, strings joined)."""
    reply = dns.message.from_wire(wire)
    for rrset in reply.answer:
        if rrset.rdtype == dns.rdatatype.TXT and rrset.rdclass == dns.rdataclass.CH:
            for rdata in rrset:
                return b"".join(rdata.strings).decode("utf-8", "replace")[:100]
    return ""


def test_the_query_is_dnspythons() -> None:
    made = dns.message.make_query("version.bind.", dns.rdatatype.TXT, dns.rdataclass.CH)
    made.id = 4242
    assert version_query(4242) == made.to_wire()


@given(
    qid=st.integers(0, 0xFFFF),
    strings=st.lists(st.lists(TEXT, min_size=1, max_size=3), max_size=3),
    before=st.booleans(),
    rcode=st.sampled_from([0, 3, 5]),
)
def test_version_bind_answer_reads_as_dnspython_reads_it(
    qid: int, strings: list[list[bytes]], before: bool, rcode: int
) -> None:
    query = dns.message.from_wire(version_query(qid))
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    if before:  # another record first: an IN A of the same name
        response.answer.append(dns.rrset.from_text("version.bind.", 0, "IN", "A", "10.0.0.1"))
    for texts in strings:
        quoted = " ".join('"' + "".join(f"\\{c:03d}" for c in t) + '"' for t in texts)
        response.answer.append(dns.rrset.from_text("version.bind.", 0, "CH", "TXT", quoted))
    wire = response.to_wire()
    assert version_text(wire, qid) == dnspythons_answer(wire)
    assert version_text(wire, (qid + 1) & 0xFFFF) == ""  # another query's answer


@given(st.binary(max_size=200), st.integers(0, 0xFFFF))
def test_garbage_reads_as_no_version(wire: bytes, qid: int) -> None:
    assert isinstance(version_text(wire, qid), str)
    assert version_text(wire[:11], qid) == ""  # shorter than a header
