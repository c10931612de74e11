"""``version.bind`` CH TXT: the question CoreDNS's chaos plugin answers, and reading its answer.

Built and read without dnspython's message classes (a small inspect's start
would pay for importing them), checked against dnspython in tests.
"""

from __future__ import annotations

import struct

import dns.rdataclass  # noqa: TID251
import dns.rdatatype  # noqa: TID251

from hsvc.adapters.dnswire import _answers, _query_wire

VERSION_QUESTION = b"\x07version\x04bind\x00" + struct.pack(
    "!HH", dns.rdatatype.TXT, dns.rdataclass.CH
)


def version_query(qid: int) -> bytes:
    """``version.bind`` CH TXT as ``dns.message.make_query`` builds it (RD, no EDNS)."""
    return _query_wire(qid, VERSION_QUESTION, edns=False)


def _skip_name(wire: bytes, offset: int) -> int:
    """The offset after the name at ``offset`` (labels, then a zero byte or a pointer).

    Raises:
        ValueError: A label type DNS does not have.
    """
    while True:
        size = wire[offset]
        if size >= 0xC0:
            return offset + 2
        if size > 63:
            raise ValueError("extended label type")
        offset += size + 1
        if size == 0:
            return offset


def version_text(wire: bytes, qid: int) -> str:
    """The first CH TXT answer to :func:`version_query`: its strings joined, at most 100 characters.

    "" for anything else: another ID or question, no such record, a malformed message.
    """
    if not _answers(wire, qid, VERSION_QUESTION):
        return ""
    try:
        qdcount, ancount = struct.unpack_from("!HH", wire, 4)
        offset = 12
        for _ in range(qdcount):
            offset = _skip_name(wire, offset) + 4
        for _ in range(ancount):
            offset = _skip_name(wire, offset)
            rdtype, rdclass, _ttl, rdlen = struct.unpack_from("!HHIH", wire, offset)
            start, end = offset + 10, offset + 10 + rdlen
            if end > len(wire):
                return ""
            if rdtype == dns.rdatatype.TXT and rdclass == dns.rdataclass.CH:
                strings, at = [], start
                while at < end:
                    strings.append(wire[at + 1 : at + 1 + wire[at]])
                    at += 1 + wire[at]
                if at != end or not strings:
                    return ""
                return b"".join(strings).decode("utf-8", "replace")[:100]
            offset = end
    except (IndexError, ValueError, struct.error):
        return ""
    return ""
