"""DNS messages as bytes: questions checked and encoded, responses decoded into model types.

No I/O: the resolver (:mod:`hsvc.adapters.resolver`) moves the bytes. Queries are
built by hand as dnspython's ``make_query(use_edns=0, payload=1232)`` builds them,
and common responses are read by a fast decoder that falls back to dnspython for
anything it does not handle (both are property-tested against dnspython).
"""

from __future__ import annotations

import re
import struct
import sys
import time
from types import MappingProxyType
from typing import TYPE_CHECKING

import dns.exception  # noqa: TID251
import dns.flags  # noqa: TID251
import dns.ipv4  # noqa: TID251
import dns.ipv6  # noqa: TID251
import dns.name  # noqa: TID251
import dns.opcode  # noqa: TID251
import dns.rcode  # noqa: TID251
import dns.rdataclass  # noqa: TID251
import dns.rdatatype  # noqa: TID251

from hsvc.core.dataclass import dataclass
from hsvc.core.model import Observation, Question, Rcode, Record, Transport
from hsvc.errors import InvalidNameError, UsageError

if TYPE_CHECKING:
    # dnspython's message parser (with its rdata, TSIG and EDNS modules) is a fifth of
    # a small inspect's start: it is imported only for answers the fast decoder leaves
    # to it (docs/reference/benchmarks.md).
    import dns.message  # noqa: TID251

# DNS Flag Day 2020: the largest UDP payload that avoids IP fragmentation.
EDNS_PAYLOAD = 1232

# Read-only tables (MappingProxyType): the adapters hold no module-level mutable state.
_RCODES = MappingProxyType(
    {
        dns.rcode.NOERROR: Rcode.NOERROR,
        dns.rcode.NXDOMAIN: Rcode.NXDOMAIN,
        dns.rcode.SERVFAIL: Rcode.SERVFAIL,
        dns.rcode.REFUSED: Rcode.REFUSED,
        dns.rcode.NOTIMP: Rcode.NOTIMP,
        dns.rcode.FORMERR: Rcode.FORMERR,
    }
)
# The rcodes the fast reader decodes; the rare ones (FORMERR, NOTIMP) go to dnspython.
_FAST_RCODES = frozenset(
    {dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL, dns.rcode.REFUSED}
)
# The same by header value, and the header flags as plain ints: an IntFlag's "&"
# builds an enum member each time, a cost per message at thousands of messages.
_FAST_RCODE_OF = MappingProxyType({int(rcode): rcode for rcode in _FAST_RCODES})
_TC = int(dns.flags.TC)
_QR = int(dns.flags.QR)
_RD = int(dns.flags.RD)
_QUERY = int(dns.opcode.QUERY)

# Types whose presentation form holds only names and numbers, so lower-casing it is
# safe. TXT and the rest carry case-sensitive text and stay as the server sent them.
_CASELESS_TYPES = frozenset(
    {
        dns.rdatatype.A,
        dns.rdatatype.AAAA,
        dns.rdatatype.CNAME,
        dns.rdatatype.DNAME,
        dns.rdatatype.MX,
        dns.rdatatype.NS,
        dns.rdatatype.PTR,
        dns.rdatatype.SOA,
        dns.rdatatype.SRV,
    }
)

_MISMATCH = "response does not match the query (wrong ID or question)"


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A validated question: what to send and how to report it."""

    name: str  # absolute, lower-case, trailing dot
    type: str  # canonical mnemonic, e.g. "SRV"
    rdtype: dns.rdatatype.RdataType
    section: bytes  # the question section on the wire: name, type, class IN

    @property
    def qname(self) -> dns.name.Name:
        return dns.name.from_text(self.name)


@dataclass(frozen=True, slots=True)
class _Failure:
    """An exchange that produced no usable response."""

    rcode: Rcode  # TIMEOUT or ERROR
    error: str


# Names of letters, digits, "-" and "_" only (what clusters hold): encoded here, as
# dnspython's from_text would (property-tested); anything else goes through dnspython.
_PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{1,63}\.?")
# The types hsvc asks most, as dns.rdatatype reads and writes them.
_COMMON_TYPES = MappingProxyType(
    {
        t: (dns.rdatatype.from_text(t), t)
        for t in ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "NS", "SOA", "MX")
    }
)


def _prepare(question: Question) -> _Prepared:
    """Validate a question before anything is sent.

    Raises:
        InvalidNameError: The name cannot be a DNS name.
        UsageError: The type is unknown or a meta type (ANY, AXFR, OPT, ...).
    """
    text = question.name
    if not text or text == "@":
        raise InvalidNameError(name=text, reason="empty name")
    # In ASCII the only printable white space is the space itself.
    if not text.isascii() or not text.isprintable() or " " in text:
        raise InvalidNameError(
            name=text, reason="only printable ASCII without spaces; write IDN names as xn--"
        )
    wire_name = _plain_name_wire(text)
    if wire_name is None:
        try:
            qname = dns.name.from_text(text).canonicalize()
        except dns.exception.DNSException as exc:
            raise InvalidNameError(name=text, reason=_sentence(exc)) from exc
        name = qname.to_text()
        wire = qname.to_wire()
        assert wire is not None  # None only when writing to a file
        wire_name = wire
    else:
        name = text.lower() if text.endswith(".") else text.lower() + "."
    common = _COMMON_TYPES.get(question.type.upper())
    if common is not None:
        rdtype, mnemonic = common
    else:
        try:
            rdtype = dns.rdatatype.from_text(question.type)
        except (dns.exception.DNSException, ValueError) as exc:
            raise UsageError(
                f"unknown record type {question.type!r}; use e.g. A, AAAA, SRV, PTR, TXT"
            ) from exc
        if rdtype == dns.rdatatype.NONE or dns.rdatatype.is_metatype(rdtype):
            raise UsageError(f"record type {question.type!r} cannot be asked as a plain query")
        mnemonic = dns.rdatatype.to_text(rdtype)
    return _Prepared(
        name=name,
        type=mnemonic,
        rdtype=rdtype,
        section=wire_name + struct.pack("!HH", rdtype, dns.rdataclass.IN),
    )


def _plain_name_wire(text: str) -> bytes | None:
    """The wire form (lower-case, absolute) of a name of plain labels, else None."""
    if not _PLAIN_NAME.fullmatch(text):
        return None
    labels = text.lower().rstrip(".").encode("ascii").split(b".")
    wire = b"".join([bytes((len(label),)) + label for label in labels]) + b"\0"
    return wire if len(wire) <= 255 else None  # longer: dnspython's NameTooLong


def _sentence(exc: BaseException) -> str:
    """Turn dnspython's "A DNS label is empty." into "a DNS label is empty"."""
    text = str(exc).rstrip(".")
    if text[1:2].isupper():  # an acronym: "DNS message is malformed"
        return text
    return text[:1].lower() + text[1:]


# --- reading responses -------------------------------------------------------------


def _records(message: dns.message.Message) -> tuple[Record, ...]:
    """Convert the answer section into Records in presentation form."""
    records: list[Record] = []
    for rrset in message.answer:
        if rrset.rdclass != dns.rdataclass.IN:
            # Class IN only: a CH or HS record is no answer to an IN question (stub
            # resolvers drop it), however equal its bytes.
            continue
        owner = rrset.name.canonicalize().to_text()
        caseless = rrset.rdtype in _CASELESS_TYPES
        for rdata in rrset:
            data = rdata.to_text()
            records.append(
                Record(
                    name=owner,
                    type=dns.rdatatype.to_text(rrset.rdtype),
                    ttl=int(rrset.ttl),
                    data=data.lower() if caseless else data,
                )
            )
    return tuple(records)


def _status(rcode: dns.rcode.Rcode) -> tuple[Rcode, str]:
    """Return a response's status and, for rcodes without one, an error text."""
    status = _RCODES.get(rcode)
    if status is None:
        return Rcode.ERROR, f"server answered {dns.rcode.to_text(rcode)}"
    return status, ""


@dataclass(frozen=True, slots=True)
class _Response:
    """What is kept of a response: its status, TC flag, answer records and size."""

    rcode: dns.rcode.Rcode
    truncated: bool
    answer: tuple[Record, ...]
    size: int  # bytes on the wire


def _response(message: dns.message.Message) -> _Response:
    """Keep what hsvc reads from a message dnspython parsed."""
    return _Response(
        rcode=message.rcode(),
        truncated=bool(message.flags & dns.flags.TC),
        answer=_records(message),
        size=len(message.wire or b""),
    )


# The fast path below reads answers of these types; anything else goes to dnspython.
_FAST_TYPES = MappingProxyType(
    {
        dns.rdatatype.A: "A",
        dns.rdatatype.AAAA: "AAAA",
        dns.rdatatype.CNAME: "CNAME",
        dns.rdatatype.NS: "NS",
        dns.rdatatype.PTR: "PTR",
        dns.rdatatype.SRV: "SRV",
        dns.rdatatype.TXT: "TXT",  # dns-version (dns-records.md rule 27): one per inspect
    }
)
# TXT bytes dnspython writes as they are: printable ASCII but the quote and the backslash
# (which it escapes with a backslash; other bytes as \DDD).
_PLAIN_TEXT = re.compile(rb"[ !#-\[\]-~]*")
# Types the fast path lets pass, unread, in the authority and additional sections.
_FAST_OTHER_TYPES = frozenset(
    {dns.rdatatype.SOA, dns.rdatatype.NS, dns.rdatatype.A, dns.rdatatype.AAAA}
)
_MAX_POINTERS = 16  # dns.name.MAX_COMPRESSION_POINTER_CHAIN
# Label bytes dnspython prints as they are (no escapes).
_PLAIN_LABEL = re.compile(rb"[A-Za-z0-9_-]+")


def _name(wire: bytes, offset: int, bound: int) -> tuple[str, int] | None:
    """Read a name at ``offset`` (ending before ``bound``): lower-case text, offset after it.

    None wherever dnspython would escape or reject (dns.name.from_wire_parser):
    unusual label bytes, extended label types, pointers that do not go strictly
    backwards or overlap the name, chains over 16 pointers, over 255 bytes.
    """
    labels: list[bytes] = []
    after = -1  # the offset after the name, once a pointer has been followed
    start = lowest = offset
    hops = length = 0
    while True:
        if offset >= bound:
            return None
        size = wire[offset]
        if size >= 0xC0:
            if offset + 1 >= bound:
                return None
            target = ((size & 0x3F) << 8) | wire[offset + 1]
            hops += 1
            if target >= lowest or hops > _MAX_POINTERS:
                return None
            if after < 0:
                after = offset + 2
            bound = start  # the target must not overlap what was read
            offset = start = lowest = target
            continue
        if size > 63:
            return None
        offset += 1
        length += size + 1
        if size == 0:
            break
        if offset + size > bound:
            return None
        label = wire[offset : offset + size]
        if not _PLAIN_LABEL.fullmatch(label):
            return None
        labels.append(label)
        offset += size
    if length > 255:
        return None
    text = b".".join(labels).decode("ascii").lower() + "."
    return text, after if after >= 0 else offset


def _decode(wire: bytes) -> _Response | None:
    """Read a plain response without dnspython's message parser, or None to leave it to it.

    dnspython spends ~0.15 ms per message building objects hsvc then turns into
    text; at thousands of queries that is most of the run. This reads what
    cluster DNS sends (A, AAAA, CNAME, NS, PTR, SRV answers; SOA, NS, address
    and OPT records in the other sections) to the same Records as
    :func:`_records`, checks the framing of every section, and returns None for
    anything else (TC set, other types, extended rcodes, escapes, trailing bytes)
    so that dnspython decides, and words any error, as before.
    """
    if len(wire) < 12:
        return None
    flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!HHHHH", wire, 2)
    fast_rcode = _FAST_RCODE_OF.get(flags & 0xF)
    if flags & _TC or qdcount != 1 or fast_rcode is None:
        return None
    question = _name(wire, 12, len(wire))
    if question is None:
        return None
    end = question[1]
    # Owners are most often a pointer to the question's name (offset 12): read once.
    # Only for a question written out whole (no pointer of its own, which could
    # reach bytes the owner's bound excludes).
    plain_question = wire[end - 1] == 0 and (end == 13 or wire[end - 2] < 0xC0)
    offset = end + 4
    answer: list[Record] = []
    opt_seen = False
    for index in range(ancount + nscount + arcount):
        if plain_question and wire[offset : offset + 2] == b"\xc0\x0c":
            owner: tuple[str, int] | None = (question[0], offset + 2)
        else:
            owner = _name(wire, offset, len(wire))
        if owner is None or owner[1] + 10 > len(wire):
            return None
        rdtype, rdclass, ttl, rdlen = struct.unpack_from("!HHIH", wire, owner[1])
        start = owner[1] + 10
        offset = start + rdlen
        if offset > len(wire):
            return None
        if index >= ancount:
            if rdtype == dns.rdatatype.OPT and index >= ancount + nscount and not opt_seen:
                # The extended rcode lives in the OPT TTL's top byte; leave it to dnspython.
                if owner[0] != "." or ttl >> 24:
                    return None
                opt_seen = True
            elif rdtype not in _FAST_OTHER_TYPES or rdclass != dns.rdataclass.IN:
                return None
            continue
        name = _FAST_TYPES.get(rdtype)
        if name is None or rdclass != dns.rdataclass.IN:
            return None
        data = _rdata(wire, rdtype, start, offset)
        if data is None:
            return None
        answer.append(Record(name=owner[0], type=name, ttl=ttl, data=data))
    if offset != len(wire):
        return None
    rcode = fast_rcode
    return _Response(rcode=rcode, truncated=False, answer=tuple(answer), size=len(wire))


def _rdata(wire: bytes, rdtype: int, start: int, end: int) -> str | None:
    """Presentation form of one fast-path rdata, as dnspython (lower-cased) writes it."""
    if rdtype == dns.rdatatype.A:
        return dns.ipv4.inet_ntoa(wire[start:end]) if end - start == 4 else None
    if rdtype == dns.rdatatype.AAAA:
        return dns.ipv6.inet_ntoa(wire[start:end]) if end - start == 16 else None
    if rdtype == dns.rdatatype.SRV:
        if end - start < 7:
            return None
        priority, weight, port = struct.unpack_from("!HHH", wire, start)
        target = _name(wire, start + 6, end)
        if target is None or target[1] != end:
            return None
        return f"{priority} {weight} {port} {target[0]}"
    if rdtype == dns.rdatatype.TXT:
        strings, at = [], start
        while at < end:
            text = wire[at + 1 : at + 1 + wire[at]]
            at += 1 + wire[at]
            if at > end:
                return None
            strings.append(f'"{_escaped_text(text)}"')
        return " ".join(strings) or None  # none: dnspython decides
    target = _name(wire, start, end)  # CNAME, NS, PTR: one name
    if target is None or target[1] != end:
        return None
    return target[0]


def _escaped_text(text: bytes) -> str:
    """One TXT string as dnspython writes it (``dns.rdata._escapify``)."""
    if _PLAIN_TEXT.fullmatch(text):
        return text.decode("ascii")
    return "".join(
        "\\" + chr(c) if c in b'"\\' else chr(c) if 0x20 <= c < 0x7F else f"\\{c:03d}" for c in text
    )


class MismatchError(Exception):
    """An answer that does not match its query (wrong ID or question)."""


def _describe(exc: BaseException) -> str:
    """Say in a few words why an exchange failed."""
    if isinstance(exc, MismatchError):
        return _MISMATCH
    message = sys.modules.get("dns.message")  # none of its errors before it is imported
    if message is not None and isinstance(exc, message.ShortHeader):
        return "malformed response: shorter than a DNS header"
    if isinstance(exc, dns.exception.DNSException):
        return f"malformed response: {_sentence(exc)}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by server"
    if isinstance(exc, EOFError):
        return "connection closed by server"
    if isinstance(exc, OSError) and exc.strerror:
        return f"network error: {exc.strerror.lower()}"
    return f"network error: {exc}"


def _tcp_failure(result: _Response | _Failure) -> str:
    """Return why a TCP retry did not deliver the whole answer, or "" if it did."""
    if isinstance(result, _Failure):
        return result.error
    if result.truncated:
        return "the TCP answer is truncated too (over 65535 bytes)"
    if result.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return f"server answered {dns.rcode.to_text(result.rcode)}"
    return ""


def _observation(
    question: _Prepared,
    server: str,
    outcome: _Response | _Failure,
    started: float,
    *,
    too_large: bool = False,
    error: str = "",
    transport: Transport | None = None,
) -> Observation:
    elapsed_ms = round((time.monotonic() - started) * 1000, 3)
    if isinstance(outcome, _Failure):
        return Observation(
            server=server,
            name=question.name,
            type=question.type,
            rcode=outcome.rcode,
            elapsed_ms=elapsed_ms,
            error=outcome.error,
        )
    rcode, rcode_error = _status(outcome.rcode)
    return Observation(
        server=server,
        name=question.name,
        type=question.type,
        rcode=rcode,
        answer=outcome.answer,
        too_large=too_large,
        size=outcome.size,
        elapsed_ms=elapsed_ms,
        error=error or rcode_error,
        transport=transport,
    )


# EDNS0 OPT record: root owner, payload size as its class, no extended flags (no DO).
_OPT_RR = b"\x00" + struct.pack("!HHIH", dns.rdatatype.OPT, EDNS_PAYLOAD, 0, 0)
# Failure rcodes a server may answer without echoing the question (as dnspython allows).
_NO_QUESTION_RCODES = frozenset(
    {dns.rcode.FORMERR, dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED}
)


def _question_wire(question: _Prepared) -> bytes:
    """The question section: name, type, class IN."""
    return question.section


def _query_wire(qid: int, section: bytes, *, edns: bool = True) -> bytes:
    """A query as ``dns.message.make_query(use_edns=0, payload=1232)`` builds it: RD, one OPT.

    With ``edns=False`` there is no OPT record, as ``make_query(use_edns=False)``
    builds it and musl (and glibc by default) asks: the answer must fit 512 bytes.
    Built by hand: make_query plus to_wire costs ~0.15 ms, more than the exchange.
    """
    if not edns:
        return struct.pack("!HHHHHH", qid, _RD, 1, 0, 0, 0) + section
    return struct.pack("!HHHHHH", qid, _RD, 1, 0, 0, 1) + section + _OPT_RR


def _answers(wire: bytes, qid: int, section: bytes) -> bool:
    """Whether ``wire`` is a response to the query (dnspython's ``is_response`` on bytes).

    Same ID, QR set, opcode QUERY, and the same question (the name compared
    without case; label length bytes are below 64 and never change case).
    """
    if len(wire) < 12 or int.from_bytes(wire[:2], "big") != qid:
        return False
    flags = int.from_bytes(wire[2:4], "big")
    if not flags & _QR or (flags >> 11) & 0xF != _QUERY:
        return False
    qdcount = int.from_bytes(wire[4:6], "big")
    if qdcount == 0:
        return flags & 0xF in _NO_QUESTION_RCODES
    got = wire[12 : 12 + len(section)]
    return qdcount == 1 and got[:-4].lower() == section[:-4].lower() and got[-4:] == section[-4:]


def _read(wire: bytes, qid: int, section: bytes) -> _Response | _Failure:
    """Check that ``wire`` answers the query and read it: the fast path, else dnspython."""
    if not _answers(wire, qid, section):
        return _Failure(Rcode.ERROR, _MISMATCH)
    return _read_wire(wire)


def _timed_out(timeout: float, attempts: int) -> _Failure:
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    return _Failure(Rcode.TIMEOUT, f"no response within {timeout:g}s{tries}")


def _read_wire(wire: bytes) -> _Response | _Failure:
    """Read a response: the fast decoder, else dnspython."""
    fast = _decode(wire)
    if fast is not None:
        return fast
    import dns.message  # noqa: TID251

    try:
        message = dns.message.from_wire(wire, one_rr_per_rrset=True, raise_on_truncation=True)
    except dns.message.Truncated as exc:
        partial: dns.message.Message = exc.message()  # type: ignore[no-untyped-call]  # untyped in dnspython 2.9
        return _response(partial)
    except dns.exception.DNSException as exc:
        return _Failure(Rcode.ERROR, _describe(exc))
    return _response(message)
